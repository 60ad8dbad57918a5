//! The simple commands inside a `RUN`: a POSIX shell tokenizer with exact positions.
//!
//! A `RUN` script is split into simple commands at `&&`, `||`, `;`, `|`, `&`, newlines and
//! parentheses; commands inside `$(…)`, backticks and `<(…)` are found too, and so are the commands
//! of a script passed as a string to `sh -c`, `bash -c '…'` or `su -c`. Each word has its quotes
//! removed and keeps the exact byte range it was written at, through line continuations and quote
//! removal (the text is a [`Mapped`]). Control keywords (`if`, `then`, `do`, `done`, `case … in`,
//! `for NAME in …`), assignments before a command, redirections and shell comments are not words of
//! a command; heredocs inside the script are skipped, and the ones whose reader is a shell are
//! reported so that the Dockerfile front-end can parse their bodies (`RUN bash <<EOF`).
//!
//! Hand-written rather than tree-sitter-bash: tree-sitter-bash alone takes ~190 ms to parse the
//! 1.4 MB of Dockerfiles in the test corpus (measured with its C core), twice the budget for the
//! whole front-end, it needs Rust 1.90 (the workspace supports 1.85), and its tree still needs a pass
//! for quote removal and a map back through the Dockerfile's continuation lines. The few hundred lines
//! here run in a few milliseconds and never fail: text a shell would reject still yields the commands
//! that can be recognised.

use std::cell::Cell;

use leastpriv_model::ShellCommand;
use leastpriv_source::{FileId, Span, Spanned};

use super::syntax::Mapped;

/// How deeply `$(…)`, backticks and subshells may nest before their text is skipped unread.
const MAX_DEPTH: usize = 16;

/// How deeply `sh -c '…'` strings are followed into.
const MAX_STRING_DEPTH: usize = 4;

/// Programs that run shell code.
pub(crate) const SHELLS: [&str; 7] = ["sh", "bash", "dash", "ash", "zsh", "ksh", "mksh"];

/// A heredoc redirection (`cmd <<EOF`) in a script.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ShellHeredoc {
    /// The delimiter, quotes removed.
    pub(crate) delimiter: String,
    /// Whether the command reading it is a shell reading its script from standard input
    /// (`bash <<EOF`, `sh -e <<EOF`), so that the body is shell code.
    pub(crate) feeds_shell: bool,
}

/// What a script holds.
#[derive(Debug, Default)]
pub(crate) struct ShellScript {
    /// The simple commands, in the order they start in the file.
    pub(crate) commands: Vec<ShellCommand>,
    /// The heredoc redirections, in order.
    pub(crate) heredocs: Vec<ShellHeredoc>,
    /// Whether words were left out because the file's budget was spent.
    pub(crate) truncated: bool,
}

/// Where scripts are parsed: their file, and how many more words the file's scripts may hold (a
/// hostile file must not make the model hundreds of times its size).
pub(crate) struct ShellContext<'a> {
    /// The file the scripts are in.
    pub(crate) file: FileId,
    /// Words that may still be recorded; once none are left, commands are no longer recorded.
    pub(crate) words_left: &'a Cell<usize>,
}

/// Parses `script[start..]` as POSIX shell.
pub(crate) fn parse(script: &Mapped, start: usize, context: &ShellContext<'_>) -> ShellScript {
    let mut parser = Parser::new(script, context, 0);
    parser.pos = start.min(script.text().len());
    parser.list(End::Eof);
    let mut result = ShellScript {
        commands: parser.commands,
        heredocs: parser.heredocs,
        truncated: parser.truncated,
    };
    result
        .commands
        .sort_by_key(|command| (command.span.range.start, command.span.range.end));
    result
}

/// Whether `argv` is a shell that reads its script from standard input: what a heredoc fed to it is.
pub(crate) fn reads_script_from_stdin<S: AsRef<str>>(argv: &[S]) -> bool {
    let start = skip_prefixes(argv);
    let Some(program) = argv.get(start) else {
        return false;
    };
    if !SHELLS.contains(&base_name(program.as_ref())) {
        return false;
    }
    let mut args = argv[start + 1..].iter().map(AsRef::as_ref);
    while let Some(arg) = args.next() {
        if arg == "-o" || arg == "+o" {
            args.next();
        } else if is_option(arg) {
            if arg.starts_with('-') && !arg.starts_with("--") && arg.contains('c') {
                return false;
            }
        } else {
            return false;
        }
    }
    true
}

fn base_name(program: &str) -> &str {
    program.rsplit('/').next().unwrap_or(program)
}

fn is_option(arg: &str) -> bool {
    (arg.starts_with('-') || arg.starts_with('+')) && arg.len() > 1
}

/// The index of the real program after wrappers that run it (`sudo -u app`, `env A=1`, `exec`).
fn skip_prefixes<S: AsRef<str>>(argv: &[S]) -> usize {
    let word_at = |index: usize| argv.get(index).map(AsRef::as_ref);
    let mut index = 0;
    while let Some(word) = word_at(index) {
        let wrapper = base_name(word);
        let takes_value: &[&str] = match wrapper {
            "sudo" => &["-u", "-g", "-h", "-p", "-C", "-r", "-t", "-U", "-D"],
            "env" => &["-u", "-C", "-S"],
            "nice" => &["-n"],
            "exec" | "nohup" | "command" => &[],
            "gosu" | "su-exec" | "chroot" | "timeout" => {
                index += 2;
                continue;
            }
            _ => return index,
        };
        index += 1;
        while let Some(arg) = word_at(index) {
            if takes_value.contains(&arg) {
                index += 2;
            } else if is_option(arg) || (wrapper == "env" && arg.contains('=')) {
                index += 1;
            } else {
                break;
            }
        }
    }
    index
}

/// The index of the script a shell (or `su`) is given with `-c`, if any.
pub(crate) fn script_argument<S: AsRef<str>>(argv: &[S]) -> Option<usize> {
    let start = skip_prefixes(argv);
    let program = base_name(argv.get(start)?.as_ref());
    if program == "su" || program == "runuser" {
        let position = argv[start..].iter().position(|arg| arg.as_ref() == "-c")?;
        let index = start + position + 1;
        return (index < argv.len()).then_some(index);
    }
    if !SHELLS.contains(&program) {
        return None;
    }
    let mut command_flag = false;
    let mut index = start + 1;
    while let Some(arg) = argv.get(index).map(AsRef::as_ref) {
        if arg == "-o" || arg == "+o" {
            index += 2;
            continue;
        }
        if arg == "--" {
            index += 1;
            continue;
        }
        if is_option(arg) {
            if arg.starts_with('-')
                && !arg.starts_with("--")
                && arg[1..].bytes().all(|b| b.is_ascii_alphabetic())
                && arg.contains('c')
            {
                command_flag = true;
            }
            index += 1;
            continue;
        }
        return command_flag.then_some(index);
    }
    None
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum End {
    Eof,
    Paren,
    Backtick,
}

/// A word: its value with quotes removed, and where each run of the value came from.
#[derive(Debug, Default)]
struct Word {
    value: String,
    start: usize,
    end: usize,
    /// `(offset in value, offset in text)` where the first run starts; most words have only one, so
    /// the others go to `more_runs`, which then allocates.
    first_run: Option<(u32, u32)>,
    more_runs: Vec<(u32, u32)>,
    quoted: bool,
}

impl AsRef<str> for Word {
    fn as_ref(&self) -> &str {
        &self.value
    }
}

impl Word {
    fn at(start: usize) -> Self {
        Self {
            start,
            end: start,
            ..Self::default()
        }
    }

    fn push(&mut self, text: &str, at: usize) {
        if text.is_empty() {
            return;
        }
        let here = self.value.len();
        let last = self.more_runs.last().or(self.first_run.as_ref());
        let continues = last.is_some_and(|&(value_start, text_start)| {
            text_start as usize + (here - value_start as usize) == at
        });
        if !continues {
            let run = (to_u32(here), to_u32(at));
            if self.first_run.is_none() {
                self.first_run = Some(run);
            } else {
                self.more_runs.push(run);
            }
        }
        self.value.push_str(text);
    }

    fn runs(&self) -> Vec<(u32, u32)> {
        self.first_run
            .into_iter()
            .chain(self.more_runs.iter().copied())
            .collect()
    }
}

#[derive(Debug, Default, PartialEq, Eq)]
enum Kind {
    #[default]
    Simple,
    /// `for NAME in …` / `select`: no command, only words whose substitutions may hold commands.
    Header,
}

#[derive(Debug, Default)]
struct Builder {
    words: Vec<Word>,
    start: Option<usize>,
    end: usize,
    kind: Kind,
    /// Indexes into the parser's heredocs that this command reads.
    heredocs: Vec<usize>,
}

impl Builder {
    fn touch(&mut self, start: usize, end: usize) {
        self.start.get_or_insert(start);
        self.end = self.end.max(end);
    }

    fn at_command_position(&self) -> bool {
        self.start.is_none()
    }
}

struct Parser<'a> {
    source: &'a Mapped,
    text: &'a str,
    pos: usize,
    context: &'a ShellContext<'a>,
    truncated: bool,
    commands: Vec<ShellCommand>,
    heredocs: Vec<ShellHeredoc>,
    /// Heredocs opened on the current line, whose bodies start at the next newline.
    pending: Vec<(String, bool)>,
    depth: usize,
    in_backticks: bool,
    string_depth: usize,
}

impl<'a> Parser<'a> {
    fn new(source: &'a Mapped, context: &'a ShellContext<'a>, string_depth: usize) -> Self {
        Self {
            source,
            text: source.text(),
            pos: 0,
            context,
            truncated: false,
            commands: Vec::new(),
            heredocs: Vec::new(),
            pending: Vec::new(),
            depth: 0,
            in_backticks: false,
            string_depth,
        }
    }

    fn byte(&self, offset: usize) -> Option<u8> {
        self.text.as_bytes().get(self.pos + offset).copied()
    }

    fn peek_char(&self) -> Option<char> {
        self.text.get(self.pos..)?.chars().next()
    }

    fn span(&self, start: usize, end: usize) -> Span {
        Span::new(self.context.file, self.source.range(start..end))
    }

    fn skip_blanks(&mut self) {
        loop {
            match self.byte(0) {
                Some(b' ' | b'\t' | b'\r') => self.pos += 1,
                Some(b'\\') if self.byte(1) == Some(b'\n') => self.pos += 2,
                _ => return,
            }
        }
    }

    fn skip_to_line_end(&mut self) {
        self.pos = self.text[self.pos..]
            .find('\n')
            .map_or(self.text.len(), |offset| self.pos + offset);
    }

    /// Parses commands until `end` (consumed) or the end of the text.
    fn list(&mut self, end: End) {
        let mut command = Builder::default();
        // For each `case` being read: whether a pattern is expected next.
        let mut cases: Vec<bool> = Vec::new();
        loop {
            self.skip_blanks();
            let Some(byte) = self.byte(0) else {
                self.finish(&mut command);
                return;
            };
            if command.at_command_position()
                && cases.last() == Some(&true)
                && !matches!(byte, b'\n' | b';')
            {
                if self.keyword_ahead("esac") {
                    self.pos += 4;
                    cases.pop();
                } else {
                    self.case_pattern();
                    if let Some(expecting) = cases.last_mut() {
                        *expecting = false;
                    }
                }
                continue;
            }
            match byte {
                b'\n' => {
                    self.pos += 1;
                    self.finish(&mut command);
                    self.heredoc_bodies();
                }
                b';' => {
                    self.pos += 1;
                    if matches!(self.byte(0), Some(b';' | b'&')) {
                        self.pos += 1;
                        if self.byte(0) == Some(b'&') {
                            self.pos += 1;
                        }
                        if let Some(expecting) = cases.last_mut() {
                            *expecting = true;
                        }
                    }
                    self.finish(&mut command);
                }
                b'&' if self.byte(1) == Some(b'>') => self.redirect(&mut command),
                b'&' | b'|' => {
                    self.pos += 1;
                    if matches!(self.byte(0), Some(b'&' | b'|')) {
                        self.pos += 1;
                    }
                    self.finish(&mut command);
                }
                b'(' => self.open_paren(&mut command),
                b')' => {
                    self.pos += 1;
                    self.finish(&mut command);
                    if end == End::Paren {
                        return;
                    }
                }
                b'`' => {
                    if end == End::Backtick {
                        self.pos += 1;
                        self.finish(&mut command);
                        return;
                    }
                    if self.in_backticks {
                        // A closing backtick inside `$(…)` inside backticks: malformed, move on.
                        self.pos += 1;
                        self.finish(&mut command);
                    } else {
                        self.simple_word(&mut command, &mut cases);
                    }
                }
                b'#' => self.skip_to_line_end(),
                b'<' if self.byte(1) != Some(b'(') => self.redirect(&mut command),
                b'>' if self.byte(1) != Some(b'(') => self.redirect(&mut command),
                b'0'..=b'9' if self.is_fd_redirect() => {
                    let start = self.pos;
                    while self.byte(0).is_some_and(|b| b.is_ascii_digit()) {
                        self.pos += 1;
                    }
                    command.touch(start, self.pos);
                    self.redirect(&mut command);
                }
                _ => self.simple_word(&mut command, &mut cases),
            }
        }
    }

    fn is_fd_redirect(&self) -> bool {
        let digits = self.text.as_bytes()[self.pos..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        matches!(self.byte(digits), Some(b'<' | b'>'))
    }

    fn open_paren(&mut self, command: &mut Builder) {
        if command.words.len() == 1 && command.kind == Kind::Simple {
            // `name() { …; }` defines a function: the name is not a command.
            let after = self.text[self.pos + 1..].trim_start_matches([' ', '\t']);
            if after.starts_with(')') {
                self.pos = self.text.len() - after.len() + 1;
                *command = Builder::default();
                return;
            }
        }
        if command.at_command_position() && self.byte(1) == Some(b'(') {
            // `(( arithmetic ))`.
            let start = self.pos;
            self.skip_balanced(b'(', b')');
            command.kind = Kind::Header;
            command.touch(start, self.pos);
            return;
        }
        self.pos += 1;
        self.finish(command);
        if self.depth < MAX_DEPTH {
            self.depth += 1;
            self.list(End::Paren);
            self.depth -= 1;
        } else {
            self.skip_balanced_from_inside(b'(', b')');
        }
    }

    /// Reads a word in a command, treating control keywords and assignments as the shell does.
    fn simple_word(&mut self, command: &mut Builder, cases: &mut Vec<bool>) {
        let word = self.word();
        if command.at_command_position() && command.kind == Kind::Simple && !word.quoted {
            match word.value.as_str() {
                "if" | "then" | "else" | "elif" | "do" | "while" | "until" | "!" | "{" | "time"
                | "fi" | "done" | "}" => return,
                "esac" => {
                    cases.pop();
                    return;
                }
                "for" | "select" => {
                    command.kind = Kind::Header;
                    command.touch(word.start, word.end);
                    return;
                }
                "case" => {
                    self.skip_blanks();
                    let _subject = self.word();
                    self.skip_blanks_and_newlines();
                    if self.keyword_ahead("in") {
                        self.pos += 2;
                    }
                    cases.push(true);
                    return;
                }
                "function" => {
                    self.skip_blanks();
                    let _name = self.word();
                    self.skip_blanks();
                    if self.text[self.pos..].starts_with("()") {
                        self.pos += 2;
                    }
                    return;
                }
                "[[" => {
                    command.touch(word.start, word.end);
                    self.push_word(command, word);
                    self.double_bracket(command);
                    return;
                }
                _ => {}
            }
        }
        command.touch(word.start, word.end);
        if command.kind != Kind::Simple {
            return;
        }
        // Assignments before the program (`DEBIAN_FRONTEND=noninteractive apt-get …`) are not words
        // of the command.
        if command.words.is_empty() && is_assignment(&self.text[word.start..word.end]) {
            return;
        }
        self.push_word(command, word);
    }

    /// Adds a word to the command, if the file's budget allows.
    fn push_word(&mut self, command: &mut Builder, word: Word) {
        let left = self.context.words_left.get();
        if left == 0 {
            self.truncated = true;
            return;
        }
        self.context.words_left.set(left - 1);
        command.words.push(word);
    }

    fn skip_blanks_and_newlines(&mut self) {
        loop {
            self.skip_blanks();
            if self.byte(0) == Some(b'\n') {
                self.pos += 1;
            } else {
                return;
            }
        }
    }

    /// Whether the unquoted word `keyword` is next.
    fn keyword_ahead(&self, keyword: &str) -> bool {
        let rest = &self.text[self.pos..];
        rest.starts_with(keyword)
            && rest[keyword.len()..].bytes().next().is_none_or(|b| {
                matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b';' | b')' | b'&' | b'|')
            })
    }

    /// Skips a `case` pattern list up to and including its `)`.
    fn case_pattern(&mut self) {
        let bytes = self.text.as_bytes();
        let mut depth = 0usize;
        if self.byte(0) == Some(b'(') {
            self.pos += 1;
        }
        while let Some(&byte) = bytes.get(self.pos) {
            self.pos += 1;
            match byte {
                b'\\' => self.pos += 1,
                b'\'' | b'"' => {
                    self.pos = self.text[self.pos..]
                        .find(byte as char)
                        .map_or(self.text.len(), |offset| self.pos + offset + 1);
                }
                b'(' => depth += 1,
                b')' if depth == 0 => return,
                b')' => depth -= 1,
                b'\n' => return,
                _ => {}
            }
        }
        self.pos = self.pos.min(self.text.len());
    }

    /// The words of `[[ … ]]`, where `&&`, `||`, `<`, `>` and parentheses are operands.
    fn double_bracket(&mut self, command: &mut Builder) {
        loop {
            self.skip_blanks();
            match self.byte(0) {
                None | Some(b'\n' | b';') => return,
                Some(b'&' | b'|' | b'<' | b'>' | b'(' | b')' | b'!') => {
                    let start = self.pos;
                    let first = self.byte(0);
                    self.pos += 1;
                    if self.byte(0) == first && matches!(first, Some(b'&' | b'|')) {
                        self.pos += 1;
                    }
                    let mut word = Word::at(start);
                    word.end = self.pos;
                    word.push(&self.text[start..self.pos], start);
                    command.touch(start, self.pos);
                    self.push_word(command, word);
                }
                Some(_) => {
                    let word = self.word();
                    let closed = word.value == "]]" && !word.quoted;
                    let empty = word.start == word.end;
                    command.touch(word.start, word.end);
                    self.push_word(command, word);
                    if closed || empty {
                        return;
                    }
                }
            }
        }
    }

    fn redirect(&mut self, command: &mut Builder) {
        let start = self.pos;
        let rest = &self.text[self.pos..];
        let (operator_len, heredoc) = if rest.starts_with("<<<") {
            (3, None)
        } else if rest.starts_with("<<-") {
            (3, Some(true))
        } else if rest.starts_with("<<") {
            (2, Some(false))
        } else if rest.starts_with("&>>") {
            (3, None)
        } else if [">>", ">|", ">&", "<&", "<>", "&>"]
            .iter()
            .any(|op| rest.starts_with(op))
        {
            (2, None)
        } else {
            (1, None)
        };
        self.pos += operator_len;
        command.touch(start, self.pos);
        self.skip_blanks();
        if matches!(
            self.byte(0),
            None | Some(b'\n' | b';' | b'&' | b'|' | b'<' | b'>' | b')')
        ) {
            return;
        }
        let target = self.word();
        command.touch(target.start, target.end);
        if let Some(strip_tabs) = heredoc {
            command.heredocs.push(self.heredocs.len());
            self.heredocs.push(ShellHeredoc {
                delimiter: target.value.clone(),
                feeds_shell: false,
            });
            self.pending.push((target.value, strip_tabs));
        }
    }

    /// Skips the bodies of the heredocs opened on the line just ended.
    fn heredoc_bodies(&mut self) {
        for (delimiter, strip_tabs) in std::mem::take(&mut self.pending) {
            while self.pos < self.text.len() {
                let line_end = self.text[self.pos..]
                    .find('\n')
                    .map_or(self.text.len(), |offset| self.pos + offset);
                let line = self.text[self.pos..line_end].trim_end_matches('\r');
                let line = if strip_tabs {
                    line.trim_start_matches('\t')
                } else {
                    line
                };
                self.pos = (line_end + 1).min(self.text.len());
                if line == delimiter {
                    break;
                }
            }
        }
    }

    /// Reads one word at the current position, removing quotes and following substitutions.
    fn word(&mut self) -> Word {
        let start = self.pos;
        let mut word = Word::at(start);
        while let Some(ch) = self.peek_char() {
            match ch {
                ' ' | '\t' | '\n' | '\r' | ';' | '&' | '|' | ')' => break,
                '<' | '>' if self.byte(1) == Some(b'(') => {
                    let open = self.pos;
                    self.pos += 2;
                    self.substitution(End::Paren);
                    word.push(&self.text[open..self.pos], open);
                }
                '<' | '>' => break,
                '(' => {
                    if is_array_assignment_prefix(&self.text[start..self.pos]) {
                        let open = self.pos;
                        self.skip_balanced(b'(', b')');
                        word.push(&self.text[open..self.pos], open);
                    } else {
                        break;
                    }
                }
                '`' => {
                    if self.in_backticks {
                        break;
                    }
                    let open = self.pos;
                    self.pos += 1;
                    self.substitution(End::Backtick);
                    word.push(&self.text[open..self.pos], open);
                }
                '\\' => {
                    self.pos += 1;
                    match self.peek_char() {
                        Some('\n') => self.pos += 1,
                        Some(next) => {
                            word.quoted = true;
                            word.push(&self.text[self.pos..self.pos + next.len_utf8()], self.pos);
                            self.pos += next.len_utf8();
                        }
                        None => word.push("\\", self.pos - 1),
                    }
                }
                '\'' => {
                    word.quoted = true;
                    self.pos += 1;
                    let close = self.text[self.pos..]
                        .find('\'')
                        .map_or(self.text.len(), |offset| self.pos + offset);
                    word.push(&self.text[self.pos..close], self.pos);
                    self.pos = (close + 1).min(self.text.len());
                }
                '"' => {
                    word.quoted = true;
                    self.pos += 1;
                    self.double_quoted(&mut word);
                }
                '$' => self.dollar(&mut word),
                _ => {
                    // A run of characters with no meaning to the shell, taken at once.
                    let plain = self.text.as_bytes()[self.pos..]
                        .iter()
                        .position(|&b| is_special(b))
                        .map_or(self.text.len(), |len| self.pos + len.max(1));
                    word.push(&self.text[self.pos..plain], self.pos);
                    self.pos = plain;
                }
            }
        }
        word.end = self.pos;
        word
    }

    fn double_quoted(&mut self, word: &mut Word) {
        while let Some(ch) = self.peek_char() {
            match ch {
                '"' => {
                    self.pos += 1;
                    return;
                }
                '\\' => match self.byte(1) {
                    Some(b'\n') => self.pos += 2,
                    Some(b'$' | b'`' | b'"' | b'\\') => {
                        word.push(&self.text[self.pos + 1..self.pos + 2], self.pos + 1);
                        self.pos += 2;
                    }
                    _ => {
                        word.push("\\", self.pos);
                        self.pos += 1;
                    }
                },
                '$' => self.dollar(word),
                '`' if !self.in_backticks => {
                    let open = self.pos;
                    self.pos += 1;
                    self.substitution(End::Backtick);
                    word.push(&self.text[open..self.pos], open);
                }
                '`' => return,
                _ => {
                    let plain = self.text.as_bytes()[self.pos..]
                        .iter()
                        .position(|&b| matches!(b, b'"' | b'\\' | b'$' | b'`'))
                        .map_or(self.text.len(), |len| self.pos + len.max(1));
                    word.push(&self.text[self.pos..plain], self.pos);
                    self.pos = plain;
                }
            }
        }
    }

    /// A `$` in a word: a parameter, a command substitution (whose commands are parsed), arithmetic
    /// or a quoted string. The word keeps the text as written.
    fn dollar(&mut self, word: &mut Word) {
        let start = self.pos;
        match self.byte(1) {
            Some(b'(') if self.byte(2) == Some(b'(') => {
                self.pos += 1;
                self.skip_balanced(b'(', b')');
            }
            Some(b'(') => {
                self.pos += 2;
                self.substitution(End::Paren);
            }
            Some(b'{') => {
                self.pos += 1;
                self.skip_balanced(b'{', b'}');
            }
            Some(b'\'') => {
                word.quoted = true;
                self.pos += 2;
                let bytes = self.text.as_bytes();
                let content = self.pos;
                while let Some(&byte) = bytes.get(self.pos) {
                    match byte {
                        b'\\' => self.pos += 2,
                        b'\'' => break,
                        _ => self.pos += 1,
                    }
                }
                self.pos = self.pos.min(self.text.len());
                word.push(&self.text[content..self.pos], content);
                if self.pos < self.text.len() {
                    self.pos += 1;
                }
                return;
            }
            Some(b'"') => {
                word.quoted = true;
                self.pos += 2;
                self.double_quoted(word);
                return;
            }
            Some(b) if b.is_ascii_alphabetic() || b == b'_' => {
                self.pos += 1;
                while self
                    .byte(0)
                    .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_')
                {
                    self.pos += 1;
                }
            }
            Some(b'0'..=b'9' | b'#' | b'?' | b'@' | b'*' | b'!' | b'$' | b'-') => self.pos += 2,
            _ => self.pos += 1,
        }
        word.push(&self.text[start..self.pos], start);
    }

    /// Parses the commands of a substitution whose opener was just consumed.
    fn substitution(&mut self, end: End) {
        if self.depth >= MAX_DEPTH {
            match end {
                End::Backtick => {
                    self.pos = self.text[self.pos..]
                        .find('`')
                        .map_or(self.text.len(), |offset| self.pos + offset + 1);
                }
                End::Paren | End::Eof => self.skip_balanced_from_inside(b'(', b')'),
            }
            return;
        }
        self.depth += 1;
        let in_backticks = self.in_backticks;
        self.in_backticks = in_backticks || end == End::Backtick;
        let pending = std::mem::take(&mut self.pending);
        self.list(end);
        self.pending = pending;
        self.in_backticks = in_backticks;
        self.depth -= 1;
    }

    /// Skips from an `open` byte at the current position to just past its matching `close`.
    fn skip_balanced(&mut self, open: u8, close: u8) {
        self.pos += 1;
        self.skip_balanced_from_inside(open, close);
    }

    fn skip_balanced_from_inside(&mut self, open: u8, close: u8) {
        let bytes = self.text.as_bytes();
        let mut depth = 1usize;
        while let Some(&byte) = bytes.get(self.pos) {
            self.pos += 1;
            match byte {
                b'\\' => self.pos += 1,
                b'\'' if open == b'{' => {}
                b'\'' | b'"' => {
                    self.pos = self.text[self.pos.min(self.text.len())..]
                        .find(byte as char)
                        .map_or(self.text.len(), |offset| self.pos + offset + 1);
                }
                b if b == open => depth += 1,
                b if b == close => {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
                _ => {}
            }
        }
        self.pos = self.pos.min(self.text.len());
        while !self.text.is_char_boundary(self.pos) {
            self.pos += 1;
        }
    }

    /// Ends the command being built: records it, and parses the script it passes to `sh -c`.
    fn finish(&mut self, command: &mut Builder) {
        let command = std::mem::take(command);
        if command.kind != Kind::Simple || command.words.is_empty() {
            return;
        }
        let feeds_shell = reads_script_from_stdin(&command.words);
        for &index in &command.heredocs {
            if let Some(heredoc) = self.heredocs.get_mut(index) {
                heredoc.feeds_shell = feeds_shell;
            }
        }
        if let Some(index) = script_argument(&command.words) {
            if self.string_depth < MAX_STRING_DEPTH {
                let word = &command.words[index];
                let script = Mapped::from_runs(self.source, &word.value, &word.runs());
                let mut inner = Parser::new(&script, self.context, self.string_depth + 1);
                inner.list(End::Eof);
                self.commands.extend(inner.commands);
                self.truncated |= inner.truncated;
            }
        }
        let start = command.start.unwrap_or(0);
        let span = self.span(start, command.end);
        let argv = command
            .words
            .into_iter()
            .map(|word| Spanned::new(word.value, self.span(word.start, word.end)))
            .collect();
        self.commands.push(ShellCommand { argv, span });
    }
}

/// Bytes that end a run of plain characters in a word (all ASCII, so a run ends on a character
/// boundary).
fn is_special(byte: u8) -> bool {
    matches!(
        byte,
        b' ' | b'\t'
            | b'\n'
            | b'\r'
            | b';'
            | b'&'
            | b'|'
            | b'('
            | b')'
            | b'<'
            | b'>'
            | b'`'
            | b'\\'
            | b'\''
            | b'"'
            | b'$'
    )
}

/// `NAME=…` or `NAME+=…`, unquoted.
fn is_assignment(raw: &str) -> bool {
    let Some(eq) = raw.find('=') else {
        return false;
    };
    let name = raw[..eq].strip_suffix('+').unwrap_or(&raw[..eq]);
    is_name(name)
}

fn is_array_assignment_prefix(raw: &str) -> bool {
    raw.strip_suffix('=')
        .map(|name| name.strip_suffix('+').unwrap_or(name))
        .is_some_and(is_name)
}

fn is_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

fn to_u32(value: usize) -> u32 {
    u32::try_from(value).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use leastpriv_source::SourceDb;

    fn parse_text(script: &str) -> ShellScript {
        let mut text = Mapped::new();
        text.push_file(script, 0..script.len());
        let db = SourceDb::new();
        let words_left = Cell::new(1 << 20);
        let context = ShellContext {
            file: db.add("x", script),
            words_left: &words_left,
        };
        parse(&text, 0, &context)
    }

    fn commands_of(script: &str) -> Vec<Vec<String>> {
        parse_text(script)
            .commands
            .into_iter()
            .map(|command| command.argv.into_iter().map(|word| word.value).collect())
            .collect()
    }

    fn argv(words: &[&str]) -> Vec<String> {
        words.iter().map(|word| (*word).to_owned()).collect()
    }

    #[test]
    fn splits_at_operators() {
        assert_eq!(
            commands_of("apt-get update && apt-get install -y curl; rm -rf /x | tee y || true & z"),
            [
                argv(&["apt-get", "update"]),
                argv(&["apt-get", "install", "-y", "curl"]),
                argv(&["rm", "-rf", "/x"]),
                argv(&["tee", "y"]),
                argv(&["true"]),
                argv(&["z"]),
            ]
        );
    }

    #[test]
    fn removes_quotes_and_keeps_positions() {
        let script = r#"echo "a b" 'c'd e\ f"#;
        let parsed = parse_text(script);
        let words: Vec<_> = parsed.commands[0]
            .argv
            .iter()
            .map(|word| (word.value.as_str(), &script[word.span.range.to_range()]))
            .collect();
        assert_eq!(
            words,
            [
                ("echo", "echo"),
                ("a b", r#""a b""#),
                ("cd", "'c'd"),
                ("e f", r"e\ f")
            ]
        );
        assert_eq!(parsed.commands[0].span.range.to_range(), 0..script.len());
    }

    #[test]
    fn finds_commands_in_substitutions() {
        assert_eq!(
            commands_of(r#"export V="$(curl -s "$URL" | sha256sum)" `id -u`"#),
            [
                argv(&["export", r#"V=$(curl -s "$URL" | sha256sum)"#, "`id -u`"]),
                argv(&["curl", "-s", "$URL"]),
                argv(&["sha256sum"]),
                argv(&["id", "-u"]),
            ]
        );
        assert_eq!(
            commands_of("X=$(cat /etc/os-release) Y=2"),
            [argv(&["cat", "/etc/os-release"])]
        );
    }

    #[test]
    fn follows_sh_c_strings() {
        let script = r#"su -c "chmod 777 /app" app && bash -ec 'adduser -D x; echo "ok"'"#;
        let parsed = parse_text(script);
        let found: Vec<_> = parsed
            .commands
            .iter()
            .map(|command| {
                (
                    command.argv[0].value.as_str(),
                    &script[command.span.range.to_range()],
                )
            })
            .collect();
        assert_eq!(
            found,
            [
                ("su", r#"su -c "chmod 777 /app" app"#),
                ("chmod", "chmod 777 /app"),
                ("bash", r#"bash -ec 'adduser -D x; echo "ok"'"#),
                ("adduser", "adduser -D x"),
                ("echo", r#"echo "ok""#),
            ]
        );
        assert_eq!(
            &script[parsed.commands[4].argv[1].span.range.to_range()],
            r#""ok""#
        );
    }

    #[test]
    fn control_flow_keywords_are_not_commands() {
        let script = "if [ -f x ]; then echo yes; else echo no; fi\n\
                      for f in $(ls /); do rm \"$f\"; done\n\
                      while read l; do :; done < file\n\
                      case \"$A\" in\n  a|b) echo ab ;;\n  (c) echo c;;\n  *) exit 1 ;;\nesac\n\
                      f() { echo in f; }\n\
                      function g { ls; }\n\
                      [[ -n $A && $B < 2 ]] && echo ok\n\
                      (( i++ ))\n\
                      ( cd /tmp && make )";
        assert_eq!(
            commands_of(script),
            [
                argv(&["[", "-f", "x", "]"]),
                argv(&["echo", "yes"]),
                argv(&["echo", "no"]),
                argv(&["ls", "/"]),
                argv(&["rm", "$f"]),
                argv(&["read", "l"]),
                argv(&[":"]),
                argv(&["echo", "ab"]),
                argv(&["echo", "c"]),
                argv(&["exit", "1"]),
                argv(&["echo", "in", "f"]),
                argv(&["ls"]),
                argv(&["[[", "-n", "$A", "&&", "$B", "<", "2", "]]"]),
                argv(&["echo", "ok"]),
                argv(&["cd", "/tmp"]),
                argv(&["make"]),
            ]
        );
    }

    #[test]
    fn redirections_and_assignments_are_not_words() {
        assert_eq!(
            commands_of(
                "DEBIAN_FRONTEND=noninteractive apt-get install x >/dev/null 2>&1 </dev/null"
            ),
            [argv(&["apt-get", "install", "x"])]
        );
        assert_eq!(
            commands_of("echo hi > /etc/sudoers.d/x # done"),
            [argv(&["echo", "hi"])]
        );
    }

    #[test]
    fn heredocs_inside_scripts_are_skipped() {
        let script = "cat > /etc/x <<'EOF'\nrm -rf /\nEOF\nbash -e <<X\nls\nX\necho done";
        let parsed = parse_text(script);
        let programs: Vec<_> = parsed
            .commands
            .iter()
            .map(|command| command.argv[0].value.as_str())
            .collect();
        assert_eq!(programs, ["cat", "bash", "echo"]);
        assert_eq!(
            parsed.heredocs,
            [
                ShellHeredoc {
                    delimiter: "EOF".into(),
                    feeds_shell: false
                },
                ShellHeredoc {
                    delimiter: "X".into(),
                    feeds_shell: true
                }
            ]
        );
    }

    #[test]
    fn stdin_shells() {
        assert!(reads_script_from_stdin(&["bash"]));
        assert!(reads_script_from_stdin(&[
            "/bin/sh", "-eux", "-o", "pipefail"
        ]));
        assert!(reads_script_from_stdin(&[
            "sudo", "-u", "app", "bash", "-s"
        ]));
        assert!(!reads_script_from_stdin(&["python3"]));
        assert!(!reads_script_from_stdin(&["bash", "script.sh"]));
        assert!(!reads_script_from_stdin(&["sh", "-c", "x"]));
    }

    #[test]
    fn hostile_nesting_is_bounded() {
        let script = "$(".repeat(10_000) + &")".repeat(10_000);
        commands_of(&script);
        let script = "`".repeat(10_001);
        commands_of(&script);
        let script = "bash -c \"".repeat(50);
        commands_of(&script);
    }

    #[test]
    fn word_budget_stops_recording() {
        let script = "a b c; d e f; g h";
        let mut text = Mapped::new();
        text.push_file(script, 0..script.len());
        let db = SourceDb::new();
        let words_left = Cell::new(4);
        let context = ShellContext {
            file: db.add("x", script),
            words_left: &words_left,
        };
        let parsed = parse(&text, 0, &context);
        assert!(parsed.truncated);
        assert_eq!(parsed.commands.len(), 2);
        assert_eq!(parsed.commands[1].argv.len(), 1);
    }

    #[test]
    fn unterminated_quotes_do_not_panic() {
        for script in [
            "echo 'abc",
            "echo \"abc",
            "echo $(ls",
            "echo ${x",
            "a\\",
            "$'x\\",
            "[[ x",
        ] {
            commands_of(script);
        }
    }
}
