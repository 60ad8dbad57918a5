#!/usr/bin/env bash
# leastpriv profile's recording overhead, beside strace, in the same run: the same workload untraced,
# under `strace -f`, under `leastpriv profile` with the eBPF recorder, and with the seccomp-notify
# fallback. Prints each mode's median wall time over RUNS interleaved runs and its factor against
# the untraced median.
#
# Workloads:
#   find   `find /usr -type f` (about 230k syscalls, 40 distinct)
#   find5  the same five times in one shell (about 1.2M syscalls): the recorder's fixed cost (loading,
#          ending) is paid once, so this one shows its cost per syscall (strace is left out here: a
#          minute per run, and find shows its factor)
#   server busybox httpd under a fixed load: REQUESTS sequential GETs from one curl process
#          (curl's URL ranges), timed from the first request to the last; the server is the
#          recorded/traced process, curl is not
#
# Needs root (eBPF), strace, curl, busybox, and a release build of leastpriv
# (`cargo build --release -p leastpriv`; LEASTPRIV=path overrides). Capability trials are off
# (`--capabilities skip`): they rerun the workload and are not recording overhead.
set -euo pipefail
cd "$(dirname "$0")/../.."
# The default build is for the host tuple (.cargo/config.toml): target/<host-tuple>/release/.
target=${CARGO_TARGET_DIR:-target}
host=$(rustc --print host-tuple 2>/dev/null || rustc -vV | sed -n 's/^host: //p')
LEASTPRIV=${LEASTPRIV:-$target/$host/release/leastpriv}
[ -x "$LEASTPRIV" ] || LEASTPRIV=$target/release/leastpriv
RUNS=${RUNS:-5}
REQUESTS=${REQUESTS:-2000}
BUSYBOX=${BUSYBOX:-/bin/busybox}
for tool in strace curl "$BUSYBOX" "$LEASTPRIV"; do
    command -v "$tool" >/dev/null || { echo "missing: $tool" >&2; exit 1; }
done
[ "$(id -u)" = 0 ] || { echo "the eBPF recorder needs root" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
head -c 2048 /dev/urandom > "$work/page"
profile=("$LEASTPRIV" profile --capabilities skip -o /dev/null)

now() { date +%s.%N; }

# find, find5: one timed command per mode.
find_cmd() {
    local work=(find /usr -type f)
    [ "$2" = find5 ] && work=(sh -c 'for i in 1 2 3 4 5; do find /usr -type f; done')
    case $1 in
        untraced) "${work[@]}" >/dev/null ;;
        strace) strace -f -qq -o /dev/null "${work[@]}" >/dev/null ;;
        ebpf) "${profile[@]}" --recorder ebpf -- "${work[@]}" >/dev/null 2>&1 ;;
        notify) "${profile[@]}" --recorder seccomp-notify -- "${work[@]}" >/dev/null 2>&1 ;;
    esac
}

# server: start httpd in the mode, wait until it answers, time the load, stop it.
server_run() {
    local mode=$1 port=$2 pid
    local httpd=("$BUSYBOX" httpd -f -p "127.0.0.1:$port" -h "$work")
    case $mode in
        untraced) "${httpd[@]}" >/dev/null 2>&1 & ;;
        strace) strace -f -qq -o /dev/null "${httpd[@]}" >/dev/null 2>&1 & ;;
        ebpf) "${profile[@]}" --recorder ebpf -- "${httpd[@]}" >/dev/null 2>&1 & ;;
        notify) "${profile[@]}" --recorder seccomp-notify -- "${httpd[@]}" >/dev/null 2>&1 & ;;
    esac
    pid=$!
    for _ in $(seq 100); do
        curl -fs -o /dev/null "http://127.0.0.1:$port/page" && break
        sleep 0.05
    done
    local start end
    start=$(now)
    curl -fs -o /dev/null "http://127.0.0.1:$port/page?[1-$REQUESTS]"
    end=$(now)
    # leastpriv passes SIGTERM on to the workload and writes its profile; strace does the same.
    kill -TERM "$pid" 2>/dev/null || true
    pkill -TERM -f "httpd -f -p 127.0.0.1:$port" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    echo "$end - $start" | bc
}

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

modes=(untraced strace ebpf notify)
# leastpriv's fixed cost (loading the recorder, starting and ending the run), measured alone.
fixed() {
    local start end
    start=$(now); "${profile[@]}" --recorder "$1" -- true >/dev/null 2>&1; end=$(now)
    echo "$end - $start" | bc
}
echo "machine: $(nproc) cores, $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "leastpriv: $LEASTPRIV; strace $(strace -V | head -1 | awk '{print $NF}'); runs: $RUNS"
for workload in find find5 server; do
    declare -A times=()
    for run in $(seq "$RUNS"); do
        for mode in "${modes[@]}"; do
            [ "$workload" = find5 ] && [ "$mode" = strace ] && continue
            if [ "$workload" != server ]; then
                start=$(now); find_cmd "$mode" "$workload"; end=$(now)
                t=$(echo "$end - $start" | bc)
            else
                port=$((20000 + RANDOM % 20000))
                while curl -s -o /dev/null "http://127.0.0.1:$port/"; do port=$((port + 1)); done
                t=$(server_run "$mode" "$port")
            fi
            times[$mode]+="$t "
        done
    done
    base=$(echo "${times[untraced]}" | tr ' ' '\n' | grep . | median)
    echo
    case $workload in
        find) echo "== find /usr -type f" ;;
        find5) echo "== find /usr -type f, five times in one shell" ;;
        server) echo "== busybox httpd, $REQUESTS requests" ;;
    esac
    printf '%-10s %10s %8s\n' mode "median s" factor
    for mode in "${modes[@]}"; do
        [ "$workload" = find5 ] && [ "$mode" = strace ] && continue
        m=$(echo "${times[$mode]}" | tr ' ' '\n' | grep . | median)
        printf '%-10s %10.3f %7.2fx\n' "$mode" "$m" "$(echo "$m / $base" | bc -l)"
    done
    unset times
done
echo
echo "== leastpriv's fixed cost per run (profile -- true), median of $RUNS"
for recorder in ebpf seccomp-notify; do
    printf '%-15s %8.3f s\n' "$recorder" "$(for _ in $(seq "$RUNS"); do fixed "$recorder"; done | median)"
done
