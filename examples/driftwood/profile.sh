#!/usr/bin/env bash
# Regenerates hardened/web.profile.json and hardened/web.seccomp.json: Driftwood's web service
# profiled by leastpriv in its stack hardened with harden's safe defaults (what `leastpriv harden`
# writes without a profile, in a temporary copy: profiling replaces Docker's default seccomp
# profile with its own recording one, so the service must not set one of its own yet), exercised
# with /healthz through the proxy (proxy → web → database).
#
#   profile.sh [OUT_DIR]    # default: hardened/, where `leastpriv harden --profile` reads it
#
# Needs what build.sh needs, root (the eBPF recorder) and curl. LEASTPRIV=path picks the binary
# (default: the release build, made if missing); DRIFTWOOD_PORT the proxy's host port (default
# 8080); REPEAT (3) and DURATION (25s) how many runs are recorded and for how long each.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=$(mkdir -p "${1:-$here/hardened}" && cd "${1:-$here/hardened}" && pwd)
if [ -z "${LEASTPRIV:-}" ]; then
    cargo build --quiet --release -p leastpriv --manifest-path "$root/Cargo.toml"
    target=$(cargo metadata --format-version 1 --no-deps --manifest-path "$root/Cargo.toml" |
        sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
    host=$(rustc --print host-tuple 2>/dev/null || rustc -vV | sed -n 's/^host: //p')
    LEASTPRIV="$target/$host/release/leastpriv"
    [ -x "$LEASTPRIV" ] || LEASTPRIV="$target/release/leastpriv"
fi

# The stack hardened with the safe defaults, in a copy of the project of its own.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$here/Dockerfile" "$here/compose.yaml" "$here/.dockerignore" "$work/"
"$LEASTPRIV" harden --config "$here/leastpriv.toml" --in-place --remove-dangerous "$work" >/dev/null
DRIFTWOOD_PROJECT="$work" "$here/build.sh"

export DRIFTWOOD_PORT=${DRIFTWOOD_PORT:-8080}
# Waits until the stack answers with the database up (proxy → web → database), then asks once more:
# the exercise must pass, not only be tried.
healthz="curl -fsS http://127.0.0.1:$DRIFTWOOD_PORT/healthz"
exercise="for i in \$(seq 120); do $healthz 2>/dev/null | grep -q '\"database\":\"ok\"' && break; sleep 0.5; done; $healthz | grep '\"database\":\"ok\"' && curl -fsS http://127.0.0.1:$DRIFTWOOD_PORT/"
cd "$work"
"$LEASTPRIV" profile --compose compose.yaml --service web \
    --exercise "$exercise" --repeat "${REPEAT:-3}" --duration "${DURATION:-25s}" \
    --output "$out/web.profile.json" --seccomp "$out/web.seccomp.json" --compare
