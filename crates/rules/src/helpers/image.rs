//! What rules about built images share: where a layer's finding points, how a file is described.

use leastpriv_model::{Container, ImageFacts, ImageFile};

use crate::diagnostic::Diagnostic;
use crate::engine::Checker;

/// Reports a finding about what layer `layer` holds. It points at the history entry that created the
/// layer (else the image's origin: an image without history), and, when a Dockerfile audited in the
/// same run built the image, at the line that created the layer.
pub(crate) fn report_in_layer<'c>(
    checker: &'c mut Checker<'_>,
    container: &Container,
    image: &ImageFacts,
    layer: usize,
    message: String,
) -> &'c mut Diagnostic {
    let diagnostic = checker.report(image.layer_span(layer).unwrap_or(container.origin), message);
    relate_instruction(
        diagnostic,
        image,
        layer,
        "the Dockerfile line that created this layer",
    );
    diagnostic
}

/// Adds the Dockerfile line that created layer `layer`, when it is known.
pub(crate) fn relate_instruction(
    diagnostic: &mut Diagnostic,
    image: &ImageFacts,
    layer: usize,
    note: &str,
) {
    if let Some(span) = image.layers.get(layer).and_then(|layer| layer.instruction) {
        diagnostic.related(span, note);
    }
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
