//! Pod Security Standards levels: which findings break a control of `baseline` or `restricted`.
//!
//! A rule whose pattern a PSS control forbids declares the level (`pss: Baseline` in
//! [`declare_rule!`](crate::declare_rule)); a rule may refine it per finding (adding `CHOWN` breaks only
//! `restricted`, adding `SYS_ADMIN` already breaks `baseline`). The level is reported with each finding,
//! and `--standard pss-baseline|pss-restricted` keeps exactly the findings that level forbids.
//! `restricted` includes every `baseline` control, as in the standard itself.

use std::fmt;

/// A Pod Security Standards level that forbids a finding's pattern.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum PssLevel {
    /// Forbidden from `baseline` up: a known privilege escalation.
    Baseline,
    /// Forbidden only by `restricted`: current hardening best practice.
    Restricted,
}

impl PssLevel {
    /// The lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            PssLevel::Baseline => "baseline",
            PssLevel::Restricted => "restricted",
        }
    }

    /// Whether auditing against `self` reports a finding that `level` forbids.
    pub fn covers(self, level: PssLevel) -> bool {
        level <= self
    }
}

impl fmt::Display for PssLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restricted_includes_baseline() {
        assert!(PssLevel::Restricted.covers(PssLevel::Baseline));
        assert!(PssLevel::Restricted.covers(PssLevel::Restricted));
        assert!(PssLevel::Baseline.covers(PssLevel::Baseline));
        assert!(!PssLevel::Baseline.covers(PssLevel::Restricted));
    }
}
