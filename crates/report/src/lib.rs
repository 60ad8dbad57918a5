//! Reporters: they print a finished [`Report`] in one format and never judge.
//!
//! One file per `--format`: [`json`] is the stable machine contract; the others are views of the same
//! data. Reporters write to any `io::Write`; line and column are computed here from byte spans, once
//! per printed finding. No reporter ever sees a secret's value: rules put only names and redactions in
//! messages.

pub mod github;
pub mod human;
pub mod json;
mod redact;
pub mod sarif;
#[cfg(test)]
mod test_support;

use leastpriv_rules::{Diagnostic, Layer, Severity};
use leastpriv_source::{InputError, LineColumn, SourceDb, Span};

/// Everything one run found.
pub struct Report<'a> {
    /// The sources, for paths, positions and snippets.
    pub db: &'a SourceDb,
    /// The findings, sorted.
    pub diagnostics: &'a [Diagnostic],
    /// Inputs (or parts) that could not be audited.
    pub errors: &'a [InputError],
    /// How many files were audited.
    pub files_audited: usize,
}

/// A span resolved to a path and 1-based positions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The path as the user gave it.
    pub path: String,
    /// Start.
    pub start: LineColumn,
    /// End (exclusive column).
    pub end: LineColumn,
}

impl Report<'_> {
    /// Resolves a span to a location.
    pub fn locate(&self, span: Span) -> Location {
        let file = self.db.get(span.file);
        Location {
            path: file.path().to_owned(),
            start: file.line_column(span.range.start),
            end: file.line_column(span.range.end),
        }
    }

    /// Findings per severity, every severity listed.
    pub fn count_by_severity(&self) -> Vec<(Severity, usize)> {
        Severity::ALL
            .iter()
            .rev()
            .map(|&severity| {
                let count = self
                    .diagnostics
                    .iter()
                    .filter(|d| d.severity == severity)
                    .count();
                (severity, count)
            })
            .collect()
    }

    /// Findings per layer, every layer listed.
    pub fn count_by_layer(&self) -> Vec<(Layer, usize)> {
        Layer::ALL
            .iter()
            .map(|&layer| {
                let count = self
                    .diagnostics
                    .iter()
                    .filter(|d| d.rule.meta.layer == layer)
                    .count();
                (layer, count)
            })
            .collect()
    }
}
