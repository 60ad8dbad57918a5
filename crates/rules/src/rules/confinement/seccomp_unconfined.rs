use leastpriv_model::{Confinement, Container, Remedy, SeccompProfile, SourceKind};

use crate::engine::Checker;
use crate::helpers::runtime::fix_for;
use crate::rule::Check;

crate::declare_rule! {
    /// ## What it does
    /// Flags a container whose seccomp filter is turned off: Compose `security_opt:
    /// [seccomp:unconfined]` (or `seccomp=unconfined`), `docker run --security-opt
    /// seccomp=unconfined`, Kubernetes `seccompProfile.type: Unconfined` or the legacy annotation
    /// `unconfined`.
    ///
    /// Docker also runs a privileged container without any filter, whatever profile is asked for:
    /// `privileged: true` or `--privileged` is reported here too, in the confinement layer it turns
    /// off (Kubernetes runtimes differ; there `seccomp-profile-unset` judges the profile).
    ///
    /// ## Why is this bad?
    /// Docker's default profile blocks about 60 syscalls that containers do not need and that carry
    /// much of the kernel's exploitable surface: `unshare` and `setns`, `mount`, `keyctl`, `bpf`,
    /// `userfaultfd`, `io_uring_*`, `open_by_handle_at`, `kexec_load`, module loading. Without it, a
    /// kernel bug in any of them is a way out, and capabilities become the only barrier.
    ///
    /// ## Example
    /// ```yaml
    /// services:
    ///   app:
    ///     image: example/app
    ///     security_opt: ["seccomp:unconfined"]
    /// ```
    ///
    /// Use instead: remove the option (Docker's default profile applies), or a profile that allows the
    /// few extra syscalls the program needs: `security_opt: ["seccomp:./seccomp.json"]`.
    ///
    /// ## Equivalents
    /// trivy KSV-0104 · checkov CKV_K8S_31 · KICS compose 404fde2c · CIS Docker Benchmark 5.22 · Pod
    /// Security Standards baseline "Seccomp"
    pub(crate) static META = {
        name: "seccomp-unconfined",
        layer: Confinement,
        severity: High,
        fix: "Remove `seccomp=unconfined`; use the default profile or one that adds only the syscalls needed",
        pss: Baseline,
    };
}

pub(crate) const CHECK: Check = Check::Container(check);

fn check(checker: &mut Checker<'_>, container: &Container) {
    let Some(runtime) = &container.runtime else {
        return;
    };
    let unconfined = runtime
        .seccomp
        .as_ref()
        .filter(|profile| profile.value == SeccompProfile::Unconfined);
    if let Some(seccomp) = unconfined {
        let fix = fix_for(
            container,
            "remove `seccomp:unconfined` from `security_opt` (Docker's default profile then applies)",
            "set `securityContext.seccompProfile.type: RuntimeDefault`",
            "remove `--security-opt seccomp=unconfined` (Docker's default profile then applies)",
        );
        checker
            .report(
                seccomp.span,
                "seccomp is unconfined: every syscall reaches the kernel, including the ones Docker's default profile blocks",
            )
            .fix(fix)
            .remedy(Remedy::RestoreConfinement(Confinement::Seccomp));
        return;
    }
    let privileged = runtime.privileged.as_ref().filter(|flag| flag.value);
    if let Some(privileged) = privileged.filter(|_| container.kind != SourceKind::Kubernetes) {
        let fix = fix_for(
            container,
            "remove `privileged: true` (Docker's default seccomp profile then applies)",
            "remove `privileged: true`",
            "remove `--privileged` (Docker's default seccomp profile then applies)",
        );
        checker
            .report(
                privileged.span,
                "privileged mode turns seccomp off: every syscall reaches the kernel, including the ones Docker's default profile blocks",
            )
            .fix(fix)
            .remedy(Remedy::RestoreConfinement(Confinement::Seccomp));
    }
}

#[cfg(test)]
mod tests {
    use leastpriv_model::{Runtime, SeccompProfile, SourceKind};

    use crate::testing::Source;

    #[test]
    fn fires_on_unconfined_only() {
        let source = Source::new();
        let runtime = |profile| Runtime {
            seccomp: Some(source.at(2, profile)),
            ..Runtime::default()
        };
        assert_eq!(
            source.lines(
                "LP401",
                SourceKind::Compose,
                runtime(SeccompProfile::Unconfined)
            ),
            [2]
        );
        for quiet in [
            SeccompProfile::RuntimeDefault,
            SeccompProfile::File("p.json".into()),
        ] {
            assert!(source
                .lines("LP401", SourceKind::Compose, runtime(quiet))
                .is_empty());
        }
        assert!(source
            .lines("LP401", SourceKind::Compose, Runtime::default())
            .is_empty());
    }

    #[test]
    fn privileged_mode_turns_seccomp_off_in_docker() {
        let source = Source::new();
        let privileged = Runtime {
            privileged: Some(source.at(3, true)),
            ..Runtime::default()
        };
        assert_eq!(
            source.lines("LP401", SourceKind::DockerRun, privileged.clone()),
            [3]
        );
        assert_eq!(
            source.lines("LP401", SourceKind::Compose, privileged.clone()),
            [3]
        );
        assert!(source
            .lines("LP401", SourceKind::Kubernetes, privileged.clone())
            .is_empty());
        // One finding, at the explicit setting, when both say so.
        let both = Runtime {
            seccomp: Some(source.at(4, SeccompProfile::Unconfined)),
            ..privileged
        };
        assert_eq!(source.lines("LP401", SourceKind::Compose, both), [4]);
    }
}
