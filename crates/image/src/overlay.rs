//! Stacking layers into the final filesystem, as overlayfs does, for the files that matter.
//!
//! Layers are scanned independently (in parallel); this step replays them bottom to top over the
//! notable files only. A file of layer *i* survives layer *j > i* unless layer *j* has an entry at
//! its path (replaced), a whiteout `.wh.name` for it or an ancestor, an opaque marker on an ancestor
//! (`.wh..wh..opq`), or a non-directory at an ancestor. Secret files that do not survive are kept as
//! deleted: their bytes are still in layer *i* for anyone who pulls the image.

use std::collections::HashSet;
use std::hash::{BuildHasher, RandomState};

use leastpriv_model::ImageFile;

use crate::layer::{FoundFile, LayerScan};

/// The final filesystem's notable files and deleted secrets, and its `/etc/passwd`.
#[derive(Debug, Default)]
pub(crate) struct Stacked {
    pub(crate) files: Vec<ImageFile>,
    pub(crate) passwd: Option<String>,
}

/// Replays `layers` (bottom first); `None` stands for a layer that could not be read at all.
pub(crate) fn stack(layers: &[Option<&LayerScan>], hasher: &RandomState) -> Stacked {
    let mut live: Vec<(FoundFile, usize)> = Vec::new();
    let mut deleted: Vec<ImageFile> = Vec::new();
    let mut passwd: Option<(String, usize)> = None;
    for (index, layer) in layers.iter().enumerate() {
        let Some(layer) = layer else { continue };
        let hides = Hides::new(layer);
        live.retain(|(file, added)| {
            if !hides.hides(&file.path, hasher) {
                return true;
            }
            if file.secret.is_some() {
                deleted.push(image_file(file, *added, Some(index)));
            }
            false
        });
        if passwd.is_some() && hides.hides("/etc/passwd", hasher) {
            passwd = None;
        }
        if let Some(text) = &layer.passwd {
            passwd = Some((text.clone(), index));
        }
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
        passwd: passwd.map(|(text, _)| text),
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
    whiteouts: HashSet<&'a str>,
    opaque: HashSet<&'a str>,
}

impl<'a> Hides<'a> {
    fn new(layer: &'a LayerScan) -> Self {
        Self {
            layer,
            whiteouts: layer.whiteouts.iter().map(String::as_str).collect(),
            opaque: layer.opaque.iter().map(String::as_str).collect(),
        }
    }

    fn hides(&self, path: &str, hasher: &RandomState) -> bool {
        if self.layer.paths.contains_key(&hasher.hash_one(path)) || self.whiteouts.contains(path) {
            return true;
        }
        if self.opaque.contains("/") {
            return true;
        }
        let mut ancestor = path;
        while let Some((parent, _)) = ancestor.rsplit_once('/') {
            if parent.is_empty() {
                break;
            }
            if self.whiteouts.contains(parent) || self.opaque.contains(parent) {
                return true;
            }
            if self.layer.paths.get(&hasher.hash_one(parent)) == Some(&false) {
                return true;
            }
            ancestor = parent;
        }
        false
    }
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
            scan.paths.insert(hasher.hash_one(*path), false);
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
            scan.paths.insert(hasher.hash_one(*path), *is_dir);
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
        middle.whiteouts.push("/root/.ssh".to_owned());
        middle.opaque.push("/opt/x".to_owned());
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
