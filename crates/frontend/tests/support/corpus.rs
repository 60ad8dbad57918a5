//! The shared corpus of real files (`../shared/corpus`, or `LEASTPRIV_CORPUS`) and the walk over it,
//! for the corpus tests of this crate and of `leastpriv-rules` (which includes this file by path, so
//! that no crate exists only for tests).

use std::path::{Component, Path, PathBuf};

/// The corpus directory, spelled without `..` (as Compose spells the Dockerfiles it reads, so every
/// path shows relative to it), or `None` when it is absent.
pub(crate) fn root() -> Option<PathBuf> {
    let path = std::env::var_os("LEASTPRIV_CORPUS").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus"),
        PathBuf::from,
    );
    let mut normal = PathBuf::new();
    for component in path.components() {
        match component {
            Component::ParentDir => {
                normal.pop();
            }
            other => normal.push(other),
        }
    }
    normal.is_dir().then_some(normal)
}

/// Every file under `root`, sorted; unreadable directories are skipped.
pub(crate) fn files(root: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}
