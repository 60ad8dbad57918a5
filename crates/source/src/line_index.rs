//! Byte offset to line and column.
//!
//! Both are lookups, never scans: a finding on a one-line 8 MB JSON file must not count the
//! characters before it (thousands of findings on one line would make that quadratic). Columns count
//! characters, so the index records where each multi-byte character is; an ASCII text records none.

/// 1-based line and column. Columns count Unicode scalar values, as editors and SARIF viewers do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct LineColumn {
    /// 1-based line.
    pub line: u32,
    /// 1-based column, in characters.
    pub column: u32,
}

/// The byte offset of every line start of a text, and of every multi-byte character.
#[derive(Debug, Clone)]
pub struct LineIndex {
    line_starts: Vec<u32>,
    /// For each multi-byte character, in order: its byte offset and the bytes beyond one per
    /// character of the text up to and including it.
    multibyte: Vec<(u32, u32)>,
}

impl LineIndex {
    /// Indexes `text`. `\n` ends a line; a `\r` before it belongs to the line.
    pub fn new(text: &str) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(
            text.bytes()
                .enumerate()
                .filter(|&(_, byte)| byte == b'\n')
                .map(|(i, _)| u32::try_from(i + 1).unwrap_or(u32::MAX)),
        );
        let mut multibyte = Vec::new();
        if !text.is_ascii() {
            let mut extra = 0u32;
            for (offset, ch) in text.char_indices() {
                let width = ch.len_utf8();
                if width > 1 {
                    extra = extra.saturating_add(u32::try_from(width - 1).unwrap_or(3));
                    multibyte.push((u32::try_from(offset).unwrap_or(u32::MAX), extra));
                }
            }
        }
        Self {
            line_starts,
            multibyte,
        }
    }

    /// Bytes beyond one per character in the text before `offset`.
    fn extra_before(&self, offset: usize) -> usize {
        let offset = u32::try_from(offset).unwrap_or(u32::MAX);
        let before = self.multibyte.partition_point(|&(start, _)| start < offset);
        before
            .checked_sub(1)
            .map_or(0, |last| self.multibyte[last].1 as usize)
    }

    /// Number of lines (a final newline does not start a new one for this count).
    pub fn line_count(&self) -> usize {
        self.line_starts.len()
    }

    /// The 0-based line that holds `offset`.
    pub fn line_of(&self, offset: usize) -> usize {
        let offset = u32::try_from(offset).unwrap_or(u32::MAX);
        match self.line_starts.binary_search(&offset) {
            Ok(line) => line,
            Err(next) => next - 1,
        }
    }

    /// Byte range of 0-based `line`, without its line terminator.
    pub fn line_range(&self, text: &str, line: usize) -> std::ops::Range<usize> {
        let start = self
            .line_starts
            .get(line)
            .map_or(text.len(), |&s| s as usize);
        let mut end = self
            .line_starts
            .get(line + 1)
            .map_or(text.len(), |&s| s as usize);
        let bytes = text.as_bytes();
        while end > start && matches!(bytes[end - 1], b'\n' | b'\r') {
            end -= 1;
        }
        start..end
    }

    /// 1-based line and column of `offset` in `text` (the text this index was built from).
    pub fn line_column(&self, text: &str, offset: usize) -> LineColumn {
        let offset = offset.min(text.len());
        let line = self.line_of(offset);
        let start = (self.line_starts[line] as usize).min(offset);
        let column = (offset - start) - (self.extra_before(offset) - self.extra_before(start));
        LineColumn {
            line: u32::try_from(line + 1).unwrap_or(u32::MAX),
            column: u32::try_from(column + 1).unwrap_or(u32::MAX),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_count_characters_not_bytes() {
        let text = "ENV A=é\nUSER x\n";
        let index = LineIndex::new(text);
        assert_eq!(
            index.line_column(text, 0),
            LineColumn { line: 1, column: 1 }
        );
        assert_eq!(
            index.line_column(text, 9),
            LineColumn { line: 2, column: 1 }
        );
        assert_eq!(
            index.line_column(text, 14),
            LineColumn { line: 2, column: 6 }
        );
        // `é` is two bytes: the newline after it is column 8, not 9.
        assert_eq!(
            index.line_column(text, 8),
            LineColumn { line: 1, column: 8 }
        );
    }

    #[test]
    fn every_character_of_a_mixed_text_has_its_column() {
        let text = "a\u{e9}\u{65e5}\u{1F600}b\nx\u{e9}y\n";
        let index = LineIndex::new(text);
        for (offset, _) in text.char_indices() {
            let line_start = text[..offset].rfind('\n').map_or(0, |newline| newline + 1);
            let expected = text[line_start..offset].chars().count() + 1;
            assert_eq!(
                index.line_column(text, offset).column as usize,
                expected,
                "offset {offset}"
            );
        }
    }

    #[test]
    fn line_ranges_exclude_terminators() {
        let text = "a\r\nbc\n";
        let index = LineIndex::new(text);
        assert_eq!(&text[index.line_range(text, 0)], "a");
        assert_eq!(&text[index.line_range(text, 1)], "bc");
    }
}
