use leastpriv_model::{Container, Remedy};

use crate::engine::Checker;
use crate::helpers::image::{relate_instruction, report_in_layer};
use crate::rule::Check;

crate::declare_rule! {
    /// ## What it does
    /// Flags a secret file (as LP650 recognises them) that a layer of a built image adds and a later
    /// layer deletes or overwrites. The finding points at the history entry of the layer that added
    /// the file, names its digest and the path, and adds the instruction that deleted it as a related
    /// place.
    ///
    /// ## Why is this bad?
    /// Deleting a file in a later layer only hides it: the layer that added it is still part of the
    /// image, and `docker save` or any registry client extracts it in one command. The secret is as
    /// leaked as if it had never been deleted, but looks safe in the running container.
    ///
    /// ## Example
    /// ```dockerfile
    /// COPY id_rsa /root/.ssh/id_rsa
    /// RUN git clone git@github.com:org/private.git /src
    /// RUN rm /root/.ssh/id_rsa
    /// ```
    ///
    /// Use instead:
    /// ```dockerfile
    /// RUN --mount=type=ssh git clone git@github.com:org/private.git /src
    /// ```
    /// or a multi-stage build that copies only the result into the final image.
    ///
    /// ## Equivalents
    /// trivy `--scanners secret` (scans each layer, does not say it was deleted) · dockle CIS-DI-0010
    /// (file names in any layer) · hadolint and checkov cannot see layers
    pub(crate) static META = {
        name: "deleted-secret-still-in-layer",
        layer: Secrets,
        severity: High,
        fix: "Never add the secret to a layer: use `RUN --mount=type=secret` or `--mount=type=ssh`, or a multi-stage build; rotate the secret",
    };
}

pub(crate) const CHECK: Check = Check::Container(check);

fn check(checker: &mut Checker<'_>, container: &Container) {
    let Some(image) = &container.image else {
        return;
    };
    for file in image.files.iter().filter(|file| file.deleted) {
        let Some(kind) = &file.secret_kind else {
            continue;
        };
        let deleted_by = file
            .deleted_by
            .map(|layer| format!(", deleted by layer {}", image.layer_digest(layer)))
            .unwrap_or_default();
        let diagnostic = report_in_layer(checker, container, image, file.layer, format!(
                    "`{}` ({kind}) is still in layer {}{deleted_by}: deleting it in a later layer does not remove it from the image",
                    file.quoted_path(),
                    image.layer_digest(file.layer)),
            )
            .remedy(Remedy::MoveToSecret {
                name: file.path.clone(),
            });
        if let Some(layer) = file.deleted_by {
            if let Some(span) = image.layer_span(layer) {
                diagnostic.related(span, "the layer that deletes it");
            }
            relate_instruction(
                diagnostic,
                image,
                layer,
                "the Dockerfile line that deletes it",
            );
        }
    }
}
