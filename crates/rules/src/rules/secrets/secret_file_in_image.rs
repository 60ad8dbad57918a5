use leastpriv_model::{Container, Remedy};

use crate::engine::Checker;
use crate::helpers::image::report_in_layer;
use crate::rule::Check;

crate::declare_rule! {
    /// ## What it does
    /// Flags a secret file in a built image's final filesystem: a private key (recognised by its
    /// first bytes, `-----BEGIN … PRIVATE KEY-----`, or named `id_rsa`, `id_ed25519` …), a non-empty
    /// `.env` file, AWS, gcloud or Azure credentials, a kubeconfig, registry credentials in
    /// `.docker/config.json`, a `.npmrc` or `.pypirc` with a token or password, `.git-credentials`,
    /// `.netrc` with a password, `.pgpass`, a Vault token or a non-empty shell history. The finding
    /// points at the history entry of the layer that added the file and names the layer digest and
    /// the path; the file's contents are never printed.
    ///
    /// ## Why is this bad?
    /// Everyone who can pull the image can read the file: registries, CI caches, every host that runs
    /// it. A key or token baked into an image is leaked to all of them and outlives the container.
    ///
    /// ## Example
    /// ```dockerfile
    /// COPY . /app          # the build context holds .env and .npmrc
    /// ```
    ///
    /// Use instead: a `.dockerignore` that excludes them, build-time secrets
    /// (`RUN --mount=type=secret,id=npmrc,target=/root/.npmrc npm ci`) and run-time secret files
    /// (`/run/secrets/…`).
    ///
    /// ## Known problems
    /// Private keys under test, fixture, example and documentation directories (`tests/`,
    /// `fixtures/`, `examples/`, `docs/` …) are not reported: packages ship test keys there. Only files
    /// up to 64 KiB are sniffed for key headers.
    ///
    /// ## Equivalents
    /// dockle CIS-DI-0010 (credential file names) · trivy `--scanners secret` (file contents) ·
    /// checkov and hadolint do not read layers
    pub(crate) static META = {
        name: "secret-file-in-image",
        layer: Secrets,
        severity: High,
        fix: "Keep the file out of the image (`.dockerignore`, `RUN --mount=type=secret`) and rotate the secret",
    };
}

pub(crate) const CHECK: Check = Check::Container(check);

fn check(checker: &mut Checker<'_>, container: &Container) {
    let Some(image) = &container.image else {
        return;
    };
    for file in image.files.iter().filter(|file| !file.deleted) {
        let Some(kind) = &file.secret_kind else {
            continue;
        };
        report_in_layer(
            checker,
            container,
            image,
            file.layer,
            format!(
                "`{}` ({kind}) is in the image, added by layer {}",
                file.quoted_path(),
                image.layer_digest(file.layer)
            ),
        )
        .remedy(Remedy::MoveToSecret {
            name: file.path.clone(),
        });
    }
}
