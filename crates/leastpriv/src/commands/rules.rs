//! `leastpriv rules` and `leastpriv explain`.

use std::io::Write;

use anyhow::{bail, Result};
use leastpriv_rules::{find_rule, rule_markdown, RULES};

use crate::args::{ExplainArgs, RulesArgs};
use crate::ExitStatus;

#[derive(serde::Serialize)]
struct RuleEntry {
    code: &'static str,
    name: &'static str,
    layer: &'static str,
    severity: &'static str,
    /// Every severity its findings can have, highest first (the default among them).
    severities: Vec<&'static str>,
    fix: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pss: Option<&'static str>,
}

pub(crate) fn list(args: &RulesArgs, out: &mut dyn Write) -> Result<ExitStatus> {
    if args.json {
        let entries: Vec<_> = RULES
            .iter()
            .map(|rule| RuleEntry {
                code: rule.code,
                name: rule.meta.name,
                layer: rule.meta.layer.as_str(),
                severity: rule.meta.severity.as_str(),
                severities: rule
                    .meta
                    .severities()
                    .into_iter()
                    .map(|severity| severity.as_str())
                    .collect(),
                fix: rule.meta.fix_title,
                pss: rule.meta.pss.map(|level| level.as_str()),
            })
            .collect();
        serde_json::to_writer_pretty(&mut *out, &entries)?;
        writeln!(out)?;
        return Ok(ExitStatus::Clean);
    }
    let width = RULES
        .iter()
        .map(|rule| rule.meta.name.len())
        .max()
        .unwrap_or(0);
    for rule in RULES {
        // A rule that grades its cases names the others after its default: `medium (also low)`.
        let others: Vec<&str> = rule
            .meta
            .severities()
            .into_iter()
            .filter(|&severity| severity != rule.meta.severity)
            .map(|severity| severity.as_str())
            .collect();
        let severity = if others.is_empty() {
            rule.meta.severity.to_string()
        } else {
            format!("{} (also {})", rule.meta.severity, others.join(", "))
        };
        writeln!(
            out,
            "{code}  {name:width$}  {layer:12}  {severity}",
            code = rule.code,
            name = rule.meta.name,
            layer = rule.meta.layer.as_str(),
        )?;
    }
    Ok(ExitStatus::Clean)
}

pub(crate) fn explain(args: &ExplainArgs, out: &mut dyn Write) -> Result<ExitStatus> {
    let Some(rule) = find_rule(&args.rule) else {
        bail!("unknown rule `{}` (see `leastpriv rules`)", args.rule);
    };
    write!(out, "{}", rule_markdown(rule))?;
    Ok(ExitStatus::Clean)
}
