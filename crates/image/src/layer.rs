//! Streaming one layer: decompress, walk its tar entries once, keep only what matters.
//!
//! A layer is read as a stream (never extracted, never buffered whole): its compression is told by
//! its magic bytes (gzip, zstd, or plain tar, whatever the media type says), every decompressed byte
//! passes the caps of [`crate::limits`], and each entry's data is drained as it goes. What is kept is
//! small and bounded: the notable files (setuid/setgid, world-writable directories, secrets, sudoers
//! rules), the whiteouts and opaque directories, a hash and kind of every path (so that a later step
//! can tell which lower-layer files this layer replaces), the target of every link (so that
//! [`crate::resolve`] follows them as the runtime does), and the account files (`/etc/passwd`,
//! `/etc/group`) the runtime reads to resolve a user.
//!
//! Paths are bounded too: an entry path or link target longer than Linux's `PATH_MAX` cannot be
//! extracted, so it is reported (shortened) and not kept, and every message quotes a path shortened.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasher, RandomState};
use std::io::{self, BufRead, BufReader, Read};
use std::rc::Rc;
use std::sync::atomic::AtomicU64;

use indicatif::ProgressBar;
use leastpriv_model::quote_path;
use tar::EntryType;

use crate::classify::{self, Need, Recognised};
use crate::limits::{BombGuard, Caps, Counted, HeaderBudget, HeaderGuard, Limits};

/// Most notable files kept per layer; a layer with more is hostile or broken.
const MAX_NOTABLE: usize = 100_000;
/// Most bytes of notable-file paths kept per layer.
const MAX_NOTABLE_BYTES: usize = 16 << 20;
/// Most bytes of link targets kept per layer (a Debian base has ~100 KiB).
const MAX_LINK_BYTES: usize = 64 << 20;
/// The longest entry path or link target: Linux's `PATH_MAX`. Docker cannot extract a longer one.
pub(crate) const MAX_PATH_BYTES: usize = 4096;
/// Most problems (odd entries) recorded per layer; the rest are counted.
const MAX_PROBLEMS: usize = 20;
/// Bytes of a file read to sniff a private-key header.
const SNIFF_BYTES: u64 = 1024;
/// The buffer entry data is drained through.
const DRAIN_BUFFER: usize = 128 * 1024;
/// The buffer between the decompressor and the tar reader.
const DECODED_BUFFER: usize = 256 * 1024;

/// What the scan of one layer shares with every other scan of the same run.
pub(crate) struct ScanContext<'a> {
    pub(crate) limits: &'a Limits,
    /// Decompressed bytes so far, over every layer of the input.
    pub(crate) total: &'a AtomicU64,
    /// Bytes of the input itself (its size, or what was read of a stream): all layers together may
    /// decompress to at most [`Limits::max_ratio`] times it.
    pub(crate) input: &'a AtomicU64,
    /// One keyed hasher for the path index of every layer, so that hashes compare across layers.
    pub(crate) hasher: &'a RandomState,
    pub(crate) progress: Option<&'a ProgressBar>,
}

/// What kind of entry a path is, in one layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Dir,
    File,
    Symlink,
    /// A hard link to another entry of the layer (a regular file, as `lstat` sees it).
    HardLink,
    /// A device, FIFO or other special file.
    Other,
}

/// An account file read from a layer, at its real path.
#[derive(Debug, Clone)]
pub(crate) struct Captured {
    pub(crate) path: String,
    pub(crate) text: String,
    /// Whether all of it was read.
    pub(crate) complete: bool,
}

/// What one layer holds that matters.
#[derive(Debug)]
pub(crate) struct LayerScan {
    /// Notable files, one per path (the last entry for a path wins, as on extraction).
    pub(crate) files: Vec<FoundFile>,
    /// Hashes of the paths this layer deletes from the layers below (`.wh.name`).
    pub(crate) whiteouts: HashSet<u64>,
    /// Hashes of the directories whose lower-layer contents this layer hides (`.wh..wh..opq`).
    pub(crate) opaque: HashSet<u64>,
    /// Hash of every path in the layer → what it is.
    pub(crate) paths: HashMap<u64, Kind>,
    /// Hash of a link's path → its target: a symlink's as written, a hard link's as an absolute
    /// path in the layer.
    pub(crate) links: HashMap<u64, String>,
    /// Whether every link's target was kept (false past [`MAX_LINK_BYTES`]).
    pub(crate) links_complete: bool,
    /// The account files (and, on a rescan, the paths they are reached through) read.
    pub(crate) accounts: Vec<Captured>,
    /// Odd entries that were skipped or accounted as Docker would (absolute paths, `..`).
    pub(crate) problems: Vec<String>,
    /// Why the scan stopped early, when it did; what was found until then is kept.
    pub(crate) failure: Option<String>,
    /// Compressed bytes read.
    pub(crate) compressed_bytes: u64,
}

impl Default for LayerScan {
    fn default() -> Self {
        Self {
            files: Vec::new(),
            whiteouts: HashSet::new(),
            opaque: HashSet::new(),
            paths: HashMap::new(),
            links: HashMap::new(),
            links_complete: true,
            accounts: Vec::new(),
            problems: Vec::new(),
            failure: None,
            compressed_bytes: 0,
        }
    }
}

impl LayerScan {
    /// A scan that read nothing, for the reason given.
    pub(crate) fn failed(failure: String) -> Self {
        Self {
            failure: Some(failure),
            ..Self::default()
        }
    }
}

/// A notable file of one layer.
#[derive(Debug, Clone)]
pub(crate) struct FoundFile {
    pub(crate) path: String,
    pub(crate) mode: u32,
    pub(crate) uid: u64,
    pub(crate) gid: u64,
    pub(crate) is_dir: bool,
    pub(crate) secret: Option<&'static str>,
    pub(crate) sudo_rules: Vec<String>,
}

/// Real paths that stand for the files the runtime reads by path, when links lead there: on a
/// rescan, the entry at `/data/pw` is read as `/etc/passwd` when `/etc/passwd` links to it, and the
/// files of `/opt/sd` as sudoers rules when `/etc/sudoers.d` links to `/opt/sd`.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Aliases {
    /// Real path → the path it stands for.
    pub(crate) exact: HashMap<String, String>,
    /// Real directory → the directory it stands for.
    pub(crate) dirs: HashMap<String, String>,
}

impl Aliases {
    /// The path `path` is read as.
    fn logical<'p>(&self, path: &'p str) -> Cow<'p, str> {
        if let Some(logical) = self.exact.get(path) {
            return Cow::Owned(logical.clone());
        }
        if let Some((parent, name)) = path.rsplit_once('/') {
            if let Some(dir) = self.dirs.get(if parent.is_empty() { "/" } else { parent }) {
                return Cow::Owned(format!("{}/{name}", dir.trim_end_matches('/')));
            }
        }
        Cow::Borrowed(path)
    }
}

/// How a layer's bytes are compressed, by magic number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Compression {
    None,
    Gzip,
    Zstd,
}

/// The compression `head` (a stream's first bytes) shows; `None` when it is neither gzip, zstd nor a
/// tar archive.
pub(crate) fn sniff_compression(head: &[u8]) -> Option<Compression> {
    if head.starts_with(&[0x1f, 0x8b]) {
        Some(Compression::Gzip)
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Some(Compression::Zstd)
    } else if head.get(257..262) == Some(b"ustar") || head.is_empty() || is_zero_block(head) {
        Some(Compression::None)
    } else if head.len() >= 512 && tar_checksum_ok(&head[..512]) {
        // A pre-POSIX (v7) tar header: no magic, but a valid checksum.
        Some(Compression::None)
    } else {
        None
    }
}

fn is_zero_block(head: &[u8]) -> bool {
    head.len() >= 512 && head[..512].iter().all(|&b| b == 0)
}

fn tar_checksum_ok(block: &[u8]) -> bool {
    let stored = std::str::from_utf8(&block[148..156])
        .ok()
        .map(|text| text.trim_matches(|c: char| c == '\0' || c == ' '))
        .and_then(|text| u32::from_str_radix(text, 8).ok());
    let sum: u32 = block[..148]
        .iter()
        .chain(&block[156..512])
        .map(|&b| u32::from(b))
        .sum::<u32>()
        + 8 * 32;
    stored == Some(sum)
}

/// Scans one layer read from `reader`, reading the entries at `aliases`' real paths as the files
/// they stand for; `size_hint` (the blob's size, when known) keeps the buffers of a small layer
/// small. Never fails: a broken layer yields what was read before the break, with
/// [`LayerScan::failure`] saying why.
pub(crate) fn scan_layer(
    reader: impl Read,
    context: &ScanContext<'_>,
    aliases: &Aliases,
    size_hint: Option<u64>,
) -> LayerScan {
    let mut scan = LayerScan::default();
    let (counted, compressed) = Counted::new(Progress {
        inner: reader,
        bar: context.progress,
    });
    let buffer = |size: usize| {
        size_hint.map_or(size, |hint| {
            usize::try_from(hint).map_or(size, |hint| hint.clamp(8 * 1024, size))
        })
    };
    let mut buffered = BufReader::with_capacity(buffer(256 * 1024), counted);
    let head = match buffered.fill_buf() {
        Ok(head) => head,
        Err(error) => {
            scan.failure = Some(format!("cannot read the layer: {error}"));
            return scan;
        }
    };
    let compression = match sniff_compression(head) {
        Some(compression) => compression,
        None => {
            scan.failure =
                Some("not a layer: neither a tar archive nor gzip- or zstd-compressed".to_owned());
            return scan;
        }
    };
    let decoded: Box<dyn Read> = match compression {
        Compression::None => Box::new(buffered),
        Compression::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(buffered)),
        Compression::Zstd => match zstd::stream::read::Decoder::with_buffer(buffered) {
            Ok(decoder) => Box::new(decoder),
            Err(error) => {
                scan.failure = Some(format!("cannot start zstd decompression: {error}"));
                return scan;
            }
        },
    };
    // Decompress in large blocks: the tar reader's 512-byte header reads are then served from
    // memory instead of each being a call into the decompressor.
    let decoded_buffer = if compression == Compression::None {
        buffer(DECODED_BUFFER)
    } else {
        DECODED_BUFFER
    };
    let guarded = BufReader::with_capacity(
        decoded_buffer,
        BombGuard::new(
            decoded,
            Rc::clone(&compressed),
            Caps {
                limits: context.limits,
                total: context.total,
                input: context.input,
            },
            compression != Compression::None,
        ),
    );
    let budget = HeaderBudget::new(context.limits.max_header_bytes);
    let archive = tar::Archive::new(HeaderGuard::new(guarded, Rc::clone(&budget)));
    let mut walker = Walker {
        context,
        aliases,
        scan: &mut scan,
        budget: &budget,
        notable: HashMap::new(),
        files: Vec::new(),
        notable_bytes: 0,
        link_bytes: 0,
        problem_count: 0,
        scratch: vec![0u8; buffer(DRAIN_BUFFER)],
        content: Vec::new(),
    };
    walker.walk(archive);
    scan.compressed_bytes = compressed.get();
    scan
}

/// The state of one walk over a layer's entries.
struct Walker<'a, 'c> {
    context: &'a ScanContext<'c>,
    aliases: &'a Aliases,
    scan: &'a mut LayerScan,
    budget: &'a HeaderBudget,
    /// Hash of a notable file's path → its index in `files`.
    notable: HashMap<u64, usize>,
    files: Vec<Option<FoundFile>>,
    notable_bytes: usize,
    link_bytes: usize,
    problem_count: usize,
    scratch: Vec<u8>,
    content: Vec<u8>,
}

impl Walker<'_, '_> {
    fn problem(&mut self, message: String) {
        self.problem_count += 1;
        if self.scan.problems.len() < MAX_PROBLEMS {
            self.scan.problems.push(message);
        }
    }

    fn hash(&self, path: &str) -> u64 {
        self.context.hasher.hash_one(path)
    }

    fn walk<R: Read>(&mut self, mut archive: tar::Archive<R>) {
        let entries = match archive.entries() {
            Ok(entries) => entries,
            Err(error) => {
                self.scan.failure = Some(format!("cannot read the tar archive: {error}"));
                return;
            }
        };
        // The last entry read, shortened, for an error after it.
        let mut last_path = String::new();
        let mut count = 0u64;
        for entry in entries {
            let mut entry = match entry {
                Ok(entry) => entry,
                Err(error) => {
                    self.scan.failure = Some(after(&last_path, &error.to_string()));
                    break;
                }
            };
            count += 1;
            if count > self.context.limits.max_entries {
                self.scan.failure = Some(format!(
                    "more than {} entries in one layer",
                    self.context.limits.max_entries
                ));
                break;
            }
            let raw = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
            last_path = quote_path(&raw).into_owned();
            if let Err(message) = self.entry(&mut entry, &raw) {
                self.scan.failure = Some(message);
                break;
            }
        }
        if self.problem_count > self.scan.problems.len() {
            let more = self.problem_count - self.scan.problems.len();
            self.scan.problems.push(format!("{more} more odd entries"));
        }
        self.scan.files = std::mem::take(&mut self.files)
            .into_iter()
            .flatten()
            .collect();
    }

    /// Reads one entry; an error stops the walk.
    fn entry<R: Read>(&mut self, entry: &mut tar::Entry<'_, R>, raw: &str) -> Result<(), String> {
        let header = entry.header();
        let kind = header.entry_type();
        if matches!(kind, EntryType::XGlobalHeader | EntryType::XHeader) {
            return self.drain(entry, raw);
        }
        let mode = header.mode().unwrap_or(0) & 0o7777;
        let uid = header.uid().unwrap_or(0);
        let gid = header.gid().unwrap_or(0);
        if raw.len() > MAX_PATH_BYTES {
            self.problem(format!(
                "entry `{}` has a path of {} bytes, longer than the {MAX_PATH_BYTES} Linux accepts; Docker cannot extract this layer",
                quote_path(raw),
                raw.len()
            ));
            return self.drain(entry, raw);
        }
        let Some(path) = normalize(raw) else {
            self.problem(format!(
                "entry `{}` escapes the layer root with `..`; Docker refuses such a layer",
                quote_path(raw)
            ));
            return self.drain(entry, raw);
        };
        if raw.starts_with('/') {
            self.problem(format!(
                "entry `{}` has an absolute path; it is read as `{}`, where Docker extracts it",
                quote_path(raw),
                quote_path(&path)
            ));
        }
        let link_target = match kind {
            EntryType::Link | EntryType::Symlink => entry
                .link_name_bytes()
                .map(|bytes| String::from_utf8_lossy(&bytes).into_owned()),
            _ => None,
        };

        let name = path.rsplit('/').next().unwrap_or("");
        if let Some(hidden) = name.strip_prefix(".wh.") {
            let parent = path.rsplit_once('/').map_or("", |(parent, _)| parent);
            if hidden == ".wh..opq" {
                let dir = if parent.is_empty() { "/" } else { parent };
                self.scan.opaque.insert(self.hash(dir));
            } else if !hidden.starts_with(".wh.") && !hidden.is_empty() {
                self.scan
                    .whiteouts
                    .insert(self.hash(&format!("{parent}/{hidden}")));
            }
            return self.drain(entry, raw);
        }

        let path_hash = self.hash(&path);
        let entry_kind = match kind {
            EntryType::Directory => Kind::Dir,
            EntryType::Regular | EntryType::Continuous | EntryType::GNUSparse => Kind::File,
            EntryType::Symlink => Kind::Symlink,
            EntryType::Link => Kind::HardLink,
            _ => Kind::Other,
        };
        let entry_kind = match link_target {
            Some(target) => self.link(raw, path_hash, entry_kind, target),
            None => entry_kind,
        };
        self.scan.paths.insert(path_hash, entry_kind);
        if entry_kind != Kind::Symlink && entry_kind != Kind::HardLink {
            self.scan.links.remove(&path_hash);
        }
        if let Some(index) = self.notable.remove(&path_hash) {
            if let Some(replaced) = self.files[index].take() {
                self.notable_bytes -= replaced.path.len();
            }
        }

        let is_dir = entry_kind == Kind::Dir;
        let is_regular = matches!(kind, EntryType::Regular | EntryType::Continuous);
        let mut found = FoundFile {
            path,
            mode,
            uid,
            gid,
            is_dir,
            secret: None,
            sudo_rules: Vec::new(),
        };
        let mut keep =
            (is_regular || kind == EntryType::Link) && mode & 0o6000 != 0 && mode & 0o111 != 0
                || is_dir && mode & 0o002 != 0;

        if kind == EntryType::GNUSparse {
            // Sparse data is expanded with zeros on read: never drain it (a tiny archive could
            // declare exabytes); let the tar reader skip its on-disk bytes instead.
            self.budget.grant(header.entry_size().unwrap_or(0));
        } else {
            self.read_data(entry, raw, &mut found, is_regular)?;
        }
        keep |= found.secret.is_some() || !found.sudo_rules.is_empty();
        if keep {
            if self.notable.len() >= MAX_NOTABLE
                || self.notable_bytes + found.path.len() > MAX_NOTABLE_BYTES
            {
                self.problem(format!(
                    "more than {MAX_NOTABLE} notable files or {} of their paths; the rest are not listed",
                    crate::limits::human_bytes(MAX_NOTABLE_BYTES as u64)
                ));
                return Ok(());
            }
            self.notable_bytes += found.path.len();
            self.notable.insert(path_hash, self.files.len());
            self.files.push(Some(found));
        }
        Ok(())
    }

    /// Records a link's target; returns the entry's kind (a hard link to a symlink is a symlink).
    fn link(&mut self, raw: &str, path_hash: u64, kind: Kind, target: String) -> Kind {
        if target.len() > MAX_PATH_BYTES {
            self.problem(format!(
                "link `{}` has a target of {} bytes, longer than the {MAX_PATH_BYTES} Linux accepts; Docker cannot extract this layer",
                quote_path(raw),
                target.len()
            ));
            return Kind::Other;
        }
        let (kind, target) = if kind == Kind::HardLink {
            let Some(normalized) = normalize(&target) else {
                self.problem(format!(
                    "hard link `{}` points outside the layer root (`{}`); Docker refuses such a layer",
                    quote_path(raw),
                    quote_path(&target)
                ));
                return Kind::Other;
            };
            // A hard link to a symlink is another name for the symlink.
            let target_hash = self.hash(&normalized);
            match self.scan.paths.get(&target_hash) {
                Some(Kind::Symlink) => match self.scan.links.get(&target_hash) {
                    Some(symlink) => (Kind::Symlink, symlink.clone()),
                    None => return Kind::Symlink,
                },
                _ => (Kind::HardLink, normalized),
            }
        } else {
            (kind, target)
        };
        if self.link_bytes + target.len() > MAX_LINK_BYTES {
            if self.scan.links_complete {
                self.scan.links_complete = false;
                self.problem(format!(
                    "more than {} of link targets; the links after `{}` are not followed",
                    crate::limits::human_bytes(MAX_LINK_BYTES as u64),
                    quote_path(raw)
                ));
            }
            return kind;
        }
        self.link_bytes += target.len();
        self.scan.links.insert(path_hash, target);
        kind
    }

    /// Reads an entry's data: as much as recognising it needs, the rest drained.
    fn read_data<R: Read>(
        &mut self,
        entry: &mut tar::Entry<'_, R>,
        raw: &str,
        found: &mut FoundFile,
        is_regular: bool,
    ) -> Result<(), String> {
        self.budget.set_in_data(true);
        let size = entry.size();
        let logical = self.aliases.logical(&found.path).into_owned();
        let need = if is_regular {
            classify::need(&logical, size)
        } else {
            Need::Nothing
        };
        let mut read = 0u64;
        self.content.clear();
        let outcome = (|| -> io::Result<()> {
            if is_regular {
                found.secret = classify::secret_by_name(&found.path);
                let limit = match need {
                    Need::Nothing => 0,
                    Need::Sniff => SNIFF_BYTES,
                    Need::Content(_) => classify::CONTENT_BYTES as u64,
                    Need::Account => classify::ACCOUNT_BYTES as u64,
                };
                read += (&mut *entry).take(limit).read_to_end(&mut self.content)? as u64;
            }
            read += skip(entry, &mut self.scratch)?;
            Ok(())
        })();
        self.budget.set_in_data(false);
        if let Err(error) = outcome {
            return Err(at(raw, &error.to_string()));
        }
        if read < size {
            return Err(at(
                raw,
                &format!("archive is truncated ({read} of {size} bytes)"),
            ));
        }
        if !is_regular {
            return Ok(());
        }
        match need {
            Need::Nothing => {}
            Need::Sniff if found.secret.is_none() => {
                found.secret = classify::sniff_private_key(&self.content);
            }
            Need::Sniff => {}
            Need::Content(candidate) => match classify::recognise(candidate, &self.content) {
                Recognised::Secret(kind) => found.secret = found.secret.or(Some(kind)),
                Recognised::SudoRules(rules) => found.sudo_rules = rules,
                Recognised::Nothing => {}
            },
            Need::Account => {
                self.scan
                    .accounts
                    .retain(|captured| captured.path != found.path);
                self.scan.accounts.push(Captured {
                    path: found.path.clone(),
                    text: String::from_utf8_lossy(&self.content).into_owned(),
                    complete: size <= classify::ACCOUNT_BYTES as u64,
                });
            }
        }
        Ok(())
    }

    /// Reads the rest of an entry's data (inside its data budget).
    fn drain(&mut self, entry: &mut impl Read, raw: &str) -> Result<(), String> {
        self.budget.set_in_data(true);
        let drained = skip(entry, &mut self.scratch);
        self.budget.set_in_data(false);
        drained
            .map(drop)
            .map_err(|error| at(raw, &error.to_string()))
    }
}

/// Reads `reader` to its end into `scratch`, returning the byte count. A large buffer, rather than
/// `io::copy`'s 8 KiB, lets the decompressor produce big blocks: this loop is the scan's hot path.
fn skip(reader: &mut impl Read, scratch: &mut [u8]) -> io::Result<u64> {
    let mut total = 0u64;
    loop {
        match reader.read(scratch) {
            Ok(0) => return Ok(total),
            Ok(read) => total += read as u64,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => return Err(error),
        }
    }
}

fn at(entry: &str, message: &str) -> String {
    format!("entry `{}`: {message}", quote_path(entry))
}

fn after(entry: &str, message: &str) -> String {
    if entry.is_empty() {
        format!("at the first entry: {message}")
    } else {
        format!("after entry `{entry}`: {message}")
    }
}

/// A layer path as Docker extracts it: absolute, without `.` and empty components, `..` resolved;
/// `None` when `..` climbs out of the root.
pub(crate) fn normalize(raw: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for component in raw.split('/') {
        match component {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            component => parts.push(component),
        }
    }
    Some(format!("/{}", parts.join("/")))
}

/// Counts compressed bytes into the progress bar as they are read.
struct Progress<'a, R> {
    inner: R,
    bar: Option<&'a ProgressBar>,
}

impl<R: Read> Read for Progress<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let read = self.inner.read(buf)?;
        if let Some(bar) = self.bar {
            bar.inc(read as u64);
        }
        Ok(read)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_normalise_as_docker_extracts_them() {
        assert_eq!(normalize("./etc/passwd").as_deref(), Some("/etc/passwd"));
        assert_eq!(
            normalize("/etc//x/../passwd").as_deref(),
            Some("/etc/passwd")
        );
        assert_eq!(normalize("./").as_deref(), Some("/"));
        assert_eq!(normalize("a/../../etc/shadow"), None);
    }

    #[test]
    fn compression_is_told_by_magic() {
        assert_eq!(sniff_compression(&[0x1f, 0x8b, 8]), Some(Compression::Gzip));
        assert_eq!(
            sniff_compression(&[0x28, 0xb5, 0x2f, 0xfd, 0]),
            Some(Compression::Zstd)
        );
        assert_eq!(sniff_compression(b""), Some(Compression::None));
        assert_eq!(sniff_compression(b"{\"json\": true}"), None);
    }
}
