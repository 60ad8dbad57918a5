//! Syscall numbers to names, for the two architectures leastpriv profiles: x86_64 and aarch64.
//!
//! The tables come from the `syscall-numbers` crate (generated from the kernel's own tables; the
//! `syscalls` crate mislabels some aarch64 entries). A recorder sees numbers of the machine it runs
//! on; the profile names them for that architecture and says which (`run.arch`). A 32-bit task
//! (x86_64's i386 compat mode, aarch64's AArch32) numbers its syscalls in its own table: they are
//! named from it ([`Arch::compat_syscall_name`]) into the same list.

/// An architecture whose syscall table leastpriv knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arch {
    /// x86-64.
    X86_64,
    /// 64-bit Arm.
    Aarch64,
}

impl Arch {
    /// The architecture this binary runs on, if leastpriv knows its table.
    pub fn native() -> Option<Self> {
        match std::env::consts::ARCH {
            "x86_64" => Some(Self::X86_64),
            "aarch64" => Some(Self::Aarch64),
            _ => None,
        }
    }

    /// Reads the profile's `run.arch`.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "x86_64" => Some(Self::X86_64),
            "aarch64" => Some(Self::Aarch64),
            _ => None,
        }
    }

    /// `x86_64` or `aarch64`, as the profile writes it.
    pub fn name(self) -> &'static str {
        match self {
            Self::X86_64 => "x86_64",
            Self::Aarch64 => "aarch64",
        }
    }

    /// The name of syscall `number`, or `None` when the table has no such number.
    pub fn syscall_name(self, number: u32) -> Option<&'static str> {
        let number = libc::c_long::from(number);
        let name = match self {
            Self::X86_64 => syscall_numbers::x86_64::sys_call_name(number),
            Self::Aarch64 => syscall_numbers::aarch64::sys_call_name(number),
        };
        name.filter(|name| !name.is_empty())
    }

    /// The name of syscall `number` in the table of this architecture's 32-bit tasks (i386 for
    /// x86_64, arm for aarch64): seccomp names are shared by the architectures a profile lists,
    /// so one list holds both.
    pub fn compat_syscall_name(self, number: u32) -> Option<&'static str> {
        let number = libc::c_long::from(number);
        let name = match self {
            Self::X86_64 => syscall_numbers::x86::sys_call_name(number),
            Self::Aarch64 => syscall_numbers::arm::sys_call_name(number),
        };
        name.filter(|name| !name.is_empty())
    }

    /// Docker's names for the architecture and the sub-architectures its default profile lists
    /// with it (moby/profiles `archMap`): the 32-bit compat tables run under the same filter.
    pub fn seccomp_architectures(self) -> &'static [&'static str] {
        match self {
            Self::X86_64 => &["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
            Self::Aarch64 => &["SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_both_tables() {
        assert_eq!(Arch::X86_64.syscall_name(0), Some("read"));
        assert_eq!(Arch::X86_64.syscall_name(59), Some("execve"));
        assert_eq!(Arch::X86_64.syscall_name(435), Some("clone3"));
        assert_eq!(Arch::Aarch64.syscall_name(56), Some("openat"));
        // aarch64 has newfstatat (79), not fstatat: the `syscalls` crate's erratum.
        assert_eq!(Arch::Aarch64.syscall_name(79), Some("newfstatat"));
        assert_eq!(Arch::Aarch64.syscall_name(221), Some("execve"));
        assert_eq!(Arch::X86_64.syscall_name(1000), None);
        assert_eq!(Arch::X86_64.compat_syscall_name(199), Some("getuid32"));
        assert_eq!(Arch::X86_64.compat_syscall_name(102), Some("socketcall"));
        assert_eq!(Arch::Aarch64.compat_syscall_name(281), Some("socket"));
        assert_eq!(Arch::from_name("aarch64"), Some(Arch::Aarch64));
        assert_eq!(Arch::from_name("mips"), None);
    }
}
