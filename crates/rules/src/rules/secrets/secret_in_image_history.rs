use leastpriv_model::{Container, ImageHistoryEntry, Remedy, Sensitive, Span};

use crate::engine::Checker;
use crate::helpers::image::relate_instruction;
use crate::helpers::secrets::{
    find_credential_in_variable, find_credentials, is_literal_value, is_secret_name,
};
use crate::rule::Check;

crate::declare_rule! {
    /// ## What it does
    /// Flags a build argument recorded in a built image's history whose name says it holds a secret
    /// (`GITHUB_TOKEN`, `NPM_TOKEN`, `DB_PASSWORD` …) or whose value has the format of a known
    /// credential. The classic builder writes every build argument of a `RUN` into its history entry
    /// (`|2 GITHUB_TOKEN=… NAME=… /bin/sh -c …`), BuildKit those the `RUN` uses. One secret is one
    /// finding, at the first history entry that records it, however many later `RUN` entries repeat
    /// it (the message counts them); the value is never printed.
    ///
    /// Also flags a credential of a known format (a GitHub or npm token, an AWS key, a URL with a
    /// password …) written in the rest of a `created_by` line, such as a token on a `RUN curl` command
    /// line or an `ENV` value a later `ENV` overwrote (the history keeps the old one). A credential
    /// that is also a current `Env` value is left to LP601/LP603.
    ///
    /// LP602 finds the `ARG` in a Dockerfile; this rule finds what actually shipped, whatever built
    /// the image.
    ///
    /// ## Why is this bad?
    /// Anyone who can pull the image reads the value with `docker history --no-trunc` or from the
    /// config blob: the secret is published with the image, in every registry and cache it reaches.
    ///
    /// ## Example
    /// ```dockerfile
    /// ARG GITHUB_TOKEN
    /// RUN git clone https://$GITHUB_TOKEN@github.com/org/private.git
    /// ```
    /// built with `docker build --build-arg GITHUB_TOKEN=ghp_…`.
    ///
    /// Use instead:
    /// ```dockerfile
    /// RUN --mount=type=secret,id=github_token,env=GITHUB_TOKEN \
    ///     git clone https://$GITHUB_TOKEN@github.com/org/private.git
    /// ```
    /// built with `docker build --secret id=github_token,env=GITHUB_TOKEN`.
    ///
    /// ## Equivalents
    /// trivy `--image-config-scanners secret` (values in the config and history) · dockle CIS-DI-0010
    /// (`ENV` names in history) · hadolint DL3064 and checkov read only the Dockerfile
    pub(crate) static META = {
        name: "secret-in-image-history",
        layer: Secrets,
        severity: High,
        fix: "Pass the secret with `RUN --mount=type=secret` (`docker build --secret`), never as a build arg, and rotate it",
    };
}

pub(crate) const CHECK: Check = Check::Container(check);

fn check(checker: &mut Checker<'_>, container: &Container) {
    let Some(image) = &container.image else {
        return;
    };
    // A build argument is recorded in every `RUN` after its `ARG`: one finding per secret, at its
    // first entry, counting the others.
    let mut secrets: Vec<(&str, &str, Vec<&ImageHistoryEntry>, Span)> = Vec::new();
    for entry in &image.history {
        for arg in &entry.build_args {
            let Some(value) = &arg.value else {
                continue;
            };
            let value = value.value.expose();
            let secret = is_secret_name(&arg.name.value) && is_literal_value(value)
                || find_credential_in_variable(&arg.name.value, value).is_some();
            if !secret {
                continue;
            }
            match secrets
                .iter_mut()
                .find(|(name, seen, ..)| *name == arg.name.value && *seen == value)
            {
                Some((_, _, entries, _)) => entries.push(entry),
                None => secrets.push((&arg.name.value, value, vec![entry], arg.name.span)),
            }
        }
    }
    for (name, value, entries, span) in secrets {
        let later = match entries.len() {
            1 => String::new(),
            2 => ", in this entry and 1 later one".to_owned(),
            count => format!(", in this entry and {} later ones", count - 1),
        };
        let diagnostic = checker
            .report(
                span,
                format!(
                    "build arg `{name}` is recorded with its value ({}) in the image history{later}",
                    Sensitive::new(value).redacted()
                ),
            )
            .remedy(Remedy::MoveToSecret {
                name: name.to_owned(),
            });
        if let Some(layer) = entries.first().and_then(|entry| entry.layer) {
            relate_instruction(
                diagnostic,
                image,
                layer,
                "the Dockerfile line it was passed to",
            );
        }
    }
    for entry in &image.history {
        let mut prefix_end = 0;
        for arg in &entry.build_args {
            let Some(value) = &arg.value else {
                continue;
            };
            let value = value.value.expose();
            prefix_end = entry
                .created_by
                .value
                .find(value)
                .map_or(prefix_end, |at| prefix_end.max(at + value.len()));
        }
        let command = entry.created_by.value.get(prefix_end..).unwrap_or_default();
        for credential in find_credentials(command) {
            let secret = &command[credential.range.clone()];
            let in_env = image.env.iter().any(|env| {
                env.value
                    .as_ref()
                    .is_some_and(|value| value.value.expose().contains(secret))
            });
            if in_env {
                continue;
            }
            let place = entry
                .layer
                .map(|layer| format!("of layer {}", image.layer_digest(layer)))
                .unwrap_or_else(|| "of an instruction without a layer".to_owned());
            let diagnostic = checker.report(
                entry.created_by.span,
                format!(
                    "the image history {place} holds {} ({}) in its command",
                    credential.kind,
                    Sensitive::new(secret).redacted()
                ),
            );
            if let Some(layer) = entry.layer {
                relate_instruction(
                    diagnostic,
                    image,
                    layer,
                    "the Dockerfile line that wrote it",
                );
            }
        }
    }
}
