//! Character index to byte offset.
//!
//! The YAML parser counts positions in characters (Unicode scalar values); the rest of leastpriv
//! works in byte ranges. An ASCII text needs no table. Otherwise only the multi-byte characters are
//! recorded, so the table stays small for mostly-ASCII files and a lookup is a binary search.

/// Converts the parser's character indices into byte offsets of one text.
#[derive(Debug)]
pub(crate) struct CharOffsets {
    /// For every multi-byte character, in order: its character index and the extra bytes (beyond one
    /// per character) of the text up to and including it.
    multibyte: Vec<(usize, usize)>,
    len_bytes: usize,
}

impl CharOffsets {
    pub(crate) fn new(text: &str) -> Self {
        let mut multibyte = Vec::new();
        if !text.is_ascii() {
            let mut extra = 0;
            for (char_index, ch) in text.chars().enumerate() {
                let width = ch.len_utf8();
                if width > 1 {
                    extra += width - 1;
                    multibyte.push((char_index, extra));
                }
            }
        }
        Self {
            multibyte,
            len_bytes: text.len(),
        }
    }

    /// The byte offset of the character at `char_index` (the text's length past its end).
    pub(crate) fn byte(&self, char_index: usize) -> usize {
        // Multi-byte characters strictly before `char_index` shift it right.
        let before = self
            .multibyte
            .partition_point(|&(index, _)| index < char_index);
        let extra = before
            .checked_sub(1)
            .and_then(|last| self.multibyte.get(last))
            .map_or(0, |&(_, extra)| extra);
        (char_index + extra).min(self.len_bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_is_identity() {
        let offsets = CharOffsets::new("abc\r\ndef");
        assert_eq!(offsets.byte(0), 0);
        assert_eq!(offsets.byte(5), 5);
        assert_eq!(offsets.byte(100), 8);
    }

    #[test]
    fn every_character_maps_to_its_byte() {
        let text = "é: 日本\r\n😀x: ÿ\n";
        let offsets = CharOffsets::new(text);
        for (char_index, (byte, _)) in text.char_indices().enumerate() {
            assert_eq!(offsets.byte(char_index), byte, "char {char_index}");
        }
        assert_eq!(offsets.byte(text.chars().count()), text.len());
    }
}
