//! What the configuration promised × what the probe saw → one verdict per layer.
//!
//! A promise is what the flags say *and* what the engine does by default when they say nothing, since
//! "a daemon default can differ" is one of the things verify catches: Docker's 14 default
//! capabilities, its default seccomp profile, masked `/proc` paths, private namespaces, no engine
//! socket. Each layer module adds passes (a promise that holds), failures (one that does not) and
//! notes (what the probe saw where nothing was promised) to its [`Checks`]; `--expect` adds promises
//! of its own. A layer fails when any check fails, passes when one passed, and is not applicable
//! otherwise.

mod capabilities;
mod confinement;
mod daemon;
mod escape;
mod filesystem;
mod secrets;
mod user;

use std::collections::BTreeSet;

use leastpriv_model::{Capability, Runtime};
use leastpriv_probe::ProbeReport;

use crate::engine::Daemon;
use crate::expect::Expectation;
use crate::report::{LayerVerdict, Status, LAYERS};

/// Where the promises were written, so that the evidence names settings as the user wrote them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Syntax {
    /// `docker run` flags.
    #[default]
    DockerRun,
    /// A Compose service's keys.
    Compose,
}

/// A setting the evidence names.
#[derive(Clone, Copy, Debug)]
enum Setting {
    Privileged,
    CapAdd,
    CapDropAdd,
    UsernsHost,
    ReadOnly,
    Tmpfs,
    User,
    GroupAdd,
}

impl Syntax {
    /// How `setting` is written in this syntax.
    fn name(self, setting: Setting) -> &'static str {
        use Setting::*;
        match (self, setting) {
            (Self::DockerRun, Privileged) => "--privileged",
            (Self::DockerRun, CapAdd) => "--cap-add",
            (Self::DockerRun, CapDropAdd) => "--cap-drop/--cap-add",
            (Self::DockerRun, UsernsHost) => "--userns=host",
            (Self::DockerRun, ReadOnly) => "--read-only",
            (Self::DockerRun, Tmpfs) => "--tmpfs",
            (Self::DockerRun, User) => "--user",
            (Self::DockerRun, GroupAdd) => "--group-add",
            (Self::Compose, Privileged) => "privileged: true",
            (Self::Compose, CapAdd) => "cap_add",
            (Self::Compose, CapDropAdd) => "cap_drop/cap_add",
            (Self::Compose, UsernsHost) => "userns_mode: host",
            (Self::Compose, ReadOnly) => "read_only: true",
            (Self::Compose, Tmpfs) => "tmpfs",
            (Self::Compose, User) => "user:",
            (Self::Compose, GroupAdd) => "group_add",
        }
    }
}

/// Everything that says what should hold.
pub struct Promises<'a> {
    /// The configuration, through the front-end of its syntax.
    pub runtime: &'a Runtime,
    /// The syntax it was written in.
    pub syntax: Syntax,
    /// The image's `Config.User`, when the image could be inspected.
    pub image_user: Option<&'a str>,
    /// The daemon's security options.
    pub daemon: &'a Daemon,
    /// `--expect`.
    pub expect: &'a [Expectation],
}

impl Promises<'_> {
    /// How `setting` is written where these promises come from.
    fn name(&self, setting: Setting) -> &'static str {
        self.syntax.name(setting)
    }

    fn expects(&self, expectation: Expectation) -> bool {
        self.expect.contains(&expectation)
    }

    fn privileged(&self) -> bool {
        self.runtime
            .privileged
            .as_ref()
            .is_some_and(|privileged| privileged.value)
    }

    fn adds(&self, name: &str) -> bool {
        self.runtime.cap_add.iter().any(|cap| match &cap.value {
            Capability::All => true,
            other => other.name() == name,
        })
    }
}

/// The checks of one layer.
#[derive(Debug, Default)]
struct Checks {
    failures: Vec<String>,
    passes: Vec<String>,
    notes: Vec<String>,
}

impl Checks {
    fn pass(&mut self, text: impl Into<String>) {
        self.passes.push(text.into());
    }

    fn fail(&mut self, text: impl Into<String>) {
        self.failures.push(text.into());
    }

    fn note(&mut self, text: impl Into<String>) {
        self.notes.push(text.into());
    }

    /// Passes with `pass` when `holds`, fails with `fail` otherwise.
    fn check(&mut self, holds: bool, pass: impl Into<String>, fail: impl Into<String>) {
        if holds {
            self.pass(pass);
        } else {
            self.fail(fail);
        }
    }

    fn verdict(self, layer: &str) -> LayerVerdict {
        let status = if !self.failures.is_empty() {
            Status::Fail
        } else if !self.passes.is_empty() {
            Status::Pass
        } else {
            Status::NotApplicable
        };
        LayerVerdict {
            layer: layer.to_owned(),
            status,
            failures: self.failures.len(),
            evidence: self
                .failures
                .into_iter()
                .chain(self.passes)
                .chain(self.notes)
                .collect(),
        }
    }
}

/// Judges every layer.
pub fn judge(promises: &Promises<'_>, probe: &ProbeReport) -> Vec<LayerVerdict> {
    LAYERS
        .iter()
        .map(|&layer| {
            let mut checks = Checks::default();
            match layer {
                "escape" => escape::judge(promises, probe, &mut checks),
                "user" => user::judge(promises, probe, &mut checks),
                "capabilities" => capabilities::judge(promises, probe, &mut checks),
                "confinement" => confinement::judge(promises, probe, &mut checks),
                "filesystem" => filesystem::judge(promises, probe, &mut checks),
                "secrets" => secrets::judge(promises, probe, &mut checks),
                _ => daemon::judge(promises, probe, &mut checks),
            }
            checks.verdict(layer)
        })
        .collect()
}

/// `CAP_X` names → bare names.
fn bare(names: &[String]) -> BTreeSet<String> {
    names
        .iter()
        .map(|name| name.strip_prefix("CAP_").unwrap_or(name).to_owned())
        .collect()
}

/// `a, b, c` or `none`.
fn listed<T: AsRef<str>>(items: impl IntoIterator<Item = T>) -> String {
    let items: Vec<String> = items
        .into_iter()
        .map(|item| item.as_ref().to_owned())
        .collect();
    if items.is_empty() {
        "none".to_owned()
    } else {
        items.join(", ")
    }
}

/// `uid 1000 (app)`.
fn who(probe: &ProbeReport) -> String {
    match &probe.user_name {
        Some(name) => format!("uid {} ({name}), gid {}", probe.uid, probe.gid),
        None => format!("uid {}, gid {}", probe.uid, probe.gid),
    }
}

/// `/var/run/x` and `/run/x` are one path in images where `/var/run` links to `/run`.
fn same_path(a: &str, b: &str) -> bool {
    let normal = |path: &str| {
        path.strip_prefix("/var/run/")
            .map_or_else(|| path.to_owned(), |rest| format!("/run/{rest}"))
    };
    normal(a.trim_end_matches('/')) == normal(b.trim_end_matches('/'))
}

#[cfg(test)]
mod tests;
