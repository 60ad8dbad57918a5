use leastpriv_model::{Certainty, Container, Remedy, SourceKind, StageBase};

use crate::engine::Checker;
use crate::rule::Check;

crate::declare_rule! {
    /// ## What it does
    /// Flags a container whose process runs as root: a Dockerfile whose final stage (or `--target`)
    /// has no `USER`, or whose last `USER` is `root`, `0`, `0:0` or an `ARG` that expands to one of
    /// them; a runtime setting (`user:`, `-u`, `runAsUser`) that asks for root; a built image whose
    /// config sets no user, root, or a name that is uid 0 in the image's own `/etc/passwd`.
    ///
    /// Only the stage that becomes the image counts: a `USER node` in a builder stage does not carry
    /// into `FROM node:20 AS final`, a case hadolint, trivy and checkov all miss.
    ///
    /// ## Why is this bad?
    /// Root in a container is uid 0 on the host's kernel. Without a user namespace, any escape (a
    /// kernel bug, a writable host mount, an engine socket, an added capability) lands as host root,
    /// and inside the container root can rewrite the application, read every secret file and install
    /// tools. A non-root user turns most escapes into unprivileged access.
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM node:20 AS build
    /// USER node
    /// RUN npm ci
    /// FROM node:20
    /// COPY --from=build /app /app
    /// CMD ["node", "/app/server.js"]
    /// ```
    ///
    /// Use instead:
    /// ```dockerfile
    /// FROM node:20
    /// COPY --from=build --chown=10001:10001 /app /app
    /// USER 10001:10001
    /// CMD ["node", "/app/server.js"]
    /// ```
    /// A numeric `uid:gid` works without an `/etc/passwd` entry and lets Kubernetes verify
    /// `runAsNonRoot`.
    ///
    /// ## Known problems
    /// With no `USER` at all, the base image decides. leastpriv cannot read the base image's
    /// configuration from a Dockerfile, so it reports the finding unless the base is known to default
    /// to a non-root user (distroless `…:nonroot` tags). Audit the built image to be sure.
    ///
    /// ## Equivalents
    /// hadolint DL3002 (last `USER` only, no missing-`USER` check) · trivy DS-0002, KSV-0012, KSV-0105 ·
    /// checkov CKV_DOCKER_3, CKV_DOCKER_8, CKV_K8S_23 · dockle CIS-DI-0001 · CIS Docker Benchmark 4.1
    pub(crate) static META = {
        name: "root-user",
        layer: User,
        severity: High,
        fix: "Run as a non-root user: add `USER 10001:10001` to the final stage or set the runtime user",
    };
}

pub(crate) const CHECK: Check = Check::Container(check);

fn check(checker: &mut Checker<'_>, container: &Container) {
    if let Some((user, is_root)) = container.effective_user_is_root() {
        match is_root {
            Certainty::Yes => {
                let message = if user.value.user.trim().is_empty() {
                    "image sets no user, so the container runs as root".to_owned()
                } else if user.value.is_root() == Certainty::No {
                    format!(
                        "container runs as root (`{}` has uid 0 in the image's /etc/passwd)",
                        user.value
                    )
                } else {
                    format!("container runs as root (`{}`)", user.value)
                };
                checker
                    .report(user.span, message)
                    .remedy(Remedy::SetNonRootUser);
            }
            Certainty::Unknown | Certainty::No => {}
        }
        return;
    }
    // No user anywhere in view: the base image decides. Only a Dockerfile can say which base.
    let Some(build) = &container.build else {
        return;
    };
    if container.kind != SourceKind::Dockerfile {
        return;
    }
    let Some(target) = build.target_stage() else {
        return;
    };
    match build.image_stages().last().map(|stage| &stage.base) {
        Some(StageBase::Image(base))
            if base.value.ends_with(":nonroot") || base.value.contains(":nonroot-") => {}
        _ => {
            checker
                .report(
                    target.from,
                    "final stage sets no `USER`, so the container runs as the base image's user (root by default)",
                )
                .remedy(Remedy::SetNonRootUser);
        }
    }
}
