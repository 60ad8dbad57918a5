//! The filesystem layer: is `/` read-only, what is writable, what comes from the host, what is tmpfs.

use std::path::Path;

use crate::host::Host;
use crate::mounts::{Mount, MountKind};
use crate::report::{HostBindMount, ProbeReport, TmpfsMount};

/// tmpfs options worth reporting.
const TMPFS_OPTIONS: [&str; 4] = ["nosuid", "nodev", "noexec", "ro"];

/// Fills the filesystem fields of `report` from the visible mounts.
pub(crate) fn probe(
    host: &dyn Host,
    mounts: &[&Mount],
    probe_path: Option<&str>,
    report: &mut ProbeReport,
) {
    let root_mount = mounts.iter().find(|mount| mount.target == "/");
    report.rootfs_read_only = host
        .is_read_only_fs(Path::new("/"))
        .unwrap_or_else(|_| root_mount.is_some_and(|mount| mount.read_only()));
    // A write test even when statvfs says read-only: it costs one failed open and catches a
    // filesystem that lies.
    report.rootfs_writable_by_process = host.write_test(Path::new("/")).is_ok();

    for mount in mounts {
        let kind = mount.kind(probe_path);
        let counts_as_storage = !matches!(
            kind,
            MountKind::Pseudo | MountKind::RuntimeMask | MountKind::Probe
        );
        if counts_as_storage && !mount.read_only() {
            report.writable_mounts.push(mount.target.clone());
        }
        match kind {
            MountKind::HostBind => report.host_bind_mounts.push(HostBindMount {
                target: mount.target.clone(),
                host_path: mount.root.clone(),
                source: mount.source.clone(),
                fstype: mount.fstype.clone(),
                read_only: mount.read_only(),
                nosuid: mount.has_option("nosuid"),
            }),
            MountKind::Tmpfs => report.tmpfs_mounts.push(TmpfsMount {
                target: mount.target.clone(),
                read_only: mount.read_only(),
                options: tmpfs_options(mount),
            }),
            _ => {}
        }
    }
}

fn tmpfs_options(mount: &Mount) -> Vec<String> {
    let flags = mount
        .options
        .iter()
        .filter(|option| TMPFS_OPTIONS.contains(&option.as_str()));
    let sizes = mount
        .super_options
        .iter()
        .filter(|option| option.starts_with("size=") || option.starts_with("mode="));
    flags.chain(sizes).cloned().collect()
}
