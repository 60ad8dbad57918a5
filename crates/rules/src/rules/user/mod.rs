//! Layer `user`: the process should not run as root.
//!
//! A root process in a container is root on the host's kernel: one kernel bug, one writable host
//! mount or one added capability away from host root. Running as a non-root user is the cheapest
//! layer and the one most often left at the default.

pub(crate) mod password_set_in_run;
pub(crate) mod passwordless_sudo;
pub(crate) mod privileged_port_exposed;
pub(crate) mod root_user;
pub(crate) mod setuid_bit_set;
pub(crate) mod ssh_server_in_image;
pub(crate) mod sudo_in_run;
pub(crate) mod sudo_installed;
pub(crate) mod user_not_numeric;
