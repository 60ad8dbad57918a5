use leastpriv_model::{Container, Remedy, SourceKind, StageBase};

use crate::engine::Checker;
use crate::helpers::runtime::{fix_for, image_runs_as_non_root};
use crate::rule::Check;
use crate::Severity;

crate::declare_rule! {
    /// ## What it does
    /// Flags a container whose runtime configuration does not say which user it runs as, when no
    /// source in view says it either: no Compose `user:`, `docker run --user`, Kubernetes `runAsUser`
    /// or `runAsNonRoot: true`, and no `USER` in the Dockerfile of a `build:` (nor an image
    /// configuration that was read). The image's default user then decides, and for most images that
    /// is root.
    ///
    /// It stays quiet when the user is known: a runtime user, a Dockerfile `USER` or an image's
    /// configured user (`root-user` judges those), and for images published to run as non-root (a
    /// `nonroot`, `rootless` or `unprivileged` tag or name, Bitnami and Chainguard images). A
    /// `build:` whose Dockerfile is `FROM scratch` with no `USER` certainly runs as root: high.
    ///
    /// ## Why is this bad?
    /// Root in the container is uid 0 on the host's kernel: any escape (a kernel bug, a writable host
    /// mount, an engine socket) lands as host root, and inside the container it reads every secret and
    /// rewrites the application. Saying the user in the runtime configuration makes it visible and
    /// stops an image update from silently switching it back to root.
    ///
    /// ## Example
    /// ```yaml
    /// services:
    ///   web:
    ///     image: example/web:1.4
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// services:
    ///   web:
    ///     image: example/web:1.4
    ///     user: "10001:10001"
    /// ```
    /// In Kubernetes, `runAsNonRoot: true` with a numeric `runAsUser`.
    ///
    /// ## Known problems
    /// leastpriv does not pull images: an image that already runs as non-root is reported unless it is
    /// on the short list above. Audit the image itself (`leastpriv audit image.tar`) to know, or set
    /// the user explicitly, which is the fix anyway.
    ///
    /// ## Equivalents
    /// trivy KSV-0012, KSV-0118 · checkov CKV_K8S_23 · Pod Security Standards restricted "Running as
    /// Non-root" · polaris runAsRootAllowed · kube-score container-security-context-user-group-id ·
    /// KICS has no Compose `user:` check
    pub(crate) static META = {
        name: "image-default-user",
        layer: User,
        severity: Medium,
        fix: "Set a non-root user in the runtime configuration (`user:`, `--user`, `runAsUser` with `runAsNonRoot: true`)",
        pss: Restricted,
        also: [High],
    };
}

pub(crate) const CHECK: Check = Check::Container(check);

fn check(checker: &mut Checker<'_>, container: &Container) {
    let Some(runtime) = &container.runtime else {
        return;
    };
    let non_root_enforced = runtime
        .run_as_non_root
        .as_ref()
        .is_some_and(|flag| flag.value);
    if runtime.user.is_some() || non_root_enforced || container.effective_user().is_some() {
        return;
    }
    let unset = match container.kind {
        SourceKind::Kubernetes => "no `runAsUser` and no `runAsNonRoot: true`",
        SourceKind::Compose => "no `user:` is set",
        _ => "no `--user` is set",
    };
    let base = container
        .build
        .as_ref()
        .and_then(|build| build.image_stages().last().map(|stage| &stage.base));
    let (severity, message, image_span) = match base {
        Some(StageBase::Scratch) => (
            Severity::High,
            format!("{unset} and its Dockerfile builds `FROM scratch` with no `USER`: the container runs as root"),
            None,
        ),
        Some(StageBase::Image(image)) => {
            if image_runs_as_non_root(&image.value) {
                return;
            }
            (
                Severity::Medium,
                format!(
                    "{unset} and its Dockerfile sets no `USER`: the container runs as the default user of base image `{}`, root for most images",
                    image.value
                ),
                Some(image.span),
            )
        }
        // A stage chain that loops back cannot be resolved: say only what is known.
        Some(StageBase::Stage(_)) | None => match &runtime.image {
            Some(image) if image_runs_as_non_root(&image.value) => return,
            Some(image) => (
                Severity::Medium,
                format!(
                    "{unset}: the container runs as the default user of image `{}`, which is not in view (root for most images)",
                    image.value
                ),
                Some(image.span),
            ),
            None => (
                Severity::Medium,
                format!("{unset}: the container runs as its image's default user, root for most images"),
                None,
            ),
        },
    };
    let fix = fix_for(
        container,
        "set `user: \"10001:10001\"` (a uid the image can run as), or add a non-root `USER` to the image",
        "set `securityContext.runAsNonRoot: true` and `runAsUser: 10001` (a uid the image can run as)",
        "add `--user 10001:10001` (a uid the image can run as), or add a non-root `USER` to the image",
    );
    let diagnostic = checker
        .report(container.origin, message)
        .severity(severity)
        .fix(fix)
        .remedy(Remedy::SetNonRootUser);
    if let Some(span) = image_span {
        diagnostic.related(span, "the image whose default user applies");
    }
}

#[cfg(test)]
mod tests {
    use leastpriv_model::{Build, Runtime, SourceKind, Stage, StageBase, User};

    use crate::testing::Source;
    use crate::{PssLevel, Severity};

    fn stage(source: &Source, base: StageBase, users: Vec<User>) -> Stage {
        Stage {
            users: users.into_iter().map(|user| source.at(11, user)).collect(),
            ..source.stage(base)
        }
    }

    #[test]
    fn fires_when_no_source_names_the_user() {
        let source = Source::new();
        let runtime = Runtime {
            image: Some(source.at(2, "nginx:1.27".to_owned())),
            ..Runtime::default()
        };
        let found = source.run(
            "LP220",
            &[source.container(SourceKind::Compose, runtime.clone())],
        );
        assert_eq!(found.len(), 1);
        assert_eq!((found[0].line, found[0].severity), (1, Severity::Medium));
        assert_eq!(found[0].pss, Some(PssLevel::Restricted));
        assert!(
            found[0].message.contains("`nginx:1.27`"),
            "{}",
            found[0].message
        );
        assert!(found[0].fix.contains("user:"));

        let k8s = source.run(
            "LP220",
            &[source.container(SourceKind::Kubernetes, runtime)],
        );
        assert!(k8s[0]
            .message
            .starts_with("no `runAsUser` and no `runAsNonRoot: true`"));
    }

    #[test]
    fn stays_quiet_when_the_user_is_known_or_enforced() {
        let source = Source::new();
        let base = Runtime {
            image: Some(source.at(2, "example/app".to_owned())),
            ..Runtime::default()
        };
        let with_user = Runtime {
            user: Some(source.at(3, User::parse("1000"))),
            ..base.clone()
        };
        let enforced = Runtime {
            run_as_non_root: Some(source.at(3, true)),
            ..base.clone()
        };
        let non_root_image = Runtime {
            image: Some(source.at(2, "bitnami/nginx:1".to_owned())),
            ..Runtime::default()
        };
        for runtime in [with_user, enforced, non_root_image] {
            assert!(source
                .lines("LP220", SourceKind::Kubernetes, runtime)
                .is_empty());
        }
        let mut built = source.container(SourceKind::Compose, base);
        built.build = Some(Build {
            stages: vec![stage(
                &source,
                StageBase::Image(source.at(10, "node:20".into())),
                vec![User::parse("node")],
            )],
            ..Build::default()
        });
        assert!(source.run("LP220", &[built]).is_empty());
    }

    #[test]
    fn judges_the_dockerfile_base_of_a_build() {
        let source = Source::new();
        let mut container = source.container(SourceKind::Compose, Runtime::default());
        container.build = Some(Build {
            stages: vec![stage(
                &source,
                StageBase::Image(source.at(10, "python:3.12".into())),
                Vec::new(),
            )],
            ..Build::default()
        });
        let found = source.run("LP220", &[container.clone()]);
        assert!(found[0].message.contains("base image `python:3.12`"));
        container.build = Some(Build {
            stages: vec![stage(&source, StageBase::Scratch, Vec::new())],
            ..Build::default()
        });
        let found = source.run("LP220", &[container]);
        assert_eq!(found[0].severity, Severity::High);
    }
}
