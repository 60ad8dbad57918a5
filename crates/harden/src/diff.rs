//! Unified diffs of a file's planned changes, as `diff -u` and `git diff` print them.

use leastpriv_model::Sensitive;
use similar::TextDiff;

/// Secrets shorter than this are not masked: masking every `1` or `db` would garble the diff, and
/// no real credential is that short.
const MIN_MASKED_LEN: usize = 4;

/// The unified diff from `old` to `new` of the file at `path` (`--- a/path`, `+++ b/path`, three
/// lines of context); empty when they are equal. Lines keep their own endings, so a CRLF file's
/// diff shows CRLF lines.
pub fn unified(path: &str, old: &str, new: &str) -> String {
    if old == new {
        return String::new();
    }
    // Patience anchors on the lines that occur once on each side (a manifest's names, a service's
    // keys) and diffs between them: harden's changes are many small hunks in a large file, where
    // Myers' O((N+M)·D) cost grows with the number of changed lines.
    TextDiff::configure()
        .algorithm(similar::Algorithm::Patience)
        .diff_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{path}"), &format!("b/{path}"))
        .to_string()
}

/// [`unified`], with every occurrence of each secret value in either text masked (`*` for each
/// byte) before diffing: a diff quotes removed lines, and a removed line may hold the literal secret
/// harden moved out.
pub fn unified_masked(path: &str, old: &str, new: &str, secrets: &[Sensitive]) -> String {
    if old == new {
        return String::new();
    }
    let mask = |text: &str| {
        secrets
            .iter()
            .map(Sensitive::expose)
            .filter(|value| value.len() >= MIN_MASKED_LEN)
            .fold(text.to_owned(), |text, value| {
                text.replace(value, &"*".repeat(value.len()))
            })
    };
    unified(path, &mask(old), &mask(new))
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
    fn secret_values_are_masked_on_both_sides() {
        let secret = [Sensitive::new("hunter2-planted")];
        let diff = unified_masked(
            "f",
            "PASSWORD: hunter2-planted\n",
            "PASSWORD_FILE: /run/secrets/p\n",
            &secret,
        );
        assert!(!diff.contains("hunter2"), "{diff}");
        assert!(diff.contains("-PASSWORD: ***************"), "{diff}");
    }

    #[test]
    fn a_missing_final_newline_is_said() {
        let diff = unified("f", "a", "b");
        assert!(diff.contains("\\ No newline at end of file"), "{diff}");
    }
}
