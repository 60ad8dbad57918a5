//! The YAML layer on arbitrary text: never a panic, every span inside the text and on character
//! boundaries.
#![no_main]

use leastpriv_frontend::yaml::{self, Node, Value};
use leastpriv_source::SourceDb;
use libfuzzer_sys::fuzz_target;

fn check(node: &Node, text: &str) {
    let range = node.span.range.to_range();
    assert!(range.end <= text.len(), "span past the end");
    assert!(text.is_char_boundary(range.start) && text.is_char_boundary(range.end));
    match &node.value {
        Value::Map(entries) => {
            for entry in entries {
                check(&entry.key, text);
                check(&entry.value, text);
            }
        }
        Value::Seq(items) => items.iter().for_each(|item| check(item, text)),
        Value::Null | Value::Scalar(_) => {}
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let db = SourceDb::new();
    let file = db.add("fuzz.yaml", text);
    let stream = yaml::parse(text, file);
    for document in &stream.documents {
        check(document, text);
    }
    for error in &stream.errors {
        let range = error.span.range.to_range();
        assert!(range.end <= text.len() && text.is_char_boundary(range.start));
    }
});
