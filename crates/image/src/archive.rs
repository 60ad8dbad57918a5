//! The container of an image: a `docker save` archive (legacy `manifest.json` layout or the OCI
//! layout Docker 25+ writes), an OCI image layout directory or tar, or the engine's export stream.
//!
//! Reading is done in one pass over the outer archive, without extracting it. Small entries
//! (manifests, configs, small layers) are kept in memory; large ones are either remembered by their
//! offset (a plain tar file, read again later with a seek, so that layers can be scanned in
//! parallel) or, when the archive is a stream (compressed, or the engine's API), scanned as a layer
//! on the spot, since they cannot be read twice. Which blob is what is only known at the end, from
//! `manifest.json` or `index.json`.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::atomic::AtomicU64;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::Arc;

use crate::layer::{self, Compression, LayerScan, ScanContext};
use crate::limits::{human_bytes, BombGuard, Counted, HeaderBudget, HeaderGuard, Limits};

/// Where a blob's bytes are.
#[derive(Debug, Clone)]
pub(crate) enum Blob {
    /// Read into memory while streaming.
    Memory(Arc<[u8]>),
    /// A range of a plain tar file.
    FileRange { offset: u64, len: u64 },
    /// A file of an OCI layout directory.
    File(PathBuf),
}

/// The blobs of one input, by their path inside it (`manifest.json`, `blobs/sha256/…`).
pub(crate) struct Catalog {
    /// The input's path, for the file ranges.
    pub(crate) path: PathBuf,
    pub(crate) blobs: HashMap<String, Blob>,
    /// Large blobs of a stream, scanned as layers while they passed.
    pub(crate) scanned: HashMap<String, LayerScan>,
    /// An OCI layout directory: blobs are files under it.
    pub(crate) dir: Option<PathBuf>,
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
    /// An OCI image layout directory.
    pub(crate) fn directory(dir: &Path) -> Self {
        Self {
            path: dir.to_owned(),
            blobs: HashMap::new(),
            scanned: HashMap::new(),
            dir: Some(dir.to_owned()),
        }
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
}

/// Reads an archive file: a plain tar is indexed (layers read later, in parallel), a compressed one
/// is streamed.
pub(crate) fn read_file(
    path: &Path,
    limits: &Limits,
    context: &ScanContext<'_>,
) -> Result<Catalog, String> {
    let file = File::open(path).map_err(|error| describe_io(&error))?;
    let mut reader = BufReader::with_capacity(256 * 1024, file);
    let head = reader.fill_buf().map_err(|error| describe_io(&error))?;
    match layer::sniff_compression(head) {
        Some(Compression::None) => {
            let mut archive = tar::Archive::new(reader);
            let entries = archive
                .entries_with_seek()
                .map_err(|error| format!("cannot read the archive: {error}"))?;
            let mut catalog = empty(path);
            index_entries(entries, &mut catalog, limits)?;
            Ok(catalog)
        }
        Some(Compression::Gzip) => read_stream(
            path,
            flate2::bufread::MultiGzDecoder::new(reader),
            limits,
            context,
        ),
        Some(Compression::Zstd) => {
            let decoder = zstd::stream::read::Decoder::with_buffer(reader)
                .map_err(|error| format!("cannot start zstd decompression: {error}"))?;
            read_stream(path, decoder, limits, context)
        }
        None => Err(
            "not an image archive: neither a tar archive nor gzip- or zstd-compressed".to_owned(),
        ),
    }
}

/// Reads a (decompressed) tar stream that cannot be read twice: large blobs are scanned on the spot.
pub(crate) fn read_stream(
    path: &Path,
    reader: impl Read,
    limits: &Limits,
    context: &ScanContext<'_>,
) -> Result<Catalog, String> {
    let total = AtomicU64::new(0);
    let outer_limits = Limits {
        max_layer_bytes: limits.max_total_bytes,
        ..limits.clone()
    };
    let (counted, compressed) = Counted::new(reader);
    // The outer stream's own decompression is capped like a layer's, without the ratio (a tar of
    // layers is mostly incompressible already).
    let guarded = BombGuard::new(
        counted,
        Rc::clone(&compressed),
        &total,
        &outer_limits,
        false,
    );
    let budget = HeaderBudget::new(limits.max_header_bytes);
    let mut archive = tar::Archive::new(HeaderGuard::new(guarded, Rc::clone(&budget)));
    let entries = archive
        .entries()
        .map_err(|error| format!("cannot read the archive: {error}"))?;
    let mut catalog = empty(path);
    index_streamed(entries, &budget, &mut catalog, limits, context)?;
    Ok(catalog)
}

fn empty(path: &Path) -> Catalog {
    Catalog {
        path: path.to_owned(),
        blobs: HashMap::new(),
        scanned: HashMap::new(),
        dir: None,
    }
}

/// Indexes a plain tar file: small entries read into memory, large ones remembered by offset.
fn index_entries<R: Read>(
    entries: tar::Entries<'_, R>,
    catalog: &mut Catalog,
    limits: &Limits,
) -> Result<(), String> {
    let mut count = 0u64;
    let mut buffered = 0u64;
    for entry in entries {
        let mut entry = entry.map_err(|error| format!("cannot read the archive: {error}"))?;
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
        let len = entry.size();
        if len <= limits.max_buffered_blob && buffered + len <= limits.max_buffered_total {
            let bytes = read_whole(&mut entry, len, &key)?;
            buffered += len;
            catalog.blobs.insert(key, Blob::Memory(bytes.into()));
        } else {
            let offset = entry.raw_file_position();
            catalog.blobs.insert(key, Blob::FileRange { offset, len });
        }
    }
    Ok(())
}

/// Indexes a tar stream: small entries read into memory, large ones scanned as layers as they pass.
///
/// A large entry is handed in chunks to a scan on its own thread while this one reads on: the outer
/// stream (a socket, a decompressor) and the layer scans overlap, and the next layer's scan starts
/// while the previous one finishes its last chunks. The bounded channel keeps memory at a few chunks
/// per layer.
fn index_streamed<R: Read>(
    entries: tar::Entries<'_, R>,
    budget: &HeaderBudget,
    catalog: &mut Catalog,
    limits: &Limits,
    context: &ScanContext<'_>,
) -> Result<(), String> {
    std::thread::scope(|scope| {
        let mut workers = Vec::new();
        let outcome = (|| {
            let mut count = 0u64;
            let mut buffered = 0u64;
            for entry in entries {
                let mut entry =
                    entry.map_err(|error| format!("cannot read the archive: {error}"))?;
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
                let outcome = match key {
                    None => io::copy(&mut entry, &mut io::sink())
                        .map(drop)
                        .map_err(|error| format!("entry `{path}`: {error}")),
                    Some(key)
                        if len <= limits.max_buffered_blob
                            && buffered + len <= limits.max_buffered_total =>
                    {
                        read_whole(&mut entry, len, &key).map(|bytes| {
                            buffered += len;
                            catalog.blobs.insert(key, Blob::Memory(bytes.into()));
                        })
                    }
                    Some(key) => {
                        let (sender, receiver) = sync_channel(CHANNEL_CHUNKS);
                        let worker = scope
                            .spawn(move || layer::scan_layer(ChunkReader::new(receiver), context));
                        workers.push((key, worker));
                        pump(&mut entry, &sender, len)
                            .map_err(|message| format!("entry `{path}`: {message}"))
                    }
                };
                budget.set_in_data(false);
                outcome?;
            }
            Ok(())
        })();
        for (key, worker) in workers {
            let scan = worker.join().unwrap_or_else(|_| LayerScan {
                failure: Some("the layer scan stopped unexpectedly".to_owned()),
                ..LayerScan::default()
            });
            catalog.scanned.insert(key, scan);
        }
        outcome
    })
}

/// Chunks in flight to one layer scan, and their size.
const CHANNEL_CHUNKS: usize = 4;
const CHUNK_BYTES: usize = 256 * 1024;

/// Sends an entry's data to its scan in chunks; once the scan has stopped (it reached the end of the
/// layer's tar, or failed), reads the rest to keep the outer stream in step. Fails on truncation.
fn pump(entry: &mut impl Read, sender: &SyncSender<Vec<u8>>, len: u64) -> Result<(), String> {
    let mut total = 0u64;
    let mut listening = true;
    loop {
        let mut chunk = vec![0u8; CHUNK_BYTES];
        let read = read_up_to(entry, &mut chunk).map_err(|error| error.to_string())?;
        if read == 0 {
            break;
        }
        total += read as u64;
        chunk.truncate(read);
        if listening && sender.send(chunk).is_err() {
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

fn read_whole(entry: &mut impl Read, len: u64, key: &str) -> Result<Vec<u8>, String> {
    let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0).min(1 << 20));
    entry
        .read_to_end(&mut bytes)
        .map_err(|error| format!("entry `{key}`: {error}"))?;
    if (bytes.len() as u64) < len {
        return Err(format!(
            "entry `{key}`: archive is truncated ({} of {len} bytes)",
            bytes.len()
        ));
    }
    Ok(bytes)
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
        return docker_manifest(&bytes, limits);
    }
    if catalog.blob("index.json").is_some() {
        let mut images = Vec::new();
        oci_index(catalog, "index.json", limits, &mut images, 0)?;
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
