//! The filesystem layer: a read-only root and `no_new_privs` (LP502 and LP501 judge the same in a
//! configuration); `:ro` mounts that really are, the tmpfs mounts asked for, and no writable mount
//! nobody configured.

use leastpriv_probe::ProbeReport;

use super::{listed, same_path, Checks, Promises, Setting};
use crate::expect::Expectation;

/// Writable mounts the engine adds to every container.
const ENGINE_WRITABLE: [&str; 2] = ["/dev", "/dev/shm"];

pub(super) fn judge(promises: &Promises<'_>, probe: &ProbeReport, checks: &mut Checks) {
    root(promises, probe, checks);
    no_new_privs(promises, probe, checks);
    mounts(promises, probe, checks);
}

fn root(promises: &Promises<'_>, probe: &ProbeReport, checks: &mut Checks) {
    let runtime = promises.runtime;
    let read_only = runtime
        .read_only_root
        .as_ref()
        .is_some_and(|read_only| read_only.value);
    let holds = probe.rootfs_read_only && !probe.rootfs_writable_by_process;
    let flag = promises.name(Setting::ReadOnly);
    if holds {
        checks.pass(if read_only {
            format!("root filesystem read-only, as {flag} promised")
        } else {
            "root filesystem read-only".to_owned()
        });
    } else if read_only {
        checks.broken(
            Some("LP502"),
            format!("{flag} promised a read-only root filesystem, but it is writable"),
        );
    } else {
        checks.finding(
            "LP502",
            format!(
                "the root filesystem is writable (no {flag}): an intruder can change the \
                 application and plant tools"
            ),
        );
    }
    if read_only {
        let configured = |target: &str| {
            runtime
                .tmpfs
                .iter()
                .any(|tmpfs| same_path(&tmpfs.value.target, target))
                || runtime
                    .mounts
                    .iter()
                    .any(|mount| !mount.value.read_only && same_path(&mount.value.target, target))
                || ENGINE_WRITABLE.contains(&target)
        };
        let unexplained: Vec<&String> = probe
            .writable_mounts
            .iter()
            .filter(|target| target.as_str() != "/" && !configured(target))
            .collect();
        if !unexplained.is_empty() {
            checks.broken(
                None,
                format!("writable mounts nobody configured: {}", listed(unexplained)),
            );
        }
    } else {
        checks.note(format!(
            "writable mounts: {}",
            listed(&probe.writable_mounts)
        ));
    }
    if promises.expects(Expectation::ReadOnly) {
        checks.promise(
            probe.rootfs_read_only,
            "expect read-only: root filesystem read-only",
            "expect read-only: the root filesystem is writable",
        );
    }
}

fn no_new_privs(promises: &Promises<'_>, probe: &ProbeReport, checks: &mut Checks) {
    let flag = promises.name(Setting::NoNewPrivileges);
    let requested = promises
        .runtime
        .no_new_privileges
        .as_ref()
        .is_some_and(|nnp| nnp.value);
    if probe.no_new_privs {
        checks.pass(if requested {
            format!("no_new_privs on, as {flag} promised")
        } else {
            "no_new_privs on".to_owned()
        });
    } else if requested {
        checks.broken(
            Some("LP501"),
            format!("{flag} promised no_new_privs, but it is off"),
        );
    } else {
        checks.finding(
            "LP501",
            format!(
                "no_new_privs is off (no {flag}): setuid binaries and file capabilities can raise \
                 the process's privileges"
            ),
        );
    }
    if promises.expects(Expectation::NoNewPrivileges) {
        checks.promise(
            probe.no_new_privs,
            "expect no-new-privileges: on",
            "expect no-new-privileges: no_new_privs is off",
        );
    }
}

/// `:ro` mounts and the tmpfs asked for.
fn mounts(promises: &Promises<'_>, probe: &ProbeReport, checks: &mut Checks) {
    let runtime = promises.runtime;
    for mount in runtime.mounts.iter().filter(|mount| mount.value.read_only) {
        let target = &mount.value.target;
        let writable = probe
            .writable_mounts
            .iter()
            .any(|writable| same_path(writable, target));
        checks.promise(
            !writable,
            format!("{target} read-only, as :ro promised"),
            format!("{target} was mounted read-only, but is writable"),
        );
    }
    for tmpfs in &runtime.tmpfs {
        let target = &tmpfs.value.target;
        match probe
            .tmpfs_mounts
            .iter()
            .find(|mounted| same_path(&mounted.target, target))
        {
            Some(mounted) => {
                let missing: Vec<&String> = tmpfs
                    .value
                    .options
                    .iter()
                    .filter(|option| {
                        matches!(option.as_str(), "noexec" | "nosuid" | "nodev" | "ro")
                    })
                    .filter(|option| !mounted.options.contains(option))
                    .collect();
                checks.promise(
                    missing.is_empty(),
                    format!("{target} is a tmpfs ({})", mounted.options.join(",")),
                    format!("tmpfs {target} lacks the options {}", listed(missing)),
                );
            }
            None => checks.broken(
                None,
                format!(
                    "{} {target} was configured, but is not a tmpfs",
                    promises.name(Setting::Tmpfs)
                ),
            ),
        }
    }
}
