use leastpriv_model::Daemon;

use crate::engine::Checker;
use crate::rule::Check;

crate::declare_rule! {
    /// ## What it does
    /// Flags a Docker daemon that puts containers in the host's cgroup namespace by default:
    /// `"default-cgroupns-mode": "host"` in `daemon.json`, or a running engine that does not report
    /// the `name=cgroupns` security option (the default on cgroup v1 hosts, and with that setting).
    ///
    /// ## Why is this bad?
    /// In the host's cgroup namespace a container sees the host's cgroup hierarchy: `/proc/self/cgroup`
    /// names its own container id and path, and a mounted cgroup filesystem shows every other
    /// container's and the host's services. That is reconnaissance an attacker should not get for
    /// free. A private cgroup namespace shows a container only its own subtree, as `/`.
    ///
    /// ## Example
    /// ```json
    /// {
    ///   "default-cgroupns-mode": "host"
    /// }
    /// ```
    ///
    /// Use instead:
    /// ```json
    /// {
    ///   "default-cgroupns-mode": "private"
    /// }
    /// ```
    /// On cgroup v1 hosts, moving the host to cgroup v2 (`systemd.unified_cgroup_hierarchy=1`) makes
    /// `private` the default and removes cgroup v1's `release_agent` altogether.
    ///
    /// ## Known problems
    /// Tools that manage cgroups from a container (systemd as PID 1 in some images, monitoring agents)
    /// may need `--cgroupns=host` for themselves.
    ///
    /// ## Equivalents
    /// No static tool checks it at the daemon. Per container: leastpriv LP120
    /// (`host-cgroup-namespace`)
    pub(crate) static META = {
        name: "host-cgroup-namespace-by-default",
        layer: Daemon,
        severity: Low,
        fix: "Set `\"default-cgroupns-mode\": \"private\"` in daemon.json",
    };
}

pub(crate) const CHECK: Check = Check::Daemon(check);

fn check(checker: &mut Checker<'_>, daemon: &Daemon) {
    let configured_host = daemon
        .config
        .as_ref()
        .and_then(|config| config.default_cgroupns_mode.as_ref())
        .filter(|mode| mode.value == "host");
    if let Some(state) = &daemon.state {
        if state.cgroupns.is_none() {
            let diagnostic = checker.report(
                state.security_options,
                "containers share the host's cgroup namespace by default (no `name=cgroupns` security option)",
            );
            if let Some(mode) = configured_host {
                diagnostic.related(mode.span, "the default is set here");
            }
        }
        return;
    }
    if let Some(mode) = configured_host {
        checker.report(
            mode.span,
            "containers share the host's cgroup namespace by default (`default-cgroupns-mode: host`)",
        );
    }
}
