//! Integration tests: the real `leastpriv` binary on real files in temporary directories.
//!
//! One test binary (one link) with a module per concern:
//! - `audit`: exit codes, `--fail-on`, formats, colour, broken pipes, relative paths.
//! - `selection`: `--select`/`--ignore` and suppression comments.
//! - `config`: `leastpriv.toml` discovery, `--config`, `--isolated`, `exclude`, `[severity]`, errors.
//! - `inputs`: stdin, directory walks, content detection, unreadable, binary, non-UTF-8, oversized.
//! - `rules`: `leastpriv rules` and `leastpriv explain`.
//! - `standard`: Pod Security Standards levels and `--standard`.
//! - `distribution`: the static default build, help, completions, man pages, the pre-commit hook and
//!   leastpriv's own image.
//! - `driftwood`: the worked example's hardened files are harden's output, and its README's diffs.
//! - `trust`: findings that stand on their own, Dockerfile names, the summary, the configuration
//!   line, usage errors, image locations.
//!
//! Tests pin their rules with `--select LP201` where counts matter, so new rules do not break them.

#![allow(clippy::print_stderr)] // a skipped test says why on stderr

mod audit;
mod compose;
mod config;
mod distribution;
mod driftwood;
mod harden;
mod inputs;
mod profile;
mod rules;
mod selection;
mod standard;
mod trust;

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;
use serde_json::Value;
use tempfile::TempDir;

/// A Dockerfile whose final stage runs as root: LP201 at `root` (line 3, column 6).
pub(crate) const ROOT_DOCKERFILE: &str =
    "FROM python:3.12-slim\nCOPY . /app\nUSER root\nCMD [\"python\", \"/app/server.py\"]\n";
/// A Dockerfile that runs as a non-root user.
pub(crate) const NONROOT_DOCKERFILE: &str =
    "FROM python:3.12-slim\nCOPY . /app\nUSER 10001:10001\nCMD [\"python\", \"/app/server.py\"]\n";

/// A temporary project directory.
pub(crate) struct Project {
    dir: TempDir,
}

impl Project {
    pub(crate) fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("temporary directory"),
        }
    }

    pub(crate) fn root(&self) -> &Path {
        self.dir.path()
    }

    pub(crate) fn path(&self, relative: &str) -> PathBuf {
        self.root().join(relative)
    }

    /// Writes `contents` to `relative`, creating directories.
    pub(crate) fn file(&self, relative: &str, contents: impl AsRef<[u8]>) -> &Self {
        let path = self.path(relative);
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("create directories");
        std::fs::write(&path, contents).expect("write file");
        self
    }

    /// `leastpriv` run in the project directory, with no colour-related environment.
    pub(crate) fn command(&self) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_leastpriv"));
        command
            .current_dir(self.root())
            .env_remove("NO_COLOR")
            .env_remove("CLICOLOR_FORCE");
        command
    }

    /// `leastpriv audit --format json ARGS…`: the parsed document and the exit code.
    pub(crate) fn audit_json(&self, args: &[&str]) -> (Value, i32) {
        let output = self
            .command()
            .arg("audit")
            .args(["--format", "json"])
            .args(args)
            .output()
            .expect("run leastpriv");
        (parse_json(&output), exit_code(&output))
    }
}

pub(crate) fn exit_code(output: &Output) -> i32 {
    output.status.code().expect("exited, not killed")
}

pub(crate) fn parse_json(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|error| {
        panic!(
            "stdout is not JSON ({error}):\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

/// `(rule, path, line, column)` of every finding, for compact assertions.
pub(crate) fn findings(document: &Value) -> Vec<(String, String, u64, u64)> {
    document["findings"]
        .as_array()
        .expect("findings array")
        .iter()
        .map(|finding| {
            (
                finding["rule"].as_str().unwrap().to_owned(),
                finding["path"].as_str().unwrap().to_owned(),
                finding["line"].as_u64().unwrap(),
                finding["column"].as_u64().unwrap(),
            )
        })
        .collect()
}

/// The findings of one rule.
pub(crate) fn findings_of(document: &Value, rule: &str) -> Vec<(String, u64, u64)> {
    findings(document)
        .into_iter()
        .filter(|(code, ..)| code == rule)
        .map(|(_, path, line, column)| (path, line, column))
        .collect()
}

/// `(path, line, column, message)` of every error.
pub(crate) fn errors(document: &Value) -> Vec<(String, Option<u64>, Option<u64>, String)> {
    document["errors"]
        .as_array()
        .expect("errors array")
        .iter()
        .map(|error| {
            (
                error["path"].as_str().unwrap().to_owned(),
                error["line"].as_u64(),
                error["column"].as_u64(),
                error["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

pub(crate) fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("UTF-8 stdout")
}

pub(crate) fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).expect("UTF-8 stderr")
}
