//! What a workload was seen to need: the profile `leastpriv profile` writes and `leastpriv harden
//! --profile` reads.
//!
//! The JSON form of [`WorkloadProfile`] is a stable contract (documented in docs/profile.md): fields are
//! only ever added, never renamed or removed, and readers ignore fields they do not know, so a profile
//! written by a newer leastpriv still hardens with an older one.

use serde::{Deserialize, Serialize};

/// The version of the profile format this build writes.
pub const PROFILE_SCHEMA: u32 = 1;

/// The least privilege one workload was seen to need during one or more recorded runs.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkloadProfile {
    /// The format version ([`PROFILE_SCHEMA`]).
    pub schema: u32,
    /// Every syscall the workload made, by name for [`ProfileRun::arch`], sorted and unique. Includes
    /// the syscalls the container runtime itself makes after it loads the seccomp filter.
    pub syscalls: Vec<String>,
    /// The capabilities the workload needed (`CAP_NET_BIND_SERVICE`), in the order of their numbers:
    /// granted to it in the kernel's audited checks (observed by the eBPF recorder), or found by
    /// trial runs without them (see docs/profile.md). Empty with `capabilities` in
    /// [`ProfileRun::not_observed`] means unknown.
    pub capabilities: Vec<String>,
    /// Absolute paths the workload wrote or created on the container's root filesystem (not under a
    /// volume or an existing tmpfs), sorted and unique: what needs a tmpfs or a volume under a
    /// read-only root.
    pub written_paths: Vec<String>,
    /// The ports the workload bound, sorted and unique.
    pub ports: Vec<ProfilePort>,
    /// The Docker seccomp profile written beside this one (`--seccomp FILE`), as a path relative to
    /// this profile's directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seccomp_profile: Option<String>,
    /// How the profile was recorded.
    pub run: ProfileRun,
}

/// A port a workload bound.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ProfilePort {
    /// The port number.
    pub port: u16,
    /// `tcp` or `udp`.
    pub protocol: String,
}

/// The facts of the recorded run(s).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileRun {
    /// The command that ran the workload, as given (`docker run …`, or the local command).
    pub command: Vec<String>,
    /// The image, for a container workload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// The Compose service, for `--compose`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// Wall time of the recording, in milliseconds (summed over merged runs).
    pub duration_ms: u64,
    /// The syscall table the names come from: `x86_64` or `aarch64`.
    pub arch: String,
    /// The recorder that observed the run: `ebpf`, `seccomp-notify` or `ptrace`.
    pub recorder: String,
    /// How many recorded runs this profile unites (1 unless `--merge`d).
    pub runs: u32,
    /// What the recorder could not observe (`capabilities`, `written_paths`, `ports`): an empty list
    /// in the profile then means "unknown", not "needs none". The seccomp-notify fallback sees only
    /// syscalls. Added in schema 1 without a version change (readers ignore unknown fields); absent
    /// when the recorder saw everything.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_observed: Vec<String>,
}
