use leastpriv_model::{Confinement, Container, Remedy, SourceKind};

use crate::engine::Checker;
use crate::helpers::runtime::{privileged_at, COVERED_BY_PRIVILEGED};
use crate::rule::Check;

crate::declare_rule! {
    /// ## What it does
    /// Flags a Kubernetes container with no seccomp profile, on the container or the pod
    /// (`securityContext.seccompProfile`, or the legacy `seccomp.security.alpha.kubernetes.io`
    /// annotations). Docker, Compose and `docker run` apply Docker's default profile when none is set
    /// and stay quiet.
    ///
    /// ## Why is this bad?
    /// Unlike Docker, the kubelet runs containers **unconfined** when no profile is set, unless every
    /// node runs with `--seccomp-default` (off by default). Then nothing blocks `unshare`, `keyctl`,
    /// `bpf`, `userfaultfd` or `io_uring`, the usual entry points of kernel exploits. The Pod Security
    /// Standards `restricted` level requires `RuntimeDefault` or `Localhost`.
    ///
    /// ## Example
    /// ```yaml
    /// apiVersion: v1
    /// kind: Pod
    /// metadata:
    ///   name: app
    /// spec:
    ///   containers:
    ///     - name: app
    ///       image: example/app
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// apiVersion: v1
    /// kind: Pod
    /// metadata:
    ///   name: app
    /// spec:
    ///   securityContext:
    ///     seccompProfile:
    ///       type: RuntimeDefault
    ///   containers:
    ///     - name: app
    ///       image: example/app
    /// ```
    ///
    /// ## Known problems
    /// On clusters whose kubelets run with `--seccomp-default` (some managed offerings), the default
    /// already applies; set the field anyway so the manifest says so.
    ///
    /// ## Equivalents
    /// trivy KSV-0030 · checkov CKV_K8S_31, CKV_K8S_32 · Pod Security Standards restricted "Seccomp" ·
    /// kube-score container-seccomp-profile
    pub(crate) static META = {
        name: "seccomp-profile-unset",
        layer: Confinement,
        severity: Medium,
        fix: "Set `securityContext.seccompProfile.type: RuntimeDefault` on the pod",
        pss: Restricted,
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
    if runtime.seccomp.is_some() {
        return;
    }
    let diagnostic = checker
        .report(
            container.origin,
            "no seccomp profile is set: the kubelet runs the container unconfined unless the node enables `--seccomp-default`",
        )
        .remedy(Remedy::RestoreConfinement(Confinement::Seccomp));
    // A privileged container runs unconfined whatever its profile; the profile is still missing
    // once `privileged` goes.
    if let Some(privileged) = privileged_at(runtime) {
        diagnostic.related(privileged, COVERED_BY_PRIVILEGED);
    }
}

#[cfg(test)]
mod tests {
    use leastpriv_model::{Runtime, SeccompProfile, SourceKind};

    use crate::testing::Source;

    #[test]
    fn fires_for_kubernetes_only() {
        let source = Source::new();
        assert_eq!(
            source.lines("LP402", SourceKind::Kubernetes, Runtime::default()),
            [1]
        );
        assert!(source
            .lines("LP402", SourceKind::Compose, Runtime::default())
            .is_empty());
        let set = Runtime {
            seccomp: Some(source.at(3, SeccompProfile::RuntimeDefault)),
            ..Runtime::default()
        };
        assert!(source
            .lines("LP402", SourceKind::Kubernetes, set)
            .is_empty());
    }

    #[test]
    fn stands_on_its_own_in_a_privileged_container() {
        let source = Source::new();
        let privileged = Runtime {
            privileged: Some(source.at(4, true)),
            ..Runtime::default()
        };
        let found = source.run(
            "LP402",
            &[source.container(SourceKind::Kubernetes, privileged)],
        );
        assert_eq!((found[0].line, found[0].related.as_slice()), (1, &[4][..]));
    }
}
