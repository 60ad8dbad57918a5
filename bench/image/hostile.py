#!/usr/bin/env python3
"""Writes the hostile inputs of issue 9 (images and users) into DIR, for before/after measurements:

    bench/image/hostile.py DIR
    for f in DIR/*; do /usr/bin/time -f "$f %e s %M KB exit %x" leastpriv audit --isolated --format json "$f" >/dev/null; done

Needs python3 and the zstd CLI. The tests generate their own (smaller) versions of each case;
these are the shapes the issue names, plus variants that stay under the 1000:1 ratio caps so that
the mechanism behind each one is measured and not only the caps.
"""
import hashlib, io, json, os, random, subprocess, sys, tarfile

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
rnd = random.Random(9)


def tar_bytes(entries):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as t:
        for e in entries:
            info = tarfile.TarInfo(e["name"])
            info.type = e.get("type", tarfile.REGTYPE)
            info.mode = e.get("mode", 0o644)
            if "link" in e:
                info.linkname = e["link"]
            data = e.get("data", b"")
            info.size = len(data) if info.type == tarfile.REGTYPE else 0
            t.addfile(info, io.BytesIO(data) if info.type == tarfile.REGTYPE else None)
    return buf.getvalue()


def sha(b):
    return hashlib.sha256(b).hexdigest()


def zst(data, level=19):
    return subprocess.run(["zstd", f"-{level}", "-q", "-c"], input=data, stdout=subprocess.PIPE, check=True).stdout


def save(path, layers, user="10001", before=(), manifest=None, compress=False):
    config = json.dumps({"config": {"User": user}, "history": [{"created_by": "x"} for _ in layers],
                         "rootfs": {"type": "layers", "diff_ids": ["sha256:" + sha(l) for l in layers]}}).encode()
    cname = sha(config) + ".json"
    files = list(before)
    names = []
    for l in layers:
        files.append((sha(l) + "/layer.tar", l))
        names.append(sha(l) + "/layer.tar")
    files.append((cname, config))
    files.append(("manifest.json", manifest if manifest is not None else json.dumps(
        [{"Config": cname, "RepoTags": ["hostile:1"], "Layers": names}]).encode()))
    data = tar_bytes([{"name": n, "data": d} for n, d in files])
    open(os.path.join(out, path), "wb").write(zst(data) if compress else data)


def sprinkled(n, every):
    b = bytearray(b"a" * n)
    for i in range(0, n, every):
        b[i] = rnd.choice(b"abcdefghijklmnopqrstuvwxyz")
    return bytes(b)


setuid = tar_bytes([{"name": "bin/sh", "mode": 0o4755, "data": b"#!"}])
tiny = [("tiny/%05d" % i, b"x") for i in range(50000)]
# 512 MiB of blobs (zeros: the shape; sprinkled: under the ratio cap), then 50,000 one-byte
# blobs, the image and its manifest last.
save("threads.tar.zst", [setuid], before=[("pad/%03d" % i, b"\0" * (8 << 20)) for i in range(64)] + tiny, compress=True)
save("threads-ratio.tar.zst", [setuid], before=[("pad/%03d" % i, b"\x01" + sprinkled((8 << 20) - 1, 256)) for i in range(64)] + tiny, compress=True)
# 1,000 and 300 setuid files with ~1 MB paths in a plain layer of a .tar.zst; 300 under the caps.
for n in (1000, 300):
    save("longpaths%d.tar.zst" % n, [tar_bytes([{"name": "d/" + "a" * 1000000 + "%04d" % i, "mode": 0o4755, "data": b"#!"} for i in range(n)])], compress=True)
save("longpaths-ratio.tar.zst", [tar_bytes([{"name": "d/" + sprinkled(1000000, 200).decode() + "%04d" % i, "mode": 0o4755, "data": b"#!"} for i in range(300)])], compress=True)
# An outer zstd stream: a header declaring a 250 GiB entry, then 8.6 MB of frames of zeros.
h = tarfile.TarInfo("blob")
h.size = 250 << 30
head = zst(h.tobuf(format=tarfile.GNU_FORMAT), 3)
frame = subprocess.run("head -c 1073741824 /dev/zero | zstd -19 -q -c", shell=True, stdout=subprocess.PIPE, check=True).stdout
open(os.path.join(out, "zeros.tar.zst"), "wb").write(head + frame * ((8600000 - len(head)) // len(frame)))
# A save of no image.
save("empty-manifest.tar", [tar_bytes([])], manifest=b"[]")
# `app` is uid 0 in a passwd reached through a symlink, a hard link, a symlinked /etc.
pw = b"root:x:0:0::/root:/bin/sh\napp:x:0:0::/app:/bin/sh\n"
save("passwd-symlink.tar", [tar_bytes([{"name": "data/pw", "data": pw}, {"name": "etc/passwd", "type": tarfile.SYMTYPE, "link": "/data/pw"}])], user="app")
save("passwd-hardlink.tar", [tar_bytes([{"name": "data/pw", "data": pw}, {"name": "etc/passwd", "type": tarfile.LNKTYPE, "link": "data/pw"}])], user="app")
save("etc-symlink.tar", [tar_bytes([{"name": "private/etc/passwd", "data": pw}, {"name": "etc", "type": tarfile.SYMTYPE, "link": "private/etc"}])], user="app")
save("user-plus0.tar", [tar_bytes([])], user="+0")
# `+0` in every syntax, and Dockerfile expansion past its budget.
open(os.path.join(out, "Dockerfile.plus0"), "w").write("FROM alpine:3.20\nUSER +0\n")
os.makedirs(os.path.join(out, "compose-plus0"), exist_ok=True)
open(os.path.join(out, "compose-plus0", "compose.yaml"), "w").write('services:\n  web:\n    image: nginx:1.27\n    user: "+0"\n')
open(os.path.join(out, "run-plus0.sh"), "w").write("#!/bin/sh\ndocker run -u +0 nginx:1.27\n")
open(os.path.join(out, "Dockerfile.pattern"), "w").write("FROM alpine:3.20\nARG A=%s\nUSER ${A//x/}root\n" % ("x" * 5000))
lines = ["FROM alpine:3.20", "ENV A0=rootroot"] + ["ENV A%d=$A%d$A%d" % (i, i - 1, i - 1) for i in range(1, 21)] + ["USER ${A19:+root}"]
open(os.path.join(out, "Dockerfile.doubling"), "w").write("\n".join(lines) + "\n")
