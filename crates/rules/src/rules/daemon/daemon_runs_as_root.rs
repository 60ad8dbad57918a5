use leastpriv_model::Daemon;

use crate::engine::Checker;
use crate::rule::Check;

crate::declare_rule! {
    /// ## What it does
    /// Flags a running Docker daemon that is not in rootless mode: `docker info` lists no
    /// `name=rootless` security option, and the `dockerd` process, when visible in `/proc`, runs as
    /// uid 0.
    ///
    /// It judges only what the engine reports: a `daemon.json` cannot say who runs the daemon.
    ///
    /// ## Why is this bad?
    /// The daemon does whatever its API is asked, as the user it runs as. A rootful daemon turns
    /// every path to its API (a mounted `docker.sock`, a member of the `docker` group, a TCP
    /// listener, a daemon bug) and every container escape into root on the host. A rootless daemon
    /// runs as an ordinary user inside a user namespace: the same paths end as that user.
    ///
    /// ## Example
    /// ```text
    /// $ docker info --format '{{json .SecurityOptions}}'
    /// ["name=seccomp,profile=default"]
    /// ```
    ///
    /// Use instead: the rootless daemon, as the user who runs the containers:
    /// ```text
    /// $ dockerd-rootless-setuptool.sh install
    /// $ docker context use rootless
    /// $ docker info --format '{{json .SecurityOptions}}'
    /// ["name=seccomp,profile=builtin","name=rootless","name=cgroupns"]
    /// ```
    ///
    /// ## Known problems
    /// Rootless mode cannot do everything a rootful daemon does (binding ports below 1024 without
    /// `net.ipv4.ip_unprivileged_port_start`, AppArmor, some storage drivers and network modes);
    /// where it does not fit, `userns-remap` (LP702) keeps container root off host root. Podman and
    /// other engines are not judged.
    ///
    /// ## Equivalents
    /// CIS Docker Benchmark 2.1 (manual) · docker-bench-security `check_2_1` (prints INFO only)
    pub(crate) static META = {
        name: "daemon-runs-as-root",
        layer: Daemon,
        severity: Medium,
        fix: "Run the daemon in rootless mode (`dockerd-rootless-setuptool.sh install`)",
    };
}

pub(crate) const CHECK: Check = Check::Daemon(check);

fn check(checker: &mut Checker<'_>, daemon: &Daemon) {
    let Some(state) = &daemon.state else {
        return;
    };
    if state.rootless.is_some() {
        return;
    }
    match &state.process_user {
        Some(uid) if uid.value == 0 => {
            checker.report(
                uid.span,
                "the docker daemon runs as root (uid 0) without rootless mode: whoever controls it is root on the host",
            );
        }
        // Not uid 0 yet not rootless: an unusual setup this rule cannot judge.
        Some(_) => {}
        None => {
            checker.report(
                state.security_options,
                "the docker daemon is not in rootless mode (no `name=rootless` security option): whoever controls it is root on the host",
            );
        }
    }
}
