//! `docker inspect` front-end. (Being written.)

use leastpriv_source::{FileId, SourceDb};

use crate::{Lowered, Options};

/// Whether `text` reads as `docker inspect` output: a JSON array (or one object) of containers, which
/// have `HostConfig`, or of images, which have `Id` and `Config` but no `apiVersion`.
pub fn looks_like_inspect(text: &str) -> bool {
    text.trim_start().starts_with(['[', '{'])
        && (text.contains("\"HostConfig\"")
            || (text.contains("\"Id\"")
                && text.contains("\"Config\"")
                && !text.contains("\"apiVersion\"")))
}

/// Lowers `docker inspect` output (a JSON array of containers) into one container each.
pub fn lower(_db: &SourceDb, _file: FileId, _options: &Options) -> Lowered {
    Lowered::default()
}
