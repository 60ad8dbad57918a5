//! The Compose front-end on arbitrary text: never a panic, every error located inside its file.
#![no_main]

use std::collections::BTreeMap;

use leastpriv_frontend::{compose, Options};
use leastpriv_source::SourceDb;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let options = Options {
        env: Some(BTreeMap::from([("SET".to_owned(), "value".to_owned())])),
        ..Options::default()
    };
    let db = SourceDb::new();
    // A path in a directory that does not exist: no override, `.env` or included file is read.
    let file = db.add("/nonexistent-fuzz-dir/compose.yaml", text);
    let lowered = compose::lower(&db, file, &options);
    for error in &lowered.errors {
        if let Some(span) = error.span {
            let source = db.get(span.file);
            assert!(span.range.to_range().end <= source.text().len());
        }
    }
});
