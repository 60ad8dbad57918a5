//! Kubernetes front-end. (Being written.)

use leastpriv_source::{FileId, SourceDb};

use crate::{Lowered, Options};

/// Whether `text` reads as Kubernetes manifests: YAML with top-level `apiVersion:` and `kind:` keys
/// (in any document), or JSON holding both. A cheap line scan, not a parse. Helm chart templates
/// (`{{ .Values… }}`) are not manifests until rendered and are left out.
pub fn looks_like_manifest(text: &str) -> bool {
    if is_helm_template(text) {
        return false;
    }
    let trimmed = text.trim_start();
    if trimmed.starts_with(['{', '[']) {
        return text.contains("\"apiVersion\"") && text.contains("\"kind\"");
    }
    let (mut api_version, mut kind) = (false, false);
    for line in text.lines() {
        api_version |= line.starts_with("apiVersion:");
        kind |= line.starts_with("kind:");
        if api_version && kind {
            return true;
        }
    }
    false
}

/// Whether `text` is a Helm (Go) template rather than YAML.
fn is_helm_template(text: &str) -> bool {
    text.contains("{{")
        && ([
            "{{ .Values",
            "{{- .Values",
            ".Release.",
            ".Chart.",
            "{{ include",
            "{{- include",
        ]
        .iter()
        .any(|marker| text.contains(marker))
            || text.lines().any(|line| line.trim_start().starts_with("{{")))
}

/// Lowers Kubernetes manifests into one container per container of each workload.
pub fn lower(_db: &SourceDb, _file: FileId, _options: &Options) -> Lowered {
    Lowered::default()
}
