//! Variable expansion and quote removal in instruction arguments, as BuildKit's `shell.Lex` does it.
//!
//! BuildKit expands `$NAME`, `${NAME}`, `${NAME:-default}`, `${NAME-default}`, `${NAME:+alt}`,
//! `${NAME+alt}`, `${NAME:?message}`, `${NAME#pattern}`, `${NAME##pattern}`, `${NAME%pattern}`,
//! `${NAME%%pattern}` and `${NAME/pattern/replacement}` (`//` for every match) in the arguments of
//! `FROM`, `ENV`, `ARG`, `USER`, `WORKDIR`, `COPY`, `ADD`, `EXPOSE`, `VOLUME` and in flag values,
//! removes quotes, and applies the escape character. `RUN`, `CMD` and `ENTRYPOINT` are not expanded:
//! their shell does that when the image is built or run.
//!
//! A variable the Dockerfile gives no value (an `ARG` without a default, or a name declared nowhere,
//! which the base image may set) cannot be expanded statically. A bare reference to one stays as
//! written (`$APP_USER`) and the result is marked unresolved, so that a rule can say "unknown" rather
//! than guess; `${NAME:-default}` takes the default, as the build would without a `--build-arg`. A
//! substitution BuildKit does not support (`${NAME:1:2}`, a template's `${templateOption:name}`) is
//! kept the same way.
//!
//! Expansion is bounded: every result is charged to a budget (a Dockerfile of `ENV A=$A$A` lines
//! must not double its way to gigabytes), pattern substitutions are limited in the work they do, and
//! nesting is limited. A value past a bound is unresolved *and* marked [`Var::gave_up`], so that the
//! lowering reports it: a bound must never silently turn `USER ${A//x/}root` into "unknown".

use crate::budget::ExpansionBudget;

/// A variable's value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Var {
    /// The value.
    pub(crate) value: String,
    /// Whether it was built from a variable whose value is not known.
    pub(crate) unresolved: bool,
    /// Whether it is unknown because an expansion bound was reached (not because the Dockerfile
    /// leaves it to the build): the lowering reports it as an error.
    pub(crate) gave_up: bool,
}

impl Var {
    /// A known value.
    pub(crate) fn known(value: impl Into<String>) -> Self {
        Self {
            value: value.into(),
            unresolved: false,
            gave_up: false,
        }
    }

    /// A value left as written, unknown.
    pub(crate) fn unknown(value: impl Into<String>) -> Self {
        Self {
            value: value.into(),
            unresolved: true,
            gave_up: false,
        }
    }
}

/// The variables visible where a word is expanded.
pub(crate) trait Scope {
    /// The value of `name`, or `None` when it has none here.
    fn lookup(&self, name: &str) -> Option<&Var>;

    /// Whether variables were dropped from this scope at a bound (a name it lacks may then have a
    /// value the build knows).
    fn incomplete(&self) -> bool {
        false
    }
}

/// An expansion error, at a byte offset in the word.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ExpandError {
    /// Where in the word.
    pub(crate) offset: usize,
    /// What, lowercase, no trailing period.
    pub(crate) message: String,
}

/// How deeply `${…}` may nest.
const MAX_DEPTH: usize = 32;

/// The most work a `${NAME#pattern}` style operation may do (value length squared times pattern
/// length: the match is tried at every cut); past it, the result is unresolved.
const MAX_PATTERN_WORK: usize = 1 << 22;

fn pattern_work_allowed(value: &str, pattern: &str) -> bool {
    value
        .len()
        .saturating_mul(value.len())
        .saturating_mul(pattern.len() + 1)
        <= MAX_PATTERN_WORK
}

/// Expands words in one scope, charging every substituted value to a shared budget.
pub(crate) struct Expander<'a> {
    escape: char,
    scope: &'a dyn Scope,
    budget: &'a ExpansionBudget,
}

impl<'a> Expander<'a> {
    /// An expander for words written with `escape`, looking variables up in `scope`.
    pub(crate) fn new(escape: char, scope: &'a dyn Scope, budget: &'a ExpansionBudget) -> Self {
        Self {
            escape,
            scope,
            budget,
        }
    }

    /// `word` expanded, quotes removed (BuildKit's `ProcessWord`).
    pub(crate) fn word(&self, word: &str) -> Result<Var, ExpandError> {
        let mut lexer = Lexer {
            expander: self,
            word,
            pos: 0,
            depth: 0,
        };
        lexer.process(None)
    }
}

struct Lexer<'e, 'w> {
    expander: &'e Expander<'e>,
    word: &'w str,
    pos: usize,
    depth: usize,
}

impl Lexer<'_, '_> {
    fn peek(&self) -> Option<char> {
        self.word[self.pos..].chars().next()
    }

    fn bump(&mut self) -> Option<char> {
        let ch = self.peek()?;
        self.pos += ch.len_utf8();
        Some(ch)
    }

    fn error(&self, message: impl Into<String>) -> ExpandError {
        ExpandError {
            offset: self.pos.min(self.word.len()),
            message: message.into(),
        }
    }

    /// Processes up to `stop` (consumed) or the end of the word.
    fn process(&mut self, stop: Option<char>) -> Result<Var, ExpandError> {
        let mut out = Var::known(String::new());
        loop {
            let Some(ch) = self.peek() else {
                return match stop {
                    Some(stop) => Err(self.error(format!(
                        "unexpected end of text while looking for matching `{stop}`"
                    ))),
                    None => Ok(out),
                };
            };
            if Some(ch) == stop {
                self.bump();
                return Ok(out);
            }
            match ch {
                '\'' => {
                    self.bump();
                    let start = self.pos;
                    let Some(len) = self.word[start..].find('\'') else {
                        return Err(self.error(
                            "unexpected end of text while looking for matching single quote",
                        ));
                    };
                    out.value.push_str(&self.word[start..start + len]);
                    self.pos = start + len + 1;
                }
                '"' => {
                    self.bump();
                    self.double_quoted(&mut out)?;
                }
                '$' => self.dollar(&mut out)?,
                ch if ch == self.expander.escape => {
                    self.bump();
                    if let Some(next) = self.bump() {
                        out.value.push(next);
                    }
                }
                ch => {
                    self.bump();
                    out.value.push(ch);
                }
            }
        }
    }

    fn double_quoted(&mut self, out: &mut Var) -> Result<(), ExpandError> {
        let escape = self.expander.escape;
        loop {
            match self.peek() {
                None => {
                    return Err(self
                        .error("unexpected end of text while looking for matching double quote"))
                }
                Some('"') => {
                    self.bump();
                    return Ok(());
                }
                Some('$') => self.dollar(out)?,
                Some(ch) => {
                    self.bump();
                    if ch == escape {
                        match self.peek() {
                            None => continue,
                            Some(next) if next == '"' || next == '$' || next == escape => {
                                self.bump();
                                out.value.push(next);
                                continue;
                            }
                            Some(_) => {}
                        }
                    }
                    out.value.push(ch);
                }
            }
        }
    }

    fn name(&mut self) -> &str {
        let start = self.pos;
        let first_is_digit = self.peek().is_some_and(|ch| ch.is_ascii_digit());
        while let Some(ch) = self.peek() {
            let part_of_name = if first_is_digit {
                ch.is_ascii_digit()
            } else {
                ch.is_ascii_alphanumeric() || ch == '_'
            };
            if !part_of_name {
                break;
            }
            self.bump();
        }
        &self.word[start..self.pos]
    }

    /// Appends a variable's value, or the reference as written when it has none (or the budget is
    /// spent, which marks the result [`Var::gave_up`]).
    fn substitute(&self, out: &mut Var, value: Option<&Var>, reference: &str) {
        let budget = self.expander.budget;
        match value {
            Some(var) if budget.take(var.value.len()) => {
                out.value.push_str(&var.value);
                out.unresolved |= var.unresolved;
                out.gave_up |= var.gave_up;
            }
            Some(_) => {
                out.value.push_str(reference);
                out.unresolved = true;
                out.gave_up = true;
            }
            None => {
                out.value.push_str(reference);
                out.unresolved = true;
                out.gave_up |= self.expander.scope.incomplete();
            }
        }
    }

    fn dollar(&mut self, out: &mut Var) -> Result<(), ExpandError> {
        let start = self.pos;
        self.bump();
        if self.peek() != Some('{') {
            let name = self.name().to_owned();
            if name.is_empty() {
                out.value.push('$');
            } else {
                let value = self.expander.scope.lookup(&name);
                self.substitute(out, value, &self.word[start..self.pos]);
            }
            return Ok(());
        }
        self.bump();
        if self.depth >= MAX_DEPTH {
            return Err(self.error("variable substitution nested too deeply"));
        }
        let name = self.name().to_owned();
        if name.is_empty() {
            return Err(self.error("bad substitution: expected a variable name after `${`"));
        }
        let value = self.expander.scope.lookup(&name).cloned();
        let set_and_not_empty = value.as_ref().is_some_and(|var| !var.value.is_empty());
        let op = self.bump();
        self.depth += 1;
        let result = match op {
            Some('}') => {
                self.depth -= 1;
                self.substitute(out, value.as_ref(), &self.word[start..self.pos]);
                return Ok(());
            }
            Some(':') => match self.bump() {
                Some(op @ ('-' | '+' | '?')) => {
                    let word = self.process(Some('}'))?;
                    Some(self.conditional(op, set_and_not_empty, value, word))
                }
                _ => Some(self.unsupported()?),
            },
            Some(op @ ('-' | '+' | '?')) => {
                let word = self.process(Some('}'))?;
                let is_set = value.is_some();
                Some(self.conditional(op, is_set, value, word))
            }
            Some(op @ ('#' | '%')) => {
                let longest = self.peek() == Some(op);
                if longest {
                    self.bump();
                }
                let pattern = self.process(Some('}'))?;
                value.map(|var| trim_pattern(var, &pattern, op == '#', longest))
            }
            Some('/') => {
                let all = self.peek() == Some('/');
                if all {
                    self.bump();
                }
                let pattern = self.process(Some('/'))?;
                let replacement = self.process(Some('}'))?;
                value.map(|var| replace_pattern(var, &pattern, &replacement, all))
            }
            _ => Some(self.unsupported()?),
        };
        self.depth -= 1;
        let reference = &self.word[start..self.pos];
        match result {
            // Past a bound: the reference as written, unknown, and said so.
            Some(Some(var)) if var.gave_up && var.unresolved => {
                out.value.push_str(reference);
                out.unresolved = true;
                out.gave_up = true;
            }
            // Takes the reference's own value: `None` inside marks it unknown.
            Some(Some(var)) => self.substitute(out, Some(&var), reference),
            Some(None) | None => self.substitute(out, None, reference),
        }
        Ok(())
    }

    /// A substitution BuildKit does not support (`${NAME:1:2}`, or a template placeholder such as
    /// devcontainers' `${templateOption:name}`): the build would fail on it, but what it means is only
    /// unknown, so it is skipped to its `}` and kept as written, unresolved.
    fn unsupported(&mut self) -> Result<Option<Var>, ExpandError> {
        self.process(Some('}'))?;
        Ok(None)
    }

    /// `${NAME:-word}` and friends: the value, the word, or nothing. `None` when the result depends on
    /// a value not known here.
    fn conditional(&self, op: char, is_set: bool, value: Option<Var>, word: Var) -> Option<Var> {
        match (op, is_set) {
            ('-', true) | ('?', true) => value,
            ('-', false) => Some(word),
            ('+', true) => {
                let (unresolved, gave_up) =
                    value.map_or((false, false), |var| (var.unresolved, var.gave_up));
                Some(Var {
                    value: word.value,
                    unresolved: word.unresolved || unresolved,
                    gave_up: word.gave_up || gave_up,
                })
            }
            ('+', false) => Some(Var::known("")),
            // `${NAME:?message}` fails the build when unset: the value is whatever is passed.
            _ => None,
        }
    }
}

/// An unknown value past a bound.
fn gave_up() -> Var {
    Var {
        gave_up: true,
        ..Var::unknown("")
    }
}

/// A pattern operation's result when its inputs are unknown (`None`), or past the work bound.
fn beyond_bound(var: &Var, pattern: &Var) -> Option<Option<Var>> {
    if var.gave_up || pattern.gave_up || !pattern_work_allowed(&var.value, &pattern.value) {
        return Some(Some(gave_up()));
    }
    (var.unresolved || pattern.unresolved).then_some(None)
}

fn trim_pattern(var: Var, pattern: &Var, prefix: bool, longest: bool) -> Option<Var> {
    if let Some(outcome) = beyond_bound(&var, pattern) {
        return outcome;
    }
    let value = &var.value;
    let mut cuts: Vec<usize> = (0..=value.len())
        .filter(|&i| value.is_char_boundary(i))
        .collect();
    if prefix == longest {
        cuts.reverse();
    }
    let kept = cuts.into_iter().find_map(|cut| {
        let (matched, kept) = if prefix {
            (&value[..cut], &value[cut..])
        } else {
            (&value[cut..], &value[..cut])
        };
        glob_match(&pattern.value, matched).then_some(kept)
    });
    Some(Var::known(kept.unwrap_or(value)))
}

fn replace_pattern(var: Var, pattern: &Var, replacement: &Var, all: bool) -> Option<Var> {
    if let Some(outcome) = beyond_bound(&var, pattern) {
        return outcome;
    }
    if replacement.gave_up {
        return Some(gave_up());
    }
    if replacement.unresolved || pattern.value.is_empty() {
        return None;
    }
    let value = &var.value;
    let mut out = String::new();
    let mut pos = 0;
    let mut replaced = false;
    while pos < value.len() {
        let matched = (!replaced || all)
            .then(|| {
                (pos + 1..=value.len())
                    .rev()
                    .filter(|&end| value.is_char_boundary(end))
                    .find(|&end| glob_match(&pattern.value, &value[pos..end]))
            })
            .flatten();
        match matched {
            Some(end) => {
                out.push_str(&replacement.value);
                pos = end;
                replaced = true;
            }
            None => {
                let ch = value[pos..].chars().next().unwrap_or_default();
                out.push(ch);
                pos += ch.len_utf8().max(1);
            }
        }
    }
    Some(Var::known(out))
}

/// Whether `text` matches the shell pattern `pattern` (`*`, `?`, `\` escapes; `[…]` literally).
fn glob_match(pattern: &str, text: &str) -> bool {
    let pattern: Vec<char> = pattern.chars().collect();
    let text: Vec<char> = text.chars().collect();
    let (mut p, mut t) = (0, 0);
    let mut backtrack: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some('*') => {
                backtrack = Some((p, t));
                p += 1;
                continue;
            }
            Some('?') => {
                p += 1;
                t += 1;
                continue;
            }
            Some('\\') if pattern.get(p + 1) == Some(&text[t]) => {
                p += 2;
                t += 1;
                continue;
            }
            Some(&ch) if ch == text[t] => {
                p += 1;
                t += 1;
                continue;
            }
            _ => {}
        }
        match backtrack {
            Some((star, from)) => {
                p = star + 1;
                t = from + 1;
                backtrack = Some((star, from + 1));
            }
            None => return false,
        }
    }
    pattern[p..].iter().all(|&ch| ch == '*')
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    struct Vars(HashMap<&'static str, Var>);

    impl Scope for Vars {
        fn lookup(&self, name: &str) -> Option<&Var> {
            self.0.get(name)
        }
    }

    fn vars() -> Vars {
        Vars(HashMap::from([
            ("A", Var::known("alpha")),
            ("EMPTY", Var::known("")),
            ("PATH_", Var::known("/usr/local/bin/app.tar.gz")),
            ("U", Var::unknown("$X")),
        ]))
    }

    fn expand_with(word: &str, escape: char) -> Result<Var, ExpandError> {
        let scope = vars();
        let budget = ExpansionBudget::new(1 << 20);
        Expander::new(escape, &scope, &budget).word(word)
    }

    fn expand(word: &str) -> (String, bool) {
        let var = expand_with(word, '\\').unwrap();
        (var.value, var.unresolved)
    }

    #[test]
    fn plain_and_braced() {
        assert_eq!(expand("$A-${A}_$A"), ("alpha-alpha_alpha".into(), false));
        assert_eq!(expand("$ and $1x"), ("$ and $1x".into(), true));
        assert_eq!(expand("cost: 5$"), ("cost: 5$".into(), false));
    }

    #[test]
    fn missing_values_stay_as_written() {
        assert_eq!(expand("$NOPE/x"), ("$NOPE/x".into(), true));
        assert_eq!(expand("${NOPE}"), ("${NOPE}".into(), true));
        assert_eq!(expand("$U"), ("$X".into(), true));
    }

    #[test]
    fn defaults_and_alternatives() {
        assert_eq!(expand("${NOPE:-1000}"), ("1000".into(), false));
        assert_eq!(expand("${EMPTY:-d}"), ("d".into(), false));
        assert_eq!(expand("${EMPTY-d}"), ("".into(), false));
        assert_eq!(expand("${A:-d}"), ("alpha".into(), false));
        assert_eq!(expand("${A:+set}"), ("set".into(), false));
        assert_eq!(expand("${NOPE:+set}"), ("".into(), false));
        assert_eq!(expand("${NOPE:-${A}x}"), ("alphax".into(), false));
        assert_eq!(
            expand("${NOPE:?need it}"),
            ("${NOPE:?need it}".into(), true)
        );
        assert_eq!(
            expand("x-${templateOption:variant}"),
            ("x-${templateOption:variant}".into(), true)
        );
        assert_eq!(expand("${A:1:2}"), ("${A:1:2}".into(), true));
    }

    #[test]
    fn patterns() {
        assert_eq!(expand("${PATH_##*/}"), ("app.tar.gz".into(), false));
        assert_eq!(
            expand("${PATH_#*/}"),
            ("usr/local/bin/app.tar.gz".into(), false)
        );
        assert_eq!(
            expand("${PATH_%.*}"),
            ("/usr/local/bin/app.tar".into(), false)
        );
        assert_eq!(expand("${PATH_%%.*}"), ("/usr/local/bin/app".into(), false));
        assert_eq!(expand("${A/l/L}"), ("aLpha".into(), false));
        assert_eq!(expand("${A//a/A}"), ("AlphA".into(), false));
    }

    #[test]
    fn quotes_and_escapes() {
        assert_eq!(
            expand(r#""$A b" '$A' \$A"#),
            ("alpha b $A $A".into(), false)
        );
        assert_eq!(expand(r#""a\"b\c""#), (r#"a"b\c"#.into(), false));
        let var = expand_with("`$A `\"", '`').unwrap();
        assert_eq!(var.value, "$A \"");
    }

    #[test]
    fn errors_are_located() {
        let error = expand_with("x${A", '\\').unwrap_err();
        assert_eq!(error.offset, 4);
        assert!(expand_with("'open", '\\').is_err());
        assert!(expand_with("\"open", '\\').is_err());
        assert!(expand_with("${A:3", '\\').is_err());
    }

    #[test]
    fn budget_bounds_growth() {
        let scope = vars();
        let budget = ExpansionBudget::new(8);
        let expander = Expander::new('\\', &scope, &budget);
        assert_eq!(expander.word("$A").unwrap().value, "alpha");
        let var = expander.word("$A").unwrap();
        assert_eq!(var.value, "$A");
        assert!(var.unresolved);
    }

    #[test]
    fn deep_nesting_is_an_error() {
        let word = "${A:-".repeat(100) + &"}".repeat(100);
        assert!(expand_with(&word, '\\').is_err());
    }

    #[test]
    fn globs() {
        assert!(glob_match("*.gz", "a.tar.gz"));
        assert!(glob_match("a?c", "abc"));
        assert!(!glob_match("a?c", "ac"));
        assert!(glob_match(r"\*", "*"));
        assert!(glob_match("", ""));
    }
}
