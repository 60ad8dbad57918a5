//! The confinement layer: a seccomp filter (Docker's default, or the profile asked for), the LSM
//! label on a host that has an LSM, and the masked `/proc` and `/sys` paths (LP401, LP404, LP405,
//! LP406 judge the same in a configuration).

use leastpriv_model::{LsmProfile, SeccompProfile};
use leastpriv_probe::ProbeReport;

use super::{listed, Checks, Promises, Setting};
use crate::expect::Expectation;

pub(super) fn judge(promises: &Promises<'_>, probe: &ProbeReport, checks: &mut Checks) {
    seccomp(promises, probe, checks);
    lsm(promises, probe, checks);
    masked_paths(promises, probe, checks);
}

fn seccomp(promises: &Promises<'_>, probe: &ProbeReport, checks: &mut Checks) {
    let seccomp = &probe.seccomp;
    let blocked = format!(
        "blocks {} of the probed syscalls ({})",
        seccomp.blocked.len(),
        listed(seccomp.blocked.iter().take(6))
    );
    let filtering = seccomp.mode == "filter";
    let requested = promises
        .runtime
        .seccomp
        .as_ref()
        .map(|profile| &profile.value);
    if !filtering {
        let mode = &seccomp.mode;
        match requested {
            Some(SeccompProfile::Unconfined) => checks.finding(
                "LP401",
                format!(
                    "no seccomp filter (mode {mode}): {} lets every syscall reach the kernel",
                    promises.name(Setting::SeccompUnconfined)
                ),
            ),
            _ if promises.privileged() => checks.finding(
                "LP401",
                format!(
                    "no seccomp filter (mode {mode}): {} turns it off",
                    promises.name(Setting::Privileged)
                ),
            ),
            Some(SeccompProfile::File(path)) => checks.broken(
                Some("LP401"),
                format!("seccomp profile {path} was given, but seccomp is {mode}"),
            ),
            Some(SeccompProfile::RuntimeDefault) | None => checks.broken(
                Some("LP401"),
                format!("no seccomp filter (mode {mode}), although the engine's default profile applies"),
            ),
        }
    } else {
        match requested {
            Some(SeccompProfile::File(path)) => {
                checks.pass(format!("seccomp profile {path} loaded: {blocked}"));
            }
            // The default profile, explicit or not. A daemon started with another default profile
            // (`--seccomp-profile`) only promises a filter.
            _ => {
                let docker_default = promises.daemon.security_options.iter().any(|option| {
                    option.contains("name=seccomp") && option.contains("profile=default")
                });
                if docker_default && !seccomp.differs_from_docker_default.is_empty() {
                    checks.broken(
                        None,
                        format!(
                            "the filter is not Docker's default profile: {} differ",
                            listed(&seccomp.differs_from_docker_default)
                        ),
                    );
                } else {
                    checks.pass(format!("the default seccomp profile is loaded: {blocked}"));
                }
            }
        }
    }
    if promises.expects(Expectation::Seccomp) {
        checks.promise(
            filtering && !seccomp.blocked.is_empty(),
            format!("expect seccomp: filter loaded, {blocked}"),
            format!("expect seccomp: mode {}, {blocked}", seccomp.mode),
        );
    }
}

fn lsm(promises: &Promises<'_>, probe: &ProbeReport, checks: &mut Checks) {
    let label = probe.lsm.as_deref();
    let shown = label.unwrap_or("none");
    let requested = promises
        .runtime
        .apparmor
        .as_ref()
        .map(|profile| &profile.value);
    if promises.daemon.has("apparmor") {
        let expected = match requested {
            Some(LsmProfile::Named(name)) => name.as_str(),
            Some(LsmProfile::Unconfined) => "unconfined",
            _ if promises.privileged() => "unconfined",
            _ => "docker-default",
        };
        let profile = label.and_then(|label| label.split(' ').next());
        if profile != Some(expected) {
            checks.broken(
                None,
                format!("AppArmor profile {expected} expected, but the label is {shown}"),
            );
        }
        if profile.is_none_or(|profile| profile == "unconfined") {
            checks.finding(
                "LP404",
                format!("AppArmor does not confine the process (label {shown})"),
            );
        } else if profile == Some(expected) {
            checks.pass(format!("AppArmor profile {expected}"));
        }
    } else if promises.daemon.has("selinux") {
        let unconfined = label.is_none_or(|label| {
            ["spc_t", "unconfined_t", "unconfined"]
                .iter()
                .any(|weak| label.contains(weak))
        });
        if unconfined {
            checks.finding(
                "LP405",
                format!("SELinux does not confine the process (label {shown})"),
            );
        } else {
            checks.pass(format!("SELinux label {shown}"));
        }
    } else {
        match requested {
            Some(LsmProfile::Named(name)) => checks.broken(
                None,
                format!(
                    "apparmor={name} was requested, but the daemon has no AppArmor: the profile is \
                     not applied"
                ),
            ),
            Some(LsmProfile::Unconfined) => checks.note(format!(
                "apparmor=unconfined changes nothing on this host, which has no AppArmor; on one \
                 that has it, the container would run unconfined (LP404) (label {shown})"
            )),
            _ => checks.note(format!(
                "the host has no AppArmor or SELinux: no LSM confines any container here (label \
                 {shown})"
            )),
        }
    }
    if promises.expects(Expectation::Lsm) {
        let confined =
            label.is_some_and(|label| label != "unconfined" && !label.contains("unconfined_t"));
        checks.promise(
            confined,
            format!("expect lsm: confined by {shown}"),
            format!("expect lsm: no confining label ({shown})"),
        );
    }
}

/// Docker masks `/proc` paths and mounts `/proc/sys` and `/sys` read-only; with them open, root in
/// the container writes host-wide kernel settings.
fn masked_paths(promises: &Promises<'_>, probe: &ProbeReport, checks: &mut Checks) {
    let escape = &probe.escape;
    let mut open: Vec<&str> = escape
        .writable_kernel_files
        .iter()
        .map(String::as_str)
        .collect();
    if escape.sysfs_writable {
        open.push("/sys (mounted read-write)");
    }
    if open.is_empty() {
        checks.pass("kernel control files and /sys read-only");
        return;
    }
    let text = format!("kernel control files writable: {}", listed(&open));
    if promises.privileged() {
        checks.finding(
            "LP406",
            format!("{text} ({})", promises.name(Setting::Privileged)),
        );
    } else if promises.runtime.unmasked_paths.is_some() {
        checks.finding(
            "LP406",
            format!("{text} ({})", promises.name(Setting::SystemPathsUnconfined)),
        );
    } else {
        checks.broken(
            Some("LP406"),
            format!("{text}, although nothing unmasked them"),
        );
    }
}
