use leastpriv_model::{Capability, Container, Remedy};

use crate::engine::Checker;
use crate::helpers::runtime::{fix_for, privileged_at, COVERED_BY_PRIVILEGED};
use crate::rule::Check;
use crate::{PssLevel, Severity};

crate::declare_rule! {
    /// ## What it does
    /// Flags each capability added to the container (Compose `cap_add`, `docker run --cap-add`,
    /// Kubernetes `capabilities.add`, `HostConfig.CapAdd`), in any spelling (`SYS_ADMIN`,
    /// `cap_sys_admin`, `CAP_SYS_ADMIN`), graded by what it gives:
    ///
    /// - critical: `ALL`, `SYS_ADMIN` (mount, namespaces, BPF … "the new root"), `SYS_MODULE` (load
    ///   kernel modules), `SYS_RAWIO` (raw I/O ports and `/dev/mem`), `DAC_READ_SEARCH`
    ///   (`open_by_handle_at`: read any host file, the "shocker" escape);
    /// - high: `SYS_PTRACE`, `NET_ADMIN`, `BPF`, `PERFMON`, `MAC_ADMIN`, `MAC_OVERRIDE`, `SYS_TIME`
    ///   (the host's clock);
    /// - medium: `SYS_BOOT`, `SYSLOG`, `SYS_RESOURCE`, `IPC_OWNER`, `AUDIT_CONTROL`,
    ///   `CHECKPOINT_RESTORE`, `LINUX_IMMUTABLE`;
    /// - low: the rest outside Docker's default set (`NET_RAW` included: it is in Docker's defaults
    ///   but not in the Pod Security Standards `baseline` set);
    /// - info: re-adding one of Docker's defaults after `cap_drop: [ALL]` (`CHOWN`, `SETUID` …): fine
    ///   in practice, but `restricted` allows only `NET_BIND_SERVICE`.
    ///
    /// `NET_BIND_SERVICE` is never reported. In a privileged container each added capability is
    /// still reported, related to the `privileged` setting: privileged mode grants it today, and the
    /// `cap_add` entry grants it again once `privileged` is removed.
    ///
    /// ## Why is this bad?
    /// Capabilities are pieces of root. The dangerous ones are an escape by themselves
    /// (`SYS_ADMIN`: mount a cgroup and use `release_agent`; `SYS_MODULE`: load a kernel module;
    /// `DAC_READ_SEARCH`: read `/etc/shadow` of the host through a file handle), and several unlock
    /// syscalls that Docker's seccomp profile otherwise blocks.
    ///
    /// ## Example
    /// ```yaml
    /// services:
    ///   vpn:
    ///     image: example/vpn
    ///     cap_add: [SYS_ADMIN, NET_ADMIN]
    /// ```
    ///
    /// Use instead: drop everything, and keep only what the program needs. That need is not in the
    /// file, so a capability kept on purpose is still reported: suppress it with the reason.
    /// ```yaml
    /// services:
    ///   vpn:
    ///     image: example/vpn
    ///     cap_drop: [ALL]
    ///     # leastpriv: ignore[LP310] the tunnel sets routes and addresses on its own interface
    ///     cap_add: [NET_ADMIN]
    ///     devices: ["/dev/net/tun"]
    /// ```
    ///
    /// ## Equivalents
    /// trivy KSV-0005 (SYS_ADMIN), KSV-0120 (SYS_MODULE), KSV-0119 (NET_RAW), KSV-0022, KSV-0106 ·
    /// checkov CKV_K8S_39, CKV_K8S_25, CKV_K8S_24 · KICS compose ce76b7d0 (any `cap_add`, not ranked) ·
    /// CIS Docker Benchmark 5.4 (any `CapAdd`) · Pod Security Standards baseline and restricted
    /// "Capabilities" · polaris dangerousCapabilities, insecureCapabilities
    pub(crate) static META = {
        name: "capability-added",
        layer: Capabilities,
        severity: High,
        fix: "Remove the added capability, or drop ALL and add back only what the program needs",
        pss: Baseline,
        also: [Critical, Medium, Low, Info],
    };
}

pub(crate) const CHECK: Check = Check::Container(check);

/// The capabilities the Pod Security Standards `baseline` level allows to be added (Docker's
/// defaults without `NET_RAW`).
const BASELINE_ALLOWED: [&str; 13] = [
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
];

/// How bad adding `capability` is, and what it gives; `None` when adding it gives nothing to judge.
/// Also what `verify` asks of a capability it sees held in a running container.
pub(crate) fn grade(capability: &Capability) -> Option<(Severity, &'static str)> {
    use Severity::{Critical, High, Info, Low, Medium};
    let name = match capability {
        Capability::All => {
            return Some((
                Critical,
                "every capability, all of root's power over the kernel",
            ))
        }
        Capability::Known(name) => *name,
        // The engine refuses an unknown name; nothing is granted.
        Capability::Unknown(_) => return None,
    };
    Some(match name {
        "NET_BIND_SERVICE" => return None,
        "SYS_ADMIN" => (
            Critical,
            "mount, namespaces, BPF and most of root, a known escape by itself",
        ),
        "SYS_MODULE" => (
            Critical,
            "loading kernel modules, that is code in the host's kernel",
        ),
        "SYS_RAWIO" => (
            Critical,
            "raw I/O ports and `/dev/mem`, the host's hardware and memory",
        ),
        "DAC_READ_SEARCH" => (
            Critical,
            "`open_by_handle_at`, which reads any host file (the shocker escape)",
        ),
        "SYS_PTRACE" => (
            High,
            "tracing, which takes over any process it can see",
        ),
        "NET_ADMIN" => (
            High,
            "network configuration (firewall, routes, interfaces, traffic capture)",
        ),
        "BPF" => (
            High,
            "loading BPF programs, a wide kernel attack surface that can read kernel memory",
        ),
        "PERFMON" => (
            High,
            "performance monitoring, which reads kernel memory through perf events",
        ),
        "MAC_ADMIN" => (
            High,
            "changing AppArmor or SELinux policy, the container's own confinement included",
        ),
        "MAC_OVERRIDE" => (High, "overriding AppArmor or SELinux decisions"),
        "SYS_TIME" => (
            High,
            "setting the clock, which is the host's clock for every container",
        ),
        "SYS_BOOT" => (
            Medium,
            "`reboot` and, without seccomp, `kexec_load` of a new kernel",
        ),
        "SYSLOG" => (
            Medium,
            "reading the kernel log, whose kernel addresses defeat KASLR",
        ),
        "SYS_RESOURCE" => (Medium, "overriding resource limits and quotas"),
        "IPC_OWNER" => (
            Medium,
            "bypassing permission checks on shared memory and queues",
        ),
        "AUDIT_CONTROL" => (
            Medium,
            "changing the kernel's audit rules, which cover the host",
        ),
        "CHECKPOINT_RESTORE" => (
            Medium,
            "checkpoint/restore, which chooses process ids and reads other processes' state",
        ),
        "LINUX_IMMUTABLE" => (Medium, "changing immutable and append-only file flags"),
        "NET_RAW" => (
            Low,
            "raw sockets, for spoofing and sniffing on the container's networks",
        ),
        name if BASELINE_ALLOWED.contains(&name) => (Info, "one of Docker's defaults, which only the Pod Security Standards `restricted` level forbids adding"),
        _ => (Low, "a privilege outside Docker's default set"),
    })
}

fn check(checker: &mut Checker<'_>, container: &Container) {
    let Some(runtime) = &container.runtime else {
        return;
    };
    let privileged = privileged_at(runtime);
    for capability in &runtime.cap_add {
        let Some((severity, gives)) = grade(&capability.value) else {
            continue;
        };
        let name = capability.value.name();
        let level = if BASELINE_ALLOWED.contains(&name) {
            PssLevel::Restricted
        } else {
            PssLevel::Baseline
        };
        let fix = fix_for(
            container,
            &format!("remove `{name}` from `cap_add`, or keep it with `cap_drop: [ALL]` only if the program needs it"),
            &format!("remove `{name}` from `capabilities.add`, or keep it with `drop: [ALL]` only if the program needs it"),
            &format!("remove `--cap-add {name}`, or keep it with `--cap-drop ALL` only if the program needs it"),
        );
        let diagnostic = checker
            .report(
                capability.span,
                format!("capability `{name}` is added: {gives}"),
            )
            .severity(severity)
            .fix(fix)
            .remedy(Remedy::RemoveAddedCapability(capability.value.clone()));
        if let Some(span) = privileged {
            diagnostic.related(span, COVERED_BY_PRIVILEGED);
        }
        // The engine only reports a level when the container runs; keep its decision.
        if diagnostic.pss.is_some() {
            diagnostic.pss(Some(level));
        }
    }
}

#[cfg(test)]
mod tests {
    use leastpriv_model::{Capability, Runtime, SourceKind};

    use crate::testing::Source;
    use crate::{PssLevel, Severity};

    #[test]
    fn grades_each_capability_in_any_spelling() {
        let source = Source::new();
        let cases = [
            (
                "cap_sys_admin",
                Some((Severity::Critical, PssLevel::Baseline)),
            ),
            ("ALL", Some((Severity::Critical, PssLevel::Baseline))),
            ("CAP_SYS_PTRACE", Some((Severity::High, PssLevel::Baseline))),
            ("net_raw", Some((Severity::Low, PssLevel::Baseline))),
            ("CHOWN", Some((Severity::Info, PssLevel::Restricted))),
            ("NET_BIND_SERVICE", None),
            ("SYS_ADMIM", None),
        ];
        let runtime = Runtime {
            cap_add: cases
                .iter()
                .enumerate()
                .map(|(index, (name, _))| source.at(index as u32 + 2, Capability::parse(name)))
                .collect(),
            ..Runtime::default()
        };
        let found = source.run(
            "LP310",
            &[source.container(SourceKind::Kubernetes, runtime)],
        );
        let got: Vec<_> = found.iter().map(|f| (f.line, f.severity, f.pss)).collect();
        let expected: Vec<_> = cases
            .iter()
            .enumerate()
            .filter_map(|(index, (_, grade))| {
                grade.map(|(severity, level)| (index as u32 + 2, severity, Some(level)))
            })
            .collect();
        assert_eq!(got, expected);
    }

    #[test]
    fn stands_on_its_own_in_a_privileged_container() {
        let source = Source::new();
        let runtime = Runtime {
            privileged: Some(source.at(2, true)),
            cap_add: vec![source.at(3, Capability::parse("SYS_ADMIN"))],
            ..Runtime::default()
        };
        let found = source.run("LP310", &[source.container(SourceKind::Compose, runtime)]);
        assert_eq!(found.len(), 1);
        assert_eq!(
            (
                found[0].line,
                found[0].severity,
                found[0].related.as_slice()
            ),
            (3, Severity::Critical, &[2][..])
        );
    }
}
