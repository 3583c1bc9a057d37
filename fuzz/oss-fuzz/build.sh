#!/bin/bash -eu
# OSS-Fuzz / ClusterFuzzLite build script for shoal (shared by both).
# Expects $SRC/shoal (the checkout), $OUT and $WORK as OSS-Fuzz sets them.
# SHOAL_FUZZ_SANITIZER overrides the sanitizer (default: none, which works on
# stable Rust and lets shoal's own SIGILL/SIGFPE/SIGSEGV trap handlers run;
# the same choice wasmtime's OSS-Fuzz build makes).
cd "$SRC/shoal"

targets=$(sed -n 's/^name = "\(.*\)"$/\1/p' fuzz/Cargo.toml | grep -v '^shoal-fuzz$')

cargo fuzz build -O --debug-assertions --sanitizer "${SHOAL_FUZZ_SANITIZER:-none}"

build_dir=fuzz/target/x86_64-unknown-linux-gnu/release
for t in $targets; do
  cp "$build_dir/$t" "$OUT/$t"
  cp fuzz/oss-fuzz/fuzz.options "$OUT/$t.options"
  if [ -f "fuzz/oss-fuzz/$t.dict" ]; then
    cp "fuzz/oss-fuzz/$t.dict" "$OUT/$t.dict"
  fi
  # Seed corpus: the harvested (and hand-picked) seeds of this target.
  python3 - "$OUT/${t}_seed_corpus.zip" "corpus/$t" <<'PY'
import os, sys, zipfile
out, src = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
    if os.path.isdir(src):
        for name in sorted(os.listdir(src)):
            path = os.path.join(src, name)
            if os.path.isfile(path):
                z.write(path, name)
PY
done
