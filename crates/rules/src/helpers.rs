//! Helpers shared by several rules.

pub(crate) mod build;
pub(crate) mod host_path;
pub(crate) mod image;
pub(crate) mod runtime;
pub(crate) mod secrets;
pub(crate) mod shell;
