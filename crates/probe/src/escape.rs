//! Escape paths: engine sockets, the host's namespaces, writable kernel control files, the cgroup
//! `release_agent`, host devices, the host's root filesystem, and `--privileged` itself.
//!
//! Everything is read or opened for writing and closed — never written. Sockets are found where
//! engines put them, where mountinfo says something was mounted, and in a shallow scan of `/run`,
//! `/var/run` and `/tmp` (not a walk of `/` as amicontained and botb do). Privileged mode is recognised
//! by what it does (nearly every capability *of this kernel*, no masked paths, `/sys` read-write, host
//! devices), not by CDK's `3fffffffff` mask, which only matches kernels with 38 capabilities (< 5.8).

use std::collections::BTreeSet;
use std::path::Path;

use crate::capabilities::{full_mask, has};
use crate::host::{read_text, read_text_limited, FileKind, Host};
use crate::mounts::{Mount, MountKind};
use crate::report::{Cgroup, DeviceNode, EngineSocket, ProbeReport, Sign, SyscallStatus};
use crate::status::Status;

/// Where engines put their sockets.
const KNOWN_SOCKETS: [&str; 13] = [
    "/var/run/docker.sock",
    "/run/docker.sock",
    "/run/containerd/containerd.sock",
    "/var/run/containerd/containerd.sock",
    "/run/docker/containerd/containerd.sock",
    "/run/k3s/containerd/containerd.sock",
    "/run/crio/crio.sock",
    "/var/run/crio/crio.sock",
    "/run/podman/podman.sock",
    "/var/run/podman/podman.sock",
    "/run/buildkit/buildkitd.sock",
    "/var/run/dockershim.sock",
    "/var/run/cri-dockerd.sock",
];

/// Directories scanned (two levels deep) for engine sockets.
const SOCKET_DIRS: [&str; 3] = ["/run", "/var/run", "/tmp"];

/// At most this many entries are looked at per scanned directory.
const MAX_DIR_ENTRIES: usize = 1000;

/// Kernel control files whose write access is an escape or a host-wide effect (linPEAS list).
const KERNEL_FILES: [&str; 8] = [
    "/proc/sys/kernel/core_pattern",
    "/proc/sys/kernel/modprobe",
    "/proc/sys/fs/binfmt_misc/register",
    "/proc/sys/vm/panic_on_oom",
    "/proc/sys/fs/suid_dumpable",
    "/proc/sysrq-trigger",
    "/sys/kernel/uevent_helper",
    "/sys/kernel/security/apparmor/.load",
];

/// Docker's masked paths (`daemon/pkg/oci/defaults.go`); a container with none of them masked runs
/// privileged or with `systempaths=unconfined`.
const MASKED_PATHS: [&str; 12] = [
    "/proc/acpi",
    "/proc/asound",
    "/proc/interrupts",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/sys/devices/virtual/powercap",
    "/sys/firmware",
];

/// Capabilities 0–37 (`CHOWN` … `AUDIT_READ`), present in every kernel since 3.16.
const CLASSIC_CAPABILITIES: u64 = (1 << 38) - 1;

/// Device nodes every container gets (`/dev/pts/*` too).
const DEFAULT_DEVICES: [&str; 8] = [
    "null", "zero", "full", "random", "urandom", "tty", "console", "ptmx",
];

/// Interfaces that exist only in a host's network namespace.
const HOST_INTERFACES: [&str; 9] = [
    "docker0",
    "br-",
    "veth",
    "virbr",
    "cni0",
    "flannel",
    "cali",
    "weave",
    "kube-ipvs",
];

/// Unix sockets whose presence in `/proc/net/unix` means the host's network namespace (abstract and
/// path sockets are scoped to the namespace that created them).
const HOST_UNIX_SOCKETS: [&str; 4] = [
    "/docker.sock",
    "/containerd.sock",
    "@/containerd-shim/",
    "/run/systemd/",
];

/// Fills the escape fields (except the syscall-dependent release_agent conclusion and the privileged
/// sign, which need the seccomp results: see [`conclude`]).
pub(crate) fn probe(host: &dyn Host, mounts: &[&Mount], report: &mut ProbeReport) {
    let sockets = find_engine_sockets(host, mounts);
    report.engine_sockets = sockets.iter().map(|socket| socket.path.clone()).collect();
    report.escape.engine_sockets = sockets;
    report.escape.host_pid_namespace = host_pid_namespace(host);
    report.escape.host_network_namespace = host_network_namespace(host);
    report.escape.host_ipc_namespace = initial_namespace(host, "ipc", PROC_IPC_INIT_INO);
    report.escape.host_uts_namespace = initial_namespace(host, "uts", PROC_UTS_INIT_INO);
    report.escape.host_cgroup_namespace = initial_namespace(host, "cgroup", PROC_CGROUP_INIT_INO);

    report.escape.writable_kernel_files = KERNEL_FILES
        .iter()
        .filter(|path| host.can_open_for_write(Path::new(path)))
        .map(|path| (*path).to_owned())
        .collect();
    report.escape.proc_sys_writable = report
        .escape
        .writable_kernel_files
        .iter()
        .any(|path| path.starts_with("/proc/sys/"));
    report.escape.sysrq_trigger_writable = report
        .escape
        .writable_kernel_files
        .iter()
        .any(|path| path == "/proc/sysrq-trigger");
    report.escape.sysfs_writable = mounts
        .iter()
        .any(|mount| mount.target == "/sys" && !mount.read_only());
    report.escape.cgroup = cgroup(host, mounts);
    report.escape.extra_devices = extra_devices(host);
    report.escape.host_root_mounts = host_root_mounts(host, mounts);
}

/// The conclusions that need capabilities, seccomp and mounts together.
pub(crate) fn conclude(
    host: &dyn Host,
    status: &Status,
    mounts: &[&Mount],
    report: &mut ProbeReport,
) {
    let mount_usable = report
        .seccomp
        .syscalls
        .iter()
        .any(|result| result.name == "mount" && result.status == SyscallStatus::Allowed);
    let cgroup_v1_available = read_text(host, "/proc/filesystems").is_some_and(|text| {
        text.lines()
            .any(|line| line.split_whitespace().last() == Some("cgroup"))
    });
    report.escape.cgroup.release_agent_escape =
        has(status.cap_effective, "SYS_ADMIN") && mount_usable && cgroup_v1_available;
    report.escape.privileged = privileged(status, mounts, report);
}

fn socket_kind(path: &str) -> Option<(&'static str, bool)> {
    let name = path.rsplit('/').next().unwrap_or(path);
    Some(match name {
        "docker.sock" => ("docker", true),
        "podman.sock" => ("podman", true),
        "containerd.sock" => ("containerd", false),
        "crio.sock" => ("cri-o", false),
        "buildkitd.sock" => ("buildkit", false),
        "dockershim.sock" | "cri-dockerd.sock" => ("cri", false),
        _ => return None,
    })
}

fn find_engine_sockets(host: &dyn Host, mounts: &[&Mount]) -> Vec<EngineSocket> {
    let mut candidates: BTreeSet<String> =
        KNOWN_SOCKETS.iter().map(|&path| path.to_owned()).collect();
    candidates.extend(
        mounts
            .iter()
            .filter(|mount| socket_kind(&mount.target).is_some())
            .map(|mount| mount.target.clone()),
    );
    for dir in SOCKET_DIRS {
        scan_for_sockets(host, dir, 2, &mut candidates);
    }
    // /var/run is usually a symlink to /run: report each socket once, under /run.
    let var_run_is_run = host
        .read_link(Path::new("/var/run"))
        .is_ok_and(|target| matches!(target.trim_end_matches('/'), "/run" | "../run" | "run"));
    let mut seen = BTreeSet::new();
    let mut sockets = Vec::new();
    for path in candidates {
        let path = match path.strip_prefix("/var/run/") {
            Some(rest) if var_run_is_run => format!("/run/{rest}"),
            _ => path,
        };
        if !seen.insert(path.clone()) {
            continue;
        }
        let is_socket = host
            .stat(Path::new(&path))
            .is_ok_and(|info| info.kind == FileKind::Socket);
        if !is_socket {
            continue;
        }
        let (kind, http) = socket_kind(&path).unwrap_or(("unknown", false));
        let answer = host.ask_socket(Path::new(&path), http);
        sockets.push(EngineSocket {
            path,
            kind: kind.to_owned(),
            connectable: answer.connectable,
            answers: answer.answers,
            api_version: answer.api_version,
        });
    }
    sockets
}

fn scan_for_sockets(host: &dyn Host, dir: &str, depth: u32, found: &mut BTreeSet<String>) {
    let Ok(entries) = host.read_dir(Path::new(dir)) else {
        return;
    };
    for (name, kind) in entries.into_iter().take(MAX_DIR_ENTRIES) {
        let path = format!("{}/{name}", dir.trim_end_matches('/'));
        match kind {
            FileKind::Socket if socket_kind(&path).is_some() => {
                found.insert(path);
            }
            FileKind::Dir if depth > 1 => scan_for_sockets(host, &path, depth - 1, found),
            _ => {}
        }
    }
}

/// The inode numbers the kernel gives its initial namespaces (`include/linux/proc_ns.h`, fixed since
/// Linux 3.8): a process whose `/proc/self/ns/<kind>` names one of them is in the host's namespace
/// of that kind. Only when the engine itself runs in the initial namespaces (not nested in another
/// container) is "the host's" the engine's; a nested engine's host namespaces are not seen.
const PROC_IPC_INIT_INO: u64 = 0xEFFF_FFFF;
const PROC_UTS_INIT_INO: u64 = 0xEFFF_FFFE;
const PROC_PID_INIT_INO: u64 = 0xEFFF_FFFC;
const PROC_CGROUP_INIT_INO: u64 = 0xEFFF_FFFB;

/// Whether `/proc/self/ns/<kind>` is the kernel's initial namespace of that kind.
fn initial_namespace(host: &dyn Host, kind: &str, initial: u64) -> Sign {
    let mut sign = Sign::default();
    let path = format!("/proc/self/ns/{kind}");
    let Ok(link) = host.read_link(Path::new(&path)) else {
        return sign;
    };
    // `ipc:[4026531839]`
    let inode = link
        .strip_prefix(kind)
        .and_then(|rest| rest.strip_prefix(":["))
        .and_then(|rest| rest.strip_suffix(']'))
        .and_then(|number| number.parse::<u64>().ok());
    if inode == Some(initial) {
        sign.likely = true;
        sign.signs.push(format!(
            "{path} is {link}: the kernel's initial {kind} namespace"
        ));
    }
    sign
}

fn host_pid_namespace(host: &dyn Host) -> Sign {
    let mut sign = initial_namespace(host, "pid", PROC_PID_INIT_INO);
    // Kernel threads live in the initial PID namespace only, and kthreadd is always PID 2 there.
    if let Some(status) = read_text(host, "/proc/2/status") {
        if status
            .lines()
            .next()
            .is_some_and(|line| line.ends_with("kthreadd"))
        {
            sign.likely = true;
            sign.signs
                .push("PID 2 is kthreadd: the host's PID namespace".to_owned());
        }
    }
    if let Some(comm) = read_text(host, "/proc/1/comm") {
        sign.signs.push(format!("PID 1 is {}", comm.trim()));
    }
    sign
}

fn host_network_namespace(host: &dyn Host) -> Sign {
    let mut sign = Sign::default();
    if let Some(dev) = read_text(host, "/proc/self/net/dev") {
        let host_interfaces: Vec<&str> = dev
            .lines()
            .skip(2)
            .filter_map(|line| line.split_once(':').map(|(name, _)| name.trim()))
            .filter(|name| {
                HOST_INTERFACES
                    .iter()
                    .any(|prefix| name.starts_with(prefix))
            })
            .collect();
        if !host_interfaces.is_empty() {
            sign.likely = true;
            sign.signs.push(format!(
                "host interfaces visible: {}",
                host_interfaces.join(", ")
            ));
        }
    }
    const UNIX_LIMIT: usize = 4 << 20;
    if let Some(unix) = read_text_limited(host, "/proc/self/net/unix", UNIX_LIMIT) {
        let mut host_sockets: Vec<&str> = unix
            .lines()
            .skip(1)
            .filter_map(|line| line.split_whitespace().nth(7))
            .filter(|path| HOST_UNIX_SOCKETS.iter().any(|marker| path.contains(marker)))
            .collect();
        host_sockets.sort_unstable();
        host_sockets.dedup();
        if !host_sockets.is_empty() {
            sign.likely = true;
            let shown: Vec<&str> = host_sockets.iter().take(3).copied().collect();
            sign.signs.push(format!(
                "host daemons' unix sockets in this network namespace: {}",
                shown.join(", ")
            ));
        }
    }
    sign
}

fn cgroup(host: &dyn Host, mounts: &[&Mount]) -> Cgroup {
    let cgroup_mounts: Vec<&&Mount> = mounts
        .iter()
        .filter(|mount| mount.fstype == "cgroup" || mount.fstype == "cgroup2")
        .collect();
    let version = if cgroup_mounts.iter().any(|mount| mount.fstype == "cgroup") {
        Some(1)
    } else if cgroup_mounts.is_empty() {
        None
    } else {
        Some(2)
    };
    let release_agent_writable = cgroup_mounts
        .iter()
        .filter(|mount| mount.fstype == "cgroup")
        .map(|mount| format!("{}/release_agent", mount.target))
        .filter(|path| host.can_open_for_write(Path::new(path)))
        .collect();
    Cgroup {
        version,
        writable: cgroup_mounts.iter().any(|mount| !mount.read_only()),
        release_agent_writable,
        release_agent_escape: false,
    }
}

fn extra_devices(host: &dyn Host) -> Vec<DeviceNode> {
    let mut devices = Vec::new();
    let Ok(entries) = host.read_dir(Path::new("/dev")) else {
        return devices;
    };
    for (name, kind) in entries.into_iter().take(MAX_DIR_ENTRIES) {
        let path = format!("/dev/{name}");
        match kind {
            FileKind::Dir if !matches!(name.as_str(), "pts" | "shm" | "mqueue") => {
                let Ok(inner) = host.read_dir(Path::new(&path)) else {
                    continue;
                };
                for (inner_name, _) in inner.into_iter().take(MAX_DIR_ENTRIES) {
                    push_device(host, format!("{path}/{inner_name}"), &mut devices);
                }
            }
            FileKind::CharDevice | FileKind::BlockDevice
                if !DEFAULT_DEVICES.contains(&name.as_str()) =>
            {
                push_device(host, path, &mut devices);
            }
            _ => {}
        }
    }
    devices
}

fn push_device(host: &dyn Host, path: String, devices: &mut Vec<DeviceNode>) {
    let Ok(info) = host.stat(Path::new(&path)) else {
        return;
    };
    let kind = match info.kind {
        FileKind::CharDevice => "char",
        FileKind::BlockDevice => "block",
        _ => return,
    };
    devices.push(DeviceNode {
        path,
        kind: kind.to_owned(),
        major: info.device.0,
        minor: info.device.1,
    });
}

fn host_root_mounts(host: &dyn Host, mounts: &[&Mount]) -> Vec<String> {
    mounts
        .iter()
        .filter(|mount| {
            matches!(mount.kind(None), MountKind::HostBind | MountKind::Other)
                && mount.root == "/"
                && mount.fstype != "tmpfs"
        })
        .filter(|mount| {
            let Ok(entries) = host.read_dir(Path::new(&mount.target)) else {
                return false;
            };
            let has_dir = |wanted: &str| {
                entries.iter().any(|(name, kind)| {
                    name == wanted && matches!(kind, FileKind::Dir | FileKind::Symlink)
                })
            };
            has_dir("etc") && (has_dir("usr") || has_dir("bin"))
        })
        .map(|mount| mount.target.clone())
        .collect()
}

fn privileged(status: &Status, mounts: &[&Mount], report: &ProbeReport) -> Sign {
    let mut sign = Sign::default();
    let Some(last_cap) = report.capabilities.last_cap else {
        return sign;
    };
    let full = full_mask(last_cap);
    let held = (status.cap_bounding & full).count_ones();
    let total = last_cap + 1;
    // Judge by the 38 capabilities every kernel since 3.16 has (bits 0–37): an engine older than the
    // kernel grants only the capabilities it knows (Docker 20.10's ALL lacks PERFMON, BPF and
    // CHECKPOINT_RESTORE), and a host or VM sandbox may lack one itself, which even --privileged
    // cannot grant. Two missing are tolerated.
    let classic = status.cap_bounding & full & CLASSIC_CAPABILITIES;
    let classic_total = total.min(CLASSIC_CAPABILITIES.count_ones());
    let nearly_all = classic.count_ones() + 2 >= classic_total;
    sign.signs.push(format!(
        "bounding set holds {held} of this kernel's {total} capabilities"
    ));
    if report.seccomp.mode == "disabled" {
        sign.signs.push("seccomp disabled".to_owned());
    }
    let masked = mounts
        .iter()
        .any(|mount| MASKED_PATHS.contains(&mount.target.as_str()) || mount.target == "/proc/sys");
    if !masked {
        sign.signs
            .push("no masked or read-only /proc and /sys paths".to_owned());
    }
    if report.escape.sysfs_writable {
        sign.signs.push("/sys mounted read-write".to_owned());
    }
    if !report.escape.extra_devices.is_empty() {
        sign.signs.push(format!(
            "{} device nodes beyond the default set",
            report.escape.extra_devices.len()
        ));
    }
    if report.lsm.as_deref() == Some("unconfined") {
        sign.signs.push("LSM label unconfined".to_owned());
    }
    sign.likely = nearly_all && (!masked || report.escape.sysfs_writable);
    sign
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn socket_kinds() {
        assert_eq!(socket_kind("/var/run/docker.sock"), Some(("docker", true)));
        assert_eq!(
            socket_kind("/run/containerd/containerd.sock"),
            Some(("containerd", false))
        );
        assert_eq!(socket_kind("/tmp/.X11-unix/X0"), None);
    }
}
