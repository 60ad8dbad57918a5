//! The seam between the probe and the operating system.
//!
//! Every observation goes through [`Host`]: the real implementation ([`RealHost`]) reads `/proc`,
//! `/sys` and calls the kernel; tests feed canned files captured from real containers. The trait is
//! deliberately low level (read a file, stat a path, run these syscalls) so that all interpretation
//! stays in the probe modules and is covered by the canned tests.

mod real;
mod syscall;

#[cfg(test)]
pub(crate) mod fixture;

use std::io;
use std::path::Path;

pub use real::RealHost;

/// The kind of a directory entry or path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    /// A regular file.
    File,
    /// A directory.
    Dir,
    /// A symbolic link.
    Symlink,
    /// A character device.
    CharDevice,
    /// A block device.
    BlockDevice,
    /// A unix socket.
    Socket,
    /// A FIFO.
    Fifo,
}

/// What `lstat` says about a path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileInfo {
    /// Its kind.
    pub kind: FileKind,
    /// Permission bits (`0o7777`).
    pub mode: u32,
    /// Owner.
    pub uid: u32,
    /// Group.
    pub gid: u32,
    /// Device major and minor numbers, for device nodes.
    pub device: (u32, u32),
}

/// One raw syscall to try: the number and its six arguments.
#[derive(Clone, Copy, Debug)]
pub struct SyscallCall {
    /// Its name, for canned hosts and messages.
    pub name: &'static str,
    /// The syscall number on this architecture.
    pub number: libc::c_long,
    /// The arguments, as the kernel receives them.
    pub args: [u64; 6],
    /// What a successful return value is, so that the runner can undo it.
    pub returns: Returns,
}

/// What a syscall returns on success.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Returns {
    /// A plain value.
    Value,
    /// A new file descriptor, closed at once.
    Fd,
    /// A child process id (clone): the child exits at once and is reaped.
    Child,
}

/// How a raw syscall ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RawOutcome {
    /// It returned this value.
    Returned(i64),
    /// It failed with this errno.
    Failed(i32),
    /// The process running it was killed by this signal (a seccomp `KILL` or `TRAP` action).
    Killed(i32),
}

/// What an engine socket answered.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SocketAnswer {
    /// `connect` succeeded.
    pub connectable: bool,
    /// It answered `GET /_ping` with an HTTP status line.
    pub answers: bool,
    /// The `Api-Version` header of the answer.
    pub api_version: Option<String>,
}

/// The operating system as the probe sees it.
pub trait Host {
    /// The contents of a file, at most `limit` bytes.
    fn read(&self, path: &Path, limit: usize) -> io::Result<Vec<u8>>;
    /// The names in a directory (not `.` and `..`), with their kinds.
    fn read_dir(&self, path: &Path) -> io::Result<Vec<(String, FileKind)>>;
    /// `lstat`.
    fn stat(&self, path: &Path) -> io::Result<FileInfo>;
    /// The target of a symbolic link.
    fn read_link(&self, path: &Path) -> io::Result<String>;
    /// Whether this process can open the file for writing: it is opened write-only, without creating
    /// or truncating, and closed without writing.
    fn can_open_for_write(&self, path: &Path) -> bool;
    /// Whether this process can open the file for reading: it is opened read-only and closed
    /// without reading.
    fn can_read(&self, path: &Path) -> bool;
    /// Whether the filesystem holding `path` is mounted read-only (`statvfs` `ST_RDONLY`).
    fn is_read_only_fs(&self, path: &Path) -> io::Result<bool>;
    /// Creates a file with a fresh name in `dir` and removes it: `Ok` when that worked.
    fn write_test(&self, dir: &Path) -> io::Result<()>;
    /// The names of the process's environment variables.
    fn env_names(&self) -> Vec<String>;
    /// Runs the syscalls, in order, and reports how each ended.
    fn run_syscalls(&self, calls: &[SyscallCall]) -> Vec<RawOutcome>;
    /// Connects to a unix socket and, for HTTP API sockets, asks `GET /_ping`.
    fn ask_socket(&self, path: &Path, http: bool) -> SocketAnswer;
    /// A monotonic clock in microseconds, for the report's duration.
    fn now_us(&self) -> u64;
}

/// Reads a small text file, `None` when it cannot be read or is not UTF-8.
pub(crate) fn read_text(host: &dyn Host, path: &str) -> Option<String> {
    const SMALL_FILE: usize = 1 << 20;
    read_text_limited(host, path, SMALL_FILE)
}

/// Reads a text file of at most `limit` bytes.
pub(crate) fn read_text_limited(host: &dyn Host, path: &str, limit: usize) -> Option<String> {
    let bytes = host.read(Path::new(path), limit).ok()?;
    String::from_utf8(bytes).ok()
}

/// Reads a number from a one-line file such as a sysctl.
pub(crate) fn read_number(host: &dyn Host, path: &str) -> Option<i64> {
    read_text(host, path)?.trim().parse().ok()
}
