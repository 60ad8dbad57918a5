#!/usr/bin/env python3
"""Packs layer blobs into a legacy `docker save` archive: pack.py OUT.tar LAYER...

The config gets one history entry per layer; layers are stored as given (gzip, zstd or plain),
so leastpriv scans exactly those bytes. Used by run.sh to time one layer alone or several together.
"""
import hashlib
import io
import json
import sys
import tarfile


def add(archive, name, data=None, path=None):
    if path is not None:
        archive.add(path, arcname=name)
        return
    info = tarfile.TarInfo(name)
    info.size = len(data)
    archive.addfile(info, io.BytesIO(data))


def main():
    out, layers = sys.argv[1], sys.argv[2:]
    config = json.dumps({
        "architecture": "amd64", "os": "linux",
        "config": {"User": "10001"},
        "history": [{"created_by": f"bench layer {i}"} for i, _ in enumerate(layers)],
        "rootfs": {"type": "layers", "diff_ids": []},
    }).encode()
    config_name = hashlib.sha256(config).hexdigest() + ".json"
    with tarfile.open(out, "w", format=tarfile.GNU_FORMAT) as archive:
        names = []
        for index, layer in enumerate(layers):
            name = f"layer{index}/layer.tar"
            add(archive, name, path=layer)
            names.append(name)
        add(archive, config_name, config)
        manifest = [{"Config": config_name, "RepoTags": ["bench:1"], "Layers": names}]
        add(archive, "manifest.json", json.dumps(manifest).encode())


main()
