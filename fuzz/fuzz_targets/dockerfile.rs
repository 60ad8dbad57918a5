//! Lowers arbitrary UTF-8 as a Dockerfile: it must never panic, and every span it returns must lie
//! inside the text, on character boundaries.
#![no_main]

use leastpriv_frontend::{lower, InputKind, Options};
use leastpriv_source::{SourceDb, Span};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let db = SourceDb::new();
    let file = db.add("Dockerfile", text);
    let lowered = lower(&db, file, InputKind::Dockerfile, &Options::default());
    let check = |span: Span| {
        let range = span.range.to_range();
        assert!(range.end <= text.len(), "span {range:?} past the end");
        assert!(text.is_char_boundary(range.start) && text.is_char_boundary(range.end));
    };
    for error in &lowered.errors {
        error.span.into_iter().for_each(check);
    }
    for container in &lowered.containers {
        check(container.origin);
        for stage in container.build.iter().flat_map(|build| &build.stages) {
            check(stage.from);
            stage.users.iter().for_each(|user| check(user.span));
            for run in stage.runs.iter().chain(&stage.onbuild_runs) {
                check(run.span);
                check(run.script.span);
                for command in &run.commands {
                    check(command.span);
                    command.argv.iter().for_each(|word| check(word.span));
                }
            }
            for copy in &stage.copies {
                check(copy.span);
                copy.sources.iter().for_each(|source| check(source.span));
                check(copy.destination.span);
            }
            stage.env.iter().for_each(|env| check(env.name.span));
        }
    }
});
