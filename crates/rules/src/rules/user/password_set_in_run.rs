use leastpriv_model::{Container, Remedy, RunInstruction};

use crate::engine::Checker;
use crate::helpers::shell::{run_invocations, Invocation};
use crate::rule::Check;
use crate::Severity;

crate::declare_rule! {
    /// ## What it does
    /// Flags a `RUN` in a stage that reaches the image that gives an account a password, or
    /// removes it: `echo 'user:pass' | chpasswd`, `chpasswd < file`, `passwd -d user`,
    /// `passwd --stdin`, `usermod -p HASH user`, `useradd -p HASH user`. Setting root's password (or
    /// emptying it) is reported as high. Locking an account (`passwd -l`, `usermod -L`,
    /// `useradd -p '*'`) is not reported.
    ///
    /// ## Why is this bad?
    /// An account with a known (or empty) password can be entered with `su` by any process in the
    /// container: a known root password undoes a non-root `USER` entirely, and a password for a
    /// user in a `sudo` group does the same through `sudo`. The password itself is written in the
    /// image's history (`docker history --no-trunc`) and its hash in `/etc/shadow` of the layer,
    /// for anyone who can pull the image. Containers have no interactive logins that need
    /// passwords.
    ///
    /// ## Example
    /// ```dockerfile
    /// RUN echo 'root:root' | chpasswd
    /// ```
    ///
    /// Use instead:
    /// ```dockerfile
    /// RUN useradd --uid 10001 --no-create-home app
    /// USER 10001
    /// ```
    /// Leave accounts locked (the default for `useradd`); run as the user directly instead of
    /// logging in.
    ///
    /// ## Known problems
    /// Which account `chpasswd` changes is read from an `echo` or `printf` in the same `RUN`; when
    /// the input comes from a file, the finding is medium.
    ///
    /// ## Equivalents
    /// hadolint: none · trivy: none · checkov CKV2_DOCKER_17 · dockle CIS-DI-0010 (only secrets in
    /// `ENV`) · CIS Docker Benchmark 4.10 (secrets in Dockerfiles)
    pub(crate) static META = {
        name: "password-set-in-run",
        layer: User,
        severity: Medium,
        fix: "Do not set account passwords in the image: keep accounts locked and run as the user directly",
        also: [High],
    };
}

pub(crate) const CHECK: Check = Check::Container(check);

fn check(checker: &mut Checker<'_>, container: &Container) {
    let Some(build) = &container.build else {
        return;
    };
    for run in build.image_stages().flat_map(|stage| stage.runs.iter()) {
        for invocation in run_invocations(run) {
            let Some(change) = password_change(&invocation, run) else {
                continue;
            };
            let (severity, consequence) = match change.account.as_deref() {
                Some("root") => (Severity::High, "any process can `su` to root"),
                _ => (Severity::Medium, "any process can `su` to that account"),
            };
            let whom = change
                .account
                .map_or_else(|| "an account".to_owned(), |name| format!("`{name}`"));
            let message = if change.empty {
                format!(
                    "`{}` empties the password of {whom} in the image: {consequence} without one",
                    invocation.name()
                )
            } else {
                format!(
                    "`{}` sets a password for {whom} in the image: {consequence} with it, and the command is kept in `docker history`",
                    invocation.name()
                )
            };
            checker
                .report(invocation.command.span, message)
                .severity(severity)
                .remedy(Remedy::RemoveInstruction);
        }
    }
}

/// Options of `passwd`, `useradd` and `usermod` that take a value.
const VALUE_OPTIONS: &[&str] = &[
    "-p",
    "--password",
    "-u",
    "--uid",
    "-g",
    "--gid",
    "-G",
    "--groups",
    "-d",
    "--home",
    "--home-dir",
    "-s",
    "--shell",
    "-c",
    "--comment",
    "-e",
    "--expiredate",
    "-f",
    "--inactive",
    "-k",
    "--skel",
    "-K",
    "--key",
    "-R",
    "--root",
    "-P",
    "--prefix",
];

/// A password an invocation sets or removes.
struct PasswordChange {
    /// The account, when it can be told.
    account: Option<String>,
    /// Whether the password is removed rather than set.
    empty: bool,
}

/// If the invocation sets or removes a password, which and how.
fn password_change(invocation: &Invocation<'_>, run: &RunInstruction) -> Option<PasswordChange> {
    let args = invocation.args;
    let has = |options: &[&str]| args.iter().any(|arg| options.contains(&arg.value.as_str()));
    // The account is the last operand that is not an option's value.
    let last_operand = || {
        args.iter()
            .enumerate()
            .filter(|(index, arg)| {
                !arg.value.starts_with('-')
                    && !index
                        .checked_sub(1)
                        .and_then(|previous| args.get(previous))
                        .is_some_and(|previous| VALUE_OPTIONS.contains(&previous.value.as_str()))
            })
            .map(|(_, arg)| arg.value.clone())
            .next_back()
    };
    match invocation.name() {
        "chpasswd" => Some(PasswordChange {
            account: chpasswd_account(run),
            empty: false,
        }),
        "passwd" => {
            // Interactive `passwd` cannot run in a build; only these forms change anything.
            if has(&["-d", "--delete", "--stdin"]) {
                Some(PasswordChange {
                    account: last_operand().or_else(|| Some("root".to_owned())),
                    empty: has(&["-d", "--delete"]),
                })
            } else {
                None
            }
        }
        "usermod" | "useradd" | "adduser" => {
            let value =
                args.iter()
                    .enumerate()
                    .find_map(|(index, arg)| match arg.value.as_str() {
                        "-p" | "--password" => {
                            args.get(index + 1).map(|value| value.value.as_str())
                        }
                        other => other.strip_prefix("--password="),
                    })?;
            // `*` and `!…` lock the account.
            if value == "*" || value.starts_with('!') {
                return None;
            }
            Some(PasswordChange {
                account: last_operand(),
                empty: value.is_empty(),
            })
        }
        _ => None,
    }
}

/// The account an `echo 'user:password' | chpasswd` in this `RUN` changes.
fn chpasswd_account(run: &RunInstruction) -> Option<String> {
    run.commands
        .iter()
        .filter(|command| matches!(command.program(), Some("echo" | "printf")))
        .flat_map(|command| command.args())
        .find_map(|word| {
            let (account, _) = word.value.split_once(':')?;
            let account = account.trim_start_matches("-e ").trim();
            let valid = !account.is_empty()
                && account.bytes().all(|b| {
                    b.is_ascii_alphanumeric()
                        || matches!(b, b'_' | b'-' | b'.' | b'$' | b'{' | b'}')
                });
            valid.then(|| account.to_owned())
        })
}

#[cfg(test)]
mod tests {
    use super::META;
    use crate::dockerfile_testing::findings;

    #[test]
    fn fires_on_password_changes() {
        // Modelled on bridgecrewio__checkov/tests/dockerfile/graph_builder/checks/resources/
        // RunChpasswd/fail/Dockerfile.
        let found = findings(
            &META,
            "FROM debian\n\
             RUN echo 'root:root' | chpasswd\n\
             RUN apt-get update && echo 'someuser:somepasswd' | chpasswd\n\
             RUN chpasswd < input.txt\n\
             RUN passwd -d root\n\
             RUN usermod --password '$6$salt$hash' app\n\
             RUN useradd nopasswd -p \"\"\n",
        );
        assert_eq!(
            found,
            [
                "2: high `chpasswd` sets a password for `root` in the image: any process can `su` to root with it, and the command is kept in `docker history`",
                "3: medium `chpasswd` sets a password for `someuser` in the image: any process can `su` to that account with it, and the command is kept in `docker history`",
                "4: medium `chpasswd` sets a password for an account in the image: any process can `su` to that account with it, and the command is kept in `docker history`",
                "5: high `passwd` empties the password of `root` in the image: any process can `su` to root without one",
                "6: medium `usermod` sets a password for `app` in the image: any process can `su` to that account with it, and the command is kept in `docker history`",
                "7: medium `useradd` empties the password of `nopasswd` in the image: any process can `su` to that account without one",
            ]
        );
    }

    #[test]
    fn stays_silent_on_locks_and_builder_stages() {
        let found = findings(
            &META,
            "FROM debian AS build\n\
             RUN echo 'root:root' | chpasswd\n\
             FROM debian\n\
             RUN passwd -l root && usermod -L app && useradd -p '*' svc\n\
             RUN useradd --system --uid 10001 app\n",
        );
        assert!(found.is_empty(), "{found:?}");
    }
}
