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
    /// Restore the default seccomp, AppArmor or SELinux confinement.
    RestoreConfinement,
    /// Remove a mount (an engine socket, a sensitive host path).
    RemoveMount {
        /// The mount's target in the container.
        target: String,
    },
    /// Use the container's own namespace instead of the host's.
    UsePrivateNamespace,
    /// Move a literal secret out of the configuration into a secret file or build secret.
    MoveToSecret {
        /// The variable or file name.
        name: String,
    },
    /// Remove an instruction or command (`setcap`, a sudoers line, `--security=insecure`).
    RemoveInstruction,
}
