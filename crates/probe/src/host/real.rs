//! The real host: std, rustix and raw syscalls. Nothing here interprets what it reads.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rustix::fs::StatVfsMountFlags;

use super::{FileInfo, FileKind, Host, RawOutcome, SocketAnswer, SyscallCall};

/// How long an engine socket may take to answer `GET /_ping`. Docker answers in about a millisecond;
/// the bound keeps a hung socket from holding the probe.
const SOCKET_TIMEOUT: Duration = Duration::from_millis(50);

/// The operating system the probe runs on.
#[derive(Debug)]
pub struct RealHost {
    start: Instant,
}

impl RealHost {
    /// A host whose clock starts now.
    pub fn new() -> Self {
        Self {
            start: Instant::now(),
        }
    }
}

impl Default for RealHost {
    fn default() -> Self {
        Self::new()
    }
}

fn kind_of(file_type: fs::FileType) -> FileKind {
    if file_type.is_dir() {
        FileKind::Dir
    } else if file_type.is_symlink() {
        FileKind::Symlink
    } else if file_type.is_char_device() {
        FileKind::CharDevice
    } else if file_type.is_block_device() {
        FileKind::BlockDevice
    } else if file_type.is_socket() {
        FileKind::Socket
    } else if file_type.is_fifo() {
        FileKind::Fifo
    } else {
        FileKind::File
    }
}

impl Host for RealHost {
    fn read(&self, path: &Path, limit: usize) -> io::Result<Vec<u8>> {
        let mut bytes = Vec::new();
        File::open(path)?
            .take(limit as u64)
            .read_to_end(&mut bytes)?;
        Ok(bytes)
    }

    fn read_dir(&self, path: &Path) -> io::Result<Vec<(String, FileKind)>> {
        let mut entries = Vec::new();
        for entry in fs::read_dir(path)? {
            let entry = entry?;
            let kind = entry.file_type().map_or(FileKind::File, kind_of);
            entries.push((entry.file_name().to_string_lossy().into_owned(), kind));
        }
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(entries)
    }

    fn stat(&self, path: &Path) -> io::Result<FileInfo> {
        let metadata = fs::symlink_metadata(path)?;
        let rdev = metadata.rdev();
        Ok(FileInfo {
            kind: kind_of(metadata.file_type()),
            mode: metadata.mode() & 0o7777,
            uid: metadata.uid(),
            gid: metadata.gid(),
            device: (rustix::fs::major(rdev), rustix::fs::minor(rdev)),
        })
    }

    fn read_link(&self, path: &Path) -> io::Result<String> {
        Ok(fs::read_link(path)?.to_string_lossy().into_owned())
    }

    fn can_open_for_write(&self, path: &Path) -> bool {
        // Write-only, no O_CREAT, no O_TRUNC: opening changes nothing, and nothing is written.
        // O_NONBLOCK keeps a FIFO from blocking, O_NOCTTY a terminal from becoming ours.
        OpenOptions::new()
            .write(true)
            .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY | libc::O_CLOEXEC)
            .open(path)
            .is_ok()
    }

    fn can_read(&self, path: &Path) -> bool {
        // Opened, not `access(2)`: the open is what the kernel (and an LSM) really allows, and it
        // needs only `openat`, which every seccomp profile allows. `faccessat2` may be filtered,
        // and rustix's fallback for it then calls `geteuid`, which the filter may deny too.
        // O_NONBLOCK keeps a FIFO from blocking, O_NOCTTY a terminal from becoming ours.
        OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY | libc::O_CLOEXEC)
            .open(path)
            .is_ok()
    }

    fn is_read_only_fs(&self, path: &Path) -> io::Result<bool> {
        let stat = rustix::fs::statvfs(path)?;
        Ok(stat.f_flag.contains(StatVfsMountFlags::RDONLY))
    }

    fn write_test(&self, dir: &Path) -> io::Result<()> {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| since.subsec_nanos());
        let path = dir.join(format!(
            ".leastpriv-probe-{}-{nanos:09}",
            std::process::id()
        ));
        // create_new: O_CREAT|O_EXCL, so an existing file is never touched.
        OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(libc::O_CLOEXEC)
            .open(&path)?;
        fs::remove_file(&path)
    }

    fn env_names(&self) -> Vec<String> {
        std::env::vars_os()
            .map(|(name, _)| name.to_string_lossy().into_owned())
            .collect()
    }

    fn run_syscalls(&self, calls: &[SyscallCall]) -> Vec<RawOutcome> {
        super::syscall::run(calls)
    }

    fn ask_socket(&self, path: &Path, http: bool) -> SocketAnswer {
        let Ok(mut stream) = UnixStream::connect(path) else {
            return SocketAnswer::default();
        };
        let mut answer = SocketAnswer {
            connectable: true,
            ..SocketAnswer::default()
        };
        if !http {
            return answer;
        }
        let asked = stream
            .set_read_timeout(Some(SOCKET_TIMEOUT))
            .and_then(|()| stream.set_write_timeout(Some(SOCKET_TIMEOUT)))
            .and_then(|()| stream.write_all(b"GET /_ping HTTP/1.0\r\nHost: engine\r\n\r\n"));
        if asked.is_err() {
            return answer;
        }
        let mut response = Vec::new();
        let _ = (&mut stream).take(4096).read_to_end(&mut response);
        let text = String::from_utf8_lossy(&response);
        answer.answers = text.starts_with("HTTP/1.");
        answer.api_version = text.lines().find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("api-version")
                .then(|| value.trim().to_owned())
        });
        answer
    }

    fn now_us(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_micros()).unwrap_or(u64::MAX)
    }
}
