use leastpriv_model::{Container, Remedy};

use crate::engine::Checker;
use crate::helpers::runtime::fix_for;
use crate::rule::Check;

crate::declare_rule! {
    /// ## What it does
    /// Flags a container that runs privileged: Compose `privileged: true`, `docker run
    /// --privileged`, Kubernetes `securityContext.privileged: true`, `HostConfig.Privileged` in
    /// `docker inspect`; and a Kubernetes Windows `hostProcess: true` container, which is a process
    /// on the node with the node's privileges.
    ///
    /// ## Why is this bad?
    /// A privileged container has every capability, no seccomp filter, no AppArmor or SELinux
    /// confinement, writable `/sys` and `/proc/sys`, and every host device. Escaping is a matter of
    /// mounting the host's disk (`mount /dev/sda1 /mnt`) or writing a cgroup `release_agent`: it is
    /// root on the host, not a container.
    ///
    /// ## Example
    /// ```yaml
    /// services:
    ///   app:
    ///     image: example/app
    ///     privileged: true
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// services:
    ///   app:
    ///     image: example/app
    ///     cap_drop: [ALL]
    ///     cap_add: [NET_BIND_SERVICE]   # only the capabilities the program needs
    ///     devices: ["/dev/ttyUSB0"]     # only the devices it needs
    /// ```
    ///
    /// ## Known problems
    /// Engines that run containers (Docker-in-Docker, some CI runners) need it; run them rootless
    /// (`docker:dind-rootless`, Sysbox) rather than privileged, and suppress the finding with a reason.
    ///
    /// ## Equivalents
    /// trivy KSV-0017 · checkov CKV_K8S_16, CKV_K8S_2 · KICS compose ae5b6871 · CIS Docker Benchmark
    /// 5.5 (and 5.23 for `exec --privileged`) · Pod Security Standards baseline "Privileged Containers"
    /// and "HostProcess" · trivy KSV-0103 (hostProcess) · polaris runAsPrivileged · kube-score
    /// container-security-context-privileged
    pub(crate) static META = {
        name: "privileged-container",
        layer: Escape,
        severity: Critical,
        fix: "Remove privileged mode; add only the capabilities and devices the program needs",
        pss: Baseline,
    };
}

pub(crate) const CHECK: Check = Check::Container(check);

fn check(checker: &mut Checker<'_>, container: &Container) {
    let Some(runtime) = &container.runtime else {
        return;
    };
    if let Some(host_process) = runtime.host_process.as_ref().filter(|flag| flag.value) {
        checker
            .report(
                host_process.span,
                "Windows HostProcess container: it runs as a process on the node, with the node's network, files and privileges",
            )
            .fix("Remove `windowsOptions.hostProcess: true`; run the workload as an ordinary Windows container")
            .remedy(Remedy::RemovePrivileged);
    }
    let Some(privileged) = runtime.privileged.as_ref().filter(|flag| flag.value) else {
        return;
    };
    let fix = fix_for(
        container,
        "remove `privileged: true`; add only the capabilities (`cap_add`) and `devices` the program needs",
        "set `securityContext.privileged: false`; add only the capabilities the program needs",
        "remove `--privileged`; add only the `--cap-add` and `--device` the program needs",
    );
    checker
        .report(
            privileged.span,
            "container runs privileged: every capability and device, no seccomp or LSM confinement; root in it is root on the host",
        )
        .fix(fix)
        .remedy(Remedy::RemovePrivileged);
}

#[cfg(test)]
mod tests {
    use leastpriv_model::{Runtime, SourceKind};

    use crate::testing::Source;
    use crate::{PssLevel, Severity};

    #[test]
    fn fires_on_privileged_true_only() {
        let source = Source::new();
        let runtime = Runtime {
            privileged: Some(source.at(3, true)),
            ..Runtime::default()
        };
        let found = source.run("LP110", &[source.container(SourceKind::Compose, runtime)]);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].line, 3);
        assert_eq!(found[0].severity, Severity::Critical);
        assert_eq!(found[0].pss, Some(PssLevel::Baseline));
        assert!(found[0].fix.contains("privileged: true"));

        let off = Runtime {
            privileged: Some(source.at(3, false)),
            ..Runtime::default()
        };
        assert!(source.lines("LP110", SourceKind::Compose, off).is_empty());
        assert!(source
            .lines("LP110", SourceKind::Kubernetes, Runtime::default())
            .is_empty());
    }

    #[test]
    fn flags_windows_host_process() {
        let source = Source::new();
        let runtime = Runtime {
            host_process: Some(source.at(4, true)),
            ..Runtime::default()
        };
        assert_eq!(source.lines("LP110", SourceKind::Kubernetes, runtime), [4]);
    }

    #[test]
    fn speaks_each_syntax() {
        let source = Source::new();
        let runtime = Runtime {
            privileged: Some(source.at(2, true)),
            ..Runtime::default()
        };
        let k8s = source.run(
            "LP110",
            &[source.container(SourceKind::Kubernetes, runtime.clone())],
        );
        assert!(k8s[0].fix.contains("securityContext.privileged: false"));
        let inspect = source.run(
            "LP110",
            &[source.container(SourceKind::DockerInspect, runtime)],
        );
        assert!(inspect[0].fix.starts_with("Recreate the container"));
    }
}
