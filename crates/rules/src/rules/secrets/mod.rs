//! Layer `secrets`.

pub(crate) mod credential_literal;
pub(crate) mod credential_setup_in_run;
pub(crate) mod private_key_generated;
pub(crate) mod secret_file_copied;
pub(crate) mod secret_in_build_arg;
pub(crate) mod secret_in_env;
