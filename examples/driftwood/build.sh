#!/usr/bin/env bash
# Builds what Driftwood needs to run on a Docker Engine without a registry, where no image can be
# pulled (see ../stand-ins/README.md):
#
#   driftwood/debian:bookworm   Debian bookworm made with debootstrap (minbase, plus PostgreSQL and
#                               nginx) and `docker import`ed; skipped when the image exists
#   driftwood/postgres:15       the database stand-in, on that base
#   driftwood/nginx:1.22        the proxy stand-in, on that base
#   build/driftwood-web         the web service (web/), a static binary for the web images, in the
#                               build context of both projects (here and hardened/)
#   hardened/secrets/db_password.txt
#                               a random database password for hardened/compose.yaml, made once
#
# The web images themselves are built by Compose (`docker-compose build` or `up --build`).
# DRIFTWOOD_PROJECT=DIR builds for a hardened copy elsewhere (profile.sh's): the binary and the
# password go into DIR instead of hardened/.
#
# Needs root (debootstrap), docker, cargo. ROOTFS_CACHE=FILE (default ~/.cache/leastpriv/...) keeps
# the debootstrap'd root filesystem between runs, so a rebuilt base does not download it again.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
stand_ins="$here/../stand-ins"
cache=${ROOTFS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/leastpriv/driftwood-debian-bookworm.tar}

if ! docker image inspect driftwood/debian:bookworm >/dev/null 2>&1; then
    if [ ! -s "$cache" ]; then
        echo "== debootstrap: Debian bookworm (minbase) with PostgreSQL and nginx" >&2
        rootfs=$(mktemp -d)
        trap 'rm -rf "$rootfs"' EXIT
        debootstrap --variant=minbase --include=postgresql-15,nginx bookworm "$rootfs" \
            http://deb.debian.org/debian >/dev/null
        # As a distribution image ships: no package cache, no package lists.
        rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
        mkdir -p "$(dirname "$cache")"
        tar -C "$rootfs" -cf "$cache.partial" . && mv "$cache.partial" "$cache"
        rm -rf "$rootfs"
        trap - EXIT
    fi
    echo "== docker import driftwood/debian:bookworm" >&2
    docker import --change 'CMD ["/bin/bash"]' "$cache" driftwood/debian:bookworm >/dev/null
fi

echo "== stand-ins: driftwood/postgres:15, driftwood/nginx:1.22" >&2
docker build -q -t driftwood/postgres:15 "$stand_ins/postgres" >/dev/null
docker build -q -t driftwood/nginx:1.22 "$stand_ins/nginx" >/dev/null

echo "== build/driftwood-web (static)" >&2
host=$(rustc -vV | sed -n 's/^host: //p')
RUSTFLAGS='-C target-feature=+crt-static' cargo build --quiet --release --target "$host" \
    -p driftwood-web --manifest-path "$here/web/Cargo.toml"
target=$(cargo metadata --format-version 1 --no-deps --manifest-path "$here/web/Cargo.toml" |
    sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
hardened=${DRIFTWOOD_PROJECT:-$here/hardened}
for context in "$here" "$hardened"; do
    mkdir -p "$context/build"
    cp "$target/$host/release/driftwood-web" "$context/build/driftwood-web"
done

if [ ! -s "$hardened/secrets/db_password.txt" ]; then
    # The directory keeps other users of this machine out; the file itself must be readable by the
    # containers' non-root users, since Compose mounts a file secret with its host owner and mode.
    # (.dockerignore keeps it out of the build context.)
    mkdir -p -m 700 "$hardened/secrets"
    (umask 022 && head -c 18 /dev/urandom | base64 >"$hardened/secrets/db_password.txt")
fi
echo "== done: docker-compose -f hardened/compose.yaml up -d --build" >&2
