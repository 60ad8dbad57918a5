//! `--format json`: the stable machine contract.
//!
//! ```json
//! {"findings": [{"rule", "name", "layer", "severity", "path", "line", "column", "end_line",
//!   "end_column", "message", "fix", "pss"?}],
//!  "errors": [{"path", "line", "column", "message", "related"?}],
//!  "summary": {"files", "images", "containers", "daemons", "with_findings": {"files", "images",
//!   "containers", "daemons"}, "findings", "errors", "by_severity": {…}, "by_layer": {…}}}
//! ```
//! Fields are only ever added, never renamed or removed. Lines and columns are 1-based; `line` and
//! `column` of an error are `null` when the whole file is at fault.

use leastpriv_secrets::escape_control;
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::io;

use serde::Serialize;

use crate::{Audited, Report};

#[derive(Serialize)]
struct Output<'a> {
    findings: Vec<Finding<'a>>,
    errors: Vec<Error<'a>>,
    summary: Summary,
}

#[derive(Serialize)]
struct Finding<'a> {
    rule: &'static str,
    name: &'static str,
    layer: &'static str,
    severity: &'static str,
    path: String,
    line: u32,
    column: u32,
    end_line: u32,
    end_column: u32,
    message: Cow<'a, str>,
    fix: Cow<'a, str>,
    /// Where the finding is, in words, when `path` is a text leastpriv made rather than a file
    /// (`history entry 3 of 6 (layer 2 of 5)` in an image's config).
    #[serde(skip_serializing_if = "Option::is_none")]
    location: Option<String>,
    /// The Pod Security Standards level that forbids it (`baseline`, `restricted`), when one does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pss: Option<&'static str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    related: Vec<Related<'a>>,
}

#[derive(Serialize)]
struct Related<'a> {
    path: String,
    line: u32,
    column: u32,
    message: Cow<'a, str>,
}

#[derive(Serialize)]
struct Error<'a> {
    path: Cow<'a, str>,
    line: Option<u32>,
    column: Option<u32>,
    message: Cow<'a, str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    related: Vec<Related<'a>>,
}

#[derive(Serialize)]
struct Summary {
    /// Files audited (inputs and the files they name).
    files: usize,
    /// Images audited.
    images: usize,
    /// Running containers of the live engine audited.
    containers: usize,
    /// Live daemons audited.
    daemons: usize,
    /// How many of each have a finding.
    with_findings: Audited,
    findings: usize,
    errors: usize,
    by_severity: BTreeMap<&'static str, usize>,
    by_layer: BTreeMap<&'static str, usize>,
}

/// Writes the report as one JSON document.
pub fn write(report: &Report<'_>, out: &mut dyn io::Write) -> io::Result<()> {
    let findings = report
        .diagnostics
        .iter()
        .map(|diagnostic| {
            let location = report.locate(diagnostic.span);
            Finding {
                rule: diagnostic.rule.code,
                name: diagnostic.rule.meta.name,
                layer: diagnostic.rule.meta.layer.as_str(),
                severity: diagnostic.severity.as_str(),
                path: location.path,
                line: location.start.line,
                column: location.start.column,
                end_line: location.end.line,
                end_column: location.end.column,
                message: report.scrub(&diagnostic.message),
                fix: report.scrub(&diagnostic.fix),
                location: report.in_words(diagnostic.span),
                pss: diagnostic.pss.map(|level| level.as_str()),
                related: diagnostic
                    .related
                    .iter()
                    .map(|(span, message)| {
                        let location = report.locate(*span);
                        Related {
                            path: location.path,
                            line: location.start.line,
                            column: location.start.column,
                            message: report.scrub(message),
                        }
                    })
                    .collect(),
            }
        })
        .collect();
    let errors = report
        .errors
        .iter()
        .map(|error| {
            let position = error.span.map(|span| report.locate(span).start);
            Error {
                path: escape_control(&error.path),
                line: position.map(|p| p.line),
                column: position.map(|p| p.column),
                message: report.scrub(error.message.as_str()),
                related: error
                    .related
                    .iter()
                    .map(|(span, message)| {
                        let location = report.locate(*span);
                        Related {
                            path: location.path,
                            line: location.start.line,
                            column: location.start.column,
                            message: report.scrub(message),
                        }
                    })
                    .collect(),
            }
        })
        .collect();
    let summary = Summary {
        files: report.audited.files,
        images: report.audited.images,
        containers: report.audited.containers,
        daemons: report.audited.daemons,
        with_findings: report.with_findings(),
        findings: report.diagnostics.len(),
        errors: report.errors.len(),
        by_severity: report
            .count_by_severity()
            .into_iter()
            .map(|(severity, count)| (severity.as_str(), count))
            .collect(),
        by_layer: report
            .count_by_layer()
            .into_iter()
            .map(|(layer, count)| (layer.as_str(), count))
            .collect(),
    };
    serde_json::to_writer_pretty(
        &mut *out,
        &Output {
            findings,
            errors,
            summary,
        },
    )?;
    writeln!(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{sample, FAKE_PASSWORD};

    #[test]
    fn snapshot() {
        let sample = sample();
        let mut out = Vec::new();
        write(&sample.report(), &mut out).unwrap();
        let output = String::from_utf8(out).unwrap();
        assert!(!output.contains(FAKE_PASSWORD));
        insta::assert_snapshot!(output);
    }
}
