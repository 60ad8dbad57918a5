//! The filesystem layer: a read-only root, `:ro` mounts that really are, the tmpfs mounts asked for,
//! and no writable mount nobody configured.

use leastpriv_probe::ProbeReport;

use super::{listed, same_path, Checks, Promises, Setting};
use crate::expect::Expectation;

/// Writable mounts the engine adds to every container.
const ENGINE_WRITABLE: [&str; 2] = ["/dev", "/dev/shm"];

pub(super) fn judge(promises: &Promises<'_>, probe: &ProbeReport, checks: &mut Checks) {
    let runtime = promises.runtime;
    let read_only = runtime
        .read_only_root
        .as_ref()
        .is_some_and(|read_only| read_only.value);
    if read_only {
        checks.check(
            probe.rootfs_read_only && !probe.rootfs_writable_by_process,
            format!(
                "root filesystem read-only, as {} promised",
                promises.name(Setting::ReadOnly)
            ),
            format!(
                "{} promised a read-only root filesystem, but it is writable",
                promises.name(Setting::ReadOnly)
            ),
        );
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
            checks.fail(format!(
                "writable mounts nobody configured: {}",
                listed(unexplained)
            ));
        }
    }
    for mount in runtime.mounts.iter().filter(|mount| mount.value.read_only) {
        let target = &mount.value.target;
        let writable = probe
            .writable_mounts
            .iter()
            .any(|writable| same_path(writable, target));
        checks.check(
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
                checks.check(
                    missing.is_empty(),
                    format!("{target} is a tmpfs ({})", mounted.options.join(",")),
                    format!("tmpfs {target} lacks the options {}", listed(missing)),
                );
            }
            None => checks.fail(format!(
                "{} {target} was configured, but is not a tmpfs",
                promises.name(Setting::Tmpfs)
            )),
        }
    }
    if !read_only {
        checks.note(format!(
            "root filesystem {} (no {}); writable mounts: {}",
            if probe.rootfs_read_only {
                "read-only"
            } else {
                "read-write"
            },
            promises.name(Setting::ReadOnly),
            listed(&probe.writable_mounts)
        ));
    }
    if promises.expects(Expectation::ReadOnly) {
        checks.check(
            probe.rootfs_read_only,
            "expect read-only: root filesystem read-only",
            "expect read-only: the root filesystem is writable",
        );
    }
}
