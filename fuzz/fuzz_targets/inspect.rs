//! Any text lowered as `docker inspect` output: never a panic, and every span inside the text.
#![no_main]

use leastpriv_frontend::{lower, InputKind, Options};
use leastpriv_source::SourceDb;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let db = SourceDb::new();
    let file = db.add("fuzz.json", text);
    let lowered = lower(&db, file, InputKind::DockerInspect, &Options::default());
    for container in &lowered.containers {
        assert!(container.origin.range.end as usize <= text.len());
        if let Some(runtime) = &container.runtime {
            for var in &runtime.environment {
                assert!(var.name.span.range.end as usize <= text.len());
                if let Some(value) = &var.value {
                    assert!(text.is_char_boundary(value.span.range.start as usize));
                    assert!(text.is_char_boundary(value.span.range.end as usize));
                }
            }
        }
    }
});
