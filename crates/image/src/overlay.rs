//! Stacking layers into the final filesystem, as overlayfs does, for the files that matter.
//!
//! Layers are scanned independently (in parallel); this step replays them bottom to top over the
//! notable files only. A file of layer *i* survives layer *j > i* unless layer *j* has an entry at
//! its path (replaced), a whiteout `.wh.name` for it or an ancestor, an opaque marker on an ancestor
//! (`.wh..wh..opq`), or a non-directory at an ancestor. Secret files that do not survive are kept as
//! deleted: their bytes are still in layer *i* for anyone who pulls the image.

use std::collections::HashSet;
use std::hash::{BuildHasher, RandomState};

use leastpriv_model::{AccountFile, ImageFile};

use crate::layer::{FoundFile, Kind, LayerScan};

/// The final filesystem's notable files and deleted secrets, and its account files.
#[derive(Debug, Default)]
pub(crate) struct Stacked {
    pub(crate) files: Vec<ImageFile>,
    /// `/etc/passwd`, links followed (filled in by the caller, see [`crate::resolve`]).
    pub(crate) passwd: AccountFile,
    /// `/etc/group`, links followed.
    pub(crate) group: AccountFile,
}

/// Replays `layers` (bottom first); `None` stands for a layer that could not be read at all.
pub(crate) fn stack(layers: &[Option<&LayerScan>], hasher: &RandomState) -> Stacked {
    let mut live: Vec<(FoundFile, usize)> = Vec::new();
    let mut deleted: Vec<ImageFile> = Vec::new();
    for (index, layer) in layers.iter().enumerate() {
        let Some(layer) = layer else { continue };
        let hides = Hides { layer, hasher };
        live.retain(|(file, added)| {
            if !hides.hides(&file.path) {
                return true;
            }
            if file.secret.is_some() {
                deleted.push(image_file(file, *added, Some(index)));
            }
            false
        });
        live.extend(layer.files.iter().map(|file| (file.clone(), index)));
    }
    // A secret deleted and written again is reported once, where it is now.
    let live_paths: HashSet<&str> = live.iter().map(|(file, _)| file.path.as_str()).collect();
    deleted.retain(|file| !live_paths.contains(file.path.as_str()));
    let mut files: Vec<ImageFile> = live
        .iter()
        .map(|(file, added)| image_file(file, *added, None))
        .collect();
    files.extend(deleted);
    Stacked {
        files,
        ..Stacked::default()
    }
}

fn image_file(file: &FoundFile, layer: usize, deleted_by: Option<usize>) -> ImageFile {
    ImageFile {
        path: file.path.clone(),
        mode: file.mode,
        uid: file.uid,
        gid: file.gid,
        layer,
        deleted: deleted_by.is_some(),
        deleted_by,
        is_dir: file.is_dir,
        secret_kind: file.secret.map(str::to_owned),
        sudo_nopasswd: file.sudo_rules.clone(),
    }
}

/// What one layer hides of the layers below it.
struct Hides<'a> {
    layer: &'a LayerScan,
    hasher: &'a RandomState,
}

impl Hides<'_> {
    fn hides(&self, path: &str) -> bool {
        self.layer.paths.contains_key(&self.hasher.hash_one(path))
            || deletes(self.layer, path, self.hasher)
    }
}

/// Whether `layer` deletes `path` of the layers below without an entry of its own there: a
/// whiteout for it or an ancestor, an opaque ancestor, or a non-directory at an ancestor.
pub(crate) fn deletes(layer: &LayerScan, path: &str, hasher: &RandomState) -> bool {
    let hash = |path: &str| hasher.hash_one(path);
    if layer.whiteouts.contains(&hash(path)) || layer.opaque.contains(&hash("/")) {
        return true;
    }
    let mut ancestor = path;
    while let Some((parent, _)) = ancestor.rsplit_once('/') {
        if parent.is_empty() {
            break;
        }
        let parent_hash = hash(parent);
        if layer.whiteouts.contains(&parent_hash) || layer.opaque.contains(&parent_hash) {
            return true;
        }
        if layer
            .paths
            .get(&parent_hash)
            .is_some_and(|kind| *kind != Kind::Dir)
        {
            return true;
        }
        ancestor = parent;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layer(
        files: &[(&str, Option<&'static str>)],
        other: &[(&str, bool)],
        hasher: &RandomState,
    ) -> LayerScan {
        let mut scan = LayerScan::default();
        for (path, secret) in files {
            scan.paths.insert(hasher.hash_one(*path), Kind::File);
            scan.files.push(FoundFile {
                path: (*path).to_owned(),
                mode: if secret.is_some() { 0o600 } else { 0o4755 },
                uid: 0,
                gid: 0,
                is_dir: false,
                secret: *secret,
                sudo_rules: Vec::new(),
            });
        }
        for (path, is_dir) in other {
            let kind = if *is_dir { Kind::Dir } else { Kind::File };
            scan.paths.insert(hasher.hash_one(*path), kind);
        }
        scan
    }

    #[test]
    fn whiteouts_opaque_dirs_and_replacements_apply_in_order() {
        let hasher = RandomState::new();
        let bottom = layer(
            &[
                ("/root/.ssh/id_rsa", Some("SSH private key")),
                ("/app/.env", Some("`.env` file")),
                ("/bin/su", None),
                ("/opt/x/.npmrc", Some("npm token")),
                ("/srv/key", Some("private key")),
            ],
            &[],
            &hasher,
        );
        let mut middle = layer(&[], &[("/bin/su", false), ("/srv", false)], &hasher);
        middle.whiteouts.insert(hasher.hash_one("/root/.ssh"));
        middle.opaque.insert(hasher.hash_one("/opt/x"));
        let top = layer(&[("/app/.env", Some("`.env` file"))], &[], &hasher);
        let stacked = stack(&[Some(&bottom), Some(&middle), Some(&top)], &hasher);
        let mut summary: Vec<_> = stacked
            .files
            .iter()
            .map(|f| (f.path.as_str(), f.layer, f.deleted_by))
            .collect();
        summary.sort_unstable();
        assert_eq!(
            summary,
            [
                ("/app/.env", 2, None),
                ("/opt/x/.npmrc", 0, Some(1)),
                ("/root/.ssh/id_rsa", 0, Some(1)),
                ("/srv/key", 0, Some(1)),
            ]
        );
    }
}
