//! Secrets in reach: environment variable *names* that look like secrets (values are never read into
//! the report), and the files under `/run/secrets` with their modes.

use std::path::Path;

use crate::host::{read_text_limited, FileKind, Host};
use crate::report::{ProbeReport, SecretFile};

/// Name segments that mark a secret on their own (`DB_PASSWORD`, `GITHUB_TOKEN`).
const SECRET_WORDS: [&str; 10] = [
    "PASSWORD",
    "PASSWD",
    "PASS",
    "SECRET",
    "SECRETS",
    "TOKEN",
    "APIKEY",
    "CREDENTIAL",
    "CREDENTIALS",
    "DSN",
];

/// Segments that make a following `KEY` a secret (`API_KEY`, `AWS_SECRET_ACCESS_KEY`), unlike
/// `GPG_KEY` (a fingerprint in the official images) or `SORT_KEY`.
const KEY_QUALIFIERS: [&str; 9] = [
    "API",
    "ACCESS",
    "SECRET",
    "PRIVATE",
    "SIGNING",
    "ENCRYPTION",
    "MASTER",
    "SESSION",
    "LICENSE",
];

/// Whole names that usually carry credentials.
const SECRET_NAMES: [&str; 3] = ["DATABASE_URL", "REDIS_URL", "MONGO_URL"];

/// Last segments that point at a secret rather than hold one (`POSTGRES_PASSWORD_FILE`).
const INDIRECTIONS: [&str; 4] = ["FILE", "PATH", "DIR", "ENV"];

/// Directories where runtimes mount secret files.
const SECRET_DIRS: [&str; 2] = ["/run/secrets", "/var/run/secrets"];

const MAX_SECRET_FILES: usize = 256;

/// Whether an environment variable name looks like it holds a secret.
pub(crate) fn looks_secret(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    if SECRET_NAMES.contains(&upper.as_str()) {
        return true;
    }
    let segments: Vec<&str> = upper
        .split(['_', '-', '.'])
        .filter(|s| !s.is_empty())
        .collect();
    if segments
        .last()
        .is_some_and(|last| INDIRECTIONS.contains(last))
    {
        return false;
    }
    segments.iter().enumerate().any(|(i, segment)| {
        SECRET_WORDS.contains(segment)
            || (*segment == "KEY" && i > 0 && KEY_QUALIFIERS.contains(&segments[i - 1]))
    })
}

/// Fills the secrets fields.
pub(crate) fn probe(host: &dyn Host, report: &mut ProbeReport) {
    let mut names: Vec<String> = host
        .env_names()
        .into_iter()
        .filter(|name| looks_secret(name))
        .collect();
    // The main process's environment, when the probe is not PID 1 (docker exec): names only.
    let own_pid = host.read_link(Path::new("/proc/self")).ok();
    if own_pid.as_deref() != Some("1") {
        if let Some(environ) = read_text_limited(host, "/proc/1/environ", 1 << 20) {
            names.extend(
                environ
                    .split('\0')
                    .filter_map(|entry| entry.split_once('=').map(|(name, _)| name))
                    .filter(|name| looks_secret(name))
                    .map(str::to_owned),
            );
        }
    }
    names.sort();
    names.dedup();
    report.secret_env_names = names;

    let var_run_is_run = host
        .read_link(Path::new("/var/run"))
        .is_ok_and(|target| matches!(target.trim_end_matches('/'), "/run" | "../run" | "run"));
    for dir in SECRET_DIRS {
        if dir.starts_with("/var/run") && var_run_is_run {
            continue;
        }
        collect_secret_files(host, dir, 3, &mut report.secret_files);
    }
}

fn collect_secret_files(host: &dyn Host, dir: &str, depth: u32, files: &mut Vec<SecretFile>) {
    let Ok(entries) = host.read_dir(Path::new(dir)) else {
        return;
    };
    for (name, kind) in entries {
        if files.len() >= MAX_SECRET_FILES {
            return;
        }
        // Kubernetes projects secrets through `..data` symlinks to a timestamped directory; the
        // timestamped directory itself is skipped so each file is listed once.
        if name.starts_with("..") {
            continue;
        }
        let path = format!("{dir}/{name}");
        match kind {
            FileKind::Dir if depth > 1 => collect_secret_files(host, &path, depth - 1, files),
            FileKind::File | FileKind::Symlink => {
                let Ok(info) = host.stat(Path::new(&path)) else {
                    continue;
                };
                files.push(SecretFile {
                    readable: host.can_read(Path::new(&path)),
                    path,
                    mode: format!("{:04o}", info.mode),
                    uid: info.uid,
                    gid: info.gid,
                });
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_secret_names() {
        for name in [
            "DB_PASSWORD",
            "MYSQL_ROOT_PASSWORD",
            "GITHUB_TOKEN",
            "AWS_SECRET_ACCESS_KEY",
            "STRIPE_API_KEY",
            "SENTRY_DSN",
            "DATABASE_URL",
            "client-secret",
            "SSH_PASS",
        ] {
            assert!(looks_secret(name), "{name}");
        }
        for name in [
            "PATH",
            "PWD",
            "GPG_KEY",
            "HOME",
            "POSTGRES_PASSWORD_FILE",
            "PASSENGER_VERSION",
            "TOKENIZERS_PARALLELISM",
            "SORT_KEY",
        ] {
            assert!(!looks_secret(name), "{name}");
        }
    }
}
