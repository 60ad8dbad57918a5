//! Layer `escape`.
