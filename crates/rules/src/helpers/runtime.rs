//! Runtime settings that several rules read the same way, and fix texts in each source's syntax.

use leastpriv_model::{Capability, Container, NamespaceMode, Runtime, SourceKind, Span, Spanned};

/// Whether the container runs privileged.
pub(crate) fn is_privileged(runtime: &Runtime) -> bool {
    runtime.privileged.as_ref().is_some_and(|flag| flag.value)
}

/// Where the container is made privileged, when it is.
pub(crate) fn privileged_at(runtime: &Runtime) -> Option<Span> {
    runtime
        .privileged
        .as_ref()
        .filter(|flag| flag.value)
        .map(|flag| flag.span)
}

/// The note that relates a finding to the privileged mode that covers it today: privileged mode
/// grants every capability and lifts every confinement, so the finding is hidden behind it, but it
/// is a setting of its own that stays when `privileged` goes. Reporting it now lets one run show
/// everything that must change.
pub(crate) const COVERED_BY_PRIVILEGED: &str =
    "privileged mode also grants this today; removing it leaves this finding";

/// Whether `cap_add` grants the capability `name` (by name or through `ALL`).
pub(crate) fn adds_capability(runtime: &Runtime, name: &str) -> bool {
    runtime
        .cap_add
        .iter()
        .any(|cap| cap.value == Capability::All || cap.value.name() == name)
}

/// Whether `cap_drop` drops every capability.
pub(crate) fn drops_all_capabilities(runtime: &Runtime) -> bool {
    runtime
        .cap_drop
        .iter()
        .any(|cap| cap.value == Capability::All)
}

/// Where a namespace is set to the host's, when it is.
pub(crate) fn host_namespace(namespace: Option<&Spanned<NamespaceMode>>) -> Option<Span> {
    namespace
        .filter(|mode| mode.value == NamespaceMode::Host)
        .map(|mode| mode.span)
}

/// The same fix in the syntax of the container's source, as a sentence. `docker` is phrased for
/// `docker run`; for a container read from `docker inspect` it becomes an instruction to recreate the
/// container.
pub(crate) fn fix_for(
    container: &Container,
    compose: &str,
    kubernetes: &str,
    docker: &str,
) -> String {
    let fix = match container.kind {
        SourceKind::Compose => compose.to_owned(),
        SourceKind::Kubernetes => kubernetes.to_owned(),
        SourceKind::DockerInspect => format!("recreate the container: {docker}"),
        SourceKind::DockerRun | SourceKind::Dockerfile | SourceKind::Image => docker.to_owned(),
    };
    let mut chars = fix.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => fix,
    }
}

/// Whether an image reference names an image that is published to run as a non-root user: a
/// `nonroot`, `rootless` or `unprivileged` tag or name, or a publisher whose images all do (Bitnami,
/// Chainguard). A short, documented list: anything else is unknown, never assumed.
pub(crate) fn image_runs_as_non_root(reference: &str) -> bool {
    let reference = reference.trim().to_ascii_lowercase();
    let reference = reference.split('@').next().unwrap_or(&reference);
    let name = reference
        .strip_prefix("docker.io/")
        .or_else(|| reference.strip_prefix("index.docker.io/"))
        .unwrap_or(reference);
    ["nonroot", "rootless", "unprivileged"]
        .iter()
        .any(|marker| name.contains(marker))
        || name.starts_with("bitnami/")
        || name.starts_with("cgr.dev/chainguard/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn knows_a_few_non_root_images_and_assumes_nothing_else() {
        for image in [
            "gcr.io/distroless/static-debian12:nonroot",
            "docker:27-dind-rootless",
            "nginxinc/nginx-unprivileged:1.27",
            "bitnami/postgresql:16",
            "docker.io/bitnami/redis@sha256:abc",
            "cgr.dev/chainguard/static:latest",
        ] {
            assert!(image_runs_as_non_root(image), "{image}");
        }
        for image in [
            "nginx:1.27",
            "postgres",
            "gcr.io/distroless/static-debian12",
            "myorg/bitnami-fork",
        ] {
            assert!(!image_runs_as_non_root(image), "{image}");
        }
    }
}
