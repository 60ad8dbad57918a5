//! Secrets passed on a command line: `--password=…`, `mysql -p…`, `curl -u user:…`, `docker login
//! -p …`, `sshpass -p …`, `useradd -p …`. One function reads the words of one command; the
//! `secret-in-run-argument` rule calls it on a parsed `RUN`, and the masker on the words of a quoted
//! line, so what the rule flags is what a snippet hides.

use std::ops::Range;

use crate::detect::is_literal_value;

/// Long options, on any program, whose value is a secret.
const SECRET_OPTIONS: &[&str] = &[
    "--password",
    "--passwd",
    "--pass",
    "--token",
    "--api-key",
    "--apikey",
    "--access-token",
    "--auth-token",
    "--client-secret",
    "--secret-key",
    "--http-password",
    "--ftp-password",
    "--proxy-password",
    "--storepass",
    "--keypass",
];

/// A secret given to a command: the option that takes it (`login -p`, `--password`, `-p` of
/// `mysql`), the index of the argument word that holds it, and where the secret is in that word.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecretArgument {
    /// The option as a person would name it.
    pub option: String,
    /// Index into the arguments of the word holding the secret.
    pub word: usize,
    /// Byte range of the secret inside that word.
    pub value: Range<usize>,
}

/// Every literal secret that `program` (its base name) is given in `args` (the words after the
/// program name, quotes removed). References (`$DB_PASSWORD`, `$(cat …)`) and placeholders are not
/// secrets; see [`is_literal_value`].
pub fn secret_arguments(program: &str, args: &[&str]) -> Vec<SecretArgument> {
    let positional: Vec<&str> = args
        .iter()
        .copied()
        .filter(|arg| !arg.starts_with('-'))
        .collect();
    let login = matches!(
        program,
        "docker" | "podman" | "buildah" | "skopeo" | "nerdctl" | "helm"
    ) && positional.contains(&"login")
        || (program == "az" && positional.first() == Some(&"login"))
        || program == "sshpass";
    let mut found = Vec::new();
    let mut push = |option: &str, word: usize, value: Range<usize>, text: &str| {
        if is_literal_value(&text[value.clone()]) {
            found.push(SecretArgument {
                option: option.to_owned(),
                word,
                value,
            });
        }
    };
    for (index, &word) in args.iter().enumerate() {
        let next = args.get(index + 1).copied();
        // `--password=x` and `--password x`.
        if let Some(option) = SECRET_OPTIONS.iter().find(|option| {
            word.strip_prefix(**option)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('='))
        }) {
            match word.split_once('=') {
                Some((name, _)) => push(option, index, name.len() + 1..word.len(), word),
                None => {
                    if let Some(next) = next {
                        push(option, index + 1, 0..next.len(), next);
                    }
                }
            }
            continue;
        }
        match (program, word) {
            (_, "-p") if login => {
                if let Some(next) = next {
                    let option = if program == "sshpass" {
                        "-p"
                    } else {
                        "login -p"
                    };
                    push(option, index + 1, 0..next.len(), next);
                }
            }
            ("mysql" | "mysqladmin" | "mysqldump", _)
                if word.len() > 2 && word.starts_with("-p") =>
            {
                push("-p", index, 2..word.len(), word);
            }
            ("redis-cli", "-a")
            | ("keytool", "-storepass" | "-keypass" | "-srcstorepass" | "-deststorepass") => {
                if let Some(next) = next {
                    push(word, index + 1, 0..next.len(), next);
                }
            }
            ("useradd" | "usermod" | "adduser", "-p") => {
                // `*` and `!…` lock the account rather than set a password.
                if let Some(next) = next.filter(|next| *next != "*" && !next.starts_with('!')) {
                    push(word, index + 1, 0..next.len(), next);
                }
            }
            ("curl", "-u" | "--user") => {
                if let Some((user, _)) = next.and_then(|next| next.split_once(':')) {
                    let next = next.unwrap_or_default();
                    push(word, index + 1, user.len() + 1..next.len(), next);
                }
            }
            ("openssl", "-pass" | "-passin" | "-passout") => {
                if let Some(next) = next.filter(|next| next.starts_with("pass:")) {
                    push(word, index + 1, 5..next.len(), next);
                }
            }
            _ => {}
        }
    }
    found
}

/// The password in the `user:password` lines that `echo`/`printf` feed to `chpasswd`: where it is in
/// `word`, if `word` is such a line (`root:hunter2`, `app:pw\nroot:pw`, each line's password).
pub fn chpasswd_passwords(word: &str) -> Vec<Range<usize>> {
    let mut found = Vec::new();
    let mut offset = 0;
    // `printf` lines are separated by a written `\n`, `echo -e` too.
    for line in word.split("\\n") {
        if let Some((account, password)) = line.split_once(':') {
            let account = account.trim_start_matches("-e ").trim();
            let plausible_account = !account.is_empty()
                && account
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
            // `user:password:…` (`chpasswd -e` fields) ends the password at the next colon.
            let password = password.split(':').next().unwrap_or(password);
            if plausible_account && is_literal_value(password) {
                let start = offset + account_end(line);
                found.push(start..start + password.len());
            }
        }
        offset += line.len() + 2;
    }
    found
}

/// Just past the first colon of a line that has one.
fn account_end(line: &str) -> usize {
    line.find(':').map_or(0, |colon| colon + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secrets(program: &str, args: &[&str]) -> Vec<(String, String)> {
        secret_arguments(program, args)
            .into_iter()
            .map(|found| (found.option, args[found.word][found.value].to_owned()))
            .collect()
    }

    #[test]
    fn finds_the_secret_each_program_is_given() {
        let pair = |option: &str, value: &str| vec![(option.to_owned(), value.to_owned())];
        assert_eq!(
            secrets("mysql", &["-uroot", "-pS3cret"]),
            pair("-p", "S3cret")
        );
        assert_eq!(
            secrets("docker", &["login", "-u", "ci", "-p", "hunter2", "reg"]),
            pair("login -p", "hunter2")
        );
        assert_eq!(
            secrets("sshpass", &["-p", "pw1", "ssh", "h"]),
            pair("-p", "pw1")
        );
        assert_eq!(
            secrets("curl", &["-u", "admin:pw2", "https://x"]),
            pair("-u", "pw2")
        );
        assert_eq!(secrets("useradd", &["-p", "pw3", "bob"]), pair("-p", "pw3"));
        assert_eq!(secrets("tool", &["--token=tk4"]), pair("--token", "tk4"));
        assert_eq!(
            secrets("tool", &["--password", "pw5"]),
            pair("--password", "pw5")
        );
        assert_eq!(
            secrets("openssl", &["enc", "-pass", "pass:pw6"]),
            pair("-pass", "pw6")
        );
    }

    #[test]
    fn references_and_locks_are_not_secrets() {
        assert!(secrets("mysql", &["-p$MYSQL_PWD"]).is_empty());
        assert!(secrets("curl", &["-u", "ci:$TOKEN"]).is_empty());
        assert!(secrets("useradd", &["-p", "*", "bob"]).is_empty());
        assert!(secrets("ssh", &["-p", "2222", "host"]).is_empty());
        assert!(secrets("docker", &["run", "-p", "80:80", "x"]).is_empty());
    }

    #[test]
    fn chpasswd_lines() {
        let word = "root:pw1\\napp:pw22";
        let found: Vec<&str> = chpasswd_passwords(word)
            .into_iter()
            .map(|range| &word[range])
            .collect();
        assert_eq!(found, ["pw1", "pw22"]);
    }
}
