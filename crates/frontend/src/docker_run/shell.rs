//! A quote-aware shell tokenizer that keeps the source position of every byte of every word.
//!
//! Hand-written because no crate fits: `shell-words` splits one line but drops positions, and
//! tree-sitter-bash is a C build for a grammar far larger than the word splitting a `docker run` line
//! needs. What this does is what bash does to find simple commands and their words:
//!
//! - words split at unquoted blanks; `'…'`, `"…"`, `$'…'` and `\x` quoting removed; `\` + newline
//!   joins lines (inside and between words);
//! - commands end at newlines, `;`, `&`, `|`, `&&`, `||`, `(` and `)`; `#` starts a comment;
//! - redirections (`>file`, `2>&1`, `<<<word`) are dropped; heredoc bodies are skipped;
//! - `$(…)`, `` `…` `` and `<(…)` are kept in their word as written and their commands are scanned too,
//!   so `id=$(docker run -d nginx)` is found;
//! - parameter expansions (`$HOME`, `${X:-y}`) are kept as written and marked, never resolved.
//!
//! Resources are bounded: nesting deeper than [`MAX_DEPTH`] stops the scan with an error, and a command
//! substitution longer than [`MAX_SUBSTITUTION_COPY`] bytes is abbreviated in its word.

use leastpriv_source::TextRange;

/// Command substitutions nested deeper than this stop the scan.
const MAX_DEPTH: usize = 32;

/// A command substitution longer than this is kept in its word as `$(…)` rather than copied: a word
/// only needs it to be recognisable, and copying at every nesting level would cost memory.
const MAX_SUBSTITUTION_COPY: usize = 4096;

/// One shell word after quote removal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Word {
    text: String,
    /// The source offset of each byte of `text`.
    offsets: Vec<u32>,
    range: TextRange,
    quoted: bool,
    expands: bool,
}

impl Word {
    /// The text after quote removal, expansions kept as written.
    pub(crate) fn text(&self) -> &str {
        &self.text
    }

    /// The source bytes the word was written on, quotes included.
    pub(crate) fn range(&self) -> TextRange {
        self.range
    }

    /// Whether any part of it was quoted or escaped.
    pub(crate) fn is_quoted(&self) -> bool {
        self.quoted
    }

    /// Whether it holds an unquoted or double-quoted expansion (`$X`, `${X}`, `$(…)`, `` `…` ``),
    /// so that its value at run time is not what is written.
    pub(crate) fn expands(&self) -> bool {
        self.expands
    }

    /// The source range of `text()[range]`: exact even when quotes or escapes sit inside it.
    pub(crate) fn source_range(&self, range: std::ops::Range<usize>) -> TextRange {
        let start = range.start.min(self.text.len());
        let end = range.end.clamp(start, self.text.len());
        if start == end {
            let at = self
                .offsets
                .get(start)
                .map_or(self.range.end, |&offset| offset);
            return TextRange::new(at as usize, at as usize);
        }
        let first = self.offsets[start] as usize;
        let last = self.offsets[end - 1] as usize;
        TextRange::new(first, last + 1)
    }

    /// The source range of the text after the first byte index `from` (a flag's `=value`).
    pub(crate) fn source_range_from(&self, from: usize) -> TextRange {
        self.source_range(from..self.text.len())
    }
}

/// A simple command: its words, in order, with assignments and the program still in place.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SimpleCommand {
    pub(crate) words: Vec<Word>,
}

/// Something the tokenizer could not read, at the place it starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ShellError {
    pub(crate) range: TextRange,
    pub(crate) message: &'static str,
}

/// Scans `text` and hands every simple command to `sink`, in source order of their ends (a command
/// inside `$(…)` comes before the command that holds it). Returns what could not be read.
pub(crate) fn scan_commands(text: &str, sink: &mut dyn FnMut(SimpleCommand)) -> Vec<ShellError> {
    let mut lexer = Lexer {
        src: text.as_bytes(),
        pos: 0,
        depth: 0,
        heredocs: Vec::new(),
        errors: Vec::new(),
    };
    lexer.scan(Stop::Eof, sink);
    lexer.errors
}

/// What ends a scan.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Stop {
    Eof,
    /// The `)` that closes `$(` or `<(`.
    Paren,
    /// The closing backtick.
    Backtick,
}

struct Heredoc {
    delimiter: Vec<u8>,
    strip_tabs: bool,
}

struct Lexer<'a> {
    src: &'a [u8],
    pos: usize,
    depth: usize,
    heredocs: Vec<Heredoc>,
    errors: Vec<ShellError>,
}

/// A word being built.
#[derive(Default)]
struct WordBuilder {
    bytes: Vec<u8>,
    offsets: Vec<u32>,
    start: usize,
    quoted: bool,
    expands: bool,
}

impl WordBuilder {
    fn push(&mut self, byte: u8, at: usize) {
        self.bytes.push(byte);
        self.offsets.push(u32::try_from(at).unwrap_or(u32::MAX));
    }

    fn push_source(&mut self, src: &[u8], start: usize, end: usize) {
        if end - start > MAX_SUBSTITUTION_COPY {
            for &byte in b"$(...)" {
                self.push(byte, start);
            }
            return;
        }
        for (index, &byte) in src[start..end].iter().enumerate() {
            self.push(byte, start + index);
        }
    }

    /// The word ending at `end`; a line continuation that ended it is not part of its range.
    fn finish(self, src: &[u8], mut end: usize) -> Word {
        loop {
            if end >= self.start + 2 && src.get(end - 2..end) == Some(&b"\\\n"[..]) {
                end -= 2;
            } else if end >= self.start + 3 && src.get(end - 3..end) == Some(&b"\\\r\n"[..]) {
                end -= 3;
            } else {
                break;
            }
        }
        let text = match String::from_utf8(self.bytes) {
            Ok(text) => text,
            Err(error) => String::from_utf8_lossy(error.as_bytes()).into_owned(),
        };
        // A lossy decode can change the length only for invalid input, which `&str` rules out; keep
        // the offsets consistent regardless.
        let mut offsets = self.offsets;
        offsets.resize(text.len(), u32::try_from(end).unwrap_or(u32::MAX));
        Word {
            text,
            offsets,
            range: TextRange::new(self.start, end),
            quoted: self.quoted,
            expands: self.expands,
        }
    }
}

fn is_blank(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\r')
}

/// Bytes that end an unquoted word.
fn is_word_end(byte: u8) -> bool {
    is_blank(byte) || matches!(byte, b'\n' | b';' | b'&' | b'|' | b'(' | b')' | b'<' | b'>')
}

impl Lexer<'_> {
    fn peek(&self, ahead: usize) -> Option<u8> {
        self.src.get(self.pos + ahead).copied()
    }

    /// The length of a line continuation at `self.pos`: `\` and a newline (`\r\n` too, so that a
    /// script saved with Windows line endings reads as its author meant), else 0.
    fn continuation(&self) -> usize {
        match (self.peek(0), self.peek(1), self.peek(2)) {
            (Some(b'\\'), Some(b'\n'), _) => 2,
            (Some(b'\\'), Some(b'\r'), Some(b'\n')) => 3,
            _ => 0,
        }
    }

    fn error(&mut self, start: usize, message: &'static str) {
        self.errors.push(ShellError {
            range: TextRange::new(start, (start + 1).min(self.src.len())),
            message,
        });
    }

    /// Scans commands until `stop`; returns whether `stop` was found (always true for `Eof`).
    fn scan(&mut self, stop: Stop, sink: &mut dyn FnMut(SimpleCommand)) -> bool {
        let mut words: Vec<Word> = Vec::new();
        let mut parens = 0usize;
        let flush = |words: &mut Vec<Word>, sink: &mut dyn FnMut(SimpleCommand)| {
            if !words.is_empty() {
                sink(SimpleCommand {
                    words: std::mem::take(words),
                });
            }
        };
        while let Some(byte) = self.peek(0) {
            match byte {
                b' ' | b'\t' | b'\r' => self.pos += 1,
                b'\\' if self.continuation() > 0 => self.pos += self.continuation(),
                b'#' => {
                    while self.peek(0).is_some_and(|byte| byte != b'\n') {
                        self.pos += 1;
                    }
                }
                b'\n' => {
                    flush(&mut words, sink);
                    self.pos += 1;
                    self.skip_heredoc_bodies();
                }
                b';' | b'&' | b'|' => {
                    if byte == b'&' && self.peek(1) == Some(b'>') {
                        self.skip_redirection();
                        continue;
                    }
                    flush(&mut words, sink);
                    self.pos += 1;
                    while self
                        .peek(0)
                        .is_some_and(|next| matches!(next, b';' | b'&' | b'|'))
                    {
                        self.pos += 1;
                    }
                }
                b'(' => {
                    flush(&mut words, sink);
                    parens += 1;
                    self.pos += 1;
                }
                b')' => {
                    flush(&mut words, sink);
                    self.pos += 1;
                    if parens > 0 {
                        parens -= 1;
                    } else if stop == Stop::Paren {
                        return true;
                    }
                }
                b'`' if stop == Stop::Backtick => {
                    flush(&mut words, sink);
                    self.pos += 1;
                    return true;
                }
                b'<' | b'>' if self.peek(1) == Some(b'(') => {
                    let word = self.read_word(stop, sink);
                    words.push(word);
                }
                b'<' | b'>' => self.skip_redirection(),
                _ => {
                    let before = self.pos;
                    let word = self.read_word(stop, sink);
                    if self.pos == before {
                        // Defensive: every byte must move the scan on.
                        self.pos += 1;
                        continue;
                    }
                    let is_fd = !word.quoted
                        && !word.text.is_empty()
                        && word.text.bytes().all(|b| b.is_ascii_digit())
                        && matches!(self.peek(0), Some(b'<' | b'>'));
                    if is_fd {
                        self.skip_redirection();
                    } else {
                        words.push(word);
                    }
                }
            }
        }
        flush(&mut words, sink);
        stop == Stop::Eof
    }

    /// Skips a redirection operator and its target word; a heredoc's delimiter is remembered so its
    /// body is skipped after the line ends.
    fn skip_redirection(&mut self) {
        let start = self.pos;
        let mut operator = Vec::new();
        while let Some(byte) = self.peek(0) {
            if matches!(byte, b'<' | b'>' | b'&' | b'|' | b'-') && operator.len() < 3 {
                // `-` only belongs to `<<-`; `>&-` closes a descriptor and is its own target.
                if byte == b'-' && operator != b"<<" {
                    break;
                }
                operator.push(byte);
                self.pos += 1;
            } else {
                break;
            }
        }
        if operator.is_empty() {
            self.pos = start + 1;
            return;
        }
        while self.peek(0).is_some_and(is_blank) {
            self.pos += 1;
        }
        if self.peek(0).is_none_or(is_word_end) {
            return;
        }
        let target = self.read_word(Stop::Eof, &mut |_| {});
        if operator == b"<<" || operator == b"<<-" {
            self.heredocs.push(Heredoc {
                delimiter: target.text.into_bytes(),
                strip_tabs: operator == b"<<-",
            });
        }
    }

    /// After a newline: skips the body of every heredoc opened on the line just ended.
    fn skip_heredoc_bodies(&mut self) {
        for heredoc in std::mem::take(&mut self.heredocs) {
            while self.pos < self.src.len() {
                let line_end = self.src[self.pos..]
                    .iter()
                    .position(|&byte| byte == b'\n')
                    .map_or(self.src.len(), |index| self.pos + index);
                let mut line = &self.src[self.pos..line_end];
                if heredoc.strip_tabs {
                    while let [b'\t', rest @ ..] = line {
                        line = rest;
                    }
                }
                if let [rest @ .., b'\r'] = line {
                    line = rest;
                }
                self.pos = (line_end + 1).min(self.src.len());
                if line == heredoc.delimiter.as_slice() {
                    break;
                }
            }
        }
    }

    /// Reads one word starting at `self.pos`.
    fn read_word(&mut self, stop: Stop, sink: &mut dyn FnMut(SimpleCommand)) -> Word {
        let mut word = WordBuilder {
            start: self.pos,
            ..WordBuilder::default()
        };
        while let Some(byte) = self.peek(0) {
            match byte {
                // Inside a backquoted command a backtick closes it: nothing nests without `\``.
                b'`' if stop == Stop::Backtick => break,
                b'\\' if self.continuation() > 0 => self.pos += self.continuation(),
                b'\\' => match self.peek(1) {
                    Some(next) => {
                        word.quoted = true;
                        word.push(next, self.pos + 1);
                        self.pos += 2;
                    }
                    None => {
                        word.push(byte, self.pos);
                        self.pos += 1;
                    }
                },
                b'\'' => {
                    word.quoted = true;
                    self.read_single_quoted(&mut word, false);
                }
                b'"' => {
                    word.quoted = true;
                    self.read_double_quoted(&mut word, stop, sink);
                }
                b'$' if self.peek(1) == Some(b'\'') => {
                    word.quoted = true;
                    self.pos += 1;
                    self.read_single_quoted(&mut word, true);
                }
                b'$' | b'`' => self.read_expansion(&mut word, stop, sink),
                b'<' | b'>' if self.peek(1) == Some(b'(') && word.bytes.is_empty() => {
                    let start = self.pos;
                    self.pos += 1;
                    self.read_substitution(&mut word, start, sink);
                }
                b'(' if word.bytes.last() == Some(&b'=') => {
                    // An array assignment `a=(x y)`: one word up to the closing parenthesis.
                    let start = self.pos;
                    let end = self.src[start..]
                        .iter()
                        .position(|&byte| byte == b')')
                        .map_or(self.src.len(), |index| start + index + 1);
                    word.push_source(self.src, start, end);
                    self.pos = end;
                }
                _ if is_word_end(byte) => break,
                _ => {
                    word.push(byte, self.pos);
                    self.pos += 1;
                }
            }
        }
        word.finish(self.src, self.pos)
    }

    /// `'…'`, or `$'…'` (`ansi_c`) where a backslash escapes the next byte.
    fn read_single_quoted(&mut self, word: &mut WordBuilder, ansi_c: bool) {
        let open = self.pos;
        self.pos += 1;
        loop {
            match self.peek(0) {
                None => {
                    self.error(open, "unterminated single quote");
                    return;
                }
                Some(b'\'') => {
                    self.pos += 1;
                    return;
                }
                Some(b'\\') if ansi_c && self.peek(1).is_some() => {
                    if let Some(next) = self.peek(1) {
                        word.push(next, self.pos + 1);
                    }
                    self.pos += 2;
                }
                Some(byte) => {
                    word.push(byte, self.pos);
                    self.pos += 1;
                }
            }
        }
    }

    fn read_double_quoted(
        &mut self,
        word: &mut WordBuilder,
        stop: Stop,
        sink: &mut dyn FnMut(SimpleCommand),
    ) {
        let open = self.pos;
        self.pos += 1;
        loop {
            match self.peek(0) {
                None => {
                    self.error(open, "unterminated double quote");
                    return;
                }
                Some(b'"') => {
                    self.pos += 1;
                    return;
                }
                Some(b'\\') if self.continuation() > 0 => self.pos += self.continuation(),
                Some(b'\\') => match self.peek(1) {
                    Some(next @ (b'$' | b'`' | b'"' | b'\\')) => {
                        word.push(next, self.pos + 1);
                        self.pos += 2;
                    }
                    _ => {
                        word.push(b'\\', self.pos);
                        self.pos += 1;
                    }
                },
                Some(b'$' | b'`') => self.read_expansion(word, stop, sink),
                Some(byte) => {
                    word.push(byte, self.pos);
                    self.pos += 1;
                }
            }
        }
    }

    /// `$name`, `${…}`, `$(…)`, `$((…))` or `` `…` ``: kept as written; commands inside are scanned.
    fn read_expansion(
        &mut self,
        word: &mut WordBuilder,
        stop: Stop,
        sink: &mut dyn FnMut(SimpleCommand),
    ) {
        let start = self.pos;
        match (self.peek(0), self.peek(1)) {
            (Some(b'$'), Some(b'(')) => {
                self.pos += 1;
                self.read_substitution(word, start, sink);
            }
            (Some(b'$'), Some(b'{')) => {
                word.expands = true;
                let end = self.matching_brace(start + 1);
                word.push_source(self.src, start, end);
                self.pos = end;
            }
            (Some(b'$'), Some(next))
                if next.is_ascii_alphanumeric() || b"_@*#?$!-".contains(&next) =>
            {
                word.expands = true;
                let mut end = start + 2;
                if next.is_ascii_alphabetic() || next == b'_' {
                    while self
                        .src
                        .get(end)
                        .is_some_and(|&byte| byte.is_ascii_alphanumeric() || byte == b'_')
                    {
                        end += 1;
                    }
                }
                word.push_source(self.src, start, end);
                self.pos = end;
            }
            (Some(b'`'), _) => {
                word.expands = true;
                if stop == Stop::Backtick {
                    // Only reached inside double quotes: kept as a literal so the scan moves on.
                    word.push(b'`', start);
                    self.pos += 1;
                    return;
                }
                if self.enter() {
                    self.pos += 1;
                    if !self.scan(Stop::Backtick, sink) {
                        self.error(start, "unterminated backquote");
                    }
                    self.depth -= 1;
                }
                word.push_source(self.src, start, self.pos);
            }
            _ => {
                word.push(b'$', start);
                self.pos += 1;
            }
        }
    }

    /// `(…)` after `$`, `<` or `>`, with `self.pos` at the `(`: its commands are scanned and its text,
    /// from `copy_from`, is kept in the word.
    fn read_substitution(
        &mut self,
        word: &mut WordBuilder,
        copy_from: usize,
        sink: &mut dyn FnMut(SimpleCommand),
    ) {
        word.expands = true;
        if self.enter() {
            self.pos += 1;
            if !self.scan(Stop::Paren, sink) {
                self.error(copy_from, "unterminated command substitution");
            }
            self.depth -= 1;
        }
        word.push_source(self.src, copy_from, self.pos);
    }

    /// Counts one more level of nesting; past [`MAX_DEPTH`] the scan stops with an error.
    fn enter(&mut self) -> bool {
        if self.depth >= MAX_DEPTH {
            self.error(
                self.pos,
                "command substitutions nested too deeply; rest not read",
            );
            self.pos = self.src.len();
            return false;
        }
        self.depth += 1;
        true
    }

    /// The end (one past the `}`) of a `${…}` whose `{` is at `open`, skipping quoted text.
    fn matching_brace(&mut self, open: usize) -> usize {
        let mut depth = 0usize;
        let mut index = open;
        let mut quote: Option<u8> = None;
        while let Some(&byte) = self.src.get(index) {
            match (quote, byte) {
                (Some(q), _) if byte == q => quote = None,
                (Some(b'"'), b'\\') => index += 1,
                (Some(_), _) => {}
                (None, b'\\') => index += 1,
                (None, b'\'' | b'"') => quote = Some(byte),
                (None, b'{') => depth += 1,
                (None, b'}') => {
                    depth -= 1;
                    if depth == 0 {
                        return index + 1;
                    }
                }
                (None, _) => {}
            }
            index += 1;
        }
        self.error(open - 1, "unterminated parameter expansion");
        self.src.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn commands(text: &str) -> Vec<Vec<String>> {
        let mut found = Vec::new();
        let errors = scan_commands(text, &mut |command| {
            found.push(
                command
                    .words
                    .iter()
                    .map(|word| word.text().to_owned())
                    .collect(),
            );
        });
        assert!(errors.is_empty(), "{errors:?}");
        found
    }

    fn words(text: &str) -> Vec<Word> {
        let mut found = Vec::new();
        scan_commands(text, &mut |command| found.extend(command.words));
        found
    }

    #[test]
    fn splits_commands_at_operators_and_newlines() {
        assert_eq!(
            commands("a b; c && d || e | f & g\nh # comment\n(i)"),
            [
                vec!["a", "b"],
                vec!["c"],
                vec!["d"],
                vec!["e"],
                vec!["f"],
                vec!["g"],
                vec!["h"],
                vec!["i"]
            ]
        );
    }

    #[test]
    fn joins_continuations_and_removes_quotes() {
        assert_eq!(
            commands("docker run \\\n  -e 'A=b c' \\\n  -e \"X=\\\"y\\\"\" \\\n  al\\\npine"),
            [vec![
                "docker", "run", "-e", "A=b c", "-e", "X=\"y\"", "alpine"
            ]]
        );
        assert_eq!(commands("echo $'a\\'b' \\$x"), [vec!["echo", "a'b", "$x"]]);
    }

    #[test]
    fn reads_windows_line_endings() {
        assert_eq!(
            commands("docker run \\\r\n  -e A=1 \\\r\n  alpine\r\necho\r\n"),
            [vec!["docker", "run", "-e", "A=1", "alpine"], vec!["echo"]]
        );
    }

    #[test]
    fn keeps_expansions_as_written_and_marks_them() {
        let found = words("run -v \"$HOME/x:/x\" -u ${UID:-1000} -w $(pwd) plain 'lit$x'");
        let texts: Vec<_> = found.iter().map(Word::text).collect();
        assert_eq!(
            texts,
            [
                "pwd",
                "run",
                "-v",
                "$HOME/x:/x",
                "-u",
                "${UID:-1000}",
                "-w",
                "$(pwd)",
                "plain",
                "lit$x"
            ]
        );
        let expands: Vec<_> = found.iter().map(Word::expands).collect();
        assert_eq!(
            expands,
            [false, false, false, true, false, true, false, true, false, false]
        );
    }

    #[test]
    fn scans_commands_inside_substitutions() {
        assert_eq!(
            commands("id=$(docker run -d nginx)\nx=`podman create busybox`"),
            [
                vec!["docker", "run", "-d", "nginx"],
                vec!["id=$(docker run -d nginx)"],
                vec!["podman", "create", "busybox"],
                vec!["x=`podman create busybox`"]
            ]
        );
    }

    #[test]
    fn drops_redirections_and_heredoc_bodies() {
        assert_eq!(
            commands("a >/dev/null 2>&1 b <<EOF\ndocker run x\nEOF\nc <<-'END' &>log\n\tdocker run y\n\tEND\nd <<<\"s\""),
            [vec!["a", "b"], vec!["c"], vec!["d"]]
        );
    }

    #[test]
    fn maps_every_byte_back_to_the_source() {
        let text = "x \"--env=A=\"'b c'\\\n d";
        let found = words(text);
        let word = &found[1];
        assert_eq!(word.text(), "--env=A=b c");
        let range = word.source_range(8..11);
        assert_eq!(&text[range.to_range()], "b c");
        assert_eq!(&text[word.range().to_range()], "\"--env=A=\"'b c'");
        assert_eq!(found[2].text(), "d");
    }

    #[test]
    fn reports_unterminated_quotes_where_they_open() {
        let errors = scan_commands("a 'b\nc", &mut |_| {});
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].range.start, 2);
        assert_eq!(errors[0].message, "unterminated single quote");
    }

    #[test]
    fn bounds_nesting() {
        let text = "$(".repeat(1000);
        let errors = scan_commands(&text, &mut |_| {});
        assert!(errors
            .iter()
            .any(|error| error.message.contains("nested too deeply")));
    }
}
