//! Layer `filesystem`: what the process can change, and whether `execve` can raise its privileges.
//!
//! A read-only root with small scratch mounts where the program writes, and `no-new-privileges`,
//! keep an intruder from changing the application or climbing through setuid binaries.

pub(crate) mod permissive_tmpfs_mount;
pub(crate) mod privilege_escalation_allowed;
pub(crate) mod read_only_root_without_scratch;
pub(crate) mod world_writable_directory;
pub(crate) mod world_writable_mode_set;
pub(crate) mod writable_root_filesystem;
