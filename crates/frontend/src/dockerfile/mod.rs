//! Dockerfile front-end. (Being written: parser, expansion, stages, lowering.)

use leastpriv_source::{FileId, SourceDb};

use crate::{Lowered, Options};

/// Whether `text` reads as a Dockerfile: its first instruction is `FROM`, `ARG` or a parser directive.
pub fn looks_like_dockerfile(text: &str) -> bool {
    text.lines()
        .map(str::trim)
        .find(|line| !line.is_empty() && !line.starts_with('#'))
        .is_some_and(|line| {
            let upper = line.to_ascii_uppercase();
            upper.starts_with("FROM ") || upper.starts_with("ARG ")
        })
}

/// Lowers a Dockerfile into one container: the image its target stage builds.
pub fn lower(_db: &SourceDb, _file: FileId, _options: &Options) -> Lowered {
    Lowered::default()
}
