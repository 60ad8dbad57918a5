//! The expansion budget: how many bytes variable expansion may produce for one input.
//!
//! Expansion can grow a text exponentially (`A1=${A0}${A0}` … 39 lines in a `.env` reach gigabytes;
//! `ENV A=$A$A` lines in a Dockerfile the same), so every front-end that expands variables — the
//! Dockerfile (`ENV`, `ARG`, copied stage environments) and Compose (its values and its `.env`
//! files) — charges each substituted value to one [`ExpansionBudget`] per input, sized from the
//! input's own length. Past it, a value is not expanded: the front-end keeps it as written, marks
//! it unresolved and says so, so that a rule judges it unknown rather than wrong.

use std::cell::Cell;

/// Bytes one expanded value may hold, whatever the input's size: no real value comes close (a
/// certificate in a variable is a few KiB).
pub(crate) const MAX_VALUE_BYTES: usize = 1 << 20;

/// Bytes expansion may produce for one input: four times its text and a fixed MiB, so real files
/// (a variable used in a few places) never meet it and a hostile one stays within a small multiple
/// of its size.
#[derive(Debug)]
pub(crate) struct ExpansionBudget {
    left: Cell<usize>,
    size: usize,
}

impl ExpansionBudget {
    /// A budget of `bytes`.
    pub(crate) fn new(bytes: usize) -> Self {
        Self {
            left: Cell::new(bytes),
            size: bytes,
        }
    }

    /// The bytes it started with, for messages.
    pub(crate) fn size(&self) -> usize {
        self.size
    }

    /// The budget of an input of `text_len` bytes: expanded values and copied environments may
    /// exceed the text (a variable used twice), but not by orders of magnitude in any real file.
    pub(crate) fn for_input(text_len: usize) -> Self {
        Self::new(text_len.saturating_mul(4).saturating_add(1 << 20))
    }

    /// Charges `bytes`; false (and nothing charged) when they are more than is left.
    pub(crate) fn take(&self, bytes: usize) -> bool {
        match self.left.get().checked_sub(bytes) {
            Some(left) => {
                self.left.set(left);
                true
            }
            None => false,
        }
    }

    /// Bytes left.
    #[cfg(test)]
    pub(crate) fn left(&self) -> usize {
        self.left.get()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_what_is_not_left() {
        let budget = ExpansionBudget::new(10);
        assert!(budget.take(6));
        assert!(!budget.take(5));
        assert_eq!(budget.left(), 4);
        assert!(budget.take(4));
    }
}
