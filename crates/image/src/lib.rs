//! Image front-end: reads built images into [`leastpriv_model::Container`]s.
//!
//! An image is what ships, whatever its Dockerfile meant: this crate reads its config (user, env,
//! exposed ports, history) and every layer, and lowers them into the same model the other front-ends
//! produce, with [`ImageFacts`](leastpriv_model::ImageFacts) filled in. Inputs:
//!
//! - a `docker save` archive, in the legacy layout (`manifest.json`, `<id>/layer.tar`) or the OCI
//!   layout Docker 25+ writes (`index.json`, `blobs/sha256/…`, plus `manifest.json`), plain or
//!   compressed (`.tar.gz`, `.tar.zst`), with one or several images;
//! - an OCI image layout, as a directory (with an `oci-layout` file) or a tar of one;
//! - an image in the local Docker Engine (`engine` feature), streamed from its export API.
//!
//! Layers are streamed once each, in parallel across layers, never extracted, with memory bounded
//! whatever their size ([`layer`]); hostile archives meet caps ([`Limits`]) and become located
//! errors, never panics. The inputs of a run share one pool of scan threads and one memory budget
//! ([`Shared`]). Whiteouts and opaque directories are applied in layer order ([`overlay`]) to find
//! the final filesystem's notable files and the secrets deleted too late; the account files the
//! runtime reads by path (`/etc/passwd`, `/etc/group`) and the sudoers files are found through
//! links as the runtime follows them ([`resolve`]). [`link_layers`] says which line of a
//! Dockerfile in the audited tree created each layer.

mod archive;
mod classify;
#[cfg(feature = "engine")]
pub mod engine;
mod json;
mod layer;
mod limits;
mod lower;
mod overlay;
mod provenance;
mod resolve;
mod shared;

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use leastpriv_model::{short_digest, AccountFile, Certainty, Container};
use leastpriv_source::{InputError, SourceDb};
use rayon::prelude::*;

pub use limits::Limits;
pub use provenance::link_layers;
pub use shared::Shared;

use crate::archive::{Blob, Catalog, ImageEntry};
use crate::layer::LayerScan;
use crate::limits::SharedCount;
use crate::shared::Scanning;

/// How images are read. One `Options` (or its clones) for all the inputs of a run: they then share
/// one pool of scan threads and one memory budget ([`Shared`]).
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Caps against hostile archives.
    pub limits: Limits,
    /// Show a progress bar on standard error (for large images; the caller checks it is a terminal).
    pub progress: bool,
    /// What the inputs of the run share.
    pub shared: Shared,
}

/// What one image input yielded: a container per image, and what could not be read.
#[derive(Debug, Default)]
pub struct Audited {
    /// One container per image.
    pub containers: Vec<Container>,
    /// Errors, each naming the input and, for a layer, its digest and the entry at fault.
    pub errors: Vec<InputError>,
}

/// Images smaller than this (compressed) get no progress bar: they take well under a second.
const PROGRESS_MIN_BYTES: u64 = 64 << 20;

/// Whether `path` is an image input: an OCI layout directory, or a file named like an archive
/// (`.tar`, `.tar.gz`, `.tgz`, `.tar.zst`, `.tzst`) or starting like one (tar, gzip, zstd magic).
pub fn is_image_input(path: &Path) -> bool {
    if path.is_dir() {
        return path.join("oci-layout").is_file();
    }
    let name = path
        .file_name()
        .map(|name| name.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    if [".tar", ".tar.gz", ".tgz", ".tar.zst", ".tzst"]
        .iter()
        .any(|extension| name.ends_with(extension))
    {
        return true;
    }
    // Only regular files are sniffed: reading the head of a pipe would consume it.
    if !path.is_file() {
        return false;
    }
    let mut head = [0u8; 512];
    let read = std::fs::File::open(path)
        .and_then(|mut file| read_up_to(&mut file, &mut head))
        .unwrap_or(0);
    read > 0 && layer::sniff_compression(&head[..read]).is_some_and(|_| !is_text(&head[..read]))
}

fn read_up_to(reader: &mut impl std::io::Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..])? {
            0 => break,
            read => filled += read,
        }
    }
    Ok(filled)
}

/// A text file is never an archive, even a one-block one whose bytes happen to checksum.
fn is_text(head: &[u8]) -> bool {
    !head.contains(&0) && std::str::from_utf8(head).is_ok()
}

/// Reads an image archive file or an OCI layout directory at `path`, reported as `display`.
pub fn audit_path(db: &SourceDb, path: &Path, display: &str, options: &Options) -> Audited {
    if path.is_dir() {
        let scanning = Arc::new(Scanning::new(&options.limits, 0, None));
        let catalog = Catalog::directory(path);
        return Run { scanning }.audit(db, &catalog, display, options);
    }
    let len = path.metadata().map(|meta| meta.len()).ok();
    let spinner = spinner(options, len);
    let scanning = Arc::new(Scanning::new(
        &options.limits,
        len.unwrap_or(0),
        spinner.clone(),
    ));
    let catalog = archive::read_file(path, &scanning, &options.shared);
    if let Some(spinner) = spinner {
        spinner.finish_and_clear();
    }
    let run = Run { scanning };
    match catalog {
        Ok(catalog) => run.audit(db, &catalog, display, options),
        Err(message) => Audited {
            containers: Vec::new(),
            errors: vec![InputError::file(display, message)],
        },
    }
}

/// Reads an image from a tar stream (the engine's export API), reported as `display`.
pub fn audit_stream(
    db: &SourceDb,
    reader: impl std::io::Read,
    display: &str,
    options: &Options,
) -> Audited {
    let spinner = spinner(options, None);
    let scanning = Arc::new(Scanning::new(&options.limits, 0, spinner.clone()));
    let counted = SharedCount {
        inner: reader,
        count: &scanning.input,
    };
    let catalog = archive::read_stream(Path::new(display), counted, &scanning, &options.shared);
    if let Some(spinner) = spinner {
        spinner.finish_and_clear();
    }
    let run = Run {
        scanning: Arc::clone(&scanning),
    };
    match catalog {
        Ok(catalog) => run.audit(db, &catalog, display, options),
        Err(message) => Audited {
            containers: Vec::new(),
            errors: vec![InputError::file(display, message)],
        },
    }
}

/// A byte counter for a stream whose layers are only known at its end.
fn spinner(options: &Options, len: Option<u64>) -> Option<ProgressBar> {
    if !options.progress || len.is_some_and(|len| len < PROGRESS_MIN_BYTES) {
        return None;
    }
    let bar = ProgressBar::with_draw_target(len, ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("{spinner} reading image {bytes} ({bytes_per_sec})")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    Some(bar)
}

/// One input being audited.
struct Run {
    scanning: Arc<Scanning>,
}

impl Run {
    fn audit(&self, db: &SourceDb, catalog: &Catalog, display: &str, options: &Options) -> Audited {
        let limits = &self.scanning.limits;
        let mut audited = Audited::default();
        let error = |message: String| InputError::file(display, message);
        let images = match archive::find_images(catalog, limits) {
            Ok(images) => images,
            Err(message) => {
                audited.errors.push(error(message));
                return audited;
            }
        };
        let scanned = self.scan_layers(catalog, &images, options);
        let scan_of = |key: &str| scanned.get(key).or_else(|| catalog.scanned.get(key));

        let mut reported: Vec<&str> = Vec::new();
        let mut seen_configs: Vec<&str> = Vec::new();
        for image in &images {
            // Tags of one image share its config: one container, named by its first tag.
            if seen_configs.contains(&image.config.as_str()) {
                continue;
            }
            seen_configs.push(&image.config);
            let name = image_name(&images, image, display);
            let config = catalog.read_json(&image.config, limits).and_then(|bytes| {
                let path =
                    lower::config_path(display, image.config_digest.as_deref(), &image.config);
                lower::register_config(db, &path, &name, &bytes)
            });
            let config = match config {
                Ok(config) => config,
                Err(message) => {
                    audited
                        .errors
                        .push(error(format!("image {name}: {message}")));
                    continue;
                }
            };
            let digests = layer_digests(image, &config);
            for ((key, _), digest) in image.layers.iter().zip(&digests) {
                if !reported.contains(&key.as_str()) {
                    reported.push(key);
                    let problems = layer_problems(key, scan_of(key), digest);
                    audited.errors.extend(
                        problems
                            .into_iter()
                            .map(|problem| error(format!("image {name}: {problem}"))),
                    );
                }
            }
            let scans: Vec<Option<&LayerScan>> =
                image.layers.iter().map(|(key, _)| scan_of(key)).collect();
            let mut problems = Vec::new();
            let container = self.lower_image(
                catalog,
                image,
                &scans,
                &name,
                &config,
                &digests,
                &mut problems,
            );
            audited.errors.extend(
                problems
                    .into_iter()
                    .map(|problem| error(format!("image {name}: {problem}"))),
            );
            audited.containers.push(container);
        }
        audited
    }

    /// Lowers one image: its files stacked, its account files found through links as the runtime
    /// finds them (layers read again when a link leads to a file the first reading did not keep).
    #[allow(clippy::too_many_arguments)]
    fn lower_image(
        &self,
        catalog: &Catalog,
        image: &ImageEntry,
        scans: &[Option<&LayerScan>],
        name: &str,
        config: &lower::ConfigText,
        digests: &[String],
        problems: &mut Vec<String>,
    ) -> Container {
        let hasher = &self.scanning.hasher;
        let plan = resolve::aliases_needed(&resolve::View::new(scans, hasher), scans);
        let mut rescanned: Vec<Option<LayerScan>> = scans.iter().map(|_| None).collect();
        if !plan.is_empty() {
            self.scanning.restart_totals();
        }
        let wanted: Vec<(&str, layer::Aliases)> = plan
            .iter()
            .map(|(index, aliases)| (image.layers[*index].0.as_str(), aliases.clone()))
            .collect();
        for ((index, _), outcome) in plan.iter().zip(catalog.rescan(&wanted, &self.scanning)) {
            match outcome {
                Ok(scan) => rescanned[*index] = Some(scan),
                Err(message) => problems.push(format!(
                    "layer {}: links lead `/etc/passwd`, `/etc/group` or the sudoers files into it, but it could not be read again: {message}",
                    short_digest(&digests[*index])
                )),
            }
        }
        let scans: Vec<Option<&LayerScan>> = scans
            .iter()
            .zip(&rescanned)
            .map(|(first, again)| again.as_ref().or(*first))
            .collect();
        let view = resolve::View::new(&scans, hasher);
        let mut stacked = overlay::stack(&scans, hasher);
        stacked.passwd = resolve::account_file(&view, &scans, "/etc/passwd", problems);
        stacked.group = resolve::account_file(&view, &scans, "/etc/group", problems);
        let container = lower::lower(name, config, digests, stacked);
        if let Some(facts) = &container.image {
            if let Some(user) = facts.user.as_ref().filter(|user| !user.value.unresolved) {
                if facts.is_root(&user.value) == Certainty::Unknown {
                    let why = match facts.passwd {
                        AccountFile::Read(_) => format!(
                            "the user is not in the first {} of the image's /etc/passwd",
                            limits::human_bytes(classify::ACCOUNT_BYTES as u64)
                        ),
                        _ => "the image's /etc/passwd cannot be read".to_owned(),
                    };
                    problems.push(format!(
                        "whether user `{}` is root cannot be told: {why}",
                        leastpriv_model::quote_path(&user.value.to_string())
                    ));
                }
            }
        }
        container
    }

    /// Scans every layer not yet scanned, once however many images share it, in parallel.
    fn scan_layers(
        &self,
        catalog: &Catalog,
        images: &[ImageEntry],
        options: &Options,
    ) -> HashMap<String, LayerScan> {
        let mut pending: Vec<(&str, Blob)> = Vec::new();
        for (key, _) in images.iter().flat_map(|image| &image.layers) {
            if catalog.scanned.contains_key(key) || pending.iter().any(|(seen, _)| seen == key) {
                continue;
            }
            if let Some(blob) = catalog.blob(key) {
                pending.push((key, blob));
            }
        }
        let bytes: u64 = pending.iter().map(|(_, blob)| blob_len(blob)).sum();
        // A directory's size is that of the layers it holds.
        self.scanning.input.fetch_max(bytes, Ordering::Relaxed);
        let bar = (options.progress && bytes >= PROGRESS_MIN_BYTES).then(|| {
            let bar = ProgressBar::with_draw_target(Some(bytes), ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template(
                    "{bar:40} {bytes}/{total_bytes} ({bytes_per_sec}, {eta}) scanning layers",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            bar
        });
        let context = self.scanning.context(bar.as_ref());
        let scanned = pending
            .par_iter()
            .map(|(key, blob)| {
                let scan = match catalog.open(blob) {
                    Ok((reader, len)) => {
                        layer::scan_layer(reader, &context, &layer::Aliases::default(), Some(len))
                    }
                    Err(io) => LayerScan::failed(format!("cannot read the layer: {io}")),
                };
                ((*key).to_owned(), scan)
            })
            .collect();
        if let Some(bar) = bar {
            bar.finish_and_clear();
        }
        scanned
    }
}

/// The image's first tag among every entry that shares its config, else its config digest.
fn image_name(images: &[ImageEntry], image: &ImageEntry, display: &str) -> String {
    images
        .iter()
        .filter(|other| other.config == image.config)
        .flat_map(|other| &other.names)
        .next()
        .cloned()
        .unwrap_or_else(|| {
            image
                .config_digest
                .as_deref()
                .map_or_else(|| display.to_owned(), short_digest)
        })
}

/// Each layer's digest: the manifest's (OCI), else the config's `rootfs.diff_ids` (legacy `docker
/// save`), else its path in the archive.
fn layer_digests(image: &ImageEntry, config: &lower::ConfigText) -> Vec<String> {
    let diff_ids: Vec<&str> = config
        .root
        .get("rootfs")
        .and_then(|rootfs| rootfs.get("diff_ids"))
        .map(|ids| {
            ids.as_array()
                .iter()
                .filter_map(json::Node::as_str)
                .collect()
        })
        .unwrap_or_default();
    let diff_ids = (diff_ids.len() == image.layers.len()).then_some(diff_ids);
    image
        .layers
        .iter()
        .enumerate()
        .map(|(index, (key, digest))| {
            digest
                .clone()
                .or_else(|| diff_ids.as_ref().map(|ids| ids[index].to_owned()))
                .unwrap_or_else(|| key.clone())
        })
        .collect()
}

/// What went wrong reading one layer, each naming its digest.
fn layer_problems(key: &str, scan: Option<&LayerScan>, digest: &str) -> Vec<String> {
    let layer = short_digest(digest);
    let Some(scan) = scan else {
        return vec![format!(
            "layer {layer} (`{key}`) is missing from the archive"
        )];
    };
    let mut problems: Vec<String> = scan
        .problems
        .iter()
        .map(|problem| format!("layer {layer}: {problem}"))
        .collect();
    if let Some(failure) = &scan.failure {
        problems.push(format!(
            "layer {layer}: {failure}; the files after it were not audited"
        ));
    }
    problems
}

fn blob_len(blob: &Blob) -> u64 {
    match blob {
        Blob::Memory(bytes) => bytes.len() as u64,
        Blob::FileRange { len, .. } => *len,
        Blob::File(path) => path.metadata().map_or(0, |meta| meta.len()),
        Blob::Dropped(_) => 0,
    }
}
