//! A canned host for tests: files captured from real containers, plus a description of what cannot be
//! a file (syscall outcomes, directory listings, device nodes, writable paths, sockets).

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::{FileInfo, FileKind, Host, RawOutcome, SocketAnswer, SyscallCall};
use crate::seccomp::errno_number;

/// `host.json` of a fixture directory.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Scenario {
    /// Environment variable names.
    #[serde(default)]
    env: Vec<String>,
    /// Syscall name → `"EPERM"`, `"ok"` or `"killed"`; missing calls fail with EINVAL.
    #[serde(default)]
    syscalls: BTreeMap<String, String>,
    /// Directory → entries `"name kind"` (kind: file dir link char block socket).
    #[serde(default)]
    dirs: BTreeMap<String, Vec<String>>,
    /// Path → `"kind mode uid gid major minor"`.
    #[serde(default)]
    stats: BTreeMap<String, String>,
    /// Symbolic links.
    #[serde(default)]
    links: BTreeMap<String, String>,
    /// Paths that open for writing.
    #[serde(default)]
    writable: Vec<String>,
    /// Paths readable by `access`.
    #[serde(default)]
    readable: Vec<String>,
    /// Whether `/` is read-only.
    #[serde(default)]
    read_only_root: bool,
    /// Whether the write test in `/` succeeds.
    #[serde(default)]
    root_writable: bool,
    /// Socket path → API version (empty: connectable, no answer).
    #[serde(default)]
    sockets: BTreeMap<String, String>,
}

/// Files under `<fixture>/files`, the rest from `<fixture>/host.json`.
pub(crate) struct FixtureHost {
    files: PathBuf,
    scenario: Scenario,
}

impl FixtureHost {
    pub(crate) fn load(name: &str) -> Self {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name);
        let text = std::fs::read_to_string(dir.join("host.json")).expect("fixture host.json");
        Self {
            files: dir.join("files"),
            scenario: serde_json::from_str(&text).expect("valid host.json"),
        }
    }

    fn file(&self, path: &Path) -> PathBuf {
        self.files.join(path.strip_prefix("/").unwrap_or(path))
    }
}

fn kind_named(kind: &str) -> FileKind {
    match kind {
        "dir" => FileKind::Dir,
        "link" => FileKind::Symlink,
        "char" => FileKind::CharDevice,
        "block" => FileKind::BlockDevice,
        "socket" => FileKind::Socket,
        "fifo" => FileKind::Fifo,
        _ => FileKind::File,
    }
}

fn not_found() -> io::Error {
    io::Error::from(io::ErrorKind::NotFound)
}

impl Host for FixtureHost {
    fn read(&self, path: &Path, limit: usize) -> io::Result<Vec<u8>> {
        let mut bytes = std::fs::read(self.file(path))?;
        bytes.truncate(limit);
        Ok(bytes)
    }

    fn read_dir(&self, path: &Path) -> io::Result<Vec<(String, FileKind)>> {
        let entries = self
            .scenario
            .dirs
            .get(path.to_str().unwrap_or_default())
            .ok_or_else(not_found)?;
        Ok(entries
            .iter()
            .map(|entry| {
                let (name, kind) = entry.split_once(' ').unwrap_or((entry, "file"));
                (name.to_owned(), kind_named(kind))
            })
            .collect())
    }

    fn stat(&self, path: &Path) -> io::Result<FileInfo> {
        let text = self
            .scenario
            .stats
            .get(path.to_str().unwrap_or_default())
            .ok_or_else(not_found)?;
        let fields: Vec<&str> = text.split_whitespace().collect();
        let number = |i: usize, radix: u32| {
            fields
                .get(i)
                .and_then(|field| u32::from_str_radix(field, radix).ok())
                .unwrap_or(0)
        };
        Ok(FileInfo {
            kind: kind_named(fields.first().copied().unwrap_or("file")),
            mode: number(1, 8),
            uid: number(2, 10),
            gid: number(3, 10),
            device: (number(4, 10), number(5, 10)),
        })
    }

    fn read_link(&self, path: &Path) -> io::Result<String> {
        self.scenario
            .links
            .get(path.to_str().unwrap_or_default())
            .cloned()
            .ok_or_else(not_found)
    }

    fn can_open_for_write(&self, path: &Path) -> bool {
        self.scenario.writable.iter().any(|p| Path::new(p) == path)
    }

    fn can_read(&self, path: &Path) -> bool {
        self.scenario.readable.iter().any(|p| Path::new(p) == path)
    }

    fn is_read_only_fs(&self, _path: &Path) -> io::Result<bool> {
        Ok(self.scenario.read_only_root)
    }

    fn write_test(&self, _dir: &Path) -> io::Result<()> {
        if self.scenario.root_writable {
            Ok(())
        } else {
            Err(io::Error::from(io::ErrorKind::ReadOnlyFilesystem))
        }
    }

    fn env_names(&self) -> Vec<String> {
        self.scenario.env.clone()
    }

    fn run_syscalls(&self, calls: &[SyscallCall]) -> Vec<RawOutcome> {
        calls
            .iter()
            .map(
                |call| match self.scenario.syscalls.get(call.name).map(String::as_str) {
                    Some("ok") => RawOutcome::Returned(0),
                    Some("killed") => RawOutcome::Killed(libc::SIGSYS),
                    Some(errno) => RawOutcome::Failed(errno_number(errno).unwrap_or(libc::EINVAL)),
                    None => RawOutcome::Failed(libc::EINVAL),
                },
            )
            .collect()
    }

    fn ask_socket(&self, path: &Path, http: bool) -> SocketAnswer {
        match self.scenario.sockets.get(path.to_str().unwrap_or_default()) {
            Some(version) => SocketAnswer {
                connectable: true,
                answers: http && !version.is_empty(),
                api_version: (!version.is_empty()).then(|| version.clone()),
            },
            None => SocketAnswer::default(),
        }
    }

    fn now_us(&self) -> u64 {
        0
    }
}
