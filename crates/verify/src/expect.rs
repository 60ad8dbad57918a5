//! `--expect`: which layers must hold, for CI ("this service must hold the user, capabilities and
//! filesystem layers, whatever else its engine allows").
//!
//! Without `--expect` every layer must hold. A layer name (`escape`, `user`, `capabilities`,
//! `confinement`, `filesystem`, `secrets`, `daemon`, or `all`) requires that layer as verify judges
//! it. The policy names verify took before it judged layers (`non-root`, `cap-drop-all` …) keep
//! working: each requires its layer *and* its own stricter check (`cap-drop-all`: no capability at
//! all, where the layer allows ones added on purpose), whose failure is a broken promise.

use leastpriv_rules::Layer;

use crate::VerifyError;

/// One expectation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expectation {
    /// The layer must hold.
    Layer(Layer),
    /// The process does not run as uid 0 (`user`).
    NonRoot,
    /// No capability in any set (`capabilities`).
    CapDropAll,
    /// `no_new_privs` is set (`filesystem`).
    NoNewPrivileges,
    /// The root filesystem is read-only (`filesystem`).
    ReadOnly,
    /// A seccomp filter is loaded and blocks dangerous syscalls (`confinement`).
    Seccomp,
    /// An LSM (AppArmor, SELinux) confines the process, even on a host that has none (`confinement`).
    Lsm,
    /// No container engine socket is reachable (`escape`).
    NoEngineSocket,
    /// Neither the host's PID nor network namespace (`escape`).
    NoHostNamespaces,
    /// No signs of privileged mode (`escape`).
    NotPrivileged,
    /// No secret-looking environment variables (`secrets`).
    NoSecretEnv,
    /// Container root is not host root: user namespace remapping or rootless (`daemon`).
    Userns,
}

/// Every expectation by name, for parsing and `--help`: the layers, then the policy names.
pub const EXPECTATIONS: [(&str, Expectation); 18] = [
    ("escape", Expectation::Layer(Layer::Escape)),
    ("user", Expectation::Layer(Layer::User)),
    ("capabilities", Expectation::Layer(Layer::Capabilities)),
    ("confinement", Expectation::Layer(Layer::Confinement)),
    ("filesystem", Expectation::Layer(Layer::Filesystem)),
    ("secrets", Expectation::Layer(Layer::Secrets)),
    ("daemon", Expectation::Layer(Layer::Daemon)),
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

/// `all`: every layer.
const ALL: &str = "all";

impl Expectation {
    /// Parses one name (`non-root`, `filesystem`).
    pub fn parse(name: &str) -> Result<Self, VerifyError> {
        let name = name.trim();
        EXPECTATIONS
            .iter()
            .find(|(known, _)| *known == name)
            .map(|(_, expectation)| *expectation)
            .ok_or_else(|| {
                let known: Vec<&str> = EXPECTATIONS.iter().map(|(known, _)| *known).collect();
                VerifyError::Usage(format!(
                    "unknown expectation `{name}` (expected `all`, a layer or a policy name: {})",
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

    /// The layer it requires.
    pub fn layer(self) -> Layer {
        match self {
            Self::Layer(layer) => layer,
            Self::NonRoot => Layer::User,
            Self::CapDropAll => Layer::Capabilities,
            Self::NoNewPrivileges | Self::ReadOnly => Layer::Filesystem,
            Self::Seccomp | Self::Lsm => Layer::Confinement,
            Self::NoEngineSocket | Self::NoHostNamespaces | Self::NotPrivileged => Layer::Escape,
            Self::NoSecretEnv => Layer::Secrets,
            Self::Userns => Layer::Daemon,
        }
    }
}

/// Parses `--expect` values (`all`, layer and policy names; blanks are ignored), in order and
/// without repeats.
pub fn parse_policy<S: AsRef<str>>(names: &[S]) -> Result<Vec<Expectation>, VerifyError> {
    let mut policy: Vec<Expectation> = Vec::new();
    for name in names.iter().map(|name| name.as_ref().trim()) {
        let parsed = match name {
            "" => continue,
            ALL => Layer::ALL.map(Expectation::Layer).to_vec(),
            name => vec![Expectation::parse(name)?],
        };
        for expectation in parsed {
            if !policy.contains(&expectation) {
                policy.push(expectation);
            }
        }
    }
    Ok(policy)
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
        assert!(error.to_string().contains("escape, user"), "{error}");
        assert!(
            error.to_string().contains("non-root, cap-drop-all"),
            "{error}"
        );
    }

    #[test]
    fn policy_names_require_their_layer() {
        assert_eq!(Expectation::NoNewPrivileges.layer(), Layer::Filesystem);
        assert_eq!(Expectation::Seccomp.layer(), Layer::Confinement);
        assert_eq!(Expectation::Userns.layer(), Layer::Daemon);
        let policy = parse_policy(&["user", " ", "non-root", "user", "all"]).expect("parses");
        assert_eq!(policy.len(), 8, "{policy:?}");
        assert_eq!(policy[0], Expectation::Layer(Layer::User));
        assert_eq!(policy[1], Expectation::NonRoot);
        assert_eq!(policy[2], Expectation::Layer(Layer::Escape));
    }
}
