//! Finding the inputs of an audit and reading them safely.
//!
//! A directory is walked with `.gitignore` and `.ignore` rules respected (`.git` itself skipped), and only files
//! whose name tells their kind are taken. A file named explicitly is taken whatever its name, and
//! recognised by its content when the name does not tell. Reading is bounded: a file over
//! [`MAX_FILE_BYTES`], a binary file or one that is not UTF-8 becomes an error located as precisely
//! as possible, never a panic, and the other inputs are still audited.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex};

use leastpriv_frontend::{detect, detect_by_name, InputKind};
use leastpriv_source::read::{self, ReadError};
use leastpriv_source::{FileId, InputError, SourceDb, Span, TextRange};

use crate::config::Exclude;

/// Files larger than this are not read: no real configuration file comes close, and a hostile one must
/// not exhaust memory.
pub(crate) const MAX_FILE_BYTES: u64 = read::MAX_INPUT_BYTES;

/// Where an input comes from.
#[derive(Debug, Clone)]
pub(crate) enum InputSource {
    /// A file found by walking a directory: its name told its kind.
    Walked(PathBuf, InputKind),
    /// A file named on the command line.
    Named(PathBuf),
    /// Standard input, reported under this name.
    Stdin(String),
    /// An image archive or OCI layout directory named on the command line.
    Image(PathBuf),
}

/// Expands the command-line paths into inputs, in a stable order.
pub(crate) fn collect(
    paths: &[PathBuf],
    stdin_name: Option<&str>,
    exclude: &Exclude,
) -> (Vec<InputSource>, Vec<InputError>) {
    let mut inputs = Vec::new();
    let mut errors = Vec::new();
    for path in paths {
        if path.as_os_str() == "-" {
            inputs.push(InputSource::Stdin(stdin_name.unwrap_or("-").to_owned()));
        } else if leastpriv_image::is_image_input(path) {
            inputs.push(InputSource::Image(path.clone()));
        } else if path.is_dir() {
            let mut found = Vec::new();
            // `.gitignore` is honoured outside a git repository too (as in ruff), and hidden
            // directories such as `.devcontainer/` are walked: they often hold Dockerfiles.
            let walk = ignore::WalkBuilder::new(path)
                .require_git(false)
                .hidden(false)
                .filter_entry(|entry| entry.file_name() != ".git")
                .build();
            for entry in walk {
                match entry {
                    Ok(entry) => {
                        let is_file = entry.file_type().is_some_and(|kind| kind.is_file());
                        if !is_file || exclude.is_excluded(entry.path()) {
                            continue;
                        }
                        // A name that is not UTF-8 (`Dockerfile.\xff`) is recognised by its readable
                        // part and audited under its lossy display name, never skipped silently.
                        let name = entry.file_name().to_string_lossy().into_owned();
                        if let Some(kind) = detect_by_name(Path::new(&name)) {
                            found.push(InputSource::Walked(entry.into_path(), kind));
                        }
                    }
                    Err(error) => errors.push(InputError::file(
                        path.display().to_string(),
                        error.to_string(),
                    )),
                }
            }
            found.sort_by(|a, b| a.path().cmp(b.path()));
            inputs.extend(found);
        } else if path.exists() {
            inputs.push(InputSource::Named(path.clone()));
        } else {
            errors.push(InputError::file(
                path.display().to_string(),
                why_missing(path),
            ));
        }
    }
    within_run_budget(inputs, errors)
}

/// The inputs whose text fits in [`MAX_RUN_INPUT_BYTES`] in all, in the order listed (so the same
/// ones are read on every run); the others become errors.
fn within_run_budget(
    inputs: Vec<InputSource>,
    mut errors: Vec<InputError>,
) -> (Vec<InputSource>, Vec<InputError>) {
    let mut total: u64 = 0;
    let mut kept = Vec::with_capacity(inputs.len());
    for input in inputs {
        if matches!(input, InputSource::Image(_)) {
            kept.push(input);
            continue;
        }
        total = total.saturating_add(input.size().min(MAX_FILE_BYTES));
        if total > MAX_RUN_INPUT_BYTES {
            errors.push(InputError::file(
                input.display(),
                format!(
                    "not read: the inputs before it reach {} MiB, what one run reads in all (memory bound); audit the rest in another run",
                    MAX_RUN_INPUT_BYTES >> 20
                ),
            ));
        } else {
            kept.push(input);
        }
    }
    (kept, errors)
}

/// What lowering an input may hold at its peak, per byte of the input: its tree (a YAML value costs
/// about 64 bytes, and YAML can write one per byte of input, but a tree holds at most a million
/// values), the model it becomes and the parser's own state. Measured on the costliest shapes by
/// `bench/memory` (BENCHMARKS.md: 19 times at most) and checked by the hostile tests, which hold
/// them to this figure.
pub(crate) const LOWERING_BYTES_PER_INPUT_BYTE: u64 = 64;

/// What inputs being read and lowered may hold at once, over every thread: what the largest input
/// needs alone (512 MiB). Small files never wait for each other; the run's peak is this plus what
/// the inputs keep for the report, whatever the number of threads.
pub(crate) const LOWERING_BUDGET: u64 = MAX_FILE_BYTES * LOWERING_BYTES_PER_INPUT_BYTE;

/// Bytes of text input one run reads, in all (image archives have their own bounds): what each
/// input keeps for the report (its text, its model and its findings, at most about twelve times its
/// size) adds up over the inputs, so their number cannot raise the run's peak without bound.
/// Inputs past it, in the order they are listed, are errors.
pub(crate) const MAX_RUN_INPUT_BYTES: u64 = 128 * 1024 * 1024;

/// Admits inputs to be read and lowered while their estimated peak ([`LOWERING_BYTES_PER_INPUT_BYTE`]
/// times their size) fits in [`LOWERING_BUDGET`].
#[derive(Default)]
pub(crate) struct MemoryGate {
    in_flight: Mutex<u64>,
    freed: Condvar,
}

/// Bytes admitted by a [`MemoryGate`], given back when dropped.
pub(crate) struct Pass<'g> {
    gate: &'g MemoryGate,
    bytes: u64,
}

impl MemoryGate {
    /// Waits until the estimated peak of an input of `size` bytes fits (one input alone always
    /// proceeds), and admits it. Infallible; a `Result` so that a read can follow with `?`.
    pub(crate) fn enter(&self, size: u64) -> Result<Pass<'_>, InputError> {
        let bytes = size
            .saturating_mul(LOWERING_BYTES_PER_INPUT_BYTE)
            .min(LOWERING_BUDGET);
        let mut in_flight = self
            .in_flight
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        while *in_flight + bytes > LOWERING_BUDGET {
            in_flight = self
                .freed
                .wait(in_flight)
                .unwrap_or_else(|poison| poison.into_inner());
        }
        *in_flight += bytes;
        Ok(Pass { gate: self, bytes })
    }
}

impl Drop for Pass<'_> {
    fn drop(&mut self) {
        let mut in_flight = self
            .gate
            .in_flight
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        *in_flight -= self.bytes;
        self.gate.freed.notify_all();
    }
}

impl InputSource {
    /// The bytes this input will take to read, as far as can be told before reading it: the
    /// largest allowed for standard input and for what cannot be measured.
    pub(crate) fn size(&self) -> u64 {
        match self {
            InputSource::Stdin(_) => MAX_FILE_BYTES,
            InputSource::Walked(path, _) | InputSource::Named(path) | InputSource::Image(path) => {
                std::fs::metadata(path)
                    .ok()
                    .filter(std::fs::Metadata::is_file)
                    .map_or(MAX_FILE_BYTES, |metadata| metadata.len())
            }
        }
    }

    /// The path read (`-` for standard input).
    pub(crate) fn path(&self) -> &Path {
        match self {
            InputSource::Walked(path, _) | InputSource::Named(path) | InputSource::Image(path) => {
                path
            }
            InputSource::Stdin(_) => Path::new("-"),
        }
    }

    /// The path as printed in reports: as the user gave it, without a leading `./`.
    pub(crate) fn display(&self) -> String {
        match self {
            InputSource::Stdin(name) => name.clone(),
            InputSource::Walked(path, _) | InputSource::Named(path) | InputSource::Image(path) => {
                let path = path.strip_prefix(".").unwrap_or(path);
                path.display().to_string()
            }
        }
    }

    /// Reads the input into `db` and tells its kind; a file named explicitly whose kind cannot be told
    /// is an error.
    pub(crate) fn load(&self, db: &SourceDb) -> Result<(FileId, InputKind), InputError> {
        let name = self.display();
        let bytes = match self {
            InputSource::Stdin(_) => {
                let mut bytes = Vec::new();
                std::io::stdin()
                    .take(MAX_FILE_BYTES + 1)
                    .read_to_end(&mut bytes)
                    .map_err(|error| {
                        InputError::file(&name, format!("cannot read standard input: {error}"))
                    })?;
                bytes
            }
            // A walked file was a regular file when listed and must still be one: a FIFO put in
            // its place must not block the run. A file the user named may be a pipe (`<(…)`).
            InputSource::Walked(path, _) => read::read_regular(path, MAX_FILE_BYTES)
                .map_err(|error| InputError::file(&name, describe_read(&error)))?,
            InputSource::Named(path) | InputSource::Image(path) => {
                read::read_named(path, MAX_FILE_BYTES)
                    .map_err(|error| InputError::file(&name, describe_read(&error)))?
            }
        };
        if bytes.len() as u64 > MAX_FILE_BYTES {
            return Err(InputError::file(&name, too_large()));
        }
        let text = decode(&name, bytes, db)?;
        let kind = match self {
            InputSource::Walked(_, kind) => Some(*kind),
            InputSource::Named(path) | InputSource::Image(path) => detect(path, &text),
            InputSource::Stdin(name) => detect(Path::new(name), &text),
        };
        let file = db.add(name.clone(), text);
        match kind {
            Some(kind) => Ok((file, kind)),
            None => Err(InputError::file(
                name,
                "not a recognised input (expected a Dockerfile, Compose file, Kubernetes manifest, `docker run` script or `docker inspect` output)",
            )),
        }
    }
}

fn too_large() -> String {
    format!(
        "file is larger than {} MiB; not read",
        MAX_FILE_BYTES / (1024 * 1024)
    )
}

fn describe_read(error: &ReadError) -> String {
    match error {
        ReadError::NotFound | ReadError::PermissionDenied => error.to_string(),
        ReadError::TooLarge(_) => too_large(),
        other => format!("cannot read: {other}"),
    }
}

/// Why a path named on the command line cannot be opened: it does not exist, or it is a symbolic
/// link that leads nowhere (a loop, a missing target), said with the links followed.
fn why_missing(path: &Path) -> String {
    /// Links followed before giving up, as the kernel's own limit (`ELOOP` after 40).
    const MAX_LINKS: usize = 40;
    let mut chain = vec![path.to_path_buf()];
    let mut current = path.to_path_buf();
    loop {
        let Ok(metadata) = std::fs::symlink_metadata(&current) else {
            return if chain.len() == 1 {
                "no such file or directory".to_owned()
            } else {
                format!(
                    "symbolic link to `{}`, which does not exist",
                    current.display()
                )
            };
        };
        if !metadata.file_type().is_symlink() {
            // Reachable after all (it appeared meanwhile, or a parent is the problem).
            return match std::fs::metadata(path) {
                Err(error) => describe_io(&error),
                Ok(_) => "cannot be opened".to_owned(),
            };
        }
        let Ok(target) = std::fs::read_link(&current) else {
            return "symbolic link that cannot be read".to_owned();
        };
        let next = match current.parent() {
            Some(parent) if target.is_relative() => parent.join(&target),
            _ => target,
        };
        if chain.contains(&next) || chain.len() > MAX_LINKS {
            chain.push(next);
            let shown: Vec<String> = chain
                .iter()
                .map(|link| format!("`{}`", link.display()))
                .collect();
            return format!(
                "symbolic link loop: {} never reaches a file",
                shown.join(" → ")
            );
        }
        chain.push(next.clone());
        current = next;
    }
}

fn describe_io(error: &std::io::Error) -> String {
    match error.kind() {
        std::io::ErrorKind::NotFound => "no such file".to_owned(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_owned(),
        _ => format!("cannot read: {error}"),
    }
}

/// UTF-8 text without NUL bytes; a BOM is dropped. A decoding error is located at its line and column
/// (the file is added to `db` with the valid prefix so the position can be shown).
fn decode(name: &str, mut bytes: Vec<u8>, db: &SourceDb) -> Result<String, InputError> {
    if bytes.starts_with(b"\xEF\xBB\xBF") {
        bytes.drain(..3);
    }
    if let Some(nul) = bytes.iter().position(|&b| b == 0) {
        return Err(located(
            name,
            &bytes,
            nul,
            "binary file (NUL byte); not read",
            db,
        ));
    }
    String::from_utf8(bytes).map_err(|error| {
        let offset = error.utf8_error().valid_up_to();
        let bytes = error.into_bytes();
        located(name, &bytes, offset, "file is not valid UTF-8", db)
    })
}

fn located(name: &str, bytes: &[u8], offset: usize, message: &str, db: &SourceDb) -> InputError {
    let prefix = String::from_utf8_lossy(&bytes[..offset]).into_owned();
    let end = prefix.len();
    let file = db.add(name, prefix);
    InputError::at(name, Span::new(file, TextRange::empty(end)), message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_reads_inputs_in_order_until_its_budget_and_reports_the_rest() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let per_budget = (MAX_RUN_INPUT_BYTES / MAX_FILE_BYTES) as usize;
        let inputs: Vec<InputSource> = (0..per_budget + 2)
            .map(|i| {
                let path = dir.path().join(format!("{i:02}.yaml"));
                // Sparse: the size is what counts, nothing is read.
                std::fs::File::create(&path)
                    .and_then(|file| file.set_len(MAX_FILE_BYTES))
                    .expect("sparse file");
                InputSource::Walked(path, InputKind::YamlOrJson)
            })
            .chain([InputSource::Image(dir.path().join("image.tar"))])
            .collect();
        let (kept, errors) = within_run_budget(inputs, Vec::new());
        assert_eq!(
            kept.len(),
            per_budget + 1,
            "every input that fits, and the image"
        );
        assert!(matches!(kept.last(), Some(InputSource::Image(_))));
        assert_eq!(errors.len(), 2);
        assert!(errors[0].path.ends_with(&format!("{per_budget:02}.yaml")));
        assert!(
            errors[0].message.contains("128 MiB"),
            "{}",
            errors[0].message
        );
    }

    #[test]
    fn the_gate_admits_inputs_while_they_fit_and_holds_the_rest_back() {
        let gate = MemoryGate::default();
        let first = gate.enter(MAX_FILE_BYTES / 2).expect("admitted");
        let second = gate
            .enter(MAX_FILE_BYTES / 2)
            .expect("two halves of the bound fit");
        drop(second);
        let alone = MemoryGate::default();
        let huge = alone
            .enter(u64::MAX)
            .expect("one input alone always proceeds");
        assert_eq!(huge.bytes, LOWERING_BUDGET);
        std::thread::scope(|scope| {
            let waiting = scope.spawn(|| {
                let _pass = gate.enter(MAX_FILE_BYTES / 2 + 1).expect("admitted");
                let in_flight = *gate.in_flight.lock().expect("lock");
                in_flight
            });
            std::thread::sleep(std::time::Duration::from_millis(50));
            assert!(!waiting.is_finished(), "over the bound, it waits");
            drop(first);
            assert_eq!(
                waiting.join().expect("joined"),
                (MAX_FILE_BYTES / 2 + 1) * LOWERING_BYTES_PER_INPUT_BYTE
            );
        });
        assert_eq!(*gate.in_flight.lock().expect("lock"), 0);
    }
}
