//! What the probe saw × what the configuration asked for → one verdict per layer.
//!
//! Each layer's verdict says whether that layer of defence **holds in the running container**,
//! judged against least privilege, not only against what the configuration promised: root fails
//! `user`, Docker's default capability set fails `capabilities`, a writable root or `no_new_privs`
//! off fails `filesystem`, an engine socket fails `escape` even when it was mounted on purpose.
//!
//! One truth with `audit`: every observation is weighed by the audit rule that judges the same fact
//! in a configuration (LP201 for root, LP311 for capabilities left in place …), with that rule's
//! severity and its own tables ([`leastpriv_rules::judgement`]). An observation breaks its layer
//! when that severity is [`LAYER_MISSING`] or worse; below, it is a note. So a layer verify says
//! holds has no audit finding at medium or above in that layer, and the reverse, whenever the
//! container got what its configuration asked for.
//!
//! When it did not — a flag overridden by an orchestrator, a profile that failed to load, a daemon
//! default that differs, an `--expect` the container does not meet — that is a **broken promise**,
//! the worst failure: it fails its layer whatever its severity and is marked `promise_broken`.
//! Docker's defaults are promises too (its 14 capabilities, its seccomp profile, private
//! namespaces, no engine socket).
//!
//! Each layer module adds passes, failures and notes to its [`Checks`]. A layer fails when any
//! check fails, passes when none fails and something was judged, and is not applicable when
//! nothing could be (the probe could not read what the layer rests on).

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
use leastpriv_rules::judgement::{rule_severity, LAYER_MISSING};
use leastpriv_rules::{Layer, Severity};

use crate::engine::Daemon;
use crate::expect::Expectation;
use crate::report::{Check, LayerVerdict, Outcome, Status, LAYERS};

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
    NoNewPrivileges,
    SeccompUnconfined,
    SystemPathsUnconfined,
    Devices,
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
            (Self::DockerRun, NoNewPrivileges) => "--security-opt no-new-privileges",
            (Self::DockerRun, SeccompUnconfined) => "--security-opt seccomp=unconfined",
            (Self::DockerRun, SystemPathsUnconfined) => "--security-opt systempaths=unconfined",
            (Self::DockerRun, Devices) => "--device",
            (Self::Compose, Privileged) => "privileged: true",
            (Self::Compose, CapAdd) => "cap_add",
            (Self::Compose, CapDropAdd) => "cap_drop/cap_add",
            (Self::Compose, UsernsHost) => "userns_mode: host",
            (Self::Compose, ReadOnly) => "read_only: true",
            (Self::Compose, Tmpfs) => "tmpfs",
            (Self::Compose, User) => "user:",
            (Self::Compose, GroupAdd) => "group_add",
            (Self::Compose, NoNewPrivileges) => "security_opt: [no-new-privileges:true]",
            (Self::Compose, SeccompUnconfined) => "security_opt: [seccomp:unconfined]",
            (Self::Compose, SystemPathsUnconfined) => "security_opt: [systempaths=unconfined]",
            (Self::Compose, Devices) => "devices:",
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

    /// The layers that decide the verdict: those `--expect` names (a policy name requires its
    /// layer), or every layer when it names none.
    pub fn required(&self) -> BTreeSet<Layer> {
        if self.expect.is_empty() {
            Layer::ALL.into_iter().collect()
        } else {
            self.expect
                .iter()
                .map(|expectation| expectation.layer())
                .collect()
        }
    }
}

/// The checks of one layer.
#[derive(Debug, Default)]
struct Checks {
    entries: Vec<Check>,
}

impl Checks {
    fn push(&mut self, outcome: Outcome, text: String, rule: Option<&str>, promise: bool) {
        let severity = rule.and_then(rule_severity);
        self.entries.push(Check {
            outcome,
            text,
            rule: rule.map(str::to_owned),
            severity: severity.map(|severity| severity.as_str().to_owned()),
            promise_broken: promise && outcome == Outcome::Fail,
        });
    }

    /// Something that holds.
    fn pass(&mut self, text: impl Into<String>) {
        self.push(Outcome::Pass, text.into(), None, false);
    }

    /// Something seen that neither holds nor fails the layer.
    fn note(&mut self, text: impl Into<String>) {
        self.push(Outcome::Note, text.into(), None, false);
    }

    /// An observation that the audit rule `rule` judges: it fails the layer when the rule's default
    /// severity means a layer of defence is missing, and is a note below that.
    fn finding(&mut self, rule: &'static str, text: impl Into<String>) {
        let severity = rule_severity(rule).unwrap_or(Severity::Medium);
        self.finding_at(rule, severity, text);
    }

    /// [`Checks::finding`] at the severity the rule gives this case (a capability, a device).
    fn finding_at(&mut self, rule: &'static str, severity: Severity, text: impl Into<String>) {
        let outcome = if severity >= LAYER_MISSING {
            Outcome::Fail
        } else {
            Outcome::Note
        };
        self.entries.push(Check {
            outcome,
            text: text.into(),
            rule: Some(rule.to_owned()),
            severity: Some(severity.as_str().to_owned()),
            promise_broken: false,
        });
    }

    /// A promise (the configuration, the engine's defaults, or `--expect`) that does not hold,
    /// judged by `rule` when an audit rule names the same fact.
    fn broken(&mut self, rule: Option<&'static str>, text: impl Into<String>) {
        self.push(Outcome::Fail, text.into(), rule, true);
    }

    /// A promise: passes with `pass` when `holds`, is broken with `fail` otherwise.
    fn promise(&mut self, holds: bool, pass: impl Into<String>, fail: impl Into<String>) {
        if holds {
            self.pass(pass);
        } else {
            self.broken(None, fail);
        }
    }

    fn passed(&self) -> bool {
        self.entries
            .iter()
            .any(|check| check.outcome == Outcome::Pass)
    }

    fn failed(&self) -> bool {
        self.entries
            .iter()
            .any(|check| check.outcome == Outcome::Fail)
    }

    fn verdict(mut self, layer: Layer, required: bool) -> LayerVerdict {
        // Broken promises first, then the other failures, passes and notes, each in the order found.
        self.entries.sort_by_key(|check| match check.outcome {
            Outcome::Fail if check.promise_broken => 0,
            Outcome::Fail => 1,
            Outcome::Pass => 2,
            Outcome::Note => 3,
        });
        let failures = self
            .entries
            .iter()
            .filter(|check| check.outcome == Outcome::Fail)
            .count();
        let status = if failures > 0 {
            Status::Fail
        } else if self
            .entries
            .iter()
            .any(|check| check.outcome == Outcome::Pass)
        {
            Status::Pass
        } else {
            Status::NotApplicable
        };
        LayerVerdict {
            layer: layer.as_str().to_owned(),
            status,
            evidence: self.entries.iter().map(Check::evidence).collect(),
            failures,
            required,
            promise_broken: self.entries.iter().any(|check| check.promise_broken),
            checks: self.entries,
        }
    }
}

/// Judges every layer.
pub fn judge(promises: &Promises<'_>, probe: &ProbeReport) -> Vec<LayerVerdict> {
    let required = promises.required();
    debug_assert_eq!(LAYERS.len(), Layer::ALL.len());
    Layer::ALL
        .into_iter()
        .map(|layer| {
            let mut checks = Checks::default();
            match layer {
                Layer::Escape => escape::judge(promises, probe, &mut checks),
                Layer::User => user::judge(promises, probe, &mut checks),
                Layer::Capabilities => capabilities::judge(promises, probe, &mut checks),
                Layer::Confinement => confinement::judge(promises, probe, &mut checks),
                Layer::Filesystem => filesystem::judge(promises, probe, &mut checks),
                Layer::Secrets => secrets::judge(promises, probe, &mut checks),
                Layer::Daemon => daemon::judge(promises, probe, &mut checks),
            }
            checks.verdict(layer, required.contains(&layer))
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

/// `uid 1000 (app), gid 1000`.
fn who(probe: &ProbeReport) -> String {
    match &probe.user_name {
        Some(name) => format!("uid {} ({name}), gid {}", probe.uid, probe.gid),
        None => format!("uid {}, gid {}", probe.uid, probe.gid),
    }
}

/// `/var/run/x` and `/run/x` are one path in images where `/var/run` links to `/run`.
fn normal_path(path: &str) -> String {
    let path = path.trim_end_matches('/');
    if path == "/var/run" {
        return "/run".to_owned();
    }
    path.strip_prefix("/var/run/")
        .map_or_else(|| path.to_owned(), |rest| format!("/run/{rest}"))
}

/// Whether `a` and `b` are one path.
fn same_path(a: &str, b: &str) -> bool {
    normal_path(a) == normal_path(b)
}

/// Whether `path` is `dir` or lies below it.
fn within(path: &str, dir: &str) -> bool {
    let (path, dir) = (normal_path(path), normal_path(dir));
    path == dir
        || dir.is_empty()
        || path
            .strip_prefix(&dir)
            .is_some_and(|rest| rest.starts_with('/'))
}

#[cfg(test)]
mod tests;
