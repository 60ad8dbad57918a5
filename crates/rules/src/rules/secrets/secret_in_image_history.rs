use leastpriv_model::{Container, Remedy};

use crate::engine::Checker;
use crate::helpers::image::looks_like_secret;
use crate::rule::Check;

crate::declare_rule! {
    /// ## What it does
    /// Flags a build argument recorded in a built image's history whose name says it holds a secret
    /// (`GITHUB_TOKEN`, `NPM_TOKEN`, `DB_PASSWORD` …) or whose value has the format of a known
    /// credential. The classic builder writes every build argument of a `RUN` into its history entry
    /// (`|2 GITHUB_TOKEN=… NAME=… /bin/sh -c …`), BuildKit those the `RUN` uses. The finding points
    /// at the argument's name inside `created_by`; the value is never printed.
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
    for entry in &image.history {
        for arg in &entry.build_args {
            let Some(value) = &arg.value else {
                continue;
            };
            if value.value.expose().is_empty()
                || !looks_like_secret(&arg.name.value, value.value.expose())
            {
                continue;
            }
            checker
                .report(
                    arg.name.span,
                    format!(
                        "build arg `{}` is recorded with its value ({}) in the image history",
                        arg.name.value,
                        value.value.redacted()
                    ),
                )
                .remedy(Remedy::MoveToSecret {
                    name: arg.name.value.clone(),
                });
        }
    }
}
