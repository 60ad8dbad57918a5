//! Findings, their severities and layers.

use std::fmt;
use std::str::FromStr;

use leastpriv_model::Remedy;
use leastpriv_source::Span;

use crate::{PssLevel, Rule};

/// How bad a finding is. Ordered: `Info < Low < Medium < High < Critical`.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing; not a weakness by itself.
    Info,
    /// A hardening step left out.
    Low,
    /// A layer of defence missing.
    Medium,
    /// A direct path to privilege inside the container or to secrets.
    High,
    /// A direct path to the host.
    Critical,
}

impl Severity {
    /// Every severity, lowest first.
    pub const ALL: [Severity; 5] = [
        Severity::Info,
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];

    /// The lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Severity {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Severity::ALL
            .into_iter()
            .find(|severity| severity.as_str().eq_ignore_ascii_case(text))
            .ok_or_else(|| {
                format!(
                    "unknown severity `{text}` (expected one of info, low, medium, high, critical)"
                )
            })
    }
}

/// The layer of defence a rule belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Layer {
    /// Paths out of the container: engine sockets, privileged mode, host mounts and namespaces.
    Escape,
    /// Running as non-root: the user, setuid, sudo.
    User,
    /// Linux capabilities.
    Capabilities,
    /// seccomp, AppArmor and SELinux.
    Confinement,
    /// Read-only root, tmpfs, no-new-privileges.
    Filesystem,
    /// Secrets kept out of configuration and images.
    Secrets,
    /// The container engine itself.
    Daemon,
}

impl Layer {
    /// Every layer, in the order of defence.
    pub const ALL: [Layer; 7] = [
        Layer::Escape,
        Layer::User,
        Layer::Capabilities,
        Layer::Confinement,
        Layer::Filesystem,
        Layer::Secrets,
        Layer::Daemon,
    ];

    /// The layer key (`escape`, `user` …).
    pub fn as_str(self) -> &'static str {
        match self {
            Layer::Escape => "escape",
            Layer::User => "user",
            Layer::Capabilities => "capabilities",
            Layer::Confinement => "confinement",
            Layer::Filesystem => "filesystem",
            Layer::Secrets => "secrets",
            Layer::Daemon => "daemon",
        }
    }
}

impl fmt::Display for Layer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One finding.
#[derive(Clone, Debug)]
pub struct Diagnostic {
    /// The rule that found it.
    pub rule: &'static Rule,
    /// Its severity, after configuration.
    pub severity: Severity,
    /// What is wrong, lowercase, no trailing period. Never holds a secret's value.
    pub message: String,
    /// The place that causes it.
    pub span: Span,
    /// How to fix it, in this source's syntax when known; the rule's fix title otherwise.
    pub fix: String,
    /// Other places that explain it ("the user was set here").
    pub related: Vec<(Span, String)>,
    /// The change that removes it, for fixers and `harden`.
    pub remedy: Option<Remedy>,
    /// The Pod Security Standards level that forbids it, if any.
    pub pss: Option<PssLevel>,
}

impl Diagnostic {
    /// Sets the fix text.
    pub fn fix(&mut self, fix: impl Into<String>) -> &mut Self {
        self.fix = fix.into();
        self
    }

    /// Adds a related place.
    pub fn related(&mut self, span: Span, note: impl Into<String>) -> &mut Self {
        self.related.push((span, note.into()));
        self
    }

    /// Sets the remedy.
    pub fn remedy(&mut self, remedy: Remedy) -> &mut Self {
        self.remedy = Some(remedy);
        self
    }

    /// Sets the Pod Security Standards level for this finding (a rule whose controls differ by case).
    pub fn pss(&mut self, level: Option<PssLevel>) -> &mut Self {
        self.pss = level;
        self
    }

    /// Overrides the severity for this finding (a rule whose severity depends on the case).
    pub fn severity(&mut self, severity: Severity) -> &mut Self {
        self.severity = severity;
        self
    }
}
