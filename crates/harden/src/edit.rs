//! Text edits at byte ranges, and applying a set of them.
//!
//! Fixers never rewrite a document: each change is an [`Edit`] of the bytes of one node, so every byte
//! outside the edited ranges (comments, quoting, key order, anchors, line endings) stays as written.
//! A fix is a group of edits applied together or not at all; [`apply`] keeps the first of two
//! overlapping fixes and hands the other back, to be planned again on the new text in the next pass
//! (as ruff applies its fixes).

use std::cmp::Reverse;
use std::ops::Range;

/// Replace the bytes `range` of a text with `text` (an insertion when the range is empty, a deletion
/// when the text is).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Edit {
    /// The bytes replaced.
    pub range: Range<usize>,
    /// What replaces them.
    pub text: String,
}

impl Edit {
    /// Inserts `text` at `offset`.
    pub fn insert(offset: usize, text: impl Into<String>) -> Self {
        Self {
            range: offset..offset,
            text: text.into(),
        }
    }

    /// Replaces `range` with `text`.
    pub fn replace(range: Range<usize>, text: impl Into<String>) -> Self {
        Self {
            range,
            text: text.into(),
        }
    }

    /// Deletes `range`.
    pub fn delete(range: Range<usize>) -> Self {
        Self {
            range,
            text: String::new(),
        }
    }

    /// Whether two edits touch the same bytes. Insertions at one offset do not: they are made in the
    /// order given (new keys appended at a mapping's end, one after the other), and neither does an
    /// insertion at the edge of a replaced range.
    fn overlaps(&self, other: &Edit) -> bool {
        self.range.start < other.range.end && other.range.start < self.range.end
    }
}

/// The result of applying fixes (groups of edits) to a text.
#[derive(Debug)]
pub struct Applied {
    /// The new text.
    pub text: String,
    /// The indices of the fixes applied, in the order given.
    pub applied: Vec<usize>,
    /// The indices of the fixes left out because one of their edits overlaps an applied fix's (or
    /// falls outside the text): plan them again on [`Applied::text`].
    pub conflicting: Vec<usize>,
}

/// How deeply an insertion's new lines nest: their indentation, and whether they start a sequence
/// item (`- x`). Insertions at one offset are made deepest first, then in the order given: at the
/// end of a block, a nested node's new lines (an item appended to a sequence, a key added to a nested
/// mapping) must come before its parent's (a key added after it). Text without a line break (a
/// Dockerfile's words, a flow collection's items) has no nesting and keeps its order.
fn nesting(edit: &Edit) -> (usize, bool) {
    if !edit.range.is_empty() {
        return (0, false);
    }
    let Some(line) = edit
        .text
        .strip_prefix("\r\n")
        .or_else(|| edit.text.strip_prefix('\n'))
    else {
        return (0, false);
    };
    let content = line.trim_start_matches(' ');
    (line.len() - content.len(), content.starts_with('-'))
}

/// Applies every fix (a group of edits made together or not at all) whose edits overlap neither each
/// other nor an earlier applied fix's, in the order given, so that offsets of the original text stay
/// valid. Edits outside the text or not on character boundaries are refused rather than trusted.
pub fn apply(text: &str, fixes: &[&[Edit]]) -> Applied {
    let mut accepted: Vec<&Edit> = Vec::new();
    let mut applied = Vec::new();
    let mut conflicting = Vec::new();
    for (index, edits) in fixes.iter().enumerate() {
        let fits = edits.iter().enumerate().all(|(i, edit)| {
            edit.range.start <= edit.range.end
                && edit.range.end <= text.len()
                && text.is_char_boundary(edit.range.start)
                && text.is_char_boundary(edit.range.end)
                && !accepted.iter().any(|other| other.overlaps(edit))
                && !edits[..i].iter().any(|other| other.overlaps(edit))
        });
        if fits {
            accepted.extend(edits.iter());
            applied.push(index);
        } else {
            conflicting.push(index);
        }
    }
    accepted.sort_by_key(|edit| (edit.range.start, edit.range.end, Reverse(nesting(edit))));
    let added: usize = accepted.iter().map(|edit| edit.text.len()).sum();
    let mut result = String::with_capacity(text.len() + added);
    let mut cursor = 0;
    for edit in &accepted {
        result.push_str(&text[cursor..edit.range.start]);
        result.push_str(&edit.text);
        cursor = edit.range.end;
    }
    result.push_str(&text[cursor..]);
    Applied {
        text: result,
        applied,
        conflicting,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one_each(edits: &[Edit]) -> Vec<&[Edit]> {
        edits.iter().map(std::slice::from_ref).collect()
    }

    #[test]
    fn applies_edits_in_any_order() {
        let edits = [
            Edit::replace(8..9, "3"),
            Edit::insert(0, "# x\n"),
            Edit::delete(0..5),
        ];
        let applied = apply("a: 1\nb: 2\n", &one_each(&edits));
        assert_eq!(applied.text, "# x\nb: 3\n");
        assert_eq!(applied.applied, vec![0, 1, 2]);
        assert!(applied.conflicting.is_empty());
    }

    #[test]
    fn overlapping_fixes_wait_for_the_next_pass() {
        let edits = [
            Edit::replace(1..4, "X"),
            Edit::replace(3..5, "Y"),
            Edit::insert(2, "Z"),
        ];
        let applied = apply("abcdef", &one_each(&edits));
        assert_eq!(applied.text, "aXef");
        assert_eq!(applied.conflicting, vec![1, 2]);
    }

    #[test]
    fn a_fix_is_applied_whole_or_not_at_all() {
        let first = [Edit::replace(0..1, "A")];
        let second = [Edit::replace(2..3, "C"), Edit::replace(0..1, "a")];
        let applied = apply("abc", &[&first, &second]);
        assert_eq!(applied.text, "Abc");
        assert_eq!(applied.conflicting, vec![1]);
    }

    #[test]
    fn insertions_at_one_offset_keep_their_order_and_edges_do_not_conflict() {
        let edits = [
            Edit::insert(1, "x"),
            Edit::insert(1, "y"),
            Edit::replace(1..2, "B"),
            Edit::insert(2, "z"),
        ];
        let applied = apply("abc", &one_each(&edits));
        assert_eq!(applied.text, "axyBzc");
        assert!(applied.conflicting.is_empty());
    }

    #[test]
    fn insertions_at_one_offset_go_deepest_first() {
        let edits = [
            Edit::insert(3, "\n  key: v"),
            Edit::insert(3, "\n  - item"),
            Edit::insert(3, "\n    nested: v"),
        ];
        let applied = apply("a:\n", &one_each(&edits));
        assert_eq!(applied.text, "a:\n\n    nested: v\n  - item\n  key: v");
    }

    #[test]
    fn edits_outside_the_text_or_inside_a_character_are_refused() {
        let edits = [Edit::insert(1, "x"), Edit::delete(0..9)];
        let applied = apply("é", &one_each(&edits));
        assert_eq!(applied.text, "é");
        assert_eq!(applied.conflicting, vec![0, 1]);
    }
}
