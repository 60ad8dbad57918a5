//! Following links in an image's final filesystem, as the runtime does when it reads a file by path.
//!
//! Docker reads `/etc/passwd` and `/etc/group` (to resolve `USER app`) through
//! `FollowSymlinkInScope` (`moby/sys/symlink`): component by component over the container's root,
//! a symlink's target is put back in front of the rest of the path, an absolute target starts again
//! at the image's root, `..` never climbs above it, and more than 255 steps is an error (the
//! container does not start). This module replays that over the layers' scans without extracting
//! anything: each path is looked up in the topmost layer that has it, unless a layer above deletes it
//! (a whiteout, an opaque directory, a non-directory at an ancestor), as overlayfs shows it.
//!
//! containerd (Kubernetes, nerdctl) resolves the same way through `fs.RootPath`. Docker also puts an
//! init layer of its own over every image, whose `/etc` (hosts, hostname, resolv.conf) is a real
//! directory: over a symlinked `/etc` it hides the link, so Docker finds no passwd there and refuses
//! to start a container whose user is a name, where containerd follows the link (both checked on
//! the real engines). The link is followed here: what containerd runs is the worse case.
//!
//! A hard link is a regular file to `lstat`; its content is that of the entry it links to, in the
//! same layer (Docker extracts a layer into a directory of its own, so that is where the target is).
//! Whatever was not read the first time (the file a link leads to) is read by scanning that layer
//! again with [`Aliases`](crate::layer::Aliases).

use std::collections::BTreeMap;
use std::hash::{BuildHasher, RandomState};

use leastpriv_model::{quote_path, AccountDb, AccountFile};

use crate::layer::{Aliases, Captured, Kind, LayerScan};
use crate::overlay;

/// The most steps `FollowSymlinkInScope` takes (every path component counts, links or not).
const MAX_STEPS: usize = 255;
/// The most hard links followed from one to the next within a layer.
const MAX_HARD_LINKS: usize = 40;

/// The image's final filesystem, as its layers' scans show it.
pub(crate) struct View<'a> {
    /// Bottom first; `None` for a layer that could not be read at all.
    layers: &'a [Option<&'a LayerScan>],
    hasher: &'a RandomState,
}

/// Where a path leads, in the final filesystem.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Found {
    /// Nothing is there.
    Absent,
    /// A directory (or a device, a FIFO: nothing the runtime can read as a file).
    NotAFile,
    /// A regular file: its content is the entry at `path` of layer `layer`.
    File { layer: usize, path: String },
}

impl<'a> View<'a> {
    pub(crate) fn new(layers: &'a [Option<&'a LayerScan>], hasher: &'a RandomState) -> Self {
        Self { layers, hasher }
    }

    /// The topmost version of `path`: its layer and kind, or `None` when no layer has it (or a
    /// layer above the one that has it deletes it).
    fn lookup(&self, path: &str) -> Option<(usize, Kind)> {
        let hash = self.hasher.hash_one(path);
        for (index, layer) in self.layers.iter().enumerate().rev() {
            let Some(layer) = layer else { continue };
            if let Some(kind) = layer.paths.get(&hash) {
                return Some((index, *kind));
            }
            if overlay::deletes(layer, path, self.hasher) {
                return None;
            }
        }
        None
    }

    /// The symlink target of `path` in `layer`.
    fn target(&self, layer: usize, path: &str) -> Result<&'a str, String> {
        self.layers[layer]
            .and_then(|scan| scan.links.get(&self.hasher.hash_one(path)))
            .map(String::as_str)
            .ok_or_else(|| {
                format!(
                    "the target of link `{}` was not kept (too many links in its layer)",
                    quote_path(path)
                )
            })
    }

    /// `path` with every symlink followed, as `FollowSymlinkInScope` resolves it: an absolute path
    /// inside the image. The error says why the runtime would fail too (a loop), or why it cannot
    /// be told here.
    pub(crate) fn follow(&self, path: &str) -> Result<String, String> {
        // The components still to walk, and the resolved path so far (always clean, absolute).
        let mut pending = clean(path);
        let mut resolved = String::from("/");
        let mut steps = 0;
        while !pending.is_empty() {
            steps += 1;
            if steps > MAX_STEPS {
                return Err(format!(
                    "`{}` takes more than {MAX_STEPS} steps to resolve (a link loop?); Docker refuses to start the container",
                    quote_path(path)
                ));
            }
            let (component, rest) = match pending.find('/') {
                Some(slash) => (pending[..slash].to_owned(), pending[slash + 1..].to_owned()),
                None => (std::mem::take(&mut pending), String::new()),
            };
            pending = rest;
            if component.is_empty() {
                continue;
            }
            let candidate = clean(&format!("{resolved}/{component}"));
            if candidate == "/" {
                resolved = candidate;
                continue;
            }
            match self.lookup(&candidate) {
                Some((layer, Kind::Symlink)) => {
                    let target = self.target(layer, &candidate)?;
                    if target.starts_with('/') {
                        resolved = "/".to_owned();
                    }
                    pending = format!("{target}/{pending}");
                }
                // Absent components are accepted as they are, as the runtime does.
                _ => resolved = candidate,
            }
        }
        Ok(clean(&resolved))
    }

    /// What the runtime reads at `path`: links followed, a hard link to its target.
    pub(crate) fn file(&self, path: &str) -> Result<Found, String> {
        let resolved = self.follow(path)?;
        let Some((layer, kind)) = self.lookup(&resolved) else {
            return Ok(Found::Absent);
        };
        match kind {
            Kind::File => Ok(Found::File {
                layer,
                path: resolved,
            }),
            Kind::HardLink => self.hard_link(layer, resolved),
            Kind::Dir | Kind::Other => Ok(Found::NotAFile),
            // `follow` resolved every symlink.
            Kind::Symlink => Ok(Found::NotAFile),
        }
    }

    /// The file a hard link at `path` of `layer` shares its content with: the entry it names in
    /// the same layer, or (for storage drivers that extract over the layers below) below it.
    fn hard_link(&self, layer: usize, mut path: String) -> Result<Found, String> {
        for _ in 0..MAX_HARD_LINKS {
            let target = self
                .target(layer, &path)
                .map_err(|_| {
                    format!(
                        "the target of hard link `{}` was not kept (too many links in its layer)",
                        quote_path(&path)
                    )
                })?
                .to_owned();
            let hash = self.hasher.hash_one(target.as_str());
            let in_layer = self.layers[layer].and_then(|scan| scan.paths.get(&hash).copied());
            let (at, kind) = match in_layer {
                Some(kind) => (layer, kind),
                None => match View::new(&self.layers[..layer], self.hasher).lookup(&target) {
                    Some(found) => found,
                    None => return Ok(Found::Absent),
                },
            };
            match kind {
                Kind::File => {
                    return Ok(Found::File {
                        layer: at,
                        path: target,
                    })
                }
                Kind::HardLink if at == layer => path = target,
                _ => return Ok(Found::NotAFile),
            }
        }
        Err(format!(
            "hard link `{}` is one of more than {MAX_HARD_LINKS} chained hard links",
            quote_path(&path)
        ))
    }
}

/// The files the runtime and sudo read by path, whose content decides a finding.
const BY_PATH_FILES: [&str; 3] = ["/etc/passwd", "/etc/group", "/etc/sudoers"];
/// The directory sudo reads rules from.
const SUDOERS_DIR: &str = "/etc/sudoers.d";

/// Which layers must be read again, and as what: where links lead the by-path files to entries the
/// first reading did not read as them (`/etc/passwd` → `/data/pw`, `/etc` → `/private/etc`).
pub(crate) fn aliases_needed(
    view: &View<'_>,
    scans: &[Option<&LayerScan>],
) -> Vec<(usize, Aliases)> {
    let mut needed: BTreeMap<usize, Aliases> = BTreeMap::new();
    for file in BY_PATH_FILES {
        let Ok(Found::File { layer, path }) = view.file(file) else {
            continue;
        };
        let read =
            path == file && (file == "/etc/sudoers" || captured(scans, layer, &path).is_some());
        if !read {
            needed
                .entry(layer)
                .or_default()
                .exact
                .insert(path, file.to_owned());
        }
    }
    if let Ok(dir) = view.follow(SUDOERS_DIR) {
        if dir != SUDOERS_DIR {
            // Its files may come from any layer.
            for (index, scan) in scans.iter().enumerate() {
                if scan.is_some() {
                    needed
                        .entry(index)
                        .or_default()
                        .dirs
                        .insert(dir.clone(), SUDOERS_DIR.to_owned());
                }
            }
        }
    }
    needed.into_iter().collect()
}

fn captured<'s>(scans: &[Option<&'s LayerScan>], layer: usize, path: &str) -> Option<&'s Captured> {
    scans
        .get(layer)
        .copied()
        .flatten()
        .and_then(|scan| scan.accounts.iter().find(|captured| captured.path == path))
}

/// The account file the runtime reads at `file` (`/etc/passwd`, `/etc/group`), links followed;
/// why it cannot be told is added to `problems`.
pub(crate) fn account_file(
    view: &View<'_>,
    scans: &[Option<&LayerScan>],
    file: &str,
    problems: &mut Vec<String>,
) -> AccountFile {
    match view.file(file) {
        Ok(Found::Absent | Found::NotAFile) => AccountFile::Missing,
        Ok(Found::File { layer, path }) => match captured(scans, layer, &path) {
            Some(captured) => {
                AccountFile::Read(AccountDb::parse(&captured.text, captured.complete))
            }
            None => {
                problems.push(format!(
                    "`{file}` leads to `{}`, which could not be read; users and groups are not resolved",
                    quote_path(&path)
                ));
                AccountFile::Unknown
            }
        },
        Err(reason) => {
            problems.push(format!(
                "`{file}` cannot be resolved as the runtime resolves it: {reason}"
            ));
            AccountFile::Unknown
        }
    }
}

/// A path made absolute and clean as Go's `filepath.Clean` makes it: no empty or `.` components,
/// `..` removing the previous one and never climbing above `/`.
pub(crate) fn clean(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for component in path.split('/') {
        match component {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            component => parts.push(component),
        }
    }
    format!("/{}", parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    struct Layer<'a> {
        entries: &'a [(&'a str, Kind, Option<&'a str>)],
        whiteouts: &'a [&'a str],
    }

    fn scan(layer: &Layer<'_>, hasher: &RandomState) -> LayerScan {
        let mut scan = LayerScan::default();
        for (path, kind, target) in layer.entries {
            scan.paths.insert(hasher.hash_one(*path), *kind);
            if let Some(target) = target {
                scan.links
                    .insert(hasher.hash_one(*path), (*target).to_owned());
            }
        }
        scan.whiteouts = layer
            .whiteouts
            .iter()
            .map(|path| hasher.hash_one(*path))
            .collect();
        scan
    }

    fn view_of(layers: &[Layer<'_>], hasher: &RandomState) -> Vec<LayerScan> {
        layers.iter().map(|layer| scan(layer, hasher)).collect()
    }

    #[test]
    fn symlinks_are_followed_inside_the_image() {
        let hasher = RandomState::new();
        let scans = view_of(
            &[
                Layer {
                    entries: &[
                        ("/private", Kind::Dir, None),
                        ("/private/etc", Kind::Dir, None),
                        ("/private/etc/passwd", Kind::File, None),
                        ("/data", Kind::Dir, None),
                        ("/data/pw", Kind::File, None),
                        ("/data/hard", Kind::HardLink, Some("/data/pw")),
                    ],
                    whiteouts: &[],
                },
                Layer {
                    entries: &[
                        ("/etc", Kind::Symlink, Some("private/etc")),
                        ("/up", Kind::Symlink, Some("../../../../data/pw")),
                        ("/abs", Kind::Symlink, Some("/data/../data/pw")),
                        ("/loop", Kind::Symlink, Some("/loop")),
                        ("/twice", Kind::Symlink, Some("/up")),
                        ("/hard", Kind::Symlink, Some("data/hard")),
                    ],
                    whiteouts: &[],
                },
            ],
            &hasher,
        );
        let layers: Vec<Option<&LayerScan>> = scans.iter().map(Some).collect();
        let view = View::new(&layers, &hasher);
        let cases: HashMap<&str, &str> = HashMap::from([
            ("/etc/passwd", "/private/etc/passwd"),
            ("/up", "/data/pw"),
            ("/abs", "/data/pw"),
            ("/twice", "/data/pw"),
            // moby cleans the path before it follows links, as the kernel would not.
            ("/etc/../data/pw", "/data/pw"),
            ("/etc/x/../passwd", "/private/etc/passwd"),
            ("/nowhere/x", "/nowhere/x"),
        ]);
        for (path, expected) in cases {
            assert_eq!(view.follow(path).as_deref(), Ok(expected), "{path}");
        }
        assert!(view.follow("/loop").unwrap_err().contains("255 steps"));
        assert_eq!(
            view.file("/hard"),
            Ok(Found::File {
                layer: 0,
                path: "/data/pw".to_owned()
            })
        );
        assert_eq!(view.file("/private"), Ok(Found::NotAFile));
        assert_eq!(view.file("/nope"), Ok(Found::Absent));
    }

    #[test]
    fn a_layer_above_can_delete_or_replace_a_link() {
        let hasher = RandomState::new();
        let scans = view_of(
            &[
                Layer {
                    entries: &[
                        ("/etc", Kind::Dir, None),
                        ("/etc/passwd", Kind::Symlink, Some("/x")),
                        ("/x", Kind::File, None),
                    ],
                    whiteouts: &[],
                },
                Layer {
                    entries: &[],
                    whiteouts: &["/x"],
                },
            ],
            &hasher,
        );
        let layers: Vec<Option<&LayerScan>> = scans.iter().map(Some).collect();
        assert_eq!(
            View::new(&layers, &hasher).file("/etc/passwd"),
            Ok(Found::Absent)
        );
        assert_eq!(
            View::new(&layers[..1], &hasher).file("/etc/passwd"),
            Ok(Found::File {
                layer: 0,
                path: "/x".to_owned()
            })
        );
    }

    #[test]
    fn paths_are_cleaned_as_go_cleans_them() {
        assert_eq!(clean("a/./b//../c/"), "/a/c");
        assert_eq!(clean("/../../x"), "/x");
        assert_eq!(clean(""), "/");
    }
}
