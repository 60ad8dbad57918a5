//! Layer `secrets`.

pub(crate) mod deleted_secret_in_layer;
pub(crate) mod secret_file_in_image;
pub(crate) mod secret_in_image_history;
