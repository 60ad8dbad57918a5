//! Seccomp: the mode from `/proc/self/status`, and which dangerous syscalls the filter really blocks.
//!
//! # How a syscall is probed
//! Each dangerous syscall is called raw with arguments the kernel rejects before it does anything:
//! invalid flags (EINVAL), an fd of -1 (EBADF), a pid that cannot exist (ESRCH), a kernel-half pointer
//! (EFAULT). A seccomp filter runs before the syscall body, so:
//! - any errno other than EPERM/EACCES/ENOSYS proves the call reached the kernel: **allowed**;
//! - EPERM (Docker's filter answer) or a kill is the filter's refusal — **blocked** — *provided* the
//!   kernel validates those arguments before any permission check. Where the kernel checks a
//!   capability (or a sysctl) first and the process lacks it, EPERM is the kernel's own answer and the
//!   filter's verdict is invisible: **denied**. These cases are listed per syscall in [`PROBES`];
//! - ENOSYS is the filter's answer for calls it does not know (runc gives ENOSYS for syscalls newer
//!   than the profile, Docker's profile for `clone3`): **blocked**; with no filter it means the kernel
//!   lacks the call: **unimplemented**.
//!
//! amicontained calls every syscall with zero arguments and counts EPERM as blocked, so calls whose
//! zero-argument form fails with EPERM by itself (setsid for a group leader, setpgid) are misreported,
//! and it never probes numbers above 334 (clone3, io_uring, the new mount API). This probe chooses
//! arguments per syscall, knows which calls check permissions first, and runs the calls in a forked
//! child so that a filter with a `KILL` action costs a child, not the probe (see `host/syscall.rs`).
//!
//! # Why the arguments are harmless
//! Each [`PROBES`] entry says which check rejects its arguments and that no earlier step has an
//! effect; several entries carry two independent invalid arguments. Nothing is ever created: the
//! calls that could return a descriptor or a child are undone by the runner (`Returns::Fd`,
//! `Returns::Child`), and none is expected to succeed except `syslog(SYSLOG_ACTION_SIZE_BUFFER)`,
//! which only returns the size of the kernel log buffer.

use crate::capabilities::has;
use crate::host::{read_number, Host, RawOutcome, Returns, SyscallCall};
use crate::report::{Seccomp, SyscallResult, SyscallStatus};
use crate::status::Status;

/// A pointer in the kernel half of the address space: `access_ok` rejects it, so any copy from it
/// fails with EFAULT before the kernel reads a byte.
const BAD_POINTER: u64 = 0xffff_ffff_ffff_f000;
/// -1 as an `int` argument (the kernel truncates to 32 bits): no such descriptor.
const NO_FD: u64 = u64::MAX;
/// A pid above `PID_MAX_LIMIT` (2^22): no such process.
const NO_PID: u64 = 0x7fff_ffff;
/// A flag bit no syscall probed here defines.
const BOGUS_FLAG: u64 = 0x4000_0000;

/// What the kernel checks before it looks at the probe's arguments.
#[derive(Clone, Copy, Debug)]
enum KernelCheck {
    /// The arguments are rejected before any permission check: EPERM can only come from the filter.
    ArgumentsFirst,
    /// `capable(cap)` first (the initial user namespace), or `ns_capable` when `namespaced`; and
    /// EPERM whenever the sysctl `disabled_by` is non-zero.
    Capability {
        cap: &'static str,
        namespaced: bool,
        disabled_by: Option<&'static str>,
    },
    /// `kernel.unprivileged_bpf_disabled` without CAP_BPF/CAP_SYS_ADMIN on kernels before 6.5, which
    /// checked it at the top of bpf(2).
    Bpf,
    /// `kernel.io_uring_disabled` (6.6+): 2 refuses everyone, 1 all but CAP_SYS_ADMIN and a group.
    IoUring,
    /// `kernel.dmesg_restrict` without CAP_SYSLOG/CAP_SYS_ADMIN.
    Syslog,
    /// Kernels before 5.11 had no `UFFD_USER_MODE_ONLY`: without CAP_SYS_PTRACE and with
    /// `vm.unprivileged_userfaultfd` 0 they refuse first.
    Userfaultfd,
    /// Before 6.10 (the "relax open_by_handle_at() permission checks" change) CAP_DAC_READ_SEARCH was
    /// checked before the mount fd; since then the fd is resolved first (EBADF, verified on 6.18).
    OpenByHandle,
}

/// What Docker's default seccomp profile does with the syscall (x86_64, kernel ≥ 4.8).
#[derive(Clone, Copy, Debug)]
enum DockerDefault {
    Blocked,
    Allowed,
    /// Allowed when any of these capabilities is in the bounding set (`includes.caps`).
    BlockedUnless(&'static [&'static str]),
    /// Changed across Docker versions.
    Varies,
}

/// One syscall probe.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Probe {
    pub(crate) call: SyscallCall,
    kernel_check: KernelCheck,
    docker_default: DockerDefault,
}

const fn probe(
    name: &'static str,
    number: libc::c_long,
    args: [u64; 6],
    returns: Returns,
    kernel_check: KernelCheck,
    docker_default: DockerDefault,
) -> Probe {
    Probe {
        call: SyscallCall {
            name,
            number,
            args,
            returns,
        },
        kernel_check,
        docker_default,
    }
}

const fn capability(cap: &'static str, namespaced: bool) -> KernelCheck {
    KernelCheck::Capability {
        cap,
        namespaced,
        disabled_by: None,
    }
}

use DockerDefault::{Allowed, Blocked, BlockedUnless, Varies};
use KernelCheck::ArgumentsFirst;

const SYS_ADMIN: &[&str] = &["SYS_ADMIN"];

/// The probes, in the order they run. Each comment: the arguments, the check that rejects them, and
/// the answer a reached kernel gives.
#[rustfmt::skip]
pub(crate) const PROBES: &[Probe] = &[
    // mount(dev, dir, type, flags, data): the type string is copied first (copy_mount_string) from a
    // kernel-half pointer → EFAULT; dev and data are bad too and dir is NULL, so nothing can mount.
    probe("mount", libc::SYS_mount, [BAD_POINTER, 0, BAD_POINTER, 0, BAD_POINTER, 0], Returns::Value, ArgumentsFirst, BlockedUnless(SYS_ADMIN)),
    // umount2(target, flags): ksys_umount rejects unknown flags first ("basic validity checks done
    // first") → EINVAL; the target is a bad pointer as well.
    probe("umount2", libc::SYS_umount2, [BAD_POINTER, BOGUS_FLAG, 0, 0, 0, 0], Returns::Value, ArgumentsFirst, BlockedUnless(SYS_ADMIN)),
    // unshare(CLONE_NEWUSER | 0x1): check_unshare_flags rejects bit 0 (a CSIGNAL bit) → EINVAL before
    // anything is unshared. CLONE_NEWUSER is there so that argument filters on it answer too.
    probe("unshare", libc::SYS_unshare, [libc::CLONE_NEWUSER as u64 | 0x1, 0, 0, 0, 0, 0], Returns::Value, ArgumentsFirst, BlockedUnless(SYS_ADMIN)),
    // clone(CLONE_NEWUSER|CLONE_NEWNS|CLONE_FS|CLONE_THREAD): copy_process rejects NEWNS with FS,
    // NEWUSER with FS and THREAD without SIGHAND, each → EINVAL, before any allocation. Docker filters
    // clone's namespace flags (arg0 & 0x7E020000), so this is its "new namespaces" check. No
    // CLONE_VM: were a kernel to accept it, the child would have its own memory and leave at once.
    probe("clone", libc::SYS_clone, [(libc::CLONE_NEWUSER | libc::CLONE_NEWNS | libc::CLONE_FS | libc::CLONE_THREAD) as u64, 0, 0, 0, 0, 0], Returns::Child, ArgumentsFirst, BlockedUnless(SYS_ADMIN)),
    // clone3(NULL, 0): copy_clone_args_from_user rejects a size below CLONE_ARGS_SIZE_VER0 → EINVAL.
    // Docker answers ENOSYS so that libc falls back to clone.
    probe("clone3", libc::SYS_clone3, [0, 0, 0, 0, 0, 0], Returns::Child, ArgumentsFirst, BlockedUnless(SYS_ADMIN)),
    // setns(-1, 0): the fd is looked up first → EBADF.
    probe("setns", libc::SYS_setns, [NO_FD, 0, 0, 0, 0, 0], Returns::Value, ArgumentsFirst, BlockedUnless(SYS_ADMIN)),
    // pivot_root(bad, bad): may_mount() (CAP_SYS_ADMIN over the mount namespace) first, then the
    // paths → EFAULT.
    probe("pivot_root", libc::SYS_pivot_root, [BAD_POINTER, BAD_POINTER, 0, 0, 0, 0], Returns::Value, capability("SYS_ADMIN", true), Blocked),
    // open_tree(-1, bad, OPEN_TREE_CLONE | bogus): unknown flags first → EINVAL.
    probe("open_tree", libc::SYS_open_tree, [NO_FD, BAD_POINTER, 1 | BOGUS_FLAG, 0, 0, 0], Returns::Fd, ArgumentsFirst, BlockedUnless(SYS_ADMIN)),
    // mount_setattr(-1, bad, bogus, bad, 0): unknown flags first → EINVAL (may_mount comes after the
    // size checks).
    probe("mount_setattr", libc::SYS_mount_setattr, [NO_FD, BAD_POINTER, BOGUS_FLAG, BAD_POINTER, 0, 0], Returns::Value, ArgumentsFirst, BlockedUnless(SYS_ADMIN)),
    // fsopen(bad, bogus): may_mount() first, then flags → EINVAL.
    probe("fsopen", libc::SYS_fsopen, [BAD_POINTER, BOGUS_FLAG, 0, 0, 0, 0], Returns::Fd, capability("SYS_ADMIN", true), BlockedUnless(SYS_ADMIN)),
    // keyctl(0x7fffffff): unknown operation → EOPNOTSUPP.
    probe("keyctl", libc::SYS_keyctl, [0x7fff_ffff, 0, 0, 0, 0, 0], Returns::Value, ArgumentsFirst, Blocked),
    // add_key(NULL, NULL, NULL, huge, 0): plen > 1 MiB - 1 is rejected first → EINVAL.
    probe("add_key", libc::SYS_add_key, [0, 0, 0, u64::MAX, 0, 0], Returns::Value, ArgumentsFirst, Blocked),
    // request_key(bad, …): the type string is copied first → EFAULT.
    probe("request_key", libc::SYS_request_key, [BAD_POINTER, BAD_POINTER, 0, 0, 0, 0], Returns::Value, ArgumentsFirst, Blocked),
    // bpf(0x7fffffff, NULL, 0): unknown command → EINVAL (see KernelCheck::Bpf for old kernels).
    probe("bpf", libc::SYS_bpf, [0x7fff_ffff, 0, 0, 0, 0, 0], Returns::Fd, KernelCheck::Bpf, BlockedUnless(&["SYS_ADMIN", "BPF"])),
    // perf_event_open(bad, 0, -1, -1, bogus): "for future expandability" flags are checked first →
    // EINVAL; the attr pointer is bad as well.
    probe("perf_event_open", libc::SYS_perf_event_open, [BAD_POINTER, 0, NO_FD, NO_FD, BOGUS_FLAG << 1, 0], Returns::Fd, ArgumentsFirst, BlockedUnless(&["SYS_ADMIN", "PERFMON"])),
    // ptrace(PTRACE_PEEKDATA, no pid): the tracee is looked up first → ESRCH.
    probe("ptrace", libc::SYS_ptrace, [libc::PTRACE_PEEKDATA as u64, NO_PID, 0, 0, 0, 0], Returns::Value, ArgumentsFirst, Allowed),
    // kcmp(no pid, no pid, 0, 0, 0): both tasks are looked up first → ESRCH.
    probe("kcmp", libc::SYS_kcmp, [NO_PID, NO_PID, 0, 0, 0, 0], Returns::Value, ArgumentsFirst, BlockedUnless(&["SYS_PTRACE"])),
    // pidfd_getfd(-1, -1, 1): non-zero flags first → EINVAL.
    probe("pidfd_getfd", libc::SYS_pidfd_getfd, [NO_FD, NO_FD, 1, 0, 0, 0], Returns::Fd, ArgumentsFirst, BlockedUnless(&["SYS_PTRACE"])),
    // userfaultfd(UFFD_USER_MODE_ONLY | O_RDWR): user-mode-only needs no privilege, then O_RDWR is an
    // invalid flag → EINVAL.
    probe("userfaultfd", libc::SYS_userfaultfd, [1 | 2, 0, 0, 0, 0, 0], Returns::Fd, KernelCheck::Userfaultfd, Blocked),
    // init_module(bad, 0, bad): may_init_module() (CAP_SYS_MODULE, modules_disabled) first, then a
    // length below an ELF header → ENOEXEC.
    probe("init_module", libc::SYS_init_module, [BAD_POINTER, 0, BAD_POINTER, 0, 0, 0], Returns::Value, KernelCheck::Capability { cap: "SYS_MODULE", namespaced: false, disabled_by: Some("/proc/sys/kernel/modules_disabled") }, BlockedUnless(&["SYS_MODULE"])),
    // finit_module(-1, bad, bogus): may_init_module() first, then flags → EINVAL.
    probe("finit_module", libc::SYS_finit_module, [NO_FD, BAD_POINTER, BOGUS_FLAG, 0, 0, 0], Returns::Value, KernelCheck::Capability { cap: "SYS_MODULE", namespaced: false, disabled_by: Some("/proc/sys/kernel/modules_disabled") }, BlockedUnless(&["SYS_MODULE"])),
    // kexec_load(0, 4096, bad, 0x8000): kexec_load_check tests CAP_SYS_BOOT and kexec_load_disabled
    // first, then the flags (0x8000 is no flag) and nr_segments > KEXEC_SEGMENT_MAX → EINVAL. Never
    // nr_segments 0 with valid flags: that would unload a loaded kernel.
    probe("kexec_load", libc::SYS_kexec_load, [0, 4096, BAD_POINTER, 0x8000, 0, 0], Returns::Value, KernelCheck::Capability { cap: "SYS_BOOT", namespaced: false, disabled_by: Some("/proc/sys/kernel/kexec_load_disabled") }, Blocked),
    // kexec_file_load(-1, -1, 0, bad, bogus): permission first, then flags outside KEXEC_FILE_FLAGS →
    // EINVAL (never KEXEC_FILE_UNLOAD).
    probe("kexec_file_load", libc::SYS_kexec_file_load, [NO_FD, NO_FD, 0, BAD_POINTER, BOGUS_FLAG, 0], Returns::Value, KernelCheck::Capability { cap: "SYS_BOOT", namespaced: false, disabled_by: Some("/proc/sys/kernel/kexec_load_disabled") }, Blocked),
    // open_by_handle_at(-1, bad, 0): → EBADF (or EFAULT); see KernelCheck::OpenByHandle.
    probe("open_by_handle_at", libc::SYS_open_by_handle_at, [NO_FD, BAD_POINTER, 0, 0, 0, 0], Returns::Fd, KernelCheck::OpenByHandle, BlockedUnless(&["DAC_READ_SEARCH"])),
    // clock_settime(CLOCK_REALTIME, bad): the clock is looked up, then the time copied → EFAULT; the
    // permission check is inside the clock's setter, after the copy.
    probe("clock_settime", libc::SYS_clock_settime, [libc::CLOCK_REALTIME as u64, BAD_POINTER, 0, 0, 0, 0], Returns::Value, ArgumentsFirst, BlockedUnless(&["SYS_TIME"])),
    // settimeofday(bad, NULL): the timeval is copied first → EFAULT.
    probe("settimeofday", libc::SYS_settimeofday, [BAD_POINTER, 0, 0, 0, 0, 0], Returns::Value, ArgumentsFirst, BlockedUnless(&["SYS_TIME"])),
    // reboot(0, 0, bogus, NULL): CAP_SYS_BOOT (over the PID namespace) is checked *before* the magic
    // numbers, so without it EPERM is the kernel's; with it, wrong magic → EINVAL.
    probe("reboot", libc::SYS_reboot, [0, 0, 0x7777_7777, 0, 0, 0], Returns::Value, capability("SYS_BOOT", true), BlockedUnless(&["SYS_BOOT"])),
    // swapon(bad, bogus): flags outside SWAP_FLAGS_VALID first → EINVAL, then CAP_SYS_ADMIN.
    probe("swapon", libc::SYS_swapon, [BAD_POINTER, BOGUS_FLAG, 0, 0, 0, 0], Returns::Value, ArgumentsFirst, Blocked),
    // syslog(SYSLOG_ACTION_SIZE_BUFFER, NULL, 0): only returns the log buffer size; restricted only
    // by dmesg_restrict.
    probe("syslog", libc::SYS_syslog, [10, 0, 0, 0, 0, 0], Returns::Value, KernelCheck::Syslog, BlockedUnless(&["SYSLOG", "SYS_ADMIN"])),
    // io_uring_setup(0, bad): the params are copied first → EFAULT (and 0 entries is EINVAL).
    probe("io_uring_setup", libc::SYS_io_uring_setup, [0, BAD_POINTER, 0, 0, 0, 0], Returns::Fd, KernelCheck::IoUring, Varies),
    // iopl(4): levels above 3 are rejected first → EINVAL.
    #[cfg(target_arch = "x86_64")]
    probe("iopl", libc::SYS_iopl, [4, 0, 0, 0, 0, 0], Returns::Value, ArgumentsFirst, BlockedUnless(&["SYS_RAWIO"])),
    // ioperm(0, 0, 0): an empty range is rejected first → EINVAL; turn_on is 0 anyway.
    #[cfg(target_arch = "x86_64")]
    probe("ioperm", libc::SYS_ioperm, [0, 0, 0, 0, 0, 0], Returns::Value, ArgumentsFirst, BlockedUnless(&["SYS_RAWIO"])),
];

/// The kernel facts that decide whether EPERM could be the kernel's own answer.
#[derive(Clone, Debug, Default)]
pub(crate) struct KernelFacts {
    pub(crate) effective: u64,
    pub(crate) bounding: u64,
    pub(crate) initial_user_namespace: bool,
    /// (major, minor) of the running kernel.
    pub(crate) version: Option<(u32, u32)>,
    pub(crate) seccomp_mode: u8,
    sysctls: Vec<(&'static str, i64)>,
}

/// The sysctls [`KernelCheck`] consults.
const SYSCTLS: [&str; 6] = [
    "/proc/sys/kernel/modules_disabled",
    "/proc/sys/kernel/kexec_load_disabled",
    "/proc/sys/kernel/unprivileged_bpf_disabled",
    "/proc/sys/kernel/io_uring_disabled",
    "/proc/sys/kernel/dmesg_restrict",
    "/proc/sys/vm/unprivileged_userfaultfd",
];

impl KernelFacts {
    pub(crate) fn read(
        host: &dyn Host,
        status: &Status,
        initial_user_namespace: bool,
        kernel: Option<&str>,
    ) -> Self {
        Self {
            effective: status.cap_effective,
            bounding: status.cap_bounding,
            initial_user_namespace,
            version: kernel.and_then(parse_version),
            seccomp_mode: status.seccomp.unwrap_or(0),
            sysctls: SYSCTLS
                .iter()
                .filter_map(|&path| Some((path, read_number(host, path)?)))
                .collect(),
        }
    }

    fn sysctl(&self, path: &str) -> Option<i64> {
        self.sysctls
            .iter()
            .find(|(known, _)| *known == path)
            .map(|&(_, value)| value)
    }

    /// Whether a `capable()` (or, `namespaced`, an `ns_capable()`) check for `cap` passes.
    fn capable(&self, cap: &str, namespaced: bool) -> bool {
        has(self.effective, cap) && (namespaced || self.initial_user_namespace)
    }

    fn older_than(&self, major: u32, minor: u32) -> bool {
        self.version.is_none_or(|version| version < (major, minor))
    }
}

/// `6.18.44-fc-v657` → (6, 18).
fn parse_version(release: &str) -> Option<(u32, u32)> {
    let mut parts = release.split(|c: char| !c.is_ascii_digit());
    Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
}

impl KernelCheck {
    /// Why the kernel itself may answer EPERM before looking at the arguments; `None` when it would
    /// not.
    fn refusal(self, facts: &KernelFacts) -> Option<String> {
        match self {
            Self::ArgumentsFirst => None,
            Self::Capability {
                cap,
                namespaced,
                disabled_by,
            } => {
                if let Some(sysctl) =
                    disabled_by.filter(|path| facts.sysctl(path).unwrap_or(0) != 0)
                {
                    return Some(format!("disabled by {}", sysctl_name(sysctl)));
                }
                (!facts.capable(cap, namespaced)).then(|| {
                    format!(
                        "the kernel checks CAP_{cap} before the arguments and the process lacks it"
                    )
                })
            }
            Self::Bpf => {
                let restricted = facts
                    .sysctl("/proc/sys/kernel/unprivileged_bpf_disabled")
                    .unwrap_or(1)
                    != 0;
                let capable = facts.capable("BPF", false) || facts.capable("SYS_ADMIN", false);
                (facts.older_than(6, 5) && restricted && !capable).then(|| {
                    "kernels before 6.5 refuse bpf first when kernel.unprivileged_bpf_disabled is set"
                        .to_owned()
                })
            }
            Self::IoUring => match facts.sysctl("/proc/sys/kernel/io_uring_disabled") {
                Some(2) => Some("disabled by kernel.io_uring_disabled = 2".to_owned()),
                Some(1) if !facts.capable("SYS_ADMIN", false) => Some(
                    "kernel.io_uring_disabled = 1 limits io_uring to CAP_SYS_ADMIN and a group"
                        .to_owned(),
                ),
                _ => None,
            },
            Self::Syslog => {
                let restricted = facts.sysctl("/proc/sys/kernel/dmesg_restrict").unwrap_or(1) != 0;
                let capable = facts.capable("SYSLOG", false) || facts.capable("SYS_ADMIN", false);
                (restricted && !capable).then(|| {
                    "kernel.dmesg_restrict is set and the process lacks CAP_SYSLOG".to_owned()
                })
            }
            Self::Userfaultfd => {
                let unprivileged = facts
                    .sysctl("/proc/sys/vm/unprivileged_userfaultfd")
                    .unwrap_or(0)
                    != 0;
                (facts.older_than(5, 11) && !unprivileged && !facts.capable("SYS_PTRACE", false))
                    .then(|| {
                        "kernels before 5.11 refuse userfaultfd first without CAP_SYS_PTRACE"
                            .to_owned()
                    })
            }
            Self::OpenByHandle => {
                (facts.older_than(6, 10) && !facts.capable("DAC_READ_SEARCH", false)).then(|| {
                    "kernels before 6.10 check CAP_DAC_READ_SEARCH before the arguments".to_owned()
                })
            }
        }
    }
}

fn sysctl_name(path: &str) -> String {
    path.trim_start_matches("/proc/sys/").replace('/', ".")
}

/// Runs the probes and classifies each outcome.
pub(crate) fn probe_syscalls(host: &dyn Host, facts: &KernelFacts) -> Seccomp {
    let calls: Vec<SyscallCall> = PROBES.iter().map(|probe| probe.call).collect();
    let outcomes = host.run_syscalls(&calls);
    let syscalls: Vec<SyscallResult> = PROBES
        .iter()
        .zip(outcomes)
        .map(|(probe, outcome)| classify(probe, outcome, facts))
        .collect();
    let named = |status: SyscallStatus| {
        syscalls
            .iter()
            .filter(|result| result.status == status)
            .map(|result| result.name.clone())
            .collect::<Vec<_>>()
    };
    let differs_from_docker_default = if facts.seccomp_mode == 2 {
        PROBES
            .iter()
            .zip(&syscalls)
            .filter(|(probe, result)| contradicts_docker_default(probe, result, facts))
            .map(|(_, result)| result.name.clone())
            .collect()
    } else {
        Vec::new()
    };
    Seccomp {
        mode: match facts.seccomp_mode {
            1 => "strict",
            2 => "filter",
            _ => "disabled",
        }
        .to_owned(),
        filters: None,
        blocked: named(SyscallStatus::Blocked),
        allowed: named(SyscallStatus::Allowed),
        denied: named(SyscallStatus::Denied),
        syscalls,
        differs_from_docker_default,
    }
}

fn classify(probe: &Probe, outcome: RawOutcome, facts: &KernelFacts) -> SyscallResult {
    let name = probe.call.name.to_owned();
    let result = |status, errno: Option<i32>, note: Option<String>| SyscallResult {
        name: name.clone(),
        status,
        errno: errno.map(errno_name),
        note,
    };
    match outcome {
        RawOutcome::Returned(_) => result(SyscallStatus::Allowed, None, None),
        RawOutcome::Killed(signal) => result(
            SyscallStatus::Blocked,
            None,
            Some(format!(
                "killed by signal {signal} (a seccomp kill or trap action)"
            )),
        ),
        RawOutcome::Failed(errno) if errno == libc::EPERM || errno == libc::EACCES => {
            let refusal = probe.kernel_check.refusal(facts);
            if facts.seccomp_mode != 2 {
                let reason = refusal.unwrap_or_else(|| {
                    "refused by the kernel or an LSM (no seccomp filter)".to_owned()
                });
                result(SyscallStatus::Denied, Some(errno), Some(reason))
            } else if let Some(reason) = refusal {
                result(SyscallStatus::Denied, Some(errno), Some(reason))
            } else if errno == libc::EACCES {
                result(
                    SyscallStatus::Denied,
                    Some(errno),
                    Some("EACCES is an LSM's or a permission check's answer".to_owned()),
                )
            } else {
                result(SyscallStatus::Blocked, Some(errno), None)
            }
        }
        RawOutcome::Failed(errno) if errno == libc::ENOSYS => {
            if facts.seccomp_mode == 2 {
                result(
                    SyscallStatus::Blocked,
                    Some(errno),
                    Some(
                        "ENOSYS under a filter: refused as unknown (or not in this kernel)"
                            .to_owned(),
                    ),
                )
            } else {
                result(SyscallStatus::Unimplemented, Some(errno), None)
            }
        }
        RawOutcome::Failed(errno) => result(SyscallStatus::Allowed, Some(errno), None),
    }
}

fn contradicts_docker_default(probe: &Probe, result: &SyscallResult, facts: &KernelFacts) -> bool {
    let expected_blocked = match probe.docker_default {
        Blocked => true,
        Allowed => false,
        BlockedUnless(caps) if caps.iter().any(|cap| has(facts.bounding, cap)) => return false,
        BlockedUnless(_) => true,
        Varies => return false,
    };
    match result.status {
        SyscallStatus::Allowed => expected_blocked,
        SyscallStatus::Blocked => !expected_blocked,
        SyscallStatus::Denied | SyscallStatus::Unimplemented => false,
    }
}

/// The symbolic name of an errno the probes can see.
pub(crate) fn errno_name(errno: i32) -> String {
    let name = match errno {
        libc::EPERM => "EPERM",
        libc::ENOENT => "ENOENT",
        libc::ESRCH => "ESRCH",
        libc::EINTR => "EINTR",
        libc::ENOEXEC => "ENOEXEC",
        libc::EBADF => "EBADF",
        libc::ENOMEM => "ENOMEM",
        libc::EACCES => "EACCES",
        libc::EFAULT => "EFAULT",
        libc::EBUSY => "EBUSY",
        libc::EEXIST => "EEXIST",
        libc::ENODEV => "ENODEV",
        libc::ENOTDIR => "ENOTDIR",
        libc::EINVAL => "EINVAL",
        libc::E2BIG => "E2BIG",
        libc::ENOSYS => "ENOSYS",
        libc::EOPNOTSUPP => "EOPNOTSUPP",
        libc::ESTALE => "ESTALE",
        libc::ENOKEY => "ENOKEY",
        _ => return format!("errno {errno}"),
    };
    name.to_owned()
}

/// Parses an errno name back (for canned hosts).
#[cfg(test)]
pub(crate) fn errno_number(name: &str) -> Option<i32> {
    (1..200).find(|&errno| errno_name(errno) == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(effective: u64, mode: u8) -> KernelFacts {
        KernelFacts {
            effective,
            bounding: effective,
            initial_user_namespace: true,
            version: Some((6, 18)),
            seccomp_mode: mode,
            sysctls: vec![("/proc/sys/kernel/dmesg_restrict", 0)],
        }
    }

    fn find(name: &str) -> &'static Probe {
        PROBES
            .iter()
            .find(|probe| probe.call.name == name)
            .expect("probe exists")
    }

    #[test]
    fn eperm_on_an_arguments_first_call_is_the_filter() {
        let docker = facts(0xa804_25fb, 2);
        let result = classify(find("mount"), RawOutcome::Failed(libc::EPERM), &docker);
        assert_eq!(result.status, SyscallStatus::Blocked);
        let result = classify(find("mount"), RawOutcome::Failed(libc::EFAULT), &docker);
        assert_eq!(result.status, SyscallStatus::Allowed);
        assert_eq!(result.errno.as_deref(), Some("EFAULT"));
    }

    #[test]
    fn eperm_from_a_capability_first_call_is_not_attributed() {
        // reboot checks CAP_SYS_BOOT before the magic numbers: without it, EPERM says nothing about
        // the filter.
        let docker = facts(0xa804_25fb, 2);
        let result = classify(find("reboot"), RawOutcome::Failed(libc::EPERM), &docker);
        assert_eq!(result.status, SyscallStatus::Denied);
        assert!(result
            .note
            .is_some_and(|note| note.contains("CAP_SYS_BOOT")));
        // With CAP_SYS_BOOT the kernel would have said EINVAL, so EPERM is the filter's.
        let with_boot = facts(0xa804_25fb | 1 << 22, 2);
        let result = classify(find("reboot"), RawOutcome::Failed(libc::EPERM), &with_boot);
        assert_eq!(result.status, SyscallStatus::Blocked);
        // A user namespace's CAP_SYS_MODULE does not pass capable().
        let mut userns = facts(u64::MAX, 2);
        userns.initial_user_namespace = false;
        let result = classify(
            find("init_module"),
            RawOutcome::Failed(libc::EPERM),
            &userns,
        );
        assert_eq!(result.status, SyscallStatus::Denied);
    }

    #[test]
    fn without_a_filter_eperm_and_enosys_are_the_kernel() {
        let unconfined = facts(0xa804_25fb, 0);
        let result = classify(find("mount"), RawOutcome::Failed(libc::EPERM), &unconfined);
        assert_eq!(result.status, SyscallStatus::Denied);
        let result = classify(
            find("kexec_load"),
            RawOutcome::Failed(libc::ENOSYS),
            &unconfined,
        );
        assert_eq!(result.status, SyscallStatus::Unimplemented);
        let filtered = facts(0xa804_25fb, 2);
        let result = classify(find("clone3"), RawOutcome::Failed(libc::ENOSYS), &filtered);
        assert_eq!(result.status, SyscallStatus::Blocked);
    }

    #[test]
    fn kills_are_blocks() {
        let result = classify(find("keyctl"), RawOutcome::Killed(31), &facts(0, 2));
        assert_eq!(result.status, SyscallStatus::Blocked);
    }

    #[test]
    fn sysctls_and_kernel_versions_decide_ambiguous_calls() {
        let mut old = facts(0xa804_25fb, 2);
        old.version = Some((5, 4));
        old.sysctls = vec![("/proc/sys/kernel/unprivileged_bpf_disabled", 2)];
        assert_eq!(
            classify(find("bpf"), RawOutcome::Failed(libc::EPERM), &old).status,
            SyscallStatus::Denied
        );
        let mut new = old.clone();
        new.version = Some((6, 18));
        assert_eq!(
            classify(find("bpf"), RawOutcome::Failed(libc::EPERM), &new).status,
            SyscallStatus::Blocked
        );
        new.sysctls = vec![("/proc/sys/kernel/io_uring_disabled", 2)];
        assert_eq!(
            classify(
                find("io_uring_setup"),
                RawOutcome::Failed(libc::EPERM),
                &new
            )
            .status,
            SyscallStatus::Denied
        );
        new.sysctls = vec![("/proc/sys/kernel/modules_disabled", 1)];
        let all = KernelFacts {
            effective: u64::MAX,
            ..new
        };
        let result = classify(find("init_module"), RawOutcome::Failed(libc::EPERM), &all);
        assert_eq!(result.status, SyscallStatus::Denied);
        assert_eq!(
            result.note.as_deref(),
            Some("disabled by kernel.modules_disabled")
        );
    }

    #[test]
    fn docker_default_cross_check() {
        let docker = facts(0xa804_25fb, 2);
        let allowed_mount = classify(find("mount"), RawOutcome::Failed(libc::EFAULT), &docker);
        assert!(contradicts_docker_default(
            find("mount"),
            &allowed_mount,
            &docker
        ));
        let blocked_ptrace = classify(find("ptrace"), RawOutcome::Failed(libc::EPERM), &docker);
        assert!(contradicts_docker_default(
            find("ptrace"),
            &blocked_ptrace,
            &docker
        ));
        let sys_admin = facts(0xa804_25fb | 1 << 21, 2);
        let allowed_mount = classify(find("mount"), RawOutcome::Failed(libc::EFAULT), &sys_admin);
        assert!(!contradicts_docker_default(
            find("mount"),
            &allowed_mount,
            &sys_admin
        ));
    }

    #[test]
    fn versions_and_errnos() {
        assert_eq!(parse_version("6.18.44-fc-v657"), Some((6, 18)));
        assert_eq!(parse_version("5.4.0-150-generic"), Some((5, 4)));
        assert_eq!(parse_version("garbage"), None);
        assert_eq!(errno_name(libc::EINVAL), "EINVAL");
        assert_eq!(errno_number("EBADF"), Some(libc::EBADF));
        assert_eq!(errno_name(999), "errno 999");
    }

    #[test]
    fn probe_names_are_unique() {
        let mut names: Vec<_> = PROBES.iter().map(|probe| probe.call.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), PROBES.len());
    }
}
