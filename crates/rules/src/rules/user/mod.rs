//! Layer `user`: the process should not run as root.
//!
//! A root process in a container is root on the host's kernel: one kernel bug, one writable host
//! mount or one added capability away from host root. Running as a non-root user is the cheapest
//! layer and the one most often left at the default.

pub(crate) mod passwordless_sudo_in_image;
pub(crate) mod root_user;
pub(crate) mod setuid_files_present;
pub(crate) mod unexpected_setuid_file;
