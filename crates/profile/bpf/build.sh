#!/usr/bin/env bash
# Rebuilds recorder.<arch>.bpf.o from recorder.bpf.c, one object per architecture (their pt_regs
# differ). The objects are checked in so that `cargo build` needs no clang; CI runs `build.sh --check`
# to prove the checked-in bytes are what this source compiles to.
#
# Needs clang-14, llvm-14 (llvm-strip) and libbpf-dev (the bpf_helpers.h family) from Debian bookworm.
# -mcpu=v3 (Linux 5.1+): 32-bit jumps and ALU, and atomics whose result is used (slot allocation).
# The build is deterministic: no absolute paths (-fdebug-prefix-map), DWARF stripped (the BTF that
# CO-RE needs stays), so the same source and compiler give the same bytes on any machine.
set -euo pipefail
cd "$(dirname "$0")"
CLANG="${CLANG:-clang-14}"
STRIP="${LLVM_STRIP:-llvm-strip-14}"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
status=0
for arch in x86_64:x86 aarch64:arm64; do
    name="${arch%%:*}"
    target="${arch##*:}"
    "$CLANG" -target bpf -mcpu=v3 -O2 -g -Wall -Werror -fno-ident \
        -fdebug-prefix-map="$PWD"=. -fdebug-compilation-dir=. \
        -D__TARGET_ARCH_"$target" -I/usr/include/x86_64-linux-gnu \
        -c recorder.bpf.c -o "$out/recorder.$name.bpf.o"
    "$STRIP" -g "$out/recorder.$name.bpf.o"
    if [ "${1:-}" = "--check" ]; then
        if cmp -s "$out/recorder.$name.bpf.o" "recorder.$name.bpf.o"; then
            echo "recorder.$name.bpf.o matches its source"
        else
            echo "crates/profile/bpf/recorder.$name.bpf.o does not match recorder.bpf.c: run crates/profile/bpf/build.sh and commit" >&2
            status=1
        fi
    else
        cp "$out/recorder.$name.bpf.o" "recorder.$name.bpf.o"
    fi
done
exit $status
