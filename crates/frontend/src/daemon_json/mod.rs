//! `daemon.json` front-end: the Docker daemon's configuration file into [`DaemonConfig`].
//!
//! The file is read with the spanned [`yaml`](crate::yaml) layer (JSON is YAML's flow syntax), so
//! every setting keeps the span of its value. It is held to what dockerd accepts, not to what YAML
//! would: the document must be a JSON object, and a security setting of the wrong JSON type
//! (`"icc": "false"`) is a located error, because dockerd refuses to start with it and guessing its
//! meaning would judge a configuration that never runs. The file is held to what dockerd's parser
//! takes as well: strict JSON (a trailing comma or a comment is a located error) and only the keys
//! dockerd knows ([`keys`]: `"no-new-privilege"` is an error that names `no-new-privileges`). Keys
//! leastpriv does not judge are otherwise ignored.
//!
//! [`flags`] reads the daemon's command line (`-H`, `--icc=false` …) into the same type: a running
//! daemon's settings are its `daemon.json` and its flags together.

pub mod flags;
mod keys;

use leastpriv_model::{Daemon, DaemonConfig, Span, Spanned, TextRange};
use leastpriv_source::{FileId, InputError, SourceDb};

use crate::yaml::{self, Node, Value};
use crate::{Lowered, Options};

/// Keys found only in `daemon.json` files: one of them makes a JSON object a daemon configuration.
const DISTINCTIVE_KEYS: [&str; 14] = [
    "\"userns-remap\"",
    "\"storage-driver\"",
    "\"live-restore\"",
    "\"insecure-registries\"",
    "\"registry-mirrors\"",
    "\"userland-proxy\"",
    "\"default-ulimits\"",
    "\"no-new-privileges\"",
    "\"exec-opts\"",
    "\"data-root\"",
    "\"default-address-pools\"",
    "\"seccomp-profile\"",
    "\"default-cgroupns-mode\"",
    "\"authorization-plugins\"",
];

/// Whether `text` reads as a `daemon.json`: a JSON object naming a setting no other format uses.
/// A cheap scan, not a parse: a directory walk hands every `*.json` here.
pub fn looks_like_daemon_json(text: &str) -> bool {
    text.trim_start().starts_with('{') && DISTINCTIVE_KEYS.iter().any(|key| text.contains(key))
}

/// Lowers a `daemon.json` audited on its own into one daemon.
pub fn lower(db: &SourceDb, file: FileId, _options: &Options) -> Lowered {
    let source = db.get(file);
    let (config, errors) = read_config(db, file);
    Lowered {
        daemons: config
            .map(|config| Daemon {
                name: source.path().to_owned(),
                config: Some(config),
                state: None,
            })
            .into_iter()
            .collect(),
        errors,
        ..Lowered::default()
    }
}

/// Reads `file` as a `daemon.json`. A file audited on its own is taken as the whole configuration
/// ([`DaemonConfig::complete`]); the engine front-end lowers that when the command line is not in
/// view. `None` when the file is not a JSON object.
pub fn read_config(db: &SourceDb, file: FileId) -> (Option<DaemonConfig>, Vec<InputError>) {
    let source = db.get(file);
    let path = source.path();
    let text = source.text();
    let mut errors = Vec::new();
    let start = text.len() - text.trim_start().len();
    let anchor = Span::new(file, TextRange::new(start, (start + 1).min(text.len())));
    if !text[start..].starts_with('{') {
        errors.push(InputError::at(
            path,
            anchor,
            "a daemon.json must be a JSON object (`{ … }`)",
        ));
        return (None, errors);
    }
    // dockerd refuses a file that is not JSON: no configuration of it ever runs, so none is judged.
    // Its keys still are when they read as JSON keys (a trailing comma leaves them intact), so one
    // run shows every reason dockerd would give.
    let not_json = json_syntax_error(source.text(), file, path);
    let stream = yaml::parse(text, file);
    if let Some(error) = not_json {
        errors.push(error);
        let entries = stream
            .documents
            .first()
            .and_then(Node::as_map)
            .unwrap_or_default();
        let quoted = |key: &Node| matches!(&key.value, Value::Scalar(scalar) if scalar.quoted);
        if stream.errors.is_empty() && entries.iter().all(|entry| quoted(&entry.key)) {
            for entry in entries {
                if let Some(error) = unknown_key(path, &entry.key) {
                    errors.push(error);
                }
            }
        }
        return (None, errors);
    }
    errors.extend(
        stream
            .errors
            .into_iter()
            .map(|error| error.into_input_error(path)),
    );
    let Some(document) = stream.documents.first() else {
        return (None, errors);
    };
    let Some(entries) = document.as_map() else {
        return (None, errors);
    };
    let mut config = DaemonConfig::new(anchor, true);
    config.rootless_location = is_rootless_location(path);
    let mut reader = Reader {
        path,
        errors: &mut errors,
    };
    for entry in entries {
        let Some(key) = entry.key.as_str() else {
            continue;
        };
        if let Some(error) = unknown_key(path, &entry.key) {
            reader.errors.push(error);
            continue;
        }
        let value = &entry.value;
        match key {
            "userns-remap" => config.userns_remap = reader.string(key, value),
            "hosts" => config.hosts = reader.strings(key, value),
            "tls" => config.tls = reader.bool(key, value),
            "tlsverify" => config.tls_verify = reader.bool(key, value),
            "icc" => config.icc = reader.bool(key, value),
            "iptables" => config.iptables = reader.bool(key, value),
            "bridge" => config.bridge = reader.string(key, value),
            "no-new-privileges" => config.no_new_privileges = reader.bool(key, value),
            "live-restore" => config.live_restore = reader.bool(key, value),
            "userland-proxy" => config.userland_proxy = reader.bool(key, value),
            "default-ulimits" => config.default_ulimits = reader.ulimits(key, value),
            "seccomp-profile" => config.seccomp_profile = reader.string(key, value),
            "selinux-enabled" => config.selinux_enabled = reader.bool(key, value),
            "default-cgroupns-mode" => config.default_cgroupns_mode = reader.string(key, value),
            "insecure-registries" => config.insecure_registries = reader.strings(key, value),
            _ => {}
        }
    }
    (Some(config), errors)
}

/// The error dockerd gives for a key it does not know, with the key that was probably meant.
fn unknown_key(path: &str, key: &Node) -> Option<InputError> {
    let name = key.as_str()?;
    if keys::is_known(name) {
        return None;
    }
    let hint = keys::closest(name)
        .map(|known| format!(" (did you mean `{known}`?)"))
        .unwrap_or_default();
    Some(InputError::at(
        path,
        key.span,
        format!(
            "`{name}` is not a dockerd configuration option, so dockerd refuses to start{hint}"
        ),
    ))
}

/// Where `text` stops being JSON as dockerd's decoder (Go's `encoding/json`) reads it, if it
/// does: the YAML layer that reads the file also takes trailing commas, comments and unquoted
/// strings, which dockerd refuses.
fn json_syntax_error(text: &str, file: FileId, path: &str) -> Option<InputError> {
    let error = serde_json::from_str::<serde::de::IgnoredAny>(text).err()?;
    let message = error.to_string();
    let mut message = message
        .rsplit_once(" at line ")
        .map_or(message.as_str(), |(message, _)| message)
        .to_owned();
    // serde_json counts lines from 1 and columns in bytes from 1; line 0 is the end of input.
    let mut offset = if error.line() == 0 {
        text.len()
    } else {
        let line_start: usize = text
            .split_inclusive('\n')
            .take(error.line() - 1)
            .map(str::len)
            .sum();
        (line_start + error.column().saturating_sub(1)).min(text.len())
    };
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    // A trailing comma is reported at the bracket after it (in an object as "key must be a
    // string"): point at the comma itself and call it what it is.
    if text[offset..].starts_with("//") || text[offset..].starts_with("/*") {
        message = "a comment (JSON has none)".to_owned();
    }
    let closes = text[offset..].starts_with(['}', ']']);
    if let Some(before) = text[..offset].rfind(|c: char| !c.is_whitespace()) {
        if closes && text[before..].starts_with(',') {
            offset = before;
            message = "trailing comma".to_owned();
        }
    }
    let end = text[offset..]
        .chars()
        .next()
        .map_or(offset, |c| offset + c.len_utf8());
    Some(InputError::at(
        path,
        Span::new(file, TextRange::new(offset, end)),
        format!("not valid JSON, so dockerd refuses to start: {message}"),
    ))
}

/// A rootless daemon reads `$XDG_CONFIG_HOME/docker/daemon.json`, by default
/// `~/.config/docker/daemon.json`; a rootful one `/etc/docker/daemon.json`.
fn is_rootless_location(path: &str) -> bool {
    path.replace('\\', "/")
        .ends_with(".config/docker/daemon.json")
}

/// Reads typed values the way dockerd's JSON decoder does, reporting the rest.
struct Reader<'a> {
    path: &'a str,
    errors: &'a mut Vec<InputError>,
}

impl Reader<'_> {
    fn error(&mut self, node: &Node, message: String) {
        self.errors
            .push(InputError::at(self.path, node.span, message));
    }

    /// A JSON `true` or `false`. A quoted `"true"` is a string to dockerd, which refuses it.
    fn bool(&mut self, key: &str, node: &Node) -> Option<Spanned<bool>> {
        match &node.value {
            Value::Scalar(scalar) if !scalar.quoted => match scalar.text.as_str() {
                "true" => return Some(Spanned::new(true, node.span)),
                "false" => return Some(Spanned::new(false, node.span)),
                _ => {}
            },
            Value::Null => return None,
            _ => {}
        }
        self.error(
            node,
            format!("`{key}` must be `true` or `false` (dockerd refuses to start otherwise)"),
        );
        None
    }

    /// A JSON string.
    fn string(&mut self, key: &str, node: &Node) -> Option<Spanned<String>> {
        match &node.value {
            Value::Scalar(scalar) if scalar.quoted => {
                Some(Spanned::new(scalar.text.to_string(), node.span))
            }
            Value::Null => None,
            _ => {
                self.error(
                    node,
                    format!("`{key}` must be a string (dockerd refuses to start otherwise)"),
                );
                None
            }
        }
    }

    /// A JSON array of strings.
    fn strings(&mut self, key: &str, node: &Node) -> Vec<Spanned<String>> {
        match &node.value {
            Value::Seq(items) => items
                .iter()
                .filter_map(|item| self.string(key, item))
                .collect(),
            Value::Null => Vec::new(),
            _ => {
                self.error(
                    node,
                    format!(
                        "`{key}` must be an array of strings (dockerd refuses to start otherwise)"
                    ),
                );
                Vec::new()
            }
        }
    }

    /// `default-ulimits`: an object of `{"Name", "Soft", "Hard"}` objects keyed by limit name. The
    /// names are kept (spanned at their keys); the values are not judged.
    fn ulimits(&mut self, key: &str, node: &Node) -> Vec<Spanned<String>> {
        match &node.value {
            Value::Map(entries) => entries
                .iter()
                .filter_map(|entry| {
                    let name = entry.key.as_str()?;
                    if entry.value.as_map().is_none() {
                        self.error(
                            &entry.value,
                            format!(
                                "`{key}.{name}` must be an object such as \
                                 `{{\"Name\": \"{name}\", \"Soft\": 1024, \"Hard\": 2048}}`"
                            ),
                        );
                        return None;
                    }
                    Some(Spanned::new(name.to_owned(), entry.key.span))
                })
                .collect(),
            Value::Null => Vec::new(),
            _ => {
                self.error(
                    node,
                    format!("`{key}` must be an object of limits keyed by name"),
                );
                Vec::new()
            }
        }
    }
}

#[cfg(test)]
mod tests;
