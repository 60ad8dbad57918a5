use leastpriv_model::{BuildArg, Container, EnvVar, Remedy, SourceKind};

use crate::engine::Checker;
use crate::helpers::build::{image_stage_mask, stage_label};
use crate::helpers::secrets::{
    environment_exposure, environment_fix, find_credential_in_variable, is_literal_value,
    is_placeholder_for, is_secret_name,
};
use crate::rule::Check;
use crate::Severity;

crate::declare_rule! {
    /// ## What it does
    /// Flags a variable whose name says it holds a secret (`PASSWORD`, `PASSWD`, `SECRET`, `TOKEN`,
    /// `API_KEY`, `PRIVATE_KEY`, `ACCESS_KEY`, `CREDENTIALS` …) and that is given a literal value:
    /// a Dockerfile `ENV` or `ARG` default, a Compose `environment:` entry, a Kubernetes `env:`
    /// value, a `docker run -e`, or an image config's `Env`. One rule, one judgement for every
    /// source.
    ///
    /// Names that *describe* a secret rather than hold it stay silent: `DB_PASSWORD_FILE`,
    /// `TOKEN_ENDPOINT`, `PASSWORD_MIN_LENGTH`, `AWS_ACCESS_KEY_ID`, `GPG_KEY`, `SSH_PUBLIC_KEY`.
    /// So do values that are not secrets: empty, a reference (`${DB_PASSWORD}`, `$(cat …)`), a
    /// file path (`/run/secrets/db`), a URL without a password, an on/off flag
    /// (`MYSQL_ALLOW_EMPTY_PASSWORD=yes`) or a placeholder (`_`, `<token>`, `SOME VALUE`,
    /// `INSERT_DISCOVERY_TOKEN`, a value that repeats the variable's name). A value of a known
    /// credential format is reported by LP603 instead. Builder stages that do not reach the image
    /// are reported at medium.
    ///
    /// ## Why is this bad?
    /// An `ENV` value is stored in the image config: anyone who can pull the image reads it with
    /// `docker inspect`, and every process in the container (and every crash report that dumps the
    /// environment) sees it. An `ARG` default is written in the Dockerfile and recorded in
    /// `docker history`. A Compose file or manifest with the value is usually committed to version
    /// control. The secret also cannot be rotated without a rebuild or a redeploy.
    ///
    /// ## Example
    /// ```dockerfile
    /// ENV DB_PASSWORD=SuperSecret123
    /// ```
    ///
    /// Use instead:
    /// ```dockerfile
    /// ENV DB_PASSWORD_FILE=/run/secrets/db_password
    /// ```
    /// ```yaml
    /// services:
    ///   web:
    ///     secrets: [db_password]
    /// secrets:
    ///   db_password:
    ///     file: ./secrets/db_password.txt
    /// ```
    /// At build time, `RUN --mount=type=secret,id=db_password,env=DB_PASSWORD ./migrate`.
    ///
    /// ## Known problems
    /// A literal that is not secret under a secret-looking name (a documented default such as
    /// `POSTGRES_PASSWORD=postgres` in a test image) is still reported: defaults ship to
    /// production. Suppress with `# leastpriv: ignore[LP601] test image`.
    ///
    /// ## Equivalents
    /// hadolint DL3064 (names only, every stage) · trivy DS-0031 (final stage, names) and
    /// KSV-01010 · checkov CKV_K8S_35 (secrets as env) and CKV_SECRET_* (values) · dockle
    /// CIS-DI-0010 · KICS Secrets Stored In Dockerfile c3e1b6ae · BuildKit check
    /// `SecretsUsedInArgOrEnv` · CIS Docker Benchmark 4.10
    pub(crate) static META = {
        name: "secret-in-env",
        layer: Secrets,
        severity: High,
        fix: "Remove the literal: mount the secret as a file (`/run/secrets/…`) or use `RUN --mount=type=secret` at build time",
        also: [Medium],
    };
}

pub(crate) const CHECK: Check = Check::Container(check);

/// Whether a variable holds a literal secret that no other rule reports.
pub(crate) fn holds_literal_secret(name: &str, value: &str) -> bool {
    is_secret_name(name)
        && is_literal_value(value)
        && !is_placeholder_for(name, value)
        && find_credential_in_variable(name, value).is_none()
}

fn check(checker: &mut Checker<'_>, container: &Container) {
    if let Some(build) = &container.build {
        let in_image = image_stage_mask(build);
        for arg in &build.global_args {
            report_arg(checker, arg, None);
        }
        for stage in &build.stages {
            let builder = (!in_image.get(stage.index).copied().unwrap_or(true)).then_some(stage);
            for env in &stage.env {
                let Some(value) = literal_secret(env) else {
                    continue;
                };
                let (message, severity) = match builder {
                    None => {
                        let (place, exposure) = environment_exposure(SourceKind::Dockerfile);
                        (
                            format!("`{}` is set to a literal in {place} (`{value}`): {exposure}", env.name.value),
                            Severity::High,
                        )
                    }
                    Some(stage) => (
                        format!(
                            "`{}` is set to a literal in `ENV` of {} (`{value}`): not in the final image, but written in the Dockerfile",
                            env.name.value,
                            stage_label(stage)
                        ),
                        Severity::Medium,
                    ),
                };
                checker
                    .report(env.name.span, message)
                    .severity(severity)
                    .fix(environment_fix(SourceKind::Dockerfile, &env.name.value))
                    .remedy(Remedy::MoveToSecret {
                        name: env.name.value.clone(),
                    });
            }
            for arg in &stage.args {
                report_arg(checker, arg, builder.map(|_| Severity::Medium));
            }
        }
    }
    let runtime = container
        .runtime
        .iter()
        .flat_map(|runtime| runtime.environment.iter().map(|env| (env, container.kind)));
    let image = container
        .image
        .iter()
        .flat_map(|image| image.env.iter().map(|env| (env, SourceKind::Image)));
    for env in &container.committed_env {
        let Some(value) = literal_secret(env) else {
            continue;
        };
        checker
            .report(
                env.name.span,
                format!(
                    "`{}` is set to a literal in a committed env file (`{value}`): anyone who can read the repository has it",
                    env.name.value
                ),
            )
            .fix(format!(
                "Remove the file from the repository (ignore it in `.gitignore`) and rotate the secret; give `{}` to the deployment from a secret store",
                env.name.value
            ));
    }
    for (env, kind) in runtime.chain(image) {
        let Some(value) = literal_secret(env) else {
            continue;
        };
        // A variable of an `env_file:` or of the project's `.env` is set in that file.
        let in_env_file =
            kind == SourceKind::Compose && env.name.span.file != container.origin.file;
        let (place, exposure) = if in_env_file {
            (
                "an env file",
                "committed with the project, read by `docker compose` and readable with `docker inspect` when passed to the container",
            )
        } else {
            environment_exposure(kind)
        };
        checker
            .report(
                env.name.span,
                format!(
                    "`{}` is set to a literal in {place} (`{value}`): {exposure}",
                    env.name.value
                ),
            )
            .fix(environment_fix(kind, &env.name.value))
            .remedy(Remedy::MoveToSecret {
                name: env.name.value.clone(),
            });
    }
}

/// The redaction of an environment variable's value, when it is a literal secret.
fn literal_secret(env: &EnvVar) -> Option<String> {
    let value = env.value.as_ref()?;
    holds_literal_secret(&env.name.value, value.value.expose()).then(|| value.value.redacted())
}

fn report_arg(checker: &mut Checker<'_>, arg: &BuildArg, severity: Option<Severity>) {
    let Some(default) = &arg.default else {
        return;
    };
    if !holds_literal_secret(&arg.name.value, default.value.expose()) {
        return;
    }
    let diagnostic = checker
        .report(
            arg.name.span,
            format!(
                "`{}` has a literal default in `ARG` (`{}`): written in the Dockerfile and recorded in `docker history` of every later `RUN`",
                arg.name.value,
                default.value.redacted()
            ),
        )
        .fix(format!(
            "Remove the `ARG` and its default: pass the secret with `RUN --mount=type=secret,id={},env={}` and `docker build --secret id={},env={}`",
            arg.name.value.to_ascii_lowercase(),
            arg.name.value,
            arg.name.value.to_ascii_lowercase(),
            arg.name.value
        ))
        .remedy(Remedy::MoveToSecret {
            name: arg.name.value.clone(),
        });
    if let Some(severity) = severity {
        diagnostic.severity(severity);
    }
}

#[cfg(test)]
mod tests {
    use leastpriv_model::{Container, EnvVar, Runtime, Sensitive, SourceKind};
    use leastpriv_source::{SourceDb, Span, Spanned, TextRange};

    use super::META;
    use crate::dockerfile_testing::{findings, findings_in};

    #[test]
    fn fires_on_literal_secrets_in_env_and_arg() {
        // Modelled on docker__labs/developer-tools/java-debugging/registration-database/Dockerfile
        // (`ENV MYSQL_PASSWORD=password`), datajoint__element-facemap/.devcontainer/Dockerfile
        // (`ENV DJ_PASS simple`) and jessfraz__dockerfiles/slapd/Dockerfile (`LDAP_ROOTPASS`).
        let found = findings(
            &META,
            "ARG GITHUB_TOKEN=abc123def456\n\
             FROM mysql:8 AS seed\n\
             ENV SEED_PASSWORD=seedpass\n\
             FROM mysql:8\n\
             ENV MYSQL_PASSWORD=password LDAP_ROOTPASS=fsociety\n\
             ARG NPM_TOKEN=0a1b2c3d\n",
        );
        assert_eq!(
            found,
            [
                "1: high `GITHUB_TOKEN` has a literal default in `ARG` (`<redacted, 12 chars>`): written in the Dockerfile and recorded in `docker history` of every later `RUN`",
                "3: medium `SEED_PASSWORD` is set to a literal in `ENV` of stage `seed` (`<redacted, 8 chars>`): not in the final image, but written in the Dockerfile",
                "5: high `MYSQL_PASSWORD` is set to a literal in `ENV` (`<redacted, 8 chars>`): stored in the image config, readable with `docker inspect` by anyone who can pull the image",
                "5: high `LDAP_ROOTPASS` is set to a literal in `ENV` (`<redacted, 8 chars>`): stored in the image config, readable with `docker inspect` by anyone who can pull the image",
                "6: high `NPM_TOKEN` has a literal default in `ARG` (`<redacted, 8 chars>`): written in the Dockerfile and recorded in `docker history` of every later `RUN`",
            ]
        );
    }

    #[test]
    fn stays_silent_on_references_and_descriptions() {
        // Modelled on microsoft__mssql-docker/windows/mssql-server-windows/dockerfile
        // (`sa_password="_"`, `sa_password_path=C:\…`), jitsi__docker-jitsi-meet/jigasi/Dockerfile
        // (`GOOGLE_APPLICATION_CREDENTIALS=/run/…`) and docker-library__python (`GPG_KEY`).
        let found = findings(
            &META,
            "FROM mysql:8\n\
             ENV DB_PASSWORD_FILE=/run/secrets/db TOKEN_ENDPOINT=https://auth.example.com/token\n\
             ENV PASSWORD_MIN_LENGTH=12 GPG_KEY=7169605F62C751356D054A26A821E680E5FA6305\n\
             ENV sa_password=_ GOOGLE_APPLICATION_CREDENTIALS=/run/jigasi/config/key.json\n\
             ENV MYSQL_ALLOW_EMPTY_PASSWORD=yes AWS_ACCESS_KEY_ID=AKIAZ7Q3RBN5VXWYTU2P\n\
             ENV API_TOKEN=${API_TOKEN} DB_PASSWORD=\n\
             ARG NPM_TOKEN\n\
             ENV AWS_SECRET_ACCESS_KEY=Zk3Tq9VbL2mN8pR4sW6yX1aC5dE7fG0hJ2kL4mN6\n",
        );
        assert!(found.is_empty(), "{found:?}");
    }

    #[test]
    fn judges_runtime_environment_the_same_way() {
        let db = SourceDb::new();
        let text = "services:\n  web:\n    environment:\n      DB_PASSWORD: SuperSecret123\n      DB_PASSWORD_FILE: /run/secrets/db\n";
        let file = db.add("compose.yaml", text);
        let at = |needle: &str| {
            let start = text.find(needle).unwrap();
            Span::new(file, TextRange::new(start, start + needle.len()))
        };
        let mut container = Container::new("web", SourceKind::Compose, at("web"));
        container.runtime = Some(Runtime {
            environment: vec![
                EnvVar {
                    name: Spanned::new("DB_PASSWORD".into(), at("DB_PASSWORD")),
                    value: Some(Spanned::new(
                        Sensitive::new("SuperSecret123"),
                        at("SuperSecret123"),
                    )),
                },
                EnvVar {
                    name: Spanned::new("DB_PASSWORD_FILE".into(), at("DB_PASSWORD_FILE")),
                    value: Some(Spanned::new(
                        Sensitive::new("/run/secrets/db"),
                        at("/run/secrets/db"),
                    )),
                },
            ],
            ..Runtime::default()
        });
        let found = findings_in(&META, &db, &[container]);
        assert_eq!(
            found,
            ["4: high `DB_PASSWORD` is set to a literal in `environment:` (`<redacted, 14 chars>`): written in the Compose file and readable with `docker inspect`"]
        );
    }
}
