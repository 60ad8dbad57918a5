use leastpriv_model::{references_variable, Container, Remedy};

use crate::engine::Checker;
use crate::helpers::secrets::is_secret_name;
use crate::rule::Check;
use crate::rules::secrets::secret_in_env::holds_literal_secret;

crate::declare_rule! {
    /// ## What it does
    /// Flags an `ARG` whose name says it holds a secret (`NPM_TOKEN`, `GITHUB_TOKEN`,
    /// `DB_PASSWORD` …) that a later `RUN` of a stage that reaches the image uses, or that an
    /// `ENV` copies (`ENV TOKEN=$NPM_TOKEN`, which stores the value in the image config). The value
    /// comes from `docker build --build-arg`, so it is not in the Dockerfile, but it is in the
    /// image. An `ARG` with a literal default is reported by LP601 instead; an `ARG` used only in a
    /// builder stage is not reported (its `RUN` history does not reach the image), nor one whose
    /// `RUN` receives the same name from a secret mount (`--mount=type=secret,env=NAME`).
    ///
    /// ## Why is this bad?
    /// Build arguments are not secret. Every `RUN` after the `ARG` is recorded in the image history
    /// with the values of the build arguments in scope, as `|1 NPM_TOKEN=npm_… /bin/sh -c npm ci`:
    /// anyone who can pull the image reads the token with `docker history --no-trunc`, and it is
    /// also in the build's provenance and logs. BuildKit's build secrets exist to avoid exactly
    /// this: the value is mounted for one `RUN` and recorded nowhere.
    ///
    /// ## Example
    /// ```dockerfile
    /// ARG NPM_TOKEN
    /// RUN echo "//registry.npmjs.org/:_authToken=${NPM_TOKEN}" > .npmrc && npm ci && rm .npmrc
    /// ```
    ///
    /// Use instead:
    /// ```dockerfile
    /// RUN --mount=type=secret,id=npm_token,env=NPM_TOKEN \
    ///     echo "//registry.npmjs.org/:_authToken=${NPM_TOKEN}" > .npmrc && npm ci && rm .npmrc
    /// ```
    /// and build with `docker build --secret id=npm_token,env=NPM_TOKEN .` (Compose:
    /// `build: {secrets: [npm_token]}`).
    ///
    /// ## Equivalents
    /// hadolint DL3064 (names) · trivy DS-0031 (names, final stage) · checkov: none · dockle
    /// CIS-DI-0010 (image history) · BuildKit check `SecretsUsedInArgOrEnv` · CIS Docker Benchmark
    /// 4.10
    pub(crate) static META = {
        name: "secret-in-build-arg",
        layer: Secrets,
        severity: High,
        fix: "Pass the secret with `RUN --mount=type=secret,id=…,env=NAME` and `docker build --secret`, not as a build arg",
    };
}

pub(crate) const CHECK: Check = Check::Container(check);

fn check(checker: &mut Checker<'_>, container: &Container) {
    let Some(build) = &container.build else {
        return;
    };
    for stage in build.image_stages() {
        for arg in &stage.args {
            let name = &arg.name.value;
            if !is_secret_name(name) {
                continue;
            }
            if arg
                .default
                .as_ref()
                .is_some_and(|default| holds_literal_secret(name, default.value.expose()))
            {
                continue;
            }
            let id = name.to_ascii_lowercase();
            let fix = format!(
                "Remove `ARG {name}`: use `RUN --mount=type=secret,id={id},env={name}` and build with `docker build --secret id={id},env={name}`"
            );
            // Worst first: an `ENV` that copies the value stores it in the image config.
            let promoted = stage.env.iter().find(|env| {
                env.name.span.range.start > arg.name.span.range.start
                    && env
                        .value
                        .as_ref()
                        .is_some_and(|value| references_variable(value.value.expose(), name))
            });
            if let Some(env) = promoted {
                checker
                    .report(
                        arg.name.span,
                        format!(
                            "build arg `{name}` is copied into `ENV {}`, so its value is stored in the image config",
                            env.name.value
                        ),
                    )
                    .related(env.name.span, "copied here")
                    .fix(fix)
                    .remedy(Remedy::MoveToSecret { name: name.clone() });
                continue;
            }
            let used_by = stage.runs.iter().find(|run| {
                run.span.range.start > arg.name.span.range.start
                    && run.args_used.iter().any(|used| used == name)
                    && !mounts_secret_as(run, name)
            });
            let Some(run) = used_by else {
                continue;
            };
            checker
                .report(
                    arg.name.span,
                    format!("build arg `{name}` is used by a `RUN`, so its value is recorded in `docker history` of the image"),
                )
                .related(run.span, "used here")
                .fix(fix)
                .remedy(Remedy::MoveToSecret { name: name.clone() });
        }
    }
}

/// Whether the `RUN` gets `name` from a secret mount (`--mount=type=secret,id=x,env=NAME`).
fn mounts_secret_as(run: &leastpriv_model::RunInstruction, name: &str) -> bool {
    run.flags.mounts.iter().any(|mount| {
        mount.value.contains("type=secret")
            && mount
                .value
                .split(',')
                .any(|option| option.strip_prefix("env=") == Some(name))
    })
}

#[cfg(test)]
mod tests {
    use super::META;
    use crate::dockerfile_testing::findings;

    #[test]
    fn fires_when_a_run_uses_a_secret_arg() {
        let found = findings(
            &META,
            "FROM node:20\n\
             ARG NPM_TOKEN\n\
             ARG NODE_ENV=production\n\
             RUN npm config set //registry.npmjs.org/:_authToken ${NPM_TOKEN} && npm ci\n",
        );
        assert_eq!(
            found,
            ["2: high build arg `NPM_TOKEN` is used by a `RUN`, so its value is recorded in `docker history` of the image"]
        );
    }

    #[test]
    fn fires_when_an_env_copies_a_secret_arg() {
        let found = findings(
            &META,
            "FROM node:20\n\
             ARG DB_PASSWORD\n\
             ENV DATABASE_PASSWORD=${DB_PASSWORD} DB_PASSWORD_HINT=$DB_PASSWORD_HINT\n",
        );
        assert_eq!(
            found,
            ["2: high build arg `DB_PASSWORD` is copied into `ENV DATABASE_PASSWORD`, so its value is stored in the image config"]
        );
    }

    #[test]
    fn stays_silent_in_builders_on_secret_mounts_and_unused_args() {
        let found = findings(
            &META,
            "FROM node:20 AS deps\n\
             ARG NPM_TOKEN\n\
             RUN echo $NPM_TOKEN > .npmrc && npm ci\n\
             FROM node:20\n\
             ARG GITHUB_TOKEN\n\
             ARG DB_PASSWORD_FILE\n\
             RUN cat $DB_PASSWORD_FILE\n\
             ARG API_TOKEN\n\
             RUN --mount=type=secret,id=api,env=API_TOKEN curl -H $API_TOKEN https://x\n\
             ARG LICENSE_KEY=abc123\n\
             RUN curl https://x?k=$LICENSE_KEY\n",
        );
        assert!(found.is_empty(), "{found:?}");
    }
}
