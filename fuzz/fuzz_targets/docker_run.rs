//! Any text lowered as a shell script: never a panic, and every span inside the text.
#![no_main]

use leastpriv_frontend::{lower, InputKind, Options};
use leastpriv_source::SourceDb;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let db = SourceDb::new();
    let file = db.add("fuzz.sh", text);
    let lowered = lower(&db, file, InputKind::ShellScript, &Options::default());
    for container in &lowered.containers {
        assert!(container.origin.range.end as usize <= text.len());
        if let Some(runtime) = &container.runtime {
            for env in &runtime.environment {
                assert!(env.name.span.range.end as usize <= text.len());
            }
            for mount in &runtime.mounts {
                assert!(text.is_char_boundary(mount.span.range.start as usize));
                assert!(text.is_char_boundary(mount.span.range.end as usize));
            }
        }
    }
});
