//! The project's `.env` file, read as compose-go reads it.
//!
//! One `KEY=VALUE` per line (`KEY: VALUE` too), optionally after `export `; `#` starts a comment line
//! or, after whitespace, an inline comment of an unquoted value. Single-quoted values are literal;
//! double-quoted values take `\n`-style escapes; both may span lines. Unquoted and double-quoted values
//! are interpolated from the variables defined above them and the environment. A `KEY` alone takes
//! its value from the environment, and is skipped when the environment does not set it.

use std::collections::HashMap;

use super::interpolate::{interpolate, Variables};
use crate::budget::ExpansionBudget;

/// A problem in a `.env` file: byte offset and message.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct DotenvError {
    pub(crate) offset: usize,
    pub(crate) message: String,
}

/// A variable a `.env` file sets to a value written in it (not interpolated): where the name and the
/// value are, for the audit of committed secrets.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Literal {
    pub(crate) name: String,
    pub(crate) name_range: std::ops::Range<usize>,
    pub(crate) value: String,
    pub(crate) value_range: std::ops::Range<usize>,
}

/// What a `.env` file defines, and what went wrong reading it.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Dotenv {
    /// The variables defined, in order of first definition.
    pub(crate) pairs: Vec<(String, String)>,
    /// Every definition by a written value, located.
    pub(crate) literals: Vec<Literal>,
    /// Every problem, located. A syntax error ends the file; a value that cannot be interpolated
    /// is left undefined.
    pub(crate) errors: Vec<DotenvError>,
}

impl Dotenv {
    /// Whether some definition was lost: a variable it does not set may be meant to be set.
    pub(crate) fn incomplete(&self) -> bool {
        !self.errors.is_empty()
    }
}

/// Parses `text`; `environment` is the process (or given) environment used for `KEY`-alone lines and
/// interpolation, whose output is charged to `budget`.
pub(crate) fn parse(
    text: &str,
    environment: &[(String, String)],
    budget: &ExpansionBudget,
) -> Dotenv {
    let mut dotenv = Dotenv::default();
    if let Err(error) = parse_into(text, environment, budget, &mut dotenv) {
        dotenv.errors.push(error);
    }
    dotenv
}

fn parse_into(
    text: &str,
    environment: &[(String, String)],
    budget: &ExpansionBudget,
    dotenv: &mut Dotenv,
) -> Result<(), DotenvError> {
    let Dotenv {
        pairs,
        literals,
        errors,
    } = dotenv;
    let mut parser = Parser { text, pos: 0 };
    let mut positions: HashMap<String, usize> = HashMap::new();
    let mut variables = Variables::new(environment.iter().cloned(), []);
    while parser.skip_blank_and_comments() {
        let line_start = parser.pos;
        let key = parser.key()?;
        match parser.peek() {
            Some(b'=' | b':') => parser.pos += 1,
            _ => {
                parser.expect_line_end()?;
                if let Some((_, value)) = environment.iter().find(|(name, _)| *name == key) {
                    let value = value.clone();
                    define(pairs, &mut positions, &mut variables, key, value);
                }
                continue;
            }
        }
        parser.skip_inline_spaces();
        let value_start = parser.pos;
        let (raw, expand) = parser.value()?;
        if !(expand && raw.contains('$')) {
            let name_start = line_start + text[line_start..].find(key.as_str()).unwrap_or(0);
            let value_end = text[value_start..]
                .find(['\n', '\r'])
                .map_or(text.len(), |end| value_start + end);
            literals.push(Literal {
                name: key.clone(),
                name_range: name_start..name_start + key.len(),
                value: raw.clone(),
                value_range: value_start..value_end.max(value_start),
            });
        }
        let value = if expand && raw.contains('$') {
            match interpolate(&raw, &variables, budget) {
                // A value built from a lost one is unknown too: left undefined, not made empty.
                Ok(interpolated) if interpolated.missing && !errors.is_empty() => continue,
                Ok(interpolated) => interpolated.text,
                Err(error) => {
                    errors.push(DotenvError {
                        offset: line_start,
                        message: format!("`{key}`: {}", error.into_message()),
                    });
                    variables.set_incomplete();
                    continue;
                }
            }
        } else {
            raw
        };
        define(pairs, &mut positions, &mut variables, key, value);
    }
    Ok(())
}

/// Records `key=value`: a later definition replaces an earlier one in place.
fn define(
    pairs: &mut Vec<(String, String)>,
    positions: &mut HashMap<String, usize>,
    variables: &mut Variables,
    key: String,
    value: String,
) {
    variables.define(key.clone(), value.clone());
    match positions.get(&key) {
        Some(&index) => pairs[index].1 = value,
        None => {
            positions.insert(key.clone(), pairs.len());
            pairs.push((key, value));
        }
    }
}

struct Parser<'a> {
    text: &'a str,
    pos: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    fn error(&self, message: impl Into<String>) -> DotenvError {
        DotenvError {
            offset: self.pos,
            message: message.into(),
        }
    }

    /// Skips blank lines and comment lines; false at the end of the text.
    fn skip_blank_and_comments(&mut self) -> bool {
        loop {
            while matches!(self.peek(), Some(b' ' | b'\t' | b'\r' | b'\n')) {
                self.pos += 1;
            }
            match self.peek() {
                None => return false,
                Some(b'#') => self.skip_line(),
                Some(_) => return true,
            }
        }
    }

    fn skip_line(&mut self) {
        self.pos = self.text[self.pos..]
            .find('\n')
            .map_or(self.text.len(), |found| self.pos + found + 1);
    }

    fn skip_inline_spaces(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.pos += 1;
        }
    }

    fn key(&mut self) -> Result<String, DotenvError> {
        if self.text[self.pos..].starts_with("export ") {
            self.pos += "export ".len();
            self.skip_inline_spaces();
        }
        let start = self.pos;
        while let Some(byte) = self.peek() {
            if matches!(byte, b'=' | b':' | b'\n' | b'\r' | b' ' | b'\t' | b'#') {
                break;
            }
            self.pos += 1;
        }
        let key = &self.text[start..self.pos];
        self.skip_inline_spaces();
        if key.is_empty() {
            return Err(self.error("a variable name is expected"));
        }
        Ok(key.to_owned())
    }

    /// The end of a line after a key or a quoted value: only a comment may follow.
    fn expect_line_end(&mut self) -> Result<(), DotenvError> {
        self.skip_inline_spaces();
        match self.peek() {
            None | Some(b'\n' | b'\r' | b'#') => {
                self.skip_line();
                Ok(())
            }
            Some(_) => Err(self.error("unexpected text after the value")),
        }
    }

    /// A value and whether it is interpolated.
    fn value(&mut self) -> Result<(String, bool), DotenvError> {
        match self.peek() {
            Some(quote @ (b'\'' | b'"')) => {
                let open = self.pos;
                self.pos += 1;
                let mut value = String::new();
                loop {
                    let Some(ch) = self.text[self.pos..].chars().next() else {
                        self.pos = open;
                        return Err(self.error("unterminated quoted value"));
                    };
                    self.pos += ch.len_utf8();
                    match ch {
                        _ if ch as u32 == u32::from(quote) => break,
                        '\\' if quote == b'"' => {
                            let Some(escaped) = self.text[self.pos..].chars().next() else {
                                continue;
                            };
                            self.pos += escaped.len_utf8();
                            match escaped {
                                'n' => value.push('\n'),
                                'r' => value.push('\r'),
                                't' => value.push('\t'),
                                // `\$` keeps a literal dollar through interpolation.
                                '$' => value.push_str("$$"),
                                other => value.push(other),
                            }
                        }
                        _ => value.push(ch),
                    }
                }
                self.expect_line_end()?;
                Ok((value, quote == b'"'))
            }
            _ => {
                let start = self.pos;
                let line_end = self.text[start..]
                    .find('\n')
                    .map_or(self.text.len(), |found| start + found);
                let line = &self.text[start..line_end];
                // An inline comment starts at a `#` preceded by whitespace.
                let comment = line
                    .char_indices()
                    .find(|&(index, ch)| {
                        ch == '#' && (index == 0 || line[..index].ends_with([' ', '\t']))
                    })
                    .map_or(line.len(), |(index, _)| index);
                self.pos = line_end;
                Ok((line[..comment].trim().to_owned(), true))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Vec<(String, String)> {
        let environment = [("HOME".to_owned(), "/home/me".to_owned())];
        let dotenv = parse(text, &environment, &ExpansionBudget::new(1 << 20));
        assert_eq!(dotenv.errors, []);
        dotenv.pairs
    }

    fn first_error(text: &str) -> DotenvError {
        let mut dotenv = parse(text, &[], &ExpansionBudget::new(1 << 20));
        assert!(dotenv.incomplete());
        dotenv.errors.remove(0)
    }

    fn pair(key: &str, value: &str) -> (String, String) {
        (key.to_owned(), value.to_owned())
    }

    #[test]
    fn reads_every_form() {
        let text = "\
# comment
P=false
export Q = spaced  # inline comment
R='literal ${P} # not a comment'
S=\"line\\nnext ${P}\"
T: colon
U=${P:-x}-${HOME}
HOME
MISSING
V=a#b
W=
MULTI='one
two'
";
        assert_eq!(
            read(text),
            vec![
                pair("P", "false"),
                pair("Q", "spaced"),
                pair("R", "literal ${P} # not a comment"),
                pair("S", "line\nnext false"),
                pair("T", "colon"),
                pair("U", "false-/home/me"),
                pair("HOME", "/home/me"),
                pair("V", "a#b"),
                pair("W", ""),
                pair("MULTI", "one\ntwo"),
            ]
        );
    }

    #[test]
    fn crlf_lines() {
        assert_eq!(
            read("A=1\r\nB=\"2\"\r\n"),
            vec![pair("A", "1"), pair("B", "2")]
        );
    }

    #[test]
    fn later_definitions_win() {
        assert_eq!(
            read("A=1\nB=2\nA=3\n"),
            vec![pair("A", "3"), pair("B", "2")]
        );
    }

    #[test]
    fn errors_are_located() {
        let error = first_error("A=1\nB='open\n");
        assert_eq!(error.offset, 6);
        let error = first_error("A=\"x\" y\n");
        assert!(error.message.contains("after the value"));
    }

    #[test]
    fn doubling_stops_at_the_budget_and_keeps_what_came_before() {
        let mut text = "A0=xxxxxxxxxxxxxxxx\n".to_owned();
        for i in 1..40 {
            text.push_str(&format!("A{i}=${{A{}}}${{A{}}}\n", i - 1, i - 1));
        }
        text.push_str("LAST=kept\n");
        let budget = ExpansionBudget::for_input(text.len());
        let dotenv = parse(&text, &[], &budget);
        assert!(dotenv.incomplete());
        assert!(
            dotenv.errors[0].message.contains("judged unknown"),
            "{:?}",
            dotenv.errors
        );
        let total: usize = dotenv.pairs.iter().map(|(_, value)| value.len()).sum();
        assert!(total <= 2 * (text.len() * 4 + (1 << 20)), "{total}");
        assert!(dotenv
            .pairs
            .contains(&("LAST".to_owned(), "kept".to_owned())));
        assert!(!dotenv.pairs.iter().any(|(key, _)| key == "A39"));
    }
}
