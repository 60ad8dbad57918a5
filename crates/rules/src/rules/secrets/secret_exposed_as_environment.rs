use leastpriv_model::{Container, Remedy, SourceKind};

use crate::engine::Checker;
use crate::helpers::runtime::fix_for;
use crate::helpers::secrets::is_secret_name;
use crate::rule::Check;

crate::declare_rule! {
    /// ## What it does
    /// Flags a secret that reaches the container as an environment variable rather than a file:
    /// from a secret store (Kubernetes `env[].valueFrom.secretKeyRef` and `envFrom[].secretRef`,
    /// Podman `--secret …,type=env`), or passed through from the shell that starts the container
    /// (Compose `environment: [DB_PASSWORD]`, `docker run -e DB_PASSWORD`) when the name says it is a
    /// secret. A secret value written literally in the configuration is `secret-in-env`'s (LP601).
    ///
    /// ## Why is this bad?
    /// The environment is the least private place a process has: every child process inherits it,
    /// crash reporters and debug pages dump it, `/proc/<pid>/environ` exposes it to anything that can
    /// trace the process, and frameworks log it at start-up. A file under `/run/secrets` (a Kubernetes
    /// `secret` volume, Compose `secrets:`) is read only when needed, has its own permissions and is
    /// updated in place when the secret rotates.
    ///
    /// ## Example
    /// ```yaml
    /// apiVersion: v1
    /// kind: Pod
    /// metadata:
    ///   name: api
    /// spec:
    ///   containers:
    ///     - name: api
    ///       image: example/api
    ///       env:
    ///         - name: DB_PASSWORD
    ///           valueFrom:
    ///             secretKeyRef: {name: db, key: password}
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// apiVersion: v1
    /// kind: Pod
    /// metadata:
    ///   name: api
    /// spec:
    ///   containers:
    ///     - name: api
    ///       image: example/api
    ///       env:
    ///         - name: DB_PASSWORD_FILE
    ///           value: /run/secrets/db/password
    ///       volumeMounts:
    ///         - {name: db, mountPath: /run/secrets/db, readOnly: true}
    ///   volumes:
    ///     - {name: db, secret: {secretName: db, defaultMode: 0400}}
    /// ```
    /// In Compose, a top-level secret (`secrets: {db_password: {environment: DB_PASSWORD}}` keeps
    /// taking it from the shell) granted to the service and read from `/run/secrets/db_password`.
    ///
    /// ## Known problems
    /// Some programs read credentials only from the environment; keep those, and suppress the finding
    /// with that reason.
    ///
    /// ## Equivalents
    /// checkov CKV_K8S_35 · kubesec (no equivalent) · trivy (no equivalent)
    pub(crate) static META = {
        name: "secret-exposed-as-environment",
        layer: Secrets,
        severity: Medium,
        fix: "Mount the secret as a file (a `secret` volume, Compose `secrets:`) and read it from there",
    };
}

pub(crate) const CHECK: Check = Check::Container(check);

fn check(checker: &mut Checker<'_>, container: &Container) {
    let Some(runtime) = &container.runtime else {
        return;
    };
    for variable in &runtime.secret_env {
        let name = &variable.value;
        let fix = fix_for(
            container,
            &format!("grant the secret with `secrets:` and read `/run/secrets/<name>` instead of `{name}`"),
            &format!("mount the secret as a `secret` volume and have the program read the file instead of `{name}`"),
            &format!("mount the secret as a file and read it instead of `{name}`"),
        );
        checker
            .report(
                variable.span,
                format!("secret `{name}` is passed as an environment variable: child processes, crash dumps and logs see it"),
            )
            .fix(fix)
            .remedy(Remedy::MoveToSecret { name: name.clone() });
    }
    if !matches!(container.kind, SourceKind::Compose | SourceKind::DockerRun) {
        return;
    }
    for variable in &runtime.environment {
        let name = &variable.name.value;
        let from_store = runtime
            .secret_env
            .iter()
            .any(|secret| &secret.value == name);
        if variable.value.is_some() || from_store || !is_secret_name(name) {
            continue;
        }
        let secret = name.to_ascii_lowercase();
        let fix = fix_for(
            container,
            &format!("declare `secrets: {{{secret}: {{environment: {name}}}}}` at the top level, grant it with `secrets: [{secret}]` and read `/run/secrets/{secret}`"),
            "",
            &format!("mount the secret as a file (`--mount type=bind,src=…,dst=/run/secrets/{secret},readonly`) and read it instead of `-e {name}`"),
        );
        checker
            .report(
                variable.name.span,
                format!("secret `{name}` is passed from the starting shell into the container's environment: child processes, crash dumps and logs see it"),
            )
            .fix(fix)
            .remedy(Remedy::MoveToSecret { name: name.clone() });
    }
}

#[cfg(test)]
mod tests {
    use leastpriv_model::{Runtime, SourceKind};

    use crate::testing::Source;

    #[test]
    fn fires_for_secrets_passed_through_from_the_shell() {
        use leastpriv_model::{EnvVar, Sensitive};
        let source = Source::new();
        let variable = |line, name: &str, value: Option<&str>| EnvVar {
            name: source.at(line, name.to_owned()),
            value: value.map(|value| source.at(line, Sensitive::new(value))),
        };
        let runtime = Runtime {
            environment: vec![
                variable(2, "DB_PASSWORD", None),
                variable(3, "DB_PASSWORD_FILE", None),
                variable(4, "HOME", None),
                variable(5, "API_TOKEN", Some("literal is LP601's")),
            ],
            ..Runtime::default()
        };
        let found = source.run(
            "LP620",
            &[source.container(SourceKind::Compose, runtime.clone())],
        );
        assert_eq!(found.iter().map(|f| f.line).collect::<Vec<_>>(), [2]);
        assert!(
            found[0].fix.contains("environment: DB_PASSWORD"),
            "{}",
            found[0].fix
        );
        assert!(source
            .lines("LP620", SourceKind::Kubernetes, runtime)
            .is_empty());
    }

    #[test]
    fn fires_for_each_secret_in_the_environment() {
        let source = Source::new();
        let runtime = Runtime {
            secret_env: vec![
                source.at(3, "DB_PASSWORD".to_owned()),
                source.at(5, "api-keys".to_owned()),
            ],
            ..Runtime::default()
        };
        let found = source.run(
            "LP620",
            &[source.container(SourceKind::Kubernetes, runtime)],
        );
        let lines: Vec<_> = found.iter().map(|f| f.line).collect();
        assert_eq!(lines, [3, 5]);
        assert!(found[0].fix.contains("secret` volume"));
        assert!(source
            .lines("LP620", SourceKind::Kubernetes, Runtime::default())
            .is_empty());
    }
}
