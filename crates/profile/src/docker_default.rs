//! What Docker's default seccomp profile allows, as data, for `--compare`.
//!
//! Source: moby/profiles `seccomp/default.json` (commit 02e898b, the module moby vendors; see
//! shared/runtime-reference.md §1.4). Its first rule allows [`UNCONDITIONAL`] outright; the rules after
//! it allow more by architecture, by kernel version, by argument or only when the container holds a
//! capability outside Docker's default set. [`allowed`] expands them for a container with Docker's
//! default capabilities on a current kernel, which is what a plain `docker run` gets.

use crate::syscalls::Arch;

/// Rule 0 of default.json: allowed on every architecture, unconditionally.
const UNCONDITIONAL: &str = "accept accept4 access adjtimex alarm bind brk cachestat capget capset \
chdir chmod chown chown32 clock_adjtime clock_adjtime64 clock_getres clock_getres_time64 \
clock_gettime clock_gettime64 clock_nanosleep clock_nanosleep_time64 close close_range connect \
copy_file_range creat dup dup2 dup3 epoll_create epoll_create1 epoll_ctl epoll_ctl_old epoll_pwait \
epoll_pwait2 epoll_wait epoll_wait_old eventfd eventfd2 execve execveat exit exit_group faccessat \
faccessat2 fadvise64 fadvise64_64 fallocate fanotify_mark fchdir fchmod fchmodat fchmodat2 fchown \
fchown32 fchownat fcntl fcntl64 fdatasync fgetxattr flistxattr flock fork fremovexattr fsetxattr \
fstat fstat64 fstatat64 fstatfs fstatfs64 fsync ftruncate ftruncate64 futex futex_requeue \
futex_time64 futex_wait futex_waitv futex_wake futimesat getcpu getcwd getdents getdents64 getegid \
getegid32 geteuid geteuid32 getgid getgid32 getgroups getgroups32 getitimer getpeername getpgid \
getpgrp getpid getppid getpriority getrandom getresgid getresgid32 getresuid getresuid32 getrlimit \
get_robust_list getrusage getsid getsockname getsockopt get_thread_area gettid gettimeofday getuid \
getuid32 getxattr getxattrat inotify_add_watch inotify_init inotify_init1 inotify_rm_watch \
io_cancel ioctl io_destroy io_getevents io_pgetevents io_pgetevents_time64 ioprio_get ioprio_set \
io_setup io_submit ipc kill landlock_add_rule landlock_create_ruleset landlock_restrict_self lchown \
lchown32 lgetxattr link linkat listen listmount listxattr listxattrat llistxattr _llseek \
lremovexattr lseek lsetxattr lstat lstat64 madvise map_shadow_stack membarrier memfd_create \
memfd_secret mincore mkdir mkdirat mknod mknodat mlock mlock2 mlockall mmap mmap2 mprotect \
mq_getsetattr mq_notify mq_open mq_timedreceive mq_timedreceive_time64 mq_timedsend \
mq_timedsend_time64 mq_unlink mremap mseal msgctl msgget msgrcv msgsnd msync munlock munlockall \
munmap name_to_handle_at nanosleep newfstatat _newselect open openat openat2 pause pidfd_open \
pidfd_send_signal pipe pipe2 pkey_alloc pkey_free pkey_mprotect poll ppoll ppoll_time64 prctl \
pread64 preadv preadv2 prlimit64 process_mrelease pselect6 pselect6_time64 pwrite64 pwritev \
pwritev2 read readahead readlink readlinkat readv recv recvfrom recvmmsg recvmmsg_time64 recvmsg \
remap_file_pages removexattr removexattrat rename renameat renameat2 restart_syscall riscv_hwprobe \
rmdir rseq rt_sigaction rt_sigpending rt_sigprocmask rt_sigqueueinfo rt_sigreturn rt_sigsuspend \
rt_sigtimedwait rt_sigtimedwait_time64 rt_tgsigqueueinfo sched_getaffinity sched_getattr \
sched_getparam sched_get_priority_max sched_get_priority_min sched_getscheduler \
sched_rr_get_interval sched_rr_get_interval_time64 sched_setaffinity sched_setattr sched_setparam \
sched_setscheduler sched_yield seccomp select semctl semget semop semtimedop semtimedop_time64 send \
sendfile sendfile64 sendmmsg sendmsg sendto setfsgid setfsgid32 setfsuid setfsuid32 setgid \
setgid32 setgroups setgroups32 setitimer setpgid setpriority setregid setregid32 setresgid \
setresgid32 setresuid setresuid32 setreuid setreuid32 setrlimit set_robust_list setsid setsockopt \
set_thread_area set_tid_address setuid setuid32 setxattr setxattrat shmat shmctl shmdt shmget \
shutdown sigaltstack signalfd signalfd4 sigprocmask sigreturn socketcall socketpair splice stat \
stat64 statfs statfs64 statmount statx symlink symlinkat sync sync_file_range syncfs sysinfo tee \
tgkill time timer_create timer_delete timer_getoverrun timer_gettime timer_gettime64 timer_settime \
timer_settime64 timerfd_create timerfd_gettime timerfd_gettime64 timerfd_settime \
timerfd_settime64 times tkill truncate truncate64 ugetrlimit umask uname unlink unlinkat uretprobe \
utime utimensat utimensat_time64 utimes vfork vmsplice wait4 waitid waitpid write writev";

/// Allowed on kernels >= 4.8 (every kernel leastpriv runs on).
const MIN_KERNEL_4_8: [&str; 3] = ["process_vm_readv", "process_vm_writev", "ptrace"];

/// Allowed with an argument filter: `socket` (families other than AF_ALG and AF_VSOCK),
/// `personality` (five personas), `clone` (no namespace flags unless CAP_SYS_ADMIN).
const WITH_ARGUMENT_FILTER: [&str; 3] = ["socket", "personality", "clone"];

/// Allowed on x86_64 (`amd64`, `x32`; `modify_ldt` also on `x86`).
const X86_64_ONLY: [&str; 2] = ["arch_prctl", "modify_ldt"];

/// Allowed on arm and arm64.
const AARCH64_ONLY: [&str; 6] = [
    "arm_fadvise64_64",
    "arm_sync_file_range",
    "sync_file_range2",
    "breakpoint",
    "cacheflush",
    "set_tls",
];

/// Allowed only with a capability; of these, Docker's default set holds CAP_SYS_CHROOT.
const WITH_DEFAULT_CAPABILITY: [&str; 1] = ["chroot"];

/// Whether Docker's default profile lets a container with Docker's default capabilities make this
/// syscall on `arch` (with an argument filter for [`WITH_ARGUMENT_FILTER`]). `clone3` is answered
/// ENOSYS, so it counts as blocked.
pub fn allows(arch: Arch, name: &str) -> bool {
    UNCONDITIONAL
        .split_ascii_whitespace()
        .any(|allowed| allowed == name)
        || MIN_KERNEL_4_8.contains(&name)
        || WITH_ARGUMENT_FILTER.contains(&name)
        || WITH_DEFAULT_CAPABILITY.contains(&name)
        || match arch {
            Arch::X86_64 => X86_64_ONLY.contains(&name),
            Arch::Aarch64 => AARCH64_ONLY.contains(&name),
        }
}

/// Whether Docker's default profile filters this syscall's arguments rather than allowing it whole.
pub fn filters_arguments(name: &str) -> bool {
    WITH_ARGUMENT_FILTER.contains(&name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_zero_has_the_documented_size() {
        // runtime-reference §1.4: "rule 0 allows 361 names unconditionally".
        assert_eq!(UNCONDITIONAL.split_ascii_whitespace().count(), 361);
    }

    #[test]
    fn expands_the_conditional_rules_for_the_default_capabilities() {
        for allowed in ["read", "ptrace", "socket", "chroot", "arch_prctl", "clone"] {
            assert!(allows(Arch::X86_64, allowed), "{allowed}");
        }
        for blocked in [
            "mount",
            "unshare",
            "bpf",
            "clone3",
            "keyctl",
            "io_uring_setup",
        ] {
            assert!(!allows(Arch::X86_64, blocked), "{blocked}");
        }
        assert!(!allows(Arch::Aarch64, "arch_prctl"));
        assert!(allows(Arch::Aarch64, "set_tls"));
    }
}
