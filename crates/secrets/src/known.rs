//! Values that came from secret-named variables.
//!
//! `user: ${DEPLOY_TOKEN}` in a Compose file, with `DEPLOY_TOKEN` set in `.env`, puts the token into
//! the model as a user name; a finding about that user would quote it. No detector can tell a
//! random token from a user name, but the front-end that substituted it knows where it came from. So
//! front-ends collect those values ([`KnownSecrets::record`]) and reporters mask every occurrence of
//! them ([`KnownSecrets::scrub`]) in everything they print: messages, quoted lines, fingerprints.

use std::borrow::Cow;

use aho_corasick::AhoCorasick;

use crate::detect::is_literal_value;
use crate::mask::mask_ranges;

/// Values are searched for only when they look like tokens: at least this long, or
/// [`SHORTEST_MIXED`] long with both letters and digits. A common word (`postgres`, `latest`,
/// `password`) set as some variable's value would otherwise mask every image name and key of the
/// report that shares it; where such a value is written, the detectors still mask it.
const SHORTEST: usize = 12;
const SHORTEST_MIXED: usize = 8;

fn looks_like_token(value: &str) -> bool {
    let mixed =
        value.bytes().any(|b| b.is_ascii_digit()) && value.bytes().any(|b| b.is_ascii_alphabetic());
    value.len() >= SHORTEST || (value.len() >= SHORTEST_MIXED && mixed)
}

/// Secret values known by where they came from, to be masked wherever they appear.
#[derive(Clone, Debug, Default)]
pub struct KnownSecrets {
    values: Vec<String>,
    searcher: Option<AhoCorasick>,
}

impl KnownSecrets {
    /// No value known.
    pub const fn new() -> Self {
        Self {
            values: Vec::new(),
            searcher: None,
        }
    }

    /// Records the value of a variable named `name` if the name says it holds a secret and the value
    /// is a literal; call [`KnownSecrets::seal`] after the last record.
    pub fn record(&mut self, name: &str, value: &str) {
        if crate::mask::masks_name(name)
            && looks_like_token(value)
            && is_literal_value(value)
            && !self.values.iter().any(|known| known == value)
        {
            self.values.push(value.to_owned());
            self.searcher = None;
        }
    }

    /// Adds every value of `other`.
    pub fn extend(&mut self, other: &KnownSecrets) {
        for value in &other.values {
            if !self.values.contains(value) {
                self.values.push(value.clone());
                self.searcher = None;
            }
        }
    }

    /// Whether no value is known.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Builds the searcher; [`KnownSecrets::scrub`] builds it on each call until this is called.
    pub fn seal(&mut self) {
        if !self.values.is_empty() {
            self.searcher = AhoCorasick::new(&self.values).ok();
        }
    }

    /// `text` with every known value masked by `*`, byte for byte.
    pub fn scrub<'t>(&self, text: &'t str) -> Cow<'t, str> {
        if self.values.is_empty() {
            return Cow::Borrowed(text);
        }
        let built;
        let searcher = match &self.searcher {
            Some(searcher) => searcher,
            None => match AhoCorasick::new(&self.values) {
                Ok(searcher) => {
                    built = searcher;
                    &built
                }
                Err(_) => return Cow::Borrowed(text),
            },
        };
        let ranges: Vec<_> = searcher
            .find_overlapping_iter(text)
            .map(|found| found.range())
            .collect();
        if ranges.is_empty() {
            Cow::Borrowed(text)
        } else {
            Cow::Owned(mask_ranges(text, &ranges))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_values_of_secret_names_only() {
        let mut known = KnownSecrets::default();
        known.record("DEPLOY_TOKEN", "tok3n-value");
        known.record("APP_USER", "builder-account");
        known.record("DB_PASSWORD", "${OTHER}");
        known.record("POSTGRES_PASSWORD", "postgres");
        known.seal();
        assert_eq!(
            known.scrub("runs as `tok3n-value` (builder-account) from postgres"),
            "runs as `***********` (builder-account) from postgres"
        );
    }
}
