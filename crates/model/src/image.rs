//! What a built image holds: read from its config and its layers.

use leastpriv_source::{Span, Spanned};

use crate::user::{AccountFile, Id, Resolved};
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
    /// The image's final `/etc/passwd`, reached as the runtime reaches it (links followed inside
    /// the image).
    pub passwd: AccountFile,
    /// The image's final `/etc/group`, reached the same way.
    pub group: AccountFile,
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

    /// Whether `user` is root in this image, resolved as the runtime resolves it through the
    /// image's `/etc/passwd` (see [`User::resolve`]). A spec the runtime refuses counts by its
    /// spelling (`root` without a passwd, a number that truncates to 0 in some runtimes).
    pub fn is_root(&self, user: &User) -> Certainty {
        match user.resolve(&self.passwd) {
            Resolved::Uid(0) => Certainty::Yes,
            Resolved::Uid(_) => Certainty::No,
            Resolved::Refused => user.is_root(),
            Resolved::Unknown => match user.is_root() {
                Certainty::Yes => Certainty::Yes,
                _ => Certainty::Unknown,
            },
        }
    }

    /// Whether `user`'s group (the part after `:`) is group 0 in this image: a number that is or
    /// truncates to 0, `root`, or a name that is gid 0 in the image's `/etc/group` (read and reached
    /// as the runtime reads it). Unknown when no group is written.
    pub fn group_is_root(&self, user: &User) -> Certainty {
        match (user.gid(), &self.group) {
            (Some(Id::Name(name)), AccountFile::Read(groups)) if name != "root" => {
                match groups.id_of(name) {
                    Ok(gid) => {
                        if Id::truncated(gid) == 0 {
                            Certainty::Yes
                        } else {
                            Certainty::No
                        }
                    }
                    Err(certainty) => certainty,
                }
            }
            _ => user.group_is_root(),
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
    /// Its path as a message quotes it ([`quote_path`]).
    pub fn quoted_path(&self) -> std::borrow::Cow<'_, str> {
        quote_path(&self.path)
    }

    /// Whether it is an executable with the setuid or setgid bit.
    pub fn is_setuid_or_setgid(&self) -> bool {
        !self.is_dir && self.mode & 0o6000 != 0 && self.mode & 0o111 != 0
    }
}

/// The most bytes of a path quoted in a message; a longer one is shortened with a marker.
const MAX_QUOTED_PATH: usize = 200;

/// `path` as a message quotes it: control characters escaped (`\n`), whole when short, else its head
/// and tail around a marker that says how much was left out (`/d/aaaa…[1048400 bytes left out]…a0001`). Hostile images have paths of
/// megabytes; a finding or an error never repeats them whole.
pub fn quote_path(path: &str) -> std::borrow::Cow<'_, str> {
    // A control character (a newline in a file name) is written as an escape, so that a path
    // cannot start a new line of a report.
    if let std::borrow::Cow::Owned(escaped) = leastpriv_secrets::escape_control(path) {
        return std::borrow::Cow::Owned(quote_path(&escaped).into_owned());
    }
    if path.len() <= MAX_QUOTED_PATH {
        return std::borrow::Cow::Borrowed(path);
    }
    let head_end = floor_char_boundary(path, MAX_QUOTED_PATH * 2 / 3);
    let tail_start = ceil_char_boundary(path, path.len() - MAX_QUOTED_PATH / 4);
    std::borrow::Cow::Owned(format!(
        "{}…[{} bytes left out]…{}",
        &path[..head_end],
        tail_start - head_end,
        &path[tail_start..]
    ))
}

fn floor_char_boundary(text: &str, mut index: usize) -> usize {
    while !text.is_char_boundary(index) {
        index -= 1;
    }
    index
}

fn ceil_char_boundary(text: &str, mut index: usize) -> usize {
    while !text.is_char_boundary(index) {
        index += 1;
    }
    index
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_paths_cannot_split_a_line_or_run_long() {
        assert_eq!(quote_path("/usr/bin/su"), "/usr/bin/su");
        assert_eq!(
            quote_path("/bin/evil\nLP000 fake\u{1b}[2J"),
            "/bin/evil\\nLP000 fake\\u{1b}[2J"
        );
        let long = format!("/d/{}", "a".repeat(10_000));
        let quoted = quote_path(&long);
        assert!(
            quoted.len() < 300 && quoted.contains("bytes left out"),
            "{quoted}"
        );
    }
}
