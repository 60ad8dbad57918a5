//! The container of an image: a `docker save` archive (legacy `manifest.json` layout or the OCI
//! layout Docker 25+ writes), an OCI image layout directory or tar, or the engine's export stream.
//!
//! Reading is done in one pass over the outer archive, without extracting it. Which blob is what is
//! only known at the end, from `manifest.json` or `index.json`, so:
//!
//! - a plain tar file is indexed: every entry is remembered by its offset and read later with a seek
//!   (JSON documents when needed, layers in parallel); nothing is buffered;
//! - a stream (a compressed archive, the engine's API) cannot be read twice: JSON documents (by
//!   name, or by a first byte of `{` or `[`) are kept in memory, within one budget for the whole run
//!   ([`Shared`]), except `manifest.json` and `index.json`, which are always kept; every blob that
//!   starts like a layer is scanned on the spot by the run's pool of scan threads, fed through a
//!   bounded channel while this thread reads on; anything else is remembered as unreadable.
//!
//! However many blobs an archive holds, the threads are the pool's and the scans in flight at once
//! are bounded for the run, so memory is a few chunks per scan in flight.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{channel, sync_channel, Receiver, SyncSender};
use std::sync::Arc;

use crate::layer::{self, Aliases, Compression, LayerScan};
use crate::limits::{human_bytes, BombGuard, Counted, HeaderBudget, HeaderGuard, Limits};
use crate::shared::{Scanning, Shared};

/// Where a blob's bytes are.
#[derive(Debug, Clone)]
pub(crate) enum Blob {
    /// Read into memory while streaming.
    Memory(Arc<[u8]>),
    /// A range of a plain tar file.
    FileRange { offset: u64, len: u64 },
    /// A file of an OCI layout directory.
    File(PathBuf),
    /// A blob of a stream that was not kept, and why.
    Dropped(String),
}

/// How the input can be read again (to rescan a layer with [`Aliases`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Source {
    /// A plain tar file or a directory: every blob can be opened again.
    Seekable,
    /// A compressed archive file: it can be decompressed again.
    CompressedFile,
    /// A stream that can only be read once (the engine's export).
    Stream,
}

/// The blobs of one input, by their path inside it (`manifest.json`, `blobs/sha256/…`).
pub(crate) struct Catalog {
    /// The input's path, for the file ranges.
    pub(crate) path: PathBuf,
    pub(crate) blobs: HashMap<String, Blob>,
    /// Layers of a stream, scanned while they passed.
    pub(crate) scanned: HashMap<String, LayerScan>,
    /// An OCI layout directory: blobs are files under it.
    pub(crate) dir: Option<PathBuf>,
    pub(crate) source: Source,
    /// JSON bytes charged to the run's buffer budget, given back when the catalog is dropped.
    charged: Option<(Shared, u64)>,
}

impl Drop for Catalog {
    fn drop(&mut self) {
        if let Some((shared, bytes)) = &self.charged {
            shared.release_buffered(*bytes);
        }
    }
}

/// One image an input holds.
#[derive(Debug, Clone)]
pub(crate) struct ImageEntry {
    /// Its names (`repo:tag`), or its manifest digest when it has none.
    pub(crate) names: Vec<String>,
    /// The config blob's path in the input.
    pub(crate) config: String,
    /// The config's digest (`sha256:…`), when known.
    pub(crate) config_digest: Option<String>,
    /// Its layers, bottom first: blob path and digest when the manifest gives one.
    pub(crate) layers: Vec<(String, Option<String>)>,
}

impl Catalog {
    fn new(path: &Path, source: Source) -> Self {
        Self {
            path: path.to_owned(),
            blobs: HashMap::new(),
            scanned: HashMap::new(),
            dir: None,
            source,
            charged: None,
        }
    }

    /// An OCI image layout directory.
    pub(crate) fn directory(dir: &Path) -> Self {
        let mut catalog = Self::new(dir, Source::Seekable);
        catalog.dir = Some(dir.to_owned());
        catalog
    }

    /// Where the blob at `key` is.
    pub(crate) fn blob(&self, key: &str) -> Option<Blob> {
        if let Some(blob) = self.blobs.get(key) {
            return Some(blob.clone());
        }
        let dir = self.dir.as_ref()?;
        let path = dir.join(key);
        path.is_file().then_some(Blob::File(path))
    }

    /// Opens a blob for reading, with its size.
    pub(crate) fn open(&self, blob: &Blob) -> io::Result<(Box<dyn Read + Send>, u64)> {
        match blob {
            Blob::Memory(bytes) => Ok((
                Box::new(io::Cursor::new(Arc::clone(bytes))),
                bytes.len() as u64,
            )),
            Blob::FileRange { offset, len } => {
                let mut file = File::open(&self.path)?;
                file.seek(SeekFrom::Start(*offset))?;
                Ok((Box::new(BufReader::new(file).take(*len)), *len))
            }
            Blob::File(path) => {
                let file = File::open(path)?;
                let len = file.metadata()?.len();
                Ok((Box::new(file), len))
            }
            Blob::Dropped(reason) => Err(io::Error::other(reason.clone())),
        }
    }

    /// Reads a JSON blob whole, capped.
    pub(crate) fn read_json(&self, key: &str, limits: &Limits) -> Result<Vec<u8>, String> {
        let blob = self
            .blob(key)
            .ok_or_else(|| format!("`{key}` is missing from the archive"))?;
        let (reader, len) = self
            .open(&blob)
            .map_err(|error| format!("cannot read `{key}`: {error}"))?;
        if len > limits.max_json_bytes {
            return Err(format!(
                "`{key}` is {}, more than the {} allowed for a JSON document",
                human_bytes(len),
                human_bytes(limits.max_json_bytes)
            ));
        }
        let mut bytes = Vec::new();
        reader
            .take(limits.max_json_bytes)
            .read_to_end(&mut bytes)
            .map_err(|error| format!("cannot read `{key}`: {error}"))?;
        Ok(bytes)
    }

    /// Scans the layers at `wanted`'s keys again, each reading the entries at its aliases' paths as
    /// the files they stand for; one result per key, in order. Layers of a compressed archive are
    /// found by decompressing it again, once for them all, and at most [`MAX_REREADS`] times per
    /// input; the engine's export cannot be read twice.
    pub(crate) fn rescan(
        &self,
        wanted: &[(&str, Aliases)],
        scanning: &Scanning,
    ) -> Vec<Result<LayerScan, String>> {
        let mut results: Vec<Option<Result<LayerScan, String>>> = wanted
            .iter()
            .map(|(key, aliases)| {
                let blob = self
                    .blob(key)
                    .filter(|blob| !matches!(blob, Blob::Dropped(_)))?;
                Some(
                    self.open(&blob)
                        .map_err(|error| format!("cannot read the layer again: {error}"))
                        .map(|(reader, len)| {
                            layer::scan_layer(reader, &scanning.context(None), aliases, Some(len))
                        }),
                )
            })
            .collect();
        let streamed: Vec<(usize, &str, &Aliases)> = wanted
            .iter()
            .enumerate()
            .filter(|(index, _)| results[*index].is_none())
            .map(|(index, (key, aliases))| (index, *key, aliases))
            .collect();
        if !streamed.is_empty() {
            let outcome = match self.source {
                Source::CompressedFile
                    if scanning.rereads.fetch_add(1, Ordering::Relaxed) < MAX_REREADS =>
                {
                    rescan_compressed(&self.path, &streamed, scanning)
                }
                Source::CompressedFile => Err(format!(
                    "the archive was already decompressed again {MAX_REREADS} times to follow links"
                )),
                Source::Seekable => Err("the layer is missing from the archive".to_owned()),
                Source::Stream => Err("the engine's export stream cannot be read twice; audit a `docker save` archive of the image instead".to_owned()),
            };
            match outcome {
                Ok(mut scans) => {
                    for (index, key, _) in &streamed {
                        results[*index] = Some(scans.remove(*key).ok_or_else(|| {
                            "the layer was not found when the archive was read again".to_owned()
                        }));
                    }
                }
                Err(message) => {
                    for (index, _, _) in &streamed {
                        results[*index] = Some(Err(message.clone()));
                    }
                }
            }
        }
        results
            .into_iter()
            .map(|result| result.unwrap_or_else(|| Err("not scanned".to_owned())))
            .collect()
    }
}

/// How many times one compressed input may be decompressed again to follow links.
const MAX_REREADS: u32 = 4;

/// Reads an archive file: a plain tar is indexed (layers read later, in parallel), a compressed one
/// is streamed.
pub(crate) fn read_file(
    path: &Path,
    scanning: &Arc<Scanning>,
    shared: &Shared,
) -> Result<Catalog, String> {
    let limits = &scanning.limits;
    match open_decompressed(path, scanning)? {
        Opened::Plain(reader) => {
            let mut archive = tar::Archive::new(reader);
            let entries = archive
                .entries_with_seek()
                .map_err(|error| format!("cannot read the archive: {error}"))?;
            let mut catalog = Catalog::new(path, Source::Seekable);
            index_entries(entries, &mut catalog, limits)?;
            Ok(catalog)
        }
        Opened::Compressed(reader) => {
            let mut catalog = Catalog::new(path, Source::CompressedFile);
            read_stream_into(reader, &mut catalog, scanning, shared)?;
            Ok(catalog)
        }
    }
}

/// An archive file, opened: plain, or decompressing.
enum Opened<'a> {
    Plain(BufReader<File>),
    Compressed(Box<dyn Read + 'a>),
}

fn open_decompressed<'a>(path: &Path, scanning: &'a Scanning) -> Result<Opened<'a>, String> {
    let file = File::open(path).map_err(|error| describe_io(&error))?;
    let mut reader = BufReader::with_capacity(256 * 1024, file);
    let head = reader.fill_buf().map_err(|error| describe_io(&error))?;
    let compression = layer::sniff_compression(head).ok_or_else(|| {
        "not an image archive: neither a tar archive nor gzip- or zstd-compressed".to_owned()
    })?;
    // The outer stream's decompression has the caps of a layer's: its size (the input's total),
    // its ratio to the file's bytes.
    if compression == Compression::None {
        return Ok(Opened::Plain(reader));
    }
    let (counted, compressed) = Counted::new(reader);
    let decoded: Box<dyn Read> = if compression == Compression::Gzip {
        Box::new(flate2::bufread::MultiGzDecoder::new(BufReader::new(
            counted,
        )))
    } else {
        Box::new(
            zstd::stream::read::Decoder::new(counted)
                .map_err(|error| format!("cannot start zstd decompression: {error}"))?,
        )
    };
    Ok(Opened::Compressed(Box::new(OuterGuard::new(
        decoded, compressed, scanning,
    ))))
}

/// The outer stream's [`BombGuard`], owning its own counter of decompressed bytes (the layers inside
/// count theirs apart).
struct OuterGuard<'a> {
    inner: BombGuard<'a, Box<dyn Read>>,
}

impl<'a> OuterGuard<'a> {
    fn new(
        inner: Box<dyn Read>,
        compressed: Rc<std::cell::Cell<u64>>,
        scanning: &'a Scanning,
    ) -> Self {
        Self {
            inner: BombGuard::new(inner, compressed, scanning.outer_caps(), true),
        }
    }
}

impl Read for OuterGuard<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf)
    }
}

/// Reads a (decompressed) tar stream that cannot be read twice: layers are scanned on the spot.
pub(crate) fn read_stream(
    path: &Path,
    reader: impl Read,
    scanning: &Arc<Scanning>,
    shared: &Shared,
) -> Result<Catalog, String> {
    let mut catalog = Catalog::new(path, Source::Stream);
    read_stream_into(reader, &mut catalog, scanning, shared)?;
    Ok(catalog)
}

fn read_stream_into(
    reader: impl Read,
    catalog: &mut Catalog,
    scanning: &Arc<Scanning>,
    shared: &Shared,
) -> Result<(), String> {
    let budget = HeaderBudget::new(scanning.limits.max_header_bytes);
    let mut archive = tar::Archive::new(HeaderGuard::new(reader, Rc::clone(&budget)));
    let entries = archive
        .entries()
        .map_err(|error| format!("cannot read the archive: {error}"))?;
    index_streamed(entries, &budget, catalog, scanning, shared)
}

/// Indexes a plain tar file: every entry remembered by its offset, nothing read yet.
fn index_entries<R: Read>(
    entries: tar::Entries<'_, R>,
    catalog: &mut Catalog,
    limits: &Limits,
) -> Result<(), String> {
    let mut count = 0u64;
    for entry in entries {
        let entry = entry.map_err(|error| format!("cannot read the archive: {error}"))?;
        count += 1;
        if count > limits.max_archive_entries {
            return Err(format!(
                "more than {} entries in the archive",
                limits.max_archive_entries
            ));
        }
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let Some(key) = blob_key(&String::from_utf8_lossy(&entry.path_bytes())) else {
            continue;
        };
        let offset = entry.raw_file_position();
        catalog.blobs.insert(
            key,
            Blob::FileRange {
                offset,
                len: entry.size(),
            },
        );
    }
    Ok(())
}

/// Chunks in flight to one layer scan, and their size.
const CHANNEL_CHUNKS: usize = 4;
const CHUNK_BYTES: usize = 256 * 1024;

/// The documents every archive is found by: always kept in memory.
const INDEX_FILES: [&str; 2] = ["manifest.json", "index.json"];

/// What a blob of a stream is, from its name and first bytes.
enum Streamed {
    Json,
    Layer,
    Other,
}

fn classify_blob(key: &str, head: &[u8]) -> Streamed {
    let first = head.iter().find(|b| !b.is_ascii_whitespace());
    if INDEX_FILES.contains(&key)
        || key == "oci-layout"
        || key == "repositories"
        || Path::new(key).extension().is_some_and(|ext| ext == "json")
        || matches!(first, Some(b'{' | b'['))
    {
        Streamed::Json
    } else if layer::sniff_compression(head).is_some() {
        Streamed::Layer
    } else {
        Streamed::Other
    }
}

/// Indexes a tar stream: JSON documents kept in memory, layers scanned as they pass.
///
/// A layer is handed in chunks to a scan on the run's pool while this thread reads on: the outer
/// stream (a socket, a decompressor) and the layer scans overlap, and the next layer's scan starts
/// while the previous one finishes its last chunks. The bounded channel keeps memory at a few chunks
/// per scan, and the run's permits bound the scans in flight. This thread then waits for its scans
/// (a plain channel wait: it never runs other work meanwhile).
fn index_streamed<R: Read>(
    entries: tar::Entries<'_, R>,
    budget: &HeaderBudget,
    catalog: &mut Catalog,
    scanning: &Arc<Scanning>,
    shared: &Shared,
) -> Result<(), String> {
    let limits = &scanning.limits;
    let pool = shared.pool()?;
    let (results, finished) = channel::<(u64, String, LayerScan)>();
    // The entry each scanned key was last seen as a layer at: a later entry of the same name (a
    // layer again, or anything else) is what the archive holds, as on extraction.
    let mut layer_at: HashMap<String, u64> = HashMap::new();
    let mut spawned = 0usize;
    let mut charged = 0u64;
    let outcome = (|| {
        let mut count = 0u64;
        let mut head = vec![0u8; CHUNK_BYTES];
        for entry in entries {
            let mut entry = entry.map_err(|error| format!("cannot read the archive: {error}"))?;
            count += 1;
            if count > limits.max_archive_entries {
                return Err(format!(
                    "more than {} entries in the archive",
                    limits.max_archive_entries
                ));
            }
            budget.set_in_data(true);
            let path = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
            let key = blob_key(&path).filter(|_| entry.header().entry_type().is_file());
            let len = entry.size();
            let quoted = leastpriv_model::quote_path(&path).into_owned();
            let outcome = match key {
                None => io::copy(&mut entry, &mut io::sink())
                    .map(drop)
                    .map_err(|error| format!("entry `{quoted}`: {error}")),
                Some(key) => (|| {
                    let filled = read_up_to(&mut entry, &mut head)
                        .map_err(|error| format!("entry `{quoted}`: {error}"))?;
                    let first = &head[..filled];
                    let blob = match classify_blob(&key, first) {
                        Streamed::Json => keep_json(&mut entry, first, len, &key, limits, shared)?,
                        Streamed::Layer => {
                            let permit = shared.scan_permit();
                            let (sender, receiver) = sync_channel(CHANNEL_CHUNKS);
                            let scanning = Arc::clone(scanning);
                            let results = results.clone();
                            let task_key = key.clone();
                            pool.spawn(move || {
                                let context = scanning.context(scanning.progress.as_ref());
                                let scan = layer::scan_layer(
                                    ChunkReader::new(receiver),
                                    &context,
                                    &Aliases::default(),
                                    Some(len),
                                );
                                // The receiving end is gone only when the reader gave up.
                                let _ = results.send((count, task_key, scan));
                                drop(permit);
                            });
                            spawned += 1;
                            if let Some(Blob::Memory(replaced)) = catalog.blobs.remove(&key) {
                                charged -= release(shared, &replaced);
                            }
                            layer_at.insert(key, count);
                            return pump(&mut entry, first, &sender, len)
                                .map_err(|message| format!("entry `{quoted}`: {message}"));
                        }
                        Streamed::Other => {
                            let rest = io::copy(&mut entry, &mut io::sink())
                                .map_err(|error| format!("entry `{quoted}`: {error}"))?;
                            truncated(filled as u64 + rest, len, &quoted)?;
                            Blob::Dropped(
                                "it is neither a JSON document nor a layer (tar, gzip or zstd)"
                                    .to_owned(),
                            )
                        }
                    };
                    if let Blob::Memory(bytes) = &blob {
                        charged += bytes.len() as u64;
                    }
                    layer_at.remove(&key);
                    if let Some(Blob::Memory(replaced)) = catalog.blobs.insert(key, blob) {
                        charged -= release(shared, &replaced);
                    }
                    Ok(())
                })(),
            };
            budget.set_in_data(false);
            outcome?;
        }
        Ok(())
    })();
    drop(results);
    // Every scan ends once its chunks are in: its sender was dropped when its entry was read.
    for (at, key, scan) in finished.iter().take(spawned) {
        if layer_at.get(&key) == Some(&at) {
            catalog.scanned.insert(key, scan);
        }
    }
    if charged > 0 {
        catalog.charged = Some((shared.clone(), charged));
    }
    outcome
}

/// Reads a JSON document of a stream into memory: within [`Limits::max_json_bytes`] and the run's
/// buffer budget (the archive's index files always), else remembered as dropped, with the reason.
fn keep_json(
    entry: &mut impl Read,
    head: &[u8],
    len: u64,
    key: &str,
    limits: &Limits,
    shared: &Shared,
) -> Result<Blob, String> {
    let drop_rest = |entry: &mut dyn Read, reason: String| -> Result<Blob, String> {
        let rest =
            io::copy(entry, &mut io::sink()).map_err(|error| format!("entry `{key}`: {error}"))?;
        truncated(head.len() as u64 + rest, len, key)?;
        Ok(Blob::Dropped(reason))
    };
    if len > limits.max_json_bytes {
        return drop_rest(
            entry,
            format!(
                "it is {}, more than the {} allowed for a JSON document",
                human_bytes(len),
                human_bytes(limits.max_json_bytes)
            ),
        );
    }
    if !INDEX_FILES.contains(&key) && !shared.charge_buffered(len, limits.max_buffered_total) {
        return drop_rest(
            entry,
            format!(
                "the JSON documents of the archives read at once exceed the {} kept in memory",
                human_bytes(limits.max_buffered_total)
            ),
        );
    }
    let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
    bytes.extend_from_slice(head);
    let outcome = entry
        .read_to_end(&mut bytes)
        .map_err(|error| format!("entry `{key}`: {error}"))
        .and_then(|_| truncated(bytes.len() as u64, len, key));
    if !INDEX_FILES.contains(&key) {
        // Charged by its declared size: give back what was not read.
        shared.release_buffered(len.saturating_sub(bytes.len() as u64));
        if outcome.is_err() {
            shared.release_buffered(bytes.len() as u64);
        }
    }
    outcome.map(|()| {
        if INDEX_FILES.contains(&key) {
            shared.charge_unbounded(bytes.len() as u64);
        }
        Blob::Memory(bytes.into())
    })
}

/// Gives back the budget a replaced JSON document held; returns its size.
fn release(shared: &Shared, replaced: &[u8]) -> u64 {
    shared.release_buffered(replaced.len() as u64);
    replaced.len() as u64
}

fn truncated(read: u64, len: u64, key: &str) -> Result<(), String> {
    if read < len {
        return Err(format!(
            "entry `{key}`: archive is truncated ({read} of {len} bytes)"
        ));
    }
    Ok(())
}

/// Scans the layers at `wanted`'s keys of a compressed archive again, decompressing it once from
/// the start; the last entry of a name is the one the archive holds.
fn rescan_compressed(
    path: &Path,
    wanted: &[(usize, &str, &Aliases)],
    scanning: &Scanning,
) -> Result<HashMap<String, LayerScan>, String> {
    let again = |error: &dyn std::fmt::Display| format!("cannot read the archive again: {error}");
    let Opened::Compressed(reader) = open_decompressed(path, scanning)? else {
        return Err("the archive changed while it was read".to_owned());
    };
    let budget = HeaderBudget::new(scanning.limits.max_header_bytes);
    let mut archive = tar::Archive::new(HeaderGuard::new(reader, Rc::clone(&budget)));
    let entries = archive.entries().map_err(|error| again(&error))?;
    let mut found = HashMap::new();
    for entry in entries {
        let mut entry = entry.map_err(|error| again(&error))?;
        budget.set_in_data(true);
        let key = entry
            .header()
            .entry_type()
            .is_file()
            .then(|| blob_key(&String::from_utf8_lossy(&entry.path_bytes())))
            .flatten();
        if let Some((_, key, aliases)) = wanted
            .iter()
            .find(|(_, wanted, _)| key.as_deref() == Some(*wanted))
        {
            let len = entry.size();
            let scan = layer::scan_layer(&mut entry, &scanning.context(None), aliases, Some(len));
            found.insert((*key).to_owned(), scan);
        }
        io::copy(&mut entry, &mut io::sink()).map_err(|error| again(&error))?;
        budget.set_in_data(false);
    }
    Ok(found)
}

/// Sends an entry's data to its scan in chunks, `first` first; once the scan has stopped (it
/// reached the end of the layer's tar, or failed), reads the rest to keep the outer stream in step.
/// Fails on truncation.
fn pump(
    entry: &mut impl Read,
    first: &[u8],
    sender: &SyncSender<Vec<u8>>,
    len: u64,
) -> Result<(), String> {
    let mut total = first.len() as u64;
    let mut listening = first.is_empty() || sender.send(first.to_vec()).is_ok();
    let mut chunk = vec![0u8; CHUNK_BYTES];
    loop {
        let read = read_up_to(entry, &mut chunk).map_err(|error| error.to_string())?;
        if read == 0 {
            break;
        }
        total += read as u64;
        if listening && sender.send(chunk[..read].to_vec()).is_err() {
            listening = false;
        }
    }
    if total < len {
        return Err(format!("archive is truncated ({total} of {len} bytes)"));
    }
    Ok(())
}

fn read_up_to(reader: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(read) => filled += read,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => return Err(error),
        }
    }
    Ok(filled)
}

/// The receiving end of [`pump`], as a reader.
struct ChunkReader {
    receiver: Receiver<Vec<u8>>,
    chunk: Vec<u8>,
    position: usize,
}

impl ChunkReader {
    fn new(receiver: Receiver<Vec<u8>>) -> Self {
        Self {
            receiver,
            chunk: Vec::new(),
            position: 0,
        }
    }
}

impl Read for ChunkReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.position == self.chunk.len() {
            match self.receiver.recv() {
                Ok(chunk) => {
                    self.chunk = chunk;
                    self.position = 0;
                }
                Err(_) => return Ok(0),
            }
        }
        let len = buf.len().min(self.chunk.len() - self.position);
        buf[..len].copy_from_slice(&self.chunk[self.position..self.position + len]);
        self.position += len;
        Ok(len)
    }
}

/// The key of an archive entry: its path without `./` or a leading `/`; `None` when it climbs out.
pub(crate) fn blob_key(path: &str) -> Option<String> {
    let normalized = layer::normalize(path)?;
    let key = normalized.trim_start_matches('/');
    (!key.is_empty()).then(|| key.to_owned())
}

/// The blob path of a digest (`sha256:abc…` → `blobs/sha256/abc…`); `None` for a malformed digest.
pub(crate) fn digest_key(digest: &str) -> Option<String> {
    let (algorithm, hex) = digest.split_once(':')?;
    let algorithm_ok = !algorithm.is_empty()
        && algorithm
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"+._-".contains(&b));
    let hex_ok = !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit());
    (algorithm_ok && hex_ok).then(|| format!("blobs/{algorithm}/{hex}"))
}

/// The digest a blob path names (`blobs/sha256/abc` → `sha256:abc`, `abc.json` → `sha256:abc`).
pub(crate) fn key_digest(key: &str) -> Option<String> {
    if let Some(rest) = key.strip_prefix("blobs/") {
        let (algorithm, hex) = rest.split_once('/')?;
        return digest_key(&format!("{algorithm}:{hex}")).map(|_| format!("{algorithm}:{hex}"));
    }
    let hex = key.strip_suffix(".json")?;
    (hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit())).then(|| format!("sha256:{hex}"))
}

/// The images an input holds, from `manifest.json` (Docker) or `index.json` (OCI).
pub(crate) fn find_images(catalog: &Catalog, limits: &Limits) -> Result<Vec<ImageEntry>, String> {
    if catalog.blob("manifest.json").is_some() {
        let bytes = catalog.read_json("manifest.json", limits)?;
        let images = docker_manifest(&bytes, limits)?;
        if images.is_empty() {
            return Err("`manifest.json` lists no image: nothing to audit".to_owned());
        }
        return Ok(images);
    }
    if catalog.blob("index.json").is_some() {
        let mut images = Vec::new();
        oci_index(catalog, "index.json", limits, &mut images, 0)?;
        if images.is_empty() {
            return Err(
                "`index.json` lists no image (only other artifacts, or none): nothing to audit"
                    .to_owned(),
            );
        }
        return Ok(images);
    }
    Err("neither `manifest.json` nor `index.json` found: not a `docker save` archive or an OCI image layout".to_owned())
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DockerManifestEntry {
    config: String,
    #[serde(default)]
    repo_tags: Option<Vec<String>>,
    #[serde(default)]
    layers: Vec<String>,
}

fn docker_manifest(bytes: &[u8], limits: &Limits) -> Result<Vec<ImageEntry>, String> {
    let entries: Vec<DockerManifestEntry> = serde_json::from_slice(bytes)
        .map_err(|error| format!("`manifest.json` is malformed: {error}"))?;
    if entries.len() > limits.max_images {
        return Err(format!(
            "more than {} images in one archive",
            limits.max_images
        ));
    }
    entries
        .into_iter()
        .map(|entry| {
            let config = blob_key(&entry.config).ok_or_else(|| {
                format!(
                    "`manifest.json` names a config outside the archive: `{}`",
                    entry.config
                )
            })?;
            if entry.layers.len() > limits.max_layers {
                return Err(format!(
                    "more than {} layers in one image",
                    limits.max_layers
                ));
            }
            let layers = entry
                .layers
                .iter()
                .map(|layer| {
                    let key = blob_key(layer).ok_or_else(|| {
                        format!("`manifest.json` names a layer outside the archive: `{layer}`")
                    })?;
                    let digest = key
                        .starts_with("blobs/")
                        .then(|| key_digest(&key))
                        .flatten();
                    Ok((key, digest))
                })
                .collect::<Result<_, String>>()?;
            Ok(ImageEntry {
                names: entry.repo_tags.unwrap_or_default(),
                config_digest: key_digest(&config),
                config,
                layers,
            })
        })
        .collect()
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Descriptor {
    #[serde(default)]
    media_type: String,
    digest: String,
    #[serde(default)]
    annotations: HashMap<String, String>,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct IndexOrManifest {
    #[serde(default)]
    media_type: String,
    #[serde(default)]
    manifests: Vec<Descriptor>,
    config: Option<Descriptor>,
    #[serde(default)]
    layers: Vec<Descriptor>,
}

const INDEX_TYPES: [&str; 2] = [
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
];
const CONFIG_TYPES: [&str; 2] = [
    "application/vnd.oci.image.config.v1+json",
    "application/vnd.docker.container.image.v1+json",
];

fn oci_index(
    catalog: &Catalog,
    key: &str,
    limits: &Limits,
    images: &mut Vec<ImageEntry>,
    depth: usize,
) -> Result<(), String> {
    if depth > 4 {
        return Err("image indexes nested more than 4 deep".to_owned());
    }
    let bytes = catalog.read_json(key, limits)?;
    let index: IndexOrManifest =
        serde_json::from_slice(&bytes).map_err(|error| format!("`{key}` is malformed: {error}"))?;
    for descriptor in index.manifests {
        if images.len() >= limits.max_images {
            return Err(format!(
                "more than {} images in one archive",
                limits.max_images
            ));
        }
        let child = digest_key(&descriptor.digest)
            .ok_or_else(|| format!("`{key}` has a malformed digest `{}`", descriptor.digest))?;
        if INDEX_TYPES.contains(&descriptor.media_type.as_str()) {
            oci_index(catalog, &child, limits, images, depth + 1)?;
            continue;
        }
        let bytes = catalog.read_json(&child, limits)?;
        let manifest: IndexOrManifest = serde_json::from_slice(&bytes)
            .map_err(|error| format!("`{child}` is malformed: {error}"))?;
        if INDEX_TYPES.contains(&manifest.media_type.as_str()) {
            oci_index(catalog, &child, limits, images, depth + 1)?;
            continue;
        }
        let Some(config) = manifest.config else {
            return Err(format!("manifest `{child}` has no config"));
        };
        // Attestations and other artifacts share the layout; only image configs are images.
        if !config.media_type.is_empty() && !CONFIG_TYPES.contains(&config.media_type.as_str()) {
            continue;
        }
        if manifest.layers.len() > limits.max_layers {
            return Err(format!(
                "more than {} layers in one image",
                limits.max_layers
            ));
        }
        let layers = manifest
            .layers
            .iter()
            .map(|layer| {
                digest_key(&layer.digest)
                    .map(|key| (key, Some(layer.digest.clone())))
                    .ok_or_else(|| {
                        format!("`{child}` has a malformed layer digest `{}`", layer.digest)
                    })
            })
            .collect::<Result<_, String>>()?;
        let name = [
            "io.containerd.image.name",
            "org.opencontainers.image.ref.name",
        ]
        .iter()
        .find_map(|key| descriptor.annotations.get(*key))
        .cloned()
        .unwrap_or_else(|| descriptor.digest.clone());
        images.push(ImageEntry {
            names: vec![name],
            config: digest_key(&config.digest)
                .ok_or_else(|| format!("`{child}` has a malformed config digest"))?,
            config_digest: Some(config.digest),
            layers,
        });
    }
    Ok(())
}

fn describe_io(error: &io::Error) -> String {
    match error.kind() {
        io::ErrorKind::NotFound => "no such file".to_owned(),
        io::ErrorKind::PermissionDenied => "permission denied".to_owned(),
        _ => format!("cannot read: {error}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_map_to_blob_paths_and_back() {
        assert_eq!(
            digest_key("sha256:abc123").as_deref(),
            Some("blobs/sha256/abc123")
        );
        assert_eq!(digest_key("sha256:../../etc/passwd"), None);
        assert_eq!(digest_key("nocolon"), None);
        assert_eq!(
            key_digest("blobs/sha256/abc").as_deref(),
            Some("sha256:abc")
        );
        let hex = "a".repeat(64);
        assert_eq!(
            key_digest(&format!("{hex}.json")),
            Some(format!("sha256:{hex}"))
        );
        assert_eq!(key_digest("manifest.json"), None);
        assert_eq!(
            blob_key("./abc/layer.tar").as_deref(),
            Some("abc/layer.tar")
        );
        assert_eq!(blob_key("../x"), None);
    }
}
