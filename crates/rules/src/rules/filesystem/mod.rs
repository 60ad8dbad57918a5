//! Layer `filesystem`.
