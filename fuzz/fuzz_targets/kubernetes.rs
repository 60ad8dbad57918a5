//! Any text lowered as Kubernetes manifests: never a panic, and every span inside the text.
#![no_main]

use leastpriv_frontend::{lower, InputKind, Options};
use leastpriv_source::SourceDb;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let db = SourceDb::new();
    let file = db.add("fuzz.yaml", text);
    let lowered = lower(&db, file, InputKind::Kubernetes, &Options::default());
    for container in &lowered.containers {
        assert!(container.origin.range.end as usize <= text.len());
        if let Some(runtime) = &container.runtime {
            for mount in &runtime.mounts {
                assert!(mount.span.range.end as usize <= text.len());
            }
        }
    }
    for error in &lowered.errors {
        if let Some(span) = error.span {
            assert!(span.range.end as usize <= text.len());
        }
    }
});
