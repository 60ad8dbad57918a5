//! `# leastpriv: ignore[LP101,LP202] reason` comments.
//!
//! The comment works the same in every syntax leastpriv reads (Dockerfile, YAML, shell all use `#`): on
//! the line of the finding, or alone on the line above it. `ignore` with no list, or `ignore[all]`,
//! suppresses every rule there. The reason is free text, kept for the reader.

use std::collections::HashMap;
use std::sync::Arc;

use leastpriv_source::{FileId, SourceDb, SourceFile};

use crate::Diagnostic;

const MARKER: &str = "leastpriv: ignore";

/// Which codes are suppressed on which 0-based lines of each file.
pub(crate) struct Suppressions<'a> {
    db: &'a SourceDb,
    cache: std::cell::RefCell<HashMap<FileId, Arc<FileSuppressions>>>,
}

#[derive(Default)]
struct FileSuppressions {
    /// 0-based line → codes (`None`: every rule).
    lines: HashMap<usize, Option<Vec<String>>>,
}

impl<'a> Suppressions<'a> {
    pub(crate) fn new(db: &'a SourceDb) -> Self {
        Self {
            db,
            cache: Default::default(),
        }
    }

    pub(crate) fn suppresses(&self, diagnostic: &Diagnostic) -> bool {
        let file = self.file(diagnostic.span.file);
        let source = self.db.get(diagnostic.span.file);
        let line = source
            .line_index()
            .line_of(diagnostic.span.range.start as usize);
        let matches = |line: usize| match file.lines.get(&line) {
            Some(None) => true,
            Some(Some(codes)) => codes.iter().any(|code| {
                code.eq_ignore_ascii_case(diagnostic.rule.code) || code == diagnostic.rule.meta.name
            }),
            None => false,
        };
        matches(line) || (line > 0 && is_comment_only(&source, line - 1) && matches(line - 1))
    }

    fn file(&self, id: FileId) -> Arc<FileSuppressions> {
        let mut cache = self.cache.borrow_mut();
        Arc::clone(
            cache
                .entry(id)
                .or_insert_with(|| Arc::new(parse(&self.db.get(id)))),
        )
    }
}

fn is_comment_only(source: &SourceFile, line: usize) -> bool {
    let range = source.line_index().line_range(source.text(), line);
    source.text()[range].trim_start().starts_with('#')
}

fn parse(source: &SourceFile) -> FileSuppressions {
    let text = source.text();
    let mut found = FileSuppressions::default();
    if !text.contains(MARKER) {
        return found;
    }
    for line in 0..source.line_index().line_count() {
        let content = &text[source.line_index().line_range(text, line)];
        let Some(hash) = content.find('#') else {
            continue;
        };
        let comment = content[hash + 1..].trim_start();
        let Some(rest) = comment.strip_prefix(MARKER) else {
            continue;
        };
        let codes = rest
            .strip_prefix('[')
            .and_then(|list| list.split_once(']'))
            .map(|(list, _)| {
                list.split(',')
                    .map(|code| code.trim().to_owned())
                    .filter(|code| !code.is_empty())
                    .collect::<Vec<_>>()
            });
        let codes = match codes {
            Some(codes) if codes.iter().any(|code| code.eq_ignore_ascii_case("all")) => None,
            other => other,
        };
        found.lines.insert(line, codes);
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_lists_and_blanket_ignores() {
        let db = SourceDb::new();
        let id = db.add(
            "Dockerfile",
            "FROM a\n# leastpriv: ignore[LP101, LP201] runs as root on purpose\nUSER root # leastpriv: ignore\n",
        );
        let parsed = parse(&db.get(id));
        assert_eq!(
            parsed.lines.get(&1),
            Some(&Some(vec!["LP101".into(), "LP201".into()]))
        );
        assert_eq!(parsed.lines.get(&2), Some(&None));
        assert!(!parsed.lines.contains_key(&0));
    }
}
