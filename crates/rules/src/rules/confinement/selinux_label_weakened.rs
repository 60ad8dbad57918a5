use leastpriv_model::{Confinement, Container, Remedy, SelinuxLabel};

use crate::engine::Checker;
use crate::helpers::runtime::fix_for;
use crate::rule::Check;
use crate::Severity;

crate::declare_rule! {
    /// ## What it does
    /// Flags SELinux labelling that weakens the container's separation: `label:disable` /
    /// `label=disable` (medium); a process type that is unconfined, `spc_t` ("super privileged
    /// container") or `unconfined_t` (medium); another type than the container types the Pod Security
    /// Standards allow (`container_t`, `container_init_t`, `container_kvm_t`, `container_engine_t`), or
    /// a `user` or `role` (low). A `level` (MCS categories) is fine.
    ///
    /// ## Why is this bad?
    /// On SELinux hosts (Fedora, RHEL, CentOS), the `container_t` type and per-container MCS categories
    /// are what keep a container's root from the host's files and from other containers' volumes,
    /// even after an escape from its namespaces. `label:disable` and `spc_t` turn that off.
    ///
    /// ## Example
    /// ```yaml
    /// services:
    ///   app:
    ///     image: example/app
    ///     security_opt: ["label:disable"]
    /// ```
    ///
    /// Use instead: remove the option, and relabel the volumes the container needs (`:z` or `:Z`).
    ///
    /// ## Equivalents
    /// trivy KSV-0025 · KICS compose 610e266e (security_opt) · CIS Docker Benchmark 5.3 (SELinux
    /// options) · Pod Security Standards baseline "SELinux"
    pub(crate) static META = {
        name: "selinux-label-weakened",
        layer: Confinement,
        severity: Medium,
        fix: "Remove the SELinux label override; relabel volumes with `:z`/`:Z` instead",
        pss: Baseline,
        also: [Low],
    };
}

pub(crate) const CHECK: Check = Check::Container(check);

/// Process types the Pod Security Standards allow.
const CONTAINER_TYPES: [&str; 4] = [
    "container_t",
    "container_init_t",
    "container_kvm_t",
    "container_engine_t",
];

fn check(checker: &mut Checker<'_>, container: &Container) {
    let Some(runtime) = &container.runtime else {
        return;
    };
    for label in &runtime.selinux {
        let (severity, message) = match &label.value {
            SelinuxLabel::Disable => (
                Severity::Medium,
                "SELinux labelling is disabled: the container runs unconfined by SELinux".to_owned(),
            ),
            SelinuxLabel::Type(kind) if matches!(kind.as_str(), "spc_t" | "unconfined_t") => (
                Severity::Medium,
                format!("SELinux type `{kind}` is unconfined: SELinux no longer separates the container from the host"),
            ),
            SelinuxLabel::Type(kind) if kind.is_empty() || CONTAINER_TYPES.contains(&kind.as_str()) => continue,
            SelinuxLabel::Type(kind) => (
                Severity::Low,
                format!("SELinux type `{kind}` is not a container type: its policy decides what the container may do"),
            ),
            SelinuxLabel::User(name) => (
                Severity::Low,
                format!("SELinux user `{name}` is set: the Pod Security Standards allow only the runtime's default"),
            ),
            SelinuxLabel::Role(name) => (
                Severity::Low,
                format!("SELinux role `{name}` is set: the Pod Security Standards allow only the runtime's default"),
            ),
            SelinuxLabel::Level(_) => continue,
        };
        let fix = fix_for(
            container,
            "remove the `label:` entry from `security_opt`; relabel volumes with `:z` or `:Z`",
            "remove the override from `securityContext.seLinuxOptions` (keep only `level` if needed)",
            "remove the `--security-opt label=…` option; relabel volumes with `:z` or `:Z`",
        );
        checker
            .report(label.span, message)
            .severity(severity)
            .fix(fix)
            .remedy(Remedy::RestoreConfinement(Confinement::SeLinux));
    }
}

#[cfg(test)]
mod tests {
    use leastpriv_model::{Runtime, SelinuxLabel, SourceKind};

    use crate::testing::Source;
    use crate::Severity;

    #[test]
    fn grades_labels() {
        let source = Source::new();
        let labels = [
            (SelinuxLabel::Disable, Some(Severity::Medium)),
            (SelinuxLabel::Type("spc_t".into()), Some(Severity::Medium)),
            (SelinuxLabel::Type("container_t".into()), None),
            (
                SelinuxLabel::Type("svirt_apache_t".into()),
                Some(Severity::Low),
            ),
            (SelinuxLabel::User("system_u".into()), Some(Severity::Low)),
            (SelinuxLabel::Level("s0:c123,c456".into()), None),
        ];
        let runtime = Runtime {
            selinux: labels
                .iter()
                .enumerate()
                .map(|(index, (label, _))| source.at(index as u32 + 2, label.clone()))
                .collect(),
            ..Runtime::default()
        };
        let found = source.run("LP405", &[source.container(SourceKind::Compose, runtime)]);
        let got: Vec<_> = found.iter().map(|f| (f.line, f.severity)).collect();
        let expected: Vec<_> = labels
            .iter()
            .enumerate()
            .filter_map(|(index, (_, severity))| severity.map(|s| (index as u32 + 2, s)))
            .collect();
        assert_eq!(got, expected);
    }
}
