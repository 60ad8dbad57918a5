use leastpriv_model::{Certainty, Container, Remedy, SourceKind, StageBase};

use crate::engine::Checker;
use crate::helpers::build::{only_carries_files, stage_label};
use crate::rule::Check;

crate::declare_rule! {
    /// ## What it does
    /// Flags a container whose process runs as root: a Dockerfile whose final stage (or `--target`)
    /// has no `USER`, or whose last `USER` is root in any spelling the runtime reads as uid 0
    /// (`root`, `0`, `00`, `+0`, `-0`, `0:0`, `:1000`, or an `ARG` that expands to one of them); a
    /// runtime setting (`user:`, `-u`, `runAsUser`) that asks for root; a built image whose config
    /// sets no user, root, or a name that resolves to uid 0 through the image's own `/etc/passwd`,
    /// read as the runtime reads it (the first entry of a name wins, an empty or non-numeric uid
    /// field is 0, a uid is truncated to 32 bits) and reached through links as the runtime reaches
    /// it. A uid that truncates to 0 (`4294967296`) is root in runtimes without a range check
    /// (containerd before 1.7.27, CVE-2024-40635).
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
    /// FROM node:20 AS build
    /// USER node
    /// RUN npm ci
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
    /// configuration from a Dockerfile, so it reports the finding unless the base is one known to
    /// default to a non-root user: distroless `…:nonroot` tags, Chainguard images (except `-dev`
    /// tags), `nginxinc/nginx-unprivileged`, Bitnami images and .NET `chiseled` images. Audit the
    /// built image to be sure.
    ///
    /// An image built `FROM scratch` with no `CMD` or `ENTRYPOINT` only carries files (an export
    /// stage for `docker build --output`) and is not reported.
    ///
    /// Windows images are judged by their administrator: `USER ContainerAdministrator`, or no
    /// `USER` on Server Core, is reported; Nano Server runs as `ContainerUser` by default.
    ///
    /// A `USER` that expands to nothing known (`USER $APP_USER` with no default and no
    /// `--build-arg`) is not reported: whether it is root depends on the build command.
    ///
    /// ## Equivalents
    /// hadolint DL3002 (last `USER` only, no missing-`USER` check) · trivy DS-0002, KSV-0012, KSV-0105 ·
    /// checkov CKV_DOCKER_3, CKV_DOCKER_8, CKV_K8S_23 · dockle CIS-DI-0001 · CIS Docker Benchmark 4.1
    pub(crate) static META = {
        name: "root-user",
        layer: User,
        severity: High,
        fix: "Run as a non-root user: add `USER 10001:10001` to the final stage or set the runtime user",
        pss: Restricted,
    };
}

pub(crate) const CHECK: Check = Check::Container(check);

fn check(checker: &mut Checker<'_>, container: &Container) {
    if let Some((user, is_root)) = container.effective_user_is_root() {
        if is_root == Certainty::Yes {
            let written = user.value.user.trim();
            let message = if written.is_empty() && user.value.group.is_none() {
                "image sets no user, so the container runs as root".to_owned()
            } else if written.is_empty() {
                format!(
                    "container runs as root (`{}` sets only a group: the user is the default, root)",
                    user.value
                )
            } else if user.value.is_root() == Certainty::No {
                format!(
                    "container runs as root (`{}` resolves to uid 0 through the image's /etc/passwd)",
                    user.value
                )
            } else if user.value.wraps_to_root() {
                format!(
                    "container runs as root where the runtime truncates the uid to 32 bits (`{}` becomes 0: containerd before 1.6.38/1.7.27/2.0.4, CVE-2024-40635; Docker refuses it)",
                    user.value
                )
            } else if written == "0" || written == "root" {
                format!("container runs as root (`{}`)", user.value)
            } else {
                format!(
                    "container runs as root (`{}`: the runtime reads `{written}` as uid 0)",
                    user.value
                )
            };
            let diagnostic = checker
                .report(user.span, message)
                .remedy(Remedy::SetNonRootUser);
            // `USER root` after a non-root `USER`: point at the user it undid.
            if let Some(earlier) = container.build.as_ref().and_then(|build| {
                build
                    .image_stages()
                    .flat_map(|stage| stage.users.iter())
                    .filter(|earlier| earlier.span.range.start < user.span.range.start)
                    .filter(|earlier| earlier.span.file == user.span.file)
                    .max_by_key(|earlier| earlier.span.range.start)
                    .filter(|earlier| earlier.value.is_root() == Certainty::No)
            }) {
                diagnostic.related(
                    earlier.span,
                    format!("non-root `USER {}` here is undone", earlier.value),
                );
            }
        }
        if user
            .value
            .user
            .eq_ignore_ascii_case("ContainerAdministrator")
        {
            checker
                .report(
                    user.span,
                    "container runs as `ContainerAdministrator`, the administrator of a Windows container",
                )
                .remedy(Remedy::SetNonRootUser);
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
    if only_carries_files(build) {
        return;
    }
    let base = match build.image_stages().last().map(|stage| &stage.base) {
        Some(StageBase::Image(base)) => Some(base.value.as_str()),
        _ => None,
    };
    if base.is_some_and(defaults_to_non_root) {
        return;
    }
    let default_user = if base.is_some_and(is_windows_server_image) {
        "`ContainerAdministrator` by default on Windows Server Core"
    } else {
        "root by default"
    };
    // A `USER` in a stage that does not reach the image is the blind spot of other linters.
    let builder_user = build
        .stages
        .iter()
        .filter(|stage| !build.reaches_image(stage.index))
        .find_map(|stage| stage.users.last().map(|user| (stage, user)))
        .filter(|(_, user)| user.value.is_root() == Certainty::No);
    let message = match builder_user {
        Some((stage, user)) => format!(
            "final stage sets no `USER` (`USER {}` in {} does not carry over), so the container runs as the base image's user ({default_user})",
            user.value,
            stage_label(stage)
        ),
        None => format!("final stage sets no `USER`, so the container runs as the base image's user ({default_user})"),
    };
    let diagnostic = checker
        .report(target.from, message)
        .remedy(Remedy::SetNonRootUser);
    if let Some((_, user)) = builder_user {
        diagnostic.related(user.span, "only this build stage runs as this user");
    }
}

/// Whether a base image is known to default to a non-root user. A short, conservative list: an
/// image missing here is reported, never silently trusted.
fn defaults_to_non_root(image: &str) -> bool {
    let image = image.to_ascii_lowercase();
    let image = image.split('@').next().unwrap_or(&image);
    let (name, tag) = match image.rsplit_once(':') {
        Some((name, tag)) if !tag.contains('/') => (name, tag),
        _ => (image, "latest"),
    };
    let name = name.strip_prefix("docker.io/").unwrap_or(name);
    if name.contains("distroless/") {
        return tag == "nonroot"
            || tag.starts_with("nonroot-")
            || tag.ends_with("-nonroot")
            || tag.contains("-nonroot-");
    }
    if name.starts_with("cgr.dev/chainguard/") {
        return !tag.contains("dev");
    }
    if name.starts_with("mcr.microsoft.com/dotnet/") {
        return tag.contains("chiseled");
    }
    // Windows Nano Server runs as `ContainerUser`; Server Core as `ContainerAdministrator`.
    if name.contains("nanoserver") {
        return true;
    }
    name == "nginxinc/nginx-unprivileged"
        || (name.starts_with("bitnami/") && name != "bitnami/minideb")
}

/// Whether a base image is Windows Server Core (or full Windows), whose default user is
/// `ContainerAdministrator`.
fn is_windows_server_image(image: &str) -> bool {
    let image = image.to_ascii_lowercase();
    image.contains("servercore")
        || image.contains("mcr.microsoft.com/windows/server")
        || image.contains("mcr.microsoft.com/windows:")
}

#[cfg(test)]
mod tests {
    use super::defaults_to_non_root;

    #[test]
    fn knows_a_few_non_root_bases() {
        for image in [
            "gcr.io/distroless/static-debian12:nonroot",
            "gcr.io/distroless/base:debug-nonroot",
            "gcr.io/distroless/java17-debian12:nonroot-amd64",
            "cgr.dev/chainguard/python:latest",
            "cgr.dev/chainguard/static",
            "nginxinc/nginx-unprivileged:1.27-alpine",
            "docker.io/bitnami/redis:7.2",
            "mcr.microsoft.com/dotnet/runtime-deps:8.0-jammy-chiseled",
            "mcr.microsoft.com/windows/nanoserver:ltsc2022",
        ] {
            assert!(defaults_to_non_root(image), "{image}");
        }
        for image in [
            "gcr.io/distroless/static-debian12",
            "gcr.io/distroless/base:debug",
            "cgr.dev/chainguard/python:latest-dev",
            "node:20",
            "bitnami/minideb:bookworm",
            "mcr.microsoft.com/dotnet/aspnet:8.0",
            "localhost:5000/app",
        ] {
            assert!(!defaults_to_non_root(image), "{image}");
        }
    }
}
