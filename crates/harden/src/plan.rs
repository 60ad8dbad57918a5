//! What a fixer plans for one file: the edits, each change they make and why, and every remedy it
//! leaves to the user with the reason.
//!
//! Nothing a finding asks for is dropped silently: a remedy is either a [`Change`] (done) or a
//! [`Left`] (not done, and why). Neither ever holds a secret's value: fixers name variables and
//! files, never their content.

use leastpriv_rules::{Diagnostic, Layer};
use serde::Serialize;

use crate::edit::Edit;

/// One change written into the file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Change {
    /// The container it hardens (`web`, `Deployment/api:app`).
    pub container: String,
    /// The codes of the rules whose findings it removes, sorted and unique (`LP311`).
    pub rules: Vec<&'static str>,
    /// The layer of defence it restores.
    pub layer: Layer,
    /// What was written, in the source's syntax (`cap_drop: [ALL]`).
    pub summary: String,
    /// What the change may break, for the person reviewing it (`read_only: the service must not
    /// write outside its tmpfs mounts`); `None` when it changes nothing the workload relies on.
    pub may_break: Option<String>,
    /// What the user still has to do for the change to work (create the secret file, rotate a
    /// committed value).
    pub follow_up: Option<String>,
}

/// A remedy a finding asks for that was not applied.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Left {
    /// The container it concerns.
    pub container: String,
    /// The code of the rule whose finding stays.
    pub rule: &'static str,
    /// The rule's layer.
    pub layer: Layer,
    /// What the user should do.
    pub remedy: String,
    /// Why harden did not do it.
    pub reason: LeftReason,
    /// The reason, said for this case.
    pub detail: String,
}

impl Change {
    /// The change, not made after all: one [`Left`] per rule that asked for it.
    pub fn left(&self, reason: LeftReason, detail: &str) -> impl Iterator<Item = Left> + '_ {
        let detail = detail.to_owned();
        self.rules.iter().map(move |rule| Left {
            container: self.container.clone(),
            rule,
            layer: self.layer,
            remedy: self.summary.clone(),
            reason,
            detail: detail.clone(),
        })
    }
}

/// Why a remedy was left to the user. The kinds are few and stable: reports count them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LeftReason {
    /// It changes behaviour on purpose (privileged, host namespaces, engine socket, dangerous
    /// capabilities): applied only with `--remove-dangerous`.
    NeedsRemoveDangerous,
    /// An override file cannot take an entry away (Compose merges sequences by union): applied only
    /// with `--in-place`.
    NeedsInPlace,
    /// The setting is written in an anchored node that other nodes alias: editing it would change
    /// every alias too.
    Anchored,
    /// The setting is written in another file (an `extends` base, an `include`d or override file).
    InAnotherFile,
    /// The image has no known convention to read the secret from a file (`NAME_FILE`); the
    /// application must be changed to read it.
    NoFileConvention,
    /// The source's syntax cannot express the remedy, or the finding is about the image rather than
    /// this file (a setuid file, a secret in a layer).
    NotExpressible,
    /// The value is not written literally here (an interpolated variable, an unusual form) and
    /// rewriting it could change its meaning.
    UnusualSyntax,
    /// The fix conflicted with another one in every pass.
    Conflict,
}

impl LeftReason {
    /// The kebab-case key (`needs-remove-dangerous`).
    pub fn as_str(self) -> &'static str {
        match self {
            LeftReason::NeedsRemoveDangerous => "needs-remove-dangerous",
            LeftReason::NeedsInPlace => "needs-in-place",
            LeftReason::Anchored => "anchored",
            LeftReason::InAnotherFile => "in-another-file",
            LeftReason::NoFileConvention => "no-file-convention",
            LeftReason::NotExpressible => "not-expressible",
            LeftReason::UnusualSyntax => "unusual-syntax",
            LeftReason::Conflict => "conflict",
        }
    }
}

impl std::fmt::Display for LeftReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Changes and the edits that make them, applied together or not at all.
#[derive(Clone, Debug)]
pub struct Fix {
    /// What it changes (several changes when one edit serves them all, such as one `secrets:`
    /// section for every secret moved out of a file).
    pub changes: Vec<Change>,
    /// The edits, not overlapping each other.
    pub edits: Vec<Edit>,
}

/// What a fixer plans for one file in one pass.
#[derive(Clone, Debug, Default)]
pub struct FilePlan {
    /// The fixes. One setting is written by one fix however many findings ask for it.
    pub fixes: Vec<Fix>,
    /// The remedies left to the user.
    pub left: Vec<Left>,
}

impl FilePlan {
    /// Records a remedy of `finding` left to the user.
    pub fn leave(
        &mut self,
        container: &str,
        finding: &Diagnostic,
        reason: LeftReason,
        detail: impl Into<String>,
    ) {
        self.left.push(Left {
            container: container.to_owned(),
            rule: finding.rule.code,
            layer: finding.rule.meta.layer,
            remedy: finding.fix.clone(),
            reason,
            detail: detail.into(),
        });
    }
}
