//! `docker inspect` front-end. (Being written.)

use leastpriv_source::{FileId, SourceDb};

use crate::{Lowered, Options};

/// Lowers `docker inspect` output (a JSON array of containers) into one container each.
pub fn lower(_db: &SourceDb, _file: FileId, _options: &Options) -> Lowered {
    Lowered::default()
}
