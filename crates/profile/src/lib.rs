//! `leastpriv profile`: run a workload, watch it, and write the least privilege it needs — the
//! syscalls, the capabilities the kernel granted it, the paths it wrote, the ports it bound — as a
//! [`WorkloadProfile`] and a seccomp profile in Docker's format.
//!
//! Three ways to run the workload, two recorders:
//! - [`local`]: a local command and every thread and child it starts, across `execve`;
//! - [`container`]: the user's own `docker run …` line on the real engine, or ([`compose`]) one
//!   Compose service through the user's Compose tool, exercised by a host command or for a duration,
//!   then stopped and removed (a [`watchdog`] removes it even if leastpriv is killed);
//! - [`bpf`], the default wherever it loads (root, kernel BTF): two small programs, on the syscall
//!   and capability-check tracepoints, count in kernel maps, read once at the end, so the workload
//!   runs at its own speed;
//! - [`notify`], the fallback for a local command when eBPF cannot load (not root, no BPF): a
//!   seccomp user-notification supervisor, several times slower, blind to capability checks, written
//!   paths and ports — the profile says so in `run.not_observed`.
//!
//! A recording starts when the workload's first task runs under a seccomp filter: the workload is
//! started under an allow-all filter, so the runtime's own set-up (mounts, pivot_root …) is left
//! out and everything after the runtime loads the filter — runc's path to `execve` — is in, which is
//! what the workload needs to start under the generated profile.
//!
//! [`seccomp`] writes Docker's format, [`merge`] unites runs and `--compare` sets a profile against
//! Docker's default ([`docker_default`]); [`syscalls`] names numbers for x86_64 and aarch64.

pub mod bpf;
pub mod capabilities;
pub mod compose;
pub mod container;
pub mod docker_default;
mod filter;
pub mod local;
pub mod merge;
pub mod notify;
pub mod seccomp;
mod sys;
pub mod syscalls;
mod watchdog;

use std::collections::BTreeSet;
use std::time::Duration;

use leastpriv_model::{ProfilePort, ProfileRun, WorkloadProfile, ALL_CAPABILITIES, PROFILE_SCHEMA};

pub use leastpriv_verify::compose::ComposeTarget;
pub use syscalls::Arch;

/// Why a profile could not be recorded.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    /// The command line is wrong.
    #[error("{0}")]
    Usage(String),
    /// The eBPF recorder could not load.
    #[error("the eBPF recorder cannot run: {0}")]
    Bpf(String),
    /// The seccomp-notify recorder could not run.
    #[error("the seccomp-notify recorder cannot run: {0}")]
    Notify(String),
    /// The engine or Compose refused.
    #[error("{0}")]
    Engine(String),
    /// The workload did not run.
    #[error("{0}")]
    Workload(String),
    /// The exercise failed.
    #[error("the exercise `{command}` failed (exit {code}); the profile of a workload that was not exercised would be incomplete")]
    Exercise {
        /// The command.
        command: String,
        /// Its exit code.
        code: String,
    },
}

impl From<leastpriv_verify::VerifyError> for ProfileError {
    fn from(error: leastpriv_verify::VerifyError) -> Self {
        match error {
            leastpriv_verify::VerifyError::Usage(message) => Self::Usage(message),
            other => Self::Engine(other.to_string()),
        }
    }
}

/// Which recorder to use.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RecorderChoice {
    /// eBPF where it loads, else the seccomp-notify fallback (local commands only).
    #[default]
    Auto,
    /// eBPF or an error.
    Ebpf,
    /// The seccomp user-notification recorder.
    SeccompNotify,
}

/// The recorders, as `run.recorder` names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Recorder {
    /// The eBPF recorder.
    Ebpf,
    /// The seccomp user-notification recorder.
    SeccompNotify,
}

impl Recorder {
    /// `ebpf` or `seccomp-notify`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Ebpf => "ebpf",
            Self::SeccompNotify => "seccomp-notify",
        }
    }

    /// What to expect of its overhead, for the output.
    pub fn overhead(self) -> &'static str {
        match self {
            Self::Ebpf => {
                "in-kernel counting, no per-event traffic: the syscall tracepoint's own cost \
                 (BENCHMARKS.md)"
            }
            Self::SeccompNotify => {
                "one round trip to leastpriv per syscall: about 5x untraced on syscall-bound work, \
                 a quarter of strace's cost (BENCHMARKS.md)"
            }
        }
    }
}

/// How to learn the capabilities a workload needs ([`capabilities`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CapabilityMode {
    /// Where the kernel checks them (the eBPF recorder); by trials where the recorder cannot see
    /// the checks (the seccomp-notify fallback).
    #[default]
    Observe,
    /// Observed, then confirmed by trials: exactly the observed set works, each one fewer fails.
    Confirm,
    /// By trials only: rerun without capabilities.
    Trial,
    /// Not learned (the profile says so in `run.not_observed`).
    Skip,
}

/// How to exercise and end a workload.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// The recorder.
    pub recorder: RecorderChoice,
    /// A host command run (with `sh -c`) once the workload is up.
    pub exercise: Option<String>,
    /// How many times to run the exercise.
    pub repeat: u32,
    /// Record for this long, then stop the workload (after the exercise, if any).
    pub duration: Option<Duration>,
    /// Syscalls already known (a `--baseline` profile): the fallback recorder lets them through
    /// without a round trip, and they are part of the result.
    pub baseline: Vec<String>,
    /// How to learn the needed capabilities ([`capabilities`]).
    pub capabilities: CapabilityMode,
}

/// What a recorder saw, before names are given.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Observation {
    /// The mount namespaces the workload ran in.
    pub namespaces: BTreeSet<u32>,
    /// Syscall numbers of the native architecture.
    pub syscalls: BTreeSet<u32>,
    /// Syscall numbers of 32-bit tasks (the compat table: i386 on x86_64, arm on aarch64).
    pub compat_syscalls: BTreeSet<u32>,
    /// Capability bits found needed (observed, or by [`capabilities`] trials).
    pub capabilities: u64,
    /// The capability checks the recorder saw (`None`: it cannot see them).
    pub checks: Option<capabilities::CapabilityChecks>,
    /// Paths opened for writing or created as directories, absolute (relative ones resolved against
    /// the working directory at the time), not yet normalized.
    pub written: BTreeSet<String>,
    /// (port, socket type: 1 stream, 2 datagram).
    pub ports: BTreeSet<(u16, u16)>,
}

/// A recorded profile and what to tell the user about it.
#[derive(Clone, Debug)]
pub struct Recording {
    /// The profile.
    pub profile: WorkloadProfile,
    /// The workload's own exit code (a local command), for the summary.
    pub exit_code: Option<i32>,
    /// Remarks for the output (what the recorder could not see …).
    pub notes: Vec<String>,
}

impl Observation {
    /// Names everything for `arch` and fills the profile; `run` carries the facts of the run.
    pub(crate) fn into_profile(self, arch: Arch, run: ProfileRun) -> WorkloadProfile {
        let syscalls: BTreeSet<String> = self
            .syscalls
            .iter()
            .map(|&nr| {
                arch.syscall_name(nr)
                    .map_or_else(|| format!("syscall_{nr}"), str::to_owned)
            })
            .chain(self.compat_syscalls.iter().map(|&nr| {
                arch.compat_syscall_name(nr)
                    .map_or_else(|| format!("compat_syscall_{nr}"), str::to_owned)
            }))
            .collect();
        let capabilities = ALL_CAPABILITIES
            .iter()
            .enumerate()
            .filter(|(bit, _)| self.capabilities & (1 << bit) != 0)
            .map(|(_, name)| format!("CAP_{name}"))
            .collect();
        let ports: BTreeSet<ProfilePort> = self
            .ports
            .iter()
            .filter_map(|&(port, socket_type)| {
                let protocol = match socket_type {
                    1 => "tcp",
                    2 => "udp",
                    _ => return None,
                };
                Some(ProfilePort {
                    port,
                    protocol: protocol.to_owned(),
                })
            })
            .collect();
        WorkloadProfile {
            schema: PROFILE_SCHEMA,
            syscalls: syscalls.into_iter().collect(),
            capabilities,
            written_paths: Vec::new(),
            ports: ports.into_iter().collect(),
            seccomp_profile: None,
            run,
        }
    }
}

/// The paths to report: each written path, without the directories that only contain another
/// (`/var` when `/var/cache/app/x` was written), sorted and unique.
pub(crate) fn leaf_paths(paths: impl IntoIterator<Item = String>) -> Vec<String> {
    let all: BTreeSet<String> = paths
        .into_iter()
        .filter(|path| path.starts_with('/') && path != "/")
        .collect();
    all.iter()
        .filter(|path| {
            let prefix = format!("{path}/");
            !all.range(prefix.clone()..)
                .next()
                .is_some_and(|next| next.starts_with(&prefix))
        })
        .cloned()
        .collect()
}

/// A name no other run of leastpriv uses: `<prefix>-<pid>-<nanos>`.
pub(crate) fn unique_name(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.subsec_nanos());
    format!("{prefix}-{}-{nanos}", std::process::id())
}

/// Runs the exercise `repeat` times (at least once) with `sh -c`; stops early on a signal.
pub(crate) fn run_exercise(command: &str, repeat: u32) -> Result<(), ProfileError> {
    for _ in 0..repeat.max(1) {
        let status = std::process::Command::new("sh")
            .args(["-c", command])
            .stdin(std::process::Stdio::null())
            .status()
            .map_err(|error| {
                ProfileError::Usage(format!("cannot run `sh -c {command}`: {error}"))
            })?;
        if !status.success() {
            return Err(ProfileError::Exercise {
                command: command.to_owned(),
                code: status
                    .code()
                    .map_or_else(|| "by a signal".to_owned(), |code| code.to_string()),
            });
        }
    }
    Ok(())
}

/// Sleeps up to `duration`, waking early when a signal arrives or `done` says so.
pub(crate) fn sleep_until(duration: Duration, mut done: impl FnMut() -> bool) -> Option<i32> {
    let deadline = std::time::Instant::now() + duration;
    while std::time::Instant::now() < deadline {
        if let Some(signal) = sys::take_signal() {
            return Some(signal);
        }
        if done() {
            return None;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_deepest_paths() {
        let paths = [
            "/var",
            "/var/cache",
            "/var/cache/app/x",
            "/tmp",
            "/etc/app.conf",
            "/etc",
        ]
        .map(str::to_owned);
        assert_eq!(
            leaf_paths(paths),
            ["/etc/app.conf", "/tmp", "/var/cache/app/x"]
        );
        assert_eq!(
            leaf_paths(["/a-b".to_owned(), "/a".to_owned()]),
            ["/a", "/a-b"]
        );
    }

    #[test]
    fn names_what_was_observed() {
        let observation = Observation {
            syscalls: [0, 59, 999].into(),
            compat_syscalls: [199, 1].into(),
            capabilities: 1 << 10,
            checks: None,
            ports: [(80, 1), (53, 2), (7, 3)].into(),
            ..Observation::default()
        };
        let profile = observation.into_profile(Arch::X86_64, ProfileRun::default());
        // The compat table's names join the native ones (i386: 1 exit, 199 getuid32).
        assert_eq!(
            profile.syscalls,
            ["execve", "exit", "getuid32", "read", "syscall_999"]
        );
        assert_eq!(profile.capabilities, ["CAP_NET_BIND_SERVICE"]);
        assert_eq!(profile.ports.len(), 2);
    }
}
