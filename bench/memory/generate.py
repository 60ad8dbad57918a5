#!/usr/bin/env python3
"""Writes the memory benchmark's inputs: one project directory per shape, each input just under the
largest size leastpriv reads (8 MiB), in the shapes that cost the most memory per input byte.

Usage: generate.py WORKDIR [BYTES]
"""
import json
import os
import sys

work = sys.argv[1]
size = int(sys.argv[2]) if len(sys.argv) > 2 else 8 * 1024 * 1024 - 1024
SENTINEL = "  sentinel:\n    image: x\n    privileged: true\n"


def write(relative, text):
    path = os.path.join(work, relative)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as out:
        out.write(text)


def flow_compose():
    """One service whose `command` is a flow list of two-byte items: the most nodes per byte."""
    head = f"services:\n{SENTINEL}  web:\n    image: x\n    command: ["
    items = (size - len(head) - 4) // 2
    return head + "1," * items + "1]\n"


def block_compose():
    """One `environment` item per line, and many small services."""
    parts = [f"services:\n{SENTINEL}  web:\n    image: x\n    environment:\n"]
    total = len(parts[0])
    i = 0
    while total < size // 2:
        line = f"      - K{i}=v\n"
        parts.append(line)
        total += len(line)
        i += 1
    i = 0
    while total < size - 200:
        service = f"  s{i}:\n    image: x\n    user: app\n    read_only: true\n"
        parts.append(service)
        total += len(service)
        i += 1
    return "".join(parts)


POD = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "p"},
    "spec": {"containers": [{"name": "c", "image": "x", "securityContext": {"privileged": True}}]},
}


def kubernetes_documents():
    """Many small Pods, one YAML document each."""
    document = (
        "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: p{i}\nspec:\n  containers:\n"
        "  - name: c\n    image: x\n"
    )
    parts, total, i = [], 0, 0
    while total < size - 200:
        text = document.format(i=i)
        parts.append(text)
        total += len(text)
        i += 1
    return "".join(parts)


def json_list():
    """A one-line JSON `List` of Pods, as `kubectl get pods -o json | jq -c` writes it."""
    item = json.dumps(POD, separators=(",", ":"))
    count = (size - 64) // (len(item) + 1)
    return '{"apiVersion":"v1","kind":"List","items":[' + ",".join([item] * count) + "]}\n"


write("flow-compose/compose.yaml", flow_compose())
write("block-compose/compose.yaml", block_compose())
write("kubernetes-documents/pods.yaml", kubernetes_documents())
write("json-list/pods.json", json_list())
# Four large inputs in one run: the bound is per run, not per input.
for i in range(4):
    write(f"parallel-flow/app{i}/compose.yaml", flow_compose())
for i in range(4):
    write(f"parallel-json/app{i}/pods.json", json_list())
