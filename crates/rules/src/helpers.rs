//! Helpers shared by several rules.

pub(crate) mod build;
pub(crate) mod secrets;
pub(crate) mod shell;
