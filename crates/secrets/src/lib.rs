//! leastpriv's one secret detector, and the text that may be printed.
//!
//! A security tool that runs on untrusted pull requests must never print a secret's value: not in a
//! finding, an error, a quoted line or a fingerprint. This crate holds everything that decides what a
//! secret is, so that the rules that report secrets and the masks that hide them cannot drift:
//!
//! - [`detect`]: secret *names* (`DB_PASSWORD`, `ROOTPASS`, `JWT_KEY`), *literal* values, credentials
//!   of *known formats* (AWS, GitHub, Slack, Google, OpenAI, PEM private keys …) and secret files.
//! - [`arguments`]: secrets passed on a command line (`mysql -p…`, `curl -u user:…`).
//! - [`mask`]: the same detectors applied to a text a reporter quotes, byte for byte.
//! - [`message`]: [`Message`], the only text an input error carries: static text and fragments that
//!   went through the mask, so raw input cannot reach a message by accident.
//! - [`known`]: values that came from secret-named variables (`${DEPLOY_TOKEN}` interpolated into
//!   `image:`), which are secrets wherever they land.
//!
//! The crate has no I/O and depends on nothing of leastpriv's, so every front-end can use it.

pub mod arguments;
pub mod detect;
pub mod known;
pub mod mask;
pub mod message;

pub use arguments::{chpasswd_passwords, secret_arguments, SecretArgument};
pub use detect::{
    find_credential, find_credential_in_variable, find_credentials, is_literal_value,
    is_placeholder_for, is_secret_name, secret_file_kind, Credential, SECRET_DIRECTORY_KINDS,
};
pub use known::KnownSecrets;
pub use mask::{mask, mask_ranges, masks_name, secret_ranges};
pub use message::{escape_control, Fragment, Message, Quoted};
