//! [`Message`]: text that may be printed, and cannot carry raw input.
//!
//! An input error's message is built with [`message!`](crate::message!) from a static format string
//! and [`Fragment`]s: static text, numbers, other messages and [`Quoted`] input. A `String` is not a
//! fragment, so quoting input means wrapping it in [`Quoted`], which masks every secret the detectors
//! know ([`crate::mask`]), escapes control characters and cuts it short. `format!("… `{token}`")`
//! does not compile where a `Message` is expected.

use std::fmt;

use crate::mask::mask;

/// Quoted input longer than this many characters is cut, with `…`.
const LONGEST_QUOTE: usize = 80;

/// Printable text built only from static text and [`Fragment`]s.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Message(String);

impl Message {
    /// A message of static text.
    pub fn new(text: &'static str) -> Self {
        Self(text.to_owned())
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Appends a fragment.
    pub fn push(&mut self, fragment: impl Fragment) -> &mut Self {
        fragment.write_to(&mut self.0);
        self
    }

    /// Builds a message from formatting arguments whose every argument is a [`Fragment`]. Called by
    /// [`message!`](crate::message!), which wraps each argument so that only fragments compile.
    #[doc(hidden)]
    pub fn from_fragments(arguments: fmt::Arguments<'_>) -> Self {
        Self(arguments.to_string())
    }
}

impl From<&'static str> for Message {
    fn from(text: &'static str) -> Self {
        Self::new(text)
    }
}

impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A piece of a [`Message`]: something that cannot hold raw input, or input that was masked.
pub trait Fragment {
    /// Appends the fragment's printable text.
    fn write_to(&self, out: &mut String);
}

impl Fragment for &'static str {
    fn write_to(&self, out: &mut String) {
        out.push_str(self);
    }
}

impl Fragment for Message {
    fn write_to(&self, out: &mut String) {
        out.push_str(&self.0);
    }
}

impl<T: Fragment + ?Sized> Fragment for &T
where
    T: NotStr,
{
    fn write_to(&self, out: &mut String) {
        (**self).write_to(out);
    }
}

/// Types whose references are fragments (a `&&'static str` is, a `&str` is not).
pub trait NotStr {}
impl NotStr for Message {}
impl NotStr for &'static str {}
impl NotStr for Quoted<'_> {}

macro_rules! numbers {
    ($($number:ty),*) => {$(
        impl Fragment for $number {
            fn write_to(&self, out: &mut String) {
                out.push_str(&self.to_string());
            }
        }
        impl NotStr for $number {}
    )*};
}
numbers!(u8, u16, u32, u64, usize, i32, i64, f64);

/// Input quoted in a message: secrets masked, control characters escaped, long text cut.
#[derive(Clone, Copy, Debug)]
pub struct Quoted<'a>(pub &'a str);

impl Fragment for Quoted<'_> {
    fn write_to(&self, out: &mut String) {
        let masked = mask(self.0);
        let mut chars = masked.chars();
        let shown: String = chars.by_ref().take(LONGEST_QUOTE).collect();
        out.push_str(&escape_control(&shown));
        if chars.next().is_some() {
            out.push('…');
        }
    }
}

/// The printable form of one fragment, for the formatting arguments of [`message!`](crate::message!).
#[doc(hidden)]
pub struct Printable<'f, F: Fragment + ?Sized>(pub &'f F);

impl<F: Fragment + ?Sized> fmt::Display for Printable<'_, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut text = String::new();
        self.0.write_to(&mut text);
        f.write_str(&text)
    }
}

/// `text` with control characters written as escapes (`\n`, `\u{1b}`), so that input printed in a
/// report cannot start a new line or drive a terminal.
pub fn escape_control(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return std::borrow::Cow::Borrowed(text);
    }
    std::borrow::Cow::Owned(
        text.chars()
            .map(|c| {
                if c.is_control() {
                    c.escape_default().to_string()
                } else {
                    c.to_string()
                }
            })
            .collect(),
    )
}

/// Whether a format string captures a variable by name (`{value}`), which would bypass the
/// [`Fragment`] check: [`message!`](crate::message!) refuses such a format at compile time.
#[doc(hidden)]
pub const fn captures_by_name(format: &str) -> bool {
    let bytes = format.as_bytes();
    let mut index = 0;
    while index + 1 < bytes.len() {
        if bytes[index] == b'{' {
            if bytes[index + 1] == b'{' {
                index += 2;
                continue;
            }
            if bytes[index + 1].is_ascii_alphabetic() || bytes[index + 1] == b'_' {
                return true;
            }
        }
        index += 1;
    }
    false
}

/// Builds a [`Message`] like `format!`, from arguments that are all [`Fragment`]s: quote input with
/// [`Quoted`]. Arguments are positional only (`{}`); a captured `{name}` does not compile.
#[macro_export]
macro_rules! message {
    ($format:literal $(, $argument:expr)* $(,)?) => {{
        const _: () = assert!(
            !$crate::message::captures_by_name($format),
            "message!: pass arguments as fragments (`{{}}` and `Quoted(…)`), not captured by name"
        );
        $crate::Message::from_fragments(::std::format_args!(
            $format $(, $crate::message::Printable(&$argument))*
        ))
    }};
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_input_masked_escaped_and_cut() {
        let line = "DB_PASSWORD=hunter2hunter2\nfake line";
        let built = message!("invalid entry `{}` at {}", Quoted(line), 3usize);
        assert_eq!(
            built.as_str(),
            "invalid entry `DB_PASSWORD=**************\\nfake line` at 3"
        );
        let long = "x".repeat(200);
        assert_eq!(message!("{}", Quoted(&long)).as_str().chars().count(), 81);
        assert_eq!(
            message!("{} then {}", "static", Message::new("nested")).as_str(),
            "static then nested"
        );
        assert!(captures_by_name("found `{value}`"));
        assert!(!captures_by_name("found `{}` {{literal}}"));
    }
}
