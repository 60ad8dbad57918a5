//! The rules, one file each, in one folder per layer.

pub(crate) mod capabilities;
pub(crate) mod confinement;
pub(crate) mod daemon;
pub(crate) mod escape;
pub(crate) mod filesystem;
pub(crate) mod secrets;
pub(crate) mod user;
