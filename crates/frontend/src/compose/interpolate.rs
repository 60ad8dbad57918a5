//! Compose variable interpolation, as `docker compose` applies it to every value of a file.
//!
//! `$$` is a literal `$`; `$NAME` and `${NAME}` are the variable (empty when unset); in braces,
//! `:-`/`-` give a default when the variable is unset or empty/unset, `:?`/`?` make it required,
//! `:+`/`+` give a replacement when it is set and non-empty/set. Defaults, replacements and error
//! texts are interpolated themselves, so they nest (`${A:-${B:-x}}`). A `$` before anything else is
//! kept literally, as compose-go does.
//!
//! Besides the text, the result tells whether any variable's value went into it: a value that comes
//! from the environment or `.env` is not written in the Compose file, which matters to the secrets
//! rules (`PASSWORD: ${PASSWORD}` is the recommended pattern, not a leaked secret).
//!
//! Expansion is bounded: a value holds at most [`MAX_VALUE_BYTES`], and every substituted value is
//! charged to the project's [`ExpansionBudget`] (the `.env` files' own expansions included), so a
//! `.env` of `A1=${A0}${A0}` lines cannot double its way to gigabytes.

use std::collections::HashMap;

use crate::budget::{ExpansionBudget, MAX_VALUE_BYTES};

/// Nesting of defaults within defaults beyond this is refused: it bounds the recursion on hostile
/// input (no real file nests more than two or three levels).
const MAX_NESTING: usize = 32;

/// The variables a Compose file is interpolated from: the environment, which wins, then the
/// project's `.env`.
#[derive(Debug, Default, Clone)]
pub(crate) struct Variables {
    external: HashMap<String, String>,
    dotenv: HashMap<String, String>,
    /// A `.env` file could not be read in full: a variable that is not set may be set there, so
    /// every value that names one is unknown, defaults included.
    incomplete: bool,
}

impl Variables {
    /// Variables from `external` (the environment) and `dotenv` (the project's `.env`).
    pub(crate) fn new(
        external: impl IntoIterator<Item = (String, String)>,
        dotenv: impl IntoIterator<Item = (String, String)>,
    ) -> Self {
        Self {
            external: external.into_iter().collect(),
            dotenv: dotenv.into_iter().collect(),
            incomplete: false,
        }
    }

    /// Marks these variables as missing what an unreadable `.env` would have set.
    pub(crate) fn set_incomplete(&mut self) {
        self.incomplete = true;
    }

    /// Defines a `.env` variable (the environment still wins).
    pub(crate) fn define(&mut self, name: String, value: String) {
        self.dotenv.insert(name, value);
    }

    /// The value of `name`, when set (possibly empty).
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.external
            .get(name)
            .or_else(|| self.dotenv.get(name))
            .map(String::as_str)
    }
}

/// An interpolated value.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Interpolated {
    /// The text after substitution.
    pub(crate) text: String,
    /// Whether a variable's value (rather than only text written in the file) went into it.
    pub(crate) substituted: bool,
    /// Whether a variable it names without a default is unset (it became empty).
    pub(crate) missing: bool,
}

/// Why a value could not be interpolated: the message for the value's location.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum InterpolateError {
    /// The template is malformed, or a required variable is missing: Compose would refuse it.
    Invalid(String),
    /// The value would exceed [`MAX_VALUE_BYTES`] or the budget: it is unknown here.
    TooLarge(String),
}

impl InterpolateError {
    pub(crate) fn into_message(self) -> String {
        match self {
            Self::Invalid(message) | Self::TooLarge(message) => message,
        }
    }
}

/// Interpolates `template`, charging substituted values to `budget`.
pub(crate) fn interpolate(
    template: &str,
    variables: &Variables,
    budget: &ExpansionBudget,
) -> Result<Interpolated, InterpolateError> {
    let mut expander = Expander {
        variables,
        substituted: false,
        missing: false,
        template,
        budget,
    };
    let mut text = String::with_capacity(template.len());
    expander.expand(template, 0, &mut text)?;
    Ok(Interpolated {
        text,
        substituted: expander.substituted,
        missing: expander.missing,
    })
}

struct Expander<'a> {
    variables: &'a Variables,
    substituted: bool,
    missing: bool,
    /// The whole value, for error messages.
    template: &'a str,
    budget: &'a ExpansionBudget,
}

impl Expander<'_> {
    fn expand(
        &mut self,
        input: &str,
        depth: usize,
        out: &mut String,
    ) -> Result<(), InterpolateError> {
        if depth > MAX_NESTING {
            return Err(InterpolateError::Invalid(format!(
                "interpolation nested more than {MAX_NESTING} levels deep"
            )));
        }
        let bytes = input.as_bytes();
        let mut rest_start = 0;
        let mut cursor = 0;
        while let Some(found) = input[cursor..].find('$') {
            let dollar = cursor + found;
            out.push_str(&input[rest_start..dollar]);
            cursor = match bytes.get(dollar + 1) {
                Some(b'$') => {
                    out.push('$');
                    dollar + 2
                }
                Some(b'{') => {
                    let Some(close) = matching_brace(bytes, dollar + 1) else {
                        return Err(self.invalid("unclosed `${`"));
                    };
                    self.braced(&input[dollar + 2..close], depth, out)?;
                    close + 1
                }
                Some(&byte) if byte == b'_' || byte.is_ascii_alphabetic() => {
                    let end = name_end(bytes, dollar + 1);
                    self.push_variable(&input[dollar + 1..end], out)?;
                    end
                }
                _ => {
                    out.push('$');
                    dollar + 1
                }
            };
            rest_start = cursor;
        }
        out.push_str(&input[rest_start..]);
        Ok(())
    }

    /// The inside of `${…}`: a name and an optional operator with its argument.
    fn braced(
        &mut self,
        body: &str,
        depth: usize,
        out: &mut String,
    ) -> Result<(), InterpolateError> {
        let bytes = body.as_bytes();
        let starts_name = bytes
            .first()
            .is_some_and(|&byte| byte == b'_' || byte.is_ascii_alphabetic());
        if !starts_name {
            return Err(self.invalid("a variable name must follow `${`"));
        }
        let name = &body[..name_end(bytes, 0)];
        let rest = &body[name.len()..];
        if rest.is_empty() {
            return self.push_variable(name, out);
        }
        let (operator, argument) = [":-", ":?", ":+", "-", "?", "+"]
            .iter()
            .find_map(|op| rest.strip_prefix(op).map(|argument| (*op, argument)))
            .ok_or_else(|| self.invalid("unknown operator after the variable name"))?;
        let value = self.variables.get(name);
        if value.is_none() && self.variables.incomplete {
            self.missing = true;
        }
        let empty_or_unset = value.is_none_or(str::is_empty);
        match operator {
            ":-" | "-" => {
                let use_default = if operator == ":-" {
                    empty_or_unset
                } else {
                    value.is_none()
                };
                if use_default {
                    self.expand(argument, depth + 1, out)?;
                } else {
                    self.push_value(value.unwrap_or_default(), out)?;
                }
            }
            ":?" | "?" => {
                let missing = if operator == ":?" {
                    empty_or_unset
                } else {
                    value.is_none()
                };
                if missing {
                    let mut reason = String::new();
                    self.expand(argument, depth + 1, &mut reason)?;
                    return Err(InterpolateError::Invalid(if reason.is_empty() {
                        format!("required variable `{name}` is missing a value")
                    } else {
                        format!("required variable `{name}` is missing a value: {reason}")
                    }));
                }
                self.push_value(value.unwrap_or_default(), out)?;
            }
            _ => {
                let replace = if operator == ":+" {
                    !empty_or_unset
                } else {
                    value.is_some()
                };
                if replace {
                    self.expand(argument, depth + 1, out)?;
                }
            }
        }
        Ok(())
    }

    fn push_variable(&mut self, name: &str, out: &mut String) -> Result<(), InterpolateError> {
        match self.variables.get(name) {
            Some(value) => self.push_value(value, out),
            None => {
                self.missing = true;
                Ok(())
            }
        }
    }

    /// Appends a variable's value, within the value's bound and the budget.
    fn push_value(&mut self, value: &str, out: &mut String) -> Result<(), InterpolateError> {
        let bound = self.template.len().saturating_add(MAX_VALUE_BYTES);
        if out.len().saturating_add(value.len()) > bound {
            return Err(InterpolateError::TooLarge(format!(
                "interpolated value larger than {} KiB; not expanded, judged unknown",
                MAX_VALUE_BYTES / 1024
            )));
        }
        if !self.budget.take(value.len()) {
            return Err(InterpolateError::TooLarge(
                "interpolation produces more than the project's budget (4 bytes per byte of its files and 1 MiB); this value is not expanded, judged unknown".to_owned(),
            ));
        }
        if !value.is_empty() {
            self.substituted = true;
        }
        out.push_str(value);
        Ok(())
    }

    fn invalid(&self, why: &str) -> InterpolateError {
        const SHOWN: usize = 60;
        let shown: String = self.template.chars().take(SHOWN).collect();
        let ellipsis = if shown.len() < self.template.len() {
            "…"
        } else {
            ""
        };
        InterpolateError::Invalid(format!(
            "invalid interpolation in `{shown}{ellipsis}`: {why}"
        ))
    }
}

/// The end of the variable name that starts at `start`.
fn name_end(bytes: &[u8], start: usize) -> usize {
    bytes[start..]
        .iter()
        .position(|&byte| !(byte == b'_' || byte.is_ascii_alphanumeric()))
        .map_or(bytes.len(), |length| start + length)
}

/// The `}` that closes the `{` at `open`, counting nested braces.
fn matching_brace(bytes: &[u8], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (index, &byte) in bytes.iter().enumerate().skip(open) {
        match byte {
            b'{' => depth += 1,
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(index);
                }
            }
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn variables() -> Variables {
        Variables::new(
            [
                ("SET".to_owned(), "value".to_owned()),
                ("EMPTY".to_owned(), String::new()),
                ("P".to_owned(), "from-env".to_owned()),
            ],
            [
                ("P".to_owned(), "from-dotenv".to_owned()),
                ("DOTENV".to_owned(), "dot".to_owned()),
            ],
        )
    }

    fn expand(template: &str) -> Result<String, String> {
        interpolate(template, &variables(), &ExpansionBudget::new(1 << 20))
            .map(|result| result.text)
            .map_err(InterpolateError::into_message)
    }

    #[test]
    fn every_operator() {
        let cases = [
            ("${SET}", "value"),
            ("$SET", "value"),
            ("$SET-x", "value-x"),
            ("${UNSET}", ""),
            ("${UNSET:-d}", "d"),
            ("${EMPTY:-d}", "d"),
            ("${SET:-d}", "value"),
            ("${UNSET-d}", "d"),
            ("${EMPTY-d}", ""),
            ("${SET:+alt}", "alt"),
            ("${EMPTY:+alt}", ""),
            ("${EMPTY+alt}", "alt"),
            ("${UNSET+alt}", ""),
            ("${SET:?err}", "value"),
            ("${EMPTY?err}", ""),
            ("${UNSET:-${SET}}", "value"),
            ("${UNSET:-${ALSO_UNSET:-deep}}", "deep"),
            ("${UNSET:-a:b}", "a:b"),
            ("$${SET}", "${SET}"),
            ("$$SET", "$SET"),
            ("cost: 5$", "cost: 5$"),
            ("echo $1 $(x)", "echo $1 $(x)"),
            ("${P}", "from-env"),
            ("${DOTENV}", "dot"),
            ("a${SET}b${SET}c", "avaluebvaluec"),
            ("é${SET}é", "évalueé"),
        ];
        for (template, expected) in cases {
            assert_eq!(expand(template).as_deref(), Ok(expected), "{template}");
        }
    }

    #[test]
    fn required_variables_fail_with_their_message() {
        assert_eq!(
            expand("${UNSET:?set it in .env}"),
            Err("required variable `UNSET` is missing a value: set it in .env".to_owned())
        );
        assert_eq!(
            expand("${EMPTY:?}"),
            Err("required variable `EMPTY` is missing a value".to_owned())
        );
        assert!(expand("${UNSET?x}").is_err());
        assert!(expand("${UNSET:-${OTHER:?inner}}").is_err());
    }

    #[test]
    fn malformed_templates_are_errors() {
        for template in ["${", "${SET", "${}", "${ SET}", "${1A}", "${SET!x}"] {
            let error = expand(template).expect_err(template);
            assert!(error.starts_with("invalid interpolation"), "{error}");
        }
    }

    #[test]
    fn tells_whether_a_variable_was_substituted() {
        let vars = variables();
        let budget = ExpansionBudget::new(1 << 20);
        let check = |template: &str| {
            interpolate(template, &vars, &budget)
                .map(|result| result.substituted)
                .expect(template)
        };
        assert!(check("${SET}"));
        assert!(check("prefix-$SET"));
        assert!(!check("${UNSET:-literal}"));
        assert!(!check("${SET:+literal}"));
        assert!(!check("plain"));
        assert!(!check("$${SET}"));
        let missing = interpolate("${UNSET}:${SET}", &vars, &budget).expect("valid");
        assert!(missing.missing);
        assert!(
            !interpolate("${UNSET:-x}", &vars, &budget)
                .expect("valid")
                .missing
        );
    }

    #[test]
    fn output_is_bounded_per_value_and_by_the_budget() {
        let big = "x".repeat(600 * 1024);
        let vars = Variables::new([("BIG".to_owned(), big)], []);
        let budget = ExpansionBudget::new(4 << 20);
        assert!(interpolate("${BIG}", &vars, &budget).is_ok());
        let error = interpolate("${BIG}${BIG}", &vars, &budget).expect_err("per value");
        assert!(matches!(error, InterpolateError::TooLarge(_)), "{error:?}");
        let small = ExpansionBudget::new(1024 * 1024);
        assert!(interpolate("${BIG}", &vars, &small).is_ok());
        let error = interpolate("${BIG}", &vars, &small).expect_err("budget");
        assert!(error.into_message().contains("budget"));
    }

    #[test]
    fn unset_variables_are_unknown_when_a_dotenv_was_lost() {
        let mut vars = variables();
        vars.set_incomplete();
        let budget = ExpansionBudget::new(1 << 20);
        for template in ["${UNSET:-root}", "${UNSET-root}", "$UNSET"] {
            assert!(
                interpolate(template, &vars, &budget)
                    .expect("valid")
                    .missing,
                "{template}"
            );
        }
        assert!(
            !interpolate("${SET:-root}", &vars, &budget)
                .expect("valid")
                .missing
        );
    }

    #[test]
    fn nesting_is_bounded() {
        let template = format!("{}x{}", "${A:-".repeat(1000), "}".repeat(1000));
        let error = expand(&template).expect_err("too deep");
        assert!(error.contains("nested"), "{error}");
    }
}
