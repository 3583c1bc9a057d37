#!/usr/bin/env bash
# Runs build.sh outside docker with $SRC, $OUT and $WORK set the way OSS-Fuzz
# sets them, then checks that every expected file is in $OUT and that each
# fuzzer runs over its seed corpus once (-runs=0) cleanly.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
export SRC="$scratch/src" OUT="$scratch/out" WORK="$scratch/work"
mkdir -p "$SRC" "$OUT" "$WORK"
ln -s "$root" "$SRC/shoal"
export SHOAL_FUZZ_SANITIZER="${SHOAL_FUZZ_SANITIZER:-none}"

bash "$root/fuzz/oss-fuzz/build.sh"

targets=$(sed -n 's/^name = "\(.*\)"$/\1/p' "$root/fuzz/Cargo.toml" | grep -v '^shoal-fuzz$')
status=0
for t in $targets; do
  for f in "$t" "$t.options" "${t}_seed_corpus.zip"; do
    if [ ! -e "$OUT/$f" ]; then echo "check: missing \$OUT/$f"; status=1; fi
  done
  [ -x "$OUT/$t" ] || { echo "check: \$OUT/$t is not executable"; status=1; continue; }
  seeds="$WORK/seeds-$t"
  mkdir -p "$seeds"
  python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' "$OUT/${t}_seed_corpus.zip" "$seeds"
  if "$OUT/$t" -runs=0 "$seeds" > "$WORK/$t.log" 2>&1; then
    echo "check: $t ran $(ls "$seeds" | wc -l) seeds cleanly"
  else
    echo "check: $t failed on its seeds:"; tail -20 "$WORK/$t.log"; status=1
  fi
done
[ "$status" = 0 ] && echo "check: OSS-Fuzz build OK"
exit "$status"
