//! Splitting an instruction's text into words, flags and JSON arrays, as BuildKit's parser does.
//!
//! These are the parser-level splits (`parseWords`, `extractBuilderFlags`, `parseJSON` and the heredoc
//! word test in BuildKit's `frontend/dockerfile/parser`). They only find where words are: quotes and
//! escapes stay in a word, and variable expansion happens later (`expand.rs`). JSON arrays are read by
//! hand rather than with serde_json because each element's position is needed.

use std::ops::Range;

/// Whitespace as Go's `unicode.IsSpace` sees it.
pub(crate) fn is_space(ch: char) -> bool {
    ch.is_whitespace()
}

/// The words of `text` (BuildKit's `parseWords`): split at unquoted whitespace, quotes and escapes
/// kept. A quoted empty word (`""`) is a word. Ranges are byte ranges into `text`.
pub(crate) fn split_words(text: &str, escape: char) -> Vec<Range<usize>> {
    let mut words = Vec::new();
    let mut start: Option<usize> = None;
    let mut quote: Option<char> = None;
    let mut chars = text.char_indices().peekable();
    while let Some((pos, ch)) = chars.next() {
        match (start, quote) {
            (None, _) if is_space(ch) => continue,
            (None, _) => {
                start = Some(pos);
                if ch == '\'' || ch == '"' {
                    quote = Some(ch);
                } else if ch == escape {
                    chars.next();
                }
            }
            (Some(word_start), None) => {
                if is_space(ch) {
                    words.push(word_start..pos);
                    start = None;
                } else if ch == '\'' || ch == '"' {
                    quote = Some(ch);
                } else if ch == escape {
                    chars.next();
                }
            }
            (Some(_), Some(open)) => {
                if ch == open {
                    quote = None;
                } else if ch == escape && open != '\'' {
                    chars.next();
                }
            }
        }
    }
    if let Some(word_start) = start {
        words.push(word_start..text.len());
    }
    words
}

/// A `--name[=value]` flag before an instruction's arguments.
#[derive(Clone, Debug)]
pub(crate) struct RawFlag {
    /// The name, without the dashes.
    pub(crate) name: String,
    /// The value with quotes and `\` escapes removed; `None` for a bare `--name`.
    pub(crate) value: Option<String>,
    /// The whole `--name=value` word, in the text given.
    pub(crate) range: Range<usize>,
}

/// The leading flags of `text[from..]` (BuildKit's `extractBuilderFlags`) and where the arguments
/// after them start. A lone `--` ends the flags.
pub(crate) fn extract_flags(text: &str, from: usize) -> (Vec<RawFlag>, usize) {
    let mut flags = Vec::new();
    let mut pos = from;
    loop {
        let rest = &text[pos..];
        let skipped = rest.len() - rest.trim_start_matches(is_space).len();
        pos += skipped;
        if !text[pos..].starts_with("--") {
            return (flags, pos);
        }
        let (word, end) = unquote_flag_word(text, pos);
        if word == "--" {
            let rest = &text[end..];
            return (
                flags,
                end + rest.len() - rest.trim_start_matches(is_space).len(),
            );
        }
        let body = &word[2..];
        let (name, value) = match body.split_once('=') {
            Some((name, value)) => (name.to_owned(), Some(value.to_owned())),
            None => (body.to_owned(), None),
        };
        flags.push(RawFlag {
            name,
            value,
            range: pos..end,
        });
        pos = end;
    }
}

/// One flag word from `start`: quotes removed, `\` escaping the next character.
fn unquote_flag_word(text: &str, start: usize) -> (String, usize) {
    let mut word = String::new();
    let mut quote: Option<char> = None;
    let mut chars = text[start..].char_indices();
    while let Some((offset, ch)) = chars.next() {
        match quote {
            None if is_space(ch) => return (word, start + offset),
            None if ch == '\'' || ch == '"' => quote = Some(ch),
            Some(open) if ch == open => quote = None,
            _ if ch == '\\' => {
                if let Some((_, next)) = chars.next() {
                    word.push(next);
                }
            }
            _ => word.push(ch),
        }
    }
    (word, text.len())
}

/// One string of a JSON array, decoded, with where it was written.
#[derive(Clone, Debug)]
pub(crate) struct JsonString {
    /// The decoded value.
    pub(crate) value: String,
    /// The literal, quotes included, in the text given.
    pub(crate) range: Range<usize>,
    /// `(offset in value, offset in text)` where each run of the value starts (see
    /// [`super::Mapped::from_runs`]).
    pub(crate) runs: Vec<(u32, u32)>,
}

impl AsRef<str> for JsonString {
    fn as_ref(&self) -> &str {
        &self.value
    }
}

/// `text` read as a JSON array of strings (the exec form), or `None` when it is not one: then
/// BuildKit reads the instruction in shell form.
pub(crate) fn parse_json_array(text: &str) -> Option<Vec<JsonString>> {
    let bytes = text.as_bytes();
    let mut pos = skip_json_space(bytes, 0);
    if bytes.get(pos) != Some(&b'[') {
        return None;
    }
    pos = skip_json_space(bytes, pos + 1);
    let mut strings = Vec::new();
    if bytes.get(pos) == Some(&b']') {
        pos += 1;
    } else {
        loop {
            let (string, end) = parse_json_string(text, pos)?;
            strings.push(string);
            pos = skip_json_space(bytes, end);
            match bytes.get(pos) {
                Some(b',') => pos = skip_json_space(bytes, pos + 1),
                Some(b']') => {
                    pos += 1;
                    break;
                }
                _ => return None,
            }
        }
    }
    (skip_json_space(bytes, pos) == bytes.len()).then_some(strings)
}

fn skip_json_space(bytes: &[u8], mut pos: usize) -> usize {
    while matches!(bytes.get(pos), Some(b' ' | b'\t' | b'\n' | b'\r')) {
        pos += 1;
    }
    pos
}

fn parse_json_string(text: &str, start: usize) -> Option<(JsonString, usize)> {
    let bytes = text.as_bytes();
    if bytes.get(start) != Some(&b'"') {
        return None;
    }
    let mut value = String::new();
    let mut runs = vec![(0, to_u32(start + 1))];
    let mut pos = start + 1;
    loop {
        let ch = text.get(pos..)?.chars().next()?;
        match ch {
            '"' => {
                let range = start..pos + 1;
                return Some((JsonString { value, range, runs }, pos + 1));
            }
            '\\' => {
                let (decoded, len) = json_escape(text, pos)?;
                runs.push((to_u32(value.len()), to_u32(pos)));
                value.push(decoded);
                pos += len;
                runs.push((to_u32(value.len()), to_u32(pos)));
            }
            ch if (ch as u32) < 0x20 => return None,
            ch => {
                value.push(ch);
                pos += ch.len_utf8();
            }
        }
    }
}

/// The character a JSON escape at `pos` stands for, and the escape's length.
fn json_escape(text: &str, pos: usize) -> Option<(char, usize)> {
    let escaped = *text.as_bytes().get(pos + 1)?;
    let simple = match escaped {
        b'"' => '"',
        b'\\' => '\\',
        b'/' => '/',
        b'b' => '\u{8}',
        b'f' => '\u{c}',
        b'n' => '\n',
        b'r' => '\r',
        b't' => '\t',
        b'u' => {
            let high = hex4(text, pos + 2)?;
            if (0xD800..0xDC00).contains(&high) && text.get(pos + 6..pos + 8) == Some("\\u") {
                let low = hex4(text, pos + 8)?;
                if (0xDC00..0xE000).contains(&low) {
                    let code = 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00);
                    return Some((char::from_u32(code)?, 12));
                }
            }
            // A lone surrogate decodes to U+FFFD, as Go's encoding/json does.
            return Some((char::from_u32(high).unwrap_or('\u{FFFD}'), 6));
        }
        _ => return None,
    };
    Some((simple, 2))
}

fn hex4(text: &str, pos: usize) -> Option<u32> {
    let digits = text.get(pos..pos + 4)?;
    if !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u32::from_str_radix(digits, 16).ok()
}

/// A heredoc opener word (`<<EOF`, `<<-EOF`, `<<"EOF"`, `3<<EOF`), as BuildKit's `ParseHeredoc` reads
/// it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct HeredocWord {
    /// The delimiter, quotes removed.
    pub(crate) delimiter: String,
    /// `<<-`: leading tabs are stripped from the body and the closing line.
    pub(crate) strip_tabs: bool,
}

/// `word` read as a heredoc opener: `^(\d*)<<(-?)([^<]*)$` whose rest is one word.
pub(crate) fn heredoc_word(word: &str) -> Option<HeredocWord> {
    let rest = word.trim_start_matches(|ch: char| ch.is_ascii_digit());
    let rest = rest.strip_prefix("<<")?;
    let (strip_tabs, rest) = match rest.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, rest),
    };
    if rest.is_empty() || rest.contains('<') {
        return None;
    }
    let mut delimiter = String::new();
    let mut quote: Option<char> = None;
    let mut chars = rest.chars();
    while let Some(ch) = chars.next() {
        match quote {
            None if is_space(ch) => return None,
            None if ch == '\'' || ch == '"' => quote = Some(ch),
            Some(open) if ch == open => quote = None,
            Some('\'') => delimiter.push(ch),
            _ if ch == '\\' => delimiter.extend(chars.next()),
            _ => delimiter.push(ch),
        }
    }
    if delimiter.is_empty() {
        return None;
    }
    Some(HeredocWord {
        delimiter,
        strip_tabs,
    })
}

fn to_u32(value: usize) -> u32 {
    u32::try_from(value).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str, escape: char) -> Vec<&str> {
        split_words(text, escape)
            .into_iter()
            .map(|range| &text[range])
            .collect()
    }

    #[test]
    fn words_keep_quotes_and_escapes() {
        assert_eq!(
            words(r#"a="x y" b\ c 'd e'"#, '\\'),
            [r#"a="x y""#, r"b\ c", "'d e'"]
        );
        assert_eq!(words("  one\ttwo  ", '\\'), ["one", "two"]);
        assert_eq!(words("a=` b c", '`'), ["a=` b", "c"]);
        assert_eq!(words(r#""""#, '\\'), [r#""""#]);
    }

    #[test]
    fn flags_stop_at_the_first_argument() {
        let text = r#"RUN --mount=type=cache,target="/root/.cache" --network=none apt-get --x"#;
        let (flags, args) = extract_flags(text, 3);
        assert_eq!(flags.len(), 2);
        assert_eq!(flags[0].name, "mount");
        assert_eq!(
            flags[0].value.as_deref(),
            Some("type=cache,target=/root/.cache")
        );
        assert_eq!(&text[flags[1].range.clone()], "--network=none");
        assert_eq!(&text[args..], "apt-get --x");
    }

    #[test]
    fn double_dash_ends_flags() {
        let text = "COPY --link -- --weird dest";
        let (flags, args) = extract_flags(text, 4);
        assert_eq!(flags.len(), 1);
        assert_eq!(flags[0].value, None);
        assert_eq!(&text[args..], "--weird dest");
    }

    #[test]
    fn json_arrays_with_positions() {
        let text = r#"[ "sh", "-c", "echo \"hi\"\tthere" ]"#;
        let strings = parse_json_array(text).unwrap();
        let values: Vec<_> = strings.iter().map(|s| s.value.as_str()).collect();
        assert_eq!(values, ["sh", "-c", "echo \"hi\"\tthere"]);
        assert_eq!(&text[strings[1].range.clone()], r#""-c""#);
        assert_eq!(parse_json_array("[]").unwrap().len(), 0);
        assert_eq!(
            parse_json_array(r#"["\ud83d\ude00"]"#).unwrap()[0].value,
            "😀"
        );
    }

    #[test]
    fn not_json_is_shell_form() {
        for text in [
            "[ -f x ] && echo",
            r#"["a", 1]"#,
            r#"["a""#,
            r#"["a"] x"#,
            "[",
        ] {
            assert!(parse_json_array(text).is_none(), "{text}");
        }
    }

    #[test]
    fn heredoc_words() {
        assert_eq!(
            heredoc_word("<<EOF"),
            Some(HeredocWord {
                delimiter: "EOF".into(),
                strip_tabs: false,
            })
        );
        let quoted = heredoc_word(r#"<<-"END""#).unwrap();
        assert_eq!(quoted.delimiter, "END");
        assert!(quoted.strip_tabs);
        assert_eq!(heredoc_word("3<<'x'").unwrap().delimiter, "x");
        for word in ["<<", "<<<foo", "cat<<EOF", "<<-", "<<''"] {
            assert_eq!(heredoc_word(word), None, "{word}");
        }
    }
}
