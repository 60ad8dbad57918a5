//! The escape layer: nothing that leads out of the container beyond what the flags ask for: no
//! privileged-mode signs, the container's own PID and network namespaces, no engine socket, read-only
//! kernel control files and `/sys`, the default devices, no host root filesystem.

use leastpriv_model::NamespaceMode;
use leastpriv_probe::ProbeReport;

use super::{listed, same_path, Checks, Promises, Setting};
use crate::expect::Expectation;

pub(super) fn judge(promises: &Promises<'_>, probe: &ProbeReport, checks: &mut Checks) {
    let runtime = promises.runtime;
    let escape = &probe.escape;
    let failures_before = checks.failures.len();

    if promises.privileged() {
        checks.note(format!(
            "{}: {}",
            promises.name(Setting::Privileged),
            listed(&escape.privileged.signs)
        ));
    } else {
        // All capabilities with the masks lifted is --privileged in all but name, but asked for.
        let asked = promises.adds("SYS_ADMIN") || runtime.unmasked_paths.is_some();
        if escape.privileged.likely && !asked {
            checks.fail(format!(
                "privileged-mode signs without {}: {}",
                promises.name(Setting::Privileged),
                listed(&escape.privileged.signs)
            ));
        }
        let unmasked = runtime.unmasked_paths.is_some();
        if !escape.writable_kernel_files.is_empty() && !unmasked {
            checks.fail(format!(
                "kernel control files writable: {}",
                listed(&escape.writable_kernel_files)
            ));
        }
        if escape.sysfs_writable {
            checks.fail("/sys is mounted read-write");
        }
        let configured_devices: Vec<&str> = runtime
            .devices
            .iter()
            .map(|device| device.value.container.as_str())
            .collect();
        let extra: Vec<&str> = escape
            .extra_devices
            .iter()
            .map(|device| device.path.as_str())
            .filter(|path| !configured_devices.contains(path))
            .collect();
        if !extra.is_empty() {
            checks.fail(format!("devices nobody configured: {}", listed(extra)));
        }
        if escape.cgroup.release_agent_escape || !escape.cgroup.release_agent_writable.is_empty() {
            checks.fail("the cgroup release_agent escape is open");
        }
    }

    namespace(
        checks,
        "PID",
        runtime.namespaces.pid.as_ref().map(|mode| &mode.value),
        escape.host_pid_namespace.likely,
        &escape.host_pid_namespace.signs,
    );
    namespace(
        checks,
        "network",
        runtime.namespaces.network.as_ref().map(|mode| &mode.value),
        escape.host_network_namespace.likely,
        &escape.host_network_namespace.signs,
    );

    for socket in &escape.engine_sockets {
        let mounted = runtime
            .mounts
            .iter()
            .any(|mount| same_path(&mount.value.target, &socket.path));
        let reach = if socket.answers {
            "and it answers"
        } else if socket.connectable {
            "connectable"
        } else {
            "not connectable by this user"
        };
        if mounted {
            checks.note(format!(
                "engine socket {} mounted as configured, {reach}",
                socket.path
            ));
        } else {
            checks.fail(format!(
                "engine socket {} reachable although not mounted, {reach}",
                socket.path
            ));
        }
    }

    let mounts_host_root = runtime
        .mounts
        .iter()
        .any(|mount| mount.value.host_path() == Some("/"));
    if !escape.host_root_mounts.is_empty() && !mounts_host_root {
        checks.fail(format!(
            "a host root filesystem is mounted at {}",
            listed(&escape.host_root_mounts)
        ));
    }

    if !promises.privileged() && checks.failures.len() == failures_before {
        checks.pass(
            "no escape path beyond the configuration: not privileged, kernel files and /sys \
             read-only, default devices, no unconfigured engine socket",
        );
    }

    if promises.expects(Expectation::NoEngineSocket) {
        checks.check(
            escape.engine_sockets.is_empty(),
            "expect no-engine-socket: none found",
            format!(
                "expect no-engine-socket: {} reachable",
                listed(escape.engine_sockets.iter().map(|socket| &socket.path))
            ),
        );
    }
    if promises.expects(Expectation::NoHostNamespaces) {
        checks.check(
            !escape.host_pid_namespace.likely && !escape.host_network_namespace.likely,
            "expect no-host-namespaces: own PID and network namespaces",
            "expect no-host-namespaces: the container shares a host namespace",
        );
    }
    if promises.expects(Expectation::NotPrivileged) {
        checks.check(
            !escape.privileged.likely,
            "expect not-privileged: no privileged-mode signs",
            format!(
                "expect not-privileged: {}",
                listed(&escape.privileged.signs)
            ),
        );
    }
}

fn namespace(
    checks: &mut Checks,
    name: &str,
    configured: Option<&NamespaceMode>,
    shared_with_host: bool,
    signs: &[String],
) {
    match (configured == Some(&NamespaceMode::Host), shared_with_host) {
        (true, _) => checks.note(format!(
            "host {name} namespace, as configured ({})",
            listed(signs)
        )),
        (false, true) => checks.fail(format!(
            "the host's {name} namespace, although not configured: {}",
            listed(signs)
        )),
        (false, false) => {}
    }
}
