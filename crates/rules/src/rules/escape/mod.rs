//! Layer `escape`.

pub(crate) mod run_network_host;
pub(crate) mod run_security_insecure;
