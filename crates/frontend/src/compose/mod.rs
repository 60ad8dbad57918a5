//! Compose front-end. (Being written.)

use leastpriv_source::{FileId, SourceDb};

use crate::{Lowered, Options};

/// Lowers a Compose file (with its overrides, includes and extends) into one container per service.
pub fn lower(_db: &SourceDb, _file: FileId, _options: &Options) -> Lowered {
    Lowered::default()
}
