//! Prints what the Dockerfile front-end makes of a file, with the time it took:
//! `cargo run --example dump_dockerfile -- PATH [--summary]`.
#![allow(clippy::print_stdout)]

use std::time::Instant;

use leastpriv_frontend::{lower, InputKind, Options};
use leastpriv_source::SourceDb;

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .expect("usage: dump_dockerfile PATH [--summary]");
    let summary = args.next().as_deref() == Some("--summary");
    let text = std::fs::read_to_string(&path).expect("a readable UTF-8 file");
    let db = SourceDb::new();
    let file = db.add(path, text);
    let start = Instant::now();
    let lowered = lower(&db, file, InputKind::Dockerfile, &Options::default());
    let elapsed = start.elapsed();
    let build = lowered.containers.first().and_then(|c| c.build.as_ref());
    if !summary {
        println!("{:#?}", lowered.errors);
        println!("{build:#?}");
    }
    let stages = build.map_or(0, |build| build.stages.len());
    let commands: usize = build
        .iter()
        .flat_map(|build| &build.stages)
        .flat_map(|stage| &stage.runs)
        .map(|run| run.commands.len())
        .sum();
    println!(
        "{} errors, {stages} stages, {commands} commands, lowered in {:.1} ms",
        lowered.errors.len(),
        elapsed.as_secs_f64() * 1e3
    );
}
