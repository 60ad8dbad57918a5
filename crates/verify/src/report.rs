//! The verdict: one entry per layer, and the probe's report it rests on. Its JSON is the `verify
//! --format json` contract: `{"layers": [{"layer", "status", "evidence"}], "probe": {…}}`.

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

/// Whether a layer's promises held.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Everything the configuration (and `--expect`) promised for the layer holds.
    Pass,
    /// A promise does not hold.
    Fail,
    /// The configuration promises nothing here; the evidence says what the probe saw.
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
    /// What was promised and what the probe saw: the failures first, then the promises that hold,
    /// then notes.
    pub evidence: Vec<String>,
    /// How many of the first `evidence` entries are failures.
    pub failures: usize,
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
    /// One verdict per layer, in [`LAYERS`] order.
    pub layers: Vec<LayerVerdict>,
    /// The probe's own report from inside the container.
    pub probe: ProbeReport,
}

impl VerifyReport {
    /// Whether every layer holds.
    pub fn holds(&self) -> bool {
        self.layers.iter().all(|layer| layer.status != Status::Fail)
    }
}
