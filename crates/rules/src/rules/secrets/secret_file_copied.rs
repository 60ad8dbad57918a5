use leastpriv_model::{Container, CopyInstruction, Remedy, Stage};
use leastpriv_source::Spanned;

use crate::engine::Checker;
use crate::helpers::build::{image_stage_mask, stage_label};
use crate::helpers::secrets::{secret_file_kind, SECRET_DIRECTORY_KINDS};
use crate::helpers::shell::{base_name, run_invocations};
use crate::rule::Check;
use crate::Severity;

crate::declare_rule! {
    /// ## What it does
    /// Flags a `COPY` or `ADD` whose source or destination is a secret file: SSH private keys
    /// (`id_rsa`, `id_ed25519`, anything in `.ssh/` but `known_hosts`, `authorized_keys`, `config`
    /// and `*.pub`), private keys (`*.key`, `*key*.pem`, `*.p12`, `*.pfx`), `.env` files (not
    /// `.env.example`), `.npmrc`, `.yarnrc.yml`, `.pypirc`, `.netrc`, `.git-credentials`,
    /// `.pgpass`, `.vault-token`, `.aws/credentials`, `.docker/config.json`, kubeconfigs and OAuth
    /// client secrets. Certificates, CA bundles, signing keys of package repositories
    /// (`nginx_signing.key`) and public keys stay silent. In a builder stage that does not reach
    /// the image the finding is low.
    ///
    /// ## Why is this bad?
    /// A copied file lives in its layer forever: anyone who can pull the image extracts it with
    /// `docker save` or `docker cp`, and a `RUN rm` in a later layer only hides it from the final
    /// filesystem. In a builder stage it stays in the build cache, which CI systems export to
    /// registries (`--cache-to mode=max`). Build secrets (`RUN --mount=type=secret`) and SSH agent
    /// forwarding (`RUN --mount=type=ssh`) give a step the credential without writing it to a
    /// layer; at run time, mount it as a secret file.
    ///
    /// ## Example
    /// ```dockerfile
    /// COPY .npmrc package.json package-lock.json ./
    /// RUN npm ci && rm .npmrc
    /// ```
    ///
    /// Use instead:
    /// ```dockerfile
    /// COPY package.json package-lock.json ./
    /// RUN --mount=type=secret,id=npmrc,target=/root/.npmrc npm ci
    /// ```
    /// built with `docker build --secret id=npmrc,src=$HOME/.npmrc .`; and
    /// `RUN --mount=type=ssh git clone git@github.com:acme/private.git` instead of copying `id_rsa`.
    ///
    /// ## Known problems
    /// Files are judged by the names the `COPY` writes: a `.env` that `COPY . .` sends because
    /// `.dockerignore` does not exclude it is `secret-file-copied-from-context`, which lists the
    /// build context when it is on disk. A secret in a file of another name is not seen: audit the
    /// built image to see the files it holds.
    ///
    /// ## Equivalents
    /// hadolint: none · trivy DS-0031 (secret-file env vars pointing at copied files) and
    /// `--scanners secret` on the image · checkov: none · dockle CIS-DI-0010 (credential files in
    /// layers) · KICS Secrets Stored In Dockerfile c3e1b6ae · CIS Docker Benchmark 4.10
    pub(crate) static META = {
        name: "secret-file-copied",
        layer: Secrets,
        severity: High,
        fix: "Do not copy the secret: use `RUN --mount=type=secret,id=…,target=…` (or `--mount=type=ssh`) for the step that needs it",
        also: [Low],
    };
}

pub(crate) const CHECK: Check = Check::Container(check);

fn check(checker: &mut Checker<'_>, container: &Container) {
    let Some(build) = &container.build else {
        return;
    };
    let in_image = image_stage_mask(build);
    for stage in &build.stages {
        let reaches_image = in_image.get(stage.index).copied().unwrap_or(true);
        for copy in &stage.copies {
            let Some((word, kind)) = secret_in(copy) else {
                continue;
            };
            let keyword = if copy.is_add { "ADD" } else { "COPY" };
            let message = if reaches_image {
                let deleted = if deleted_later(build.image_stages(), copy, &word.value) {
                    "; the later `rm` does not remove it from this layer"
                } else {
                    ""
                };
                format!(
                    "`{keyword}` puts {kind} (`{}`) into an image layer: anyone who can pull the image can read it{deleted}",
                    word.value
                )
            } else {
                format!(
                    "`{keyword}` puts {kind} (`{}`) into {}: not in the final image, but in its build cache",
                    word.value,
                    stage_label(stage)
                )
            };
            let diagnostic = checker
                .report(word.span, message)
                .remedy(Remedy::MoveToSecret {
                    name: base_name(&word.value).to_owned(),
                });
            if !reaches_image {
                diagnostic.severity(Severity::Low);
            }
        }
    }
}

/// The first secret file a copy names, as a source or as a destination file.
fn secret_in(copy: &CopyInstruction) -> Option<(&Spanned<String>, &'static str)> {
    copy.sources
        .iter()
        .find_map(|source| secret_file_kind(&source.value).map(|kind| (source, kind)))
        .or_else(|| {
            let destination = &copy.destination;
            if destination.value.ends_with('/') {
                return None;
            }
            secret_file_kind(&destination.value)
                .filter(|kind| !SECRET_DIRECTORY_KINDS.contains(kind))
                .map(|kind| (destination, kind))
        })
}

/// Whether a later `RUN` of the image deletes the copied file by name.
fn deleted_later<'a>(
    stages: impl Iterator<Item = &'a Stage>,
    copy: &CopyInstruction,
    path: &str,
) -> bool {
    let name = base_name(path);
    let destination = base_name(&copy.destination.value);
    stages
        .flat_map(|stage| stage.runs.iter())
        .filter(|run| {
            run.span.file == copy.span.file && run.span.range.start > copy.span.range.start
        })
        .flat_map(run_invocations)
        .filter(|invocation| invocation.name() == "rm")
        .flat_map(|invocation| invocation.operands())
        .any(|operand| {
            let removed = base_name(&operand.value);
            removed == name || removed == destination
        })
}

#[cfg(test)]
mod tests {
    use super::META;
    use crate::dockerfile_testing::findings;

    #[test]
    fn fires_on_secret_files() {
        let found = findings(
            &META,
            "FROM node:20 AS deps\n\
             COPY .npmrc package.json ./\n\
             FROM node:20\n\
             COPY id_rsa /root/.ssh/\n\
             COPY config/npmrc /root/.npmrc\n\
             ADD .env /app/\n\
             COPY --from=deps /root/.aws/credentials /root/.aws/credentials\n\
             RUN npm ci && rm /root/.npmrc\n",
        );
        assert_eq!(
            found,
            [
                "2: low `COPY` puts npm credentials (`.npmrc`) into stage `deps`: not in the final image, but in its build cache",
                "4: high `COPY` puts an SSH private key (`id_rsa`) into an image layer: anyone who can pull the image can read it",
                "5: high `COPY` puts npm credentials (`/root/.npmrc`) into an image layer: anyone who can pull the image can read it; the later `rm` does not remove it from this layer",
                "6: high `ADD` puts an environment file (`.env`) into an image layer: anyone who can pull the image can read it",
                "7: high `COPY` puts AWS credentials (`/root/.aws/credentials`) into an image layer: anyone who can pull the image can read it",
            ]
        );
    }

    #[test]
    fn stays_silent_on_public_material() {
        // Modelled on docker-mailserver__docker-mailserver/Dockerfile (`ffdhe4096.pem`) and
        // microsoft__vscode-dev-containers (`COPY library-scripts/*.sh library-scripts/*.env`).
        let found = findings(
            &META,
            "FROM debian\n\
             COPY target/shared/ffdhe4096.pem /etc/postfix/dhparams.pem\n\
             COPY library-scripts/*.sh library-scripts/meta.env /tmp/library-scripts/\n\
             COPY id_rsa.pub /root/.ssh/authorized_keys\n\
             COPY certs/ca.pem certs/fullchain.pem /etc/ssl/\n\
             COPY nginx_signing.key /usr/share/keyrings/\n\
             COPY .env.example /app/.env.example\n\
             COPY ssh_config /root/.ssh/config\n",
        );
        assert!(found.is_empty(), "{found:?}");
    }
}
