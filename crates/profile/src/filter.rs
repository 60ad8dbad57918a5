//! Classic-BPF seccomp filters for the local recorders and `--enforce`: allow everything (the eBPF
//! recorder's marker), notify every syscall (the fallback recorder), or enforce a profile.
//!
//! Written by hand rather than with libseccomp (a C library to link, against the one-static-binary
//! rule) or seccompiler (no user-notification action): each filter is a straight list of `jeq`s,
//! a few dozen lines.

use crate::sys::{native_audit_arch, Instruction};

const BPF_LD_W_ABS: u16 = 0x20; // BPF_LD | BPF_W | BPF_ABS
const BPF_JEQ_K: u16 = 0x15; // BPF_JMP | BPF_JEQ | BPF_K
const BPF_JGE_K: u16 = 0x35; // BPF_JMP | BPF_JGE | BPF_K
const BPF_RET_K: u16 = 0x06; // BPF_RET | BPF_K

/// `offsetof(struct seccomp_data, nr)` and `arch`.
const NR: u32 = 0;
const ARCH: u32 = 4;

pub(crate) const RET_ALLOW: u32 = 0x7fff_0000;
pub(crate) const RET_USER_NOTIF: u32 = 0x7fc0_0000;
const RET_ERRNO: u32 = 0x0005_0000;
/// x32 syscalls carry this bit in their number on x86_64.
const X32_SYSCALL_BIT: u32 = 0x4000_0000;

/// `SECCOMP_RET_ERRNO` with `errno`.
pub(crate) fn ret_errno(errno: u16) -> u32 {
    RET_ERRNO | u32::from(errno)
}

fn statement(code: u16, k: u32) -> Instruction {
    Instruction {
        code,
        jt: 0,
        jf: 0,
        k,
    }
}

fn jump(code: u16, k: u32, jt: u8, jf: u8) -> Instruction {
    Instruction { code, jt, jf, k }
}

/// Allows every syscall: the marker the eBPF recorder waits for.
pub(crate) fn allow_all() -> Vec<Instruction> {
    vec![statement(BPF_RET_K, RET_ALLOW)]
}

/// A filter for the native architecture: `rules` (syscall number, action) first, `default` for the
/// rest; another architecture (32-bit compat) gets `foreign`.
pub(crate) fn build(rules: &[(u32, u32)], default: u32, foreign: u32) -> Vec<Instruction> {
    let mut program = vec![
        statement(BPF_LD_W_ABS, ARCH),
        jump(BPF_JEQ_K, native_audit_arch(), 1, 0),
        statement(BPF_RET_K, foreign),
        statement(BPF_LD_W_ABS, NR),
    ];
    if cfg!(target_arch = "x86_64") {
        program.push(jump(BPF_JGE_K, X32_SYSCALL_BIT, 0, 1));
        program.push(statement(BPF_RET_K, foreign));
    }
    for &(number, action) in rules {
        program.push(jump(BPF_JEQ_K, number, 0, 1));
        program.push(statement(BPF_RET_K, action));
    }
    program.push(statement(BPF_RET_K, default));
    program
}

/// The fallback recorder's filter: `sendmsg` on `socket` (handing the listener over) and the
/// syscalls already known (a `--baseline` profile) run; every other syscall notifies.
pub(crate) fn notify_unseen(socket: i32, known: &[u32]) -> Vec<Instruction> {
    let mut program = vec![
        statement(BPF_LD_W_ABS, ARCH),
        jump(BPF_JEQ_K, native_audit_arch(), 1, 0),
        statement(BPF_RET_K, RET_USER_NOTIF),
        statement(BPF_LD_W_ABS, NR),
        jump(BPF_JEQ_K, libc::SYS_sendmsg as u32, 0, 3),
        // args[0], low word: offsetof(seccomp_data, args) = 16.
        statement(BPF_LD_W_ABS, 16),
        jump(BPF_JEQ_K, socket as u32, 0, 1),
        statement(BPF_RET_K, RET_ALLOW),
        statement(BPF_LD_W_ABS, NR),
    ];
    for &number in known {
        program.push(jump(BPF_JEQ_K, number, 0, 1));
        program.push(statement(BPF_RET_K, RET_ALLOW));
    }
    program.push(statement(BPF_RET_K, RET_USER_NOTIF));
    program
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_come_before_the_default() {
        let program = build(
            &[(0, RET_ALLOW), (435, ret_errno(38))],
            ret_errno(1),
            ret_errno(1),
        );
        let returns: Vec<u32> = program
            .iter()
            .filter(|insn| insn.code == BPF_RET_K)
            .map(|insn| insn.k)
            .collect();
        assert_eq!(returns.last(), Some(&ret_errno(1)));
        assert!(returns.contains(&RET_ALLOW) && returns.contains(&(RET_ERRNO | 38)));
        assert_eq!(allow_all().len(), 1);
        let notify = notify_unseen(7, &[0, 1]);
        assert_eq!(notify.last().map(|insn| insn.k), Some(RET_USER_NOTIF));
    }
}
