#!/usr/bin/env bash
# Memory benchmark: peak resident memory (GNU time's maximum RSS) and wall time of `leastpriv audit`
# on inputs of the largest size it reads (8 MiB) in the shapes that cost the most memory per byte,
# one input per run and four at once (see generate.py). JSON report to /dev/null, as in CI.
#
# Needs: python3, GNU time (/usr/bin/time). Usage: bench/memory/run.sh [WORKDIR]
# LEASTPRIV=path measures another build (an older one, for before/after figures).
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
work=${1:-/tmp/leastpriv-bench-memory}
mkdir -p "$work"
python3 "$repo/bench/memory/generate.py" "$work"
if [ -z "${LEASTPRIV:-}" ]; then
    cargo build --profile profiling --quiet -p leastpriv --manifest-path "$repo/Cargo.toml" </dev/null
    target=$(cargo metadata --format-version 1 --no-deps --manifest-path "$repo/Cargo.toml" </dev/null |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
    LEASTPRIV="$target/$(rustc -vV | sed -n 's/^host: //p')/profiling/leastpriv"
fi
cd "$work"
printf '%-22s %10s %6s %9s %10s %9s\n' case "input MiB" exit seconds "peak MiB" "peak/input"
for dir in */; do
    name=${dir%/}
    bytes=$(find "$name" -type f -printf '%s\n' | sort -n | tail -n 1)
    set +e
    /usr/bin/time -o time.txt -f '%e %M' "$LEASTPRIV" audit --isolated --format json "$name" \
        </dev/null >/dev/null 2>&1
    code=$?
    set -e
    read -r seconds kib < <(tail -n 1 time.txt)
    printf '%-22s %10.1f %6s %9s %10d %9.1f\n' "$name" "$(echo "$bytes / 1048576" | bc -l)" "$code" \
        "$seconds" "$((kib / 1024))" "$(echo "$kib * 1024 / $bytes" | bc -l)"
done
