use leastpriv_model::{Container, Namespace, Remedy, SourceKind};

use crate::engine::Checker;
use crate::helpers::runtime::{fix_for, host_namespace};
use crate::rule::Check;

crate::declare_rule! {
    /// ## What it does
    /// Flags a container that uses the host's cgroup namespace: Compose `cgroup: host`, `docker run
    /// --cgroupns=host`. In `docker inspect` output the daemon's default looks the same, so there it
    /// is left to the daemon rule `host-cgroup-namespace-by-default` (LP714).
    ///
    /// ## Why is this bad?
    /// The container sees the host's whole cgroup hierarchy in `/proc/self/cgroup` and
    /// `/sys/fs/cgroup`: the names and resource settings of every other container and service. With a
    /// writable cgroup filesystem (privileged, or `SYS_ADMIN` on cgroup v1) that view is the start of
    /// the `release_agent` escape. A private cgroup namespace is the default on cgroup v2 hosts.
    ///
    /// ## Example
    /// ```yaml
    /// services:
    ///   app:
    ///     image: example/app
    ///     cgroup: host
    /// ```
    ///
    /// Use instead: leave it unset, or `cgroup: private`.
    ///
    /// ## Equivalents
    /// None of trivy, checkov, KICS or docker-bench checks it.
    pub(crate) static META = {
        name: "host-cgroup-namespace",
        layer: Escape,
        severity: Low,
        fix: "Use a private cgroup namespace",
    };
}

pub(crate) const CHECK: Check = Check::Container(check);

fn check(checker: &mut Checker<'_>, container: &Container) {
    // `docker inspect` reports the daemon's default as if it were set (`CgroupnsMode: host` on
    // cgroup v1 hosts): that default is `host-cgroup-namespace-by-default`'s finding, once.
    if container.kind == SourceKind::DockerInspect {
        return;
    }
    let Some(runtime) = &container.runtime else {
        return;
    };
    let Some(span) = host_namespace(runtime.namespaces.cgroup.as_ref()) else {
        return;
    };
    let fix = fix_for(
        container,
        "remove `cgroup: host` (or set `cgroup: private`)",
        "remove the host cgroup namespace setting",
        "remove `--cgroupns=host` (or use `--cgroupns=private`)",
    );
    checker
        .report(
            span,
            "container uses the host's cgroup namespace: it sees every other container's and service's cgroups",
        )
        .fix(fix)
        .remedy(Remedy::UsePrivateNamespace(Namespace::Cgroup));
}

#[cfg(test)]
mod tests {
    use leastpriv_model::{NamespaceMode, Namespaces, Runtime, SourceKind};

    use crate::testing::Source;

    #[test]
    fn fires_on_host_cgroup_namespace() {
        let source = Source::new();
        let runtime = Runtime {
            namespaces: Namespaces {
                cgroup: Some(source.at(2, NamespaceMode::Host)),
                ..Namespaces::default()
            },
            ..Runtime::default()
        };
        assert_eq!(
            source.lines("LP120", SourceKind::Compose, runtime.clone()),
            [2]
        );
        assert!(source
            .lines("LP120", SourceKind::DockerInspect, runtime)
            .is_empty());
    }
}
