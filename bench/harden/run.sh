#!/usr/bin/env bash
# `leastpriv harden` beside `leastpriv audit`, in the same run, over the same files: every Compose file
# and every Kubernetes manifest of the corpus (the file lists of bench/run.sh). Harden audits each
# file, plans its fixes, applies them and audits again until nothing changes (twice for the files it
# changes, once for the others), then masks and diffs what changed; the target is at most 2x the
# audit's time. LEASTPRIV=another/build compares builds (BENCHMARKS.md, "Harden beside audit").
#
# Both print their report to /dev/null and write nothing (harden's default: a diff); runs are
# interleaved so that load on the shared machine falls on both alike. Prints each tool's median and
# mean wall time over RUNS runs, its CPU time, and the ratio of the medians.
#
#   cargo build --profile profiling -p leastpriv
#   bench/harden/run.sh                 # or: bench/harden/run.sh /path/to/corpus; RUNS=20 ...
#
# LEASTPRIV=path overrides the binary (default: the profiling build, else the release build).
set -euo pipefail
cd "$(dirname "$0")/../.."
CORPUS=${1:-../shared/corpus}
RUNS=${RUNS:-10}
target=${CARGO_TARGET_DIR:-target}
host=$(rustc --print host-tuple 2>/dev/null || rustc -vV | sed -n 's/^host: //p')
LEASTPRIV=${LEASTPRIV:-$target/$host/profiling/leastpriv}
[ -x "$LEASTPRIV" ] || LEASTPRIV=$target/$host/release/leastpriv
[ -x "$LEASTPRIV" ] || { echo "build leastpriv first: cargo build --profile profiling -p leastpriv" >&2; exit 1; }
[ -d "$CORPUS" ] || { echo "no corpus at $CORPUS" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
find "$CORPUS" -type f \( -iname 'docker-compose*.yml' -o -iname 'docker-compose*.yaml' \
    -o -iname 'compose*.yml' -o -iname 'compose*.yaml' \) | LC_ALL=C sort >"$work/compose.txt"
find "$CORPUS" -type f \( -iname '*.yml' -o -iname '*.yaml' \) | LC_ALL=C sort \
    | LC_ALL=C comm -23 - "$work/compose.txt" >"$work/manifests.txt"
cat "$work/compose.txt" "$work/manifests.txt" >"$work/files.txt"
mapfile -t FILES <"$work/files.txt"
echo "files: $(wc -l <"$work/compose.txt") Compose, $(wc -l <"$work/manifests.txt") manifests; $RUNS runs each; $LEASTPRIV"

# One timed run: wall seconds and CPU seconds (user + system of the child), tab-separated.
timed() {
    local start end
    start=$(date +%s.%N)
    /usr/bin/time -f '%U %S' -o "$work/cpu" "$@" >/dev/null 2>&1 || true
    end=$(date +%s.%N)
    awk -v s="$start" -v e="$end" '{ printf "%.4f\t%.4f\n", e - s, $1 + $2 }' "$work/cpu"
}

audit=("$LEASTPRIV" audit --isolated --format json --fail-on never)
harden=("$LEASTPRIV" harden --isolated --format json --remove-dangerous)
timed "${audit[@]}" "${FILES[@]}" >/dev/null   # warm the page cache
for _ in $(seq "$RUNS"); do
    timed "${audit[@]}" "${FILES[@]}" >>"$work/audit.times"
    timed "${harden[@]}" "${FILES[@]}" >>"$work/harden.times"
done

summary() {
    sort -n "$2" | awk -v name="$1" '
        { wall[NR] = $1; sum += $1; cpu += $2 }
        END {
            median = (NR % 2) ? wall[(NR + 1) / 2] : (wall[NR / 2] + wall[NR / 2 + 1]) / 2
            printf "%-7s median %7.1f ms  mean %7.1f ms  min %7.1f ms  CPU %7.1f ms/run\n",
                name, median * 1000, sum / NR * 1000, wall[1] * 1000, cpu / NR * 1000
            print median > "/dev/stderr"
        }'
}
summary audit "$work/audit.times" 2>"$work/audit.median"
summary harden "$work/harden.times" 2>"$work/harden.median"
awk -v a="$(cat "$work/audit.median")" -v h="$(cat "$work/harden.median")" \
    'BEGIN { printf "harden / audit (medians): %.2fx (target <= 2x)\n", h / a }'
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
