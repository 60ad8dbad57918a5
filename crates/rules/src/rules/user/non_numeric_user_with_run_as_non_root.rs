use leastpriv_model::{Container, Remedy};

use crate::engine::Checker;
use crate::rule::Check;

crate::declare_rule! {
    /// ## What it does
    /// Flags a Kubernetes container with `runAsNonRoot: true`, no `runAsUser`, and an image (or
    /// Dockerfile) whose user is a name rather than a number (`USER app`).
    ///
    /// ## Why is this bad?
    /// The kubelet checks `runAsNonRoot` against the image's user without reading the image's
    /// `/etc/passwd`, so it cannot tell whether `app` is uid 0 and refuses to start the container
    /// (`CreateContainerConfigError: container has runAsNonRoot and image has non-numeric user`). The
    /// usual "fix" is to drop `runAsNonRoot`, losing the guarantee.
    ///
    /// ## Example
    /// ```dockerfile
    /// USER app
    /// ```
    /// with `securityContext: {runAsNonRoot: true}`.
    ///
    /// Use instead:
    /// ```dockerfile
    /// USER 10001:10001
    /// ```
    /// or `runAsUser: 10001` next to `runAsNonRoot: true`.
    ///
    /// ## Equivalents
    /// hadolint DL3066 hints at it for Dockerfiles (informational) · no trivy or checkov check
    pub(crate) static META = {
        name: "non-numeric-user-with-run-as-non-root",
        layer: User,
        severity: Low,
        fix: "Set a numeric `runAsUser`, or make the image's `USER` numeric",
    };
}

pub(crate) const CHECK: Check = Check::Container(check);

fn check(checker: &mut Checker<'_>, container: &Container) {
    let Some(runtime) = &container.runtime else {
        return;
    };
    let Some(flag) = runtime.run_as_non_root.as_ref().filter(|flag| flag.value) else {
        return;
    };
    if runtime.user.is_some() {
        return;
    }
    let Some(user) = container.effective_user() else {
        return;
    };
    if user.value.is_numeric() || user.value.unresolved || user.value.user.trim().is_empty() {
        return;
    }
    checker
        .report(
            flag.span,
            format!(
                "`runAsNonRoot: true` cannot be verified for the image's non-numeric user `{}`: the kubelet refuses to start the container",
                user.value.user
            ),
        )
        .related(user.span, "the image's user is set here")
        .remedy(Remedy::SetNonRootUser);
}

#[cfg(test)]
mod tests {
    use leastpriv_model::{ImageFacts, Runtime, SourceKind, User};

    use crate::testing::Source;

    #[test]
    fn fires_for_a_named_image_user() {
        let source = Source::new();
        let runtime = Runtime {
            run_as_non_root: Some(source.at(3, true)),
            ..Runtime::default()
        };
        let mut container = source.container(SourceKind::Kubernetes, runtime.clone());
        container.image = Some(ImageFacts {
            user: Some(source.at(9, User::parse("app"))),
            ..ImageFacts::default()
        });
        let found = source.run("LP222", &[container.clone()]);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].line, 3);

        container.image = Some(ImageFacts {
            user: Some(source.at(9, User::parse("10001"))),
            ..ImageFacts::default()
        });
        assert!(source.run("LP222", &[container.clone()]).is_empty());

        let mut with_run_as_user = container;
        with_run_as_user.image = Some(ImageFacts {
            user: Some(source.at(9, User::parse("app"))),
            ..ImageFacts::default()
        });
        if let Some(runtime) = &mut with_run_as_user.runtime {
            runtime.user = Some(source.at(4, User::from_ids(10001, None)));
        }
        assert!(source.run("LP222", &[with_run_as_user]).is_empty());
        assert!(source
            .lines("LP222", SourceKind::Kubernetes, runtime)
            .is_empty());
    }
}
