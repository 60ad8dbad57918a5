//! `--expect`: a policy for CI, independent of what the flags promise ("this service must run
//! non-root with no capabilities, whatever its compose file says").

use crate::VerifyError;

/// One expectation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expectation {
    /// The process does not run as uid 0.
    NonRoot,
    /// No capability in any set.
    CapDropAll,
    /// `no_new_privs` is set.
    NoNewPrivileges,
    /// The root filesystem is read-only.
    ReadOnly,
    /// A seccomp filter is loaded and blocks dangerous syscalls.
    Seccomp,
    /// An LSM (AppArmor, SELinux) confines the process.
    Lsm,
    /// No container engine socket is reachable.
    NoEngineSocket,
    /// Neither the host's PID nor network namespace.
    NoHostNamespaces,
    /// No signs of privileged mode.
    NotPrivileged,
    /// No secret-looking environment variables.
    NoSecretEnv,
    /// Container root is not host root (user namespace remapping or rootless).
    Userns,
}

/// Every expectation: name and meaning, for parsing and `--help`.
pub const EXPECTATIONS: [(&str, Expectation); 11] = [
    ("non-root", Expectation::NonRoot),
    ("cap-drop-all", Expectation::CapDropAll),
    ("no-new-privileges", Expectation::NoNewPrivileges),
    ("read-only", Expectation::ReadOnly),
    ("seccomp", Expectation::Seccomp),
    ("lsm", Expectation::Lsm),
    ("no-engine-socket", Expectation::NoEngineSocket),
    ("no-host-namespaces", Expectation::NoHostNamespaces),
    ("not-privileged", Expectation::NotPrivileged),
    ("no-secret-env", Expectation::NoSecretEnv),
    ("userns", Expectation::Userns),
];

impl Expectation {
    /// Parses one name (`non-root`).
    pub fn parse(name: &str) -> Result<Self, VerifyError> {
        let name = name.trim();
        EXPECTATIONS
            .iter()
            .find(|(known, _)| *known == name)
            .map(|(_, expectation)| *expectation)
            .ok_or_else(|| {
                let known: Vec<&str> = EXPECTATIONS.iter().map(|(known, _)| *known).collect();
                VerifyError::Usage(format!(
                    "unknown expectation `{name}` (expected one of: {})",
                    known.join(", ")
                ))
            })
    }

    /// Its name.
    pub fn name(self) -> &'static str {
        EXPECTATIONS
            .iter()
            .find(|(_, expectation)| *expectation == self)
            .map_or("", |(name, _)| name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_name_back() {
        for (name, expectation) in EXPECTATIONS {
            assert_eq!(Expectation::parse(name).ok(), Some(expectation));
            assert_eq!(expectation.name(), name);
        }
        let error = Expectation::parse("nonroot").expect_err("unknown");
        assert!(error.to_string().contains("non-root, cap-drop-all"));
    }
}
