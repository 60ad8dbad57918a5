//! What a built image holds: read from its config and its layers.

use std::collections::BTreeMap;

use leastpriv_source::{Span, Spanned};

use crate::{Certainty, EnvVar, User};

/// Facts read from a built image.
#[derive(Clone, Debug, Default)]
pub struct ImageFacts {
    /// The image's name (`repo:tag`) or id.
    pub reference: String,
    /// `Config.User`, spanned in the config blob. An empty or missing user (root) is kept as an empty
    /// [`User`] spanned at the `User` key (or the `config` object), so rules can point at it; `None`
    /// only when the image's config could not say.
    pub user: Option<Spanned<User>>,
    /// The user resolved through the image's own `/etc/passwd`, as a numeric uid, when it could be.
    pub resolved_uid: Option<u32>,
    /// The names and uids of the image's final `/etc/passwd` (empty when it has none).
    pub users: BTreeMap<String, u32>,
    /// `Config.Env`.
    pub env: Vec<EnvVar>,
    /// `Config.ExposedPorts`.
    pub exposed: Vec<Spanned<crate::PortSpec>>,
    /// `history`, oldest first.
    pub history: Vec<ImageHistoryEntry>,
    /// The layers, bottom first.
    pub layers: Vec<ImageLayer>,
    /// Notable files of the final filesystem (setuid/setgid, world-writable, secrets, sudoers rules)
    /// and secret files a later layer deleted or replaced but an earlier layer still holds.
    pub files: Vec<ImageFile>,
}

impl ImageFacts {
    /// Whether the configured user is root, a name counting by the uid the image's own
    /// `/etc/passwd` gives it (`USER toor` with uid 0 is root).
    pub fn user_is_root(&self) -> Certainty {
        match &self.user {
            None => Certainty::Unknown,
            Some(user) => self.is_root(&user.value),
        }
    }

    /// Whether `user` is root in this image: by its spelling, else by its uid in `/etc/passwd`.
    pub fn is_root(&self, user: &User) -> Certainty {
        match user.is_root() {
            Certainty::No if !user.is_numeric() => match self.users.get(user.user.trim()) {
                Some(0) => Certainty::Yes,
                _ => Certainty::No,
            },
            certainty => certainty,
        }
    }

    /// Where the instruction that created layer `index` is written, else the image's origin.
    pub fn layer_span(&self, index: usize) -> Option<Span> {
        self.layers.get(index).and_then(|layer| layer.created_by)
    }

    /// The digest of layer `index`, shortened for messages (`sha256:0123456789ab`).
    pub fn layer_digest(&self, index: usize) -> String {
        self.layers
            .get(index)
            .map(|layer| short_digest(&layer.digest))
            .unwrap_or_else(|| format!("layer {index}"))
    }
}

/// `sha256:` and the first 12 hex digits, as `docker images` shows ids.
pub fn short_digest(digest: &str) -> String {
    match digest.split_once(':') {
        Some((algorithm, hex)) => format!("{algorithm}:{}", hex.get(..12).unwrap_or(hex)),
        None => digest.to_owned(),
    }
}

/// One `history` entry of an image config.
#[derive(Clone, Debug)]
pub struct ImageHistoryEntry {
    /// `created_by`, spanned in the config blob.
    pub created_by: Spanned<String>,
    /// Whether it created no layer.
    pub empty_layer: bool,
    /// Index into [`ImageFacts::layers`] of the layer it created.
    pub layer: Option<usize>,
    /// Build arguments recorded in it (`|2 NAME=value NAME2=value /bin/sh -c …`): every value the
    /// build passed to this `RUN` is visible to anyone with the image.
    pub build_args: Vec<EnvVar>,
}

/// One layer.
#[derive(Clone, Debug)]
pub struct ImageLayer {
    /// Its digest (`sha256:…`).
    pub digest: String,
    /// Where its history entry is written, when known.
    pub created_by: Option<Span>,
    /// The Dockerfile instruction that created it, when the image was built from a Dockerfile in the
    /// audited tree (linked after lowering, see `leastpriv_image::link_layers`).
    pub instruction: Option<Span>,
}

/// A file worth a finding.
#[derive(Clone, Debug)]
pub struct ImageFile {
    /// Absolute path in the image.
    pub path: String,
    /// Mode bits (`0o4755`).
    pub mode: u32,
    /// Owner uid.
    pub uid: u64,
    /// Owner gid.
    pub gid: u64,
    /// Index of the layer that added this version.
    pub layer: usize,
    /// Whether a later layer deleted or replaced it (it is still in the image's data).
    pub deleted: bool,
    /// The layer that deleted or replaced it.
    pub deleted_by: Option<usize>,
    /// Whether it is a directory.
    pub is_dir: bool,
    /// What the file looks like it holds, when it was recognised as a secret.
    pub secret_kind: Option<String>,
    /// Rules of a sudoers file that need no password (`NOPASSWD`, `!authenticate`), as written.
    pub sudo_nopasswd: Vec<String>,
}

impl ImageFile {
    /// Whether it is an executable with the setuid or setgid bit.
    pub fn is_setuid_or_setgid(&self) -> bool {
        !self.is_dir && self.mode & 0o6000 != 0 && self.mode & 0o111 != 0
    }
}
