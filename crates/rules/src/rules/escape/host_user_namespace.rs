use leastpriv_model::{Container, Namespace, Remedy, SourceKind};

use crate::engine::Checker;
use crate::helpers::runtime::{fix_for, host_namespace};
use crate::rule::Check;

crate::declare_rule! {
    /// ## What it does
    /// Flags a container that opts out of the engine's user-namespace remapping: Compose
    /// `userns_mode: host`, `docker run --userns=host`. Kubernetes `hostUsers: true` is its default
    /// and stays quiet (setting `hostUsers: false` is the hardening).
    ///
    /// ## Why is this bad?
    /// On a daemon configured with `userns-remap`, root in a container is an unprivileged uid on the
    /// host. `userns_mode: host` undoes that for this container: its root is the host's uid 0 again,
    /// so any escape lands as host root. On a daemon without remapping it changes nothing, which is
    /// why the finding is low.
    ///
    /// ## Example
    /// ```yaml
    /// services:
    ///   app:
    ///     image: example/app
    ///     userns_mode: host
    /// ```
    ///
    /// Use instead: leave `userns_mode` unset so the daemon's remapping applies.
    ///
    /// ## Equivalents
    /// KICS compose 8af7162d · CIS Docker Benchmark 5.31 (and 2.9 for the daemon's `userns-remap`)
    pub(crate) static META = {
        name: "host-user-namespace",
        layer: Escape,
        severity: Low,
        fix: "Remove `userns_mode: host` so the daemon's user-namespace remapping applies",
    };
}

pub(crate) const CHECK: Check = Check::Container(check);

fn check(checker: &mut Checker<'_>, container: &Container) {
    if container.kind == SourceKind::Kubernetes {
        return;
    }
    let Some(runtime) = &container.runtime else {
        return;
    };
    let Some(span) = host_namespace(runtime.namespaces.user.as_ref()) else {
        return;
    };
    let fix = fix_for(
        container,
        "remove `userns_mode: host`",
        "set `hostUsers: false`",
        "remove `--userns=host`",
    );
    checker
        .report(
            span,
            "container opts out of user-namespace remapping: on a daemon with `userns-remap`, its root is the host's root",
        )
        .fix(fix)
        .remedy(Remedy::UsePrivateNamespace(Namespace::User));
}

#[cfg(test)]
mod tests {
    use leastpriv_model::{NamespaceMode, Namespaces, Runtime, SourceKind};

    use crate::testing::Source;

    #[test]
    fn fires_for_docker_sources_not_kubernetes_defaults() {
        let source = Source::new();
        let runtime = Runtime {
            namespaces: Namespaces {
                user: Some(source.at(2, NamespaceMode::Host)),
                ..Namespaces::default()
            },
            ..Runtime::default()
        };
        assert_eq!(
            source.lines("LP119", SourceKind::Compose, runtime.clone()),
            [2]
        );
        assert!(source
            .lines("LP119", SourceKind::Kubernetes, runtime)
            .is_empty());
    }
}
