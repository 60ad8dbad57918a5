//! What a built image holds: read from its config and its layers.

use leastpriv_source::{Span, Spanned};

use crate::{EnvVar, User};

/// Facts read from a built image.
#[derive(Clone, Debug, Default)]
pub struct ImageFacts {
    /// The image's name (`repo:tag`) or id.
    pub reference: String,
    /// `Config.User`; `None` when empty (root).
    pub user: Option<Spanned<User>>,
    /// The user resolved through the image's own `/etc/passwd`, as a numeric uid, when it could be.
    pub resolved_uid: Option<u32>,
    /// `Config.Env`.
    pub env: Vec<EnvVar>,
    /// `Config.ExposedPorts`.
    pub exposed: Vec<Spanned<crate::PortSpec>>,
    /// `history`, oldest first.
    pub history: Vec<ImageHistoryEntry>,
    /// The layers, bottom first.
    pub layers: Vec<ImageLayer>,
    /// Notable files of the final filesystem (setuid/setgid, world-writable, secrets) and deleted
    /// secrets still present in a lower layer.
    pub files: Vec<ImageFile>,
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
}

/// One layer.
#[derive(Clone, Debug)]
pub struct ImageLayer {
    /// Its digest (`sha256:…`).
    pub digest: String,
    /// Where its history entry is written, when known.
    pub created_by: Option<Span>,
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
    /// Index of the layer that added this version.
    pub layer: usize,
    /// Whether a later layer deleted it (it is still in the image's data).
    pub deleted: bool,
    /// Whether it is a directory.
    pub is_dir: bool,
    /// What the file looks like it holds, when it was recognised as a secret.
    pub secret_kind: Option<String>,
}
