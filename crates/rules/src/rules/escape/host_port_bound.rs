use leastpriv_model::{Container, SourceKind};

use crate::engine::Checker;
use crate::rule::Check;

crate::declare_rule! {
    /// ## What it does
    /// Flags a Kubernetes container port bound on the node (`ports[].hostPort`). Compose and `docker
    /// run` publish ports on the host by design and stay quiet.
    ///
    /// ## Why is this bad?
    /// A `hostPort` opens the port on every address of the node, outside the cluster's Services and
    /// network policies, limits the pod to one replica per node, and lets the pod take a port that a
    /// node service expects. The Pod Security Standards forbid it at `baseline`.
    ///
    /// ## Example
    /// ```yaml
    /// apiVersion: v1
    /// kind: Pod
    /// metadata:
    ///   name: web
    /// spec:
    ///   containers:
    ///     - name: web
    ///       image: example/web
    ///       ports:
    ///         - containerPort: 8080
    ///           hostPort: 8080
    /// ```
    ///
    /// Use instead: a Service (or an Ingress) in front of the pod.
    /// ```yaml
    /// apiVersion: v1
    /// kind: Pod
    /// metadata:
    ///   name: web
    /// spec:
    ///   containers:
    ///     - name: web
    ///       image: example/web
    ///       ports:
    ///         - containerPort: 8080
    /// ```
    ///
    /// ## Equivalents
    /// trivy KSV-0024 · checkov CKV_K8S_26 · Pod Security Standards baseline "Host Ports"
    pub(crate) static META = {
        name: "host-port-bound",
        layer: Escape,
        severity: Low,
        fix: "Remove `hostPort` and expose the port through a Service",
        pss: Baseline,
    };
}

pub(crate) const CHECK: Check = Check::Container(check);

fn check(checker: &mut Checker<'_>, container: &Container) {
    if container.kind != SourceKind::Kubernetes {
        return;
    }
    let Some(runtime) = &container.runtime else {
        return;
    };
    for port in &runtime.ports {
        let Some(host_port) = port.value.host_port.filter(|&port| port != 0) else {
            continue;
        };
        checker.report(
            port.span,
            format!("container port is bound on the node as `hostPort: {host_port}`, outside Services and network policies"),
        );
    }
}

#[cfg(test)]
mod tests {
    use leastpriv_model::{PortMapping, Protocol, Runtime, SourceKind};

    use crate::testing::Source;

    #[test]
    fn fires_for_kubernetes_host_ports() {
        let source = Source::new();
        let port = |line, host_port| {
            source.at(
                line,
                PortMapping {
                    host_ip: None,
                    host_port,
                    container_port: Some(8080),
                    protocol: Protocol::Tcp,
                },
            )
        };
        let runtime = Runtime {
            ports: vec![port(2, Some(8080)), port(3, None), port(4, Some(0))],
            ..Runtime::default()
        };
        assert_eq!(
            source.lines("LP124", SourceKind::Kubernetes, runtime.clone()),
            [2]
        );
        assert!(source
            .lines("LP124", SourceKind::Compose, runtime)
            .is_empty());
    }
}
