#!/usr/bin/env bash
# Hostile-input benchmark: wall time and peak memory (GNU time's maximum RSS) of `leastpriv audit` on
# each class of issue 9 that concerns reading input, in human format (the slowest), with stdin,
# stdout and stderr as pipes as in CI, under a deadline. Pass an older build as LEASTPRIV to compare.
#
# Every run is capped at 8 GiB of address space (an unbounded build reaches 20 GB and more on the
# doubling `.env` before the deadline) and killed at the deadline (exit 137, time shown as >deadline).
#
# Needs: python3, GNU time (/usr/bin/time), timeout, prlimit. Usage: bench/hostile/run.sh [WORKDIR]
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
work=${1:-/tmp/leastpriv-bench-hostile}
deadline=${DEADLINE:-120}
mkdir -p "$work"
python3 "$repo/bench/hostile/generate.py" "$work"
if [ -z "${LEASTPRIV:-}" ]; then
    cargo build --release --quiet -p leastpriv --manifest-path "$repo/Cargo.toml"
    target=$(cargo metadata --format-version 1 --no-deps --manifest-path "$repo/Cargo.toml" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
    LEASTPRIV="$target/release/leastpriv"
fi
cd "$work"
printf '%-30s %6s %10s %12s\n' case exit seconds "peak MiB"
for dir in */; do
    name=${dir%/}
    set +e
    /usr/bin/time -o time.txt -f '%e %M' timeout -s KILL "$deadline" \
        prlimit --as=$((8 << 30)) -- "$LEASTPRIV" audit --format human "$name" < /dev/null 2>&1 | cat > /dev/null
    code=${PIPESTATUS[0]}
    set -e
    read -r seconds kib < <(tail -n 1 time.txt)
    [ "$code" = 137 ] && seconds=">$deadline"
    printf '%-30s %6s %10s %12s\n' "$name" "$code" "$seconds" "$((kib / 1024))"
done
