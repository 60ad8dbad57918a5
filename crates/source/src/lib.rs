//! Source text and positions.
//!
//! Every value leastpriv reads from a file keeps the place it came from, so that a finding can point at
//! the exact line and column a developer must change. This crate owns that bookkeeping and nothing else:
//!
//! - [`SourceDb`] holds each input file's text once per run and hands out [`FileId`]s; front-ends add
//!   files (a Compose file and the Dockerfile its `build:` names), reporters read them back.
//! - [`TextRange`] is a byte range into a file; a [`Span`] is a range in a given file; [`Spanned`] pairs
//!   a value with its span.
//! - [`LineIndex`] turns byte offsets into 1-based lines and columns, only when a reporter needs them.
//! - [`read`] reads the files an input names: only inside the audited paths, only regular files,
//!   bounded, never blocking.
//!
//! Positions are bytes in the data model and line/column only at the edge, as in ruff: a byte range
//! survives every transformation, and the conversion is done once per printed finding.
#![deny(missing_docs)]

mod line_index;
pub mod read;

use std::fmt;
use std::sync::{Arc, Mutex};

pub use line_index::{LineColumn, LineIndex};

/// A byte range `start..end` into a source file's text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct TextRange {
    /// First byte of the range.
    pub start: u32,
    /// One past the last byte of the range.
    pub end: u32,
}

impl TextRange {
    /// The range `start..end`. Reversed bounds are swapped rather than trusted.
    pub fn new(start: usize, end: usize) -> Self {
        let (start, end) = if start <= end {
            (start, end)
        } else {
            (end, start)
        };
        Self {
            start: u32::try_from(start).unwrap_or(u32::MAX),
            end: u32::try_from(end).unwrap_or(u32::MAX),
        }
    }

    /// An empty range at `offset`.
    pub fn empty(offset: usize) -> Self {
        Self::new(offset, offset)
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        (self.end - self.start) as usize
    }

    /// Whether the range covers no byte.
    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }

    /// The range shifted right by `offset` bytes: for positions found in a slice of a larger text.
    pub fn shifted(self, offset: usize) -> Self {
        Self::new(self.start as usize + offset, self.end as usize + offset)
    }

    /// The smallest range that covers both.
    pub fn cover(self, other: TextRange) -> Self {
        Self {
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }

    /// As a `Range<usize>` for slicing.
    pub fn to_range(self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }
}

/// Identifies one file in a [`SourceDb`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct FileId(u32);

impl FileId {
    /// The id's index, for diagnostics ordering.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// A byte range in one file: where a value was written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Span {
    /// The file.
    pub file: FileId,
    /// The bytes in it.
    pub range: TextRange,
}

impl Span {
    /// A span of `range` in `file`.
    pub fn new(file: FileId, range: TextRange) -> Self {
        Self { file, range }
    }
}

/// A value with the span it was read from.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Spanned<T> {
    /// The value, after whatever expansion the front-end applies.
    pub value: T,
    /// Where it was written.
    pub span: Span,
}

impl<T> Spanned<T> {
    /// Pairs `value` with `span`.
    pub fn new(value: T, span: Span) -> Self {
        Self { value, span }
    }

    /// Maps the value, keeping the span.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Spanned<U> {
        Spanned {
            value: f(self.value),
            span: self.span,
        }
    }

    /// Borrows the value, keeping the span.
    pub fn as_ref(&self) -> Spanned<&T> {
        Spanned {
            value: &self.value,
            span: self.span,
        }
    }
}

impl<T: fmt::Debug> fmt::Debug for Spanned<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:?} @{}..{}",
            self.value, self.span.range.start, self.span.range.end
        )
    }
}

/// What a text in the database stands for: a file the user has, or a text leastpriv made from
/// something that is not a file, so that a report can say what was audited (files, images,
/// containers, the daemon) and where each finding is.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Origin {
    /// A file: an input, or a file an input names (a Compose `build:` Dockerfile, an `include`).
    #[default]
    File,
    /// Part of an image (its config, as leastpriv prints it), named as the user named the image.
    Image(String),
    /// A running container of the live engine (`docker inspect` output), by name.
    Container(String),
    /// The live engine's daemon (`docker info`, its process, socket and configuration).
    Daemon,
}

/// One input file: its path as the user gave it, its text and its line index.
#[derive(Debug)]
pub struct SourceFile {
    path: String,
    text: Arc<str>,
    line_index: LineIndex,
    origin: Origin,
    regions: Vec<(TextRange, String)>,
}

impl SourceFile {
    /// The path as the user gave it (relative stays relative), or a pseudo-path such as `-` for stdin.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The file's full text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The text of `range`, or `""` when out of bounds.
    pub fn slice(&self, range: TextRange) -> &str {
        self.text.get(range.to_range()).unwrap_or("")
    }

    /// 1-based line and column of a byte offset.
    pub fn line_column(&self, offset: u32) -> LineColumn {
        self.line_index.line_column(&self.text, offset as usize)
    }

    /// The line index.
    pub fn line_index(&self) -> &LineIndex {
        &self.line_index
    }

    /// What the text stands for.
    pub fn origin(&self) -> &Origin {
        &self.origin
    }

    /// The words that say where `range` is in a text leastpriv made (`history entry 3 of 6 (layer
    /// 2 of 5)` in an image's config), and the range of that region: for a reader who does not
    /// have the text. `None` in a file, and outside every region.
    pub fn region(&self, range: TextRange) -> Option<(TextRange, &str)> {
        self.regions
            .iter()
            .filter(|(region, _)| {
                region.start <= range.start && range.start < region.end.max(region.start + 1)
            })
            .min_by_key(|(region, _)| region.len())
            .map(|(region, words)| (*region, words.as_str()))
    }
}

/// Every file read during one run. Cheap to share across threads; files are never removed, so a
/// [`FileId`] stays valid for the run.
#[derive(Debug, Default)]
pub struct SourceDb {
    files: Mutex<Vec<Arc<SourceFile>>>,
}

impl SourceDb {
    /// An empty database.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a file and returns its id. The same path may be added twice (stdin and a file named `-`
    /// cannot be told apart otherwise); callers that want one parse per path keep their own map.
    pub fn add(&self, path: impl Into<String>, text: impl Into<Arc<str>>) -> FileId {
        self.add_with_origin(path, text, Origin::File)
    }

    /// Adds a text that stands for something other than a file (see [`Origin`]).
    pub fn add_with_origin(
        &self,
        path: impl Into<String>,
        text: impl Into<Arc<str>>,
        origin: Origin,
    ) -> FileId {
        self.add_described(path, text, origin, Vec::new())
    }

    /// Adds a text leastpriv made, with the words that name each region of it (see
    /// [`SourceFile::region`]).
    pub fn add_described(
        &self,
        path: impl Into<String>,
        text: impl Into<Arc<str>>,
        origin: Origin,
        regions: Vec<(TextRange, String)>,
    ) -> FileId {
        let text = text.into();
        let file = SourceFile {
            path: path.into(),
            line_index: LineIndex::new(&text),
            text,
            origin,
            regions,
        };
        let mut files = self
            .files
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        files.push(Arc::new(file));
        FileId(u32::try_from(files.len() - 1).unwrap_or(u32::MAX))
    }

    /// The file with `id`.
    ///
    /// # Panics
    /// When `id` comes from another database: ids are only ever made by [`SourceDb::add`].
    pub fn get(&self, id: FileId) -> Arc<SourceFile> {
        let files = self
            .files
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        Arc::clone(&files[id.index()])
    }

    /// The text of a span.
    pub fn slice(&self, span: Span) -> String {
        self.get(span.file).slice(span.range).to_owned()
    }

    /// Every file added so far, in the order added.
    pub fn files(&self) -> Vec<Arc<SourceFile>> {
        self.files
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_resolve_to_the_text_they_cover() {
        let db = SourceDb::new();
        let id = db.add("Dockerfile", "FROM alpine\nUSER root\n");
        let span = Span::new(id, TextRange::new(17, 21));
        assert_eq!(db.slice(span), "root");
        assert_eq!(
            db.get(id).line_column(17),
            LineColumn { line: 2, column: 6 }
        );
    }

    #[test]
    fn reversed_ranges_are_normalised() {
        assert_eq!(TextRange::new(5, 2), TextRange::new(2, 5));
        assert_eq!(TextRange::new(2, 5).len(), 3);
    }
}

/// An input that could not be audited, or a part of one: unreadable, binary, malformed. Reported in the
/// `errors` of a run; every other input is still audited.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError {
    /// The path as the user gave it.
    pub path: String,
    /// Where in the file, when the file could be read.
    pub span: Option<Span>,
    /// What is wrong, lowercase, no trailing period.
    pub message: String,
    /// Other places that explain it ("the `[` opened here is never closed").
    pub related: Vec<(Span, String)>,
}

impl InputError {
    /// `path:line:column: message`, or `path: message` for a whole file, for plain-text logs and
    /// summaries (the reporters render errors themselves); control characters in the path escaped.
    pub fn located(&self, db: &SourceDb) -> String {
        let path = leastpriv_secrets::escape_control(&self.path);
        match self.span {
            Some(span) => {
                let at = db.get(span.file).line_column(span.range.start);
                format!("{path}:{}:{}: {}", at.line, at.column, self.message)
            }
            None => format!("{path}: {}", self.message),
        }
    }

    /// An error about a whole file (it could not be read, it is binary).
    pub fn file(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            span: None,
            message: masked(message.into()),
            related: Vec::new(),
        }
    }

    /// An error at a place in a file.
    pub fn at(path: impl Into<String>, span: Span, message: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            span: Some(span),
            message: masked(message.into()),
            related: Vec::new(),
        }
    }

    /// The error with another place that explains it.
    pub fn with_related(mut self, span: Span, note: impl Into<String>) -> Self {
        self.related.push((span, masked(note.into())));
        self
    }
}

/// A message with every secret the detectors know masked: a front-end's message may quote input.
fn masked(message: String) -> String {
    match leastpriv_secrets::mask(&message) {
        std::borrow::Cow::Borrowed(_) => message,
        std::borrow::Cow::Owned(masked) => masked,
    }
}
