//! The confinement layer: `no_new_privs`, the seccomp filter (and is it Docker's default?), the LSM
//! label.

use leastpriv_model::{LsmProfile, SeccompProfile};
use leastpriv_probe::ProbeReport;

use super::{listed, Checks, Promises, Setting};
use crate::expect::Expectation;

pub(super) fn judge(promises: &Promises<'_>, probe: &ProbeReport, checks: &mut Checks) {
    no_new_privs(promises, probe, checks);
    seccomp(promises, probe, checks);
    lsm(promises, probe, checks);
}

fn no_new_privs(promises: &Promises<'_>, probe: &ProbeReport, checks: &mut Checks) {
    let state = if probe.no_new_privs { "on" } else { "off" };
    match promises
        .runtime
        .no_new_privileges
        .as_ref()
        .map(|nnp| nnp.value)
    {
        Some(true) => checks.check(
            probe.no_new_privs,
            "no_new_privs on, as no-new-privileges promised",
            "no-new-privileges promised no_new_privs, but it is off",
        ),
        Some(false) | None => checks.note(format!("no_new_privs {state} (not requested)")),
    }
    if promises.expects(Expectation::NoNewPrivileges) {
        checks.check(
            probe.no_new_privs,
            "expect no-new-privileges: on",
            "expect no-new-privileges: no_new_privs is off",
        );
    }
}

fn seccomp(promises: &Promises<'_>, probe: &ProbeReport, checks: &mut Checks) {
    let seccomp = &probe.seccomp;
    let blocked = format!(
        "blocks {} of the probed syscalls ({})",
        seccomp.blocked.len(),
        listed(seccomp.blocked.iter().take(6))
    );
    let filtering = seccomp.mode == "filter";
    match promises
        .runtime
        .seccomp
        .as_ref()
        .map(|profile| &profile.value)
    {
        Some(SeccompProfile::Unconfined) => {
            checks.note(format!("seccomp=unconfined: mode {}", seccomp.mode));
        }
        Some(SeccompProfile::File(path)) => checks.check(
            filtering,
            format!("seccomp profile {path} loaded: {blocked}"),
            format!(
                "seccomp profile {path} was given, but seccomp is {}",
                seccomp.mode
            ),
        ),
        None if promises.privileged() => {
            checks.note(format!(
                "{}: no default seccomp profile; mode {}",
                promises.name(Setting::Privileged),
                seccomp.mode
            ));
        }
        // The default profile, explicit or not. A daemon started with another default profile
        // (`--seccomp-profile`) only promises a filter.
        Some(SeccompProfile::RuntimeDefault) | None => {
            let docker_default = promises.daemon.security_options.iter().any(|option| {
                option.contains("name=seccomp") && option.contains("profile=default")
            });
            if !filtering {
                checks.fail(format!(
                    "no seccomp filter (mode {}), although the engine's default profile applies",
                    seccomp.mode
                ));
            } else if docker_default && !seccomp.differs_from_docker_default.is_empty() {
                checks.fail(format!(
                    "the filter is not Docker's default profile: {} differ",
                    listed(&seccomp.differs_from_docker_default)
                ));
            } else {
                checks.pass(format!("the default seccomp profile is loaded: {blocked}"));
            }
        }
    }
    if promises.expects(Expectation::Seccomp) {
        checks.check(
            filtering && !seccomp.blocked.is_empty(),
            format!("expect seccomp: filter loaded, {blocked}"),
            format!("expect seccomp: mode {}, {blocked}", seccomp.mode),
        );
    }
}

fn lsm(promises: &Promises<'_>, probe: &ProbeReport, checks: &mut Checks) {
    let label = probe.lsm.as_deref();
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
        checks.check(
            label.is_some_and(|label| label.split(' ').next() == Some(expected)),
            format!("AppArmor profile {expected}"),
            format!(
                "AppArmor profile {expected} expected, but the label is {}",
                label.unwrap_or("none")
            ),
        );
    } else if promises.daemon.has("selinux") {
        checks.note(format!("SELinux label {}", label.unwrap_or("none")));
    } else if let Some(LsmProfile::Named(name)) = requested {
        checks.fail(format!(
            "apparmor={name} was requested, but the daemon has no AppArmor: the profile is not applied"
        ));
    } else {
        checks.note(format!(
            "no LSM on this daemon (label {})",
            label.unwrap_or("none")
        ));
    }
    if promises.expects(Expectation::Lsm) {
        let confined =
            label.is_some_and(|label| label != "unconfined" && !label.contains("unconfined_t"));
        checks.check(
            confined,
            format!("expect lsm: confined by {}", label.unwrap_or("none")),
            format!(
                "expect lsm: no confining label ({})",
                label.unwrap_or("none")
            ),
        );
    }
}
