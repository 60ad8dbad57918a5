//! `.dockerignore` as Docker reads it: moby's `ignorefile.ReadAll` and `patternmatcher`
//! (`MatchesOrParentMatches`), the code the classic builder, the CLI and BuildKit share.
//!
//! Why not a crate: the `ignore` crate (and `globset`, which it uses) implement `.gitignore`, and
//! `.dockerignore` differs where it matters here. A pattern without a slash matches only at the
//! context's root (`.env` does not exclude `app/.env`; in `.gitignore` it does), `*` never crosses
//! a `/`, an excluded directory's files can be taken back by a later `!` pattern, and `**` has
//! moby's own meaning (any number of directories, zero included, and a leading `**` that is
//! matched as a plain suffix). No published crate follows moby's rules exactly, so this is a
//! small port of them, tested on Docker's documented examples.
//!
//! The rules:
//! - a line starting with `#` is a comment (before any trimming); lines are trimmed; empty lines
//!   are skipped; a UTF-8 byte order mark on the first line is dropped;
//! - `!` starts an exception; the rest is cleaned as Go's `filepath.Clean` does (`./a//b/` → `a/b`,
//!   `a/../b` → `b`) and a leading `/` is removed;
//! - patterns are Go `filepath.Match` patterns (`*`, `?`, `[…]`, `[^…]`, `\` escapes) plus `**`;
//! - a path is excluded when the last pattern that matches it or one of its parent directories is
//!   not an exception.

use regex::Regex;

/// The patterns of one ignore file, in order.
#[derive(Debug)]
pub(crate) struct IgnoreRules {
    patterns: Vec<Pattern>,
    has_exceptions: bool,
}

#[derive(Debug)]
struct Pattern {
    exception: bool,
    matcher: Matcher,
}

/// moby's match types: the fast paths it takes instead of its regular expression, kept because
/// they decide (a leading `**` followed by plain text is matched as a suffix).
#[derive(Debug)]
pub(crate) enum Matcher {
    Exact(String),
    Prefix(String),
    Suffix(String),
    Regex(Regex),
}

impl IgnoreRules {
    /// The rules of an ignore file's text; `Err` with the reason when Docker would refuse the file
    /// (a lone `!`, a malformed pattern), and then refuse to build.
    pub(crate) fn parse(text: &str) -> Result<Self, String> {
        let mut patterns = Vec::new();
        for (number, line) in text.lines().enumerate() {
            let line = if number == 0 {
                line.strip_prefix('\u{feff}').unwrap_or(line)
            } else {
                line
            };
            if line.starts_with('#') {
                continue;
            }
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            let (exception, pattern) = match line.strip_prefix('!') {
                Some(rest) => (true, rest.trim()),
                None => (false, line),
            };
            if pattern.is_empty() {
                return Err(format!(
                    "line {}: illegal exclusion pattern `!`",
                    number + 1
                ));
            }
            let mut cleaned = clean(pattern);
            if cleaned.len() > 1 && cleaned.starts_with('/') {
                cleaned.remove(0);
            }
            let matcher = Matcher::compile(&cleaned)
                .map_err(|error| format!("line {}: bad pattern: {error}", number + 1))?;
            patterns.push(Pattern { exception, matcher });
        }
        let has_exceptions = patterns.iter().any(|pattern| pattern.exception);
        Ok(Self {
            patterns,
            has_exceptions,
        })
    }

    /// Whether a later `!` pattern may take back part of an excluded directory: then an excluded
    /// directory must still be listed.
    pub(crate) fn has_exceptions(&self) -> bool {
        self.has_exceptions
    }

    /// Whether `path` (relative to the context, `/`-separated, cleaned) is excluded: moby's
    /// `MatchesOrParentMatches`.
    pub(crate) fn excludes(&self, path: &str) -> bool {
        let parent = match path.rfind('/') {
            Some(at) => &path[..at],
            None => ".",
        };
        let mut matched = false;
        for pattern in &self.patterns {
            // An inclusion cannot change a match, nor an exception a non-match.
            if pattern.exception != matched {
                continue;
            }
            let mut hit = pattern.matcher.matches(path);
            if !hit && parent != "." {
                hit = parent
                    .match_indices('/')
                    .map(|(at, _)| &parent[..at])
                    .chain(std::iter::once(parent))
                    .any(|ancestor| pattern.matcher.matches(ancestor));
            }
            if hit {
                matched = !pattern.exception;
            }
        }
        matched
    }
}

impl Matcher {
    /// moby's `Pattern.compile`, with its separator `/`.
    pub(crate) fn compile(pattern: &str) -> Result<Self, String> {
        #[derive(PartialEq)]
        enum Kind {
            Exact,
            Prefix,
            Suffix,
            Regex,
        }
        let mut regex = String::from("^");
        let mut kind = Kind::Exact;
        let mut chars = pattern.chars().peekable();
        let mut index = 0;
        while let Some(ch) = chars.next() {
            match ch {
                '*' if chars.peek() == Some(&'*') => {
                    chars.next();
                    // `**/` is read as `**`.
                    if chars.peek() == Some(&'/') {
                        chars.next();
                    }
                    if chars.peek().is_none() {
                        // `**` at the end accepts everything, as in `.gitignore`.
                        if kind == Kind::Exact {
                            kind = Kind::Prefix;
                        } else {
                            regex.push_str(".*");
                            kind = Kind::Regex;
                        }
                    } else {
                        // Any number of directories, zero included.
                        regex.push_str("(.*/)?");
                        kind = Kind::Regex;
                    }
                    if index == 0 {
                        kind = Kind::Suffix;
                    }
                }
                '*' => {
                    regex.push_str("[^/]*");
                    kind = Kind::Regex;
                }
                '?' => {
                    regex.push_str("[^/]");
                    kind = Kind::Regex;
                }
                '.' | '+' | '(' | ')' | '|' | '{' | '}' | '$' => {
                    regex.push('\\');
                    regex.push(ch);
                }
                // An escaped character is matched as itself, as `filepath.Match` matches it.
                '\\' => {
                    kind = Kind::Regex;
                    regex.push('\\');
                    if let Some(next) = chars.next() {
                        regex.push(next);
                    }
                }
                '[' | ']' => {
                    regex.push(ch);
                    kind = Kind::Regex;
                }
                _ => regex.push(ch),
            }
            index += 1;
        }
        Ok(match kind {
            Kind::Exact => Matcher::Exact(pattern.to_owned()),
            Kind::Prefix => Matcher::Prefix(pattern[..pattern.len() - 2].to_owned()),
            Kind::Suffix => Matcher::Suffix(pattern[2..].to_owned()),
            Kind::Regex => {
                regex.push('$');
                Matcher::Regex(Regex::new(&regex).map_err(|error| {
                    // The regex crate's message quotes the pattern over lines: its last line says why.
                    error
                        .to_string()
                        .lines()
                        .last()
                        .unwrap_or_default()
                        .to_owned()
                })?)
            }
        })
    }

    /// moby's `Pattern.match`.
    pub(crate) fn matches(&self, path: &str) -> bool {
        match self {
            Matcher::Exact(pattern) => path == pattern,
            Matcher::Prefix(prefix) => path.starts_with(prefix.as_str()),
            Matcher::Suffix(suffix) => {
                path.ends_with(suffix.as_str())
                    || suffix
                        .strip_prefix('/')
                        .is_some_and(|suffix| path == suffix)
            }
            Matcher::Regex(regex) => regex.is_match(path),
        }
    }
}

/// Go's `filepath.Clean` on a `/`-separated path: repeated and trailing slashes, `.` and `..`
/// resolved lexically; `.` for an empty result.
pub(crate) fn clean(path: &str) -> String {
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => match parts.last() {
                Some(&last) if last != ".." => {
                    parts.pop();
                }
                _ if rooted => {}
                _ => parts.push(".."),
            },
            part => parts.push(part),
        }
    }
    let joined = parts.join("/");
    if rooted {
        format!("/{joined}")
    } else if joined.is_empty() {
        ".".to_owned()
    } else {
        joined
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn excluded(rules: &str, path: &str) -> bool {
        IgnoreRules::parse(rules)
            .expect("valid rules")
            .excludes(path)
    }

    #[test]
    fn cleans_as_go_does() {
        for (path, cleaned) in [
            ("", "."),
            (".", "."),
            ("./a//b/", "a/b"),
            ("a/../b", "b"),
            ("../a", "../a"),
            ("/../a", "/a"),
            ("/", "/"),
            ("a/./b/..", "a"),
        ] {
            assert_eq!(clean(path), cleaned, "{path}");
        }
    }

    /// The examples of Docker's documentation ("Dockerfile reference: .dockerignore file").
    #[test]
    fn follows_dockers_documented_examples() {
        let rules = "# comment\n*/temp*\n*/*/temp*\ntemp?\n";
        for (path, is_excluded) in [
            ("somedir/temporary.txt", true),
            ("somedir/temp", true),
            ("somedir/subdir/temporary.txt", true),
            ("tempa", true),
            ("tempb", true),
            ("temp", false),
            ("temporary.txt", false),
            ("a/b/c/temp.txt", false),
            // `# comment` is a comment, not a pattern.
            ("# comment", false),
        ] {
            assert_eq!(excluded(rules, path), is_excluded, "{path}");
        }
        // `**/*.go` excludes `.go` files in every directory, the root included.
        for path in ["main.go", "cmd/main.go", "a/b/c.go"] {
            assert!(excluded("**/*.go", path), "{path}");
        }
        assert!(!excluded("**/*.go", "main.gox"));
        // Exceptions: the last line that matches decides.
        let rules = "*.md\n!README*.md\nREADME-secret.md\n";
        assert!(excluded(rules, "CHANGES.md"));
        assert!(!excluded(rules, "README.md"));
        assert!(excluded(rules, "README-secret.md"));
        let rules = "*.md\nREADME-secret.md\n!README*.md\n";
        assert!(!excluded(rules, "README-secret.md"));
        // Leading `/` and `./` are removed: both name the root's file.
        for rules in ["/.env", "./.env", ".env", "/./.env"] {
            assert!(excluded(rules, ".env"), "{rules}");
            assert!(!excluded(rules, "app/.env"), "{rules}");
        }
    }

    #[test]
    fn an_excluded_directory_excludes_its_files_and_an_exception_takes_one_back() {
        assert!(excluded("secrets", "secrets/db.key"));
        assert!(excluded("secrets/", "secrets/a/b/id_rsa"));
        assert!(!excluded("secrets", "other/secrets"));
        let rules = "config\n!config/.env\n";
        assert!(excluded(rules, "config/app.yaml"));
        assert!(!excluded(rules, "config/.env"));
        assert!(IgnoreRules::parse(rules).unwrap().has_exceptions());
        // `*` excludes everything at the root (every path's first directory), and `!` takes back.
        let rules = "*\n!src\n";
        assert!(excluded(rules, ".env"));
        assert!(excluded(rules, "deploy/id_rsa"));
        assert!(!excluded(rules, "src/main.rs"));
    }

    #[test]
    fn double_stars_follow_mobys_match_types() {
        // A trailing `**`: a prefix.
        assert!(excluded("deploy/**", "deploy/keys/id_rsa"));
        assert!(!excluded("deploy/**", "deployment.env"));
        // A leading `**` followed by plain text is matched as a suffix (moby's fast path), so
        // `**.env` also excludes `app.env`; `**/.env` every `.env`.
        assert!(excluded("**.env", "config/app.env"));
        assert!(excluded("**/.env", ".env"));
        assert!(excluded("**/.env", "a/b/.env"));
        assert!(!excluded("**/.env", "a/b/.envrc"));
        // A medial `**`: zero or more directories.
        assert!(excluded("a/**/id_rsa", "a/id_rsa"));
        assert!(excluded("a/**/id_rsa", "a/x/y/id_rsa"));
        assert!(!excluded("a/**/id_rsa", "b/id_rsa"));
        // `**` alone excludes everything.
        assert!(excluded("**", "x/y"));
    }

    #[test]
    fn character_classes_escapes_and_special_characters() {
        assert!(excluded("id_[er]*", "id_rsa"));
        assert!(excluded("id_[er]*", "id_ed25519"));
        assert!(!excluded("id_[^er]*", "id_rsa"));
        assert!(excluded("file\\*", "file*"));
        assert!(!excluded("file\\*", "fileX"));
        assert!(excluded("a+b(c).txt", "a+b(c).txt"));
        assert!(!excluded(".env", "xenv"));
    }

    #[test]
    fn refuses_what_docker_refuses() {
        assert!(IgnoreRules::parse("!\n").is_err());
        assert!(IgnoreRules::parse("  !  \n").is_err());
        assert!(IgnoreRules::parse("[unclosed\n").is_err());
        assert!(IgnoreRules::parse("\u{feff}.env\r\n\r\n  \n").is_ok());
        assert!(excluded("\u{feff}.env\r\n", ".env"));
        // A comment is a comment only at the start of the line.
        assert!(excluded(" # not a comment", "# not a comment"));
    }
}
