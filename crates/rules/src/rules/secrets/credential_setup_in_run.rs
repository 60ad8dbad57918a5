use std::sync::LazyLock;

use leastpriv_model::{Container, Remedy, RunInstruction};
use leastpriv_source::Span;
use regex::Regex;

use crate::engine::Checker;
use crate::helpers::build::{image_stage_mask, stage_label};
use crate::helpers::shell::{base_name, run_invocations, Invocation};
use crate::rule::Check;
use crate::Severity;

crate::declare_rule! {
    /// ## What it does
    /// Flags a `RUN` that stores a credential in a file of the image: `aws configure set
    /// aws_secret_access_key …`, `gcloud auth activate-service-account`, `az login -p`,
    /// `doctl auth init -t`, `npm|pnpm config set //…:_authToken …`, `yarn config set
    /// npmAuthToken`, `docker|podman|helm login -p`, `gh auth login`, `git config url.<url with
    /// credentials>.insteadOf`, `pip config set` with a password URL, `poetry config http-basic.…`,
    /// `composer config github-oauth.…`, `kubectl config set-credentials --token`, `vault login`,
    /// and `echo`/`printf`/`tee` of credentials into `~/.npmrc`, `.pypirc`, `.netrc`,
    /// `.git-credentials`, `~/.aws/credentials`, `~/.docker/config.json`, `.pgpass` or
    /// `.vault-token`. A `RUN` that deletes the file again before it ends is not reported. In a
    /// builder stage that does not reach the image the finding is low.
    ///
    /// ## Why is this bad?
    /// These commands write the credential to a file in the layer the `RUN` creates, so the image
    /// carries it to everyone who can pull it. A `--mount=type=secret` on the same `RUN` keeps the
    /// value out of `docker history`, which is why trivy accepts it, but not out of the file the
    /// command writes: the layer still holds `~/.aws/credentials`. Mount the credential file
    /// itself for the one step that needs it, and nothing is written.
    ///
    /// ## Example
    /// ```dockerfile
    /// RUN --mount=type=secret,id=npm_token,env=NPM_TOKEN \
    ///     npm config set //registry.npmjs.org/:_authToken "$NPM_TOKEN" && npm ci
    /// ```
    ///
    /// Use instead:
    /// ```dockerfile
    /// RUN --mount=type=secret,id=npmrc,target=/root/.npmrc npm ci
    /// ```
    /// For AWS, `RUN --mount=type=secret,id=aws,target=/root/.aws/credentials aws s3 cp …`.
    ///
    /// ## Known problems
    /// A file written to a path given by a variable (`> "$NPM_CONFIG_USERCONFIG"`) is not
    /// recognised. A credential removed by a later `RUN` is still reported: it is in the earlier
    /// layer.
    ///
    /// ## Equivalents
    /// hadolint: none · trivy DS-0031 (the same commands, but accepts any `RUN` with a secret
    /// mount) · checkov: none · dockle CIS-DI-0010 (credential files in layers) · CIS Docker
    /// Benchmark 4.10
    pub(crate) static META = {
        name: "credential-setup-in-run",
        layer: Secrets,
        severity: High,
        fix: "Mount the credential file for the step instead of writing it: `RUN --mount=type=secret,id=…,target=<file>`",
        also: [Low],
    };
}

pub(crate) const CHECK: Check = Check::Container(check);

/// A credential a `RUN` writes: what writes it, where it points, and the file it lands in.
struct Setup {
    span: Span,
    what: String,
    file: &'static str,
}

fn check(checker: &mut Checker<'_>, container: &Container) {
    let Some(build) = &container.build else {
        return;
    };
    let in_image = image_stage_mask(build);
    for stage in &build.stages {
        let reaches_image = in_image.get(stage.index).copied().unwrap_or(true);
        for run in &stage.runs {
            for setup in setups(run) {
                if removes_file(run, setup.file) {
                    continue;
                }
                let message = if reaches_image {
                    format!(
                        "`{}` writes a credential to `{}` in this layer: anyone who can pull the image can read it",
                        setup.what, setup.file
                    )
                } else {
                    format!(
                        "`{}` writes a credential to `{}` in {}: not in the final image, but in its build cache",
                        setup.what,
                        setup.file,
                        stage_label(stage)
                    )
                };
                let diagnostic = checker
                    .report(setup.span, message)
                    .remedy(Remedy::RemoveInstruction);
                if !reaches_image {
                    diagnostic.severity(Severity::Low);
                }
            }
        }
    }
}

fn setups(run: &RunInstruction) -> Vec<Setup> {
    let mut found: Vec<Setup> = run_invocations(run)
        .filter_map(|invocation| {
            command_setup(&invocation).map(|(what, file)| Setup {
                span: invocation.command.span,
                what,
                file,
            })
        })
        .collect();
    if let Some((file, what)) = written_credential_file(&run.script.value) {
        if !found.iter().any(|setup| setup.file == file) {
            let span = run
                .commands
                .iter()
                .find(|command| {
                    command
                        .argv
                        .iter()
                        .any(|word| word.value.contains(base_name(file)))
                })
                .map_or(run.span, |command| command.span);
            found.push(Setup {
                span,
                what: what.to_owned(),
                file,
            });
        }
    }
    found
}

fn has_flag(args: &[leastpriv_source::Spanned<String>], flags: &[&str]) -> bool {
    args.iter().any(|arg| {
        let value = arg.value.as_str();
        flags.iter().any(|flag| {
            value == *flag
                || value.strip_prefix(flag).is_some_and(|rest| {
                    rest.starts_with('=') || (!flag.starts_with("--") && !rest.is_empty())
                })
        })
    })
}

/// The credential-storing command an invocation is, with the file it writes.
fn command_setup(invocation: &Invocation<'_>) -> Option<(String, &'static str)> {
    const PROGRAMS: &[&str] = &[
        "aws", "gcloud", "az", "doctl", "npm", "pnpm", "yarn", "docker", "podman", "buildah",
        "skopeo", "nerdctl", "oras", "crane", "helm", "gh", "git", "pip", "pip3", "poetry",
        "composer", "kubectl", "vault",
    ];
    if !PROGRAMS.contains(&invocation.name()) {
        return None;
    }
    let args: Vec<&str> = invocation
        .args
        .iter()
        .map(|arg| arg.value.as_str())
        .collect();
    let positional: Vec<&str> = args
        .iter()
        .copied()
        .filter(|arg| !arg.starts_with('-'))
        .collect();
    let lower = |text: &str| text.to_ascii_lowercase();
    let program = invocation.name();
    let setup = match (program, positional.as_slice()) {
        ("aws", ["configure", "set", key, ..])
            if ["access_key_id", "secret_access_key", "session_token"]
                .iter()
                .any(|secret| lower(key).contains(secret)) =>
        {
            ("aws configure set", "~/.aws/credentials")
        }
        ("gcloud", ["auth", "activate-service-account", ..]) => {
            ("gcloud auth activate-service-account", "~/.config/gcloud")
        }
        ("gcloud", ["auth", "login", ..]) if has_flag(invocation.args, &["--cred-file"]) => {
            ("gcloud auth login --cred-file", "~/.config/gcloud")
        }
        ("az", ["login", ..]) if has_flag(invocation.args, &["-p", "--password"]) => {
            ("az login -p", "~/.azure")
        }
        ("doctl", ["auth", "init", ..]) if has_flag(invocation.args, &["-t", "--access-token"]) => {
            ("doctl auth init", "~/.config/doctl/config.yaml")
        }
        ("npm" | "pnpm", ["config", "set", key, ..] | ["set", key, ..])
            if ["_authtoken", "_auth", "_password"]
                .iter()
                .any(|secret| lower(key).contains(secret)) =>
        {
            ("npm config set", "~/.npmrc")
        }
        ("yarn", ["config", "set", key, ..])
            if ["npmauthtoken", "npmauthident", "_authtoken", "_auth"]
                .iter()
                .any(|secret| lower(key).contains(secret)) =>
        {
            ("yarn config set", "~/.yarnrc.yml")
        }
        (
            "docker" | "podman" | "buildah" | "skopeo" | "nerdctl" | "oras" | "crane",
            ["login", ..],
        )
        | ("helm", ["registry", "login", ..])
            if has_flag(invocation.args, &["-p", "--password"]) =>
        {
            ("login -p", "~/.docker/config.json")
        }
        ("helm", ["repo", "add", ..]) if has_flag(invocation.args, &["--password"]) => (
            "helm repo add --password",
            "~/.config/helm/repositories.yaml",
        ),
        ("gh", ["auth", "login", ..]) => ("gh auth login", "~/.config/gh/hosts.yml"),
        ("git", ["config", ..])
            if args.iter().any(|arg| {
                let arg = lower(arg);
                (arg.starts_with("url.") && arg.contains('@') && arg.contains("://"))
                    || (arg.contains("extraheader")
                        && args.iter().any(|a| lower(a).contains("authorization")))
            }) =>
        {
            ("git config", "~/.gitconfig")
        }
        ("pip" | "pip3", ["config", "set", _, value, ..])
            if value.contains("://")
                && value.split("://").nth(1).is_some_and(|rest| {
                    rest.split('/')
                        .next()
                        .is_some_and(|authority| authority.contains(':') && authority.contains('@'))
                }) =>
        {
            ("pip config set", "pip.conf")
        }
        ("poetry", ["config", key, ..])
            if key.starts_with("http-basic.") || key.starts_with("pypi-token.") =>
        {
            ("poetry config", "~/.config/pypoetry/auth.toml")
        }
        ("composer", ["config", key, ..])
            if [
                "github-oauth.",
                "gitlab-oauth.",
                "gitlab-token.",
                "http-basic.",
                "bearer.",
            ]
            .iter()
            .any(|prefix| key.starts_with(prefix)) =>
        {
            ("composer config", "~/.composer/auth.json")
        }
        ("kubectl", ["config", "set-credentials", ..])
            if has_flag(
                invocation.args,
                &[
                    "--token",
                    "--password",
                    "--client-key",
                    "--auth-provider-arg",
                ],
            ) =>
        {
            ("kubectl config set-credentials", "~/.kube/config")
        }
        ("vault", ["login", ..]) if !has_flag(invocation.args, &["-no-store"]) => {
            ("vault login", "~/.vault-token")
        }
        _ => return None,
    };
    let what = if setup.0 == "login -p" {
        format!("{program} login -p")
    } else {
        setup.0.to_owned()
    };
    Some((what, setup.1))
}

/// Credential files, what marks a credential in text written to them (`None`: the file is one),
/// and how the finding names it.
const CREDENTIAL_FILES: &[(&str, Option<&[&str]>, &str)] = &[
    (
        ".npmrc",
        Some(&["_authtoken", "_auth", "_password"]),
        "~/.npmrc",
    ),
    (
        ".yarnrc.yml",
        Some(&["npmauthtoken", "npmauthident"]),
        "~/.yarnrc.yml",
    ),
    (".pypirc", Some(&["password"]), "~/.pypirc"),
    (".netrc", Some(&["password"]), "~/.netrc"),
    (".git-credentials", None, "~/.git-credentials"),
    (".aws/credentials", None, "~/.aws/credentials"),
    (
        ".docker/config.json",
        Some(&["\"auth\"", "auths"]),
        "~/.docker/config.json",
    ),
    (".pgpass", None, "~/.pgpass"),
    (".vault-token", None, "~/.vault-token"),
];

static REDIRECT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?:>>?|(?-u:\b)tee(?-u:\b)(?:\s+-a)?)\s*["']?([^\s"';&|<>]+)"#)
        .expect("valid pattern")
});

/// A credential file the script writes with a redirection or `tee`, with the words for it.
fn written_credential_file(script: &str) -> Option<(&'static str, &'static str)> {
    if !CREDENTIAL_FILES
        .iter()
        .any(|(file, _, _)| script.contains(base_name(file)))
    {
        return None;
    }
    let lower = script.to_ascii_lowercase();
    REDIRECT.captures_iter(script).find_map(|captures| {
        let target = captures.get(1)?.as_str();
        CREDENTIAL_FILES
            .iter()
            .find(|(file, markers, _)| {
                target.ends_with(file)
                    && markers
                        .is_none_or(|markers| markers.iter().any(|marker| lower.contains(marker)))
            })
            .map(|(_, _, shown)| (*shown, "RUN"))
    })
}

/// Whether the same `RUN` deletes the file (or its directory) after writing it.
fn removes_file(run: &RunInstruction, file: &str) -> bool {
    let name = base_name(file);
    let directory = file.rsplit('/').nth(1).filter(|dir| dir.starts_with('.'));
    run_invocations(run)
        .filter(|invocation| invocation.name() == "rm")
        .flat_map(|invocation| invocation.operands())
        .any(|operand| {
            let removed = base_name(&operand.value);
            removed == name || directory.is_some_and(|dir| removed == dir)
        })
}

#[cfg(test)]
mod tests {
    use super::META;
    use crate::dockerfile_testing::findings;

    #[test]
    fn fires_on_credential_setup_even_with_a_secret_mount() {
        // Modelled on aquasecurity__trivy-checks DS-0031 examples and
        // jessfraz__dockerfiles/s3cmd/Dockerfile (credentials echoed into a config file).
        let found = findings(
            &META,
            "FROM amazon/aws-cli\n\
             RUN aws configure set aws_secret_access_key $AWS_SECRET && aws s3 ls\n\
             RUN --mount=type=secret,id=tok,env=NPM_TOKEN npm config set //registry.npmjs.org/:_authToken $NPM_TOKEN\n\
             RUN docker login -u ci -p $REGISTRY_PASSWORD registry.example.com\n\
             RUN echo machine github.com login ci password $GH_TOKEN > /root/.netrc\n\
             RUN git config --global url.https://ci:$TOKEN@github.com/.insteadOf https://github.com/\n",
        );
        assert_eq!(
            found,
            [
                "2: high `aws configure set` writes a credential to `~/.aws/credentials` in this layer: anyone who can pull the image can read it",
                "3: high `npm config set` writes a credential to `~/.npmrc` in this layer: anyone who can pull the image can read it",
                "4: high `docker login -p` writes a credential to `~/.docker/config.json` in this layer: anyone who can pull the image can read it",
                "5: high `RUN` writes a credential to `~/.netrc` in this layer: anyone who can pull the image can read it",
                "6: high `git config` writes a credential to `~/.gitconfig` in this layer: anyone who can pull the image can read it",
            ]
        );
    }

    #[test]
    fn stays_silent_on_mounted_files_cleanups_and_plain_config() {
        let found = findings(
            &META,
            "FROM node:20\n\
             RUN --mount=type=secret,id=npmrc,target=/root/.npmrc npm ci\n\
             RUN npm config set //registry.npmjs.org/:_authToken $NPM_TOKEN && npm ci && rm -f /root/.npmrc\n\
             RUN echo registry=https://registry.npmjs.org/ > /root/.npmrc\n\
             RUN npm config set registry https://registry.npmjs.org/\n\
             RUN aws configure set region eu-west-1\n\
             RUN echo docker login -p x\n\
             RUN docker login --password-stdin -u ci registry.example.com\n",
        );
        assert!(found.is_empty(), "{found:?}");
    }
}
