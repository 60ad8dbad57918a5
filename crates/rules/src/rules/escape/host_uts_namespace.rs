use leastpriv_model::{Container, Namespace, Remedy};

use crate::engine::Checker;
use crate::helpers::runtime::{fix_for, host_namespace};
use crate::rule::Check;

crate::declare_rule! {
    /// ## What it does
    /// Flags a container that shares the host's UTS namespace: Compose `uts: host`, `docker run
    /// --uts=host`. (Kubernetes has no such setting.)
    ///
    /// ## Why is this bad?
    /// The container sees the host's real hostname and domain name, and with `SYS_ADMIN` (or
    /// privileged) it can change them for the whole host. It is a small leak, but no program needs it
    /// that a `hostname:` setting would not serve.
    ///
    /// ## Example
    /// ```yaml
    /// services:
    ///   app:
    ///     image: example/app
    ///     uts: host
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// services:
    ///   app:
    ///     image: example/app
    ///     hostname: app
    /// ```
    ///
    /// ## Equivalents
    /// CIS Docker Benchmark 5.21 (no trivy, checkov or KICS check)
    pub(crate) static META = {
        name: "host-uts-namespace",
        layer: Escape,
        severity: Low,
        fix: "Use a private UTS namespace and set `hostname:` if a name is needed",
    };
}

pub(crate) const CHECK: Check = Check::Container(check);

fn check(checker: &mut Checker<'_>, container: &Container) {
    let Some(runtime) = &container.runtime else {
        return;
    };
    let Some(span) = host_namespace(runtime.namespaces.uts.as_ref()) else {
        return;
    };
    let fix = fix_for(
        container,
        "remove `uts: host`; set `hostname:` if the program needs a name",
        "remove the host UTS setting",
        "remove `--uts=host`; set `--hostname` if the program needs a name",
    );
    checker
        .report(
            span,
            "container shares the host's UTS namespace: it sees the host's hostname and can change it with SYS_ADMIN",
        )
        .fix(fix)
        .remedy(Remedy::UsePrivateNamespace(Namespace::Uts));
}

#[cfg(test)]
mod tests {
    use leastpriv_model::{NamespaceMode, Namespaces, Runtime, SourceKind};

    use crate::testing::Source;

    #[test]
    fn fires_on_host_uts() {
        let source = Source::new();
        let runtime = Runtime {
            namespaces: Namespaces {
                uts: Some(source.at(3, NamespaceMode::Host)),
                ..Namespaces::default()
            },
            ..Runtime::default()
        };
        assert_eq!(source.lines("LP118", SourceKind::DockerRun, runtime), [3]);
        assert!(source
            .lines("LP118", SourceKind::DockerRun, Runtime::default())
            .is_empty());
    }
}
