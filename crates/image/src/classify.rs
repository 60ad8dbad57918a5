//! Recognising the files of a layer worth a finding: secrets by name and by their first bytes,
//! sudoers rules, the password database.
//!
//! This is recognition, not judgement: it says "this looks like an SSH private key" and leaves
//! severity and allowlists to the rules. Content checks read at most [`CONTENT_BYTES`] of a file, so a
//! layer of large files costs no more than reading it.

/// The most bytes of one file read for recognition.
pub(crate) const CONTENT_BYTES: usize = 64 * 1024;

/// Files up to this size are sniffed for private-key headers (keys are a few KiB).
pub(crate) const SNIFF_MAX_SIZE: u64 = 64 * 1024;

/// What to read of a file before it can be recognised.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Need {
    /// Its name says enough, or it is of no interest.
    Nothing,
    /// Its first bytes, for a private-key header.
    Sniff,
    /// Its contents (up to [`CONTENT_BYTES`]), to tell a credentials file from an empty template.
    Content(Candidate),
    /// All of it (up to [`ACCOUNT_BYTES`]): `/etc/passwd` or `/etc/group`, which the runtime reads
    /// whole to resolve a user or group name.
    Account,
}

/// The most bytes of an account file (`/etc/passwd`, `/etc/group`) read; a longer one is read this
/// far and names not found in it are unknown rather than absent.
pub(crate) const ACCOUNT_BYTES: usize = 4 << 20;

/// The files the runtime reads by path to resolve a user spec.
pub(crate) const ACCOUNT_FILES: [&str; 2] = ["/etc/passwd", "/etc/group"];

/// Files recognised by name whose contents decide.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Candidate {
    Sudoers,
    Npmrc,
    Pypirc,
    Netrc,
    DockerConfig,
    /// Any non-blank content is a secret (`.git-credentials`, shell histories, `.env`).
    NonEmpty(&'static str),
}

/// Secret files recognised by name alone.
const SECRET_NAMES: &[(&str, &str)] = &[
    ("id_rsa", "SSH private key"),
    ("id_dsa", "SSH private key"),
    ("id_ecdsa", "SSH private key"),
    ("id_ed25519", "SSH private key"),
    ("credentials.db", "gcloud credentials"),
    ("access_tokens.db", "gcloud credentials"),
    ("application_default_credentials.json", "gcloud credentials"),
    ("accessTokens.json", "Azure credentials"),
    ("msal_token_cache.json", "Azure credentials"),
    ("credentials.tfrc.json", "Terraform credentials"),
    (".vault-token", "Vault token"),
    (".pgpass", "PostgreSQL password file"),
];

/// Secret files recognised by a path suffix.
const SECRET_SUFFIXES: &[(&str, &str)] = &[
    ("/.aws/credentials", "AWS credentials"),
    ("/.kube/config", "kubeconfig"),
    ("/etc/kubernetes/admin.conf", "kubeconfig"),
    ("/.config/gh/hosts.yml", "GitHub CLI token"),
];

const HISTORIES: &[&str] = &[
    ".bash_history",
    ".zsh_history",
    ".ash_history",
    ".sh_history",
    ".history",
    ".python_history",
    ".node_repl_history",
    ".psql_history",
    ".mysql_history",
    ".rediscli_history",
];

/// Directories whose files are test data or documentation: private keys there are fixtures.
const FIXTURE_DIRS: &[&str] = &[
    "test",
    "tests",
    "testdata",
    "test-data",
    "fixtures",
    "__tests__",
    "spec",
    "examples",
    "example",
    "doc",
    "docs",
];

/// A secret recognised by name alone.
pub(crate) fn secret_by_name(path: &str) -> Option<&'static str> {
    let name = basename(path);
    SECRET_NAMES
        .iter()
        .find(|(secret, _)| *secret == name)
        .or_else(|| {
            SECRET_SUFFIXES
                .iter()
                .find(|(suffix, _)| path.ends_with(suffix))
        })
        .map(|(_, kind)| *kind)
        .filter(|_| !in_fixture_dir(path))
}

/// What must be read of a regular file at `path` of `size` bytes to recognise it.
pub(crate) fn need(path: &str, size: u64) -> Need {
    let name = basename(path);
    if path == "/etc/sudoers" || parent(path) == "/etc/sudoers.d" {
        return Need::Content(Candidate::Sudoers);
    }
    if ACCOUNT_FILES.contains(&path) {
        return Need::Account;
    }
    if size == 0 {
        return Need::Nothing;
    }
    let candidate = match name {
        ".npmrc" => Some(Candidate::Npmrc),
        ".pypirc" => Some(Candidate::Pypirc),
        ".netrc" => Some(Candidate::Netrc),
        "config.json" if parent(path).ends_with("/.docker") => Some(Candidate::DockerConfig),
        ".git-credentials" => Some(Candidate::NonEmpty("git credentials")),
        _ if HISTORIES.contains(&name) => Some(Candidate::NonEmpty("shell history")),
        _ if is_dotenv(name) => Some(Candidate::NonEmpty("`.env` file")),
        _ => None,
    };
    match candidate {
        Some(_) if in_fixture_dir(path) => Need::Nothing,
        Some(candidate) => Need::Content(candidate),
        None if size <= SNIFF_MAX_SIZE && !in_fixture_dir(path) => Need::Sniff,
        None => Need::Nothing,
    }
}

/// The kind of private key whose header starts `head`, if any.
pub(crate) fn sniff_private_key(head: &[u8]) -> Option<&'static str> {
    let head = &head[..head.len().min(1024)];
    if head.starts_with(b"PuTTY-User-Key-File-") {
        return Some("PuTTY private key");
    }
    let begin = find(head, b"-----BEGIN ")?;
    let rest = &head[begin..];
    let line_end = rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
    let line = &rest[..line_end];
    if !line.windows(16).any(|w| w == b"PRIVATE KEY-----") {
        return None;
    }
    Some(if find(line, b"OPENSSH").is_some() {
        "SSH private key"
    } else {
        "private key"
    })
}

/// What a candidate's contents show: a secret kind, sudoers `NOPASSWD` rules, or nothing.
pub(crate) enum Recognised {
    Secret(&'static str),
    SudoRules(Vec<String>),
    Nothing,
}

pub(crate) fn recognise(candidate: Candidate, content: &[u8]) -> Recognised {
    let text = String::from_utf8_lossy(content);
    let lines = || text.lines().map(str::trim).filter(|line| !line.is_empty());
    match candidate {
        Candidate::Sudoers => {
            let rules: Vec<String> = lines()
                .filter(|line| !line.starts_with('#'))
                .filter(|line| {
                    line.contains("NOPASSWD") || line.replace(' ', "").contains("!authenticate")
                })
                .map(|line| line.chars().take(200).collect())
                .collect();
            if rules.is_empty() {
                Recognised::Nothing
            } else {
                Recognised::SudoRules(rules)
            }
        }
        Candidate::Npmrc => secret_if(
            lines().any(|line| {
                !line.starts_with(['#', ';'])
                    && ["_authToken=", "_auth=", "_password="]
                        .iter()
                        .any(|key| line.contains(key) && !line.ends_with(key))
                    && !line.contains("${")
            }),
            "npm token",
        ),
        Candidate::Pypirc => secret_if(
            lines().any(|line| {
                let lower = line.to_ascii_lowercase();
                lower.starts_with("password") && lower.contains(['=', ':'])
            }),
            "PyPI credentials",
        ),
        Candidate::Netrc => secret_if(
            lines().any(|line| line.split_whitespace().any(|word| word == "password")),
            "netrc credentials",
        ),
        Candidate::DockerConfig => secret_if(
            ["\"auth\"", "\"identitytoken\"", "\"registrytoken\""]
                .iter()
                .any(|key| text.contains(key))
                && !text.contains("\"auth\": \"\"")
                && !text.contains("\"auth\":\"\""),
            "registry credentials",
        ),
        Candidate::NonEmpty(kind) => secret_if(lines().next().is_some(), kind),
    }
}

fn secret_if(condition: bool, kind: &'static str) -> Recognised {
    if condition {
        Recognised::Secret(kind)
    } else {
        Recognised::Nothing
    }
}

fn is_dotenv(name: &str) -> bool {
    match name.strip_prefix(".env") {
        Some("") => true,
        Some(suffix) => {
            suffix.starts_with('.')
                && ![
                    ".example",
                    ".sample",
                    ".template",
                    ".dist",
                    ".defaults",
                    ".tmpl",
                    ".schema",
                ]
                .iter()
                .any(|template| suffix.starts_with(template))
        }
        None => false,
    }
}

fn in_fixture_dir(path: &str) -> bool {
    let mut components = path.split('/').filter(|c| !c.is_empty());
    components.next_back();
    components.any(|component| FIXTURE_DIRS.contains(&component))
}

fn basename(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

fn parent(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(parent, _)| parent)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_keys_are_sniffed_by_header() {
        assert_eq!(
            sniff_private_key(b"-----BEGIN OPENSSH PRIVATE KEY-----\nb3Bl"),
            Some("SSH private key")
        );
        assert_eq!(
            sniff_private_key(b"Bag Attributes\n-----BEGIN ENCRYPTED PRIVATE KEY-----\n"),
            Some("private key")
        );
        assert_eq!(
            sniff_private_key(b"-----BEGIN CERTIFICATE-----\nMIIB"),
            None
        );
        assert_eq!(sniff_private_key(b"-----BEGIN PUBLIC KEY-----\n"), None);
    }

    #[test]
    fn names_and_contents_decide_together() {
        assert_eq!(
            need("/app/.env", 10),
            Need::Content(Candidate::NonEmpty("`.env` file"))
        );
        assert_eq!(need("/app/.env.example", 10), Need::Sniff);
        assert_eq!(need("/app/.env", 0), Need::Nothing);
        assert_eq!(need("/usr/lib/python3/test/keys/k.pem", 10), Need::Nothing);
        assert_eq!(
            need("/etc/sudoers.d/app", 0),
            Need::Content(Candidate::Sudoers)
        );
        assert_eq!(
            secret_by_name("/root/.aws/credentials"),
            Some("AWS credentials")
        );
        assert_eq!(
            secret_by_name("/home/a/.ssh/id_ed25519"),
            Some("SSH private key")
        );
        assert_eq!(secret_by_name("/home/a/.ssh/id_ed25519.pub"), None);
        assert!(matches!(
            recognise(
                Candidate::Npmrc,
                b"//registry.npmjs.org/:_authToken=npm_abc\n"
            ),
            Recognised::Secret("npm token")
        ));
        assert!(matches!(
            recognise(
                Candidate::Npmrc,
                b"//registry.npmjs.org/:_authToken=${NPM_TOKEN}\n"
            ),
            Recognised::Nothing
        ));
        assert!(matches!(
            recognise(
                Candidate::DockerConfig,
                br#"{"auths":{"r":{"auth":"dXNlcjpwYXNz"}}}"#
            ),
            Recognised::Secret("registry credentials")
        ));
        match recognise(
            Candidate::Sudoers,
            b"# app NOPASSWD: ALL\nroot ALL=(ALL) ALL\napp ALL=(ALL) NOPASSWD: ALL\n",
        ) {
            Recognised::SudoRules(rules) => assert_eq!(rules, ["app ALL=(ALL) NOPASSWD: ALL"]),
            _ => panic!("no rules"),
        }
    }
}
