use leastpriv_model::Daemon;

use super::setting_left_at;
use crate::engine::Checker;
use crate::rule::Check;

crate::declare_rule! {
    /// ## What it does
    /// Flags a Docker daemon without live restore: `LiveRestoreEnabled: false` in `docker info`, or
    /// `live-restore` unset (it defaults to `false`) or `false` in `daemon.json`. A node in an active
    /// swarm is not flagged: swarm mode does not support live restore.
    ///
    /// ## Why is this bad?
    /// Without live restore, stopping or upgrading the daemon stops every container on the host. That
    /// makes patching the engine (runc and containerd escapes are patched there) an outage to
    /// schedule, and so a patch that waits. With live restore, containers keep running while the
    /// daemon restarts.
    ///
    /// ## Example
    /// ```json
    /// {
    ///   "userns-remap": "default"
    /// }
    /// ```
    ///
    /// Use instead:
    /// ```json
    /// {
    ///   "userns-remap": "default",
    ///   "live-restore": true
    /// }
    /// ```
    ///
    /// ## Known problems
    /// An availability setting rather than a privilege one, hence `info`. Live restore does not carry
    /// containers across a daemon upgrade that skips a major version, and it does not cover
    /// containerd restarts.
    ///
    /// ## Equivalents
    /// CIS Docker Benchmark 2.15 · docker-bench-security `check_2_15`
    pub(crate) static META = {
        name: "live-restore-disabled",
        layer: Daemon,
        severity: Info,
        fix: "Set `\"live-restore\": true` in daemon.json",
    };
}

pub(crate) const CHECK: Check = Check::Daemon(check);

const MESSAGE: &str =
    "live restore is off: restarting or upgrading the daemon stops every container";

fn check(checker: &mut Checker<'_>, daemon: &Daemon) {
    if let Some(state) = &daemon.state {
        if state.swarm_active {
            return;
        }
        if let Some(live_restore) = state.live_restore.as_ref().filter(|value| !value.value) {
            let diagnostic = checker.report(live_restore.span, MESSAGE);
            if let Some(config) = &daemon.config {
                diagnostic.related(
                    config.anchor,
                    "the daemon's configuration, where `live-restore` goes",
                );
            }
        }
        return;
    }
    let Some(config) = &daemon.config else {
        return;
    };
    if let Some((span, _)) = setting_left_at(config, config.live_restore.as_ref(), false) {
        checker.report(span, MESSAGE);
    }
}
