#!/usr/bin/env bash
# Regenerates web.profile.json and web.seccomp.json: Driftwood's web service profiled by leastpriv in
# its hardened stack (compose.hardened.yaml), exercised with /healthz through the proxy (proxy → web →
# database) and recorded long enough for its own HEALTHCHECK to run inside it.
#
# Needs what build.sh needs, root (the eBPF recorder) and curl. LEASTPRIV=path picks the binary
# (default: the release build, made if missing); DRIFTWOOD_PORT the proxy's host port (default 8080).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
if [ -z "${LEASTPRIV:-}" ]; then
    cargo build --quiet --release -p leastpriv --manifest-path "$root/Cargo.toml"
    target=$(cargo metadata --format-version 1 --no-deps --manifest-path "$root/Cargo.toml" |
        sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
    host=$(rustc --print host-tuple 2>/dev/null || rustc -vV | sed -n 's/^host: //p')
    LEASTPRIV="$target/$host/release/leastpriv"
    [ -x "$LEASTPRIV" ] || LEASTPRIV="$target/release/leastpriv"
fi
"$here/build.sh"
export DRIFTWOOD_PORT=${DRIFTWOOD_PORT:-8080}
# Waits until the stack answers with the database up (proxy → web → database), then asks once more:
# the exercise must pass, not only be tried.
healthz="curl -fsS http://127.0.0.1:$DRIFTWOOD_PORT/healthz"
exercise="for i in \$(seq 120); do $healthz 2>/dev/null | grep -q '\"database\":\"ok\"' && break; sleep 0.5; done; $healthz | grep '\"database\":\"ok\"' && curl -fsS http://127.0.0.1:$DRIFTWOOD_PORT/"
cd "$here"
"$LEASTPRIV" profile --compose compose.hardened.yaml --service web \
    --exercise "$exercise" --repeat 3 --duration 25s \
    --output web.profile.json --seccomp web.seccomp.json --compare
