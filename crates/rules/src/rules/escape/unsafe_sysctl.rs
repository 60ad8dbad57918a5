use leastpriv_model::{Container, SourceKind};

use crate::engine::Checker;
use crate::helpers::runtime::{fix_for, host_namespace};
use crate::rule::Check;
use crate::Severity;

crate::declare_rule! {
    /// ## What it does
    /// Flags a kernel parameter set for the container (Compose `sysctls:`, `docker run --sysctl`,
    /// Kubernetes `securityContext.sysctls`) that is not on the Pod Security Standards safe list:
    /// `kernel.shm_rmid_forced`, `net.ipv4.ip_local_port_range`, `net.ipv4.ip_local_reserved_ports`,
    /// `net.ipv4.ip_unprivileged_port_start`, `net.ipv4.ping_group_range`, `net.ipv4.tcp_syncookies`,
    /// `net.ipv4.tcp_keepalive_time`, `net.ipv4.tcp_keepalive_intvl`, `net.ipv4.tcp_keepalive_probes`,
    /// `net.ipv4.tcp_fin_timeout`, `net.ipv4.tcp_rmem`, `net.ipv4.tcp_wmem`.
    ///
    /// How bad that is depends on who enforces what, so each source is judged by its own runtime's
    /// lists:
    ///
    /// - Kubernetes: a namespaced parameter outside the safe list is medium (the kubelet runs it only
    ///   with `--allowed-unsafe-sysctls`, and the `baseline` level forbids it); one that is not
    ///   namespaced is low (the kubelet refuses the pod, so it is a mistake rather than an exposure).
    /// - Docker (Compose, `docker run`, `docker inspect`): Docker sets only namespaced parameters, and
    ///   sets them in the container's own namespace: the IPC ones (`kernel.msgmax`, `kernel.msgmnb`,
    ///   `kernel.msgmni`, `kernel.sem`, `kernel.shmall`, `kernel.shmmax`, `kernel.shmmni`,
    ///   `kernel.shm_rmid_forced`, `fs.mqueue.*`) unless the container shares the host's IPC
    ///   namespace, and `net.*` unless it shares the host's network. Such a parameter changes nothing
    ///   outside the container and is info only, for the Pod Security Standards (WireGuard's
    ///   `net.ipv4.conf.all.src_valid_mark`, a router's `net.ipv4.ip_forward`). Anything else is low:
    ///   Docker refuses to start the container.
    ///
    /// The lists are Docker's (`docker run --sysctl` reference: "Currently supported sysctls") and
    /// Kubernetes' ("Using sysctls in a Kubernetes Cluster": safe and namespaced sysctls).
    ///
    /// ## Why is this bad?
    /// Sysctls change the kernel the container shares with every other workload on the node. The
    /// safe list holds the ones isolated per pod; the others can exhaust node memory (`kernel.shmmax`,
    /// `kernel.msgmnb`), re-enable weaknesses (`net.ipv4.conf.all.route_localnet`, CVE-2020-8558), or
    /// need the kubelet's `--allowed-unsafe-sysctls` opt-in.
    ///
    /// ## Example
    /// ```yaml
    /// apiVersion: v1
    /// kind: Pod
    /// metadata:
    ///   name: app
    /// spec:
    ///   securityContext:
    ///     sysctls:
    ///       - name: kernel.msgmax
    ///         value: "65536"
    ///   containers:
    ///     - name: app
    ///       image: example/app
    /// ```
    ///
    /// Use instead: only parameters from the safe list, or tune the node itself.
    /// ```yaml
    /// apiVersion: v1
    /// kind: Pod
    /// metadata:
    ///   name: app
    /// spec:
    ///   securityContext:
    ///     sysctls:
    ///       - name: net.ipv4.ip_local_port_range
    ///         value: "1024 65535"
    ///   containers:
    ///     - name: app
    ///       image: example/app
    /// ```
    ///
    /// ## Equivalents
    /// trivy KSV-0026 · Pod Security Standards baseline "Sysctls" · kyverno restrict-sysctls
    pub(crate) static META = {
        name: "unsafe-sysctl",
        layer: Escape,
        severity: Medium,
        fix: "Set only sysctls from the Pod Security Standards safe list, or tune the node instead",
        pss: Baseline,
        also: [Low, Info],
    };
}

pub(crate) const CHECK: Check = Check::Container(check);

/// The Pod Security Standards safe sysctls (pod-security-admission `sysctlsAllowedV1Dot32`).
const SAFE: [&str; 12] = [
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.ping_group_range",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_rmem",
    "net.ipv4.tcp_wmem",
];

/// The IPC namespace's parameters that Docker and runc accept (with `fs.mqueue.*`). The kubelet
/// counts every `kernel.shm*` and `kernel.msg*` as namespaced.
const IPC: [&str; 8] = [
    "kernel.msgmax",
    "kernel.msgmnb",
    "kernel.msgmni",
    "kernel.sem",
    "kernel.shmall",
    "kernel.shmmax",
    "kernel.shmmni",
    "kernel.shm_rmid_forced",
];

/// The namespace a parameter belongs to, when the kernel namespaces it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Namespace {
    Ipc,
    Network,
}

/// The namespace of a parameter as the runtime reads it: the kubelet's groups for Kubernetes
/// (`kernel.shm*`, `kernel.msg*`, `kernel.sem`, `fs.mqueue.*`, `net.*`), runc's list for Docker.
fn namespace_of(name: &str, kubernetes: bool) -> Option<Namespace> {
    let kubelet_ipc =
        kubernetes && (name.starts_with("kernel.shm") || name.starts_with("kernel.msg"));
    if name.starts_with("net.") {
        Some(Namespace::Network)
    } else if kubelet_ipc || IPC.contains(&name) || name.starts_with("fs.mqueue.") {
        Some(Namespace::Ipc)
    } else {
        None
    }
}

fn check(checker: &mut Checker<'_>, container: &Container) {
    let Some(runtime) = &container.runtime else {
        return;
    };
    let kubernetes = container.kind == SourceKind::Kubernetes;
    let shares_host = |namespace: Namespace| {
        let mode = match namespace {
            Namespace::Ipc => runtime.namespaces.ipc.as_ref(),
            Namespace::Network => runtime.namespaces.network.as_ref(),
        };
        host_namespace(mode).is_some()
    };
    for sysctl in &runtime.sysctls {
        // `net/ipv4/ip_forward` is accepted for `net.ipv4.ip_forward`.
        let name = sysctl.value.name.trim().replace('/', ".");
        if SAFE.contains(&name.as_str()) {
            continue;
        }
        let namespace = namespace_of(&name, kubernetes);
        let (severity, message) = match namespace {
            Some(_) if kubernetes => (
                Severity::Medium,
                format!("sysctl `{name}` is not on the safe list: it is namespaced but can weaken or exhaust the kernel shared with the node"),
            ),
            Some(namespace) if !shares_host(namespace) => (
                Severity::Info,
                format!("sysctl `{name}` applies to the container's own namespace, as Docker allows; only the Pod Security Standards safe list would refuse it"),
            ),
            Some(Namespace::Network) => (
                Severity::Low,
                format!("sysctl `{name}` would change the host's network namespace, which the container shares: Docker refuses to start it"),
            ),
            Some(Namespace::Ipc) => (
                Severity::Low,
                format!("sysctl `{name}` would change the host's IPC namespace, which the container shares: Docker refuses to start it"),
            ),
            None => (
                Severity::Low,
                format!("sysctl `{name}` is not namespaced: it would change the whole node, so runtimes refuse to start the container"),
            ),
        };
        let fix = if severity == Severity::Info {
            format!("Keep `{name}` if the program needs it: it stays in the container's namespace (on Kubernetes it would need the kubelet's `--allowed-unsafe-sysctls`)")
        } else {
            fix_for(
                container,
                &format!("remove `{name}` from `sysctls:`, or tune the host instead"),
                &format!(
                    "remove `{name}` from `securityContext.sysctls`, or tune the node instead"
                ),
                &format!("remove `--sysctl {name}`, or tune the host instead"),
            )
        };
        checker
            .report(sysctl.span, message)
            .severity(severity)
            .fix(fix);
    }
}

#[cfg(test)]
mod tests {
    use leastpriv_model::{NamespaceMode, Namespaces, Runtime, SourceKind, Sysctl};

    use crate::testing::Source;
    use crate::Severity;

    #[test]
    fn only_unsafe_sysctls_fire() {
        let source = Source::new();
        let cases = [
            ("net.ipv4.ip_unprivileged_port_start", None),
            ("kernel.shm_rmid_forced", None),
            ("net.ipv4.tcp_keepalive_time", None),
            ("net.core.somaxconn", Some(Severity::Medium)),
            ("kernel.msgmax", Some(Severity::Medium)),
            ("net/ipv4/ip_forward", Some(Severity::Medium)),
            ("kernel.core_pattern", Some(Severity::Low)),
            ("vm.max_map_count", Some(Severity::Low)),
        ];
        let runtime = Runtime {
            sysctls: cases
                .iter()
                .enumerate()
                .map(|(index, (name, _))| {
                    source.at(
                        index as u32 + 2,
                        Sysctl {
                            name: (*name).into(),
                            value: "1".into(),
                        },
                    )
                })
                .collect(),
            ..Runtime::default()
        };
        let found = source.run(
            "LP123",
            &[source.container(SourceKind::Kubernetes, runtime)],
        );
        let got: Vec<_> = found.iter().map(|f| (f.line, f.severity)).collect();
        let expected: Vec<_> = cases
            .iter()
            .enumerate()
            .filter_map(|(index, (_, severity))| severity.map(|s| (index as u32 + 2, s)))
            .collect();
        assert_eq!(got, expected);
    }

    #[test]
    fn docker_judges_by_the_namespaces_it_allows() {
        let source = Source::new();
        let sysctl = |line: u32, name: &str| {
            source.at(
                line,
                Sysctl {
                    name: name.into(),
                    value: "1".into(),
                },
            )
        };
        let private = Runtime {
            sysctls: vec![
                sysctl(2, "net.ipv4.conf.all.src_valid_mark"),
                sysctl(3, "kernel.msgmax"),
                sysctl(4, "fs.mqueue.msg_max"),
                sysctl(5, "kernel.shm_next_id"),
                sysctl(6, "vm.max_map_count"),
                sysctl(7, "net.ipv4.tcp_syncookies"),
            ],
            ..Runtime::default()
        };
        let found = source.run("LP123", &[source.container(SourceKind::Compose, private)]);
        let got: Vec<_> = found.iter().map(|f| (f.line, f.severity)).collect();
        assert_eq!(
            got,
            [
                (2, Severity::Info),
                (3, Severity::Info),
                (4, Severity::Info),
                (5, Severity::Low),
                (6, Severity::Low),
            ]
        );
        let host = Runtime {
            sysctls: vec![sysctl(2, "net.ipv4.ip_forward"), sysctl(3, "kernel.sem")],
            namespaces: Namespaces {
                network: Some(source.at(8, NamespaceMode::Host)),
                ipc: Some(source.at(9, NamespaceMode::Host)),
                ..Namespaces::default()
            },
            ..Runtime::default()
        };
        let found = source.run("LP123", &[source.container(SourceKind::DockerRun, host)]);
        let got: Vec<_> = found.iter().map(|f| (f.line, f.severity)).collect();
        assert_eq!(got, [(2, Severity::Low), (3, Severity::Low)]);
        assert!(
            found[0].message.contains("Docker refuses"),
            "{}",
            found[0].message
        );
    }
}
