//! Layer `secrets`.

pub(crate) mod credential_literal;
pub(crate) mod credential_setup_in_run;
pub(crate) mod deleted_secret_in_layer;
pub(crate) mod private_key_generated;
pub(crate) mod secret_file_copied;
pub(crate) mod secret_file_in_image;
pub(crate) mod secret_in_build_arg;
pub(crate) mod secret_in_env;
pub(crate) mod secret_in_image_history;
