//! Lowering an image config and its stacked layers into a [`Container`].
//!
//! The config blob is registered in the [`SourceDb`] pretty-printed (one value per line) under
//! `<input>@<config digest>/config`, so a finding points at a line and column a reader can follow,
//! and a reporter's snippet shows one value rather than the whole single-line blob. Every spanned
//! fact (the user, each `Env` entry, each exposed port, each history `created_by` and the build
//! arguments inside it) points into that text.

use leastpriv_model::{
    short_digest, Container, EnvVar, ImageFacts, ImageHistoryEntry, ImageLayer, PortSpec, Protocol,
    Resolved, Sensitive, SourceKind, User,
};
use leastpriv_source::{FileId, Origin, SourceDb, Span, Spanned, TextRange};

use crate::json::{self, Node};
use crate::overlay::Stacked;

/// One image's config, ready to lower.
pub(crate) struct ConfigText {
    pub(crate) file: FileId,
    pub(crate) text: String,
    pub(crate) root: Node,
}

/// Pretty-prints a config blob and registers it under `path`; the error says why it is not JSON.
pub(crate) fn register_config(
    db: &SourceDb,
    path: &str,
    image: &str,
    bytes: &[u8],
) -> Result<ConfigText, String> {
    let value: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|error| format!("the image config is not valid JSON: {error}"))?;
    if !value.is_object() {
        return Err("the image config is not a JSON object".to_owned());
    }
    let text = serde_json::to_string_pretty(&value)
        .map_err(|error| format!("cannot print the image config: {error}"))?;
    let root = json::parse(&text)
        .map_err(|(offset, message)| format!("the image config at byte {offset}: {message}"))?;
    let regions = regions(&root);
    let file = db.add_described(path, text.clone(), Origin::Image(image.to_owned()), regions);
    Ok(ConfigText { file, text, root })
}

/// The words that say where each part of the printed config is, for a reader who has the image
/// but not this text: `history entry 3 of 6 (layer 2 of 5)`, `` config `User` ``.
fn regions(root: &Node) -> Vec<(TextRange, String)> {
    let mut regions = Vec::new();
    if let Some(member) = root.member("config") {
        regions.push((
            member.key_range.cover(member.node.range),
            "the image config".to_owned(),
        ));
        for key in member.node.as_members() {
            regions.push((
                key.key_range.cover(key.node.range),
                format!("config `{}`", key.key),
            ));
        }
    }
    let entries = root.get("history").map(Node::as_array).unwrap_or_default();
    let empty = |entry: &Node| {
        entry
            .get("empty_layer")
            .and_then(Node::as_bool)
            .unwrap_or(false)
    };
    let layers = entries.iter().filter(|entry| !empty(entry)).count();
    let mut layer = 0;
    for (index, entry) in entries.iter().enumerate() {
        let which = if empty(entry) {
            "no layer".to_owned()
        } else {
            layer += 1;
            format!("layer {layer} of {layers}")
        };
        regions.push((
            entry.range,
            format!("history entry {} of {} ({which})", index + 1, entries.len()),
        ));
    }
    regions
}

/// Builds the container of one image.
pub(crate) fn lower(
    name: &str,
    config: &ConfigText,
    layer_digests: &[String],
    stacked: Stacked,
) -> Container {
    let span = |range: TextRange| Span::new(config.file, range);
    let root = &config.root;
    let runtime = root.get("config");
    let origin = root
        .member("config")
        .map_or(TextRange::new(0, 1), |member| member.key_range);

    let user = match runtime.and_then(|runtime| runtime.member("User")) {
        Some(member) => match member.node.as_str() {
            Some(text) if !text.is_empty() => {
                Spanned::new(User::parse(text), span(member.node.range))
            }
            _ => Spanned::new(User::parse(""), span(member.key_range)),
        },
        None => Spanned::new(User::parse(""), span(origin)),
    };
    let resolved_uid = match user.value.resolve(&stacked.passwd) {
        Resolved::Uid(uid) => Some(uid),
        Resolved::Refused | Resolved::Unknown => None,
    };

    let env = runtime
        .and_then(|runtime| runtime.get("Env"))
        .map(Node::as_array)
        .unwrap_or_default()
        .iter()
        .filter_map(|node| env_var(node, &config.text, config.file))
        .collect();

    let exposed = runtime
        .and_then(|runtime| runtime.get("ExposedPorts"))
        .map(Node::as_members)
        .unwrap_or_default()
        .iter()
        .map(|member| Spanned::new(port_spec(&member.key), span(member.key_range)))
        .collect();

    let mut history = Vec::new();
    let mut next_layer = 0;
    let entries = root.get("history").map(Node::as_array).unwrap_or_default();
    for entry in entries {
        let empty_layer = entry
            .get("empty_layer")
            .and_then(Node::as_bool)
            .unwrap_or(false);
        let (created_by, build_args) = match entry.get("created_by") {
            Some(node) => {
                let text = node.as_str().unwrap_or_default().to_owned();
                let args = build_args(&text, node, &config.text, config.file);
                (Spanned::new(text, span(node.range)), args)
            }
            None => (Spanned::new(String::new(), span(entry.range)), Vec::new()),
        };
        let layer = (!empty_layer).then(|| {
            next_layer += 1;
            next_layer - 1
        });
        history.push(ImageHistoryEntry {
            created_by,
            empty_layer,
            layer,
            build_args,
        });
    }
    // History and layers line up only when the history has one entry per layer.
    let history_fits = next_layer == layer_digests.len();
    let layers = layer_digests
        .iter()
        .enumerate()
        .map(|(index, digest)| ImageLayer {
            digest: digest.clone(),
            created_by: history_fits
                .then(|| {
                    history
                        .iter()
                        .find(|entry| entry.layer == Some(index))
                        .map(|entry| entry.created_by.span)
                })
                .flatten(),
            instruction: None,
        })
        .collect();
    if !history_fits {
        for entry in &mut history {
            entry.layer = None;
        }
    }

    let mut container = Container::new(name, SourceKind::Image, span(origin));
    container.image = Some(ImageFacts {
        reference: name.to_owned(),
        user: Some(user),
        resolved_uid,
        passwd: stacked.passwd,
        group: stacked.group,
        env,
        exposed,
        history,
        layers,
        files: stacked.files,
    });
    container
}

/// The pseudo-path of an image's config: `<input>@sha256:0123456789ab/config`.
pub(crate) fn config_path(input: &str, digest: Option<&str>, fallback: &str) -> String {
    match digest {
        Some(digest) => format!("{input}@{}/config", short_digest(digest)),
        None => format!("{input}@{fallback}"),
    }
}

fn env_var(node: &Node, text: &str, file: FileId) -> Option<EnvVar> {
    let value = node.as_str()?;
    let raw = &text[node.range.to_range()];
    let at =
        |decoded: usize| json::raw_offset(raw, decoded).map(|raw| node.range.start as usize + raw);
    let (name, value) = match value.split_once('=') {
        Some((name, value)) => (name, Some(value)),
        None => (value, None),
    };
    let name_end = at(name.len()).unwrap_or(node.range.end as usize);
    let name = Spanned::new(
        name.to_owned(),
        Span::new(file, TextRange::new(node.range.start as usize, name_end)),
    );
    let value = value.map(|value| {
        let start = at(name.value.len() + 1).unwrap_or(node.range.start as usize);
        Spanned::new(
            Sensitive::new(value),
            Span::new(file, TextRange::new(start, node.range.end as usize)),
        )
    });
    Some(EnvVar { name, value })
}

/// The build arguments a classic-builder or BuildKit history line records:
/// `|2 NAME=value NAME2=value /bin/sh -c …`, optionally after `RUN `.
fn build_args(created_by: &str, node: &Node, text: &str, file: FileId) -> Vec<EnvVar> {
    let body = created_by.strip_prefix("RUN ").unwrap_or(created_by);
    let Some(rest) = body.strip_prefix('|') else {
        return Vec::new();
    };
    let Some((count, mut rest)) = rest.split_once(' ') else {
        return Vec::new();
    };
    let Ok(count) = count.parse::<usize>() else {
        return Vec::new();
    };
    let raw = &text[node.range.to_range()];
    let span_of = |start: usize, end: usize| {
        let start = json::raw_offset(raw, start).unwrap_or(0);
        let end = json::raw_offset(raw, end).unwrap_or(raw.len());
        Span::new(
            file,
            TextRange::new(start, end).shifted(node.range.start as usize),
        )
    };
    let mut args = Vec::new();
    for _ in 0..count.min(1000) {
        let offset = created_by.len() - rest.len();
        let word_end = rest.find(' ').unwrap_or(rest.len());
        let word = &rest[..word_end];
        let Some((name, value)) = word.split_once('=') else {
            break;
        };
        let value_start = offset + name.len() + 1;
        args.push(EnvVar {
            name: Spanned::new(name.to_owned(), span_of(offset, offset + name.len())),
            value: Some(Spanned::new(
                Sensitive::new(value),
                span_of(value_start, value_start + value.len()),
            )),
        });
        rest = rest[word_end..].trim_start_matches(' ');
    }
    args
}

fn port_spec(key: &str) -> PortSpec {
    let (port, protocol) = key.split_once('/').unwrap_or((key, "tcp"));
    PortSpec {
        port: port.parse().ok(),
        range_end: None,
        protocol: match protocol.to_ascii_lowercase().as_str() {
            "udp" => Protocol::Udp,
            "sctp" => Protocol::Sctp,
            _ => Protocol::Tcp,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use leastpriv_model::{AccountDb, AccountFile};

    fn lowered(config: &str) -> (SourceDb, Container) {
        let db = SourceDb::new();
        let text = register_config(
            &db,
            "img.tar@sha256:abc/config",
            "img.tar",
            config.as_bytes(),
        )
        .unwrap();
        let stacked = Stacked {
            files: Vec::new(),
            passwd: AccountFile::Read(AccountDb::parse(
                "root:x:0:0::/root:/bin/sh\ntoor:x:0:0::/:/bin/sh\napp:x:10001:10001::/app:/bin/sh\n",
                true,
            )),
            group: AccountFile::Missing,
        };
        let container = lower("img:1", &text, &["sha256:l1".to_owned()], stacked);
        (db, container)
    }

    #[test]
    fn config_facts_are_spanned_at_their_values() {
        let (db, container) = lowered(
            r#"{"config":{"User":"toor","Env":["PATH=/bin","TOKEN=a&b"],"ExposedPorts":{"80/tcp":{}}},
            "history":[{"created_by":"/bin/sh -c #(nop) ENV TOKEN=a&b","empty_layer":true},
                       {"created_by":"|2 GITHUB_TOKEN=ghp_x A=1 /bin/sh -c make"}],
            "rootfs":{"type":"layers","diff_ids":["sha256:l1"]}}"#,
        );
        let image = container.image.as_ref().unwrap();
        let user = image.user.as_ref().unwrap();
        assert_eq!(db.slice(user.span), "toor");
        assert_eq!(image.resolved_uid, Some(0));
        assert_eq!(image.user_is_root(), leastpriv_model::Certainty::Yes);
        assert_eq!(db.slice(image.env[1].name.span), "TOKEN");
        assert_eq!(db.slice(image.env[1].value.as_ref().unwrap().span), "a&b");
        assert_eq!(db.slice(image.exposed[0].span), "80/tcp");
        assert_eq!(image.exposed[0].value.port, Some(80));
        let run = &image.history[1];
        assert_eq!(run.layer, Some(0));
        assert_eq!(image.layers[0].created_by, Some(run.created_by.span));
        let names: Vec<_> = run
            .build_args
            .iter()
            .map(|a| db.slice(a.name.span))
            .collect();
        assert_eq!(names, ["GITHUB_TOKEN", "A"]);
        assert_eq!(
            db.slice(run.build_args[0].value.as_ref().unwrap().span),
            "ghp_x"
        );
    }

    #[test]
    fn an_empty_user_is_root_spanned_at_its_key() {
        let (db, container) = lowered(r#"{"config":{"User":""},"history":[]}"#);
        let image = container.image.as_ref().unwrap();
        let user = image.user.as_ref().unwrap();
        assert_eq!(db.slice(user.span), "User");
        assert_eq!(user.value.is_root(), leastpriv_model::Certainty::Yes);
        assert_eq!(image.layers[0].created_by, None);
    }
}
