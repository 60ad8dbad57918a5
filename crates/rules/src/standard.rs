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
    use leastpriv_model::{Capability, Container, Runtime, SourceKind};

    use super::*;
    use crate::testing::Source;
    use crate::RuleSelection;

    /// A pod that breaks baseline (privileged, SYS_ADMIN), restricted only (CHOWN re-added, no
    /// `allowPrivilegeEscalation: false`) and no PSS control (writable root).
    fn pod(source: &Source) -> Vec<Container> {
        let runtime = Runtime {
            cap_add: vec![
                source.at(3, Capability::parse("SYS_ADMIN")),
                source.at(4, Capability::parse("CHOWN")),
            ],
            ..Runtime::default()
        };
        vec![source.container(SourceKind::Kubernetes, runtime)]
    }

    fn codes_and_levels(
        selection: &RuleSelection,
        source: &Source,
    ) -> Vec<(u32, Option<PssLevel>)> {
        source
            .run_with(selection, &pod(source))
            .into_iter()
            .map(|found| (found.line, found.pss))
            .collect()
    }

    #[test]
    fn a_standard_keeps_exactly_the_findings_its_level_forbids() {
        let source = Source::new();
        let mut all = RuleSelection::all();
        all.select(["LP310", "LP502"]).unwrap();
        let everything = codes_and_levels(&all, &source);
        assert!(
            everything.contains(&(1, None)),
            "writable root has no PSS level: {everything:?}"
        );
        assert!(everything.contains(&(3, Some(PssLevel::Baseline))));
        assert!(everything.contains(&(4, Some(PssLevel::Restricted))));

        let mut baseline = all.clone();
        baseline.set_standard(PssLevel::Baseline);
        assert_eq!(
            codes_and_levels(&baseline, &source),
            [(3, Some(PssLevel::Baseline))]
        );

        let mut restricted = all;
        restricted.set_standard(PssLevel::Restricted);
        assert_eq!(
            codes_and_levels(&restricted, &source),
            [
                (3, Some(PssLevel::Baseline)),
                (4, Some(PssLevel::Restricted))
            ]
        );
    }

    #[test]
    fn findings_without_runtime_settings_carry_no_level() {
        let source = Source::new();
        let mut dockerfile = Container::new("Dockerfile", SourceKind::Dockerfile, source.span(1));
        dockerfile.build = Some(leastpriv_model::Build {
            stages: vec![source.stage(leastpriv_model::StageBase::Scratch)],
            ..Default::default()
        });
        let found = source.run("LP201", &[dockerfile]);
        assert_eq!(
            found.len(),
            1,
            "a FROM scratch stage without USER runs as root"
        );
        assert_eq!(found[0].pss, None);
    }

    #[test]
    fn restricted_includes_baseline() {
        assert!(PssLevel::Restricted.covers(PssLevel::Baseline));
        assert!(PssLevel::Restricted.covers(PssLevel::Restricted));
        assert!(PssLevel::Baseline.covers(PssLevel::Baseline));
        assert!(!PssLevel::Baseline.covers(PssLevel::Restricted));
    }
}
