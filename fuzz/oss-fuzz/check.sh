#!/usr/bin/env bash
# Runs build.sh outside docker with $SRC, $OUT and $WORK set the way OSS-Fuzz
# sets them (no $SANITIZER: the build uses --sanitizer none, which works on
# stable Rust), then checks that every expected file is in $OUT and that each
# fuzzer runs over its seed corpus once (-runs=0) cleanly, with the
# libFuzzer options of its .options file, as ClusterFuzz would start it.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd -P)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
export SRC="$scratch/src" OUT="$scratch/out" WORK="$scratch/work"
mkdir -p "$SRC" "$OUT" "$WORK"
ln -s "$root" "$SRC/shoal"
unset SANITIZER

bash "$root/fuzz/oss-fuzz/build.sh"

targets=$(sed -n 's/^name = "\(.*\)"$/\1/p' "$root/fuzz/Cargo.toml" | grep -v '^shoal-fuzz$')
[ -n "$targets" ] || { echo "check: no targets in fuzz/Cargo.toml"; exit 1; }
status=0
for t in $targets; do
  expected=("$t" "$t.options" "${t}_seed_corpus.zip")
  case "$t" in clif_*) expected+=("$t.dict") ;; esac
  for f in "${expected[@]}"; do
    if [ ! -s "$OUT/$f" ]; then echo "check: missing or empty \$OUT/$f"; status=1; fi
  done
  [ -x "$OUT/$t" ] || { echo "check: \$OUT/$t is not executable"; status=1; continue; }
  seeds="$WORK/seeds-$t"
  mkdir -p "$seeds"
  python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' \
    "$OUT/${t}_seed_corpus.zip" "$seeds"
  n=$(find "$seeds" -type f | wc -l)
  if [ -d "$root/corpus/$t" ] && [ "$n" != "$(find "$root/corpus/$t" -maxdepth 1 -type f | wc -l)" ]; then
    echo "check: ${t}_seed_corpus.zip has $n files, corpus/$t has a different count"; status=1
  fi
  # [libfuzzer] options become -name=value flags; [asan] ones ASAN_OPTIONS.
  mapfile -t flags < <(python3 - "$OUT/$t.options" <<'PY'
import configparser, sys
c = configparser.ConfigParser()
c.read(sys.argv[1])
for k, v in c["libfuzzer"].items():
    print(f"-{k}={v}")
PY
)
  asan=$(python3 -c 'import configparser, sys; c = configparser.ConfigParser(); c.read(sys.argv[1]); print(":".join(f"{k}={v}" for k, v in c["asan"].items()))' "$OUT/$t.options")
  dict=()
  [ -f "$OUT/$t.dict" ] && dict=("-dict=$OUT/$t.dict")
  start=$(date +%s)
  if ASAN_OPTIONS="$asan" "$OUT/$t" "${flags[@]}" "${dict[@]}" -runs=0 "$seeds" > "$WORK/$t.log" 2>&1; then
    echo "check: $t ran its $n seeds cleanly in $(( $(date +%s) - start )) s"
  else
    echo "check: $t failed on its seeds:"; tail -30 "$WORK/$t.log"; status=1
  fi
done
[ "$status" = 0 ] && echo "check: OSS-Fuzz build OK"
exit "$status"
