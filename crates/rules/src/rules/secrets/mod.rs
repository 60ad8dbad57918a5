//! Layer `secrets`.
