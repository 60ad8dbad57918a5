use leastpriv_model::Daemon;

use super::setting_left_at;
use crate::engine::Checker;
use crate::rule::Check;

crate::declare_rule! {
    /// ## What it does
    /// Flags a Docker daemon that lets containers on the default bridge talk to each other: `icc`
    /// unset (it defaults to `true`) or `true`, or `"icc": false` made ineffective by
    /// `"iptables": false` (the bridge enforces `icc` with firewall rules that dockerd then does not
    /// write). A daemon without a default bridge (`"bridge": "none"`) is not flagged.
    ///
    /// ## Why is this bad?
    /// Every container started without `--network` joins the default bridge. With inter-container
    /// communication on, a compromised container reaches every port of every other one there:
    /// databases, admin endpoints, metrics with secrets, services that trust their network. With
    /// `icc` off, containers that must talk are put on a user-defined network together, so reach is
    /// granted rather than assumed.
    ///
    /// ## Example
    /// ```json
    /// {
    ///   "log-driver": "journald"
    /// }
    /// ```
    ///
    /// Use instead:
    /// ```json
    /// {
    ///   "log-driver": "journald",
    ///   "icc": false
    /// }
    /// ```
    /// and `docker network create app` for the containers that must reach each other.
    ///
    /// ## Known problems
    /// `icc` governs only the default bridge: containers on one user-defined network (every Compose
    /// project has one) still reach each other. Legacy `--link` needs `icc` unless its ports are
    /// exposed. A flag on the daemon's command line is seen only with `--engine`.
    ///
    /// ## Equivalents
    /// CIS Docker Benchmark 2.2 · docker-bench-security `check_2_2`
    pub(crate) static META = {
        name: "inter-container-communication-enabled",
        layer: Daemon,
        severity: Low,
        fix: "Set `\"icc\": false` in daemon.json; put containers that must talk on a user-defined network",
    };
}

pub(crate) const CHECK: Check = Check::Daemon(check);

fn check(checker: &mut Checker<'_>, daemon: &Daemon) {
    let Some(config) = &daemon.config else {
        return;
    };
    if config
        .bridge
        .as_ref()
        .is_some_and(|bridge| bridge.value == "none")
    {
        return;
    }
    if let Some((span, set)) = setting_left_at(config, config.icc.as_ref(), true) {
        let message = if set {
            "inter-container communication is on (`icc: true`): every container on the default bridge reaches every other"
        } else {
            "inter-container communication is on (`icc` is not set to false): every container on the default bridge reaches every other"
        };
        checker.report(span, message);
        return;
    }
    let icc_off = config.icc.as_ref().is_some_and(|icc| !icc.value);
    if let Some(iptables) = config.iptables.as_ref().filter(|iptables| !iptables.value) {
        if icc_off {
            checker
                .report(
                    iptables.span,
                    "`icc: false` has no effect with `iptables: false`: the firewall rules that enforce it are not written",
                )
                .fix("Remove `\"iptables\": false` so that dockerd writes the rules that enforce `icc`");
        }
    }
}
