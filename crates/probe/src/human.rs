//! The readable rendering of a [`ProbeReport`]: one section per layer, `!` before what an attacker
//! could use.

use std::io::{self, Write};

use crate::report::{ProbeReport, SyscallStatus};

/// Device nodes listed before "… and N more" (a privileged container sees every host device).
const SHOWN_DEVICES: usize = 8;

/// Writes `report` for a person.
pub fn write_human(report: &ProbeReport, out: &mut dyn Write) -> io::Result<()> {
    let runtime = match &report.container.detected {
        Some(runtime) => format!(", in {runtime}"),
        None => String::new(),
    };
    writeln!(
        out,
        "leastpriv probe: kernel {}{runtime}, {:.1} ms",
        report.kernel.as_deref().unwrap_or("unknown"),
        report.duration_us as f64 / 1000.0
    )?;

    writeln!(out, "\nidentity")?;
    let name = report
        .user_name
        .as_ref()
        .map(|name| format!(" ({name})"))
        .unwrap_or_default();
    let mark = if report.uid == 0 { "!" } else { " " };
    writeln!(
        out,
        "{mark} uid {}{name}  gid {}  groups {}",
        report.uid,
        report.gid,
        list(report.groups.iter().map(u32::to_string))
    )?;
    let host_uid = report
        .host_uid
        .map_or_else(|| "unmapped".to_owned(), |uid| uid.to_string());
    let namespace = if report.user_namespace.private {
        "private user namespace"
    } else {
        "the host's user namespace"
    };
    let mark = if report.host_uid == Some(0) { "!" } else { " " };
    writeln!(out, "{mark} host uid {host_uid} ({namespace})")?;

    writeln!(out, "\ncapabilities")?;
    let caps = &report.capabilities;
    let docker = if caps.docker_default {
        " (Docker's default set)"
    } else {
        ""
    };
    for (label, set, suffix) in [
        ("effective", &caps.effective, ""),
        ("permitted", &caps.permitted, ""),
        ("bounding", &caps.bounding, docker),
        ("ambient", &caps.ambient, ""),
        ("inheritable", &caps.inheritable, ""),
    ] {
        writeln!(out, "  {label:<12} {}{suffix}", counted(set))?;
    }
    let mark = if caps.dangerous.is_empty() { " " } else { "!" };
    writeln!(
        out,
        "{mark} {:<12} {}",
        "dangerous",
        counted(&caps.dangerous)
    )?;

    writeln!(out, "\nconfinement")?;
    let mark = if report.no_new_privs { " " } else { "!" };
    let nnp = if report.no_new_privs { "on" } else { "off" };
    writeln!(out, "{mark} no_new_privs {nnp}")?;
    let seccomp = &report.seccomp;
    let filters = seccomp
        .filters
        .map(|count| format!(" ({count} filter{})", if count == 1 { "" } else { "s" }))
        .unwrap_or_default();
    let mark = if seccomp.mode == "disabled" { "!" } else { " " };
    writeln!(out, "{mark} seccomp {}{filters}", seccomp.mode)?;
    writeln!(out, "    blocked  {}", counted(&seccomp.blocked))?;
    let mark = if seccomp.allowed.is_empty() { " " } else { "!" };
    writeln!(out, "{mark}   allowed  {}", counted(&seccomp.allowed))?;
    if !seccomp.denied.is_empty() {
        writeln!(
            out,
            "    denied   {} (refused by the kernel's own check first)",
            counted(&seccomp.denied)
        )?;
    }
    let unimplemented: Vec<&str> = seccomp
        .syscalls
        .iter()
        .filter(|result| result.status == SyscallStatus::Unimplemented)
        .map(|result| result.name.as_str())
        .collect();
    if !unimplemented.is_empty() {
        writeln!(out, "    not in this kernel  {}", unimplemented.join(" "))?;
    }
    if !seccomp.differs_from_docker_default.is_empty() {
        writeln!(
            out,
            "    differs from Docker's default profile: {}",
            seccomp.differs_from_docker_default.join(" ")
        )?;
    }
    match (&report.lsm, &report.lsm_kind) {
        (Some(label), Some(kind)) => {
            let mark = if label == "unconfined" { "!" } else { " " };
            writeln!(out, "{mark} LSM {kind}: {label}")?;
        }
        _ => writeln!(out, "  LSM none")?,
    }

    writeln!(out, "\nfilesystem")?;
    let (mark, root) = if report.rootfs_read_only {
        (" ", "read-only")
    } else if report.rootfs_writable_by_process {
        ("!", "read-write, writable by this process")
    } else {
        (" ", "read-write, not writable by this process")
    };
    writeln!(out, "{mark} root {root}")?;
    writeln!(
        out,
        "  writable mounts  {}",
        list(report.writable_mounts.iter())
    )?;
    writeln!(
        out,
        "  tmpfs  {}",
        list(report.tmpfs_mounts.iter().map(|tmpfs| {
            if tmpfs.options.is_empty() {
                tmpfs.target.clone()
            } else {
                format!("{} ({})", tmpfs.target, tmpfs.options.join(","))
            }
        }))
    )?;
    for bind in &report.host_bind_mounts {
        let mode = if bind.read_only { "ro" } else { "rw" };
        let mark = if bind.read_only { " " } else { "!" };
        writeln!(
            out,
            "{mark} host bind  {} ← {} ({}, {mode})",
            bind.target, bind.host_path, bind.source
        )?;
    }

    writeln!(out, "\nescape")?;
    let escape = &report.escape;
    for socket in &escape.engine_sockets {
        let reach = match (socket.connectable, socket.answers) {
            (_, true) => format!(
                "answers{}",
                socket
                    .api_version
                    .as_ref()
                    .map(|version| format!(" (API {version})"))
                    .unwrap_or_default()
            ),
            (true, false) => "connectable".to_owned(),
            (false, _) => "present, cannot connect".to_owned(),
        };
        writeln!(
            out,
            "! engine socket {} ({}): {reach}",
            socket.path, socket.kind
        )?;
    }
    if escape.engine_sockets.is_empty() {
        writeln!(out, "  engine sockets  none")?;
    }
    for (label, sign) in [
        ("privileged", &escape.privileged),
        ("host PID namespace", &escape.host_pid_namespace),
        ("host network namespace", &escape.host_network_namespace),
        ("host IPC namespace", &escape.host_ipc_namespace),
        ("host UTS namespace", &escape.host_uts_namespace),
        ("host cgroup namespace", &escape.host_cgroup_namespace),
    ] {
        let mark = if sign.likely { "!" } else { " " };
        let verdict = if sign.likely { "likely" } else { "no" };
        writeln!(out, "{mark} {label}: {verdict}")?;
        for observation in &sign.signs {
            writeln!(out, "      {observation}")?;
        }
    }
    let mark = if escape.writable_kernel_files.is_empty() {
        " "
    } else {
        "!"
    };
    writeln!(
        out,
        "{mark} writable kernel files  {}",
        list(escape.writable_kernel_files.iter())
    )?;
    let mark = if escape.sysfs_writable { "!" } else { " " };
    let sysfs = if escape.sysfs_writable {
        "read-write"
    } else {
        "read-only"
    };
    writeln!(out, "{mark} /sys {sysfs}")?;
    let cgroup = &escape.cgroup;
    let version = cgroup
        .version
        .map_or_else(|| "cgroup unknown".to_owned(), |v| format!("cgroup v{v}"));
    let mark = if cgroup.release_agent_escape || !cgroup.release_agent_writable.is_empty() {
        "!"
    } else {
        " "
    };
    writeln!(
        out,
        "{mark} {version}, {}, release_agent writable: {}, mountable for the release_agent escape: {}",
        if cgroup.writable { "read-write" } else { "read-only" },
        list(cgroup.release_agent_writable.iter()),
        if cgroup.release_agent_escape { "yes" } else { "no" }
    )?;
    let mark = if escape.extra_devices.is_empty() {
        " "
    } else {
        "!"
    };
    let mut devices = list(
        escape
            .extra_devices
            .iter()
            .take(SHOWN_DEVICES)
            .map(|device| {
                format!(
                    "{} ({} {}:{})",
                    device.path, device.kind, device.major, device.minor
                )
            }),
    );
    if escape.extra_devices.len() > SHOWN_DEVICES {
        devices.push_str(&format!(
            " … and {} more",
            escape.extra_devices.len() - SHOWN_DEVICES
        ));
    }
    writeln!(out, "{mark} devices beyond the default  {devices}")?;
    let mark = if escape.host_root_mounts.is_empty() {
        " "
    } else {
        "!"
    };
    writeln!(
        out,
        "{mark} host root filesystem mounted  {}",
        list(escape.host_root_mounts.iter())
    )?;

    writeln!(out, "\nsecrets")?;
    let mark = if report.secret_env_names.is_empty() {
        " "
    } else {
        "!"
    };
    writeln!(
        out,
        "{mark} environment  {}",
        list(report.secret_env_names.iter())
    )?;
    writeln!(
        out,
        "  files  {}",
        list(report.secret_files.iter().map(|file| format!(
            "{} ({}, uid {}, {})",
            file.path,
            file.mode,
            file.uid,
            if file.readable {
                "readable"
            } else {
                "not readable"
            }
        )))
    )?;
    Ok(())
}

fn list<T: AsRef<str>>(items: impl Iterator<Item = T>) -> String {
    let joined: Vec<String> = items.map(|item| item.as_ref().to_owned()).collect();
    if joined.is_empty() {
        "none".to_owned()
    } else {
        joined.join(" ")
    }
}

/// `14: CHOWN DAC_OVERRIDE …` with the `CAP_` prefix dropped for width.
fn counted(names: &[String]) -> String {
    if names.is_empty() {
        return "none".to_owned();
    }
    let short: Vec<&str> = names
        .iter()
        .map(|name| name.strip_prefix("CAP_").unwrap_or(name))
        .collect();
    format!("{}: {}", names.len(), short.join(" "))
}
