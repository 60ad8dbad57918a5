//! Helpers shared by several rules.

pub(crate) mod image;
