#!/usr/bin/env bash
# Rebuilds the `docker save` archives of this directory (a few KB each) with the local engine.
# Needs: docker, gcc, gzip, skopeo. Images are FROM an imported base holding a 4.5 KB static `rm`
# (rm.c) instead of a shell, so that a layer can delete a file and the archives stay tiny.
set -euo pipefail
cd "$(dirname "$0")"
work=$(mktemp -d)
images=(lp-data-base:1 lp-data-setuid:1 lp-data-deleted:1 lp-data-buildarg:1 lp-data-clean:1)
trap 'docker rmi -f "${images[@]}" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
export DOCKER_BUILDKIT=0 SOURCE_DATE_EPOCH=0

gcc -Os -s -static -nostdlib -fno-asynchronous-unwind-tables -fno-stack-protector -o "$work/rm" rm.c
mkdir -p "$work/base/bin" "$work/base/etc" "$work/base/tmp"
cp "$work/rm" "$work/base/bin/rm"
printf 'root:x:0:0:root:/root:/bin/sh\napp:x:10001:10001::/app:/sbin/nologin\ntoor:x:0:0::/:/bin/sh\n' > "$work/base/etc/passwd"
chmod 1777 "$work/base/tmp"
tar -C "$work/base" --owner=0 --group=0 --numeric-owner --mtime=@0 -cf "$work/base.tar" .
docker import "$work/base.tar" lp-data-base:1 >/dev/null

# A setuid shell, an allowlisted setuid tool, a world-writable directory, root user, port 80.
mkdir -p "$work/setuid/bin" "$work/setuid/usr/bin" "$work/setuid/srv/drop"
printf '#!fake shell\n' > "$work/setuid/bin/sh"
printf '#!fake passwd\n' > "$work/setuid/usr/bin/passwd"
chmod 4755 "$work/setuid/bin/sh" "$work/setuid/usr/bin/passwd"
chmod 0777 "$work/setuid/srv/drop"
tar -C "$work/setuid" --owner=0 --group=0 --numeric-owner --mtime=@0 -cf "$work/setuid.tar" .
docker import --change 'EXPOSE 80' "$work/setuid.tar" lp-data-setuid:1 >/dev/null

# A private key and a sudoers rule added, the key deleted by a later layer; runs as `app`.
mkdir -p "$work/deleted"
printf -- '-----BEGIN OPENSSH PRIVATE KEY-----\nAAAAfakefakefake\n-----END OPENSSH PRIVATE KEY-----\n' > "$work/deleted/deploy_key"
printf 'app ALL=(ALL) NOPASSWD: ALL\n' > "$work/deleted/app.sudoers"
cat > "$work/deleted/Dockerfile" <<'DOCKERFILE'
FROM lp-data-base:1
COPY deploy_key /root/.ssh/deploy_key
COPY app.sudoers /etc/sudoers.d/app
RUN ["/bin/rm", "/root/.ssh/deploy_key"]
USER app
DOCKERFILE
docker build -q -t lp-data-deleted:1 "$work/deleted" >/dev/null 2>&1

# A secret build argument used by a RUN, and a secret in ENV; runs as `toor` (uid 0).
mkdir -p "$work/buildarg"
cat > "$work/buildarg/Dockerfile" <<'DOCKERFILE'
FROM lp-data-base:1
ARG GITHUB_TOKEN
ENV DB_PASSWORD=hunter2-not-real
RUN ["/bin/rm", "/nothing"]
USER toor
DOCKERFILE
docker build -q --build-arg GITHUB_TOKEN=ghp_0123456789abcdefghijklmnopqrstuvwxyzAB -t lp-data-buildarg:1 "$work/buildarg" >/dev/null 2>&1

# Clean: a numeric non-root user and nothing notable.
mkdir -p "$work/clean"
printf 'hello\n' > "$work/clean/hello.txt"
cat > "$work/clean/Dockerfile" <<'DOCKERFILE'
FROM lp-data-base:1
COPY hello.txt /app/hello.txt
USER 10001:10001
DOCKERFILE
docker build -q -t lp-data-clean:1 "$work/clean" >/dev/null 2>&1

for name in setuid deleted buildarg clean; do
    docker save "lp-data-$name:1" | gzip -9n > "$name.tar.gz"
done
# The same deleted-secret image as an OCI image layout (what skopeo and containerd write), with
# zstd layers, and two images in one docker save archive.
gzip -dc deleted.tar.gz > "$work/deleted.tar"
skopeo copy -q --dest-compress-format zstd "docker-archive:$work/deleted.tar" "oci-archive:$work/oci.tar:lp-data-deleted:1"
gzip -9n < "$work/oci.tar" > deleted.oci.tar.gz
docker save lp-data-clean:1 lp-data-setuid:1 | gzip -9n > two-images.tar.gz
ls -l ./*.tar.gz
