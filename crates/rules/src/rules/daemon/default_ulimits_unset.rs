use leastpriv_model::Daemon;

use crate::engine::Checker;
use crate::rule::Check;

crate::declare_rule! {
    /// ## What it does
    /// Flags a Docker daemon configuration that sets no `default-ulimits` (`--default-ulimit`), so
    /// every container inherits the limits of the daemon's own process.
    ///
    /// ## Why is this bad?
    /// dockerd usually runs with very high limits (`LimitNOFILE=infinity` or `1048576` in its unit),
    /// and containers inherit them: one container can open files and sockets until the host's tables
    /// are exhausted, starving every other container and the host's own services. Default ulimits
    /// give every container a bounded share unless it asks for more (`--ulimit`).
    ///
    /// ## Example
    /// ```json
    /// {
    ///   "live-restore": true
    /// }
    /// ```
    ///
    /// Use instead:
    /// ```json
    /// {
    ///   "live-restore": true,
    ///   "default-ulimits": {
    ///     "nofile": {"Name": "nofile", "Soft": 1024, "Hard": 65536}
    ///   }
    /// }
    /// ```
    /// Bound processes with `--pids-limit` per container (or `pids_limit:` in Compose): the
    /// `nproc` ulimit counts per host user, so it does not isolate containers that share a uid.
    ///
    /// ## Known problems
    /// A denial-of-service guard rather than a privilege one, hence `info`; the right values depend
    /// on the workloads. A flag on the daemon's command line is seen only with `--engine`.
    ///
    /// ## Equivalents
    /// CIS Docker Benchmark 2.8 (manual) · docker-bench-security `check_2_8`
    pub(crate) static META = {
        name: "default-ulimits-unset",
        layer: Daemon,
        severity: Info,
        fix: "Set `default-ulimits` (at least `nofile`) in daemon.json",
    };
}

pub(crate) const CHECK: Check = Check::Daemon(check);

fn check(checker: &mut Checker<'_>, daemon: &Daemon) {
    let Some(config) = &daemon.config else {
        return;
    };
    if config.complete && config.default_ulimits.is_empty() {
        checker.report(
            config.anchor,
            "no `default-ulimits`: containers inherit the daemon's own, usually unbounded, limits",
        );
    }
}
