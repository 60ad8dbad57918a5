//! One module per subcommand.

pub(crate) mod audit;
pub(crate) mod generate;
pub(crate) mod harden;
pub(crate) mod probe;
pub(crate) mod profile;
pub(crate) mod rules;
pub(crate) mod verify;
