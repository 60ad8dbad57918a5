//! The Dockerfile's syntax tree: parser directives, instructions with their flags and heredocs.
//!
//! This is BuildKit's `frontend/dockerfile/parser` rewritten to keep exact positions and to recover
//! from errors: physical lines are joined into logical lines (a [`Mapped`] text that still knows where
//! each byte came from), comment and blank lines inside a continuation are dropped, and the heredoc
//! bodies that `RUN`, `COPY` and `ADD` open are read from the lines that follow. An unknown
//! instruction or an unterminated heredoc is recorded as an error and parsing goes on with the next
//! line, so one mistake does not hide the rest of the file.
//!
//! A crate (`parse-dockerfile`) parses the same syntax with positions, but it stops at the first
//! error; recovery is what a linter needs most, so the parser is our own.

mod mapped;
pub(crate) mod words;

use leastpriv_secrets::{message, Quoted};
use std::ops::Range;

use leastpriv_source::TextRange;

pub(crate) use mapped::Mapped;
use words::{extract_flags, heredoc_word, is_space, parse_json_array, split_words, RawFlag};

/// The most instructions read from one file: real Dockerfiles hold dozens, a few hundred at most.
const MAX_INSTRUCTIONS: usize = 10_000;

/// The instructions a Dockerfile may hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Keyword {
    Add,
    Arg,
    Cmd,
    Copy,
    Entrypoint,
    Env,
    Expose,
    From,
    Healthcheck,
    Label,
    Maintainer,
    Onbuild,
    Run,
    Shell,
    Stopsignal,
    User,
    Volume,
    Workdir,
}

impl Keyword {
    pub(crate) const ALL: [Keyword; 18] = [
        Keyword::Add,
        Keyword::Arg,
        Keyword::Cmd,
        Keyword::Copy,
        Keyword::Entrypoint,
        Keyword::Env,
        Keyword::Expose,
        Keyword::From,
        Keyword::Healthcheck,
        Keyword::Label,
        Keyword::Maintainer,
        Keyword::Onbuild,
        Keyword::Run,
        Keyword::Shell,
        Keyword::Stopsignal,
        Keyword::User,
        Keyword::Volume,
        Keyword::Workdir,
    ];

    /// The instruction as conventionally written.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Keyword::Add => "ADD",
            Keyword::Arg => "ARG",
            Keyword::Cmd => "CMD",
            Keyword::Copy => "COPY",
            Keyword::Entrypoint => "ENTRYPOINT",
            Keyword::Env => "ENV",
            Keyword::Expose => "EXPOSE",
            Keyword::From => "FROM",
            Keyword::Healthcheck => "HEALTHCHECK",
            Keyword::Label => "LABEL",
            Keyword::Maintainer => "MAINTAINER",
            Keyword::Onbuild => "ONBUILD",
            Keyword::Run => "RUN",
            Keyword::Shell => "SHELL",
            Keyword::Stopsignal => "STOPSIGNAL",
            Keyword::User => "USER",
            Keyword::Volume => "VOLUME",
            Keyword::Workdir => "WORKDIR",
        }
    }

    /// The instruction named `word`, in any case.
    pub(crate) fn parse(word: &str) -> Option<Keyword> {
        Keyword::ALL
            .into_iter()
            .find(|keyword| keyword.name().eq_ignore_ascii_case(word))
    }

    /// The flags BuildKit accepts on the instruction.
    pub(crate) fn flags(self) -> &'static [&'static str] {
        match self {
            Keyword::From => &["platform"],
            Keyword::Run => &["mount", "network", "security", "device"],
            Keyword::Copy => &["from", "chown", "chmod", "link", "parents", "exclude"],
            Keyword::Add => &[
                "chown",
                "chmod",
                "link",
                "keep-git-dir",
                "checksum",
                "exclude",
                "unpack",
            ],
            Keyword::Healthcheck => &[
                "interval",
                "timeout",
                "start-period",
                "start-interval",
                "retries",
            ],
            _ => &[],
        }
    }

    /// Whether the instruction reads heredocs (BuildKit's `heredocDirectives`).
    fn takes_heredocs(self) -> bool {
        matches!(self, Keyword::Run | Keyword::Copy | Keyword::Add)
    }
}

/// A heredoc opened by an instruction: `<<EOF` in its line, the body in the lines after it.
#[derive(Clone, Debug)]
pub(crate) struct Heredoc {
    /// The `<<EOF` word, in the instruction's line.
    pub(crate) word: Range<usize>,
    /// The delimiter, quotes removed.
    pub(crate) delimiter: String,
    /// The body, each line followed by a newline, leading tabs removed for `<<-`.
    pub(crate) body: Mapped,
    /// Whether the closing delimiter line was found.
    pub(crate) terminated: bool,
}

/// One instruction, its continuation lines joined.
#[derive(Clone, Debug)]
pub(crate) struct Instruction {
    /// The instruction, or `None` when the keyword is unknown.
    pub(crate) keyword: Option<Keyword>,
    /// The keyword as written, in `line`.
    pub(crate) keyword_range: Range<usize>,
    /// The logical line, from the keyword on.
    pub(crate) line: Mapped,
    /// Leading `--flags`, ranges in `line`.
    pub(crate) flags: Vec<RawFlag>,
    /// The arguments after the flags, trimmed, in `line`.
    pub(crate) args: Range<usize>,
    /// Heredocs, in the order their words appear.
    pub(crate) heredocs: Vec<Heredoc>,
    /// The whole instruction in the file, heredoc bodies and delimiters included.
    pub(crate) span: TextRange,
}

impl Instruction {
    /// Splits a logical line into keyword, flags and arguments.
    pub(crate) fn split(line: Mapped) -> Instruction {
        let text = line.text();
        let keyword_start = text.len() - text.trim_start_matches(is_space).len();
        let keyword_end = text[keyword_start..]
            .find(is_space)
            .map_or(text.len(), |end| keyword_start + end);
        let keyword = Keyword::parse(&text[keyword_start..keyword_end]);
        let (flags, args_start) = extract_flags(text, keyword_end);
        let args_end = text.trim_end_matches(is_space).len().max(args_start);
        let span = line.range(keyword_start..text.len().max(keyword_start));
        Instruction {
            keyword,
            keyword_range: keyword_start..keyword_end,
            flags,
            args: args_start..args_end,
            heredocs: Vec::new(),
            span,
            line,
        }
    }

    /// The arguments' text.
    pub(crate) fn args_text(&self) -> &str {
        &self.line.text()[self.args.clone()]
    }

    /// The keyword as written.
    pub(crate) fn keyword_text(&self) -> &str {
        &self.line.text()[self.keyword_range.clone()]
    }

    /// The file range of a range of the line.
    pub(crate) fn file_range(&self, range: Range<usize>) -> TextRange {
        self.line.range(range)
    }
}

/// A syntax error at a place in the file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SyntaxError {
    /// Where.
    pub(crate) range: TextRange,
    /// What, lowercase, no trailing period.
    pub(crate) message: String,
}

/// A parsed Dockerfile.
#[derive(Debug)]
pub(crate) struct Dockerfile {
    /// The escape character (`\`, or `` ` `` by `# escape=`).
    pub(crate) escape: char,
    /// Every instruction, in order.
    pub(crate) instructions: Vec<Instruction>,
    /// What could not be parsed.
    pub(crate) errors: Vec<SyntaxError>,
}

/// One physical line: its content (without the line terminator) and where the next line starts.
#[derive(Clone, Copy, Debug)]
struct Line {
    start: usize,
    end: usize,
    next: usize,
}

fn line_at(text: &str, start: usize) -> Option<Line> {
    if start >= text.len() {
        return None;
    }
    let (end, next) = match text[start..].find('\n') {
        Some(newline) => (start + newline, start + newline + 1),
        None => (text.len(), text.len()),
    };
    let end = if text[start..end].ends_with('\r') {
        end - 1
    } else {
        end
    };
    Some(Line { start, end, next })
}

/// Parses a Dockerfile.
pub(crate) fn parse(text: &str) -> Dockerfile {
    let mut parser = Parser {
        text,
        escape: '\\',
        errors: Vec::new(),
        seen_directives: Vec::new(),
        heredoc_budget: text.len().saturating_mul(4),
    };
    let instructions = parser.instructions();
    Dockerfile {
        escape: parser.escape,
        instructions,
        errors: parser.errors,
    }
}

struct Parser<'a> {
    text: &'a str,
    escape: char,
    errors: Vec<SyntaxError>,
    seen_directives: Vec<String>,
    /// Bytes that searches for heredoc delimiters may still read. A search that fails reads to the
    /// end of the file; a hostile file of many unterminated heredocs must not make that quadratic.
    heredoc_budget: usize,
}

impl Parser<'_> {
    fn error(&mut self, range: TextRange, message: String) {
        self.errors.push(SyntaxError { range, message });
    }

    fn instructions(&mut self) -> Vec<Instruction> {
        let text = self.text;
        let mut instructions = Vec::new();
        let mut pos = if text.starts_with('\u{feff}') { 3 } else { 0 };
        let mut directives_allowed = true;
        while let Some(line) = line_at(text, pos) {
            pos = line.next;
            let content = &text[line.start..line.end];
            if directives_allowed {
                directives_allowed = self.directive(content, line.start);
                if directives_allowed {
                    continue;
                }
            }
            let trimmed = content.trim_start_matches(is_space);
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            let start = line.end - trimmed.len();
            if instructions.len() == MAX_INSTRUCTIONS {
                let word = trimmed.split(is_space).next().unwrap_or(trimmed);
                self.error(
                    TextRange::new(start, start + word.len()),
                    format!(
                        "more than {MAX_INSTRUCTIONS} instructions: the rest of the file is not read"
                    ),
                );
                break;
            }
            let mut logical = Mapped::new();
            let (body_end, mut continued) = self.continuation(text, start..line.end);
            logical.push_file(text, start..body_end);
            let mut end = line.end;
            while continued {
                let Some(next) = line_at(text, pos) else {
                    break;
                };
                pos = next.next;
                let next_trimmed = text[next.start..next.end].trim_start_matches(is_space);
                if next_trimmed.is_empty() || next_trimmed.starts_with('#') {
                    continue;
                }
                let (body_end, more) = self.continuation(text, next.start..next.end);
                logical.push_file(text, next.start..body_end);
                end = next.end;
                continued = more;
            }
            let mut instruction = Instruction::split(logical);
            instruction.span = TextRange::new(instruction.span.start as usize, end);
            if instruction.keyword.is_some_and(Keyword::takes_heredocs)
                && instruction.args_text().contains("<<")
                && parse_json_array(instruction.args_text()).is_none()
            {
                pos = self.heredocs(&mut instruction, pos);
            }
            instructions.push(instruction);
        }
        instructions
    }

    /// Reads `content` as a parser directive; returns whether directives may still follow.
    fn directive(&mut self, content: &str, line_start: usize) -> bool {
        let trimmed = content.trim_start_matches(is_space);
        let Some(body) = trimmed.strip_prefix('#') else {
            return false;
        };
        let Some((key, raw_value)) = body.split_once('=') else {
            return false;
        };
        let key = key.trim_matches(is_space);
        let value = raw_value.trim_matches(is_space);
        let valid_key = key
            .chars()
            .next()
            .is_some_and(|ch| ch.is_ascii_alphabetic())
            && key.chars().all(|ch| ch.is_ascii_alphanumeric());
        let key = key.to_ascii_lowercase();
        if !valid_key || value.is_empty() || !matches!(key.as_str(), "syntax" | "escape" | "check")
        {
            return false;
        }
        let value_offset = line_start
            + (content.len() - trimmed.len())
            + (body.len() - raw_value.len())
            + 1
            + (raw_value.len() - raw_value.trim_start_matches(is_space).len());
        let value_range = TextRange::new(value_offset, value_offset + value.len());
        if self.seen_directives.contains(&key) {
            self.error(
                value_range,
                format!("only one `{key}` parser directive can be used"),
            );
            return true;
        }
        self.seen_directives.push(key.clone());
        if key == "escape" {
            match value {
                "\\" => self.escape = '\\',
                "`" => self.escape = '`',
                _ => self.error(
                    value_range,
                    message!(
                        "invalid escape character `{}`: use `\\` or a backtick",
                        Quoted(value)
                    )
                    .to_string(),
                ),
            }
        }
        true
    }

    /// Where a physical line's text ends once a trailing escape character (and the blanks after it)
    /// is removed, and whether it was there.
    fn continuation(&self, text: &str, range: Range<usize>) -> (usize, bool) {
        let content = &text[range.clone()];
        let trimmed = content.trim_end_matches([' ', '\t']);
        match trimmed.strip_suffix(self.escape) {
            Some(body) => (range.start + body.len(), true),
            None => (range.end, false),
        }
    }

    /// Reads the bodies of the heredocs that `instruction` opens from the lines at `pos`; returns
    /// where parsing goes on.
    fn heredocs(&mut self, instruction: &mut Instruction, mut pos: usize) -> usize {
        let text = self.text;
        let args = instruction.args.clone();
        let openers: Vec<_> = split_words(instruction.args_text(), '\\')
            .into_iter()
            .filter_map(|word| {
                let word = word.start + args.start..word.end + args.start;
                heredoc_word(&instruction.line.text()[word.clone()]).map(|opener| (word, opener))
            })
            .collect();
        for (word, opener) in openers {
            let mut body = Mapped::new();
            let mut terminated = false;
            let body_start = pos;
            while let Some(line) = line_at(text, pos) {
                if self.heredoc_budget < line.next - line.start {
                    break;
                }
                self.heredoc_budget -= line.next - line.start;
                let content = &text[line.start..line.end];
                let stripped = if opener.strip_tabs {
                    content.trim_start_matches('\t')
                } else {
                    content
                };
                pos = line.next;
                if stripped == opener.delimiter {
                    terminated = true;
                    instruction.span = TextRange::new(instruction.span.start as usize, line.end);
                    break;
                }
                body.push_file(text, line.end - stripped.len()..line.end);
                push_newline(&mut body, text, line);
            }
            if !terminated {
                self.error(
                    instruction.file_range(word.clone()),
                    format!("unterminated heredoc `{}` (started here)", opener.delimiter),
                );
                // Recover at the first later line that starts like an instruction, so the rest of
                // the file is still read.
                pos = body_start;
                body = Mapped::new();
                while let Some(line) = line_at(text, pos) {
                    let content = &text[line.start..line.end];
                    if starts_like_instruction(content) {
                        break;
                    }
                    body.push_file(text, line.start..line.end);
                    push_newline(&mut body, text, line);
                    instruction.span = TextRange::new(instruction.span.start as usize, line.end);
                    pos = line.next;
                }
            }
            instruction.heredocs.push(Heredoc {
                word,
                delimiter: opener.delimiter,
                body,
                terminated,
            });
            if !terminated {
                break;
            }
        }
        pos
    }
}

/// Appends the newline that ends `line` in the file, if it has one (the last line may not).
fn push_newline(body: &mut Mapped, text: &str, line: Line) {
    if line.next > line.end {
        body.push_file(text, line.next - 1..line.next);
    }
}

/// Whether a line reads as the start of an instruction written in the usual upper case: where an
/// unterminated heredoc most likely should have ended.
fn starts_like_instruction(line: &str) -> bool {
    let word = line.split(is_space).next().unwrap_or("");
    line.len() > word.len()
        && word.bytes().all(|b| b.is_ascii_uppercase())
        && Keyword::parse(word).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keywords(dockerfile: &Dockerfile) -> Vec<&str> {
        dockerfile
            .instructions
            .iter()
            .map(Instruction::keyword_text)
            .collect()
    }

    #[test]
    fn joins_continuations_and_skips_comments_inside() {
        let text = "FROM alpine\nRUN apk add \\\n# a comment\n\n    curl \\\n  git\nUSER app\n";
        let parsed = parse(text);
        assert!(parsed.errors.is_empty());
        assert_eq!(keywords(&parsed), ["FROM", "RUN", "USER"]);
        let run = &parsed.instructions[1];
        assert_eq!(run.args_text(), "apk add     curl   git");
        let git = run.line.text().find("git").unwrap();
        assert_eq!(
            &text[run.file_range(git..git + 3).to_range()],
            "git",
            "positions survive the join"
        );
        assert_eq!(&text[run.span.to_range()], &text[12..text.len() - 10]);
    }

    #[test]
    fn escape_directive_switches_continuations() {
        let text = "# escape=`\nFROM mcr.microsoft.com/windows\nRUN dir `\n  c:\\\nUSER x\n";
        let parsed = parse(text);
        assert_eq!(parsed.escape, '`');
        assert_eq!(keywords(&parsed), ["FROM", "RUN", "USER"]);
        assert_eq!(parsed.instructions[1].args_text(), "dir   c:\\");
    }

    #[test]
    fn directives_only_at_the_top() {
        let parsed = parse("# syntax=docker/dockerfile:1\n\n# escape=`\nFROM x\n");
        assert_eq!(parsed.escape, '\\');
        let parsed = parse("# escape=?\nFROM x\n");
        assert_eq!(parsed.errors.len(), 1);
        assert!(parsed.errors[0].message.contains("invalid escape"));
        assert_eq!(parsed.errors[0].range, TextRange::new(9, 10));
    }

    #[test]
    fn flags_and_arguments() {
        let parsed = parse("FROM x\nrun --network=none --mount=type=secret,id=a  echo hi  \n");
        let run = &parsed.instructions[1];
        assert_eq!(run.keyword, Some(Keyword::Run));
        assert_eq!(run.flags.len(), 2);
        assert_eq!(run.args_text(), "echo hi");
    }

    #[test]
    fn heredocs_are_read_after_the_line() {
        let text = "FROM x\nRUN <<EOF bash <<-'TWO'\necho one\nEOF\n\techo two\n\tTWO\nUSER a\n";
        let parsed = parse(text);
        assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
        assert_eq!(keywords(&parsed), ["FROM", "RUN", "USER"]);
        let run = &parsed.instructions[1];
        assert_eq!(run.heredocs.len(), 2);
        assert_eq!(run.heredocs[0].body.text(), "echo one\n");
        assert_eq!(run.heredocs[1].body.text(), "echo two\n");
        let two = run.heredocs[1].body.range(0..8);
        assert_eq!(&text[two.to_range()], "echo two");
        assert!(text[run.span.to_range()].ends_with("\tTWO"));
    }

    #[test]
    fn unterminated_heredoc_recovers_at_the_next_instruction() {
        let text = "FROM x\nRUN <<EOF\necho hi\nEOFF\nUSER app\n";
        let parsed = parse(text);
        assert_eq!(parsed.errors.len(), 1);
        assert_eq!(
            parsed.errors[0].message,
            "unterminated heredoc `EOF` (started here)"
        );
        assert_eq!(&text[parsed.errors[0].range.to_range()], "<<EOF");
        assert_eq!(keywords(&parsed), ["FROM", "RUN", "USER"]);
        assert_eq!(
            parsed.instructions[1].heredocs[0].body.text(),
            "echo hi\nEOFF\n"
        );
    }

    #[test]
    fn exec_form_has_no_heredocs() {
        let parsed = parse("FROM x\nRUN [\"cat\", \"<<EOF\"]\nUSER a\n");
        assert_eq!(keywords(&parsed), ["FROM", "RUN", "USER"]);
        assert!(parsed.instructions[1].heredocs.is_empty());
    }

    #[test]
    fn crlf_and_bom() {
        let text = "\u{feff}FROM x\r\nRUN a \\\r\n  b\r\n";
        let parsed = parse(text);
        assert_eq!(keywords(&parsed), ["FROM", "RUN"]);
        assert_eq!(parsed.instructions[1].args_text(), "a   b");
        assert_eq!(parsed.instructions[0].span, TextRange::new(3, 9));
    }

    #[test]
    fn unterminated_heredoc_at_the_end_stays_inside_the_text() {
        let text = "FROM x\nRUN <<EOF\necho \"open";
        let parsed = parse(text);
        let body = &parsed.instructions[1].heredocs[0].body;
        assert_eq!(body.text(), "echo \"open");
        assert_eq!(body.range(0..body.text().len()).end as usize, text.len());
        let crlf = parse("FROM x\r\nRUN <<EOF\r\na\r\nEOF\r\n");
        assert_eq!(crlf.instructions[1].heredocs[0].body.text(), "a\n");
    }

    #[test]
    fn many_unterminated_heredocs_stay_linear() {
        let text = "FROM x\n".to_owned() + &"RUN <<A\necho\n".repeat(5_000);
        let parsed = parse(&text);
        assert_eq!(parsed.instructions.len(), 5_001);
        assert_eq!(parsed.errors.len(), 5_000);
    }

    #[test]
    fn instructions_are_capped() {
        let text = "FROM x\n".to_owned() + &"RUN a\n".repeat(MAX_INSTRUCTIONS);
        let parsed = parse(&text);
        assert_eq!(parsed.instructions.len(), MAX_INSTRUCTIONS);
        assert_eq!(
            parsed.errors[0].message,
            "more than 10000 instructions: the rest of the file is not read"
        );
    }

    #[test]
    fn unknown_keywords_are_kept() {
        let parsed = parse("FORM x\n");
        assert_eq!(parsed.instructions[0].keyword, None);
        assert_eq!(parsed.instructions[0].keyword_text(), "FORM");
    }
}
