//! Text assembled from pieces of a file, with a map from every byte back to the file.
//!
//! A Dockerfile instruction is read as one logical line: its physical lines are joined after the
//! escape character and the newline are removed, and comment lines inside the continuation are
//! dropped. The shell then sees that joined text, and quote removal turns `'a b'` into `a b`. Each step
//! builds a [`Mapped`] from the previous one, so a word found anywhere is still located in the
//! original file, byte for byte.

use leastpriv_source::TextRange;

/// A text and, for every maximal run of bytes copied from one contiguous place, where it came from.
#[derive(Clone, Debug, Default)]
pub(crate) struct Mapped {
    text: String,
    /// `(offset in text, offset in file)` where each run starts; sorted, the first at text offset 0.
    pieces: Vec<(u32, u32)>,
}

impl Mapped {
    /// An empty text.
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// The assembled text.
    pub(crate) fn text(&self) -> &str {
        &self.text
    }

    /// Appends `file[range]`, which lies at `range` in the file.
    pub(crate) fn push_file(&mut self, file: &str, range: std::ops::Range<usize>) {
        let Some(slice) = file.get(range.clone()) else {
            return;
        };
        self.push_at(slice, range.start);
    }

    /// Appends `text` as if it were written at `file_offset` (a newline the parser adds, a run of a
    /// larger mapped text).
    fn push_at(&mut self, text: &str, file_offset: usize) {
        if text.is_empty() {
            return;
        }
        let here = self.text.len();
        let continues = self.pieces.last().is_some_and(|&(text_start, file_start)| {
            file_start as usize + (here - text_start as usize) == file_offset
        });
        if !continues {
            self.pieces.push((to_u32(here), to_u32(file_offset)));
        }
        self.text.push_str(text);
    }

    /// Appends `source.text()[range]`, keeping the source's map.
    pub(crate) fn push_mapped(&mut self, source: &Mapped, range: std::ops::Range<usize>) {
        let Some(slice) = source.text.get(range.clone()) else {
            return;
        };
        let first = source.piece_index(range.start);
        let mut start = range.start;
        for index in first..source.pieces.len() {
            if start >= range.end {
                break;
            }
            let piece_end = source
                .pieces
                .get(index + 1)
                .map_or(source.text.len(), |&(text_start, _)| text_start as usize);
            let end = piece_end.min(range.end);
            let part = &slice[start - range.start..end - range.start];
            self.push_at(part, source.to_file(start));
            start = end;
        }
    }

    /// The mapped text of `value`, a word read from `source` with quotes and escapes removed. `runs`
    /// gives where each run of `value` starts and the source offset it was read from; a run that is
    /// not a verbatim copy of the source (a decoded escape) maps to where it was written.
    pub(crate) fn from_runs(source: &Mapped, value: &str, runs: &[(u32, u32)]) -> Mapped {
        let mut mapped = Mapped::new();
        for (index, &(value_start, source_start)) in runs.iter().enumerate() {
            let value_start = value_start as usize;
            let source_start = source_start as usize;
            let value_end = runs
                .get(index + 1)
                .map_or(value.len(), |&(next, _)| next as usize);
            let Some(part) = value.get(value_start..value_end) else {
                continue;
            };
            let source_range = source_start..source_start + part.len();
            if source.text.get(source_range.clone()) == Some(part) {
                mapped.push_mapped(source, source_range);
            } else {
                mapped.push_at(part, source.to_file(source_start));
            }
        }
        mapped
    }

    /// The index of the piece that holds text offset `offset`.
    fn piece_index(&self, offset: usize) -> usize {
        let offset = to_u32(offset);
        match self
            .pieces
            .binary_search_by_key(&offset, |&(text_start, _)| text_start)
        {
            Ok(index) => index,
            Err(next) => next.saturating_sub(1),
        }
    }

    /// The file offset of text offset `offset` (the end of the text maps just past its last byte).
    pub(crate) fn to_file(&self, offset: usize) -> usize {
        if self.pieces.is_empty() {
            return 0;
        }
        if offset >= self.text.len() && offset > 0 {
            return self.to_file(self.text.len() - 1) + 1;
        }
        let (text_start, file_start) = self.pieces[self.piece_index(offset)];
        file_start as usize + (offset - text_start as usize)
    }

    /// The file range that text range `range` covers: from its first byte to just past its last.
    pub(crate) fn range(&self, range: std::ops::Range<usize>) -> TextRange {
        let start = self.to_file(range.start);
        if range.end <= range.start {
            return TextRange::empty(start);
        }
        TextRange::new(start, self.to_file(range.end - 1) + 1)
    }
}

fn to_u32(value: usize) -> u32 {
    u32::try_from(value).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_across_joined_lines() {
        let file = "RUN a \\\n  b\n";
        let mut line = Mapped::new();
        line.push_file(file, 0..6);
        line.push_file(file, 8..11);
        assert_eq!(line.text(), "RUN a   b");
        let b = line.text().find('b').unwrap();
        assert_eq!(line.to_file(b), 10);
        assert_eq!(line.range(4..9), TextRange::new(4, 11));
        assert_eq!(line.range(0..line.text().len()), TextRange::new(0, 11));
    }

    #[test]
    fn push_mapped_composes_maps() {
        let file = "xx ab \\\ncd";
        let mut line = Mapped::new();
        line.push_file(file, 3..6);
        line.push_file(file, 8..10);
        assert_eq!(line.text(), "ab cd");
        let mut word = Mapped::new();
        word.push_mapped(&line, 1..4);
        assert_eq!(word.text(), "b c");
        assert_eq!(word.to_file(0), 4);
        assert_eq!(word.to_file(2), 8);
        assert_eq!(word.range(0..3), TextRange::new(4, 9));
    }

    #[test]
    fn contiguous_pushes_merge() {
        let file = "abcdef";
        let mut text = Mapped::new();
        text.push_file(file, 0..2);
        text.push_file(file, 2..4);
        assert_eq!(text.pieces.len(), 1);
        assert_eq!(text.range(1..4), TextRange::new(1, 4));
    }

    #[test]
    fn empty_text_maps_to_zero() {
        let text = Mapped::new();
        assert_eq!(text.to_file(3), 0);
        assert_eq!(text.range(0..0), TextRange::empty(0));
    }
}
