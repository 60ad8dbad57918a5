//! A spanned YAML (and JSON) document tree, shared by the Compose, Kubernetes and inspect front-ends.
//!
//! [`parse`] reads a stream of one or more documents into [`Node`]s that carry the byte [`Span`] of
//! every key and value, so a finding can point at the exact line and column that causes it. JSON is
//! read the same way (it is YAML's flow syntax).
//!
//! What the layer resolves, so that the front-ends never see it:
//!
//! - anchors and aliases: an alias is a copy of its anchor's node, spans included (a finding about a
//!   value defined once under `x-defaults: &defaults` points at that definition);
//! - `<<` merge keys, a single mapping or a list of mappings: the mapping's own keys win, then earlier
//!   mappings of the list over later ones (the YAML 1.1 merge-key type, which Compose and Kubernetes
//!   tools honour);
//! - duplicate keys: a located error (Compose and `kubectl` reject them); the first entry is kept;
//! - a line of a multi-line flow collection indented less than its block (`command: [` … `]` under the
//!   key): accepted, as the Go YAML library behind `docker compose` and `kubectl` accepts it.
//!
//! Scalars are kept as written (their text and whether they were quoted) and typed on demand by the
//! YAML 1.2 core schema ([`Node::as_bool`], [`Node::as_i64`]): a front-end decides how its format
//! reads `"true"` or `yes`.
//!
//! Hostile input is bounded ([`Limits`]): alias expansion is capped in nodes and in bytes (a "billion
//! laughs" stream, or one long scalar aliased thousands of times, fails with a located error instead
//! of exhausting memory) and nesting in depth (so neither
//! this layer nor the front-ends that walk the tree recursively can overflow the stack).
//!
//! Why not `saphyr`'s `MarkedYaml` loader: it types scalars eagerly (a plain `3.10` becomes the float
//! `3.1`, which Compose reads as the string `3.10`), does not resolve `<<`, counts positions in
//! characters, and bounds alias expansion but not the depth of the resulting tree. The event parser of
//! the same project (`saphyr-parser`, YAML 1.2 compliant, positions on every event) is used as is; this
//! module only builds the tree.

mod build;
mod offsets;

use compact_str::CompactString;
use leastpriv_source::{FileId, InputError, SourceFile, Span};

use crate::Lowered;

/// Bounds that keep hostile input from exhausting memory or the stack.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Maximum nesting of collections, counting the levels an alias brings with it.
    pub max_depth: usize,
    /// Maximum number of nodes that aliases may copy in one stream (merges reuse those copies).
    pub max_alias_nodes: usize,
    /// Maximum bytes that aliases may copy in one stream: scalar text plus the size of each node,
    /// so a 100 KB scalar aliased 30,000 times is refused as surely as a billion small nodes.
    pub max_alias_bytes: usize,
    /// Maximum number of nodes written in the input that one tree may hold: per document when
    /// documents are lowered one at a time ([`lower_each`]), per stream otherwise. A node costs
    /// about 64 bytes and YAML can write one per input byte (`{a,b,c…}`), so this, not the input's
    /// size, bounds the tree. Past it the rest of the stream is not read (a located error), and
    /// the document read so far is kept.
    pub max_nodes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_depth: 256,
            max_alias_nodes: 1_000_000,
            max_alias_bytes: 64 << 20,
            max_nodes: 1_000_000,
        }
    }
}

/// What a YAML stream holds.
#[derive(Debug, Default)]
pub struct Stream {
    /// Every document read in full, in order. An empty document is a [`Value::Null`] node.
    pub documents: Vec<Node>,
    /// Every problem, located. A syntax error or an exceeded limit ends the stream (the documents
    /// before it are kept); a duplicate key does not.
    pub errors: Vec<YamlError>,
}

/// A located problem in a YAML stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct YamlError {
    /// Where it is.
    pub span: Span,
    /// What is wrong, lowercase, no trailing period.
    pub message: String,
    /// Other places that explain it: the bracket of a flow collection left open.
    pub related: Vec<(Span, String)>,
}

impl YamlError {
    /// The error as an [`InputError`] of the file at `path`.
    pub fn into_input_error(self, path: &str) -> InputError {
        let mut error = InputError::at(path, self.span, self.message);
        error.related = self.related;
        error
    }
}

/// One node of a document: a value, where it is written and its tag.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    /// The value.
    pub value: Value,
    /// Where it is written: a scalar's text (quotes included), a collection from its first to its
    /// last item. An empty value (`key:`) has an empty span just after its key.
    pub span: Span,
    /// Its tag, as written for local tags (`!reset`, `!override`) and as `!!str` for the YAML core
    /// tags; `None` when untagged.
    pub tag: Option<Box<str>>,
}

/// What a node holds.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// `null`, `~` or nothing.
    Null,
    /// Text, as written.
    Scalar(Scalar),
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping, in file order, merge keys resolved.
    Map(Vec<Entry>),
}

/// A scalar's text and whether it can only be a string.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scalar {
    /// The text after unquoting and folding. Most scalars are short (`80`, `true`, a key): a
    /// [`CompactString`] keeps up to 24 bytes inline, where a `String` took a heap block each.
    pub text: CompactString,
    /// True for quoted and block scalars and `!!str`: they are strings whatever their text.
    pub quoted: bool,
}

/// One `key: value` pair of a mapping.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    /// The key node.
    pub key: Node,
    /// The value node.
    pub value: Node,
}

/// Parses a YAML (or JSON) stream of `file`.
pub fn parse(text: &str, file: FileId) -> Stream {
    parse_with_limits(text, file, Limits::default())
}

/// Parses `file` for a front-end that lowers each document on its own (Kubernetes, `docker inspect`):
/// `lower` gets each document as soon as it is read and the tree is dropped once it returns, so a
/// stream of many documents never holds more than one tree. The [`Lowered`] holds the stream's
/// located errors.
pub(crate) fn lower_each(
    source: &SourceFile,
    file: FileId,
    mut lower: impl FnMut(Node, &mut Lowered),
) -> Lowered {
    let mut lowered = Lowered::default();
    let errors = build::build(
        source.text(),
        file,
        Limits::default(),
        build::NodeCount::PerDocument,
        &mut |document| lower(document, &mut lowered),
    );
    lowered.errors.extend(
        errors
            .into_iter()
            .map(|error| error.into_input_error(source.path())),
    );
    lowered
}

/// Parses a YAML (or JSON) stream of `file` within `limits`.
pub fn parse_with_limits(text: &str, file: FileId, limits: Limits) -> Stream {
    let mut documents = Vec::new();
    let errors = build::build(
        text,
        file,
        limits,
        build::NodeCount::PerStream,
        &mut |document| documents.push(document),
    );
    Stream { documents, errors }
}

impl Node {
    /// The entries of a mapping.
    pub fn as_map(&self) -> Option<&[Entry]> {
        match &self.value {
            Value::Map(entries) => Some(entries),
            _ => None,
        }
    }

    /// The entries of a mapping, to take values out of it.
    pub fn as_map_mut(&mut self) -> Option<&mut Vec<Entry>> {
        match &mut self.value {
            Value::Map(entries) => Some(entries),
            _ => None,
        }
    }

    /// A null node at `span`: what a value taken out of a tree leaves in its place.
    pub fn null(span: Span) -> Node {
        Node {
            value: Value::Null,
            span,
            tag: None,
        }
    }

    /// The items of a sequence.
    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.value {
            Value::Seq(items) => Some(items),
            _ => None,
        }
    }

    /// The text of any scalar (`80`, `true` and `"true"` alike); `None` for null and collections.
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Scalar(scalar) => Some(&scalar.text),
            _ => None,
        }
    }

    /// A boolean by the YAML 1.2 core schema (`true`, `True`, `TRUE` and the `false` forms), also when
    /// quoted: formats such as Compose accept `"true"` where a boolean is expected.
    pub fn as_bool(&self) -> Option<bool> {
        match self.as_str()? {
            "true" | "True" | "TRUE" => Some(true),
            "false" | "False" | "FALSE" => Some(false),
            _ => None,
        }
    }

    /// An integer by the YAML 1.2 core schema (decimal with an optional sign, `0o` octal, `0x` hex),
    /// also when quoted (`"8080"`).
    pub fn as_i64(&self) -> Option<i64> {
        parse_core_int(self.as_str()?.trim())
    }

    /// Whether the node is null (`null`, `~`, an empty value).
    pub fn is_null(&self) -> bool {
        matches!(self.value, Value::Null)
    }

    /// The value of `key` in a mapping, compared with each scalar key's text.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|entry| &entry.value)
    }

    /// The entry of `key` in a mapping, for the key's own span.
    pub fn entry(&self, key: &str) -> Option<&Entry> {
        self.as_map()?
            .iter()
            .find(|entry| entry.key.as_str() == Some(key))
    }

    /// Whether the node carries `tag` (`"!reset"`, `"!override"`, `"!!str"`).
    pub fn has_tag(&self, tag: &str) -> bool {
        self.tag.as_deref() == Some(tag)
    }

    /// A short name of the node's kind for messages: `mapping`, `sequence`, `scalar`, `null`.
    pub fn kind_name(&self) -> &'static str {
        match self.value {
            Value::Null => "null",
            Value::Scalar(_) => "scalar",
            Value::Seq(_) => "sequence",
            Value::Map(_) => "mapping",
        }
    }
}

fn parse_core_int(text: &str) -> Option<i64> {
    if let Some(octal) = text.strip_prefix("0o") {
        return i64::from_str_radix(octal, 8).ok();
    }
    if let Some(hex) = text.strip_prefix("0x") {
        return i64::from_str_radix(hex, 16).ok();
    }
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

#[cfg(test)]
mod tests;
