//! Layer `capabilities`.
