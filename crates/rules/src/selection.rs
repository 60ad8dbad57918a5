//! Which rules run, and at which severity: `--select`, `--ignore`, and `leastpriv.toml`.

use std::collections::HashMap;

use crate::{find_rule, PssLevel, Rule, Severity};

/// The enabled rules and severity overrides for one run.
#[derive(Clone, Debug, Default)]
pub struct RuleSelection {
    select: Option<Vec<&'static Rule>>,
    ignore: Vec<&'static Rule>,
    severities: HashMap<&'static str, Severity>,
    standard: Option<PssLevel>,
}

/// A rule code or name that matches no rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelectionError(pub String);

impl std::fmt::Display for SelectionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "unknown rule `{}` (see `leastpriv rules`)", self.0)
    }
}

impl std::error::Error for SelectionError {}

impl RuleSelection {
    /// Every rule enabled, at its default severity.
    pub fn all() -> Self {
        Self::default()
    }

    /// Runs only these rules (codes, names, code prefixes such as `LP1`, or layer keys such as
    /// `secrets`).
    pub fn select<'s>(
        &mut self,
        selectors: impl IntoIterator<Item = &'s str>,
    ) -> Result<(), SelectionError> {
        let mut selected = self.select.take().unwrap_or_default();
        for selector in selectors {
            selected.extend(resolve(selector)?);
        }
        self.select = Some(selected);
        Ok(())
    }

    /// Never runs these rules (same selectors as [`RuleSelection::select`]).
    pub fn ignore<'s>(
        &mut self,
        selectors: impl IntoIterator<Item = &'s str>,
    ) -> Result<(), SelectionError> {
        for selector in selectors {
            self.ignore.extend(resolve(selector)?);
        }
        Ok(())
    }

    /// Reports `rule` at `severity` instead of its default.
    pub fn set_severity(
        &mut self,
        selector: &str,
        severity: Severity,
    ) -> Result<(), SelectionError> {
        for rule in resolve(selector)? {
            self.severities.insert(rule.code, severity);
        }
        Ok(())
    }

    /// Reports only the findings that this Pod Security Standards level forbids (`restricted`
    /// includes `baseline`).
    pub fn set_standard(&mut self, level: PssLevel) {
        self.standard = Some(level);
    }

    /// The Pod Security Standards level audited against, if any.
    pub fn standard(&self) -> Option<PssLevel> {
        self.standard
    }

    /// Whether `rule` runs.
    pub fn is_enabled(&self, rule: &Rule) -> bool {
        let selected = self
            .select
            .as_ref()
            .is_none_or(|selected| selected.iter().any(|s| s.code == rule.code));
        selected && !self.ignore.iter().any(|ignored| ignored.code == rule.code)
    }

    /// The severity `rule` reports at.
    pub fn severity_of(&self, rule: &Rule) -> Severity {
        self.configured_severity(rule).unwrap_or(rule.meta.severity)
    }

    /// The configured severity of `rule`, if any.
    pub fn configured_severity(&self, rule: &Rule) -> Option<Severity> {
        self.severities.get(rule.code).copied()
    }
}

/// The rules a selector names: a code (`LP101`), a name (`root-user`), a code prefix (`LP1`) or a
/// layer (`user`).
fn resolve(selector: &str) -> Result<Vec<&'static Rule>, SelectionError> {
    let selector = selector.trim();
    if let Some(rule) = find_rule(selector) {
        return Ok(vec![rule]);
    }
    let upper = selector.to_ascii_uppercase();
    let matched: Vec<_> = crate::RULES
        .iter()
        .filter(|rule| {
            (upper.starts_with("LP") && rule.code.starts_with(&upper))
                || rule.meta.layer.as_str().eq_ignore_ascii_case(selector)
        })
        .collect();
    if matched.is_empty() {
        Err(SelectionError(selector.to_owned()))
    } else {
        Ok(matched)
    }
}
