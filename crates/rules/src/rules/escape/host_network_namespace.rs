use leastpriv_model::{Container, Namespace, Remedy};

use crate::engine::Checker;
use crate::helpers::runtime::{adds_capability, fix_for, host_namespace, is_privileged};
use crate::rule::Check;
use crate::Severity;

crate::declare_rule! {
    /// ## What it does
    /// Flags a container that shares the host's network namespace: Compose `network_mode: host`,
    /// `docker run --network host`, Kubernetes `hostNetwork: true`. With `NET_ADMIN` (or privileged)
    /// the finding is critical.
    ///
    /// ## Why is this bad?
    /// The container reaches every service bound to the host's loopback (an engine API on
    /// `127.0.0.1:2375`, the kubelet, cloud metadata proxies, containerd's abstract socket,
    /// CVE-2020-15257), sniffs the host's traffic with the default `NET_RAW`, and binds host ports.
    /// With `NET_ADMIN` it rewrites the host's firewall and routes.
    ///
    /// ## Example
    /// ```yaml
    /// services:
    ///   media:
    ///     image: example/media
    ///     network_mode: host
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// services:
    ///   media:
    ///     image: example/media
    ///     ports: ["32400:32400"]
    /// ```
    ///
    /// ## Known problems
    /// Discovery protocols (mDNS, DLNA) and some network agents need the host's network; suppress the
    /// finding with a reason.
    ///
    /// ## Equivalents
    /// trivy KSV-0009 · checkov CKV_K8S_19, CKV_K8S_4 · KICS compose 071a71ff · CIS Docker Benchmark
    /// 5.10 · Pod Security Standards baseline "Host Namespaces" · polaris hostNetworkSet
    pub(crate) static META = {
        name: "host-network-namespace",
        layer: Escape,
        severity: High,
        fix: "Use the container's own network namespace and publish the ports it serves",
        pss: Baseline,
        also: [Critical],
    };
}

pub(crate) const CHECK: Check = Check::Container(check);

fn check(checker: &mut Checker<'_>, container: &Container) {
    let Some(runtime) = &container.runtime else {
        return;
    };
    let Some(span) = host_namespace(runtime.namespaces.network.as_ref()) else {
        return;
    };
    let (severity, message) = if is_privileged(runtime) || adds_capability(runtime, "NET_ADMIN") {
        (
            Severity::Critical,
            "container shares the host's network namespace with NET_ADMIN (or privileged): it can rewrite the host's firewall and routes and reach every local service",
        )
    } else {
        (
            Severity::High,
            "container shares the host's network namespace: it reaches services on the host's loopback, sees its traffic and binds its ports",
        )
    };
    let fix = fix_for(
        container,
        "remove `network_mode: host` and publish the ports the service serves with `ports:`",
        "remove `hostNetwork: true` and expose the ports through a Service",
        "remove `--network host` and publish the ports with `-p`",
    );
    checker
        .report(span, message)
        .severity(severity)
        .fix(fix)
        .remedy(Remedy::UsePrivateNamespace(Namespace::Network));
}

#[cfg(test)]
mod tests {
    use leastpriv_model::{Capability, NamespaceMode, Namespaces, Runtime, SourceKind};

    use crate::testing::Source;
    use crate::Severity;

    #[test]
    fn host_network_is_high_and_critical_with_net_admin() {
        let source = Source::new();
        let host = Runtime {
            namespaces: Namespaces {
                network: Some(source.at(4, NamespaceMode::Host)),
                ..Namespaces::default()
            },
            ..Runtime::default()
        };
        let found = source.run(
            "LP116",
            &[source.container(SourceKind::DockerRun, host.clone())],
        );
        assert_eq!((found[0].line, found[0].severity), (4, Severity::High));
        assert!(found[0].fix.contains("--network host"));
        let admin = Runtime {
            cap_add: vec![source.at(5, Capability::parse("NET_ADMIN"))],
            ..host
        };
        let found = source.run("LP116", &[source.container(SourceKind::Compose, admin)]);
        assert_eq!(found[0].severity, Severity::Critical);
        assert!(source
            .lines("LP116", SourceKind::Compose, Runtime::default())
            .is_empty());
    }
}
