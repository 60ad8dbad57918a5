//! Single facts judged the way the rules judge them, for `leastpriv verify`.
//!
//! `audit` judges a container's configuration; `verify` judges what its probe saw inside the running
//! container. For the two to tell one truth, `verify` keeps no copy of which capability, host path
//! or device is dangerous, nor of how dangerous: it asks the functions below, which are the rules'
//! own (each table lives in the rule that reports it), and it weighs every observation with the
//! severity of the rule that judges the same fact ([`rule_severity`]). A layer of defence is missing
//! from [`LAYER_MISSING`] up, the severity documented as "a layer of defence missing": a layer
//! `verify` says holds has no `audit` finding at or above it, and the reverse.

use crate::rules::capabilities::capability_added;
use crate::rules::escape::{host_device_mapped, sensitive_host_path_mounted};
use crate::{find_rule, Severity};
use leastpriv_model::Capability;

use crate::helpers::host_path::{engine_socket, normalize, SocketExposure};

/// The lowest severity at which a finding means that its layer of defence does not hold.
pub const LAYER_MISSING: Severity = Severity::Medium;

/// The default severity of a rule, by code (`LP201`) or name; `None` for an unknown rule.
pub fn rule_severity(code_or_name: &str) -> Option<Severity> {
    find_rule(code_or_name).map(|rule| rule.meta.severity)
}

/// How bad holding the capability `name` (`SYS_ADMIN`, without `CAP_`) is when it was added on
/// purpose, and what it gives: `capability-added` (LP310). `None` when it gives nothing to judge
/// (`NET_BIND_SERVICE`, or a name the kernel does not define).
pub fn added_capability(name: &str) -> Option<(Severity, &'static str)> {
    capability_added::grade(&Capability::parse(name))
}

/// How bad a bind mount of the host path `host_path` is, and why, with the rule that says so:
/// `engine-socket-mounted` (LP111) for an engine socket or a directory that holds one,
/// `sensitive-host-path-mounted` (LP112) for the host's root, configuration, credentials, binaries
/// or container state. `None` for any other path.
pub fn host_path_mount(
    host_path: &str,
    read_only: bool,
) -> Option<(&'static str, Severity, String)> {
    let path = normalize(host_path)?;
    if let Some(exposure) = engine_socket(&path) {
        let severity = rule_severity("LP111").unwrap_or(Severity::Critical);
        let message = match exposure {
            SocketExposure::Socket => format!("host engine socket `{host_path}` is mounted"),
            SocketExposure::Directory(socket) => format!(
                "host directory `{host_path}` is mounted and holds the engine socket `{socket}`"
            ),
        };
        return Some(("LP111", severity, message));
    }
    sensitive_host_path_mounted::judge(host_path, read_only)
        .map(|(severity, message)| ("LP112", severity, message))
}

/// How bad a host device node in the container is, and why: `host-device-mapped` (LP121).
pub fn host_device(path: &str, writable: bool) -> (Severity, String) {
    let path = normalize(path).unwrap_or_else(|| path.to_owned());
    host_device_mapped::judge(&path, writable)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn judges_as_the_rules_do() {
        assert_eq!(rule_severity("LP201"), Some(Severity::High));
        assert_eq!(rule_severity("root-user"), Some(Severity::High));
        assert_eq!(rule_severity("LP999"), None);
        assert_eq!(
            added_capability("SYS_ADMIN").map(|(severity, _)| severity),
            Some(Severity::Critical)
        );
        assert_eq!(added_capability("NET_BIND_SERVICE"), None);
        assert_eq!(
            added_capability("CHOWN").map(|(severity, _)| severity),
            Some(Severity::Info)
        );
        let (rule, severity, _) = host_path_mount("/var/run", false).expect("holds the socket");
        assert_eq!((rule, severity), ("LP111", Severity::Critical));
        let (rule, severity, message) = host_path_mount("/etc", true).expect("sensitive");
        assert_eq!((rule, severity), ("LP112", Severity::High));
        assert!(
            message.starts_with("host path `/etc` is mounted read-only"),
            "{message}"
        );
        assert_eq!(
            host_path_mount("/", true).map(|(rule, severity, _)| (rule, severity)),
            Some(("LP112", Severity::Critical))
        );
        assert_eq!(host_path_mount("/srv/data", false), None);
        assert_eq!(host_device("/dev/sda", true).0, Severity::Critical);
        assert_eq!(host_device("/dev/fuse", true).0, Severity::Low);
    }
}
