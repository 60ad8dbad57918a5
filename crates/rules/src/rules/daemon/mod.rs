//! Layer `daemon`.
