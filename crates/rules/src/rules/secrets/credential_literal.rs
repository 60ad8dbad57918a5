use leastpriv_model::{Container, EnvVar, Remedy, RunInstruction, Sensitive, SourceKind};
use leastpriv_source::{Span, Spanned};

use crate::engine::Checker;
use crate::helpers::secrets::{
    environment_exposure, environment_fix, find_credential_in_variable, find_credentials,
};
use crate::rule::Check;

crate::declare_rule! {
    /// ## What it does
    /// Flags a credential of a known format written anywhere a container is configured: in
    /// `ENV`, `ARG` defaults, `RUN` commands (heredoc scripts included), `ADD`/`COPY` sources, a
    /// Compose or Kubernetes environment, a `docker run -e`, or an image config's `Env`. Formats
    /// with near-zero false positives only: AWS access key ids (and AWS secret keys next to their
    /// name), GitHub, GitLab, Slack, Stripe, npm, PyPI, Docker Hub, Hugging Face, OpenAI,
    /// Anthropic, SendGrid and Google API keys, Azure storage account keys, private key blocks,
    /// JSON web tokens and URLs with a password (`postgres://app:pw@db/app`). The variable's name
    /// does not matter. Documentation examples (`AKIAIOSFODNN7EXAMPLE`), placeholders
    /// (`ghp_xxxx…`, `:<password>@`) and references (`https://${USER}:${TOKEN}@…`) are not
    /// reported.
    ///
    /// ## Why is this bad?
    /// A live credential in a Dockerfile is in the repository, in every image layer or config built
    /// from it and in `docker history`; in a Compose file or manifest it is in version control and
    /// in `docker inspect`. Scrapers find public ones within minutes. The credential must be
    /// revoked and rotated, not just removed: the old value stays in the history of the repository
    /// and of every pushed image.
    ///
    /// ## Example
    /// ```dockerfile
    /// RUN git clone https://x-access-token:ghp_…@github.com/acme/private.git
    /// ```
    ///
    /// Use instead:
    /// ```dockerfile
    /// RUN --mount=type=secret,id=github_token,env=GITHUB_TOKEN \
    ///     git clone "https://x-access-token:${GITHUB_TOKEN}@github.com/acme/private.git"
    /// ```
    /// or `RUN --mount=type=ssh git clone git@github.com:acme/private.git`.
    ///
    /// ## Equivalents
    /// hadolint: none · trivy `--scanners secret` (values in any file) · checkov CKV_SECRET_*
    /// (values in any file) · dockle CIS-DI-0010 (names) · KICS Passwords And Secrets · CIS Docker
    /// Benchmark 4.10
    pub(crate) static META = {
        name: "credential-literal",
        layer: Secrets,
        severity: High,
        fix: "Revoke and rotate the credential, then pass it as a secret (`RUN --mount=type=secret`, a secret file) instead of writing it",
    };
}

pub(crate) const CHECK: Check = Check::Container(check);

fn check(checker: &mut Checker<'_>, container: &Container) {
    if let Some(build) = &container.build {
        for arg in &build.global_args {
            if let Some(default) = &arg.default {
                report_variable(checker, &arg.name, default, "an `ARG` default", None);
            }
        }
        for stage in &build.stages {
            for env in &stage.env {
                report_env(checker, env, SourceKind::Dockerfile);
            }
            for arg in &stage.args {
                if let Some(default) = &arg.default {
                    report_variable(checker, &arg.name, default, "an `ARG` default", None);
                }
            }
            for run in stage.runs.iter().chain(&stage.onbuild_runs) {
                report_run(checker, run);
            }
            for copy in &stage.copies {
                for source in &copy.sources {
                    for credential in find_credentials(&source.value) {
                        let secret = Sensitive::new(&source.value[credential.range]);
                        checker
                            .report(
                                source.span,
                                format!(
                                    "`{}` source holds {} (`{}`): it is kept in the Dockerfile and `docker history`",
                                    if copy.is_add { "ADD" } else { "COPY" },
                                    credential.kind,
                                    secret.redacted()
                                ),
                            )
                            .remedy(Remedy::RemoveInstruction);
                    }
                }
            }
        }
    }
    if let Some(runtime) = &container.runtime {
        for env in &runtime.environment {
            report_env(checker, env, container.kind);
        }
    }
    if let Some(image) = &container.image {
        for env in &image.env {
            report_env(checker, env, SourceKind::Image);
        }
    }
}

fn report_env(checker: &mut Checker<'_>, env: &EnvVar, kind: SourceKind) {
    if let Some(value) = &env.value {
        let (place, exposure) = environment_exposure(kind);
        report_variable(checker, &env.name, value, place, Some((kind, exposure)));
    }
}

fn report_variable(
    checker: &mut Checker<'_>,
    name: &Spanned<String>,
    value: &Spanned<Sensitive>,
    place: &str,
    exposure: Option<(SourceKind, &str)>,
) {
    let Some(credential) = find_credential_in_variable(&name.value, value.value.expose()) else {
        return;
    };
    let secret = value.value.expose().get(credential.range).map_or_else(
        || value.value.redacted(),
        |text| Sensitive::new(text).redacted(),
    );
    let why = exposure.map_or(
        "it is kept in the Dockerfile and `docker history`",
        |(_, why)| why,
    );
    let diagnostic = checker
        .report(
            name.span,
            format!(
                "`{}` in {place} holds {} (`{secret}`): {why}",
                name.value, credential.kind
            ),
        )
        .remedy(Remedy::MoveToSecret {
            name: name.value.clone(),
        });
    if let Some((kind, _)) = exposure {
        let fix = environment_fix(kind, &name.value);
        let mut chars = fix.chars();
        let fix = chars.next().map_or_else(String::new, |first| {
            first.to_lowercase().chain(chars).collect::<String>()
        });
        diagnostic.fix(format!("Revoke and rotate it, then {fix}"));
    }
}

/// Reports credentials in a `RUN`: at the word that holds each, or at the `RUN` for those only
/// its script text shows (heredoc bodies written to files). The script is scanned once.
fn report_run(checker: &mut Checker<'_>, run: &RunInstruction) {
    let script = run.script.value.as_str();
    for credential in find_credentials(script) {
        let text = &script[credential.range];
        let span = run
            .commands
            .iter()
            .flat_map(|command| command.argv.iter())
            .find(|word| word.value.contains(text))
            .map_or(run.span, |word| word.span);
        report_in_run(checker, span, credential.kind, &Sensitive::new(text));
    }
}

fn report_in_run(checker: &mut Checker<'_>, span: Span, kind: &str, secret: &Sensitive) {
    checker
        .report(
            span,
            format!(
                "`RUN` holds {kind} (`{}`): it is kept in the Dockerfile and `docker history`",
                secret.redacted()
            ),
        )
        .remedy(Remedy::RemoveInstruction);
}

#[cfg(test)]
mod tests {
    use super::META;
    use crate::dockerfile_testing::findings;

    #[test]
    fn fires_on_known_formats_anywhere() {
        // Modelled on bridgecrewio__checkov/tests/secrets/resources/file_type/Dockerfile and
        // jessfraz__dockerfiles/chromium/Dockerfile (a Google API key written by `echo`).
        let found = findings(
            &META,
            "FROM alpine\n\
             ENV AWS_ACCESS_KEY_ID=AKIAZ7Q3RBN5VXWYTU2P\n\
             ENV AWS_SECRET_ACCESS_KEY=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\n\
             ARG DATABASE_URL=postgres://app:Dr1ftw00d@db:5432/app\n\
             RUN echo export GOOGLE_API_KEY=AIzaSyCkfPOPZXDKNn8hhgu3JrA62wIgC93d44k >> /etc/profile\n\
             RUN git clone https://x-access-token:ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8@github.com/o/r\n",
        );
        assert_eq!(
            found,
            [
                "2: high `AWS_ACCESS_KEY_ID` in `ENV` holds an AWS access key id (`<redacted, 20 chars>`): stored in the image config, readable with `docker inspect` by anyone who can pull the image",
                "3: high `AWS_SECRET_ACCESS_KEY` in `ENV` holds an AWS secret access key (`<redacted, 40 chars>`): stored in the image config, readable with `docker inspect` by anyone who can pull the image",
                "4: high `DATABASE_URL` in an `ARG` default holds a URL with a password (`<redacted, 9 chars>`): it is kept in the Dockerfile and `docker history`",
                "5: high `RUN` holds a Google API key (`<redacted, 39 chars>`): it is kept in the Dockerfile and `docker history`",
                "6: high `RUN` holds a GitHub token (`<redacted, 40 chars>`): it is kept in the Dockerfile and `docker history`",
            ]
        );
    }

    #[test]
    fn stays_silent_on_examples_placeholders_and_references() {
        let found = findings(
            &META,
            "FROM alpine\n\
             ENV AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE\n\
             ARG REPO=https://${GIT_USER}:${GIT_TOKEN}@gitlab.com/o/r.git\n\
             RUN git clone https://oauth2:$CI_JOB_TOKEN@gitlab.com/o/r.git\n\
             RUN curl -fsSL https://deb.nodesource.com/setup_20.x | bash -\n\
             ENV SSH_PUBLIC_KEY=-----BEGIN_PUBLIC_KEY-----\n",
        );
        assert!(found.is_empty(), "{found:?}");
    }
}
