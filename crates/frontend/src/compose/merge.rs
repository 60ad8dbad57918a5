//! Merging Compose trees: an override file over its main file, a later document over an earlier one,
//! a service over the service it `extends`.
//!
//! The rules are compose-go's (`override/merge.go`): mappings merge key by key, sequences append,
//! scalars are replaced; `command`, `entrypoint` and `healthcheck.test` are replaced whole; `build:`
//! as a string is `{context: …}`; `environment`, `labels`, `annotations`, `sysctls` and `build.args`
//! merge by variable name whatever their form (list of `KEY=VALUE` or mapping); `env_file`, `tmpfs`
//! and the `dns*` keys may be a string or a list; `depends_on` and `networks` a list of names or a
//! mapping. A `!reset` value removes the key, a `!override` value replaces it without merging.
//! Duplicates in sequences (two volumes at one target) are removed when the service is lowered, as
//! compose-go's `EnforceUnicity` does after merging.
//!
//! Every node keeps its span, so a merged value still points at the file and line that set it.

use std::collections::HashMap;

use leastpriv_source::Span;

use crate::yaml::{Entry, Node, Scalar, Value};

/// How the values at one path merge.
enum Rule {
    /// The override replaces the base.
    Replace,
    /// `build:`: a string is `{context: string}`, then mappings merge.
    Build,
    /// A list of `KEY=VALUE` or a mapping: merged by key.
    KeyValues,
    /// A string or a list: lists append.
    Sequence,
    /// A list of names or a mapping: merged by name.
    Names,
    /// Mappings merge, sequences append, anything else is replaced.
    Default,
}

fn rule(path: &[&str]) -> Rule {
    match path {
        ["services", _, "command" | "entrypoint"] | ["services", _, "healthcheck", "test"] => {
            Rule::Replace
        }
        ["services", _, "build"] => Rule::Build,
        ["services", _, "environment" | "labels" | "annotations" | "sysctls"]
        | ["services", _, "build", "args" | "labels"]
        | ["services", _, "deploy", "labels"]
        | ["networks" | "volumes", _, "labels"] => Rule::KeyValues,
        ["services", _, "env_file" | "tmpfs" | "dns" | "dns_opt" | "dns_search" | "label_file"] => {
            Rule::Sequence
        }
        ["services", _, "depends_on" | "networks"] => Rule::Names,
        _ => Rule::Default,
    }
}

/// Merges a whole Compose document `over` onto `base`.
pub(super) fn merge_documents(base: Node, over: Node) -> Node {
    merge(base, over, &[])
}

/// Merges service `over` onto service `base` (the service that `extends` it).
pub(super) fn merge_services(base: Node, over: Node) -> Node {
    merge(base, over, &["services", "*"])
}

fn merge(base: Node, over: Node, path: &[&str]) -> Node {
    if over.has_tag("!override") {
        return over;
    }
    match rule(path) {
        Rule::Replace => over,
        Rule::Build => merge_mappings(build_mapping(base), build_mapping(over), path),
        Rule::KeyValues => merge_mappings_flat(key_value_mapping(base), key_value_mapping(over)),
        Rule::Sequence => append(as_sequence(base), as_sequence(over)),
        Rule::Names => merge_mappings(names_mapping(base), names_mapping(over), path),
        Rule::Default => match (&base.value, &over.value) {
            (_, Value::Null) if over.tag.is_none() => base,
            (Value::Map(_), Value::Map(_)) => merge_mappings(base, over, path),
            (Value::Seq(_), Value::Seq(_)) => append(base, over),
            _ => over,
        },
    }
}

/// Merges two mappings key by key, recursing with the key appended to `path`; anything else is
/// replaced by `over`.
fn merge_mappings(base: Node, over: Node, path: &[&str]) -> Node {
    merge_entries(base, over, |key, base, over| {
        let mut inner = path.to_vec();
        inner.push(key);
        merge(base, over, &inner)
    })
}

/// Merges two mappings whose values are replaced, not merged (`environment`, `labels` …).
fn merge_mappings_flat(base: Node, over: Node) -> Node {
    merge_entries(base, over, |_, _, over| over)
}

/// Merges the entries of two mappings: a key of `over` already in `base` keeps its place and gets
/// `combine(key, base value, over value)`; a new key is appended; a `!reset` value removes the key.
fn merge_entries(
    base: Node,
    over: Node,
    mut combine: impl FnMut(&str, Node, Node) -> Node,
) -> Node {
    let (entries, over_entries) = match (base.value, over.value) {
        (Value::Map(entries), Value::Map(over_entries)) => (entries, over_entries),
        (_, value) => {
            return Node {
                value,
                span: over.span,
                tag: over.tag,
            }
        }
    };
    let mut slots: Vec<Option<Entry>> = entries.into_iter().map(Some).collect();
    let mut positions: HashMap<String, usize> = slots
        .iter()
        .enumerate()
        .filter_map(|(index, entry)| Some((entry.as_ref()?.key.as_str()?.to_owned(), index)))
        .collect();
    for over_entry in over_entries {
        let key = over_entry.key.as_str().map(str::to_owned);
        let existing = key
            .as_ref()
            .and_then(|key| positions.get(key).copied())
            .filter(|&index| slots[index].is_some());
        if over_entry.value.has_tag("!reset") {
            if let Some(index) = existing {
                slots[index] = None;
            }
            continue;
        }
        match (
            existing.and_then(|index| Some((index, slots[index].take()?))),
            key,
        ) {
            (Some((index, base_entry)), Some(key)) => {
                let value = combine(&key, base_entry.value, over_entry.value);
                slots[index] = Some(Entry {
                    key: base_entry.key,
                    value,
                });
            }
            (_, key) => {
                if let Some(key) = key {
                    positions.insert(key, slots.len());
                }
                slots.push(Some(over_entry));
            }
        }
    }
    Node {
        value: Value::Map(slots.into_iter().flatten().collect()),
        span: base.span,
        tag: base.tag,
    }
}

fn append(base: Node, over: Node) -> Node {
    match (base.value, over.value) {
        (Value::Seq(mut items), Value::Seq(more)) => {
            items.extend(more);
            Node {
                value: Value::Seq(items),
                span: base.span,
                tag: base.tag,
            }
        }
        (_, value) => Node {
            value,
            span: over.span,
            tag: over.tag,
        },
    }
}

/// `build: ./dir` is `build: {context: ./dir}`.
fn build_mapping(node: Node) -> Node {
    match node.value {
        Value::Map(_) => node,
        Value::Scalar(_) => {
            let span = node.span;
            Node {
                value: Value::Map(vec![Entry {
                    key: synthetic_key("context", span),
                    value: node,
                }]),
                span,
                tag: None,
            }
        }
        _ => empty_mapping(node.span),
    }
}

/// A list of `KEY=VALUE` (or `KEY`) strings as a mapping; a mapping as is. A `KEY` with no `=` maps
/// to null, as `KEY:` does in the mapping form.
fn key_value_mapping(node: Node) -> Node {
    match node.value {
        Value::Map(_) => node,
        Value::Seq(items) => {
            let entries = items
                .into_iter()
                .filter_map(|item| {
                    let text = item.as_str()?.to_owned();
                    let span = item.span;
                    let (key, value) = match text.split_once('=') {
                        Some((key, value)) => (
                            key.to_owned(),
                            Value::Scalar(Scalar {
                                text: value.into(),
                                quoted: true,
                            }),
                        ),
                        None => (text, Value::Null),
                    };
                    Some(Entry {
                        key: synthetic_key(&key, span),
                        value: Node {
                            value,
                            span,
                            tag: None,
                        },
                    })
                })
                .collect();
            Node {
                value: Value::Map(entries),
                span: node.span,
                tag: node.tag,
            }
        }
        _ => empty_mapping(node.span),
    }
}

/// What a variable of a `KEY=VALUE` list or a mapping is set to.
#[derive(Clone, Copy)]
pub(super) enum Setting<'a> {
    /// `KEY` alone or `KEY:`: no value here.
    Unset,
    /// A string (`KEY=VALUE`, `KEY: VALUE`).
    Text(&'a str),
    /// A list or a mapping, which no variable can be.
    Collection,
}

/// One variable of a list of `KEY=VALUE` strings (or `KEY`) or of a mapping, borrowed from the tree.
pub(super) struct KeyValue<'a> {
    pub(super) key: &'a str,
    pub(super) key_span: Span,
    pub(super) value: Setting<'a>,
    pub(super) value_span: Span,
}

/// The variables of a list of `KEY=VALUE` strings or of a mapping, read where they are written:
/// what [`key_value_mapping`] would hold, without building it (an `environment` of a million items
/// must not be copied to be read). Items that are not strings and keys that are not scalars are
/// skipped; anything else is empty.
pub(super) fn key_values(node: &Node) -> impl Iterator<Item = KeyValue<'_>> {
    let items = node.as_seq().unwrap_or_default().iter().filter_map(|item| {
        let text = item.as_str()?;
        let (key, value) = match text.split_once('=') {
            Some((key, value)) => (key, Setting::Text(value)),
            None => (text, Setting::Unset),
        };
        Some(KeyValue {
            key,
            key_span: item.span,
            value,
            value_span: item.span,
        })
    });
    let entries = node
        .as_map()
        .unwrap_or_default()
        .iter()
        .filter_map(|entry| {
            let value = match &entry.value.value {
                Value::Null => Setting::Unset,
                Value::Scalar(scalar) => Setting::Text(&scalar.text),
                Value::Seq(_) | Value::Map(_) => Setting::Collection,
            };
            Some(KeyValue {
                key: entry.key.as_str()?,
                key_span: entry.key.span,
                value,
                value_span: entry.value.span,
            })
        });
    items.chain(entries)
}

/// A string as a one-item list; a list as is.
fn as_sequence(node: Node) -> Node {
    match node.value {
        Value::Scalar(_) => {
            let span = node.span;
            Node {
                value: Value::Seq(vec![node]),
                span,
                tag: None,
            }
        }
        _ => node,
    }
}

/// A list of names as a mapping of names to null; a mapping as is.
fn names_mapping(node: Node) -> Node {
    match node.value {
        Value::Map(_) => node,
        Value::Seq(items) => {
            let entries = items
                .into_iter()
                .filter_map(|item| {
                    let key = synthetic_key(item.as_str()?, item.span);
                    Some(Entry {
                        key,
                        value: Node {
                            value: Value::Null,
                            span: item.span,
                            tag: None,
                        },
                    })
                })
                .collect();
            Node {
                value: Value::Map(entries),
                span: node.span,
                tag: node.tag,
            }
        }
        _ => empty_mapping(node.span),
    }
}

fn synthetic_key(text: &str, span: Span) -> Node {
    Node {
        value: Value::Scalar(Scalar {
            text: text.into(),
            quoted: true,
        }),
        span,
        tag: None,
    }
}

fn empty_mapping(span: Span) -> Node {
    Node {
        value: Value::Map(Vec::new()),
        span,
        tag: None,
    }
}

/// Removes the keys whose value is `!reset` where nothing was there to reset (a `!reset` in the
/// first file): Compose reads them as absent.
pub(super) fn strip_resets(node: &mut Node) {
    match &mut node.value {
        Value::Map(entries) => {
            entries.retain(|entry| !entry.value.has_tag("!reset"));
            for entry in entries {
                strip_resets(&mut entry.value);
            }
        }
        Value::Seq(items) => {
            for item in items {
                strip_resets(item);
            }
        }
        Value::Null | Value::Scalar(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use leastpriv_source::SourceDb;

    use super::*;
    use crate::yaml;

    fn parse(text: &str) -> Node {
        let db = SourceDb::new();
        let file = db.add("t.yaml", text);
        let mut stream = yaml::parse(text, file);
        assert!(stream.errors.is_empty(), "{:?}", stream.errors);
        stream.documents.remove(0)
    }

    fn merged(base: &str, over: &str) -> Node {
        let mut node = merge_documents(parse(base), parse(over));
        strip_resets(&mut node);
        node
    }

    fn service(node: &Node) -> &Node {
        node.get("services")
            .and_then(|s| s.get("web"))
            .expect("web")
    }

    fn texts(node: Option<&Node>) -> Vec<String> {
        node.and_then(Node::as_seq)
            .unwrap_or_default()
            .iter()
            .filter_map(|item| item.as_str().map(str::to_owned))
            .collect()
    }

    #[test]
    fn scalars_replace_mappings_merge_sequences_append() {
        let node = merged(
            "services:\n  web:\n    image: a\n    privileged: true\n    cap_add: [NET_ADMIN]\n",
            "services:\n  web:\n    image: b\n    cap_add: [SYS_ADMIN]\n  db:\n    image: c\n",
        );
        let web = service(&node);
        assert_eq!(web.get("image").and_then(Node::as_str), Some("b"));
        assert_eq!(web.get("privileged").and_then(Node::as_bool), Some(true));
        assert_eq!(texts(web.get("cap_add")), ["NET_ADMIN", "SYS_ADMIN"]);
        assert!(node.get("services").and_then(|s| s.get("db")).is_some());
    }

    #[test]
    fn commands_are_replaced() {
        let node = merged(
            "services:\n  web:\n    command: [a, b]\n    healthcheck: {test: [x]}\n",
            "services:\n  web:\n    command: [c]\n    healthcheck: {test: [y]}\n",
        );
        let web = service(&node);
        assert_eq!(texts(web.get("command")), ["c"]);
        assert_eq!(
            texts(web.get("healthcheck").and_then(|h| h.get("test"))),
            ["y"]
        );
    }

    #[test]
    fn environment_merges_by_name_across_forms() {
        let node = merged(
            "services:\n  web:\n    environment:\n      - A=1\n      - B=2\n      - HOST_ONLY\n",
            "services:\n  web:\n    environment:\n      B: 3\n      C: 4\n",
        );
        let env = service(&node).get("environment").expect("environment");
        let pairs: Vec<(String, Option<String>)> = env
            .as_map()
            .expect("mapping")
            .iter()
            .map(|entry| {
                (
                    entry.key.as_str().unwrap_or_default().to_owned(),
                    entry.value.as_str().map(str::to_owned),
                )
            })
            .collect();
        assert_eq!(
            pairs,
            [
                ("A".into(), Some("1".into())),
                ("B".into(), Some("3".into())),
                ("HOST_ONLY".into(), None),
                ("C".into(), Some("4".into())),
            ]
        );
    }

    #[test]
    fn build_string_and_mapping_merge() {
        let node = merged(
            "services:\n  web:\n    build: ./app\n",
            "services:\n  web:\n    build:\n      target: prod\n",
        );
        let build = service(&node).get("build").expect("build");
        assert_eq!(build.get("context").and_then(Node::as_str), Some("./app"));
        assert_eq!(build.get("target").and_then(Node::as_str), Some("prod"));
    }

    #[test]
    fn string_or_list_keys_append() {
        let node = merged(
            "services:\n  web:\n    tmpfs: /run\n",
            "services:\n  web:\n    tmpfs: [/tmp]\n",
        );
        assert_eq!(texts(service(&node).get("tmpfs")), ["/run", "/tmp"]);
    }

    #[test]
    fn reset_and_override_tags() {
        let node = merged(
            "services:\n  web:\n    ports: ['80:80']\n    cap_add: [A]\n    environment: {A: 1, B: 2}\n",
            "services:\n  web:\n    ports: !reset []\n    cap_add: !override [B]\n    environment:\n      A: !reset\n    user: !reset\n",
        );
        let web = service(&node);
        assert!(web.get("ports").is_none());
        assert!(web.get("user").is_none());
        assert_eq!(texts(web.get("cap_add")), ["B"]);
        let env = web.get("environment").and_then(Node::as_map).expect("env");
        assert_eq!(env.len(), 1);
    }

    #[test]
    fn null_override_keeps_the_base() {
        let node = merged(
            "services:\n  web:\n    image: a\n",
            "services:\n  web:\n    image:\n",
        );
        assert_eq!(
            service(&node).get("image").and_then(Node::as_str),
            Some("a")
        );
    }

    #[test]
    fn merged_values_keep_their_own_spans() {
        let base = parse("services:\n  web:\n    image: a\n");
        let over_text = "services:\n  web:\n    privileged: true\n";
        let over = parse(over_text);
        let over_file = over.span.file;
        let node = merge_documents(base, over);
        let privileged = service(&node).get("privileged").expect("privileged");
        assert_eq!(privileged.span.file, over_file);
    }
}
