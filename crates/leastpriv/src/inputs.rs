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
    (inputs, errors)
}

/// Input bytes being read and lowered at once, over every thread.
///
/// Lowering holds a tree of a few tens of bytes per byte of input (measured at worst about 50× for
/// YAML of one tiny item per line; see README), so inputs lowered in parallel multiply it: the run's
/// peak is this bound times that factor, whatever the number of threads or inputs. One input of the
/// largest size read ([`MAX_FILE_BYTES`]) is lowered alone; small files never wait for each other.
const MAX_BYTES_IN_FLIGHT: u64 = MAX_FILE_BYTES;

/// Admits inputs to be read and lowered while their bytes fit in [`MAX_BYTES_IN_FLIGHT`].
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
    /// Waits until `bytes` (at most the bound: one input alone always proceeds) fit, and admits
    /// them. Infallible; a `Result` so that a read can follow with `?`.
    pub(crate) fn enter(&self, bytes: u64) -> Result<Pass<'_>, InputError> {
        let bytes = bytes.min(MAX_BYTES_IN_FLIGHT);
        let mut in_flight = self
            .in_flight
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        while *in_flight + bytes > MAX_BYTES_IN_FLIGHT {
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
        assert_eq!(huge.bytes, MAX_BYTES_IN_FLIGHT);
        std::thread::scope(|scope| {
            let waiting = scope.spawn(|| {
                let _pass = gate.enter(MAX_FILE_BYTES / 2 + 1).expect("admitted");
                let in_flight = *gate.in_flight.lock().expect("lock");
                in_flight
            });
            std::thread::sleep(std::time::Duration::from_millis(50));
            assert!(!waiting.is_finished(), "over the bound, it waits");
            drop(first);
            assert_eq!(waiting.join().expect("joined"), MAX_FILE_BYTES / 2 + 1);
        });
        assert_eq!(*gate.in_flight.lock().expect("lock"), 0);
    }
}
