#!/usr/bin/env bash
# Image scan benchmark: leastpriv's scan rate over compressed layer data, against the decompression
# limit measured in the same run (`gzip -dc`, `zstd -dc` of the same layer to /dev/null).
#
# Builds a realistic image in the local engine: a debootstrap'd Debian bookworm (minbase) root
# filesystem imported with `docker import`, plus a layer that copies /usr (a second layer of similar
# size, for the speed-up over layers). Layers are taken from `docker save`, compressed with gzip -6
# and zstd -3 (what registries hold), and timed one by one and together, with 1 and 2 threads.
#
# Needs: root, docker, debootstrap, zstd, gzip, python3. Usage: bench/image/run.sh [WORKDIR]
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
work=${1:-/tmp/leastpriv-bench-image}
runs=${RUNS:-5}
mkdir -p "$work"
cd "$work"

echo "== building leastpriv (profiling: release with symbols, without the engine client)"
# From the repository, so that its .cargo/config.toml applies; the path comes from cargo itself.
leastpriv=$(cd "$repo" && cargo build --profile profiling --quiet -p leastpriv --no-default-features \
    --message-format json | python3 -c 'import json, sys
for line in sys.stdin:
    message = json.loads(line)
    if message.get("reason") == "compiler-artifact" and message.get("executable") and message["target"]["name"] == "leastpriv":
        print(message["executable"])')

if [ ! -f layers/0.tar ]; then
    echo "== debootstrap (bookworm, minbase) and docker import"
    [ -d rootfs ] || debootstrap --variant=minbase bookworm rootfs http://deb.debian.org/debian >/dev/null
    # As a real image ships it: without the downloaded packages (`apt-get clean`).
    rm -f rootfs/var/cache/apt/archives/*.deb
    tar -C rootfs -cf rootfs.tar .
    trap 'docker rmi -f leastpriv-bench-base:1 leastpriv-bench:1 >/dev/null 2>&1 || true' EXIT
    docker import rootfs.tar leastpriv-bench-base:1 >/dev/null
    printf 'FROM leastpriv-bench-base:1\nRUN cp -a /usr /opt/usr-copy\n' |
        DOCKER_BUILDKIT=0 docker build -q -t leastpriv-bench:1 - >/dev/null 2>&1
    docker save leastpriv-bench:1 -o saved.tar
    mkdir -p saved layers && tar -C saved -xf saved.tar
    python3 - <<'PY'
import json, shutil
manifest = json.load(open("saved/manifest.json"))[0]
for index, layer in enumerate(manifest["Layers"]):
    shutil.copy(f"saved/{layer}", f"layers/{index}.tar")
PY
    for layer in layers/*.tar; do
        gzip -6 -k -f "$layer"
        zstd -3 -q -f "$layer" -o "$layer.zst"
    done
fi

# Best of $runs CPU seconds (user + sys) of a command: on a machine shared with other work, CPU time
# measures the work done where wall time measures the neighbours.
best() {
    local best=
    for _ in $(seq "$runs"); do
        local cpu
        cpu=$( { TIMEFORMAT='%U %S'; time "$@" >/dev/null; } 2>&1 | awk '{print $1 + $2}')
        best=$(python3 -c "a='$best'; t=$cpu; print(t if not a else min(float(a), t))")
    done
    echo "$best"
}
mbps() { python3 -c "print(f'{$1 / 1e6 / $2:.0f}')"; }

echo
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores"
echo
echo "per layer, single stream: MB of compressed data per CPU second (best of $runs)"
printf '%-8s %-5s %9s %9s %14s %14s %7s\n' layer codec "MB in" "MB out" "decompress MB/s" "leastpriv MB/s" ratio
for layer in layers/*.tar; do
    out=$(stat -c %s "$layer")
    for codec in gz zst; do
        blob="$layer.$codec"
        size=$(stat -c %s "$blob")
        if [ $codec = gz ]; then dc=(gzip -dc "$blob"); else dc=(zstd -dc "$blob"); fi
        python3 "$repo/bench/image/pack.py" one.tar "$blob"
        t_dc=$(best "${dc[@]}")
        t_lp=$(RAYON_NUM_THREADS=1 best "$leastpriv" audit one.tar --isolated --format json --fail-on never)
        printf '%-8s %-5s %9.1f %9.1f %14s %14s %6.0f%%\n' "$(basename "$layer" .tar)" "$codec" \
            "$(python3 -c "print($size/1e6)")" "$(python3 -c "print($out/1e6)")" \
            "$(mbps "$size" "$t_dc")" "$(mbps "$size" "$t_lp")" \
            "$(python3 -c "print(100*$t_dc/$t_lp)")"
    done
done

echo
echo "speed-up over layers (every layer, gzip), 1 vs 2 threads (best of $runs; cpu = user+sys):"
python3 "$repo/bench/image/pack.py" all.tar layers/*.tar.gz
total=$(cat layers/*.tar.gz | wc -c)
for threads in 1 2; do
    best_wall= best_cpu=
    for _ in $(seq "$runs"); do
        read -r wall cpu < <( { TIMEFORMAT='%R %U %S'; time RAYON_NUM_THREADS=$threads "$leastpriv" audit all.tar \
            --isolated --format json --fail-on never >/dev/null; } 2>&1 | awk '{print $1, $2 + $3}')
        if [ -z "$best_wall" ] || python3 -c "import sys; sys.exit(0 if $wall < $best_wall else 1)"; then
            best_wall=$wall best_cpu=$cpu
        fi
    done
    echo "  $threads thread(s): $(mbps "$total" "$best_wall") MB/s wall, ${best_wall} s wall, ${best_cpu} s cpu"
    [ "$threads" = 1 ] && t1=$best_wall
done
largest=$(stat -c %s layers/*.tar.gz | sort -n | tail -1)
echo "  speed-up: $(python3 -c "print(f'{$t1/$best_wall:.2f}')")x; the largest layer bounds it at" \
    "$(python3 -c "print(f'{$total/$largest:.2f}')")x (load average $(cut -d' ' -f1-3 /proc/loadavg))"
