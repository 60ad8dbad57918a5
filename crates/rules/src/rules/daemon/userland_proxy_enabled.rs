use leastpriv_model::Daemon;

use super::setting_left_at;
use crate::engine::Checker;
use crate::rule::Check;

crate::declare_rule! {
    /// ## What it does
    /// Flags a Docker daemon that runs the userland proxy: `userland-proxy` unset (it defaults to
    /// `true`) or `true`.
    ///
    /// ## Why is this bad?
    /// For every published port the daemon starts a `docker-proxy` process, running as root on the
    /// host, that copies traffic into the container: more root code facing the network, one process
    /// per port, and the container sees connections from the bridge's gateway instead of the real
    /// client address (so address-based allow lists inside the container allow everyone). With
    /// `userland-proxy: false`, published ports are forwarded by the kernel's NAT rules alone.
    ///
    /// ## Example
    /// ```json
    /// {
    ///   "icc": false
    /// }
    /// ```
    ///
    /// Use instead:
    /// ```json
    /// {
    ///   "icc": false,
    ///   "userland-proxy": false
    /// }
    /// ```
    ///
    /// ## Known problems
    /// Hardening with trade-offs, hence `info`: without the proxy, dockerd relies on NAT rules and
    /// `route_localnet` for traffic to ports published on `127.0.0.1`, which in some releases has
    /// exposed such localhost-only ports to neighbouring hosts; old kernels without hairpin NAT need
    /// the proxy. A flag on the daemon's command line is seen only with `--engine`.
    ///
    /// ## Equivalents
    /// CIS Docker Benchmark 2.16 · docker-bench-security `check_2_16`
    pub(crate) static META = {
        name: "userland-proxy-enabled",
        layer: Daemon,
        severity: Info,
        fix: "Set `\"userland-proxy\": false` in daemon.json",
    };
}

pub(crate) const CHECK: Check = Check::Daemon(check);

fn check(checker: &mut Checker<'_>, daemon: &Daemon) {
    let Some(config) = &daemon.config else {
        return;
    };
    if let Some((span, _)) = setting_left_at(config, config.userland_proxy.as_ref(), true) {
        checker.report(
            span,
            "published ports go through the root `docker-proxy` process (`userland-proxy` is on)",
        );
    }
}
