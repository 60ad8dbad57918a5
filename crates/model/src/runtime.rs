//! How a container is run: the settings Compose, Kubernetes, `docker run` and `docker inspect` give.

use leastpriv_source::{Span, Spanned};

use crate::{Capability, EnvVar, User};

/// The runtime configuration of one container. Every field is `None` or empty when the source does not
/// set it; what the default then is (root, Docker's capability set, the default seccomp profile) is for
/// rules to say.
#[derive(Clone, Debug, Default)]
pub struct Runtime {
    /// The image reference (`image:`, the `docker run` image argument).
    pub image: Option<Spanned<String>>,
    /// `user:`, `-u`, `runAsUser`/`runAsGroup`, `Config.User`.
    pub user: Option<Spanned<User>>,
    /// Kubernetes `runAsNonRoot`.
    pub run_as_non_root: Option<Spanned<bool>>,
    /// `privileged`.
    pub privileged: Option<Spanned<bool>>,
    /// `cap_add`, `--cap-add`, `capabilities.add`.
    pub cap_add: Vec<Spanned<Capability>>,
    /// `cap_drop`, `--cap-drop`, `capabilities.drop`.
    pub cap_drop: Vec<Spanned<Capability>>,
    /// Where the source's capability settings would go (the service key, `securityContext`), for
    /// "missing" findings and fixes.
    pub capabilities_anchor: Option<Span>,
    /// `no-new-privileges` (Docker) or the inverse of `allowPrivilegeEscalation` (Kubernetes).
    pub no_new_privileges: Option<Spanned<bool>>,
    /// The seccomp profile.
    pub seccomp: Option<Spanned<SeccompProfile>>,
    /// What the profile file named by [`SeccompProfile::File`] holds, when the front-end could read it
    /// (rules never open files): Compose and `docker run` read it relative to the project, `docker
    /// inspect` holds it inline.
    pub seccomp_facts: Option<SeccompFacts>,
    /// The AppArmor profile.
    pub apparmor: Option<Spanned<LsmProfile>>,
    /// SELinux labelling options.
    pub selinux: Vec<Spanned<SelinuxLabel>>,
    /// `systempaths=unconfined` or Kubernetes `procMount: Unmasked`: `/proc` and `/sys` not masked.
    pub unmasked_paths: Option<Span>,
    /// `read_only`, `--read-only`, `readOnlyRootFilesystem`.
    pub read_only_root: Option<Spanned<bool>>,
    /// tmpfs mounts (`tmpfs:`, `--tmpfs`, `emptyDir: {medium: Memory}` is a volume, not a tmpfs here).
    pub tmpfs: Vec<Spanned<Tmpfs>>,
    /// Bind mounts, volumes and Kubernetes volumes mounted into the container.
    pub mounts: Vec<Spanned<Mount>>,
    /// Namespace sharing with the host or other containers.
    pub namespaces: Namespaces,
    /// Host devices.
    pub devices: Vec<Spanned<Device>>,
    /// `device_cgroup_rules`, `--device-cgroup-rule`.
    pub device_cgroup_rules: Vec<Spanned<String>>,
    /// Namespaced kernel parameters.
    pub sysctls: Vec<Spanned<Sysctl>>,
    /// Environment variables.
    pub environment: Vec<EnvVar>,
    /// Environment variables filled from a secret store (`secretKeyRef`, `envFrom: secretRef`): the
    /// secret reaches the process environment rather than a file. Each is the variable's name (the
    /// secret's name for `envFrom`).
    pub secret_env: Vec<Spanned<String>>,
    /// `env_file:`, `--env-file`, `envFrom`: files or objects whose contents are not in view.
    pub env_files: Vec<Spanned<String>>,
    /// Secret files mounted at run time (Compose `secrets:`, Kubernetes secret volumes).
    pub secrets: Vec<Spanned<SecretMount>>,
    /// Published ports.
    pub ports: Vec<Spanned<PortMapping>>,
    /// Supplementary groups: `--group-add`, `group_add:`, Kubernetes `supplementalGroups` and
    /// `fsGroup` (the kubelet adds `fsGroup` to the groups of every container of the pod).
    pub group_add: Vec<Spanned<String>>,
    /// Kubernetes `runAsGroup`, the primary group. Also folded into [`Runtime::user`]'s group when
    /// `runAsUser` is set; kept apart so that a `runAsGroup` without `runAsUser` (the image's user
    /// with this group) is not mistaken for a user override.
    pub run_as_group: Option<Spanned<String>>,
    /// Kubernetes `windowsOptions.hostProcess`: a Windows container that runs as a process on the
    /// host, in the host's network, with the host's privileges (what `privileged` is on Linux).
    pub host_process: Option<Spanned<bool>>,
    /// The entrypoint the source sets (`entrypoint:`, `--entrypoint`, Kubernetes `command`,
    /// `Config.Entrypoint`), one word per argument; `None` keeps the image's.
    pub entrypoint: Option<Vec<Spanned<String>>>,
    /// The command the source sets (`command:`, the words after the `docker run` image, Kubernetes
    /// `args`, `Config.Cmd`), one word per argument; empty keeps the image's.
    pub command: Vec<Spanned<String>>,
}

/// A seccomp profile setting.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SeccompProfile {
    /// The runtime's default profile, set explicitly (`RuntimeDefault`, `runtime/default`).
    RuntimeDefault,
    /// No filtering (`seccomp=unconfined`, `Unconfined`).
    Unconfined,
    /// A profile file (`seccomp=profile.json`, `Localhost` with `localhostProfile`).
    File(String),
}

/// The facts of a seccomp profile file (Docker/OCI JSON) that decide how much it allows.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SeccompFacts {
    /// `defaultAction` as written (`SCMP_ACT_ERRNO`, `SCMP_ACT_ALLOW` …).
    pub default_action: String,
    /// Syscalls some entry allows (`SCMP_ACT_ALLOW` or `SCMP_ACT_LOG`) with no argument filter and no
    /// capability condition.
    pub allowed: Vec<String>,
    /// Syscalls some entry refuses (any other action) with no argument filter and no capability
    /// condition.
    pub refused: Vec<String>,
}

impl SeccompFacts {
    /// Whether the default action lets a syscall run (`SCMP_ACT_ALLOW`, `SCMP_ACT_LOG`).
    pub fn default_allows(&self) -> bool {
        Self::is_allow_action(&self.default_action)
    }

    /// Whether a seccomp action lets the syscall run (`SCMP_ACT_ALLOW`, `SCMP_ACT_LOG`).
    pub fn is_allow_action(action: &str) -> bool {
        matches!(action.trim(), "SCMP_ACT_ALLOW" | "SCMP_ACT_LOG")
    }

    /// Whether the profile lets `syscall` run whatever its arguments: explicitly, or by a permissive
    /// default that no entry overrides.
    pub fn allows(&self, syscall: &str) -> bool {
        if self.allowed.iter().any(|name| name == syscall) {
            return true;
        }
        self.default_allows() && !self.refused.iter().any(|name| name == syscall)
    }
}

/// An AppArmor (or other LSM) profile setting.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LsmProfile {
    /// The runtime's default profile, set explicitly.
    RuntimeDefault,
    /// No confinement.
    Unconfined,
    /// A named profile (`apparmor=my-profile`, `localhost/my-profile`).
    Named(String),
}

/// One SELinux labelling option.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SelinuxLabel {
    /// `label:disable` / `label=disable`: no SELinux separation.
    Disable,
    /// `label=type:…` / `seLinuxOptions.type`.
    Type(String),
    /// `label=user:…` / `seLinuxOptions.user`.
    User(String),
    /// `label=role:…` / `seLinuxOptions.role`.
    Role(String),
    /// `label=level:…` / `seLinuxOptions.level`.
    Level(String),
}

/// A tmpfs mount.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tmpfs {
    /// The path in the container.
    pub target: String,
    /// Its mount options (`noexec`, `nosuid`, `size=64m`, `mode=1777`).
    pub options: Vec<String>,
}

/// What kind of thing is mounted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MountKind {
    /// A host path (`-v /host:/ctr`, `type: bind`, `hostPath`).
    Bind {
        /// The host path, as written (after interpolation); relative paths are relative to the
        /// project directory.
        source: String,
    },
    /// A named or anonymous volume.
    Volume {
        /// The volume name, if named.
        name: Option<String>,
    },
    /// A Kubernetes volume of another type (`emptyDir`, `configMap`, `secret`, `projected` …).
    Other {
        /// The volume type.
        kind: String,
    },
}

/// A mount into the container.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mount {
    /// What is mounted.
    pub kind: MountKind,
    /// The path in the container.
    pub target: String,
    /// Whether it is mounted read-only.
    pub read_only: bool,
    /// Bind propagation (`shared`, `rshared`, `slave` …), when set.
    pub propagation: Option<String>,
}

impl Mount {
    /// The host path of a bind mount.
    pub fn host_path(&self) -> Option<&str> {
        match &self.kind {
            MountKind::Bind { source } => Some(source),
            MountKind::Volume { .. } | MountKind::Other { .. } => None,
        }
    }
}

/// How one namespace is set up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NamespaceMode {
    /// Its own, private namespace (the default).
    Private,
    /// The host's namespace.
    Host,
    /// Another container's or service's (`container:db`, `service:db`).
    Shared(String),
}

/// The namespaces a container shares; `None` means the default (private for all but user and cgroup,
/// which follow the daemon's configuration).
#[derive(Clone, Debug, Default)]
pub struct Namespaces {
    /// `pid:`, `--pid`, `hostPID`.
    pub pid: Option<Spanned<NamespaceMode>>,
    /// `network_mode:`, `--network`, `hostNetwork`.
    pub network: Option<Spanned<NamespaceMode>>,
    /// `ipc:`, `--ipc`, `hostIPC`.
    pub ipc: Option<Spanned<NamespaceMode>>,
    /// `uts:`, `--uts`.
    pub uts: Option<Spanned<NamespaceMode>>,
    /// `userns_mode:`, `--userns`, `hostUsers`.
    pub user: Option<Spanned<NamespaceMode>>,
    /// `cgroupns:`, `--cgroupns`.
    pub cgroup: Option<Spanned<NamespaceMode>>,
}

/// A host device made available in the container.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Device {
    /// The host device path.
    pub host: String,
    /// The path in the container.
    pub container: String,
    /// cgroup permissions (`rwm`).
    pub permissions: String,
}

/// A namespaced kernel parameter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sysctl {
    /// `net.ipv4.ip_forward`.
    pub name: String,
    /// Its value.
    pub value: String,
}

/// A secret mounted as a file at run time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecretMount {
    /// The secret's name.
    pub name: String,
    /// Where it is mounted, when known (`/run/secrets/<name>` by default in Compose).
    pub target: Option<String>,
}

/// A transport protocol.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// TCP (the default).
    #[default]
    Tcp,
    /// UDP.
    Udp,
    /// SCTP.
    Sctp,
}

/// A published or container port.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortMapping {
    /// The host IP it binds to, when given.
    pub host_ip: Option<String>,
    /// The host port, when published (`hostPort`, `8080:80`).
    pub host_port: Option<u16>,
    /// The port in the container.
    pub container_port: Option<u16>,
    /// The protocol.
    pub protocol: Protocol,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seccomp_allowlist_and_denylist() {
        let allowlist = SeccompFacts {
            default_action: "SCMP_ACT_ERRNO".into(),
            allowed: vec!["read".into()],
            refused: Vec::new(),
        };
        assert!(allowlist.allows("read"));
        assert!(!allowlist.allows("mount"));
        let denylist = SeccompFacts {
            default_action: "SCMP_ACT_ALLOW".into(),
            allowed: Vec::new(),
            refused: vec!["mount".into()],
        };
        assert!(denylist.allows("unshare"));
        assert!(!denylist.allows("mount"));
    }
}
