use leastpriv_model::{Confinement, Container, NamespaceMode, Remedy};

use crate::engine::Checker;
use crate::helpers::runtime::fix_for;
use crate::rule::Check;
use crate::Severity;

crate::declare_rule! {
    /// ## What it does
    /// Flags a container whose `/proc` and `/sys` are not masked: Compose `security_opt:
    /// [systempaths=unconfined]`, `docker run --security-opt systempaths=unconfined`, Kubernetes
    /// `procMount: Unmasked`. Medium when the container has its own user namespace (Kubernetes
    /// `hostUsers: false`, which `Unmasked` requires on current clusters), high otherwise.
    ///
    /// ## Why is this bad?
    /// The runtime masks `/proc/kcore`, `/proc/keys`, `/proc/timer_list`, `/sys/firmware` … and makes
    /// `/proc/sys`, `/proc/sysrq-trigger` and `/proc/irq` read-only. Unmasked, root in the container
    /// writes host-wide kernel settings such as `/proc/sys/kernel/core_pattern` — a command the host
    /// kernel runs as root on the next crash — wherever no AppArmor profile stops it.
    ///
    /// ## Example
    /// ```yaml
    /// services:
    ///   builder:
    ///     image: example/builder
    ///     security_opt: ["systempaths=unconfined"]
    /// ```
    ///
    /// Use instead: remove the option. Nested container builds work rootless (`buildah --isolation
    /// chroot`, BuildKit rootless) without it.
    ///
    /// ## Equivalents
    /// trivy KSV-0027 · Pod Security Standards baseline "/proc Mount Type"
    pub(crate) static META = {
        name: "proc-paths-unmasked",
        layer: Confinement,
        severity: High,
        fix: "Remove `systempaths=unconfined` / `procMount: Unmasked`",
        pss: Baseline,
        also: [Medium],
    };
}

pub(crate) const CHECK: Check = Check::Container(check);

fn check(checker: &mut Checker<'_>, container: &Container) {
    let Some(runtime) = &container.runtime else {
        return;
    };
    let Some(span) = runtime.unmasked_paths else {
        return;
    };
    let own_user_namespace = runtime
        .namespaces
        .user
        .as_ref()
        .is_some_and(|mode| mode.value == NamespaceMode::Private);
    let severity = if own_user_namespace {
        Severity::Medium
    } else {
        Severity::High
    };
    let fix = fix_for(
        container,
        "remove `systempaths=unconfined` from `security_opt`",
        "remove `procMount: Unmasked` (or set `procMount: Default`)",
        "remove `--security-opt systempaths=unconfined`",
    );
    checker
        .report(
            span,
            "`/proc` and `/sys` are unmasked: root in the container can write host-wide kernel settings such as `/proc/sys/kernel/core_pattern`",
        )
        .severity(severity)
        .fix(fix)
        .remedy(Remedy::RestoreConfinement(Confinement::ProcPaths));
}

#[cfg(test)]
mod tests {
    use leastpriv_model::{NamespaceMode, Namespaces, Runtime, SourceKind};

    use crate::testing::Source;
    use crate::Severity;

    #[test]
    fn high_unless_in_a_user_namespace() {
        let source = Source::new();
        let runtime = Runtime {
            unmasked_paths: Some(source.span(2)),
            ..Runtime::default()
        };
        let found = source.run(
            "LP406",
            &[source.container(SourceKind::Compose, runtime.clone())],
        );
        assert_eq!((found[0].line, found[0].severity), (2, Severity::High));
        let userns = Runtime {
            namespaces: Namespaces {
                user: Some(source.at(3, NamespaceMode::Private)),
                ..Namespaces::default()
            },
            ..runtime
        };
        let found = source.run("LP406", &[source.container(SourceKind::Kubernetes, userns)]);
        assert_eq!(found[0].severity, Severity::Medium);
        assert!(source
            .lines("LP406", SourceKind::Compose, Runtime::default())
            .is_empty());
    }
}
