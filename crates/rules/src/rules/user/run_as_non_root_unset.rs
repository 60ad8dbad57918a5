use leastpriv_model::{Certainty, Container, Remedy, SourceKind};

use crate::engine::Checker;
use crate::rule::Check;

crate::declare_rule! {
    /// ## What it does
    /// Flags a Kubernetes container that runs as a non-root user but does not set
    /// `runAsNonRoot: true` (on the pod or the container), or sets it to `false`.
    ///
    /// ## Why is this bad?
    /// Today's user is fine; `runAsNonRoot: true` is what keeps it so. With it, the kubelet refuses to
    /// start the container if a new image version, a changed `runAsUser` or a mutating webhook makes it
    /// root. The Pod Security Standards `restricted` level requires it even when `runAsUser` is
    /// non-zero, so this is informational unless you audit against `restricted`.
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
    ///       securityContext:
    ///         runAsUser: 10001
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// apiVersion: v1
    /// kind: Pod
    /// metadata:
    ///   name: app
    /// spec:
    ///   containers:
    ///     - name: app
    ///       image: example/app
    ///       securityContext:
    ///         runAsUser: 10001
    ///         runAsNonRoot: true
    /// ```
    ///
    /// ## Equivalents
    /// trivy KSV-0012 · checkov CKV_K8S_23 · Pod Security Standards restricted "Running as Non-root"
    pub(crate) static META = {
        name: "run-as-non-root-unset",
        layer: User,
        severity: Info,
        fix: "Set `securityContext.runAsNonRoot: true`",
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
    if runtime
        .run_as_non_root
        .as_ref()
        .is_some_and(|flag| flag.value)
    {
        return;
    }
    let Some(user) = container.effective_user() else {
        return;
    };
    if user.value.is_root() != Certainty::No {
        return;
    }
    let (span, message) = match &runtime.run_as_non_root {
        Some(flag) => (
            flag.span,
            format!("`runAsNonRoot` is `false`: the container runs as `{}` today, but nothing stops a change from making it root", user.value),
        ),
        None => (
            user.span,
            format!("`runAsNonRoot: true` is not set: the container runs as `{}` today, but nothing stops a change from making it root", user.value),
        ),
    };
    checker.report(span, message).remedy(Remedy::SetNonRootUser);
}

#[cfg(test)]
mod tests {
    use leastpriv_model::{Runtime, SourceKind, User};

    use crate::testing::Source;

    #[test]
    fn fires_for_a_non_root_user_without_the_guarantee() {
        let source = Source::new();
        let runtime = Runtime {
            user: Some(source.at(4, User::from_ids(1000, None))),
            ..Runtime::default()
        };
        assert_eq!(
            source.lines("LP221", SourceKind::Kubernetes, runtime.clone()),
            [4]
        );
        let explicit_false = Runtime {
            run_as_non_root: Some(source.at(5, false)),
            ..runtime.clone()
        };
        assert_eq!(
            source.lines("LP221", SourceKind::Kubernetes, explicit_false),
            [5]
        );
        let enforced = Runtime {
            run_as_non_root: Some(source.at(5, true)),
            ..runtime.clone()
        };
        assert!(source
            .lines("LP221", SourceKind::Kubernetes, enforced)
            .is_empty());
        assert!(source
            .lines("LP221", SourceKind::Compose, runtime)
            .is_empty());
        let root = Runtime {
            user: Some(source.at(4, User::from_ids(0, None))),
            ..Runtime::default()
        };
        assert!(source
            .lines("LP221", SourceKind::Kubernetes, root)
            .is_empty());
    }
}
