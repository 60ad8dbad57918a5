//! Streaming one layer: decompress, walk its tar entries once, keep only what matters.
//!
//! A layer is read as a stream (never extracted, never buffered whole): its compression is told by
//! its magic bytes (gzip, zstd, or plain tar, whatever the media type says), every decompressed byte
//! passes the caps of [`crate::limits`], and each entry's data is drained as it goes. What is kept is
//! small: the notable files (setuid/setgid, world-writable directories, secrets, sudoers rules), the
//! whiteouts and opaque directories, `/etc/passwd`, and a hash of every path so that a later step can
//! tell which lower-layer files this layer replaces.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::io::{self, BufRead, BufReader, Read};
use std::rc::Rc;
use std::sync::atomic::AtomicU64;

use indicatif::ProgressBar;
use tar::EntryType;

use crate::classify::{self, Need, Recognised};
use crate::limits::{BombGuard, Counted, HeaderBudget, HeaderGuard, Limits};

/// Most notable files kept per layer; a layer with more is hostile or broken.
const MAX_NOTABLE: usize = 100_000;
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
    /// One keyed hasher for the path index of every layer, so that hashes compare across layers.
    pub(crate) hasher: &'a RandomState,
    pub(crate) progress: Option<&'a ProgressBar>,
}

/// What one layer holds that matters.
#[derive(Debug, Default)]
pub(crate) struct LayerScan {
    /// Notable files, one per path (the last entry for a path wins, as on extraction).
    pub(crate) files: Vec<FoundFile>,
    /// Paths this layer deletes from the layers below (`.wh.name`).
    pub(crate) whiteouts: Vec<String>,
    /// Directories whose lower-layer contents this layer hides (`.wh..wh..opq`).
    pub(crate) opaque: Vec<String>,
    /// Hash of every path in the layer → whether it is a directory.
    pub(crate) paths: HashMap<u64, bool>,
    /// The contents of `/etc/passwd`, when this layer writes it.
    pub(crate) passwd: Option<String>,
    /// Odd entries that were skipped or accounted as Docker would (absolute paths, `..`).
    pub(crate) problems: Vec<String>,
    /// Why the scan stopped early, when it did; what was found until then is kept.
    pub(crate) failure: Option<String>,
    /// Compressed bytes read.
    pub(crate) compressed_bytes: u64,
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

/// Scans one layer read from `reader`. Never fails: a broken layer yields what was read before the
/// break, with [`LayerScan::failure`] saying why.
pub(crate) fn scan_layer(reader: impl Read, context: &ScanContext<'_>) -> LayerScan {
    let mut scan = LayerScan::default();
    let (counted, compressed) = Counted::new(Progress {
        inner: reader,
        bar: context.progress,
    });
    let mut buffered = BufReader::with_capacity(256 * 1024, counted);
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
    let guarded = BufReader::with_capacity(
        DECODED_BUFFER,
        BombGuard::new(
            decoded,
            Rc::clone(&compressed),
            context.total,
            context.limits,
            compression != Compression::None,
        ),
    );
    let budget = HeaderBudget::new(context.limits.max_header_bytes);
    let archive = tar::Archive::new(HeaderGuard::new(guarded, Rc::clone(&budget)));
    walk_entries(archive, &budget, context, &mut scan);
    scan.compressed_bytes = compressed.get();
    scan
}

fn walk_entries<R: Read>(
    mut archive: tar::Archive<R>,
    budget: &HeaderBudget,
    context: &ScanContext<'_>,
    scan: &mut LayerScan,
) {
    let entries = match archive.entries() {
        Ok(entries) => entries,
        Err(error) => {
            scan.failure = Some(format!("cannot read the tar archive: {error}"));
            return;
        }
    };
    let mut notable: HashMap<String, usize> = HashMap::new();
    let mut files: Vec<Option<FoundFile>> = Vec::new();
    let mut last_path = String::new();
    let mut scratch = vec![0u8; DRAIN_BUFFER];
    let mut content = Vec::new();
    let mut problem_count = 0usize;
    let mut count = 0u64;
    for entry in entries {
        let mut entry = match entry {
            Ok(entry) => entry,
            Err(error) => {
                scan.failure = Some(after(&last_path, &error.to_string()));
                break;
            }
        };
        count += 1;
        if count > context.limits.max_entries {
            scan.failure = Some(format!(
                "more than {} entries in one layer",
                context.limits.max_entries
            ));
            break;
        }
        let raw = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        last_path.clone_from(&raw);
        let header = entry.header();
        let kind = header.entry_type();
        if matches!(kind, EntryType::XGlobalHeader | EntryType::XHeader) {
            budget.set_in_data(true);
            let drained = skip(&mut entry, &mut scratch);
            budget.set_in_data(false);
            if let Err(error) = drained {
                scan.failure = Some(at(&raw, &error.to_string()));
                break;
            }
            continue;
        }
        let mode = header.mode().unwrap_or(0) & 0o7777;
        let uid = header.uid().unwrap_or(0);
        let gid = header.gid().unwrap_or(0);
        let mut problem = |message: String| {
            problem_count += 1;
            if scan.problems.len() < MAX_PROBLEMS {
                scan.problems.push(message);
            }
        };
        let Some(path) = normalize(&raw) else {
            problem(format!(
                "entry `{raw}` escapes the layer root with `..`; Docker refuses such a layer"
            ));
            if let Err(message) = drain(&mut entry, budget, &raw, &mut scratch) {
                scan.failure = Some(message);
                break;
            }
            continue;
        };
        if raw.starts_with('/') {
            problem(format!(
                "entry `{raw}` has an absolute path; it is read as `{path}`, where Docker extracts it"
            ));
        }
        if kind == EntryType::Link {
            let target = entry
                .link_name_bytes()
                .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
                .unwrap_or_default();
            if normalize(&target).is_none() {
                problem(format!(
                    "hard link `{raw}` points outside the layer root (`{target}`); Docker refuses such a layer"
                ));
            }
        }

        let name = path.rsplit('/').next().unwrap_or("");
        if let Some(hidden) = name.strip_prefix(".wh.") {
            let parent = path.rsplit_once('/').map_or("", |(parent, _)| parent);
            if hidden == ".wh..opq" {
                scan.opaque.push(if parent.is_empty() {
                    "/".to_owned()
                } else {
                    parent.to_owned()
                });
            } else if !hidden.starts_with(".wh.") && !hidden.is_empty() {
                scan.whiteouts.push(format!("{parent}/{hidden}"));
            }
            if let Err(message) = drain(&mut entry, budget, &raw, &mut scratch) {
                scan.failure = Some(message);
                break;
            }
            continue;
        }

        let is_dir = kind == EntryType::Directory;
        scan.paths
            .insert(context.hasher.hash_one(path.as_str()), is_dir);
        if let Some(index) = notable.remove(&path) {
            files[index] = None;
        }

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
            budget.grant(header.entry_size().unwrap_or(0));
        } else {
            budget.set_in_data(true);
            let size = entry.size();
            let mut read = 0u64;
            content.clear();
            let outcome = (|| -> io::Result<()> {
                if is_regular {
                    found.secret = classify::secret_by_name(&found.path);
                    let limit = match classify::need(&found.path, size) {
                        Need::Nothing => 0,
                        Need::Sniff => SNIFF_BYTES,
                        Need::Content(_) => classify::CONTENT_BYTES as u64,
                    };
                    read += (&mut entry).take(limit).read_to_end(&mut content)? as u64;
                }
                read += skip(&mut entry, &mut scratch)?;
                Ok(())
            })();
            budget.set_in_data(false);
            if let Err(error) = outcome {
                scan.failure = Some(at(&raw, &error.to_string()));
                break;
            }
            if read < size {
                scan.failure = Some(at(
                    &raw,
                    &format!("archive is truncated ({read} of {size} bytes)"),
                ));
                break;
            }
            if is_regular && found.secret.is_none() {
                match classify::need(&found.path, size) {
                    Need::Nothing => {}
                    Need::Sniff => found.secret = classify::sniff_private_key(&content),
                    Need::Content(candidate) => match classify::recognise(candidate, &content) {
                        Recognised::Secret(kind) => found.secret = Some(kind),
                        Recognised::SudoRules(rules) => found.sudo_rules = rules,
                        Recognised::Passwd(text) => scan.passwd = Some(text),
                        Recognised::Nothing => {}
                    },
                }
            }
        }
        keep |= found.secret.is_some() || !found.sudo_rules.is_empty();
        if keep {
            if notable.len() >= MAX_NOTABLE {
                problem(format!(
                    "more than {MAX_NOTABLE} notable files; the rest are not listed"
                ));
                continue;
            }
            notable.insert(found.path.clone(), files.len());
            files.push(Some(found));
        }
    }
    if problem_count > scan.problems.len() {
        scan.problems.push(format!(
            "{} more odd entries",
            problem_count - scan.problems.len()
        ));
    }
    scan.files = files.into_iter().flatten().collect();
}

/// Reads the rest of an entry's data (inside its data budget).
fn drain(
    entry: &mut impl Read,
    budget: &HeaderBudget,
    raw: &str,
    scratch: &mut [u8],
) -> Result<(), String> {
    budget.set_in_data(true);
    let drained = skip(entry, scratch);
    budget.set_in_data(false);
    drained
        .map(drop)
        .map_err(|error| at(raw, &error.to_string()))
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
    format!("entry `{entry}`: {message}")
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
