//! Unit-test support: containers built in Rust, each value on its own line of a synthetic source, so
//! a test can say "finding on line 3" without a front-end.

use leastpriv_model::{Container, Runtime, SourceKind, Stage, StageBase};
use leastpriv_source::{FileId, SourceDb, Span, Spanned, TextRange};

use crate::{check, find_rule, PssLevel, RuleSelection, Severity};

/// Lines in the synthetic source.
const LINES: usize = 200;

/// A synthetic source of numbered lines to hang spans on.
pub(crate) struct Source {
    db: SourceDb,
    file: FileId,
}

/// One finding, reduced to what tests compare.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Found {
    pub(crate) line: u32,
    pub(crate) severity: Severity,
    pub(crate) message: String,
    pub(crate) fix: String,
    pub(crate) pss: Option<PssLevel>,
    /// The 1-based lines of the related places.
    pub(crate) related: Vec<u32>,
}

impl Source {
    pub(crate) fn new() -> Self {
        let db = SourceDb::new();
        let file = db.add("test.yaml", "x\n".repeat(LINES));
        Self { db, file }
    }

    /// The span of 1-based `line`.
    pub(crate) fn span(&self, line: u32) -> Span {
        let start = (line as usize - 1) * 2;
        Span::new(self.file, TextRange::new(start, start + 1))
    }

    /// `value` written on `line`.
    pub(crate) fn at<T>(&self, line: u32, value: T) -> Spanned<T> {
        Spanned::new(value, self.span(line))
    }

    /// A container of `kind` whose origin is line 1, with `runtime`.
    pub(crate) fn container(&self, kind: SourceKind, runtime: Runtime) -> Container {
        let mut container = Container::new("test", kind, self.span(1));
        container.runtime = Some(runtime);
        container
    }

    /// A build stage `FROM base` with a `CMD` and nothing else, its `FROM` on line 10.
    pub(crate) fn stage(&self, base: StageBase) -> Stage {
        Stage {
            index: 0,
            name: None,
            from: self.span(10),
            base,
            platform: None,
            users: Vec::new(),
            env: Vec::new(),
            args: Vec::new(),
            runs: Vec::new(),
            copies: Vec::new(),
            exposed: Vec::new(),
            volumes: Vec::new(),
            workdir: None,
            onbuild_runs: Vec::new(),
            command: Some(self.span(12)),
        }
    }

    /// Runs rule `code` alone over `containers`.
    pub(crate) fn run(&self, code: &str, containers: &[Container]) -> Vec<Found> {
        let rule = find_rule(code).unwrap_or_else(|| panic!("no rule {code}"));
        let mut selection = RuleSelection::all();
        selection
            .select([rule.code])
            .unwrap_or_else(|error| panic!("{error}"));
        self.run_with(&selection, containers)
    }

    /// Runs `selection` over `containers`.
    pub(crate) fn run_with(
        &self,
        selection: &RuleSelection,
        containers: &[Container],
    ) -> Vec<Found> {
        check(&self.db, containers, selection)
            .into_iter()
            .map(|diagnostic| Found {
                line: self
                    .db
                    .get(diagnostic.span.file)
                    .line_column(diagnostic.span.range.start)
                    .line,
                severity: diagnostic.severity,
                message: diagnostic.message,
                fix: diagnostic.fix,
                pss: diagnostic.pss,
                related: diagnostic
                    .related
                    .iter()
                    .map(|(span, _)| self.db.get(span.file).line_column(span.range.start).line)
                    .collect(),
            })
            .collect()
    }

    /// Runs rule `code` over one container of `kind` and returns the lines it fired on.
    pub(crate) fn lines(&self, code: &str, kind: SourceKind, runtime: Runtime) -> Vec<u32> {
        self.run(code, &[self.container(kind, runtime)])
            .into_iter()
            .map(|found| found.line)
            .collect()
    }
}
