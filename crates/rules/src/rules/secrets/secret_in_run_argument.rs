use leastpriv_model::{Container, Remedy, Sensitive};
use leastpriv_source::Spanned;

use crate::engine::Checker;
use crate::helpers::build::image_stage_mask;
use crate::helpers::secrets::{
    find_credential, is_literal_value, is_placeholder_for, secret_arguments,
};
use crate::helpers::shell::{run_invocations, Invocation};
use crate::rule::Check;
use crate::Severity;

crate::declare_rule! {
    /// ## What it does
    /// Flags a literal password or token passed on a `RUN` command line: `--password=…`,
    /// `--passwd`, `--token`, `--api-key`, `--access-token`, `--auth-token`, `--client-secret`
    /// and the like on any program; `-p` of `docker|podman|helm login`, `az login` and `sshpass`;
    /// `-pSECRET` of `mysql` and `mysqladmin`; `-a` of `redis-cli`; `-u user:password` of `curl`;
    /// `pass:SECRET` given to `openssl -pass|-passin|-passout`; `-storepass`/`-keypass` of `keytool`.
    /// References (`$DB_PASSWORD`, `"$(cat /run/secrets/db)"`) are not reported: where the value
    /// comes from is judged by LP601 and LP602. A value of a known credential format is reported by
    /// LP603 instead. In a builder stage that does not reach the image the finding is medium.
    ///
    /// ## Why is this bad?
    /// The `RUN` line is stored verbatim in the image history (`docker history --no-trunc`) and
    /// in the Dockerfile, so the password is readable by anyone who can pull the image or read the
    /// repository. On a shared build host it is also visible in the process list while the step
    /// runs.
    ///
    /// ## Example
    /// ```dockerfile
    /// RUN mysql -uroot -pSuperSecret123 < /docker-entrypoint-initdb.d/schema.sql
    /// ```
    ///
    /// Use instead:
    /// ```dockerfile
    /// RUN --mount=type=secret,id=mysql_root,env=MYSQL_PWD \
    ///     mysql -uroot < /docker-entrypoint-initdb.d/schema.sql
    /// ```
    /// Most tools read a password from a file, stdin (`--password-stdin`) or an environment
    /// variable that a secret mount can provide.
    ///
    /// ## Equivalents
    /// hadolint: none · trivy `--scanners secret` (known formats only) · checkov CKV_SECRET_*
    /// (known formats only) · KICS Passwords And Secrets · CIS Docker Benchmark 4.10
    pub(crate) static META = {
        name: "secret-in-run-argument",
        layer: Secrets,
        severity: High,
        fix: "Pass the secret through `RUN --mount=type=secret` (a file, stdin or `env=`), never as a literal argument",
        also: [Medium],
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
        for run in &stage.runs {
            for invocation in run_invocations(run) {
                let Some((option, value, secret)) = secret_argument(&invocation) else {
                    continue;
                };
                let shown = Sensitive::new(secret).redacted();
                let diagnostic = checker
                    .report(
                        value.span,
                        format!(
                            "`{} {option}` is given a literal secret (`{shown}`): the `RUN` line is kept in `docker history`",
                            invocation.name()
                        ),
                    )
                    .remedy(Remedy::RemoveInstruction);
                if !reaches_image {
                    diagnostic.severity(Severity::Medium);
                }
            }
        }
    }
}

/// The option, the word holding the value and the secret itself, when the invocation passes a
/// literal secret: the first that [`secret_arguments`] finds and no other rule reports.
fn secret_argument<'a>(
    invocation: &Invocation<'a>,
) -> Option<(String, &'a Spanned<String>, &'a str)> {
    // `useradd -p` sets an account's password: LP208 reports it.
    if matches!(invocation.name(), "useradd" | "usermod" | "adduser") {
        return None;
    }
    let args: Vec<&str> = invocation
        .args
        .iter()
        .map(|arg| arg.value.as_str())
        .collect();
    secret_arguments(invocation.name(), &args)
        .into_iter()
        .find_map(|found| {
            let word = &invocation.args[found.word];
            let secret = word.value.get(found.value)?;
            is_secret_literal(secret).then_some((found.option, word, secret))
        })
}

/// A literal that is a secret and that no other rule reports.
fn is_secret_literal(value: &str) -> bool {
    is_literal_value(value) && !is_placeholder_for("", value) && find_credential(value).is_none()
}

#[cfg(test)]
mod tests {
    use super::META;
    use crate::dockerfile_testing::findings;

    #[test]
    fn fires_on_literal_passwords() {
        let found = findings(
            &META,
            "FROM mysql:8\n\
             RUN mysql -uroot -pSuperSecret123 < schema.sql\n\
             RUN docker login -u ci -p hunter2hunter2 registry.example.com\n\
             RUN curl -u admin:hunter2 https://example.com/artifact.tgz\n\
             RUN ./configure --password=s3cr3tvalue\n\
             RUN keytool -importcert -storepass changeit -file ca.crt\n",
        );
        assert_eq!(
            found,
            [
                "2: high `mysql -p` is given a literal secret (`<redacted, 14 chars>`): the `RUN` line is kept in `docker history`",
                "3: high `docker login -p` is given a literal secret (`<redacted, 14 chars>`): the `RUN` line is kept in `docker history`",
                "4: high `curl -u` is given a literal secret (`<redacted, 7 chars>`): the `RUN` line is kept in `docker history`",
                "5: high `configure --password` is given a literal secret (`<redacted, 11 chars>`): the `RUN` line is kept in `docker history`",
                "6: high `keytool -storepass` is given a literal secret (`<redacted, 8 chars>`): the `RUN` line is kept in `docker history`",
            ]
        );
    }

    #[test]
    fn stays_silent_on_references_and_stdin() {
        let found = findings(
            &META,
            "FROM mysql:8\n\
             RUN mysql -uroot -p$MYSQL_ROOT_PASSWORD < schema.sql\n\
             RUN docker login -u ci --password-stdin registry.example.com\n\
             RUN curl -u ci:$TOKEN https://example.com && curl -u ci https://example.com\n\
             RUN ./tool --password=${PASSWORD} --token $(cat /run/secrets/token)\n\
             RUN mysql -p < x.sql && ssh -p 2222 host\n",
        );
        assert!(found.is_empty(), "{found:?}");
    }
}
