//! What a finding asks to change, as intent rather than text.
//!
//! One model, many syntaxes: a rule states *what* should change, and each fixer (Dockerfile, Compose,
//! Kubernetes, `docker run`) and `harden` decide how to write it in their syntax. So findings and the
//! hardened configuration can never disagree.

use crate::Capability;

/// A change that removes a finding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Remedy {
    /// Run as a non-root user (`USER`, `user:`, `runAsNonRoot`/`runAsUser`).
    SetNonRootUser,
    /// Remove `privileged`.
    RemovePrivileged,
    /// Drop every capability (`cap_drop: [ALL]`) and add back only what is needed.
    DropAllCapabilities,
    /// Remove one added capability.
    RemoveAddedCapability(Capability),
    /// Set `no-new-privileges` / `allowPrivilegeEscalation: false`.
    SetNoNewPrivileges,
    /// Make the root filesystem read-only, with tmpfs for the paths written.
    SetReadOnlyRoot,
    /// Restore the default confinement of one kind (or set a profile where none is set).
    RestoreConfinement(Confinement),
    /// Remove a mount (an engine socket, a sensitive host path).
    RemoveMount {
        /// The mount's target in the container.
        target: String,
    },
    /// Use the container's own namespace of this kind instead of the host's.
    UsePrivateNamespace(Namespace),
    /// Move a literal secret out of the configuration into a secret file or build secret.
    MoveToSecret {
        /// The variable or file name.
        name: String,
    },
    /// Remove an instruction or command (`setcap`, a sudoers line, `--security=insecure`).
    RemoveInstruction,
    /// Exclude files from the build context in its ignore file (`.dockerignore`), so that a
    /// `COPY .` no longer sends them; the file to edit is not the audited one.
    ExcludeFromBuildContext {
        /// The files, relative to the context (`.env`, `deploy/id_rsa`).
        files: Vec<String>,
        /// The ignore file that applies, or where `.dockerignore` belongs (`web/.dockerignore`).
        ignore_file: String,
    },
}

/// A kind of Linux namespace a container may share with the host.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Namespace {
    /// Process ids (`pid: host`, `hostPID`).
    Pid,
    /// Network (`network_mode: host`, `hostNetwork`).
    Network,
    /// System V IPC and POSIX message queues (`ipc: host`, `hostIPC`).
    Ipc,
    /// Host and domain name (`uts: host`).
    Uts,
    /// User ids (`userns_mode: host`, `hostUsers: true`).
    User,
    /// Control groups (`cgroup: host`).
    Cgroup,
}

/// A kind of confinement a container can have taken away.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Confinement {
    /// The seccomp filter: `seccomp=unconfined`, no profile, a profile that allows everything.
    Seccomp,
    /// The AppArmor profile.
    AppArmor,
    /// The SELinux label.
    SeLinux,
    /// The masked and read-only `/proc` paths (`procMount: Unmasked`, `systempaths=unconfined`).
    ProcPaths,
}
