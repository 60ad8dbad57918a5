//! Reporters: they print a finished [`Report`] in one format and never judge.
//!
//! One file per `--format`: [`json`] is the stable machine contract; the others are views of the same
//! data. Reporters write to any `io::Write`; line and column are computed here from byte spans, once
//! per printed finding. No reporter prints a secret's value: rules put only names and redactions in
//! messages, quoted source is masked by the detectors that drive the secrets rules
//! ([`leastpriv_secrets::mask`]), values that came from secret-named variables are masked wherever
//! they appear ([`Report::secrets`]), and every printed path has its control characters escaped.

pub mod github;
pub mod human;
pub mod json;
mod masked;
pub mod sarif;
#[cfg(test)]
mod test_support;

use std::collections::BTreeSet;

use leastpriv_rules::{Diagnostic, Layer, Severity};
use leastpriv_secrets::{escape_control, KnownSecrets};
use leastpriv_source::{InputError, LineColumn, Origin, SourceDb, Span};

/// Everything one run found.
pub struct Report<'a> {
    /// The sources, for paths, positions and snippets.
    pub db: &'a SourceDb,
    /// The findings, sorted.
    pub diagnostics: &'a [Diagnostic],
    /// Inputs (or parts) that could not be audited.
    pub errors: &'a [InputError],
    /// What was audited.
    pub audited: Audited,
    /// Values known to be secrets by where they came from, masked in everything printed.
    pub secrets: &'a KnownSecrets,
}

/// How many of each kind of thing a run audited (or, from [`Report::with_findings`], how many of
/// them have findings).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Audited {
    /// Files: inputs, and the files they name (a Compose `build:` Dockerfile, an `include`).
    pub files: usize,
    /// Images: in archives, OCI layouts and the local engine.
    pub images: usize,
    /// Running containers of the live engine.
    pub containers: usize,
    /// Live engines' daemons.
    pub daemons: usize,
}

impl Audited {
    /// Whether nothing at all was audited.
    pub fn is_empty(&self) -> bool {
        *self == Audited::default()
    }
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
            path: escape_control(file.path()).into_owned(),
            start: file.line_column(span.range.start),
            end: file.line_column(span.range.end),
        }
    }

    /// `text` with every value of [`Report::secrets`] masked: for messages, fixes and notes, which
    /// may carry a value interpolated from a secret-named variable.
    pub fn scrub<'t>(&self, text: &'t str) -> std::borrow::Cow<'t, str> {
        self.secrets.scrub(text)
    }

    /// Where `span` is, in words, when it is in a text leastpriv made rather than a file (`history
    /// entry 3 of 6 (layer 2 of 5)` in an image's config).
    pub fn in_words(&self, span: Span) -> Option<String> {
        let file = self.db.get(span.file);
        file.region(span.range).map(|(_, words)| words.to_owned())
    }

    /// How many of the audited files, images, containers and daemons have a finding: each finding
    /// counts for the one its place is in.
    pub fn with_findings(&self) -> Audited {
        let mut units = BTreeSet::new();
        for diagnostic in self.diagnostics {
            let file = self.db.get(diagnostic.span.file);
            let key = match file.origin() {
                Origin::File => (0, normalized(file.path())),
                Origin::Image(name) => (1, name.clone()),
                Origin::Container(name) => (2, name.clone()),
                Origin::Daemon => (3, String::new()),
            };
            units.insert(key);
        }
        let count = |kind: u8| units.iter().filter(|(k, _)| *k == kind).count();
        Audited {
            files: count(0),
            images: count(1),
            containers: count(2),
            daemons: count(3),
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

/// A path without `.` components, so `a/./Dockerfile` and `a/Dockerfile` count once.
pub fn normalized(path: &str) -> String {
    let path = std::path::Path::new(path);
    let parts: std::path::PathBuf = path
        .components()
        .filter(|part| !matches!(part, std::path::Component::CurDir))
        .collect();
    parts.display().to_string()
}
