//! `docker run` front-end. (Being written.)

use leastpriv_source::{FileId, SourceDb};

use crate::{Lowered, Options};

/// Lowers each `docker run` / `docker create` / `podman run` command of a shell script.
pub fn lower(_db: &SourceDb, _file: FileId, _options: &Options) -> Lowered {
    Lowered::default()
}
