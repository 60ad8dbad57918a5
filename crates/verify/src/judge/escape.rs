//! The escape layer: nothing that leads out of the container: no privileged mode, no engine socket
//! (even mounted read-only, even one this user cannot connect to: root in the container can), the
//! container's own PID, network and IPC namespaces, no host device and no sensitive host path. The
//! audit rules that judge the same facts in a configuration (LP110, LP111, LP112, LP115–LP121) weigh
//! each observation; one nobody configured is a broken promise besides.

use leastpriv_model::NamespaceMode;
use leastpriv_probe::{ProbeReport, Sign};
use leastpriv_rules::judgement::{host_device, host_path_mount};
use leastpriv_rules::Severity;

use super::{listed, same_path, within, Checks, Promises, Setting};
use crate::expect::Expectation;

pub(super) fn judge(promises: &Promises<'_>, probe: &ProbeReport, checks: &mut Checks) {
    privileged(promises, probe, checks);
    namespaces(promises, probe, checks);
    engine_sockets(promises, probe, checks);
    host_mounts(promises, probe, checks);
    if !promises.privileged() {
        devices(promises, probe, checks);
    }
    if !checks.failed() {
        checks.pass(
            "no escape path: not privileged, no engine socket, the container's own PID, network \
             and IPC namespaces, no host device or sensitive host path",
        );
    }
    expectations(promises, probe, checks);
}

fn privileged(promises: &Promises<'_>, probe: &ProbeReport, checks: &mut Checks) {
    let signs = &probe.escape.privileged;
    let flag = promises.name(Setting::Privileged);
    if promises.privileged() {
        let mut text = format!("{flag}: {}", listed(&signs.signs));
        if probe.escape.cgroup.release_agent_escape {
            text.push_str("; the cgroup release_agent escape is open");
        }
        checks.finding("LP110", text);
    } else if signs.likely {
        // Every capability with the masks lifted is privileged mode in all but name; when the
        // configuration asks for both, the capabilities and confinement layers judge them.
        let asked = promises.adds("SYS_ADMIN") || promises.runtime.unmasked_paths.is_some();
        if asked {
            checks.note(format!(
                "privileged in all but name, as {} and {} ask: {}",
                promises.name(Setting::CapAdd),
                promises.name(Setting::SystemPathsUnconfined),
                listed(&signs.signs)
            ));
        } else {
            checks.broken(
                Some("LP110"),
                format!(
                    "privileged-mode signs without {flag}: {}",
                    listed(&signs.signs)
                ),
            );
        }
    }
    let cgroup = &probe.escape.cgroup;
    if !promises.privileged() && !cgroup.release_agent_writable.is_empty() {
        let text = format!(
            "a cgroup release_agent is writable ({}): code on the host, run by the kernel",
            listed(&cgroup.release_agent_writable)
        );
        // Through a host mount (a recursive bind of `/` brings the host's cgroup mounts along).
        let mounted = cgroup.release_agent_writable.iter().all(|path| {
            promises
                .runtime
                .mounts
                .iter()
                .any(|mount| within(path, &mount.value.target))
        });
        if mounted {
            checks.finding_at("LP112", Severity::Critical, text);
        } else {
            checks.broken(None, text);
        }
    }
}

/// The host's namespaces, seen from inside (or, where the probe cannot see one, configured).
fn namespaces(promises: &Promises<'_>, probe: &ProbeReport, checks: &mut Checks) {
    let configured = &promises.runtime.namespaces;
    let escape = &probe.escape;
    let host = |mode: &Option<leastpriv_model::Spanned<NamespaceMode>>| {
        mode.as_ref()
            .is_some_and(|mode| mode.value == NamespaceMode::Host)
    };
    // Docker's default is a private namespace of each kind but cgroup (the host's on cgroup v1
    // before Docker 20.10's `default-cgroupns-mode`): seeing the host's is a broken promise.
    let kinds: [(&str, &str, &Sign, bool, bool); 5] = [
        (
            "PID",
            "LP115",
            &escape.host_pid_namespace,
            host(&configured.pid),
            true,
        ),
        (
            "network",
            "LP116",
            &escape.host_network_namespace,
            host(&configured.network),
            true,
        ),
        (
            "IPC",
            "LP117",
            &escape.host_ipc_namespace,
            host(&configured.ipc),
            true,
        ),
        (
            "UTS",
            "LP118",
            &escape.host_uts_namespace,
            host(&configured.uts),
            true,
        ),
        (
            "cgroup",
            "LP120",
            &escape.host_cgroup_namespace,
            host(&configured.cgroup),
            false,
        ),
    ];
    for (kind, rule, sign, configured, private_by_default) in kinds {
        let seen = if sign.likely {
            listed(&sign.signs)
        } else {
            "configured; not visible from inside this kernel".to_owned()
        };
        if sign.likely && !configured && private_by_default {
            checks.broken(
                Some(rule),
                format!("the host's {kind} namespace, although not configured: {seen}"),
            );
        } else if sign.likely || configured {
            checks.finding(rule, format!("the host's {kind} namespace ({seen})"));
        }
    }
    if host(&configured.user) {
        checks.finding(
            "LP119",
            format!(
                "{}: opts out of user-namespace remapping (the daemon layer judges whose root \
                 this is)",
                promises.name(Setting::UsernsHost)
            ),
        );
    }
}

fn engine_sockets(promises: &Promises<'_>, probe: &ProbeReport, checks: &mut Checks) {
    for socket in &probe.escape.engine_sockets {
        let mounted = promises
            .runtime
            .mounts
            .iter()
            .any(|mount| within(&socket.path, &mount.value.target));
        let reach = if socket.answers {
            "it answers"
        } else if socket.connectable {
            "connectable"
        } else {
            "not connectable by this user, but by root in the container"
        };
        let read_only = probe
            .host_bind_mounts
            .iter()
            .any(|bind| same_path(&bind.target, &socket.path) && bind.read_only);
        let how = if read_only {
            "mounted read-only, which does not stop API calls; "
        } else {
            ""
        };
        let text = format!(
            "engine socket {} ({how}{reach}): whoever reaches it controls the engine and its host",
            socket.path
        );
        if mounted {
            checks.finding("LP111", text);
        } else {
            checks.broken(Some("LP111"), format!("{text}, although not mounted"));
        }
    }
}

/// Host paths bind-mounted in: the host's root, its configuration, credentials, binaries or
/// container state, and directories that hold an engine socket. A recursive bind brings the host's
/// own submounts along; they are judged with the mount that brought them.
fn host_mounts(promises: &Promises<'_>, probe: &ProbeReport, checks: &mut Checks) {
    let configured = |target: &str| {
        promises
            .runtime
            .mounts
            .iter()
            .find(|mount| same_path(&mount.value.target, target))
    };
    let binds = &probe.host_bind_mounts;
    let top_level = binds.iter().filter(|bind| {
        !binds
            .iter()
            .any(|outer| outer.target != bind.target && within(&bind.target, &outer.target))
    });
    let mut reported: Vec<&str> = Vec::new();
    for bind in top_level {
        let mount = configured(&bind.target);
        // The configuration names the host path; mountinfo only the path inside the source
        // filesystem, which is the host's path only when that is the host's root filesystem.
        let host_path = match mount.and_then(|mount| mount.value.host_path()) {
            Some(path) => path,
            None if bind.host_path == "/"
                && !probe.escape.host_root_mounts.contains(&bind.target) =>
            {
                continue
            }
            None => bind.host_path.as_str(),
        };
        let socket_seen = probe
            .escape
            .engine_sockets
            .iter()
            .any(|socket| within(&socket.path, &bind.target));
        let Some((rule, severity, message)) = host_path_mount(host_path, bind.read_only) else {
            continue;
        };
        if rule == "LP111" && socket_seen {
            continue;
        }
        reported.push(&bind.target);
        let text = format!("{message} at {}", bind.target);
        if mount.is_some() {
            checks.finding_at(rule, severity, text);
        } else {
            checks.broken(Some(rule), format!("{text}, although nobody mounted it"));
        }
    }
    let roots: Vec<&String> = probe
        .escape
        .host_root_mounts
        .iter()
        .filter(|root| !reported.iter().any(|target| within(root, target)))
        .collect();
    if !roots.is_empty() {
        let text = format!("a host's root filesystem is mounted at {}", listed(&roots));
        if roots.iter().any(|root| configured(root).is_some()) {
            checks.finding("LP112", text);
        } else {
            checks.broken(Some("LP112"), format!("{text}, although nobody mounted it"));
        }
    }
}

fn devices(promises: &Promises<'_>, probe: &ProbeReport, checks: &mut Checks) {
    for device in &probe.escape.extra_devices {
        let configured = promises
            .runtime
            .devices
            .iter()
            .any(|mapped| same_path(&mapped.value.container, &device.path));
        // The probe cannot tell the cgroup's access mode: judged as writable, Docker's default.
        let (severity, message) = host_device(&device.path, true);
        let text = format!(
            "{message} ({} {}:{})",
            device.kind, device.major, device.minor
        );
        if configured {
            checks.finding_at("LP121", severity, text);
        } else {
            checks.broken(
                Some("LP121"),
                format!(
                    "{text}, although nobody mapped it with {}",
                    promises.name(Setting::Devices)
                ),
            );
        }
    }
}

fn expectations(promises: &Promises<'_>, probe: &ProbeReport, checks: &mut Checks) {
    let escape = &probe.escape;
    if promises.expects(Expectation::NoEngineSocket) {
        checks.promise(
            escape.engine_sockets.is_empty(),
            "expect no-engine-socket: none found",
            format!(
                "expect no-engine-socket: {} reachable",
                listed(escape.engine_sockets.iter().map(|socket| &socket.path))
            ),
        );
    }
    if promises.expects(Expectation::NoHostNamespaces) {
        let configured = &promises.runtime.namespaces;
        let host = |mode: &Option<leastpriv_model::Spanned<NamespaceMode>>| {
            mode.as_ref()
                .is_some_and(|mode| mode.value == NamespaceMode::Host)
        };
        let shared = escape.host_pid_namespace.likely
            || escape.host_network_namespace.likely
            || escape.host_ipc_namespace.likely
            || host(&configured.pid)
            || host(&configured.network)
            || host(&configured.ipc);
        checks.promise(
            !shared,
            "expect no-host-namespaces: own PID, network and IPC namespaces",
            "expect no-host-namespaces: the container shares a host namespace",
        );
    }
    if promises.expects(Expectation::NotPrivileged) {
        checks.promise(
            !escape.privileged.likely,
            "expect not-privileged: no privileged-mode signs",
            format!(
                "expect not-privileged: {}",
                listed(&escape.privileged.signs)
            ),
        );
    }
}
