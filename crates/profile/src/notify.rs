//! The fallback recorder for a local command: seccomp user notification.
//!
//! Used where the eBPF recorder cannot load (not root, no BPF, no BTF) or with `--recorder
//! seccomp-notify`. The child installs a filter that turns every syscall into a notification
//! (`SECCOMP_FILTER_FLAG_NEW_LISTENER`) and hands the listener to leastpriv over a unix socket
//! (SCM_RIGHTS; the filter lets exactly that `sendmsg` through). leastpriv notes the syscall's number
//! and lets it run on (`SECCOMP_USER_NOTIF_FLAG_CONTINUE`, safe for learning though not for
//! enforcing), with `SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP` so each round trip stays on one CPU.
//!
//! Costs and limits, which the profile states (`run.recorder`, `run.not_observed`):
//! - one round trip per syscall, a few microseconds: measured in BENCHMARKS.md (several times the
//!   untraced time, well below strace). The multi-pass trick cuts it: `--baseline` an earlier profile
//!   and its syscalls run without a round trip (a filter cannot be relaxed once installed, so a run
//!   can only skip what was known before it started);
//! - it sees syscalls only: not written paths or ports (capabilities are learned by trials);
//! - without root it sets no-new-privileges (the kernel requires it for an unprivileged filter), so
//!   setuid programs in the workload do not gain privileges while recorded;
//! - a workload that uses seccomp notification itself cannot install a second listener (EBUSY).

use std::collections::BTreeSet;
use std::ffi::CString;
use std::os::fd::AsRawFd;

use crate::sys::{self, ChildSetup, Listener, Notification};
use crate::{filter, local, Arch, Observation, Options, ProfileError};

/// What this recorder cannot see, for `run.not_observed` (capabilities are learned by trials, which
/// need no recorder).
pub const NOT_OBSERVED: [&str; 2] = ["written_paths", "ports"];

/// Records `program` with the notification recorder; returns what it saw and the exit code.
pub(crate) fn record(
    program: &CString,
    args: &[CString],
    options: &Options,
) -> Result<(Observation, Option<i32>), ProfileError> {
    let arch = Arch::native().unwrap_or(Arch::X86_64);
    let known: Vec<u32> = (0..1024)
        .filter(|&nr| {
            arch.syscall_name(nr)
                .is_some_and(|name| options.baseline.iter().any(|known| known == name))
        })
        .collect();
    let (ours, theirs) =
        sys::socket_pair().map_err(|error| ProfileError::Notify(format!("socketpair: {error}")))?;
    let notify_filter = filter::notify_unseen(theirs.as_raw_fd(), &known);
    let mut child = sys::spawn(
        program,
        args,
        ChildSetup::Notify {
            filter: &notify_filter,
            socket: theirs.as_raw_fd(),
            no_new_privs: sys::euid() != 0,
        },
    )
    .map_err(|error| ProfileError::Workload(format!("cannot start the command: {error}")))?;
    drop(theirs);
    let listener = match sys::receive_fd(&ours) {
        Ok(fd) => Listener::new(fd),
        Err(error) => {
            // The child failed before it could hand the listener over.
            sys::kill(child.pid, libc::SIGKILL);
            let _ = child.exec_result();
            let _ = sys::wait_child(child.pid, true);
            return Err(ProfileError::Notify(format!(
                "the workload could not install the notification filter: {error}"
            )));
        }
    };
    drop(ours);
    child.release();

    let mut observation = Observation::default();
    let native = sys::native_audit_arch();
    let mut seen = BTreeSet::new();
    for nr in &known {
        seen.insert(*nr);
    }
    let supervisor = std::thread::scope(|scope| {
        // The notifications are served on this thread; the workload is waited for, exercised and
        // stopped on another, so that neither blocks the other.
        let waiter = scope.spawn(|| local::supervise(child.pid, options, None));
        loop {
            match listener.next(100) {
                Notification::Syscall { nr, arch } => {
                    if arch == native {
                        if let Ok(nr) = u32::try_from(nr) {
                            seen.insert(nr);
                        }
                    }
                }
                Notification::Gone => break,
                Notification::Idle => {
                    if waiter.is_finished() {
                        break;
                    }
                }
            }
        }
        waiter.join()
    });
    let exit_code = supervisor
        .map_err(|_| ProfileError::Workload("the supervising thread panicked".into()))??;
    if let Err(error) = child.exec_result() {
        return Err(ProfileError::Workload(format!(
            "cannot run {}: {error}",
            program.to_string_lossy()
        )));
    }
    observation.syscalls = seen;
    Ok((observation, exit_code))
}
