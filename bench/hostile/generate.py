"""Writes the hostile inputs of issue 9 that bench/hostile/run.sh times: one directory per case."""
import json
import os
import sys

root = sys.argv[1]


def case(name):
    path = os.path.join(root, name)
    os.makedirs(path, exist_ok=True)
    return path


def write(path, text, mode="w"):
    with open(path, mode) as out:
        out.write(text)


MIB = 1024 * 1024

p = case("dotenv_doubling")
write(p + "/.env", "A0=xxxxxxxxxxxxxxxx\n" + "".join(f"A{i}=${{A{i-1}}}${{A{i-1}}}\n" for i in range(1, 40)))
write(p + "/compose.yaml", 'services:\n  web:\n    image: nginx\n    user: "${A39}"\n')

p = case("alias_bytes")
write(p + "/compose.yaml", 'x-big: &big "' + "x" * 100_000 + '"\nservices:\n  web:\n    image: nginx\n    command:\n' + "      - *big\n" * 30000)

head = "services:\n  web:\n    image: nginx\n    command: ["
p = case("compose_8mib_flow")
write(p + "/compose.yaml", head + "1," * ((8 * MIB - 2000 - len(head)) // 2) + "1]\n")

p = case("compose_8mib_environment")
lines, size, i = [], 0, 0
while size < 8 * MIB - 1000:
    line = f"      - K{i}=v\n"
    lines.append(line)
    size += len(line)
    i += 1
write(p + "/compose.yaml", "services:\n  web:\n    image: nginx\n    environment:\n" + "".join(lines))

p = case("compose_4x8mib_parallel")
for n in range(4):
    os.makedirs(f"{p}/app{n}", exist_ok=True)
    write(f"{p}/app{n}/compose.yaml", head + "1," * ((8 * MIB - 2000 - len(head)) // 2) + "1]\n")

p = case("list_json_8000_one_line")
items = [{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": f"p{i}"},
          "spec": {"containers": [{"name": "c", "image": "x", "securityContext": {"privileged": True}}]}}
         for i in range(8000)]
write(p + "/pods.json", json.dumps({"apiVersion": "v1", "kind": "List", "items": items}, separators=(",", ":")))

p = case("docker_run_86kb_one_line")
unit = "docker run --privileged -v /:/host nginx; "
write(p + "/run.sh", "#!/bin/sh\n" + unit * (86000 // len(unit)) + "\n")

p = case("include_dev_stdout")
write(p + "/compose.yaml", "include:\n  - /dev/stdout\nservices:\n  web: {image: x}\n")
p = case("dockerfile_proc_self_fd_2")
write(p + "/compose.yaml", "services:\n  web:\n    build: {context: ., dockerfile: /proc/self/fd/2}\n")
p = case("fifo_dotenv")
write(p + "/compose.yaml", 'services:\n  web: {image: x, user: "${U}"}\n')
if not os.path.exists(p + "/.env"):
    os.mkfifo(p + "/.env")
p = case("fifo_include")
write(p + "/compose.yaml", "include:\n  - inc.yaml\nservices:\n  web: {image: x}\n")
if not os.path.exists(p + "/inc.yaml"):
    os.mkfifo(p + "/inc.yaml")
p = case("proc_self_environ_dockerfile")
write(p + "/compose.yaml", "services:\n  web:\n    build: {context: /proc/self, dockerfile: environ}\n")
