use leastpriv_model::Daemon;

use crate::engine::Checker;
use crate::rule::Check;

crate::declare_rule! {
    /// ## What it does
    /// Flags a rootful Docker daemon that does not remap container users into a user namespace: the
    /// engine reports neither `name=userns` nor `name=rootless`, or the `daemon.json` has no
    /// `userns-remap` (or an empty one).
    ///
    /// A `daemon.json` at a rootless daemon's place (`~/.config/docker/daemon.json`) is not judged:
    /// rootless mode is a user namespace already.
    ///
    /// ## Why is this bad?
    /// Without a user namespace, uid 0 in a container is uid 0 on the host. Every container escape,
    /// writable host mount or leaked file descriptor then acts as host root. With `userns-remap`,
    /// container root maps to an unprivileged range from `/etc/subuid` (such as 100000–165535): the
    /// same escape lands as a user who owns nothing.
    ///
    /// ## Example
    /// ```json
    /// {
    ///   "log-driver": "json-file"
    /// }
    /// ```
    ///
    /// Use instead:
    /// ```json
    /// {
    ///   "log-driver": "json-file",
    ///   "userns-remap": "default"
    /// }
    /// ```
    /// `default` creates the `dockremap` user and its `/etc/subuid` and `/etc/subgid` ranges.
    ///
    /// ## Known problems
    /// Remapping changes who owns the files of volumes and bind mounts, and a container that needs
    /// the host's user namespace (`--privileged`, `--userns=host`, some host-network tools) must opt
    /// out per container. Images and containers already created are not visible under the new
    /// mapping until recreated. Settings on the daemon's command line are seen only with
    /// `--engine`.
    ///
    /// ## Equivalents
    /// CIS Docker Benchmark 2.9 · docker-bench-security `check_2_9` · (per container: CIS 5.31,
    /// KICS compose 8af7162d)
    pub(crate) static META = {
        name: "userns-remap-disabled",
        layer: Daemon,
        severity: Medium,
        fix: "Set `\"userns-remap\": \"default\"` in daemon.json (or run the daemon rootless)",
    };
}

pub(crate) const CHECK: Check = Check::Daemon(check);

const MESSAGE: &str =
    "the daemon does not remap users (`userns-remap`): root in a container is root on the host";

fn check(checker: &mut Checker<'_>, daemon: &Daemon) {
    if let Some(state) = &daemon.state {
        if state.rootless.is_none() && state.userns.is_none() {
            let diagnostic = checker.report(state.security_options, MESSAGE);
            if let Some(config) = &daemon.config {
                diagnostic.related(
                    config.anchor,
                    "the daemon's configuration, where `userns-remap` goes",
                );
            }
        }
        return;
    }
    let Some(config) = &daemon.config else {
        return;
    };
    if config.rootless_location {
        return;
    }
    match &config.userns_remap {
        Some(remap) if remap.value.trim().is_empty() => {
            checker.report(remap.span, MESSAGE);
        }
        Some(_) => {}
        None if config.complete => {
            checker.report(config.anchor, MESSAGE);
        }
        None => {}
    }
}
