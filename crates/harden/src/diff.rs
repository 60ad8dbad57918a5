//! Unified diffs of a file's planned changes, as `diff -u` and `git diff` print them.

use similar::TextDiff;

/// The unified diff from `old` to `new` of the file at `path` (`--- a/path`, `+++ b/path`, three
/// lines of context); empty when they are equal. Lines keep their own endings, so a CRLF file's
/// diff shows CRLF lines.
pub fn unified(path: &str, old: &str, new: &str) -> String {
    if old == new {
        return String::new();
    }
    TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{path}"), &format!("b/{path}"))
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shows_only_the_changed_lines_with_context() {
        let diff = unified("compose.yaml", "a\nb\nc\n", "a\nb\nx\nc\n");
        assert_eq!(
            diff,
            "--- a/compose.yaml\n+++ b/compose.yaml\n@@ -1,3 +1,4 @@\n a\n b\n+x\n c\n"
        );
        assert_eq!(unified("f", "same\n", "same\n"), "");
    }

    #[test]
    fn a_missing_final_newline_is_said() {
        let diff = unified("f", "a", "b");
        assert!(diff.contains("\\ No newline at end of file"), "{diff}");
    }
}
