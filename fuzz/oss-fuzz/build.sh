#!/bin/bash -eu
# OSS-Fuzz / ClusterFuzzLite build script for shoal (shared by both; see
# fuzz/README.md). Expects the checkout at $SRC/shoal and writes to $OUT, as
# OSS-Fuzz sets them:
#   $OUT/<target>                  the libFuzzer binary (no extension)
#   $OUT/<target>_seed_corpus.zip  corpus/<target>/ (harvested + regression seeds)
#   $OUT/<target>.options          fuzz.options (max_len, ASAN signal options)
#   $OUT/<target>.dict             clif.dict for the CLIF targets
# The sanitizer is $SHOAL_FUZZ_SANITIZER, else OSS-Fuzz's $SANITIZER
# (address; its coverage builds are rerouted by OSS-Fuzz's cargo wrapper),
# else none, which builds on stable Rust. shoal's own SIGILL/SIGFPE/SIGSEGV/
# SIGBUS trap handlers chain to the sanitizer's or libFuzzer's for faults
# that are not traps of code under test, so a crash still aborts.
cd "$SRC/shoal"

# The fuzz crate's target names, from its manifest (every [[bin]]).
targets=$(sed -n 's/^name = "\(.*\)"$/\1/p' fuzz/Cargo.toml | grep -v '^shoal-fuzz$')
target_dir="$(pwd -P)/fuzz/target"
triple=$(rustc -vV | sed -n 's/^host: //p')

case "${SHOAL_FUZZ_SANITIZER:-${SANITIZER:-none}}" in
  address) sanitizer=address ;;
  *) sanitizer=none ;;
esac

cargo fuzz build -O --debug-assertions --sanitizer "$sanitizer" --target-dir "$target_dir"

build_dir="$target_dir/$triple/release"
for t in $targets; do
  cp "$build_dir/$t" "$OUT/$t"
  cp fuzz/oss-fuzz/fuzz.options "$OUT/$t.options"
  case "$t" in
    clif_*) cp fuzz/oss-fuzz/clif.dict "$OUT/$t.dict" ;;
  esac
  # Seed corpus: the files of corpus/<target>/ at the top of the archive
  # (an empty archive if the target has no directory yet).
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
