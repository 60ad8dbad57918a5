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
