//! Telling secrets from configuration, once for every source.
//!
//! A secret is judged the same wherever an environment variable comes from: a
//! Dockerfile `ENV` or `ARG`, a Compose or Kubernetes `environment`, a `docker run -e`, an image's
//! config. Three questions, three functions:
//!
//! - [`is_secret_name`]: does the *name* say it holds a secret (`DB_PASSWORD`, `GITHUB_TOKEN`,
//!   `OPENAI_API_KEY`), as opposed to configuration about a secret (`DB_PASSWORD_FILE`,
//!   `TOKEN_ENDPOINT`, `PASSWORD_MIN_LENGTH`, `AWS_ACCESS_KEY_ID`, `GPG_KEY`)?
//! - [`is_literal_value`]: is the *value* a literal, as opposed to a reference (`${VAR}`, a file
//!   path, a plain URL), a flag (`yes`, `false`) or a placeholder (`_`, `<token>`)?
//! - [`find_credential`]: does a text hold a credential of a *known format* (an AWS key id, a GitHub
//!   token, a private key block, a URL with a password)? These match on the value alone, wherever it
//!   is written, with near-zero false positives.
//!
//! Nothing here formats a value: callers name the variable and print a redaction.

use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::LazyLock;

use aho_corasick::AhoCorasick;
use regex::{Regex, RegexSet};

/// Words that name a secret on their own (after splitting a name into words).
const SECRET_WORDS: &[&str] = &[
    "PASSWORD",
    "PASSWD",
    "PASSPHRASE",
    "PASS",
    "PSW",
    "PWORD",
    "SECRET",
    "SECRETS",
    "TOKEN",
    "CREDENTIAL",
    "CREDENTIALS",
    "CREDS",
];

/// Word endings that name a secret inside a compound word (`PGPASSWORD`, `ROOTPASS`, `APITOKEN`).
const SECRET_SUFFIXES: &[&str] = &[
    "PASSWORD",
    "PASSWD",
    "PASSPHRASE",
    "PASS",
    "SECRET",
    "TOKEN",
    "APIKEY",
    "PRIVATEKEY",
    "SECRETKEY",
    "ACCESSKEY",
    "AUTHKEY",
    "LICENSEKEY",
    "MASTERKEY",
    "ENCRYPTIONKEY",
];

/// Compound words that end like a secret word but are not one.
const NOT_SECRET_WORDS: &[&str] = &["BYPASS", "COMPASS", "ASKPASS", "SURPASS", "PASSTHROUGH"];

/// Words before `KEY` that make it a secret key; `GPG_KEY`, `SIGNING_KEY`, `SORT_KEY` stay silent.
const KEY_QUALIFIERS: &[&str] = &[
    "API",
    "ACCESS",
    "SECRET",
    "PRIVATE",
    "LICENSE",
    "LICENCE",
    "ENCRYPTION",
    "ENCRYPT",
    "DECRYPTION",
    "MASTER",
    "CLIENT",
    "APP",
    "ACCOUNT",
    "STORAGE",
    "SESSION",
    "HMAC",
    "JWT",
    "AUTH",
    "ADMIN",
    "SSH",
    "CIPHER",
    "CRYPT",
    "CRYPTO",
    "SHARED",
    "SUBSCRIPTION",
    "DEPLOY",
    "SERVICE",
    "WEBHOOK",
    "SECURITY",
];

/// Words that may follow the secret word and still name the secret itself (`SECRET_KEY_BASE`,
/// `TOKEN_B64`, `PASSWORD2`). Any other trailing word makes the name describe the secret instead
/// (`PASSWORD_FILE`, `TOKEN_ENDPOINT`, `PASSWORD_MIN_LENGTH`, `ACCESS_KEY_ID`).
const TRAILING_VALUE_WORDS: &[&str] = &[
    "BASE",
    "B64",
    "BASE64",
    "VALUE",
    "RAW",
    "PLAIN",
    "PLAINTEXT",
    "STRING",
    "STR",
    "HEX",
    "DATA",
    "CONTENT",
];

/// Words anywhere in a name that mark what follows as public (`SSH_PUBLIC_KEY`, `NEXT_PUBLIC_TOKEN`).
const PUBLIC_WORDS: &[&str] = &["PUBLIC", "PUB", "PUBLISHABLE"];

/// Splits a variable name into upper-case words at `_`, `-`, `.` and camelCase boundaries:
/// `dbPassword` → `DB`, `PASSWORD`.
fn name_words(name: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut previous_lower = false;
    for c in name.chars() {
        if !c.is_ascii_alphanumeric() {
            if !current.is_empty() {
                words.push(std::mem::take(&mut current));
            }
            previous_lower = false;
            continue;
        }
        if c.is_ascii_uppercase() && previous_lower && !current.is_empty() {
            words.push(std::mem::take(&mut current));
        }
        previous_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        current.push(c.to_ascii_uppercase());
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

fn is_secret_word(words: &[String], index: usize) -> bool {
    // `PASSWORD2`, `TOKEN1`: a numbered secret is still a secret.
    let word = words[index].trim_end_matches(|c: char| c.is_ascii_digit());
    if NOT_SECRET_WORDS.contains(&word) {
        return false;
    }
    if SECRET_WORDS.contains(&word) {
        return true;
    }
    // `PWD` alone is the shell's working directory; `DB_PWD`, `MYSQL_PWD` are passwords.
    if word == "PWD" {
        return words.len() > 1;
    }
    if word == "KEY" || word == "KEYS" {
        return index > 0 && KEY_QUALIFIERS.contains(&words[index - 1].as_str());
    }
    SECRET_SUFFIXES
        .iter()
        .any(|suffix| word.len() > suffix.len() && word.ends_with(suffix))
}

/// Whether a variable name says it holds a secret: a secret word (`PASSWORD`, `TOKEN`, `SECRET`,
/// `API_KEY` …) that is the last word of the name, or is followed only by words that still name the
/// value (`SECRET_KEY_BASE`). Names that describe a secret rather than hold it (`…_FILE`, `…_PATH`,
/// `…_ENDPOINT`, `…_MIN_LENGTH`, `…_KEY_ID`) and public keys (`SSH_PUBLIC_KEY`, `GPG_KEY`) are not.
pub fn is_secret_name(name: &str) -> bool {
    let words = name_words(name);
    if words
        .iter()
        .any(|word| PUBLIC_WORDS.contains(&word.as_str()))
    {
        return false;
    }
    let Some(last_secret) = (0..words.len())
        .rev()
        .find(|&index| is_secret_word(&words, index))
    else {
        return false;
    };
    words[last_secret + 1..].iter().all(|word| {
        TRAILING_VALUE_WORDS.contains(&word.as_str()) || word.bytes().all(|b| b.is_ascii_digit())
    })
}

/// Words that mark a value as a stand-in to be replaced (`INSERT_TOKEN`, `your-password-here`,
/// `SOME VALUE`, `FAKE_KEY`).
const PLACEHOLDER_WORDS: &[&str] = &[
    "insert",
    "replace",
    "your",
    "placeholder",
    "some",
    "todo",
    "tbd",
    "fixme",
    "redacted",
    "fake",
    "dummy",
];

/// Whether `value` is a stand-in for the secret `name` holds rather than the secret: it names the
/// variable itself (`GOOGLE_API_KEY_VAL`, `INSERT_ETCD_DISCOVERY_TOKEN`) or says it is to be
/// replaced (`<your token>`, `SOME VALUE`, `replace-me`).
pub fn is_placeholder_for(name: &str, value: &str) -> bool {
    let value_lower = value.to_ascii_lowercase();
    let name_lower = name.to_ascii_lowercase();
    if name_lower.len() >= 4 && value_lower.contains(&name_lower) {
        return true;
    }
    value_lower
        .split(|c: char| !c.is_ascii_alphanumeric())
        .any(|word| PLACEHOLDER_WORDS.contains(&word))
}

/// Values that switch a feature rather than hold a secret (`MYSQL_ALLOW_EMPTY_PASSWORD=yes`).
const FLAG_VALUES: &[&str] = &[
    "true",
    "false",
    "yes",
    "no",
    "on",
    "off",
    "y",
    "n",
    "0",
    "1",
    "none",
    "null",
    "nil",
    "undefined",
    "unset",
    "disabled",
    "enabled",
];

/// Whether a value is a literal that could be a secret: not empty, not a reference to another
/// variable (`${DB_PASSWORD}`, `$TOKEN`, `$(cat …)`, `%PASSWORD%`), not a file path
/// (`/run/secrets/db`, `C:\secrets\sa`), not a URL without a password, not an on/off flag and not a
/// placeholder (`_`, `***`, `<token>`, `{{ token }}`, `xxxx`).
pub fn is_literal_value(value: &str) -> bool {
    let value = value.trim();
    if value.is_empty() || !value.bytes().any(|b| b.is_ascii_alphanumeric()) {
        return false;
    }
    if has_reference(value) {
        return false;
    }
    if FLAG_VALUES
        .iter()
        .any(|flag| flag.eq_ignore_ascii_case(value))
    {
        return false;
    }
    if is_path(value) || is_plain_url(value) || is_placeholder(value) {
        return false;
    }
    true
}

/// `$NAME`, `${NAME…}`, `$(…)` or a Windows `%NAME%`.
fn has_reference(value: &str) -> bool {
    let bytes = value.as_bytes();
    let dollar = bytes.windows(2).any(|pair| {
        pair[0] == b'$'
            && (pair[1] == b'{'
                || pair[1] == b'('
                || pair[1] == b'_'
                || pair[1].is_ascii_alphabetic())
    });
    dollar
        || (value.len() > 2
            && value.starts_with('%')
            && value.ends_with('%')
            && value[1..value.len() - 1]
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_'))
}

fn is_path(value: &str) -> bool {
    if value.contains(char::is_whitespace) {
        return false;
    }
    let bytes = value.as_bytes();
    value.starts_with('/')
        || value.starts_with("./")
        || value.starts_with("../")
        || value.starts_with("~/")
        || (bytes.len() > 2
            && bytes[0].is_ascii_alphabetic()
            && bytes[1] == b':'
            && (bytes[2] == b'\\' || bytes[2] == b'/'))
}

fn is_plain_url(value: &str) -> bool {
    let Some((scheme, rest)) = value.split_once("://") else {
        return false;
    };
    !scheme.is_empty()
        && scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'.' || b == b'-')
        && !url_has_password(rest)
}

/// Whether the part of a URL after `scheme://` holds `user:password@`.
fn url_has_password(rest: &str) -> bool {
    let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    authority
        .rsplit_once('@')
        .is_some_and(|(userinfo, _)| userinfo.contains(':'))
}

fn is_placeholder(value: &str) -> bool {
    let wrapped = |open: &str, close: &str| value.starts_with(open) && value.ends_with(close);
    if wrapped("<", ">") || wrapped("{{", "}}") || wrapped("[", "]") {
        return true;
    }
    // `xxxxxxxx`, `00000000`, `********`: one character repeated.
    let mut chars = value.chars();
    let first = chars.next();
    value.chars().count() >= 4 && chars.all(|c| Some(c) == first)
}

/// A credential of a known format found in a text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Credential {
    /// What it is, with its article, for the message (`an AWS access key id`).
    pub kind: &'static str,
    /// Where its secret part is in the text searched (byte range): the password of a URL, the
    /// key of `aws_secret_access_key = …`, the whole token otherwise.
    pub range: Range<usize>,
}

/// One known credential format: a cheap literal that must be present, then the exact pattern.
struct Format {
    kind: &'static str,
    /// Substrings one of which every match contains (checked before any regex runs).
    anchors: &'static [&'static str],
    pattern: &'static str,
    /// The capture group holding the secret part, checked against placeholders (0: the whole match).
    secret_group: usize,
}

const FORMATS: &[Format] = &[
    Format {
        kind: "a private key",
        anchors: &["PRIVATE KEY"],
        pattern: r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----",
        secret_group: 0,
    },
    Format {
        kind: "an AWS access key id",
        anchors: &[
            "AKIA", "ASIA", "ABIA", "ACCA", "AGPA", "AIDA", "AROA", "AIPA", "ANPA", "ANVA", "APKA",
        ],
        pattern: r"(?-u:\b)((?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|APKA)[A-Z2-7]{16})(?-u:\b)",
        secret_group: 1,
    },
    Format {
        kind: "an AWS secret access key",
        anchors: &["secret_access_key"],
        pattern: r#"(?i:aws_?secret_?access_?key)["']?\s*[=:]?\s*["']?([A-Za-z0-9/+]{40})(?:[^A-Za-z0-9/+=]|$)"#,
        secret_group: 1,
    },
    Format {
        kind: "a GitHub token",
        anchors: &["ghp_", "gho_", "ghu_", "ghs_", "ghr_"],
        pattern: r"(?-u:\b)((?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36})(?-u:\b)",
        secret_group: 1,
    },
    Format {
        kind: "a GitHub token",
        anchors: &["github_pat_"],
        pattern: r"(?-u:\b)(github_pat_[A-Za-z0-9_]{50,})",
        secret_group: 1,
    },
    Format {
        kind: "a GitLab token",
        anchors: &[
            "glpat-", "gldt-", "glrt-", "glptt-", "glcbt-", "glimt-", "glsoat-", "gloas-",
            "glffct-",
        ],
        pattern: r"(?-u:\b)((?:glpat|gldt|glrt|glptt|glcbt|glimt|glsoat|gloas|glffct)-[A-Za-z0-9_-]{20,})",
        secret_group: 1,
    },
    Format {
        kind: "a Slack token",
        anchors: &["xox"],
        pattern: r"(?-u:\b)(xox[abposr]-[A-Za-z0-9-]{10,})",
        secret_group: 1,
    },
    Format {
        kind: "a Slack webhook URL",
        anchors: &["hooks.slack.com"],
        pattern: r"https://hooks\.slack\.com/services/(T[A-Z0-9]{6,}/B[A-Z0-9]{6,}/[A-Za-z0-9]{20,})",
        secret_group: 1,
    },
    Format {
        kind: "a Stripe secret key",
        anchors: &["sk_live_", "sk_test_", "rk_live_", "rk_test_"],
        pattern: r"(?-u:\b)((?:sk|rk)_(?:live|test)_[A-Za-z0-9]{20,})(?-u:\b)",
        secret_group: 1,
    },
    Format {
        kind: "a Google API key",
        anchors: &["AIza"],
        pattern: r"(?-u:\b)(AIza[0-9A-Za-z_-]{35})(?:[^0-9A-Za-z_-]|$)",
        secret_group: 1,
    },
    Format {
        kind: "an npm token",
        anchors: &["npm_"],
        pattern: r"(?-u:\b)(npm_[A-Za-z0-9]{36})(?-u:\b)",
        secret_group: 1,
    },
    Format {
        kind: "a PyPI token",
        anchors: &["pypi-"],
        pattern: r"(?-u:\b)(pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,})",
        secret_group: 1,
    },
    Format {
        kind: "a Docker Hub token",
        anchors: &["dckr_pat_"],
        pattern: r"(?-u:\b)(dckr_pat_[A-Za-z0-9_-]{20,})",
        secret_group: 1,
    },
    Format {
        kind: "a Hugging Face token",
        anchors: &["hf_"],
        pattern: r"(?-u:\b)(hf_[A-Za-z0-9]{34,})(?-u:\b)",
        secret_group: 1,
    },
    Format {
        kind: "an OpenAI API key",
        anchors: &["sk-"],
        pattern: r"(?-u:\b)(sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}T3BlbkFJ[A-Za-z0-9_-]{20,})",
        secret_group: 1,
    },
    Format {
        kind: "an Anthropic API key",
        anchors: &["sk-ant-"],
        pattern: r"(?-u:\b)(sk-ant-[a-z]+[0-9]{2}-[A-Za-z0-9_-]{80,})",
        secret_group: 1,
    },
    Format {
        kind: "a SendGrid API key",
        anchors: &["SG."],
        pattern: r"(?-u:\b)(SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43})(?-u:\b)",
        secret_group: 1,
    },
    Format {
        kind: "an Azure storage account key",
        anchors: &["AccountKey="],
        pattern: r"AccountKey=([A-Za-z0-9+/]{80,}={0,2})",
        secret_group: 1,
    },
    Format {
        kind: "a JSON web token",
        anchors: &["eyJ"],
        pattern: r"(?-u:\b)(eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,})",
        secret_group: 1,
    },
    Format {
        kind: "a URL with a password",
        anchors: &["://"],
        pattern: r#"(?-u:\b)[A-Za-z][A-Za-z0-9+.-]{1,20}://[^\s:/?#@'"]+:([^\s/?#@'"]+)@[A-Za-z0-9\[]"#,
        secret_group: 1,
    },
];

static COMPILED: LazyLock<Vec<Regex>> = LazyLock::new(|| {
    FORMATS
        .iter()
        .map(|format| Regex::new(format.pattern).expect("credential patterns are valid"))
        .collect()
});

/// Every format's anchors at once, ignoring case (a superset: the patterns decide).
static ANCHORS: LazyLock<AhoCorasick> = LazyLock::new(|| {
    AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .build(FORMATS.iter().flat_map(|format| format.anchors.iter()))
        .expect("credential anchors are valid")
});

/// Every format at once: one pass over a text tells which formats (if any) need a closer look, so
/// the common case, a text with no credential, costs one scan.
static ANY: LazyLock<RegexSet> = LazyLock::new(|| {
    RegexSet::new(FORMATS.iter().map(|format| format.pattern))
        .expect("credential patterns are valid")
});

/// The first credential of a known format in `text`, if any. Documentation examples
/// (`AKIAIOSFODNN7EXAMPLE`), repeated-character placeholders and `${VAR}` passwords in URLs are not
/// credentials.
pub fn find_credential(text: &str) -> Option<Credential> {
    find_credentials(text).into_iter().next()
}

/// Every credential of a known format in `text`, in order, at most one per position.
pub fn find_credentials(text: &str) -> Vec<Credential> {
    if !ANCHORS.is_match(text) {
        return Vec::new();
    }
    // The secrets found, by start. They never overlap one another, so their ends grow with their
    // starts, and whether a match overlaps any of them is one look at its predecessor: a text
    // with thousands of credentials (a whole file masked) stays linear.
    let mut found: BTreeMap<usize, Credential> = BTreeMap::new();
    for index in ANY.matches(text).iter() {
        let (format, regex) = (&FORMATS[index], &COMPILED[index]);
        for captures in regex.captures_iter(text) {
            let (Some(whole), Some(secret)) = (captures.get(0), captures.get(format.secret_group))
            else {
                continue;
            };
            if !is_plausible_secret(secret.as_str()) {
                continue;
            }
            let (range, whole) = (secret.range(), whole.range());
            let overlaps = found
                .range(..whole.end)
                .next_back()
                .is_some_and(|(_, other)| whole.start < other.range.end);
            if overlaps {
                continue;
            }
            found.insert(
                range.start,
                Credential {
                    kind: format.kind,
                    range,
                },
            );
        }
    }
    found.into_values().collect()
}

/// Passwords that stand for "the secret is elsewhere in the URL".
const URL_PASSWORD_PLACEHOLDERS: &[&str] = &["x-oauth-basic", "x-oauth-token"];

/// Rejects documentation examples and placeholders inside a match: `AKIAIOSFODNN7EXAMPLE`,
/// `ghp_xxxxxxxx…`, `:${PASSWORD}@`, `:<password>@`, `:****@`.
fn is_plausible_secret(secret: &str) -> bool {
    if secret.starts_with("-----BEGIN") {
        return true;
    }
    if contains_ignore_ascii_case(secret, "EXAMPLE") || has_reference(secret) {
        return false;
    }
    if secret.starts_with('<') || secret.starts_with('{') || secret.starts_with('%') {
        return false;
    }
    // GitHub's convention for a token given as the user: `https://TOKEN:x-oauth-basic@github.com`.
    if URL_PASSWORD_PLACEHOLDERS
        .iter()
        .any(|placeholder| secret.eq_ignore_ascii_case(placeholder))
    {
        return false;
    }
    let mut distinct: Vec<char> = secret.chars().filter(char::is_ascii_alphanumeric).collect();
    distinct.sort_unstable();
    distinct.dedup();
    // A random token of 20+ characters has well over 8 distinct characters; a password in a URL
    // may be short, so only reject those made of one repeated character.
    let needed = if secret.len() >= 20 { 8 } else { 2 };
    distinct.len() >= needed
}

/// A credential of a known format in a variable's value. Besides [`find_credential`], a bare
/// 40-character AWS secret key counts when the name says that is what it holds.
pub fn find_credential_in_variable(name: &str, value: &str) -> Option<Credential> {
    if let Some(found) = find_credential(value) {
        return Some(found);
    }
    let upper = name.to_ascii_uppercase();
    let value = value.trim();
    let aws_secret = (upper.contains("SECRET_ACCESS_KEY") || upper.contains("AWS_SECRET"))
        && value.len() == 40
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'/' || b == b'+')
        && is_plausible_secret(value);
    aws_secret.then_some(Credential {
        kind: "an AWS secret access key",
        range: 0..value.len(),
    })
}

/// The kinds [`secret_file_kind`] gives a directory (`.ssh`, `.aws`, `.gnupg`): a copy's
/// destination of that name is just a place, and a regular file of that name is not one of them.
pub const SECRET_DIRECTORY_KINDS: &[&str] = &[
    "an SSH key directory",
    "an AWS credentials directory",
    "a GnuPG keyring",
];

/// What kind of secret a file holds, judged by its path (`id_rsa`, `.npmrc`, `.aws/credentials`,
/// `server-key.pem`, `.env`), or `None`. Public material is not a secret: `id_rsa.pub`,
/// `known_hosts`, certificates and CA bundles (`ca.pem`, `fullchain.pem`, `*.crt`), GPG and
/// repository signing keys (`nginx_signing.key`, `repo.gpg.key`), and example env files
/// (`.env.example`).
pub fn secret_file_kind(path: &str) -> Option<&'static str> {
    let path = path.trim_end_matches('/');
    let lower = path.to_ascii_lowercase();
    let name = lower.rsplit('/').next().unwrap_or(&lower);
    let parent = lower.rsplit('/').nth(1).unwrap_or("");
    if name.ends_with(".pub") || name == "known_hosts" || name == "authorized_keys" {
        return None;
    }
    let kind = match name {
        "id_rsa" | "id_dsa" | "id_ecdsa" | "id_ed25519" | "id_ecdsa_sk" | "id_ed25519_sk" => {
            "an SSH private key"
        }
        ".ssh" => "an SSH key directory",
        ".npmrc" => "npm credentials",
        ".yarnrc.yml" => "Yarn credentials",
        ".pypirc" => "PyPI credentials",
        ".netrc" | "_netrc" => "netrc credentials",
        ".git-credentials" => "git credentials",
        ".dockercfg" => "Docker registry credentials",
        ".pgpass" => "PostgreSQL passwords",
        ".vault-token" => "a Vault token",
        ".aws" => "an AWS credentials directory",
        ".gnupg" => "a GnuPG keyring",
        "kubeconfig" => "a kubeconfig",
        "credentials.json" => "cloud credentials",
        "credentials" if parent == ".aws" => "AWS credentials",
        "config.json" if parent == ".docker" => "Docker registry credentials",
        "config" if parent == ".kube" => "a kubeconfig",
        ".env" => "an environment file",
        _ if name.starts_with(".env.") || name.starts_with(".env*") => {
            let suffix = &name[5..];
            if [
                "example", "sample", "template", "dist", "defaults", "default", "tpl",
            ]
            .iter()
            .any(|example| suffix.contains(example))
            {
                return None;
            }
            "an environment file"
        }
        _ if name.ends_with(".kubeconfig") => "a kubeconfig",
        _ if name.starts_with("client_secret") && name.ends_with(".json") => {
            "OAuth client credentials"
        }
        _ if name.ends_with(".p12") || name.ends_with(".pfx") || name.ends_with(".keystore") => {
            "a keystore with a private key"
        }
        _ if name.ends_with(".key") => {
            if [
                "gpg", "pgp", "pub", "asc", "repo", "keyring", "archive", "signing", "release",
            ]
            .iter()
            .any(|public| name.contains(public))
            {
                return None;
            }
            "a private key"
        }
        _ if name.ends_with(".pem") => {
            let private = (name.contains("key") || name.contains("priv"))
                && !name.contains("pub")
                && !name.contains("public");
            if !private {
                return None;
            }
            "a private key"
        }
        _ if parent == ".ssh" && name != "config" => "an SSH private key",
        _ => return None,
    };
    Some(kind)
}

fn contains_ignore_ascii_case(haystack: &str, needle: &str) -> bool {
    haystack
        .as_bytes()
        .windows(needle.len())
        .any(|window| window.eq_ignore_ascii_case(needle.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_names() {
        for name in [
            "PASSWORD",
            "DB_PASSWORD",
            "POSTGRES_PASSWORD",
            "PGPASSWORD",
            "MYSQL_PWD",
            "LDAP_ROOTPASS",
            "DJ_PASS",
            "NAGIOSADMIN_PASS",
            "sa_password",
            "dbPassword",
            "GITHUB_TOKEN",
            "NPM_TOKEN",
            "HF_TOKEN",
            "NODE_AUTH_TOKEN",
            "SECRET",
            "JWT_SECRET",
            "CLIENT_SECRET",
            "GOOGLE_DEFAULT_CLIENT_SECRET",
            "API_KEY",
            "OPENAI_API_KEY",
            "apiKey",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_SECRET_KEY",
            "SECRET_KEY_BASE",
            "LICENSE_KEY",
            "PRIVATE_KEY",
            "SSH_PRIVATE_KEY",
            "ENCRYPTION_KEY",
            "GPG_PASSPHRASE",
            "CREDENTIALS",
            "PASSWORD2",
            "TOKEN_B64",
            "APITOKEN",
        ] {
            assert!(is_secret_name(name), "{name} should be a secret name");
        }
    }

    #[test]
    fn names_that_describe_a_secret_are_not_secrets() {
        for name in [
            "DB_PASSWORD_FILE",
            "sa_password_path",
            "TOKEN_ENDPOINT",
            "PASSWORD_MIN_LENGTH",
            "AWS_ACCESS_KEY_ID",
            "API_KEY_ID",
            "GPG_KEY",
            "GPG_KEYS",
            "NGINX_GPGKEY",
            "SIGNING_KEY",
            "KEY",
            "SSH_PUBLIC_KEY",
            "NEXT_PUBLIC_API_KEY",
            "PWD",
            "OLDPWD",
            "GIT_ASKPASS",
            "BYPASS_PROXY",
            "TOKENIZERS_PARALLELISM",
            "MAX_TOKENS",
            "SECRET_NAME",
            "SECRETS_DIR",
            "SASLAUTHD_MECH_OPTIONS",
            "OAUTH2_PROXY_VERSION",
            "DOCKER_AUTH_VERSION",
            "AUTHOR",
            "KEEPASSXC_VERSION",
            "PASSENGER_APP_ENV",
            "KEY_SHA512",
            "NODE_TLS_REJECT_UNAUTHORIZED",
            "APT_KEY_DONT_WARN_ON_DANGEROUS_USAGE",
            "REFRESH_TOKEN_TTL",
            "GOOGLE_APPLICATION_CREDENTIALS_PATH",
        ] {
            assert!(!is_secret_name(name), "{name} should not be a secret name");
        }
    }

    #[test]
    fn literal_values() {
        for value in [
            "SuperSecret123",
            "password",
            "postgres",
            "simple",
            "k8s-goat-cf658c56a501385205cc6d2dafee8fc1",
            "$2b$12$0123456789",
        ] {
            assert!(is_literal_value(value), "{value} should be a literal");
        }
        for value in [
            "",
            "  ",
            "_",
            "***",
            "${DB_PASSWORD}",
            "$TOKEN",
            "${TOKEN:-}",
            "$(cat /run/secrets/token)",
            "%SA_PASSWORD%",
            "/run/secrets/db",
            "/run/jigasi/config/key.json",
            r"C:\ProgramData\Docker\secrets\sa-password",
            "https://auth.example.com/token",
            "yes",
            "false",
            "<your-token>",
            "{{ token }}",
            "xxxxxxxx",
        ] {
            assert!(
                !is_literal_value(value),
                "{value:?} should not be a literal"
            );
        }
    }

    #[test]
    fn placeholders_for_a_name() {
        // From kubernetes__examples/_archived/openshift-origin/etcd-controller.yaml,
        // GoogleCloudPlatform__microservices-demo (shoppingassistantservice.yaml) and
        // controlplaneio__kubesec (score-0-daemonset-securitycontext-privileged.yml).
        for (name, value) in [
            ("ETCD_DISCOVERY_TOKEN", "INSERT_ETCD_DISCOVERY_TOKEN"),
            ("GOOGLE_API_KEY", "GOOGLE_API_KEY_VAL"),
            ("ACCESS_KEY", "SOME VALUE"),
            ("DB_PASSWORD", "your-password-here"),
            ("AWS_SECRET_ACCESS_KEY", "FAKE_TO_GENERATE_WARNING_OUTPUT"),
        ] {
            assert!(is_placeholder_for(name, value), "{name}={value}");
        }
        for (name, value) in [
            ("POSTGRES_PASSWORD", "postgres"),
            ("POSTGRES_PASSWORD", "example"),
            ("DB_PASSWORD", "changeme"),
            ("API_KEY", "k8s-goat-cf658c56a501385205cc6d2dafee8fc1"),
            (
                "SECRET_KEY_BASE",
                "yYrECL4qbNwleYInGJYvVnSkwJuSQJ4ijPTx5tirGUXrbznFIBFVJdPl5t6O9ASw",
            ),
        ] {
            assert!(!is_placeholder_for(name, value), "{name}={value}");
        }
    }

    #[test]
    fn known_credential_formats() {
        let cases = [
            ("AKIAZ7Q3RBN5VXWYTU2P", "an AWS access key id"),
            (
                "aws_secret_access_key = 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",
                "an AWS secret access key",
            ),
            ("ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8", "a GitHub token"),
            ("glpat-Ab3De6Gh9Jk2Mn5Pq8St", "a GitLab token"),
            ("xoxb-2945-81726354-aZ9yX8wV7uT6", "a Slack token"),
            ("sk_live_4eC39HqLyjWDarjtT1zdp7dc", "a Stripe secret key"),
            ("-----BEGIN OPENSSH PRIVATE KEY-----", "a private key"),
            ("-----BEGIN RSA PRIVATE KEY-----", "a private key"),
            (
                "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
                "a JSON web token",
            ),
            ("postgres://app:Dr1ftw00d@db:5432/app", "a URL with a password"),
            ("AIzaSyCkfPOPZXDKNn8hhgu3JrA62wIgC93d44k", "a Google API key"),
        ];
        for (text, kind) in cases {
            let found = find_credential(text).unwrap_or_else(|| panic!("{text}: not found"));
            assert_eq!(found.kind, kind, "{text}");
        }
    }

    #[test]
    fn placeholders_and_references_are_not_credentials() {
        for text in [
            "AKIAIOSFODNN7EXAMPLE",
            "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
            "https://${GITHUB_ACTOR}:${GITHUB_TOKEN}@github.com/org/repo",
            "https://oauth2:$CI_JOB_TOKEN@gitlab.com/org/repo.git",
            "https://user:<password>@example.com",
            "https://${GITHUB_TOKEN}:x-oauth-basic@github.com/o/r",
            "printf 'https://driftwood:%s@example.com'",
            "http://localhost:8080/path@x",
            "git@github.com:org/repo.git",
            "-----BEGIN PUBLIC KEY-----",
            "-----BEGIN CERTIFICATE-----",
            "pk_live_4eC39HqLyjWDarjtT1zdp7dc",
            "https://registry.npmjs.org/",
        ] {
            assert_eq!(find_credential(text), None, "{text}");
        }
    }

    #[test]
    fn reports_each_credential_once_in_order() {
        let text = "git clone https://x-access-token:ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8@github.com/o/r && echo AKIAZ7Q3RBN5VXWYTU2P";
        let found = find_credentials(text);
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found[0].range.start < found[1].range.start);
        assert_eq!(found[1].kind, "an AWS access key id");
    }

    #[test]
    fn secret_files_by_name() {
        for (path, kind) in [
            ("id_rsa", "an SSH private key"),
            ("/root/.ssh/id_ed25519", "an SSH private key"),
            ("/home/app/.ssh/deploy_key", "an SSH private key"),
            (".ssh", "an SSH key directory"),
            (".npmrc", "npm credentials"),
            ("/root/.aws/credentials", "AWS credentials"),
            ("/root/.docker/config.json", "Docker registry credentials"),
            ("/root/.kube/config", "a kubeconfig"),
            ("kubeconfig", "a kubeconfig"),
            (".env", "an environment file"),
            (".env.production", "an environment file"),
            ("certs/server-key.pem", "a private key"),
            ("privkey.pem", "a private key"),
            ("tls/server.key", "a private key"),
            ("keystore.p12", "a keystore with a private key"),
            ("client_secret_123.json", "OAuth client credentials"),
            ("/app/credentials.json", "cloud credentials"),
        ] {
            assert_eq!(secret_file_kind(path), Some(kind), "{path}");
        }
        for path in [
            "id_rsa.pub",
            "/root/.ssh/known_hosts",
            "/root/.ssh/config",
            "ca.pem",
            "fullchain.pem",
            "target/shared/ffdhe4096.pem",
            "server.crt",
            "nginx_signing.key",
            "repomd.xml.key",
            ".env.example",
            "library-scripts/meta.env",
            "/usr/local/go/go.env",
            "config.json",
            "/etc/app/config",
            "credentials",
            "/app/",
        ] {
            assert_eq!(secret_file_kind(path), None, "{path}");
        }
    }

    #[test]
    fn aws_secret_by_variable_name() {
        let key = "Zk3Tq9VbL2mN8pR4sW6yX1aC5dE7fG0hJ2kL4mN6";
        assert_eq!(
            find_credential_in_variable("AWS_SECRET_ACCESS_KEY", key).map(|c| c.kind),
            Some("an AWS secret access key")
        );
        assert_eq!(find_credential_in_variable("BUILD_SHA", key), None);
        assert_eq!(
            find_credential_in_variable(
                "AWS_SECRET_ACCESS_KEY",
                "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
            ),
            None
        );
    }
}
