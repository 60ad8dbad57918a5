//! Writing a hardened file safely.
//!
//! The new text goes to a temporary file in the same directory, which gets the original's
//! permissions and owner, is synced, then renamed over the original: a reader sees the old file or
//! the new one, never half of one, and a crash leaves the original intact. A symlink is resolved and
//! its target written (the link stays a link); the target must lie inside one of the paths the user
//! named. Nothing is written when the text is unchanged, and nothing when the file changed since it
//! was read (another editor's work is never overwritten).

use std::fs;
use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// UTF-8's byte order mark: the front-ends read text without it, and it is written back.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// What [`write_file`] did.
#[derive(Debug, PartialEq, Eq)]
pub enum Written {
    /// The text was unchanged: nothing was written.
    Unchanged,
    /// This file (the symlink's target, for a symlink) was replaced.
    Replaced(PathBuf),
}

/// Why a file was not written.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The file or its directory could not be read or written.
    #[error("{path}: {action}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What was being done.
        action: &'static str,
        /// The cause.
        source: std::io::Error,
    },
    /// The file (after symlinks) is not inside any path the user named.
    #[error("{0}: resolves outside the paths named on the command line; not written")]
    OutsideNamedPaths(PathBuf),
    /// Not a regular file.
    #[error("{0}: not a regular file; not written")]
    NotRegular(PathBuf),
    /// The file changed since it was read.
    #[error("{0}: changed since it was read; not written")]
    ChangedSinceRead(PathBuf),
}

/// Replaces the text of `path`, read as `original`, with `new`. `roots` are the paths named on the
/// command line; the file, symlinks resolved, must be one of them or inside one.
pub fn write_file(
    path: &Path,
    original: &str,
    new: &str,
    roots: &[PathBuf],
) -> Result<Written, WriteError> {
    let io = |action: &'static str| {
        let path = path.to_path_buf();
        move |source| WriteError::Io {
            path,
            action,
            source,
        }
    };
    if original == new {
        return Ok(Written::Unchanged);
    }
    let real = fs::canonicalize(path).map_err(io("resolving the path"))?;
    let inside = roots.iter().any(|root| {
        fs::canonicalize(root).is_ok_and(|root| real == root || real.starts_with(&root))
    });
    if !inside {
        return Err(WriteError::OutsideNamedPaths(path.to_path_buf()));
    }
    let metadata = fs::metadata(&real).map_err(io("reading its metadata"))?;
    if !metadata.is_file() {
        return Err(WriteError::NotRegular(path.to_path_buf()));
    }
    let current = fs::read(&real).map_err(io("reading it again"))?;
    let bom = current.starts_with(BOM);
    let current_text = if bom {
        &current[BOM.len()..]
    } else {
        &current[..]
    };
    if current_text != original.as_bytes() {
        return Err(WriteError::ChangedSinceRead(path.to_path_buf()));
    }
    let dir = real.parent().unwrap_or(Path::new("/"));
    let mut temporary = tempfile::Builder::new()
        .prefix(".leastpriv-harden-")
        .tempfile_in(dir)
        .map_err(io("creating a temporary file beside it"))?;
    if bom {
        temporary.write_all(BOM).map_err(io("writing"))?;
    }
    temporary.write_all(new.as_bytes()).map_err(io("writing"))?;
    let file = temporary.as_file();
    file.set_permissions(metadata.permissions())
        .map_err(io("keeping its permissions"))?;
    // Only root can give a file away; anyone can keep their own. A file this user may write but not
    // own (a group-writable file) cannot keep its owner: refused rather than silently taken over.
    let owner = (metadata.uid(), metadata.gid());
    let temporary_metadata = file.metadata().map_err(io("reading its metadata"))?;
    if (temporary_metadata.uid(), temporary_metadata.gid()) != owner {
        rustix::fs::fchown(
            file,
            Some(rustix::fs::Uid::from_raw(owner.0)),
            Some(rustix::fs::Gid::from_raw(owner.1)),
        )
        .map_err(|errno| std::io::Error::from_raw_os_error(errno.raw_os_error()))
        .map_err(io("keeping its owner"))?;
    }
    file.sync_all().map_err(io("syncing"))?;
    temporary
        .persist(&real)
        .map_err(|error| error.error)
        .map_err(io("replacing it"))?;
    Ok(Written::Replaced(real))
}

/// Creates `path` holding `text`: written to a temporary file beside it, then linked into place
/// only if no file has appeared there meanwhile (an existing file is never replaced by this).
pub fn create_file(path: &Path, text: &str) -> Result<(), WriteError> {
    let io = |action: &'static str| {
        let path = path.to_path_buf();
        move |source| WriteError::Io {
            path,
            action,
            source,
        }
    };
    let dir = path
        .parent()
        .filter(|dir| !dir.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut temporary = tempfile::Builder::new()
        .prefix(".leastpriv-harden-")
        .tempfile_in(dir)
        .map_err(io("creating a temporary file beside it"))?;
    temporary
        .write_all(text.as_bytes())
        .map_err(io("writing"))?;
    temporary.as_file().sync_all().map_err(io("syncing"))?;
    temporary
        .persist_noclobber(path)
        .map_err(|error| error.error)
        .map_err(io("creating it"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::{symlink, PermissionsExt};

    use super::*;

    fn roots(dir: &Path) -> Vec<PathBuf> {
        vec![dir.to_path_buf()]
    }

    #[test]
    fn replaces_the_text_and_keeps_the_mode() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let path = dir.path().join("compose.yaml");
        fs::write(&path, "a: 1\n").expect("write");
        fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).expect("chmod");
        let written = write_file(&path, "a: 1\n", "a: 2\n", &roots(dir.path())).expect("written");
        assert!(matches!(written, Written::Replaced(_)));
        assert_eq!(fs::read_to_string(&path).expect("read"), "a: 2\n");
        let mode = fs::metadata(&path).expect("metadata").permissions().mode();
        assert_eq!(mode & 0o777, 0o640);
        let leftovers = fs::read_dir(dir.path()).expect("list").count();
        assert_eq!(leftovers, 1, "no temporary file left behind");
    }

    #[test]
    fn an_unchanged_text_is_not_written() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let path = dir.path().join("f");
        fs::write(&path, "x\n").expect("write");
        let before = fs::metadata(&path)
            .expect("metadata")
            .modified()
            .expect("mtime");
        std::thread::sleep(std::time::Duration::from_millis(20));
        let written = write_file(&path, "x\n", "x\n", &roots(dir.path())).expect("ok");
        assert_eq!(written, Written::Unchanged);
        let after = fs::metadata(&path)
            .expect("metadata")
            .modified()
            .expect("mtime");
        assert_eq!(before, after);
    }

    #[test]
    fn a_symlink_is_written_through_and_stays_a_link() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let target = dir.path().join("real.yaml");
        let link = dir.path().join("compose.yaml");
        fs::write(&target, "a: 1\n").expect("write");
        symlink(&target, &link).expect("symlink");
        write_file(&link, "a: 1\n", "a: 2\n", &roots(dir.path())).expect("written");
        assert!(fs::symlink_metadata(&link)
            .expect("lstat")
            .file_type()
            .is_symlink());
        assert_eq!(fs::read_to_string(&target).expect("read"), "a: 2\n");
    }

    #[test]
    fn a_symlink_out_of_the_named_paths_is_refused() {
        let outside = tempfile::tempdir().expect("temporary directory");
        let named = tempfile::tempdir().expect("temporary directory");
        let target = outside.path().join("victim.yaml");
        fs::write(&target, "a: 1\n").expect("write");
        let link = named.path().join("compose.yaml");
        symlink(&target, &link).expect("symlink");
        let error = write_file(&link, "a: 1\n", "a: 2\n", &roots(named.path())).unwrap_err();
        assert!(matches!(error, WriteError::OutsideNamedPaths(_)), "{error}");
        assert_eq!(fs::read_to_string(&target).expect("read"), "a: 1\n");
    }

    #[test]
    fn a_file_changed_since_it_was_read_is_not_overwritten() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let path = dir.path().join("f");
        fs::write(&path, "edited elsewhere\n").expect("write");
        let error = write_file(&path, "x\n", "y\n", &roots(dir.path())).unwrap_err();
        assert!(matches!(error, WriteError::ChangedSinceRead(_)), "{error}");
        assert_eq!(
            fs::read_to_string(&path).expect("read"),
            "edited elsewhere\n"
        );
    }

    #[test]
    fn a_byte_order_mark_is_kept() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let path = dir.path().join("f");
        fs::write(&path, b"\xEF\xBB\xBFa: 1\n").expect("write");
        write_file(&path, "a: 1\n", "a: 2\n", &roots(dir.path())).expect("written");
        assert_eq!(fs::read(&path).expect("read"), b"\xEF\xBB\xBFa: 2\n");
    }
}
