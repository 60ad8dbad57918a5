use leastpriv_model::{Container, Namespace, Remedy};

use crate::engine::Checker;
use crate::helpers::runtime::{fix_for, host_namespace};
use crate::rule::Check;

crate::declare_rule! {
    /// ## What it does
    /// Flags a container that shares the host's IPC namespace: Compose `ipc: host`, `docker run
    /// --ipc=host`, Kubernetes `hostIPC: true`.
    ///
    /// ## Why is this bad?
    /// The container reads and writes the host's System V shared memory, semaphores and message
    /// queues and its `/dev/shm`: data of host processes (databases, browsers, X11) and a way to
    /// tamper with them.
    ///
    /// ## Example
    /// ```yaml
    /// services:
    ///   app:
    ///     image: example/app
    ///     ipc: host
    /// ```
    ///
    /// Use instead: leave `ipc` unset (`private`), or `ipc: shareable` on one service and
    /// `ipc: service:<name>` on the one that must share memory with it.
    ///
    /// ## Equivalents
    /// trivy KSV-0008 · checkov CKV_K8S_18, CKV_K8S_3 · KICS compose baa3890f · CIS Docker Benchmark
    /// 5.17 · Pod Security Standards baseline "Host Namespaces" · polaris hostIPCSet
    pub(crate) static META = {
        name: "host-ipc-namespace",
        layer: Escape,
        severity: Medium,
        fix: "Use a private IPC namespace",
        pss: Baseline,
    };
}

pub(crate) const CHECK: Check = Check::Container(check);

fn check(checker: &mut Checker<'_>, container: &Container) {
    let Some(runtime) = &container.runtime else {
        return;
    };
    let Some(span) = host_namespace(runtime.namespaces.ipc.as_ref()) else {
        return;
    };
    let fix = fix_for(
        container,
        "remove `ipc: host`",
        "remove `hostIPC: true`",
        "remove `--ipc=host`",
    );
    checker
        .report(
            span,
            "container shares the host's IPC namespace: it reads and writes host processes' shared memory",
        )
        .fix(fix)
        .remedy(Remedy::UsePrivateNamespace(Namespace::Ipc));
}

#[cfg(test)]
mod tests {
    use leastpriv_model::{NamespaceMode, Namespaces, Runtime, SourceKind};

    use crate::testing::Source;

    #[test]
    fn fires_on_host_ipc_only() {
        let source = Source::new();
        let runtime = |mode| Runtime {
            namespaces: Namespaces {
                ipc: Some(source.at(2, mode)),
                ..Namespaces::default()
            },
            ..Runtime::default()
        };
        assert_eq!(
            source.lines("LP117", SourceKind::Compose, runtime(NamespaceMode::Host)),
            [2]
        );
        assert!(source
            .lines(
                "LP117",
                SourceKind::Compose,
                runtime(NamespaceMode::Private)
            )
            .is_empty());
    }
}
