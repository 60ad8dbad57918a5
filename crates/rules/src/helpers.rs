//! Helpers shared by several rules.

pub(crate) mod host_path;
pub(crate) mod runtime;
