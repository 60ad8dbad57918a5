//! Layer `capabilities`.

pub(crate) mod file_capabilities_set;
