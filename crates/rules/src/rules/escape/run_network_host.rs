use leastpriv_model::{Container, Namespace, Remedy};

use crate::engine::Checker;
use crate::helpers::build::runs_with_trigger;
use crate::rule::Check;

crate::declare_rule! {
    /// ## What it does
    /// Flags `RUN --network=host`, in any stage and in `ONBUILD RUN` triggers.
    ///
    /// ## Why is this bad?
    /// The build step joins the build host's network namespace. It can reach every service bound
    /// to the host's loopback (a Docker API on `127.0.0.1:2375`, databases, cloud agents, the
    /// kubelet), abstract Unix sockets in that namespace (the containerd-shim escape,
    /// CVE-2020-15257, used exactly these), and it bypasses any network policy applied to build
    /// containers. Dependencies downloaded by the step run their install scripts with that reach.
    /// BuildKit requires the `network.host` entitlement (`--allow network.host`) for it.
    ///
    /// ## Example
    /// ```dockerfile
    /// RUN --network=host npm ci
    /// ```
    ///
    /// Use instead:
    /// ```dockerfile
    /// RUN --mount=type=cache,target=/root/.npm npm ci
    /// ```
    /// The default build network reaches the internet; a registry mirror or a cache mount replaces
    /// the usual reasons for host networking. Use `--network=none` for steps that need no network.
    ///
    /// ## Equivalents
    /// hadolint: none (its parser reads the flag, no rule uses it) · trivy: none · checkov: none ·
    /// dockle: none · CIS Docker Benchmark 5.10 (host network namespace) by analogy
    pub(crate) static META = {
        name: "run-network-host",
        layer: Escape,
        severity: High,
        fix: "Remove `--network=host`: the default build network reaches the internet, and a cache mount or registry mirror covers the rest",
    };
}

pub(crate) const CHECK: Check = Check::Container(check);

fn check(checker: &mut Checker<'_>, container: &Container) {
    let Some(build) = &container.build else {
        return;
    };
    for stage in &build.stages {
        for (run, trigger) in runs_with_trigger(stage) {
            let Some(network) = &run.flags.network else {
                continue;
            };
            if !network.value.eq_ignore_ascii_case("host") {
                continue;
            }
            checker
                .report(
                    network.span,
                    format!("`{trigger}RUN --network=host` runs the build step in the build host's network namespace"),
                )
                .remedy(Remedy::UsePrivateNamespace(Namespace::Network));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::META;
    use crate::dockerfile_testing::findings;

    #[test]
    fn fires_on_host_networking() {
        let found = findings(&META, "FROM node:20\nRUN --network=host npm ci\n");
        assert_eq!(
            found,
            ["2: high `RUN --network=host` runs the build step in the build host's network namespace"]
        );
    }

    #[test]
    fn stays_silent_on_other_networks() {
        let found = findings(
            &META,
            "FROM node:20\nRUN --network=none npm test\nRUN --network=default npm ci\n",
        );
        assert!(found.is_empty(), "{found:?}");
    }
}
