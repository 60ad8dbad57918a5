//! Edits of a YAML text at its nodes' spans, shared by the Compose and Kubernetes fixers.
//!
//! A YAML document is never re-serialised: an edit replaces, inserts or deletes the bytes of one
//! node, in the style the node is written in (block or flow), with the file's indentation and line
//! ending, so comments, quoting, key order, anchors and everything else stay byte for byte.
//!
//! The tree is [`leastpriv_frontend::yaml`]'s: aliases are copies of their anchor's node, spans
//! included, and `<<` merge keys are resolved into the mapping. So a node may be written elsewhere
//! than where it is used. [`Yaml::placement`] tells which: a value written under its own key can be
//! edited; an alias or a merged entry cannot be edited in place (the edit would land in the anchor and
//! change every alias of it); an anchored value that something aliases cannot either. Fixers then
//! write the setting as the container's own key (own keys win over merged ones), or leave the remedy
//! with [`crate::LeftReason::Anchored`].

use leastpriv_frontend::yaml::{Entry, Node, Value};

use crate::edit::Edit;

/// A value to write, rendered in the style of the place it goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NewValue {
    /// A string, written plain when YAML reads it back as the same string, else double-quoted.
    Str(String),
    /// A boolean or a number: written plain.
    Plain(String),
    /// Source text copied as written (an item kept from a merged sequence).
    Raw(String),
    /// A sequence.
    Seq(Vec<NewValue>),
    /// A mapping, keys in order.
    Map(Vec<(String, NewValue)>),
}

impl NewValue {
    /// A string.
    pub fn str(text: impl Into<String>) -> Self {
        NewValue::Str(text.into())
    }

    /// A sequence of strings.
    pub fn strings<S: Into<String>>(items: impl IntoIterator<Item = S>) -> Self {
        NewValue::Seq(
            items
                .into_iter()
                .map(|item| NewValue::Str(item.into()))
                .collect(),
        )
    }
}

/// Where a mapping entry's value is written, relative to the key that uses it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Placement {
    /// Under its key, and nothing else refers to it: editable.
    Own,
    /// Under its key with an anchor (`&name`) that aliases elsewhere refer to: an edit would change
    /// them all.
    AliasedAnchor(String),
    /// An alias (`*name`) or an entry merged from one (`<<: *name`): written elsewhere.
    Elsewhere,
}

/// A YAML text being edited: its style, detected once.
pub struct Yaml<'t> {
    text: &'t str,
    /// `\r\n` when the text uses CRLF line endings.
    newline: &'static str,
    /// Spaces from a mapping key to the `-` of its block sequence value (0 or 2 in practice).
    sequence_indent: usize,
    /// Spaces from a mapping key to the keys of its block mapping value.
    mapping_indent: usize,
}

impl<'t> Yaml<'t> {
    /// Detects the style of `text`, whose documents are `documents`.
    pub fn new(text: &'t str, documents: &[Node]) -> Self {
        let mut yaml = Self {
            text,
            newline: if text.contains("\r\n") { "\r\n" } else { "\n" },
            sequence_indent: 2,
            mapping_indent: 2,
        };
        let mut sequence = None;
        let mut mapping = None;
        for document in documents {
            yaml.detect(document, &mut sequence, &mut mapping, 0);
        }
        yaml.sequence_indent = sequence.unwrap_or(2);
        yaml.mapping_indent = mapping.filter(|&indent| indent > 0).unwrap_or(2);
        yaml
    }

    /// The first block sequence and block mapping found under a key decide the indentation.
    fn detect(
        &self,
        node: &Node,
        sequence: &mut Option<usize>,
        mapping: &mut Option<usize>,
        depth: usize,
    ) {
        if depth > 64 || (sequence.is_some() && mapping.is_some()) {
            return;
        }
        let Some(entries) = node.as_map() else {
            if let Some(items) = node.as_seq() {
                for item in items {
                    self.detect(item, sequence, mapping, depth + 1);
                }
            }
            return;
        };
        for entry in entries {
            if self.placement(entry) == Placement::Elsewhere || self.is_flow(&entry.value) {
                continue;
            }
            let key_column = self.column(entry.key.span.range.start as usize);
            match &entry.value.value {
                Value::Seq(items) if sequence.is_none() => {
                    if let Some(dash) = items.first().and_then(|item| self.dash_before(item)) {
                        *sequence = self.column(dash).checked_sub(key_column);
                    }
                }
                Value::Map(children) if mapping.is_none() => {
                    if let Some(first) = children
                        .iter()
                        .find(|child| self.is_own(&entry.value, child))
                    {
                        *mapping = self
                            .column(first.key.span.range.start as usize)
                            .checked_sub(key_column);
                    }
                }
                _ => {}
            }
            self.detect(&entry.value, sequence, mapping, depth + 1);
        }
    }

    /// The source text of a node, as written.
    pub fn source(&self, node: &Node) -> &'t str {
        self.text
            .get(node.span.range.to_range())
            .unwrap_or_default()
    }

    /// Where `entry`'s value is written.
    pub fn placement(&self, entry: &Entry) -> Placement {
        let key_end = entry.key.span.range.end as usize;
        let value_start = entry.value.span.range.start as usize;
        if entry.value.span.range.start < entry.key.span.range.start || value_start < key_end {
            return Placement::Elsewhere;
        }
        let between = self.text.get(key_end..value_start).unwrap_or_default();
        if between.contains('*') {
            return Placement::Elsewhere;
        }
        match self.anchor_of(&entry.value) {
            Some(name) if self.is_aliased(name) => Placement::AliasedAnchor(name.to_owned()),
            _ => Placement::Own,
        }
    }

    /// Whether `entry` of `map` is written in `map` itself (not merged in with `<<`).
    pub fn is_own(&self, map: &Node, entry: &Entry) -> bool {
        let span = map.span.range;
        entry.key.span.range.start >= span.start && entry.key.span.range.end <= span.end
    }

    /// The anchor name a node is written with (`&name` at its start).
    fn anchor_of(&self, node: &Node) -> Option<&'t str> {
        let rest = self
            .text
            .get(node.span.range.start as usize..)?
            .strip_prefix('&')?;
        let end = rest
            .find(|c: char| c.is_whitespace() || matches!(c, ',' | '[' | ']' | '{' | '}'))
            .unwrap_or(rest.len());
        Some(&rest[..end])
    }

    fn is_aliased(&self, name: &str) -> bool {
        let alias = format!("*{name}");
        self.text.match_indices(&alias).any(|(at, _)| {
            let after = self.text[at + alias.len()..].chars().next();
            after.is_none_or(|c| c.is_whitespace() || matches!(c, ',' | ']' | '}'))
        })
    }

    /// Where a collection's own syntax starts: after its anchor and tag.
    fn content_start(&self, node: &Node) -> usize {
        let mut at = node.span.range.start as usize;
        loop {
            let rest = self.text.get(at..).unwrap_or_default();
            if rest.starts_with('&') || rest.starts_with('!') {
                let token = rest.find(char::is_whitespace).unwrap_or(rest.len());
                let spaces = rest[token..].len() - rest[token..].trim_start().len();
                at += token + spaces;
            } else {
                return at;
            }
        }
    }

    /// Whether a collection is written in flow style (`[…]`, `{…}`).
    pub fn is_flow(&self, node: &Node) -> bool {
        matches!(
            self.text.as_bytes().get(self.content_start(node)),
            Some(b'[' | b'{')
        )
    }

    /// The column (in characters) of byte `offset`.
    fn column(&self, offset: usize) -> usize {
        let line_start = self.line_start(offset);
        self.text[line_start..offset].chars().count()
    }

    fn line_start(&self, offset: usize) -> usize {
        self.text[..offset].rfind('\n').map_or(0, |at| at + 1)
    }

    /// The end of the line holding `offset`, before its line break.
    fn line_end(&self, offset: usize) -> usize {
        let end = self.text[offset..]
            .find('\n')
            .map_or(self.text.len(), |at| offset + at);
        if end > offset && self.text.as_bytes()[end - 1] == b'\r' {
            end - 1
        } else {
            end
        }
    }

    /// The offset after the line break that ends the line of `offset` (the text's end on the last
    /// line).
    fn next_line(&self, offset: usize) -> usize {
        self.text[offset..]
            .find('\n')
            .map_or(self.text.len(), |at| offset + at + 1)
    }

    /// The offset of the `-` of a block sequence item, when only spaces and the dash precede it on
    /// its line (`  - item`).
    fn dash_before(&self, item: &Node) -> Option<usize> {
        let start = item.span.range.start as usize;
        let before = &self.text[self.line_start(start)..start];
        let trimmed = before.trim_end();
        let dash = trimmed.strip_suffix('-')?;
        dash.chars()
            .all(|c| c == ' ' || c == '-')
            .then(|| self.line_start(start) + trimmed.len() - 1)
    }

    /// Sets `key` of `map` to `value`: replaces the value of an own entry, else inserts the key (an
    /// own key wins over one merged with `<<`). `None` when the map cannot be edited here (it is not
    /// a block or flow mapping as written, or the own entry's value is an alias).
    pub fn set(&self, map: &Node, key: &str, value: &NewValue) -> Option<Edit> {
        let entries = map.as_map()?;
        if let Some(entry) = entries
            .iter()
            .find(|entry| entry.key.as_str() == Some(key) && self.is_own(map, entry))
        {
            return self.replace_value(entry, value);
        }
        self.insert(map, key, value)
    }

    /// Replaces the value of `entry` (written under its key, see [`Yaml::placement`]).
    pub fn replace_value(&self, entry: &Entry, value: &NewValue) -> Option<Edit> {
        if self.placement(entry) != Placement::Own {
            return None;
        }
        let key_column = self.column(entry.key.span.range.start as usize);
        let flow = self.in_flow(entry.key.span.range.start as usize);
        let range = entry.value.span.range.to_range();
        if entry.value.is_null() && range.is_empty() {
            // `key:` with nothing (its empty span may sit before the colon): the value goes after
            // the colon.
            let key_end = entry.key.span.range.end as usize;
            let colon = key_end + self.text[key_end..].find(':')? + 1;
            let text = self.render_after_key(value, key_column, flow);
            return Some(Edit::insert(colon.max(range.start), text));
        }
        let block_collection = !flow
            && !self.is_flow(&entry.value)
            && matches!(entry.value.value, Value::Seq(_) | Value::Map(_));
        if block_collection {
            // From the end of the key's `:` to the end of the collection: the new value starts on
            // the key's line.
            let colon = self.text[entry.key.span.range.end as usize..]
                .find(':')
                .map(|at| entry.key.span.range.end as usize + at + 1)?;
            let end = entry.value.span.range.end as usize;
            return Some(Edit::replace(
                colon..end,
                self.render_after_key(value, key_column, flow),
            ));
        }
        Some(Edit::replace(range, self.render_flow(value)))
    }

    /// Whether `offset` is inside a flow collection: a `[` or `{` opened before it on its line, or
    /// the node containing it is flow. Only the line is looked at, which is what a fixer needs: keys
    /// it edits are on a line of their own in block style.
    fn in_flow(&self, offset: usize) -> bool {
        let before = &self.text[self.line_start(offset)..offset];
        let trimmed = before.trim_start();
        !(trimmed.is_empty() || trimmed.chars().all(|c| c == '-' || c == ' '))
            && (before.contains('{') || before.contains('[') || before.contains(','))
    }

    /// Inserts `key: value` into `map` (which must not hold `key` as its own already).
    pub fn insert(&self, map: &Node, key: &str, value: &NewValue) -> Option<Edit> {
        map.as_map()?;
        if self.is_flow(map) {
            let close = (map.span.range.end as usize).checked_sub(1)?;
            if self.text.as_bytes().get(close) != Some(&b'}') {
                return None;
            }
            let open = self.content_start(map);
            let inside = &self.text[open + 1..close];
            let last = inside.trim_end();
            let at = open + 1 + last.len();
            let entry = format!("{}: {}", render_key(key), self.render_flow(value));
            let text = if last.trim().is_empty() {
                entry
            } else if last.ends_with(',') {
                format!(" {entry}")
            } else {
                format!(", {entry}")
            };
            return Some(Edit::insert(at, text));
        }
        let entries = map.as_map()?;
        let first = entries.iter().find(|entry| self.is_own(map, entry))?;
        let column = self.column(first.key.span.range.start as usize);
        let end = self.line_end(map.span.range.end as usize);
        let mut text = String::from(self.newline);
        text.push_str(&" ".repeat(column));
        text.push_str(&render_key(key));
        text.push(':');
        text.push_str(&self.render_after_key(value, column, false));
        Some(Edit::insert(end, text))
    }

    /// Inserts several entries into `map` (which holds none of their keys as its own) as one edit:
    /// insertions at one place must be one edit, or they would conflict.
    pub fn insert_many(&self, map: &Node, entries: &[(String, NewValue)]) -> Option<Edit> {
        if self.is_flow(map) {
            // One entry of flow text, the separator written once.
            let (first, rest) = entries.split_first()?;
            let mut edit = self.insert(map, &first.0, &first.1)?;
            for (key, value) in rest {
                edit.text.push_str(&format!(
                    ", {}: {}",
                    render_key(key),
                    self.render_flow(value)
                ));
            }
            return Some(edit);
        }
        let mut edits = entries
            .iter()
            .map(|(key, value)| self.insert(map, key, value))
            .collect::<Option<Vec<Edit>>>()?
            .into_iter();
        let first = edits.next()?;
        edits.try_fold(first, |mut all, edit| {
            (edit.range == all.range).then(|| {
                all.text.push_str(&edit.text);
                all
            })
        })
    }

    /// Replaces the own entry `entry` (key and value) with `key: value`, at its place.
    pub fn replace_entry(
        &self,
        map: &Node,
        entry: &Entry,
        key: &str,
        value: &NewValue,
    ) -> Option<Edit> {
        if !self.is_own(map, entry) || self.placement(entry) != Placement::Own {
            return None;
        }
        let start = entry.key.span.range.start as usize;
        let end = (entry.value.span.range.end as usize).max(entry.key.span.range.end as usize);
        let flow = self.is_flow(map);
        let column = self.column(start);
        let text = format!(
            "{}:{}",
            render_key(key),
            self.render_after_key(value, column, flow)
        );
        Some(Edit::replace(start..end, text))
    }

    /// Appends `items` to the sequence `seq` (written under its key, see [`Yaml::placement`]).
    pub fn append(&self, seq: &Node, items: &[NewValue]) -> Option<Edit> {
        let existing = seq.as_seq()?;
        if items.is_empty() {
            return None;
        }
        if self.is_flow(seq) {
            let close = (seq.span.range.end as usize).checked_sub(1)?;
            if self.text.as_bytes().get(close) != Some(&b']') {
                return None;
            }
            let open = self.content_start(seq);
            let last = self.text[open + 1..close].trim_end();
            let at = open + 1 + last.len();
            let rendered: Vec<String> = items.iter().map(|item| self.render_flow(item)).collect();
            let joined = rendered.join(", ");
            let text = if last.trim().is_empty() {
                joined
            } else if last.ends_with(',') {
                format!(" {joined}")
            } else {
                format!(", {joined}")
            };
            return Some(Edit::insert(at, text));
        }
        let dash = self.dash_before(existing.first()?)?;
        let column = self.column(dash);
        let end = self.line_end(seq.span.range.end as usize);
        let mut text = String::new();
        for item in items {
            text.push_str(self.newline);
            text.push_str(&" ".repeat(column));
            text.push('-');
            text.push_str(&self.render_item(item, column));
        }
        Some(Edit::insert(end, text))
    }

    /// Removes the own entry `entry` of `map`: its lines in block style, the entry and a comma in
    /// flow style. `None` when it shares a line with something else in block style.
    pub fn remove_entry(&self, map: &Node, entry: &Entry) -> Option<Edit> {
        if !self.is_own(map, entry) {
            return None;
        }
        let start = entry.key.span.range.start as usize;
        let value_end =
            (entry.value.span.range.end as usize).max(entry.key.span.range.end as usize);
        // An alias value's span is its anchor's: the entry ends at the alias name.
        let end = if self.placement(entry) == Placement::Elsewhere {
            self.line_end(start)
        } else {
            value_end
        };
        if self.is_flow(map) {
            return Some(self.remove_flow_item(start, end));
        }
        self.remove_block_lines(start, end)
    }

    /// Removes `item` from the sequence `seq`.
    pub fn remove_item(&self, seq: &Node, item: &Node) -> Option<Edit> {
        let start = item.span.range.start as usize;
        let end = item.span.range.end as usize;
        if self.is_flow(seq) {
            return Some(self.remove_flow_item(start, end));
        }
        let dash = self.dash_before(item)?;
        self.remove_block_lines(dash, end)
    }

    /// Deletes whole lines from the one holding `start` to the one holding `end`, when only
    /// indentation (and a `-`) precede `start` and only a comment follows `end`.
    fn remove_block_lines(&self, start: usize, end: usize) -> Option<Edit> {
        let line_start = self.line_start(start);
        if !self.text[line_start..start].trim().is_empty() {
            return None;
        }
        let rest = self.text[end..self.line_end(end)].trim();
        if !(rest.is_empty() || rest.starts_with('#')) {
            return None;
        }
        Some(Edit::delete(line_start..self.next_line(end)))
    }

    /// Deletes a flow collection's item `start..end` with the comma that separates it.
    fn remove_flow_item(&self, start: usize, end: usize) -> Edit {
        let after = &self.text[end..];
        let trimmed = after.trim_start();
        if let Some(rest) = trimmed.strip_prefix(',') {
            let spaces = rest.len() - rest.trim_start().len();
            let comma_end = end + (after.len() - trimmed.len()) + 1 + spaces;
            return Edit::delete(start..comma_end);
        }
        let before = &self.text[..start];
        let trimmed = before.trim_end();
        match trimmed.strip_suffix(',') {
            Some(kept) => Edit::delete(kept.len()..end),
            None => Edit::delete(start..end),
        }
    }

    /// What follows `key:` for a value in block style at `column` (the key's), starting with a
    /// space or a line break.
    fn render_after_key(&self, value: &NewValue, column: usize, flow: bool) -> String {
        match value {
            _ if flow => format!(" {}", self.render_flow(value)),
            NewValue::Seq(items) if !items.is_empty() => {
                let indent = column + self.sequence_indent;
                let mut text = String::new();
                for item in items {
                    text.push_str(self.newline);
                    text.push_str(&" ".repeat(indent));
                    text.push('-');
                    text.push_str(&self.render_item(item, indent));
                }
                text
            }
            NewValue::Map(entries) if !entries.is_empty() => {
                let indent = column + self.mapping_indent;
                let mut text = String::new();
                for (key, value) in entries {
                    text.push_str(self.newline);
                    text.push_str(&" ".repeat(indent));
                    text.push_str(&render_key(key));
                    text.push(':');
                    text.push_str(&self.render_after_key(value, indent, false));
                }
                text
            }
            _ => format!(" {}", self.render_flow(value)),
        }
    }

    /// What follows a sequence item's `-` whose dash is at `dash_column`.
    fn render_item(&self, item: &NewValue, dash_column: usize) -> String {
        match item {
            NewValue::Map(entries) if !entries.is_empty() => {
                let column = dash_column + 2;
                let mut text = String::new();
                for (index, (key, value)) in entries.iter().enumerate() {
                    if index == 0 {
                        text.push(' ');
                    } else {
                        text.push_str(self.newline);
                        text.push_str(&" ".repeat(column));
                    }
                    text.push_str(&render_key(key));
                    text.push(':');
                    text.push_str(&self.render_after_key(value, column, false));
                }
                text
            }
            _ => format!(" {}", self.render_flow(item)),
        }
    }

    /// A value in flow style (`[a, b]`, `{k: v}`, a scalar).
    pub fn render_flow(&self, value: &NewValue) -> String {
        match value {
            NewValue::Str(text) => render_string(text),
            NewValue::Plain(text) | NewValue::Raw(text) => text.clone(),
            NewValue::Seq(items) => {
                let items: Vec<String> = items.iter().map(|item| self.render_flow(item)).collect();
                format!("[{}]", items.join(", "))
            }
            NewValue::Map(entries) => {
                let entries: Vec<String> = entries
                    .iter()
                    .map(|(key, value)| format!("{}: {}", render_key(key), self.render_flow(value)))
                    .collect();
                format!("{{{}}}", entries.join(", "))
            }
        }
    }
}

fn render_key(key: &str) -> String {
    render_string(key)
}

/// A string as a YAML scalar that reads back as the same string in block and flow context: plain
/// when it is made of safe characters and does not look like another type (a number, a boolean,
/// null, a YAML 1.1 sexagesimal such as `10001:10001`), else double-quoted.
pub fn render_string(text: &str) -> String {
    let safe = !text.is_empty()
        && text.chars().all(|c| {
            c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '/' | ':' | '=' | '+')
        })
        && (text
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '/' || c == '_')
            || text.starts_with("./")
            || text.starts_with("../"))
        && !text.ends_with(':')
        && !matches!(
            text.to_ascii_lowercase().as_str(),
            "true" | "false" | "yes" | "no" | "on" | "off" | "y" | "n" | "null" | "~"
        );
    if safe {
        return text.to_owned();
    }
    let mut quoted = String::with_capacity(text.len() + 2);
    quoted.push('"');
    for c in text.chars() {
        match c {
            '"' => quoted.push_str("\\\""),
            '\\' => quoted.push_str("\\\\"),
            '\n' => quoted.push_str("\\n"),
            '\t' => quoted.push_str("\\t"),
            c if c.is_control() => quoted.push_str(&format!("\\u{:04x}", c as u32)),
            c => quoted.push(c),
        }
    }
    quoted.push('"');
    quoted
}

#[cfg(test)]
mod tests;
