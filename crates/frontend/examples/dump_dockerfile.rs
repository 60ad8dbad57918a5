//! Prints what the Dockerfile front-end makes of a file: `cargo run --example dump_dockerfile -- PATH`.
#![allow(clippy::print_stdout)]

use leastpriv_frontend::{lower, InputKind, Options};
use leastpriv_source::SourceDb;

fn main() {
    let path = std::env::args()
        .nth(1)
        .expect("usage: dump_dockerfile PATH");
    let text = std::fs::read_to_string(&path).expect("readable UTF-8 file");
    let db = SourceDb::new();
    let file = db.add(path, text);
    let lowered = lower(&db, file, InputKind::Dockerfile, &Options::default());
    println!("{:#?} {}", lowered.errors, lowered.containers.len());
    for container in &lowered.containers {
        println!("{:#?}", container.build);
    }
}
