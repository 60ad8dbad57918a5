//! Values that may be secrets, and environment variables that hold them.

use std::fmt;

use leastpriv_source::Spanned;

/// A value that may be a secret. Its `Debug`, `Display` and `Serialize` print only a redaction
/// (`<redacted, 19 chars>`), so a secret cannot reach a terminal, a log or a report by accident; rules
/// that must look at it call [`Sensitive::expose`].
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Sensitive(String);

impl Sensitive {
    /// Wraps a value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The value itself, for pattern matching. Never format it into a message.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The redaction printed in its place.
    pub fn redacted(&self) -> String {
        format!("<redacted, {} chars>", self.0.chars().count())
    }
}

impl fmt::Debug for Sensitive {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl fmt::Display for Sensitive {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl serde::Serialize for Sensitive {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.redacted())
    }
}

/// An environment variable (`ENV`, `environment:`, `env:`, `-e`, image config `Env`).
#[derive(Clone, Debug)]
pub struct EnvVar {
    /// The name.
    pub name: Spanned<String>,
    /// The literal value, when one is written (absent for `-e NAME`, `secretKeyRef`, `environment:
    /// [NAME]`).
    pub value: Option<Spanned<Sensitive>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_formats_the_value() {
        let secret = Sensitive::new("SuperSecret123");
        assert_eq!(format!("{secret}"), "<redacted, 14 chars>");
        assert_eq!(format!("{secret:?}"), "<redacted, 14 chars>");
        assert_eq!(secret.expose(), "SuperSecret123");
    }
}
