use leastpriv_model::{BuildContext, Container, CopyInstruction, Remedy};

use crate::engine::Checker;
use crate::helpers::build::{image_stage_mask, stage_label};
use crate::helpers::secrets::secret_file_kind;
use crate::rule::Check;
use crate::Severity;

crate::declare_rule! {
    /// ## What it does
    /// Flags a `COPY` or `ADD` from the build context whose source is `.`, a directory or a glob
    /// that sends a secret file the context's `.dockerignore` does not exclude: a `.env`, an SSH
    /// or TLS private key, `.npmrc`, `.pypirc`, `.netrc`, `.git-credentials`, cloud credentials,
    /// kubeconfigs (the files `secret-file-copied` knows by name). The files are named, never
    /// read. The ignore file is Docker's: `<Dockerfile>.dockerignore` beside the Dockerfile when
    /// there is one, else `.dockerignore` at the context's root, with Docker's patterns (`*`,
    /// `**`, `!` exceptions, the last match wins). In a builder stage that does not reach the
    /// image the finding is low.
    ///
    /// ## Why is this bad?
    /// `COPY . /app` copies whatever sits in the directory on the machine that builds: a `.env`
    /// with the database password, a deploy key. It lives in its layer forever, and anyone who can
    /// pull the image reads it with `docker save` or `docker cp`. That the file is not in git does
    /// not help: the build sends the directory, not the repository.
    ///
    /// ## Example
    /// ```text
    /// app/
    ///   .env             DB_PASSWORD=…
    ///   .dockerignore    node_modules
    ///   Dockerfile       FROM node:20-slim
    ///                    COPY . /app
    /// ```
    ///
    /// Use instead: exclude the file in `.dockerignore` (`/.env`, or `**/.env` for every
    /// directory), rotate what it held, and give it to the container at run time as a secret
    /// file (Compose `secrets:`, `docker run --mount type=bind,…,readonly`).
    ///
    /// ## Known problems
    /// The context is read only when it is on disk inside the audited paths: the directory of a
    /// Dockerfile audited from disk, or the `build.context` of a Compose service; a Dockerfile on
    /// standard input, a remote context and a context outside the audited paths (name it with
    /// `--allow-read`) are not read. The listing follows no symlink, skips `.git`, and stops
    /// after 32 directory levels and 50,000 entries. A `docker build` run from another directory
    /// (`docker build -f app/Dockerfile .`) has another context than the one assumed here. Files
    /// are judged by name, as `secret-file-copied` judges them: a secret in a file of another
    /// name is not seen; audit the built image (`secret-file-in-image`) to see what it holds.
    ///
    /// ## Equivalents
    /// hadolint: none · trivy `--scanners secret` on the image or the directory · checkov: none ·
    /// dockle CIS-DI-0010 (credential files in layers) · CIS Docker Benchmark 4.10
    pub(crate) static META = {
        name: "secret-file-copied-from-context",
        layer: Secrets,
        severity: High,
        fix: "Exclude the file in `.dockerignore` (`/.env`), rotate what it held, and give it to the container at run time as a secret file",
        also: [Low],
    };
}

pub(crate) const CHECK: Check = Check::Container(check);

/// Files named in one message; the others are counted.
const NAMED: usize = 3;

fn check(checker: &mut Checker<'_>, container: &Container) {
    let Some(build) = &container.build else {
        return;
    };
    let Some(context) = &build.context else {
        return;
    };
    let in_image = image_stage_mask(build);
    for stage in &build.stages {
        let reaches_image = in_image.get(stage.index).copied().unwrap_or(true);
        for copy in &stage.copies {
            let Some(first) = copy.context_secrets.first() else {
                continue;
            };
            let Some(source) = copy.sources.get(first.source) else {
                continue;
            };
            let keyword = if copy.is_add { "ADD" } else { "COPY" };
            let files = describe(copy);
            let into = if reaches_image {
                "into an image layer: anyone who can pull the image can read it".to_owned()
            } else {
                format!(
                    "into {}: not in the final image, but in its build cache",
                    stage_label(stage)
                )
            };
            let pronoun = if copy.context_secrets.len() == 1 {
                "it"
            } else {
                "them"
            };
            let ignore = match &context.ignore_file {
                Some(path) => format!("`{path}` does not exclude {pronoun}"),
                None => format!("no `.dockerignore` excludes {pronoun}"),
            };
            let message = format!(
                "`{keyword} {}` sends {files} from the build context {into}; {ignore}",
                source.value
            );
            let diagnostic =
                checker
                    .report(source.span, message)
                    .remedy(Remedy::ExcludeFromBuildContext {
                        files: copy
                            .context_secrets
                            .iter()
                            .map(|secret| secret.path.clone())
                            .collect(),
                        ignore_file: ignore_file_path(context),
                    });
            if !reaches_image {
                diagnostic.severity(Severity::Low);
            }
        }
    }
}

/// The files a copy sends, each with its kind: the first few, then how many more.
fn describe(copy: &CopyInstruction) -> String {
    let mut named: Vec<String> = copy
        .context_secrets
        .iter()
        .take(NAMED)
        .map(|secret| match secret_file_kind(&secret.path) {
            Some(kind) => format!("`{}` ({kind})", secret.path),
            None => format!("`{}`", secret.path),
        })
        .collect();
    let more = copy.context_secrets.len().saturating_sub(NAMED);
    if more > 0 {
        named.push(format!("{more} more secret files"));
    }
    match named.len() {
        0 | 1 => named.concat(),
        n => format!("{} and {}", named[..n - 1].join(", "), named[n - 1]),
    }
}

/// The ignore file to edit: the one that applies, or `.dockerignore` at the context's root.
fn ignore_file_path(context: &BuildContext) -> String {
    context.ignore_file.clone().unwrap_or_else(|| {
        if context.dir.is_empty() || context.dir == "." {
            ".dockerignore".to_owned()
        } else {
            format!("{}/.dockerignore", context.dir.trim_end_matches('/'))
        }
    })
}

#[cfg(test)]
mod tests {
    use leastpriv_model::{BuildContext, ContextSecret};
    use leastpriv_source::SourceDb;

    use super::META;
    use crate::dockerfile_testing::{dockerfile_container, findings_in};

    /// The facts the front-end records (its listing is tested there and through the binary):
    /// each copy's secret files and the ignore file.
    #[test]
    fn names_the_files_the_context_sends_at_the_source_that_sends_them() {
        let db = SourceDb::new();
        let mut container = dockerfile_container(
            &db,
            "FROM node:20 AS deps\n\
             COPY . /src\n\
             FROM node:20\n\
             COPY package.json config/ /app/\n\
             COPY --from=deps /src /src\n",
        );
        let build = container.build.as_mut().expect("build");
        build.context = Some(BuildContext {
            dir: "app".into(),
            ignore_file: None,
            truncated: false,
        });
        let secret = |source: usize, path: &str| ContextSecret {
            source,
            path: path.into(),
        };
        build.stages[0].copies[0].context_secrets = vec![secret(0, ".env")];
        build.stages[1].copies[0].context_secrets = vec![
            secret(1, "config/.env"),
            secret(1, "config/id_rsa"),
            secret(1, "config/.npmrc"),
            secret(1, "config/tls.key"),
        ];
        let found = findings_in(&META, &db, &[container]);
        assert_eq!(
            found,
            [
                "2: low `COPY .` sends `.env` (an environment file) from the build context into stage `deps`: not in the final image, but in its build cache; no `.dockerignore` excludes it",
                "4: high `COPY config/` sends `config/.env` (an environment file), `config/id_rsa` (an SSH private key), `config/.npmrc` (npm credentials) and 1 more secret files from the build context into an image layer: anyone who can pull the image can read it; no `.dockerignore` excludes them",
            ]
        );
    }
}
