//! Layer `secrets`: secrets kept out of configuration, images and the process environment.

pub(crate) mod secret_exposed_as_environment;
