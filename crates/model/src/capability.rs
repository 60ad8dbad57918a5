//! Linux capabilities, parsed once from any spelling.

use std::fmt;

/// A Linux capability (`capabilities(7)`), or `ALL`. Parsed from any case, with or without `CAP_`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Capability {
    /// `ALL`: every capability.
    All,
    /// A known capability, by its name without `CAP_` (`SYS_ADMIN`).
    Known(&'static str),
    /// A name the kernel does not define; kept so the finding can quote it.
    Unknown(String),
}

/// Every capability the kernel defines (Linux 6.x), in number order: `CAP_CHOWN` is 0.
pub const ALL_CAPABILITIES: [&str; 41] = [
    "CHOWN",
    "DAC_OVERRIDE",
    "DAC_READ_SEARCH",
    "FOWNER",
    "FSETID",
    "KILL",
    "SETGID",
    "SETUID",
    "SETPCAP",
    "LINUX_IMMUTABLE",
    "NET_BIND_SERVICE",
    "NET_BROADCAST",
    "NET_ADMIN",
    "NET_RAW",
    "IPC_LOCK",
    "IPC_OWNER",
    "SYS_MODULE",
    "SYS_RAWIO",
    "SYS_CHROOT",
    "SYS_PTRACE",
    "SYS_PACCT",
    "SYS_ADMIN",
    "SYS_BOOT",
    "SYS_NICE",
    "SYS_RESOURCE",
    "SYS_TIME",
    "SYS_TTY_CONFIG",
    "MKNOD",
    "LEASE",
    "AUDIT_WRITE",
    "AUDIT_CONTROL",
    "SETFCAP",
    "MAC_OVERRIDE",
    "MAC_ADMIN",
    "SYSLOG",
    "WAKE_ALARM",
    "BLOCK_SUSPEND",
    "AUDIT_READ",
    "PERFMON",
    "BPF",
    "CHECKPOINT_RESTORE",
];

/// Docker's default set (`moby/moby daemon/pkg/oci/caps/defaults.go`): mask `0xa80425fb`.
pub const DOCKER_DEFAULT_CAPABILITIES: [&str; 14] = [
    "CHOWN",
    "DAC_OVERRIDE",
    "FSETID",
    "FOWNER",
    "MKNOD",
    "NET_RAW",
    "SETGID",
    "SETUID",
    "SETFCAP",
    "SETPCAP",
    "NET_BIND_SERVICE",
    "SYS_CHROOT",
    "KILL",
    "AUDIT_WRITE",
];

impl Capability {
    /// Parses a capability name in any case, with or without the `CAP_` prefix.
    pub fn parse(text: &str) -> Self {
        let upper = text.trim().to_ascii_uppercase();
        let bare = upper.strip_prefix("CAP_").unwrap_or(&upper);
        if bare == "ALL" {
            return Self::All;
        }
        ALL_CAPABILITIES
            .iter()
            .find(|&&name| name == bare)
            .map_or_else(
                || Self::Unknown(text.trim().to_owned()),
                |&name| Self::Known(name),
            )
    }

    /// The capability with bit `number`, when the kernel defines it.
    pub fn from_number(number: u32) -> Option<Self> {
        ALL_CAPABILITIES
            .get(number as usize)
            .map(|&name| Self::Known(name))
    }

    /// The name without `CAP_`, upper case.
    pub fn name(&self) -> &str {
        match self {
            Self::All => "ALL",
            Self::Known(name) => name,
            Self::Unknown(name) => name,
        }
    }

    /// Whether Docker grants it by default.
    pub fn is_docker_default(&self) -> bool {
        DOCKER_DEFAULT_CAPABILITIES.contains(&self.name())
    }
}

impl fmt::Display for Capability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_spelling() {
        assert_eq!(
            Capability::parse("cap_sys_admin"),
            Capability::Known("SYS_ADMIN")
        );
        assert_eq!(
            Capability::parse("SYS_ADMIN"),
            Capability::Known("SYS_ADMIN")
        );
        assert_eq!(Capability::parse(" all "), Capability::All);
        assert_eq!(Capability::parse("CAP_ALL"), Capability::All);
        assert_eq!(
            Capability::parse("SYS_ADMIM"),
            Capability::Unknown("SYS_ADMIM".into())
        );
        assert_eq!(
            Capability::from_number(21),
            Some(Capability::Known("SYS_ADMIN"))
        );
    }
}
