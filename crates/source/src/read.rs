//! Reading input files safely: the one function every path that comes from input goes through.
//!
//! An audited repository may be written by an attacker (a pull request), and every path it names —
//! a Compose `include`, `extends.file`, `build.dockerfile` or `env_file`, a `.env` beside it, a
//! seccomp profile — is attacker-chosen. [`read_text`] therefore:
//!
//! 1. reads only inside the [`ReadScope`] the user gave (the audited paths): the path is resolved
//!    through every symlink first, so `../../etc/shadow`, `/proc/self/environ` and a symlink to
//!    either are refused before anything is opened;
//! 2. refuses what is not a regular file before opening it (`stat`), then opens non-blocking and
//!    checks the open descriptor again (`fstat`): a FIFO, `/dev/stdin`, `/dev/stdout` or
//!    `/proc/self/fd/2` (a pipe in every CI runner) can never block the run, and a file swapped in
//!    between the two checks is still refused;
//! 3. reads at most its limit, and returns text only when it is UTF-8 without NUL bytes.
//!
//! Errors say what is wrong with the file and never quote its content: a file that is not what it
//! claims to be (binary, a process's environment) must not reach a report.
//!
//! A file the user named on the command line is read by [`read_named`]: it may be a pipe
//! (`leastpriv audit <(kubectl get pods -o json)`), since the user chose it.

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::Read;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The largest input file read: no real configuration file comes close, and a hostile one must not
/// exhaust memory.
pub const MAX_INPUT_BYTES: u64 = 8 * 1024 * 1024;

/// Where files may be read from: the audited paths and their directories. Paths are compared after
/// every symlink is resolved.
///
/// The default scope allows nothing: a front-end adds the directory of the file it reads (a Compose
/// project's own directory), so a library user who sets nothing reads no path outside it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadScope {
    /// Canonical directories under which files may be read, sorted (so a path's ancestors are
    /// looked up, not compared with every root); `None` reads anywhere. Shared: a scope is cloned
    /// for every Compose project of a run, and a run may name thousands of paths.
    roots: Option<Arc<[PathBuf]>>,
}

impl Default for ReadScope {
    fn default() -> Self {
        Self {
            roots: Some(Arc::from(Vec::new())),
        }
    }
}

impl ReadScope {
    /// A scope that allows every path: for paths the user named (`--config`, the daemon's own
    /// configuration), never for paths found in an input.
    pub fn anywhere() -> Self {
        Self { roots: None }
    }

    /// Files under `roots` (directories, resolved now; one that does not exist allows nothing).
    pub fn within(roots: impl IntoIterator<Item = PathBuf>) -> Self {
        let mut canonical: Vec<PathBuf> = roots
            .into_iter()
            .filter_map(|root| root.canonicalize().ok())
            .collect();
        canonical.sort();
        canonical.dedup();
        Self {
            roots: Some(Arc::from(canonical)),
        }
    }

    /// This scope with `dir` (resolved now; empty is the current directory) allowed too.
    pub fn with_root(&self, dir: &Path) -> Self {
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        match &self.roots {
            None => Self::anywhere(),
            // The roots are canonical already: only the new one is resolved (resolving them all
            // again made every Compose file of a large run cost a path walk per named path).
            Some(roots) => {
                let Ok(dir) = dir.canonicalize() else {
                    return self.clone();
                };
                if self.check(&dir).is_ok() {
                    // Under a root already: the scope allows the same paths.
                    return self.clone();
                }
                let mut roots = roots.to_vec();
                let at = roots.binary_search(&dir).unwrap_or_else(|at| at);
                roots.insert(at, dir);
                Self {
                    roots: Some(Arc::from(roots)),
                }
            }
        }
    }

    /// The directories this scope allows, resolved; `None` when it allows every path.
    pub fn roots(&self) -> Option<&[PathBuf]> {
        self.roots.as_deref()
    }

    /// `path` resolved through every symlink, when the scope allows it.
    ///
    /// Its directory is resolved and checked first, so a path outside the scope is refused as such
    /// even when it names nothing a path can resolve to (`/dev/stdout` is a link to `pipe:[…]`).
    pub fn resolve(&self, path: &Path) -> Result<PathBuf, ReadError> {
        if let (Some(parent), Some(name)) = (path.parent(), path.file_name()) {
            let parent = if parent.as_os_str().is_empty() {
                Path::new(".")
            } else {
                parent
            };
            let parent = parent
                .canonicalize()
                .map_err(|error| ReadError::from_io(&error))?;
            self.check(&parent.join(name))?;
        }
        let resolved = match path.canonicalize() {
            Ok(resolved) => resolved,
            // A link whose target is no path (a pipe's `/proc/self/fd/N`) or is missing.
            Err(error) if std::fs::symlink_metadata(path).is_ok() => {
                return Err(match ReadError::from_io(&error) {
                    ReadError::NotFound => ReadError::NotRegular("a link to no file"),
                    other => other,
                })
            }
            Err(error) => return Err(ReadError::from_io(&error)),
        };
        self.check(&resolved)?;
        Ok(resolved)
    }

    /// Whether the canonical `path` is under a root: one of its ancestors (itself included) is a
    /// root, found by binary search in the sorted roots (`Path` orders by components, as
    /// `starts_with` compares them).
    fn check(&self, path: &Path) -> Result<(), ReadError> {
        match &self.roots {
            Some(roots)
                if !path.ancestors().any(|ancestor| {
                    roots
                        .binary_search_by(|root| root.as_path().cmp(ancestor))
                        .is_ok()
                }) =>
            {
                Err(ReadError::OutsideScope)
            }
            _ => Ok(()),
        }
    }
}

/// Why a file was not read. The messages name the problem, never the file's content.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReadError {
    /// No such file (or a dangling symlink).
    NotFound,
    /// Permission denied.
    PermissionDenied,
    /// The path, with its symlinks resolved, is outside the audited paths.
    OutsideScope,
    /// Not a regular file: a directory, FIFO, socket or device.
    NotRegular(&'static str),
    /// Larger than the limit, in bytes.
    TooLarge(u64),
    /// A NUL byte at this offset: a binary file.
    Binary(usize),
    /// Not UTF-8 from this offset.
    NotUtf8(usize),
    /// Any other I/O error, as the system describes it.
    Io(String),
}

impl ReadError {
    fn from_io(error: &std::io::Error) -> Self {
        match error.kind() {
            // `a/b` where `a` is a file is as absent as a missing file.
            std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory => Self::NotFound,
            std::io::ErrorKind::PermissionDenied => Self::PermissionDenied,
            _ => Self::Io(error.to_string()),
        }
    }
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotFound => f.write_str("no such file"),
            Self::PermissionDenied => f.write_str("permission denied"),
            Self::OutsideScope => f.write_str(
                "outside the audited paths, not read (name its directory with `--allow-read DIR` to read it)",
            ),
            Self::NotRegular(kind) => write!(f, "not a regular file ({kind})"),
            Self::TooLarge(limit) => write!(f, "larger than {} MiB", limit / (1024 * 1024)),
            Self::Binary(offset) => write!(f, "binary file (NUL byte at byte {offset})"),
            Self::NotUtf8(offset) => write!(f, "not valid UTF-8 (at byte {offset})"),
            Self::Io(message) => f.write_str(message),
        }
    }
}

/// The text of the regular file at `path`, inside `scope`, of at most `limit` bytes (a UTF-8 BOM
/// is dropped).
pub fn read_text(path: &Path, scope: &ReadScope, limit: u64) -> Result<String, ReadError> {
    let resolved = scope.resolve(path)?;
    let bytes = read_regular(&resolved, limit)?;
    decode(bytes)
}

/// The bytes of a file the user named on the command line, of at most `limit` bytes: a regular
/// file, or a pipe or character device (`<(command)`, `/dev/stdin`), which the user chose to read.
/// Directories and sockets are refused.
pub fn read_named(path: &Path, limit: u64) -> Result<Vec<u8>, ReadError> {
    let file = open_nonblocking(path, true)?;
    read_bounded(file, limit)
}

/// The bytes of the regular file at `path` (not resolved against a scope), of at most `limit`.
pub fn read_regular(path: &Path, limit: u64) -> Result<Vec<u8>, ReadError> {
    let file = open_nonblocking(path, false)?;
    read_bounded(file, limit)
}

/// UTF-8 text without NUL bytes; a BOM is dropped.
pub fn decode(mut bytes: Vec<u8>) -> Result<String, ReadError> {
    if bytes.starts_with(b"\xEF\xBB\xBF") {
        bytes.drain(..3);
    }
    if let Some(nul) = bytes.iter().position(|&byte| byte == 0) {
        return Err(ReadError::Binary(nul));
    }
    String::from_utf8(bytes).map_err(|error| ReadError::NotUtf8(error.utf8_error().valid_up_to()))
}

/// Opens `path` for reading without blocking, refusing what is not a regular file (or, when
/// `named`, a pipe or character device) before the open and again on the open descriptor.
fn open_nonblocking(path: &Path, named: bool) -> Result<File, ReadError> {
    let check = |kind: std::fs::FileType| -> Result<(), ReadError> {
        let allowed = kind.is_file() || (named && (kind.is_fifo() || kind.is_char_device()));
        if allowed {
            Ok(())
        } else {
            Err(ReadError::NotRegular(kind_name(kind)))
        }
    };
    // Before opening: opening some devices has effects, and opening a FIFO for reading blocks
    // until a writer comes (unless non-blocking, which a named pipe needs to stay blocking for).
    check(
        std::fs::metadata(path)
            .map_err(|error| ReadError::from_io(&error))?
            .file_type(),
    )?;
    let mut options = OpenOptions::new();
    options.read(true);
    if !named {
        options.custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY);
    }
    let file = options
        .open(path)
        .map_err(|error| ReadError::from_io(&error))?;
    // The descriptor itself: the path may have been replaced since the first check.
    check(
        file.metadata()
            .map_err(|error| ReadError::from_io(&error))?
            .file_type(),
    )?;
    Ok(file)
}

fn read_bounded(file: File, limit: u64) -> Result<Vec<u8>, ReadError> {
    let mut bytes = Vec::new();
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|error| ReadError::from_io(&error))?;
    if bytes.len() as u64 > limit {
        return Err(ReadError::TooLarge(limit));
    }
    Ok(bytes)
}

fn kind_name(kind: std::fs::FileType) -> &'static str {
    if kind.is_dir() {
        "a directory"
    } else if kind.is_fifo() {
        "a FIFO"
    } else if kind.is_socket() {
        "a socket"
    } else if kind.is_char_device() {
        "a character device"
    } else if kind.is_block_device() {
        "a block device"
    } else {
        "a special file"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_is_in_scope_under_a_root_and_only_there() {
        let dir = tempfile::tempdir().expect("tempdir");
        for sub in ["a/b", "ab", "abc", "z"] {
            std::fs::create_dir_all(dir.path().join(sub)).expect("mkdir");
        }
        let base = dir.path().canonicalize().expect("canonical");
        // Many roots, as a run naming many files has, in no order.
        let mut roots: Vec<PathBuf> = (0..50).map(|n| base.join(format!("z/{n}"))).collect();
        roots.extend([base.join("ab"), base.join("a")]);
        let scope = ReadScope::within(roots);
        let allowed = |path: &str| scope.check(&base.join(path)).is_ok();
        assert!(allowed("a"));
        assert!(allowed("a/b/c.yaml"));
        assert!(allowed("ab/x"));
        assert!(
            !allowed("abc/x"),
            "a root is a whole component, not a prefix"
        );
        assert!(!allowed("z/x"));
        assert!(!allowed(""));
        assert!(scope.check(Path::new("/etc/passwd")).is_err());
        // A directory under a root adds nothing; one outside is allowed from then on.
        assert_eq!(scope.with_root(&base.join("a/b")), scope);
        let wider = scope.with_root(&base.join("abc"));
        assert!(wider.check(&base.join("abc/x")).is_ok());
        assert!(wider.check(&base.join("a/b/c")).is_ok());
        assert!(wider.check(&base.join("z/x")).is_err());
    }

    #[test]
    fn reads_a_regular_file_inside_the_scope() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("compose.yaml");
        std::fs::write(&path, "\u{FEFF}services: {}\n").expect("write");
        let scope = ReadScope::within([dir.path().to_path_buf()]);
        assert_eq!(
            read_text(&path, &scope, MAX_INPUT_BYTES).as_deref(),
            Ok("services: {}\n")
        );
    }

    #[test]
    fn refuses_paths_outside_the_scope_also_through_symlinks() {
        let outside = tempfile::tempdir().expect("tempdir");
        let secret = outside.path().join("secret");
        std::fs::write(&secret, "TOKEN=x\n").expect("write");
        let project = tempfile::tempdir().expect("tempdir");
        let link = project.path().join(".env");
        std::os::unix::fs::symlink(&secret, &link).expect("symlink");
        let scope = ReadScope::within([project.path().to_path_buf()]);
        for path in [
            secret.clone(),
            link,
            project.path().join("../").join(&secret),
        ] {
            assert_eq!(
                read_text(&path, &scope, MAX_INPUT_BYTES),
                Err(ReadError::OutsideScope),
                "{}",
                path.display()
            );
        }
        assert!(read_text(&secret, &ReadScope::anywhere(), MAX_INPUT_BYTES).is_ok());
        assert_eq!(
            read_text(Path::new("/proc/self/environ"), &scope, MAX_INPUT_BYTES),
            Err(ReadError::OutsideScope)
        );
    }

    #[test]
    fn refuses_special_files_without_blocking() {
        let dir = tempfile::tempdir().expect("tempdir");
        let fifo = dir.path().join("fifo");
        let status = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .expect("mkfifo");
        assert!(status.success());
        let anywhere = ReadScope::anywhere();
        assert_eq!(
            read_text(&fifo, &anywhere, MAX_INPUT_BYTES),
            Err(ReadError::NotRegular("a FIFO"))
        );
        assert_eq!(
            read_text(dir.path(), &anywhere, MAX_INPUT_BYTES),
            Err(ReadError::NotRegular("a directory"))
        );
        for device in ["/dev/zero", "/dev/null"] {
            assert_eq!(
                read_text(Path::new(device), &anywhere, MAX_INPUT_BYTES),
                Err(ReadError::NotRegular("a character device"))
            );
        }
        // Whatever the test runner made of them (a pipe, a terminal, a file), the standard streams
        // never block: each is refused or read at once.
        for stream in ["/dev/stdin", "/dev/stdout", "/proc/self/fd/2"] {
            let _ = read_text(Path::new(stream), &anywhere, MAX_INPUT_BYTES);
        }
    }

    #[test]
    fn bounds_size_and_refuses_binary_and_non_utf8() {
        let dir = tempfile::tempdir().expect("tempdir");
        let anywhere = ReadScope::anywhere();
        let path = dir.path().join("f");
        std::fs::write(&path, "x".repeat(11)).expect("write");
        assert_eq!(
            read_text(&path, &anywhere, 10),
            Err(ReadError::TooLarge(10))
        );
        std::fs::write(&path, b"A=1\nB=\0\n").expect("write");
        assert_eq!(read_text(&path, &anywhere, 10), Err(ReadError::Binary(6)));
        std::fs::write(&path, b"A=\xff\n").expect("write");
        assert_eq!(read_text(&path, &anywhere, 10), Err(ReadError::NotUtf8(2)));
        let message = ReadError::NotUtf8(2).to_string();
        assert!(!message.contains('\u{FFFD}'), "{message}");
    }
}
