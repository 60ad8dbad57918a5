//! Builds [`Node`] trees from the parser's events: spans in bytes, aliases copied within the node
//! budget, nesting bounded, merge keys resolved, duplicate keys reported.
//!
//! The builder is iterative (a stack of open collections), so the parser's input depth never turns
//! into recursion here; the depth bound also covers the levels an alias copies in, so every tree it
//! returns can be walked recursively.

use std::collections::{HashMap, HashSet};

use compact_str::CompactString;
use leastpriv_source::{FileId, LineIndex, Span, TextRange};
use saphyr_parser::{Event, Parser, ScalarStyle, Tag};

use super::offsets::CharOffsets;
use super::{Entry, Limits, Node, Scalar, Value, YamlError};

/// Past this many errors in one stream, further ones are dropped: a file with a million duplicate
/// keys must not produce a million messages.
const MAX_ERRORS: usize = 100;

/// What one node costs besides its text, for the alias byte bound.
const NODE_BYTES: usize = std::mem::size_of::<Node>();

/// Above this many keys a mapping's duplicate check uses a hash set rather than a scan.
const LINEAR_KEY_SCAN: usize = 16;

/// A finished node with the facts the bounds need.
#[derive(Clone)]
struct Built {
    node: Node,
    /// Nodes in the subtree, itself included.
    size: usize,
    /// Bytes the subtree holds: its scalars' text and a node's size per node.
    bytes: usize,
    /// Levels of collections in the subtree (0 for a scalar).
    height: usize,
}

enum Items {
    Seq(Vec<Node>),
    Map {
        entries: Vec<Entry>,
        pending_key: Option<Node>,
    },
}

/// A collection whose end event has not come yet.
struct Frame {
    items: Items,
    /// The column (in characters) of the bracket of a flow collection.
    flow_column: Option<usize>,
    /// The byte offset of the bracket of a flow collection.
    bracket: Option<usize>,
    start: usize,
    last_end: usize,
    anchor: usize,
    tag: Option<Box<str>>,
    size: usize,
    bytes: usize,
    height: usize,
}

struct Builder<'a, 's> {
    text: &'a str,
    file: FileId,
    offsets: CharOffsets,
    lines: LineIndex,
    limits: Limits,
    stack: Vec<Frame>,
    anchors: HashMap<usize, Built>,
    alias_nodes: usize,
    alias_bytes: usize,
    errors: Vec<YamlError>,
    node_count: NodeCount,
    /// Nodes read (not copied by aliases) in the tree being built, against `limits.max_nodes`.
    nodes: usize,
    /// Set when `max_nodes` stopped the stream: the open document is kept as read so far.
    truncated: bool,
    /// Takes each document as soon as it is complete, so that a caller that lowers documents one at
    /// a time never holds the trees of the others.
    on_document: &'s mut dyn FnMut(Node),
}

/// Why the stream stops.
struct Fatal(YamlError);

/// What [`Limits::max_nodes`] counts.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum NodeCount {
    /// The nodes of each document: its tree is dropped before the next is read.
    PerDocument,
    /// The nodes of the whole stream, whose documents are all kept.
    PerStream,
}

/// Re-parses allowed per stream to accept dedented flow lines (see [`build`]).
const MAX_FLOW_PATCHES: usize = 16;

/// Builds the stream of `text`, handing each document to `on_document` as soon as it is complete;
/// returns the stream's errors.
///
/// YAML requires the lines of a multi-line flow collection to be indented more than the block that
/// holds it, and `saphyr-parser` enforces it; the Go YAML library behind `docker compose` and
/// `kubectl` does not, and real files close `command: [` with a `]` under the key. When the parser
/// rejects such a line, the line is indented up to its bracket in a copy of the text and the stream
/// is parsed again; spans are mapped back to the original text. The documents handed over before
/// the rejected line end before it, so the insertions known then are all that move their spans, and
/// a parse again skips them rather than handing them over twice.
pub(super) fn build(
    text: &str,
    file: FileId,
    limits: Limits,
    node_count: NodeCount,
    on_document: &mut dyn FnMut(Node),
) -> Vec<YamlError> {
    let mut insertions: Vec<(usize, usize)> = Vec::new();
    let mut patched = std::borrow::Cow::Borrowed(text);
    if let Some(bracket) = top_level_flow_bracket(text) {
        let mut text = String::with_capacity(text.len() + DOCUMENT_MARKER.len());
        text.push_str(&patched[..bracket]);
        text.push_str(DOCUMENT_MARKER);
        text.push_str(&patched[bracket..]);
        insertions.push((bracket, DOCUMENT_MARKER.len()));
        patched = std::borrow::Cow::Owned(text);
    }
    let mut handed_over = 0;
    loop {
        let mut seen = 0;
        let mut deliver = |mut document: Node| {
            seen += 1;
            if seen > handed_over {
                handed_over += 1;
                if !insertions.is_empty() {
                    remap_node(&mut document, &insertions);
                }
                on_document(document);
            }
        };
        let (mut errors, retry) = build_once(&patched, file, limits, node_count, &mut deliver);
        match retry {
            Some((offset, spaces)) if insertions.len() < MAX_FLOW_PATCHES => {
                let mut text = patched.into_owned();
                text.insert_str(offset, &" ".repeat(spaces));
                for insertion in &mut insertions {
                    if insertion.0 >= offset {
                        insertion.0 += spaces;
                    }
                }
                insertions.push((offset, spaces));
                insertions.sort_unstable();
                patched = std::borrow::Cow::Owned(text);
            }
            _ => {
                if !insertions.is_empty() {
                    remap_errors(&mut errors, &insertions);
                }
                return errors;
            }
        }
    }
}

/// Put before a document that is one flow collection (JSON): see [`top_level_flow_bracket`].
const DOCUMENT_MARKER: &str = "--- ";

/// The offset of the bracket that opens a document made of one flow collection, as JSON is
/// (`{"apiVersion": …}`, `[…]`): nothing but blank space before it, and the text ends with the
/// matching bracket (so `[a, b]: c` is left alone; only a collection used as the key of another
/// one, `{a: 1}: {b: 2}`, would be misread, and no configuration file writes that).
///
/// A collection at the start of a line in block context could be the key of a block mapping
/// (`[a, b]: value`), so `saphyr-parser` keeps every token of it queued until it sees what follows
/// its closing bracket: a JSON file of 8 MiB was held whole as tokens, about 250 bytes per value,
/// before the first event came out, and no bound on the tree could stop it. After a `---` marker on
/// the same line no key can start, so the tokens stream out as they are read; the marker changes
/// nothing else (a document may always start with one), and spans are mapped back past it.
fn top_level_flow_bracket(text: &str) -> Option<usize> {
    let bracket = text.find(|c: char| !c.is_whitespace())?;
    let starts_line = bracket == 0 || text.as_bytes()[bracket - 1] == b'\n';
    let closing = match text[bracket..].chars().next()? {
        '{' => '}',
        '[' => ']',
        _ => return None,
    };
    (starts_line && text.trim_end().ends_with(closing)).then_some(bracket)
}

/// One parse: its errors, and where to indent a rejected flow line (byte offset, spaces) when that
/// is why it stopped.
fn build_once(
    text: &str,
    file: FileId,
    limits: Limits,
    node_count: NodeCount,
    on_document: &mut dyn FnMut(Node),
) -> (Vec<YamlError>, Option<(usize, usize)>) {
    let mut builder = Builder {
        text,
        file,
        offsets: CharOffsets::new(text),
        lines: LineIndex::new(text),
        limits,
        stack: Vec::new(),
        anchors: HashMap::new(),
        alias_nodes: 0,
        alias_bytes: 0,
        errors: Vec::new(),
        node_count,
        nodes: 0,
        truncated: false,
        on_document,
    };
    let mut parser = Parser::new_from_str(text);
    let mut retry = None;
    while let Some(next) = parser.next_event() {
        let step = match next {
            Ok((event, span)) => {
                let range = builder.range(span.start.index(), span.end.index());
                builder.on_event(event, range)
            }
            Err(error) => {
                retry =
                    builder.flow_patch(error.marker().index(), error.marker().col(), error.info());
                let scanned = builder.scan_error(error.marker().index(), error.info());
                Err(Fatal(builder.in_open_flow(scanned)))
            }
        };
        if let Err(Fatal(error)) = step {
            builder.push_error(error);
            if builder.truncated {
                builder.close_open_document();
            }
            break;
        }
    }
    (builder.errors, retry)
}

/// Maps the spans of `errors` from the patched text back to the original.
fn remap_errors(errors: &mut [YamlError], insertions: &[(usize, usize)]) {
    for error in errors {
        error.span.range = remap_range(error.span.range, insertions);
        for (span, _) in &mut error.related {
            span.range = remap_range(span.range, insertions);
        }
    }
}

fn remap_node(node: &mut Node, insertions: &[(usize, usize)]) {
    node.span.range = remap_range(node.span.range, insertions);
    match &mut node.value {
        Value::Map(entries) => {
            for entry in entries {
                remap_node(&mut entry.key, insertions);
                remap_node(&mut entry.value, insertions);
            }
        }
        Value::Seq(items) => {
            for item in items {
                remap_node(item, insertions);
            }
        }
        Value::Null | Value::Scalar(_) => {}
    }
}

fn remap_range(range: TextRange, insertions: &[(usize, usize)]) -> TextRange {
    let original = |offset: usize| {
        let mut shift = 0;
        for &(position, count) in insertions {
            if offset >= position + count {
                shift += count;
            } else if offset > position {
                return position - shift;
            } else {
                break;
            }
        }
        offset - shift
    };
    TextRange::new(original(range.start as usize), original(range.end as usize))
}

impl Builder<'_, '_> {
    fn range(&self, start_char: usize, end_char: usize) -> TextRange {
        TextRange::new(self.offsets.byte(start_char), self.offsets.byte(end_char))
    }

    fn span(&self, range: TextRange) -> Span {
        Span::new(self.file, range)
    }

    fn error(&self, range: TextRange, message: impl Into<String>) -> YamlError {
        YamlError {
            span: self.span(range),
            message: message.into(),
            related: Vec::new(),
        }
    }

    fn push_error(&mut self, error: YamlError) {
        if self.errors.len() < MAX_ERRORS {
            self.errors.push(error);
        }
    }

    /// Where to indent, and by how much, a line of a flow collection the parser rejected for its
    /// indentation (see [`build`]).
    fn flow_patch(&self, char_index: usize, column: usize, info: &str) -> Option<(usize, usize)> {
        let bracket = self.stack.last()?.flow_column?;
        (info == "invalid indentation" && column <= bracket)
            .then(|| (self.offsets.byte(char_index), bracket + 1 - column))
    }

    /// A syntax error at the parser's position. A tab error is moved back onto the tab itself (the
    /// parser reports the character after it).
    fn scan_error(&self, char_index: usize, info: &str) -> YamlError {
        let mut offset = self.offsets.byte(char_index);
        if info.contains("tab") {
            let bytes = self.text.as_bytes();
            while offset > 0 && bytes.get(offset - 1) == Some(&b'\t') {
                offset -= 1;
            }
        }
        self.error(TextRange::empty(offset), format!("invalid YAML: {info}"))
    }

    /// A syntax error inside a flow collection (`[`, `{`) that is still open also points at its
    /// bracket. When the file ends before the bracket is closed, the bracket is the place to fix:
    /// it leads, and the end of the file follows.
    fn in_open_flow(&self, mut error: YamlError) -> YamlError {
        let Some(bracket) = self.stack.iter().rev().find_map(|frame| frame.bracket) else {
            return error;
        };
        let opener = &self.text[bracket..=bracket];
        let kind = if opener == "[" { "sequence" } else { "mapping" };
        let bracket_span = self.span(TextRange::new(bracket, bracket + 1));
        let at_end = self.text[error.span.range.start as usize..]
            .trim()
            .is_empty();
        if at_end {
            let end = error.span;
            let detail = error
                .message
                .strip_prefix("invalid YAML: ")
                .unwrap_or(&error.message)
                .to_owned();
            error.span = bracket_span;
            error.message = format!(
                "invalid YAML: the flow {kind} opened by this `{opener}` is never closed ({detail})"
            );
            error.related.push((end, "the file ends here".to_owned()));
        } else {
            error.related.push((
                bracket_span,
                format!("inside the flow {kind} opened by this `{opener}`"),
            ));
        }
        error
    }

    fn on_event(&mut self, event: Event<'_>, range: TextRange) -> Result<(), Fatal> {
        match event {
            Event::DocumentStart(_) => {
                self.anchors.clear();
                if self.node_count == NodeCount::PerDocument {
                    self.nodes = 0;
                }
            }
            Event::Nothing | Event::StreamStart | Event::StreamEnd | Event::DocumentEnd => {}
            Event::Scalar(text, style, anchor, tag) => {
                self.count_node(range)?;
                let bytes = NODE_BYTES + text.len();
                // A copy, not the scanner's string: that one reserves room ahead (a file of
                // two-byte items, `[1,1,…]`, held 130 bytes of capacity per item), and a short
                // scalar is kept inline.
                let text = CompactString::from(&*text);
                let node = self.scalar(text, style, tag.as_deref(), range);
                self.finish(
                    Built {
                        node,
                        size: 1,
                        bytes,
                        height: 0,
                    },
                    anchor,
                )?;
            }
            Event::Alias(id) => {
                let built = self.alias(id, range)?;
                self.finish(built, 0)?;
            }
            Event::SequenceStart(anchor, tag) => {
                self.open(Items::Seq(Vec::new()), anchor, tag, range)?
            }
            Event::MappingStart(anchor, tag) => self.open(
                Items::Map {
                    entries: Vec::new(),
                    pending_key: None,
                },
                anchor,
                tag,
                range,
            )?,
            Event::SequenceEnd | Event::MappingEnd => {
                let Some(frame) = self.stack.pop() else {
                    return Err(Fatal(
                        self.error(range, "invalid YAML: unbalanced collection end"),
                    ));
                };
                let anchor = frame.anchor;
                let built = self.close(frame, range);
                self.finish(built, anchor)?;
            }
        }
        Ok(())
    }

    fn scalar(
        &self,
        text: CompactString,
        style: ScalarStyle,
        tag: Option<&Tag>,
        range: TextRange,
    ) -> Node {
        let mut range = range;
        if matches!(style, ScalarStyle::Literal | ScalarStyle::Folded) {
            // A block scalar's event runs to the next token; the value ends at its last character.
            let trimmed = self.text.get(range.to_range()).map_or(0, |slice| {
                slice.len() - slice.trim_end_matches([' ', '\t', '\r', '\n']).len()
            });
            range = TextRange::new(range.start as usize, range.end as usize - trimmed);
        }
        let tag = tag.map(tag_name);
        let is_str_tag = tag.as_deref() == Some("!!str");
        let plain = matches!(style, ScalarStyle::Plain) && !is_str_tag;
        let is_null = tag.as_deref() == Some("!!null")
            || (plain && matches!(text.as_str(), "" | "~" | "null" | "Null" | "NULL"));
        let value = if is_null {
            Value::Null
        } else {
            Value::Scalar(Scalar {
                text,
                quoted: !plain,
            })
        };
        Node {
            value,
            span: self.span(range),
            tag,
        }
    }

    fn alias(&mut self, id: usize, range: TextRange) -> Result<Built, Fatal> {
        let Some(anchored) = self.anchors.get(&id) else {
            return Err(Fatal(
                self.error(range, "alias to an anchor of another document"),
            ));
        };
        self.alias_nodes = self.alias_nodes.saturating_add(anchored.size);
        self.alias_bytes = self.alias_bytes.saturating_add(anchored.bytes);
        if self.alias_nodes > self.limits.max_alias_nodes {
            return Err(Fatal(self.error(
                range,
                format!(
                    "aliases expand to more than {} nodes; not read",
                    self.limits.max_alias_nodes
                ),
            )));
        }
        if self.alias_bytes > self.limits.max_alias_bytes {
            return Err(Fatal(self.error(
                range,
                format!(
                    "aliases expand to more than {} MiB; not read",
                    self.limits.max_alias_bytes >> 20
                ),
            )));
        }
        if self.stack.len() + anchored.height > self.limits.max_depth {
            return Err(Fatal(self.depth_error(range)));
        }
        Ok(anchored.clone())
    }

    /// Counts one node read from the input against [`Limits::max_nodes`].
    fn count_node(&mut self, range: TextRange) -> Result<(), Fatal> {
        self.nodes += 1;
        if self.nodes <= self.limits.max_nodes {
            return Ok(());
        }
        self.truncated = true;
        let scope = match self.node_count {
            NodeCount::PerDocument => "one document",
            NodeCount::PerStream => "one file",
        };
        Err(Fatal(self.error(
            TextRange::empty(range.start as usize),
            format!(
                "more than {} YAML values in {scope}; the rest of the file is not read",
                self.limits.max_nodes
            ),
        )))
    }

    /// Closes every collection still open, so that the document read up to a bound is kept (with
    /// the bound's error) rather than lost with everything in it.
    fn close_open_document(&mut self) {
        while let Some(frame) = self.stack.pop() {
            let built = self.close(frame, TextRange::empty(0));
            // Anchors are not recorded: nothing after this point is read.
            if self.finish(built, 0).is_err() {
                return;
            }
        }
    }

    fn depth_error(&self, range: TextRange) -> YamlError {
        self.error(
            range,
            format!(
                "nesting deeper than {} levels; not read",
                self.limits.max_depth
            ),
        )
    }

    fn open(
        &mut self,
        items: Items,
        anchor: usize,
        tag: Option<std::borrow::Cow<'_, Tag>>,
        range: TextRange,
    ) -> Result<(), Fatal> {
        self.count_node(range)?;
        if self.stack.len() >= self.limits.max_depth {
            return Err(Fatal(self.depth_error(range)));
        }
        let bracket = self
            .text
            .get(range.to_range())
            .is_some_and(|opening| opening.ends_with(['[', '{']));
        let bracket = bracket.then(|| range.end as usize - 1);
        // A lookup, not a scan back to the line start: a one-line JSON file opens thousands of
        // collections on one line.
        let flow_column = bracket
            .map(|bracket_at| self.lines.line_column(self.text, bracket_at).column as usize - 1);
        self.stack.push(Frame {
            items,
            flow_column,
            bracket,
            start: range.start as usize,
            last_end: range.end as usize,
            anchor,
            tag: tag.as_deref().map(tag_name),
            size: 1,
            bytes: NODE_BYTES,
            height: 1,
        });
        Ok(())
    }

    fn close(&mut self, frame: Frame, end_range: TextRange) -> Built {
        // A flow collection ends at its bracket; a block one at its last item (its end event sits
        // at the next token, possibly lines later).
        let end = if end_range.is_empty() {
            frame.last_end
        } else {
            end_range.end as usize
        };
        let span = self.span(TextRange::new(frame.start, end.max(frame.start)));
        let value = match frame.items {
            Items::Seq(items) => Value::Seq(items),
            Items::Map {
                entries,
                pending_key,
            } => {
                let mut entries = entries;
                if let Some(key) = pending_key {
                    // The parser always pairs keys with values; kept rather than lost if not.
                    let value = Node {
                        value: Value::Null,
                        span: Span::new(self.file, TextRange::empty(key.span.range.end as usize)),
                        tag: None,
                    };
                    entries.push(Entry { key, value });
                }
                Value::Map(self.resolve_mapping(entries))
            }
        };
        Built {
            node: Node {
                value,
                span,
                tag: frame.tag,
            },
            size: frame.size,
            bytes: frame.bytes,
            height: frame.height,
        }
    }

    /// Places a finished node in its parent (or as a document) and records its anchor.
    fn finish(&mut self, built: Built, anchor: usize) -> Result<(), Fatal> {
        if anchor > 0 {
            self.anchors.insert(anchor, built.clone());
        }
        let Some(frame) = self.stack.last_mut() else {
            (self.on_document)(built.node);
            return Ok(());
        };
        frame.size = frame.size.saturating_add(built.size);
        frame.bytes = frame.bytes.saturating_add(built.bytes);
        frame.height = frame.height.max(built.height + 1);
        frame.last_end = frame.last_end.max(built.node.span.range.end as usize);
        match &mut frame.items {
            Items::Seq(items) => items.push(built.node),
            Items::Map {
                entries,
                pending_key,
            } => match pending_key.take() {
                None => *pending_key = Some(built.node),
                Some(key) => entries.push(Entry {
                    key,
                    value: built.node,
                }),
            },
        }
        Ok(())
    }

    /// Drops duplicate keys (reporting each) and expands `<<` merge keys.
    fn resolve_mapping(&mut self, entries: Vec<Entry>) -> Vec<Entry> {
        let (merges, explicit): (Vec<Entry>, Vec<Entry>) = entries
            .into_iter()
            .partition(|entry| is_merge_key(&entry.key));
        let mut kept = Vec::with_capacity(explicit.len());
        let mut seen = KeySet::default();
        for entry in explicit {
            match key_text(&entry.key) {
                Some(text) if seen.contains(text, &kept) => {
                    if self.errors.len() < MAX_ERRORS {
                        let first = kept
                            .iter()
                            .find(|kept| key_text(&kept.key) == Some(text))
                            .map_or(0, |kept| kept.key.span.range.start as usize);
                        let message = format!(
                            "duplicate key `{text}` (first defined on line {})",
                            self.line_of(first)
                        );
                        let error = self.error(entry.key.span.range, message);
                        self.push_error(error);
                    }
                }
                _ => {
                    kept.push(entry);
                    seen.record(&kept);
                }
            }
        }
        for merge in merges {
            let sources = match merge.value.value {
                Value::Map(entries) => vec![entries],
                Value::Seq(items) => {
                    let mut sources = Vec::with_capacity(items.len());
                    for item in items {
                        match item.value {
                            Value::Map(entries) => sources.push(entries),
                            _ => {
                                let error = self.error(
                                    item.span.range,
                                    "a `<<` merge list must hold only mappings",
                                );
                                self.push_error(error);
                            }
                        }
                    }
                    sources
                }
                _ => {
                    let error = self.error(
                        merge.value.span.range,
                        "a `<<` merge key needs a mapping or a list of mappings",
                    );
                    self.push_error(error);
                    Vec::new()
                }
            };
            for source in sources {
                for entry in source {
                    let present =
                        key_text(&entry.key).is_some_and(|text| seen.contains(text, &kept));
                    if !present {
                        kept.push(entry);
                        seen.record(&kept);
                    }
                }
            }
        }
        kept
    }

    /// The 1-based line of a byte offset, for messages that name another place.
    fn line_of(&self, offset: usize) -> usize {
        self.lines.line_of(offset) + 1
    }
}

/// The keys of a mapping being built: a scan while it is small, a hash set once it is not.
#[derive(Default)]
struct KeySet {
    hashed: Option<HashSet<String>>,
}

impl KeySet {
    fn contains(&self, text: &str, kept: &[Entry]) -> bool {
        match &self.hashed {
            Some(set) => set.contains(text),
            None => kept.iter().any(|entry| key_text(&entry.key) == Some(text)),
        }
    }

    /// Records the entry just pushed onto `kept`.
    fn record(&mut self, kept: &[Entry]) {
        match &mut self.hashed {
            Some(set) => {
                if let Some(text) = kept.last().and_then(|entry| key_text(&entry.key)) {
                    set.insert(text.to_owned());
                }
            }
            None if kept.len() > LINEAR_KEY_SCAN => {
                self.hashed = Some(
                    kept.iter()
                        .filter_map(|entry| key_text(&entry.key))
                        .map(str::to_owned)
                        .collect(),
                );
            }
            None => {}
        }
    }
}

/// The text a key is compared by: a scalar's text, `null` for an empty key; collections as keys are
/// never compared.
fn key_text(key: &Node) -> Option<&str> {
    match &key.value {
        Value::Scalar(scalar) => Some(&scalar.text),
        Value::Null => Some("null"),
        Value::Seq(_) | Value::Map(_) => None,
    }
}

fn is_merge_key(key: &Node) -> bool {
    match &key.value {
        Value::Scalar(scalar) => {
            scalar.text == "<<"
                && (!scalar.quoted && key.tag.is_none() || key.tag.as_deref() == Some("!!merge"))
        }
        _ => false,
    }
}

/// A tag as written: `!!name` for the YAML core tags, `!name` (or the full URI) otherwise.
fn tag_name(tag: &Tag) -> Box<str> {
    if tag.handle == "tag:yaml.org,2002:" {
        format!("!!{}", tag.suffix).into_boxed_str()
    } else {
        format!("{}{}", tag.handle, tag.suffix).into_boxed_str()
    }
}
