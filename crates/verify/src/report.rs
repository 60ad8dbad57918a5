//! The verdict: one entry per layer, and the probe's report it rests on. Its JSON is the `verify
//! --format json` contract: `{"holds", "required", "layers": [{"layer", "status", "required",
//! "promise_broken", "evidence", "checks"}], "probe": {…}}`. Fields are only ever added.

use leastpriv_probe::ProbeReport;
use serde::{Deserialize, Serialize};

/// The seven layers, in the order leastpriv reports them.
pub const LAYERS: [&str; 7] = [
    "escape",
    "user",
    "capabilities",
    "confinement",
    "filesystem",
    "secrets",
    "daemon",
];

/// Whether a layer of defence holds in the running container.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// The layer holds: least privilege, and every promise the configuration (and `--expect`) made
    /// for it.
    Pass,
    /// The layer does not hold: what the probe saw is a missing layer of defence (an audit rule at
    /// medium or above judges it so), or a promise is broken.
    Fail,
    /// Nothing the layer rests on could be observed; the evidence says why.
    NotApplicable,
}

impl Status {
    /// The JSON name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pass => "pass",
            Self::Fail => "fail",
            Self::NotApplicable => "not-applicable",
        }
    }
}

/// One layer's verdict.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerVerdict {
    /// One of [`LAYERS`].
    pub layer: String,
    /// The verdict.
    pub status: Status,
    /// What was promised and what the probe saw, readable: the broken promises first, then the other
    /// failures, what holds, and notes ([`Check::evidence`] of each of `checks`).
    pub evidence: Vec<String>,
    /// How many of the first `evidence` entries are failures.
    pub failures: usize,
    /// Whether this layer decides the verdict: every layer, or those `--expect` names.
    #[serde(default = "required_by_default")]
    pub required: bool,
    /// Whether a failure here is a broken promise: the configuration, the engine's defaults or
    /// `--expect` asked for something the probe did not see. The worst failure: it fails the verdict
    /// even in a layer that is not required.
    #[serde(default)]
    pub promise_broken: bool,
    /// The same evidence, structured.
    #[serde(default)]
    pub checks: Vec<Check>,
}

fn required_by_default() -> bool {
    true
}

/// What one check found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// It fails the layer.
    Fail,
    /// It holds.
    Pass,
    /// Worth knowing; it does not decide the layer (a finding below medium, what the probe saw).
    Note,
}

/// One check of a layer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Check {
    /// Its outcome.
    pub outcome: Outcome,
    /// What was promised or seen.
    pub text: String,
    /// The audit rule that judges the same fact in a configuration (`LP201`), when there is one.
    pub rule: Option<String>,
    /// That rule's severity for this case: a layer of defence is missing from `medium` up.
    pub severity: Option<String>,
    /// Whether this is a broken promise.
    pub promise_broken: bool,
}

impl Check {
    /// The readable line: `broken promise: …`, `LP201 [high] …`, or the text.
    pub fn evidence(&self) -> String {
        match (&self.rule, &self.severity) {
            (Some(rule), _) if self.promise_broken => {
                format!("broken promise: {} ({rule})", self.text)
            }
            _ if self.promise_broken => format!("broken promise: {}", self.text),
            (Some(rule), Some(severity)) => format!("{rule} [{severity}] {}", self.text),
            _ => self.text.clone(),
        }
    }
}

/// Everything `verify` found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifyReport {
    /// The image run.
    pub image: String,
    /// The command that ran the probe, environment values redacted.
    pub command: Vec<String>,
    /// The user's flags (or Compose service keys) left out of the probe's run: they do not shape
    /// privileges.
    pub dropped_flags: Vec<String>,
    /// The `--expect` policy applied.
    pub expected: Vec<String>,
    /// The layers that decide the verdict: every layer, or those `--expect` names.
    #[serde(default)]
    pub required: Vec<String>,
    /// The verdict: every required layer holds and no promise is broken (exit 0).
    #[serde(default)]
    pub holds: bool,
    /// One verdict per layer, in [`LAYERS`] order.
    pub layers: Vec<LayerVerdict>,
    /// The probe's own report from inside the container.
    pub probe: ProbeReport,
}

/// Whether every required layer holds and no promise is broken, anywhere.
pub(crate) fn holds(layers: &[LayerVerdict]) -> bool {
    layers
        .iter()
        .all(|layer| layer.status != Status::Fail || (!layer.required && !layer.promise_broken))
}
