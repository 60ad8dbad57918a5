//! The probe's report: a stable JSON contract.
//!
//! `leastpriv verify` reads it back from inside a container, CI pipelines read it with `jq`, so fields
//! are only ever added. [`SCHEMA_VERSION`] changes when a field changes meaning or goes away. Names are
//! snake_case, capabilities are `CAP_*` names, syscalls their Linux names, modes octal strings.

use serde::{Deserialize, Serialize};

/// Bumped when a field changes meaning or is removed (never for additions).
pub const SCHEMA_VERSION: u32 = 1;

/// Everything the probe saw, from the point of view of the process it ran as.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProbeReport {
    /// [`SCHEMA_VERSION`] of this document.
    pub schema_version: u32,
    /// The leastpriv version that probed.
    pub probe_version: String,
    /// How long the probe took, in microseconds.
    pub duration_us: u64,
    /// `/proc/sys/kernel/osrelease`.
    pub kernel: Option<String>,
    /// The container runtime the probe believes it runs in, and why.
    pub container: Finding,

    /// Real user id.
    pub uid: u32,
    /// Real group id.
    pub gid: u32,
    /// Effective user id (differs from `uid` only in a setuid program).
    pub euid: u32,
    /// Effective group id.
    pub egid: u32,
    /// Supplementary groups.
    pub groups: Vec<u32>,
    /// The name of `uid` in the container's `/etc/passwd`, when there is one.
    pub user_name: Option<String>,
    /// `uid` as the parent user namespace sees it; `null` when it is not mapped.
    pub host_uid: Option<u32>,
    /// `gid` as the parent user namespace sees it; `null` when it is not mapped.
    pub host_gid: Option<u32>,
    /// The user namespace the probe runs in.
    pub user_namespace: UserNamespace,

    /// The five capability sets.
    pub capabilities: Capabilities,
    /// `NoNewPrivs` of `/proc/self/status`: execve can never grant more privileges.
    pub no_new_privs: bool,
    /// Seccomp mode and the dangerous syscalls it really blocks.
    pub seccomp: Seccomp,
    /// The LSM label of the process (`docker-default (enforce)`, `system_u:system_r:container_t:s0`);
    /// `null` when no LSM labels processes.
    pub lsm: Option<String>,
    /// Which LSM the label comes from: `apparmor`, `selinux`, or another name.
    pub lsm_kind: Option<String>,

    /// Whether `/` is mounted read-only (statvfs).
    pub rootfs_read_only: bool,
    /// Whether the probe could create (and then removed) a file in `/`.
    pub rootfs_writable_by_process: bool,
    /// Mount points mounted read-write, pseudo filesystems (proc, sysfs, devpts, mqueue, cgroup) aside.
    pub writable_mounts: Vec<String>,
    /// Host files and directories bind-mounted into the container.
    pub host_bind_mounts: Vec<HostBindMount>,
    /// tmpfs mounts.
    pub tmpfs_mounts: Vec<TmpfsMount>,

    /// Container engine sockets found (paths), whether or not they answer.
    pub engine_sockets: Vec<String>,
    /// Escape paths.
    pub escape: Escape,

    /// Environment variable names that look like they hold secrets (never the values).
    pub secret_env_names: Vec<String>,
    /// Files under `/run/secrets` (and `/var/run/secrets`), with their modes.
    pub secret_files: Vec<SecretFile>,
}

/// A conclusion and the observations behind it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// What the probe concludes (`true`, or a name such as `docker`).
    pub detected: Option<String>,
    /// The observations, readable.
    pub signs: Vec<String>,
}

/// A yes/no escape sign with its evidence.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sign {
    /// The conclusion.
    pub likely: bool,
    /// The observations, readable; present even when `likely` is false.
    pub signs: Vec<String>,
}

/// The user namespace, from `/proc/self/{uid,gid}_map` and `setgroups`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserNamespace {
    /// Whether the process is in a user namespace other than the host's: any map other than the
    /// identity `0 0 4294967295`.
    pub private: bool,
    /// `uid_map` lines: `[inside, outside, count]`.
    pub uid_map: Vec<[u32; 3]>,
    /// `gid_map` lines.
    pub gid_map: Vec<[u32; 3]>,
    /// `/proc/self/setgroups` (`allow` or `deny`).
    pub setgroups: Option<String>,
}

/// The capability sets, each a list of `CAP_*` names in bit order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Capabilities {
    /// What the process can use now.
    pub effective: Vec<String>,
    /// What it can make effective.
    pub permitted: Vec<String>,
    /// What survives execve into a program with matching file capabilities.
    pub inheritable: Vec<String>,
    /// The limit for everything the process and its children can ever gain (setuid root, file caps).
    pub bounding: Vec<String>,
    /// What survives execve into any program.
    pub ambient: Vec<String>,
    /// Dangerous capabilities the process holds or can gain (effective, permitted, ambient, and
    /// bounding when it runs as root or `no_new_privs` is off).
    pub dangerous: Vec<String>,
    /// The raw masks as `/proc/self/status` prints them.
    pub masks: CapabilityMasks,
    /// The highest capability number this kernel knows (`/proc/sys/kernel/cap_last_cap`).
    pub last_cap: Option<u32>,
    /// Whether the bounding set is exactly Docker's default 14.
    pub docker_default: bool,
}

/// The five masks, 16 hex digits each.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CapabilityMasks {
    /// `CapEff`.
    pub effective: String,
    /// `CapPrm`.
    pub permitted: String,
    /// `CapInh`.
    pub inheritable: String,
    /// `CapBnd`.
    pub bounding: String,
    /// `CapAmb`.
    pub ambient: String,
}

/// Seccomp state, and what the syscall probes found.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seccomp {
    /// `disabled`, `strict` or `filter` (`Seccomp:` 0, 1, 2).
    pub mode: String,
    /// `Seccomp_filters:`, the number of filters stacked on the process (kernels ≥ 5.9).
    pub filters: Option<u32>,
    /// Dangerous syscalls the filter refuses: each probe proved the kernel would have answered
    /// otherwise, so the refusal is the filter's.
    pub blocked: Vec<String>,
    /// Dangerous syscalls that reached the kernel.
    pub allowed: Vec<String>,
    /// Syscalls the kernel refused by its own permission check before looking at the arguments, so the
    /// filter's verdict cannot be seen. Unusable now either way.
    pub denied: Vec<String>,
    /// Every probe, in order.
    pub syscalls: Vec<SyscallResult>,
    /// Syscalls whose observed status contradicts Docker's default profile for this bounding set
    /// (only computed in `filter` mode).
    pub differs_from_docker_default: Vec<String>,
}

/// The outcome of one syscall probe.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyscallResult {
    /// The syscall.
    pub name: String,
    /// The classification.
    pub status: SyscallStatus,
    /// The errno name, when it failed.
    pub errno: Option<String>,
    /// Why this classification, when it is not plain.
    pub note: Option<String>,
}

/// How a probed syscall was answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SyscallStatus {
    /// The kernel ran it (and rejected the harmless arguments, or did nothing).
    Allowed,
    /// The seccomp filter refused it (EPERM, ENOSYS or a kill), where the kernel would have answered
    /// otherwise.
    Blocked,
    /// The kernel's own permission check refused it first; the filter's verdict is unknown.
    Denied,
    /// The kernel does not implement it (ENOSYS with no seccomp filter).
    Unimplemented,
}

impl SyscallStatus {
    /// The name used in the JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Allowed => "allowed",
            Self::Blocked => "blocked",
            Self::Denied => "denied",
            Self::Unimplemented => "unimplemented",
        }
    }
}

/// A host path bind-mounted into the container.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostBindMount {
    /// Where it is mounted in the container.
    pub target: String,
    /// The mounted path inside its host filesystem (the host path when that filesystem is the host's
    /// `/`), from the `root` field of mountinfo.
    pub host_path: String,
    /// The host filesystem's device or source.
    pub source: String,
    /// Its filesystem type.
    pub fstype: String,
    /// Whether it is mounted read-only.
    pub read_only: bool,
    /// Whether setuid bits on it are ignored.
    pub nosuid: bool,
}

/// A tmpfs mount.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TmpfsMount {
    /// Where it is mounted.
    pub target: String,
    /// Whether it is mounted read-only.
    pub read_only: bool,
    /// Its options that matter: `nosuid`, `nodev`, `noexec`, `size=`, `mode=`.
    pub options: Vec<String>,
}

/// Escape paths.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Escape {
    /// Signs of `--privileged` that hold on every kernel (not a fixed capability mask).
    pub privileged: Sign,
    /// Signs that the container shares the host's PID namespace.
    pub host_pid_namespace: Sign,
    /// Signs that the container shares the host's network namespace.
    pub host_network_namespace: Sign,
    /// Signs that the container shares the host's IPC namespace (shared memory, message queues).
    #[serde(default)]
    pub host_ipc_namespace: Sign,
    /// Signs that the container shares the host's UTS namespace (hostname).
    #[serde(default)]
    pub host_uts_namespace: Sign,
    /// Signs that the container shares the host's cgroup namespace.
    #[serde(default)]
    pub host_cgroup_namespace: Sign,
    /// Engine sockets found, and whether they answer.
    pub engine_sockets: Vec<EngineSocket>,
    /// Kernel control files this process could open for writing (it never writes):
    /// `/proc/sys/kernel/core_pattern`, `/proc/sysrq-trigger`, `/sys/kernel/uevent_helper` …
    pub writable_kernel_files: Vec<String>,
    /// Whether `/proc/sys` is writable by this process.
    pub proc_sys_writable: bool,
    /// Whether `/proc/sysrq-trigger` is writable by this process.
    pub sysrq_trigger_writable: bool,
    /// Whether `/sys` is mounted read-write.
    pub sysfs_writable: bool,
    /// cgroup facts that matter for the `release_agent` escape.
    pub cgroup: Cgroup,
    /// Device nodes beyond the default set (null, zero, full, random, urandom, tty, console, ptmx,
    /// pts).
    pub extra_devices: Vec<DeviceNode>,
    /// Mount points where a host's root filesystem appears to be mounted.
    pub host_root_mounts: Vec<String>,
}

/// An engine socket.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EngineSocket {
    /// Its path.
    pub path: String,
    /// `docker`, `containerd`, `cri-o`, `podman`, `buildkit` or `unknown`.
    pub kind: String,
    /// Whether this process can connect to it.
    pub connectable: bool,
    /// Whether it answered an HTTP `GET /_ping` (Docker and Podman API sockets).
    pub answers: bool,
    /// The API version it announced.
    pub api_version: Option<String>,
}

/// cgroup facts.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cgroup {
    /// 1 or 2, when known.
    pub version: Option<u8>,
    /// Whether a cgroup filesystem is mounted read-write.
    pub writable: bool,
    /// `release_agent` files this process could open for writing.
    pub release_agent_writable: Vec<String>,
    /// Whether the process could mount a fresh cgroup v1 hierarchy and set its `release_agent`:
    /// `CAP_SYS_ADMIN` effective, mount not blocked, and cgroup v1 in `/proc/filesystems`.
    pub release_agent_escape: bool,
}

/// A device node.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceNode {
    /// Its path.
    pub path: String,
    /// `char` or `block`.
    pub kind: String,
    /// Device major number.
    pub major: u32,
    /// Device minor number.
    pub minor: u32,
}

/// A file under `/run/secrets`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretFile {
    /// Its path.
    pub path: String,
    /// Its permission bits, octal (`0400`).
    pub mode: String,
    /// Owner.
    pub uid: u32,
    /// Group.
    pub gid: u32,
    /// Whether this process can read it.
    pub readable: bool,
}
