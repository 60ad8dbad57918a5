//! Layer `user`: the process should not run as root.
//!
//! A root process in a container is root on the host's kernel: one kernel bug, one writable host
//! mount or one added capability away from host root. Running as a non-root user is the cheapest
//! layer and the one most often left at the default.

pub(crate) mod image_default_user;
pub(crate) mod non_numeric_user_with_run_as_non_root;
pub(crate) mod password_set_in_run;
pub(crate) mod passwordless_sudo;
pub(crate) mod passwordless_sudo_in_image;
pub(crate) mod privileged_port_exposed;
pub(crate) mod root_group;
pub(crate) mod root_user;
pub(crate) mod run_as_non_root_unset;
pub(crate) mod setuid_bit_set;
pub(crate) mod setuid_files_present;
pub(crate) mod ssh_server_in_image;
pub(crate) mod sudo_in_run;
pub(crate) mod sudo_installed;
pub(crate) mod unexpected_setuid_file;
pub(crate) mod user_not_numeric;
