use leastpriv_model::Container;

use crate::engine::Checker;
use crate::helpers::runtime::fix_for;
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
    /// Namespaced parameters (`kernel.shm*`, `kernel.msg*`, `kernel.sem`, `fs.mqueue.*`, `net.*`) are
    /// medium: they apply to the container's own namespace but are unsafe because they let one pod
    /// take kernel memory or weaken protections shared with the node. Parameters that are not
    /// namespaced (`kernel.core_pattern`, `vm.*`, `fs.*` …) are low: Docker, runc and the kubelet
    /// refuse to start the container, so the setting is a mistake rather than an exposure.
    ///
    /// ## Why is this bad?
    /// Sysctls change the kernel the container shares with every other workload on the node. The
    /// safe list holds the ones isolated per pod; the others can exhaust node memory (`kernel.shmmax`,
    /// `kernel.msgmnb`), re-enable weaknesses (`net.ipv4.conf.all.route_localnet`, CVE-2020-8558), or
    /// need the kubelet's `--allowed-unsafe-sysctls` opt-in.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   securityContext:
    ///     sysctls:
    ///       - name: kernel.msgmax
    ///         value: "65536"
    /// ```
    ///
    /// Use instead: only parameters from the safe list, or tune the node itself.
    ///
    /// ## Equivalents
    /// trivy KSV-0026 · Pod Security Standards baseline "Sysctls" · kyverno restrict-sysctls
    pub(crate) static META = {
        name: "unsafe-sysctl",
        layer: Escape,
        severity: Medium,
        fix: "Set only sysctls from the Pod Security Standards safe list, or tune the node instead",
        pss: Baseline,
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

/// Whether the kernel namespaces the parameter (the ones Docker and runc accept).
fn is_namespaced(name: &str) -> bool {
    name.starts_with("net.")
        || name.starts_with("fs.mqueue.")
        || name.starts_with("kernel.shm")
        || name.starts_with("kernel.msg")
        || name == "kernel.sem"
}

fn check(checker: &mut Checker<'_>, container: &Container) {
    let Some(runtime) = &container.runtime else {
        return;
    };
    for sysctl in &runtime.sysctls {
        // `net/ipv4/ip_forward` is accepted for `net.ipv4.ip_forward`.
        let name = sysctl.value.name.trim().replace('/', ".");
        if SAFE.contains(&name.as_str()) {
            continue;
        }
        let (severity, message) = if is_namespaced(&name) {
            (
                Severity::Medium,
                format!("sysctl `{name}` is not on the safe list: it is namespaced but can weaken or exhaust the kernel shared with the node"),
            )
        } else {
            (
                Severity::Low,
                format!("sysctl `{name}` is not namespaced: it would change the whole node, so runtimes refuse to start the container"),
            )
        };
        let fix = fix_for(
            container,
            &format!("remove `{name}` from `sysctls:`, or tune the host instead"),
            &format!("remove `{name}` from `securityContext.sysctls`, or tune the node instead"),
            &format!("remove `--sysctl {name}`, or tune the host instead"),
        );
        checker
            .report(sysctl.span, message)
            .severity(severity)
            .fix(fix);
    }
}

#[cfg(test)]
mod tests {
    use leastpriv_model::{Runtime, SourceKind, Sysctl};

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
}
