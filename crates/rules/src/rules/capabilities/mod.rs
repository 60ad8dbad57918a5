//! Layer `capabilities`: root's power, split into pieces, should be given out one piece at a time.
//!
//! Containers start with the engine's default set; the rules flag pieces added beyond it (graded by
//! what each gives) and a default set left in place.

pub(crate) mod capabilities_not_dropped;
pub(crate) mod capability_added;
pub(crate) mod file_capabilities_set;
