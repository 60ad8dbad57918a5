//! Masks secret-looking values in source text before a reporter quotes it.
//!
//! Rules never put a secret's value in a message, but the human reporter also quotes the source line of
//! each finding, and that line may hold a secret: `ENV DB_PASSWORD=…` under a secrets finding, or a
//! token in a `RUN` line flagged by another rule, or by a secrets rule that `--ignore` switched off. So
//! every quoted line passes through [`redact`] first, whatever rule is being reported. This is defence
//! in depth, not detection: it errs towards masking (a masked `PASSWORD_MIN_LENGTH=12` costs nothing).
//!
//! Masking replaces each byte of a value with `*`, so every byte offset, and so every span and caret,
//! stays where it was.

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::Regex;

/// `NAME=value` and `NAME: value` (shell, Dockerfile, YAML, JSON) where the name looks like
/// it holds a secret. The value group is what gets masked.
static ASSIGNMENT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"(?xi)
        [A-Z0-9_.-]*
        (?:PASSWORD|PASSWD|PASSPHRASE|PWD|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|ACCESS_?KEY|CREDENTIAL)
        [A-Z0-9_.-]*
        ["']?
        (?: [\x20\t]*=[\x20\t]* | [\x20\t]*:[\x20\t]+ )
        (?P<value> "[^"\n]*" | '[^'\n]*' | [^\s"'$\[{][^\s"']* )
        "#,
    )
    .expect("valid assignment pattern")
});

/// The legacy `ENV NAME value` form, whose value is the rest of the line.
static LEGACY_ENV: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?xim)
        ^[\x20\t]*ENV[\x20\t]+
        [A-Z0-9_.-]*
        (?:PASSWORD|PASSWD|PASSPHRASE|PWD|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|ACCESS_?KEY|CREDENTIAL)
        [A-Z0-9_.-]*
        [\x20\t]+ (?P<value>[^\s=$][^\r\n]*)$
        ",
    )
    .expect("valid legacy ENV pattern")
});

/// Values that are secrets whatever their name: cloud and forge tokens, JWTs, URL passwords and the
/// body lines of PEM private keys.
static TOKEN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?x)
        (?P<value>
            \b(?:AKIA|ASIA)[0-9A-Z]{16}\b
          | \bgh[pousr]_[A-Za-z0-9]{30,}
          | \bgithub_pat_[A-Za-z0-9_]{30,}
          | \bglpat-[A-Za-z0-9_-]{20,}
          | \bxox[abposr]-[A-Za-z0-9-]{10,}
          | \b[sr]k_(?:live|test)_[A-Za-z0-9]{16,}
          | \beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}
          | ^\s*[A-Za-z0-9+/]{40,}={0,2}\s*$
        )
        | [a-zA-Z][a-zA-Z0-9+.-]*://[^\s/:@]+:(?P<password>[^\s@/]+)@
        ",
    )
    .expect("valid token pattern")
});

/// `text` with every secret-looking value masked by `*`, byte for byte.
pub fn redact(text: &str) -> Cow<'_, str> {
    let mut ranges = Vec::new();
    for pattern in [&*ASSIGNMENT, &*LEGACY_ENV] {
        for captures in pattern.captures_iter(text) {
            let (Some(whole), Some(value)) = (captures.get(0), captures.name("value")) else {
                continue;
            };
            // `POSTGRES_PASSWORD_FILE=/run/secrets/db` names where a secret is, not the secret.
            if names_a_place(&text[whole.start()..value.start()]) {
                continue;
            }
            ranges.push(value.range());
        }
    }
    for line in text.split_inclusive('\n') {
        let offset = line.as_ptr() as usize - text.as_ptr() as usize;
        for captures in TOKEN.captures_iter(line.trim_end_matches(['\n', '\r'])) {
            if let Some(value) = captures.name("value").or(captures.name("password")) {
                ranges.push(value.start() + offset..value.end() + offset);
            }
        }
    }
    if ranges.is_empty() {
        return Cow::Borrowed(text);
    }
    let mut bytes = text.as_bytes().to_vec();
    for range in ranges {
        bytes[range].fill(b'*');
    }
    // Whole UTF-8 sequences are replaced by ASCII, so the result is still UTF-8.
    Cow::Owned(String::from_utf8_lossy(&bytes).into_owned())
}

/// Whether the name of an assignment (`DB_PASSWORD_FILE=`, `ENV TOKEN_PATH `) ends with a
/// segment that points at a secret rather than holds one.
fn names_a_place(assignment: &str) -> bool {
    let name = assignment
        .trim_end_matches(|ch: char| {
            ch == '=' || ch == ':' || ch == '"' || ch == '\'' || ch.is_whitespace()
        })
        .to_ascii_uppercase();
    ["_FILE", "_PATH", "_DIR"]
        .iter()
        .any(|suffix| name.ends_with(suffix))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_of_secret_names_stay_readable() {
        assert_eq!(
            redact("POSTGRES_PASSWORD: hunter2\nsecrets: [db_password]\n"),
            "POSTGRES_PASSWORD: *******\nsecrets: [db_password]\n"
        );
    }

    #[test]
    fn a_variable_that_names_a_secret_file_is_not_masked() {
        let text = "-e POSTGRES_PASSWORD_FILE=/run/secrets/db -e DB_PASSWORD=hunter2";
        assert_eq!(
            redact(text),
            "-e POSTGRES_PASSWORD_FILE=/run/secrets/db -e DB_PASSWORD=*******"
        );
    }

    #[test]
    fn masks_secret_assignments_in_every_syntax() {
        assert_eq!(
            redact("ENV DB_PASSWORD=hunter2hunter2"),
            "ENV DB_PASSWORD=**************"
        );
        assert_eq!(
            redact("      POSTGRES_PASSWORD: \"s3cr3t\""),
            "      POSTGRES_PASSWORD: ********"
        );
        assert_eq!(redact("ARG API_KEY='abc def'"), "ARG API_KEY=*********");
        assert_eq!(redact("-e SECRET_KEY=x1"), "-e SECRET_KEY=**");
        assert_eq!(
            redact("ENV GITHUB_TOKEN some value\nUSER app"),
            "ENV GITHUB_TOKEN **********\nUSER app"
        );
        assert_eq!(
            redact(r#"{"Env": ["DB_PASSWORD=x1", "A=b"]}"#),
            r#"{"Env": ["DB_PASSWORD=**", "A=b"]}"#
        );
    }

    #[test]
    fn leaves_references_and_innocent_lines_alone() {
        for line in [
            "ENV DB_PASSWORD_FILE=$SECRETS/db",
            "RUN echo ${API_TOKEN}",
            "USER root",
            "FROM python:3.12-slim AS build",
            "ENV PATH=/usr/local/bin:$PATH",
            "LABEL author=someone",
        ] {
            assert_eq!(redact(line), line);
        }
    }

    #[test]
    fn masks_tokens_whatever_their_name() {
        let line = "RUN curl -H 'x: ghp_FAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKE' https://u:pa55word@example.invalid/x";
        let redacted = redact(line);
        assert!(!redacted.contains("ghp_FAKE"), "{redacted}");
        assert!(!redacted.contains("pa55word"), "{redacted}");
        assert!(redacted.contains("https://u:********@example.invalid/x"));
        assert_eq!(redacted.len(), line.len());
        assert_eq!(
            redact("ENV AWS=AKIAFAKEFAKEFAKEFAKE\n"),
            "ENV AWS=********************\n"
        );
    }

    #[test]
    fn keeps_offsets_with_multibyte_values() {
        let line = "ENV TOKEN=é1\nUSER app";
        let redacted = redact(line);
        assert_eq!(redacted.len(), line.len());
        assert!(redacted.ends_with("\nUSER app"));
    }
}
