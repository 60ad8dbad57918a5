//! Layer `filesystem`.

pub(crate) mod world_writable_directory;
