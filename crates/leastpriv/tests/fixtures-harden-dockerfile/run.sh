#!/usr/bin/env bash
# Starts the stack by hand. Every container keeps Docker's defaults.
set -euo pipefail

NAME=${NAME:-shop}

docker network create "$NAME" 2>/dev/null || true

# The database: its password is written right here.
docker run -d --name "$NAME-db" --network "$NAME" \
    -e POSTGRES_PASSWORD=planted-Pg-passw0rd-1234 \
    -v pgdata:/var/lib/postgresql/data \
    postgres:16

# The proxy watches the engine and binds port 80.
docker run -d --name "$NAME-proxy" \
  --privileged \
  -v /var/run/docker.sock:/var/run/docker.sock:ro \
  -p 80:80 \
  --security-opt seccomp=unconfined \
  nginx:1.27

docker run --rm -it --pid=host --user=0 "registry.example.com/tools/debug:1" sh -c 'ps aux'   # one-off

echo "started $NAME"
