//! A JSON reader that keeps the byte range of every value and key.
//!
//! serde_json has no spans. The spanned YAML/JSON layer of the front-ends (saphyr events → node tree)
//! would give value spans, but not positions *inside* a decoded string, which findings need (a build
//! argument inside `history[].created_by`, written with JSON escapes), and it would make this crate
//! depend on the whole front-end crate. Its input is also trivial: the config is first decoded by
//! serde_json and pretty-printed, so this reader only ever sees valid JSON it can trust. So ~250
//! lines: value and key ranges, [`raw_offset`] for positions inside strings, nesting depth capped.

use leastpriv_source::TextRange;

/// Deepest nesting accepted; image configs are four levels deep.
const MAX_DEPTH: usize = 64;

/// A JSON value with its byte range (for strings: the contents between the quotes).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Node {
    pub(crate) range: TextRange,
    pub(crate) value: Value,
}

/// The kinds of JSON values.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Null,
    Bool(bool),
    Number(f64),
    String(String),
    Array(Vec<Node>),
    Object(Vec<Member>),
}

/// One `"key": value` pair of an object.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Member {
    pub(crate) key: String,
    /// The key's contents, without quotes.
    pub(crate) key_range: TextRange,
    pub(crate) node: Node,
}

impl Node {
    /// The member `key` of an object (the last one when repeated, as Go's decoder does).
    pub(crate) fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            Value::Object(members) => members
                .iter()
                .rev()
                .find(|member| member.key == key)
                .map(|member| &member.node),
            _ => None,
        }
    }

    /// The member `key` with its key range.
    pub(crate) fn member(&self, key: &str) -> Option<&Member> {
        match &self.value {
            Value::Object(members) => members.iter().rev().find(|member| member.key == key),
            _ => None,
        }
    }

    pub(crate) fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::String(text) => Some(text),
            _ => None,
        }
    }

    pub(crate) fn as_array(&self) -> &[Node] {
        match &self.value {
            Value::Array(items) => items,
            _ => &[],
        }
    }

    pub(crate) fn as_members(&self) -> &[Member] {
        match &self.value {
            Value::Object(members) => members,
            _ => &[],
        }
    }

    pub(crate) fn as_bool(&self) -> Option<bool> {
        match self.value {
            Value::Bool(value) => Some(value),
            _ => None,
        }
    }
}

/// Parses one JSON document. The error names the byte offset and what was expected.
pub(crate) fn parse(text: &str) -> Result<Node, (usize, String)> {
    let mut parser = Parser {
        bytes: text.as_bytes(),
        text,
        pos: 0,
    };
    parser.skip_whitespace();
    let node = parser.value(0)?;
    parser.skip_whitespace();
    if parser.pos != parser.bytes.len() {
        return Err((
            parser.pos,
            "trailing data after the JSON document".to_owned(),
        ));
    }
    Ok(node)
}

/// The byte offset in `raw` (a string's contents as written, escapes and all) of byte `decoded` of the
/// decoded string. `None` when `decoded` falls inside an escape or past the end.
pub(crate) fn raw_offset(raw: &str, decoded: usize) -> Option<usize> {
    let bytes = raw.as_bytes();
    let (mut raw_pos, mut decoded_pos) = (0, 0);
    while decoded_pos < decoded {
        let byte = *bytes.get(raw_pos)?;
        if byte == b'\\' {
            let (raw_len, decoded_len) = match bytes.get(raw_pos + 1)? {
                b'u' => {
                    let code = u32::from_str_radix(raw.get(raw_pos + 2..raw_pos + 6)?, 16).ok()?;
                    if (0xD800..0xDC00).contains(&code) {
                        (12, 4)
                    } else {
                        (6, char::from_u32(code).map_or(3, char::len_utf8))
                    }
                }
                _ => (2, 1),
            };
            raw_pos += raw_len;
            decoded_pos += decoded_len;
        } else {
            raw_pos += 1;
            decoded_pos += 1;
        }
    }
    (decoded_pos == decoded && raw_pos <= bytes.len()).then_some(raw_pos)
}

struct Parser<'a> {
    bytes: &'a [u8],
    text: &'a str,
    pos: usize,
}

impl Parser<'_> {
    fn error<T>(&self, message: &str) -> Result<T, (usize, String)> {
        Err((self.pos, message.to_owned()))
    }

    fn skip_whitespace(&mut self) {
        while matches!(self.bytes.get(self.pos), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn value(&mut self, depth: usize) -> Result<Node, (usize, String)> {
        if depth > MAX_DEPTH {
            return self.error("JSON nested too deeply");
        }
        let start = self.pos;
        let value = match self.bytes.get(self.pos) {
            Some(b'{') => return self.object(depth),
            Some(b'[') => return self.array(depth),
            Some(b'"') => {
                let (text, range) = self.string()?;
                return Ok(Node {
                    range,
                    value: Value::String(text),
                });
            }
            Some(b't') => self.keyword("true", Value::Bool(true))?,
            Some(b'f') => self.keyword("false", Value::Bool(false))?,
            Some(b'n') => self.keyword("null", Value::Null)?,
            Some(b'-' | b'0'..=b'9') => self.number()?,
            Some(_) => return self.error("expected a JSON value"),
            None => return self.error("unexpected end of JSON"),
        };
        Ok(Node {
            range: TextRange::new(start, self.pos),
            value,
        })
    }

    fn keyword(&mut self, word: &str, value: Value) -> Result<Value, (usize, String)> {
        if self.bytes[self.pos..].starts_with(word.as_bytes()) {
            self.pos += word.len();
            Ok(value)
        } else {
            self.error("expected a JSON value")
        }
    }

    fn number(&mut self) -> Result<Value, (usize, String)> {
        let start = self.pos;
        while matches!(
            self.bytes.get(self.pos),
            Some(b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')
        ) {
            self.pos += 1;
        }
        match self.text[start..self.pos].parse() {
            Ok(number) => Ok(Value::Number(number)),
            Err(_) => Err((start, "malformed number".to_owned())),
        }
    }

    /// A string at `pos` (on its opening quote): the decoded text and the range of its contents.
    fn string(&mut self) -> Result<(String, TextRange), (usize, String)> {
        self.pos += 1;
        let start = self.pos;
        let mut decoded = String::new();
        let mut chunk_start = self.pos;
        loop {
            match self.bytes.get(self.pos) {
                None => return self.error("unterminated string"),
                Some(b'"') => {
                    decoded.push_str(&self.text[chunk_start..self.pos]);
                    let range = TextRange::new(start, self.pos);
                    self.pos += 1;
                    return Ok((decoded, range));
                }
                Some(b'\\') => {
                    decoded.push_str(&self.text[chunk_start..self.pos]);
                    self.escape(&mut decoded)?;
                    chunk_start = self.pos;
                }
                Some(byte) if *byte < 0x20 => return self.error("control character in string"),
                Some(_) => self.pos += 1,
            }
        }
    }

    fn escape(&mut self, out: &mut String) -> Result<(), (usize, String)> {
        let Some(&kind) = self.bytes.get(self.pos + 1) else {
            return self.error("unterminated escape");
        };
        self.pos += 2;
        let ch = match kind {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let high = self.hex4()?;
                if (0xD800..0xDC00).contains(&high) && self.bytes[self.pos..].starts_with(b"\\u") {
                    self.pos += 2;
                    let low = self.hex4()?;
                    let code =
                        0x10000 + ((high - 0xD800) << 10) + (low.wrapping_sub(0xDC00) & 0x3FF);
                    char::from_u32(code).unwrap_or('\u{FFFD}')
                } else {
                    char::from_u32(high).unwrap_or('\u{FFFD}')
                }
            }
            _ => return Err((self.pos - 1, "invalid escape".to_owned())),
        };
        out.push(ch);
        Ok(())
    }

    fn hex4(&mut self) -> Result<u32, (usize, String)> {
        let digits = self
            .text
            .get(self.pos..self.pos + 4)
            .and_then(|digits| u32::from_str_radix(digits, 16).ok());
        match digits {
            Some(value) => {
                self.pos += 4;
                Ok(value)
            }
            None => self.error("invalid \\u escape"),
        }
    }

    fn array(&mut self, depth: usize) -> Result<Node, (usize, String)> {
        let start = self.pos;
        self.pos += 1;
        let mut items = Vec::new();
        self.skip_whitespace();
        if self.bytes.get(self.pos) == Some(&b']') {
            self.pos += 1;
        } else {
            loop {
                self.skip_whitespace();
                items.push(self.value(depth + 1)?);
                self.skip_whitespace();
                match self.bytes.get(self.pos) {
                    Some(b',') => self.pos += 1,
                    Some(b']') => {
                        self.pos += 1;
                        break;
                    }
                    _ => return self.error("expected `,` or `]`"),
                }
            }
        }
        Ok(Node {
            range: TextRange::new(start, self.pos),
            value: Value::Array(items),
        })
    }

    fn object(&mut self, depth: usize) -> Result<Node, (usize, String)> {
        let start = self.pos;
        self.pos += 1;
        let mut members = Vec::new();
        self.skip_whitespace();
        if self.bytes.get(self.pos) == Some(&b'}') {
            self.pos += 1;
        } else {
            loop {
                self.skip_whitespace();
                if self.bytes.get(self.pos) != Some(&b'"') {
                    return self.error("expected a string key");
                }
                let (key, key_range) = self.string()?;
                self.skip_whitespace();
                if self.bytes.get(self.pos) != Some(&b':') {
                    return self.error("expected `:`");
                }
                self.pos += 1;
                self.skip_whitespace();
                let node = self.value(depth + 1)?;
                members.push(Member {
                    key,
                    key_range,
                    node,
                });
                self.skip_whitespace();
                match self.bytes.get(self.pos) {
                    Some(b',') => self.pos += 1,
                    Some(b'}') => {
                        self.pos += 1;
                        break;
                    }
                    _ => return self.error("expected `,` or `}`"),
                }
            }
        }
        Ok(Node {
            range: TextRange::new(start, self.pos),
            value: Value::Object(members),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_cover_the_written_values() {
        let text =
            r#"{"config": {"User": "app", "Env": ["A=1", "B=\u0026x"]}, "n": [1, true, null]}"#;
        let root = parse(text).unwrap();
        let config = root.get("config").unwrap();
        let user = config.get("User").unwrap();
        assert_eq!(&text[user.range.to_range()], "app");
        let env = config.get("Env").unwrap().as_array();
        assert_eq!(env[1].as_str(), Some("B=&x"));
        assert_eq!(&text[env[1].range.to_range()], r"B=\u0026x");
        let member = root.member("n").unwrap();
        assert_eq!(&text[member.key_range.to_range()], "n");
        assert_eq!(member.node.as_array().len(), 3);
    }

    #[test]
    fn raw_offsets_skip_escapes() {
        let raw = r"a\u0026b\nc";
        assert_eq!(raw_offset(raw, 0), Some(0));
        assert_eq!(raw_offset(raw, 1), Some(1));
        assert_eq!(raw_offset(raw, 2), Some(7));
        assert_eq!(raw_offset(raw, 4), Some(10));
        assert_eq!(raw_offset(raw, 5), Some(11));
        assert_eq!(raw_offset(raw, 6), None);
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        for text in [
            "",
            "{",
            "[1,",
            "\"abc",
            "{\"a\" 1}",
            "[1] x",
            "\"\\u12\"",
            "\"\\ud800\\u\"",
            "-",
            "{\"a\":}",
            "tru",
        ] {
            assert!(parse(text).is_err(), "{text:?}");
        }
        let deep = "[".repeat(100_000);
        assert!(parse(&deep).is_err());
    }
}
