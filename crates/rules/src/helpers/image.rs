//! What rules about built images share: where a layer's finding points, how a file is described.

use leastpriv_model::{Container, ImageFacts, ImageFile};
use leastpriv_source::Span;

/// Where a finding about a file of layer `layer` points: the history entry that created the layer,
/// else the image's origin (an image without history).
pub(crate) fn file_span(container: &Container, image: &ImageFacts, layer: usize) -> Span {
    image.layer_span(layer).unwrap_or(container.origin)
}

/// `owner root:root`, `owner 1000:0`.
pub(crate) fn owner(file: &ImageFile) -> String {
    let id = |id: u64| {
        if id == 0 {
            "root".to_owned()
        } else {
            id.to_string()
        }
    };
    format!("owner {}:{}", id(file.uid), id(file.gid))
}

/// Whether a build argument recorded in history holds a secret, by its name or its value's format.
pub(crate) fn looks_like_secret(name: &str, value: &str) -> bool {
    let name = name.to_ascii_uppercase();
    let named = [
        "TOKEN",
        "PASSWORD",
        "PASSWD",
        "SECRET",
        "APIKEY",
        "API_KEY",
        "PRIVATE_KEY",
        "ACCESS_KEY",
        "CREDENTIAL",
        "AUTH",
    ]
    .iter()
    .any(|word| name.contains(word));
    let formatted = [
        "ghp_",
        "gho_",
        "ghs_",
        "github_pat_",
        "glpat-",
        "npm_",
        "xoxb-",
        "xoxp-",
        "AKIA",
        "sk_live_",
        "-----BEGIN",
    ]
    .iter()
    .any(|prefix| value.starts_with(prefix));
    named || formatted
}
