use leastpriv_model::{Container, Namespace, Remedy};

use crate::engine::Checker;
use crate::helpers::runtime::{adds_capability, fix_for, host_namespace, is_privileged};
use crate::rule::Check;
use crate::Severity;

crate::declare_rule! {
    /// ## What it does
    /// Flags a container that shares the host's PID namespace: Compose `pid: host`, `docker run
    /// --pid=host`, Kubernetes `hostPID: true`. With `SYS_PTRACE` (or privileged) the finding is
    /// critical.
    ///
    /// ## Why is this bad?
    /// The container sees every process on the host, their command lines and (as the same user) their
    /// environments, and root in it can signal them. With `SYS_PTRACE` it can attach to a host process
    /// and run code as it; with privileged mode `nsenter -t 1 -a` is a host shell.
    ///
    /// ## Example
    /// ```yaml
    /// services:
    ///   monitor:
    ///     image: example/monitor
    ///     pid: host
    /// ```
    ///
    /// Use instead: leave `pid` unset (a private PID namespace), or share one service's namespace
    /// (`pid: service:app`) when a sidecar must see its processes.
    ///
    /// ## Equivalents
    /// trivy KSV-0010 · checkov CKV_K8S_17, CKV_K8S_1 · KICS compose 4f31dd9f · CIS Docker Benchmark
    /// 5.16 · Pod Security Standards baseline "Host Namespaces" · polaris hostPIDSet
    pub(crate) static META = {
        name: "host-pid-namespace",
        layer: Escape,
        severity: High,
        fix: "Use a private PID namespace",
        pss: Baseline,
        also: [Critical],
    };
}

pub(crate) const CHECK: Check = Check::Container(check);

fn check(checker: &mut Checker<'_>, container: &Container) {
    let Some(runtime) = &container.runtime else {
        return;
    };
    let Some(span) = host_namespace(runtime.namespaces.pid.as_ref()) else {
        return;
    };
    let takeover = is_privileged(runtime) || adds_capability(runtime, "SYS_PTRACE");
    let (severity, message) = if takeover {
        (
            Severity::Critical,
            "container shares the host's PID namespace and can trace or enter host processes (SYS_PTRACE or privileged): a host shell is one `nsenter` away",
        )
    } else {
        (
            Severity::High,
            "container shares the host's PID namespace: it sees every host process with its command line and can signal them",
        )
    };
    let fix = fix_for(
        container,
        "remove `pid: host`",
        "Remove `hostPID: true`",
        "remove `--pid=host`",
    );
    checker
        .report(span, message)
        .severity(severity)
        .fix(fix)
        .remedy(Remedy::UsePrivateNamespace(Namespace::Pid));
}

#[cfg(test)]
mod tests {
    use leastpriv_model::{Capability, NamespaceMode, Namespaces, Runtime, SourceKind};

    use crate::testing::Source;
    use crate::Severity;

    #[test]
    fn host_pid_is_high_and_critical_with_ptrace() {
        let source = Source::new();
        let host = Runtime {
            namespaces: Namespaces {
                pid: Some(source.at(2, NamespaceMode::Host)),
                ..Namespaces::default()
            },
            ..Runtime::default()
        };
        let found = source.run(
            "LP115",
            &[source.container(SourceKind::Compose, host.clone())],
        );
        assert_eq!((found[0].line, found[0].severity), (2, Severity::High));
        let ptrace = Runtime {
            cap_add: vec![source.at(3, Capability::parse("cap_sys_ptrace"))],
            ..host
        };
        let found = source.run("LP115", &[source.container(SourceKind::Kubernetes, ptrace)]);
        assert_eq!(found[0].severity, Severity::Critical);
        assert_eq!(found[0].fix, "Remove `hostPID: true`");

        let shared = Runtime {
            namespaces: Namespaces {
                pid: Some(source.at(2, NamespaceMode::Shared("service:app".into()))),
                ..Namespaces::default()
            },
            ..Runtime::default()
        };
        assert!(source
            .lines("LP115", SourceKind::Compose, shared)
            .is_empty());
    }
}
