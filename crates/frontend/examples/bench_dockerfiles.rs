//! Times the Dockerfile front-end over a directory of Dockerfiles (the shared corpus by default):
//! reading, parsing and lowering every file, on one thread and on two.
//!
//! `cargo run --release -p leastpriv-frontend --example bench_dockerfiles [-- DIR]`
#![allow(clippy::print_stdout)]

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use leastpriv_frontend::{detect_by_name, lower, InputKind, Options};
use leastpriv_source::SourceDb;

fn dockerfiles(root: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if detect_by_name(&path) == Some(InputKind::Dockerfile) {
                found.push(path);
            }
        }
    }
    found
}

/// Reads and lowers `files`; returns the number of commands found, so the work cannot be skipped.
fn run(files: &[PathBuf]) -> usize {
    let db = SourceDb::new();
    let options = Options::default();
    let mut commands = 0;
    for path in files {
        let Ok(text) = std::fs::read_to_string(path) else {
            continue;
        };
        let file = db.add(path.display().to_string(), text);
        let lowered = lower(&db, file, InputKind::Dockerfile, &options);
        commands += lowered
            .containers
            .iter()
            .flat_map(|container| container.build.iter())
            .flat_map(|build| &build.stages)
            .flat_map(|stage| &stage.runs)
            .map(|run| run.commands.len())
            .sum::<usize>();
    }
    commands
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn main() {
    let root = std::env::args().nth(1).map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus"),
        PathBuf::from,
    );
    let files = dockerfiles(&root);
    let bytes: u64 = files
        .iter()
        .filter_map(|path| path.metadata().ok())
        .map(|meta| meta.len())
        .sum();
    let rounds = 20;
    let mut one = Vec::new();
    let mut two = Vec::new();
    let mut commands = 0;
    for _ in 0..rounds {
        let start = Instant::now();
        commands = run(&files);
        one.push(start.elapsed());
        let start = Instant::now();
        let (left, right) = files.split_at(files.len() / 2);
        std::thread::scope(|scope| {
            let left = scope.spawn(|| run(left));
            let right = run(right);
            left.join().map(|left| left + right)
        })
        .expect("a lowering thread panicked");
        two.push(start.elapsed());
    }
    println!(
        "{} Dockerfiles, {} KiB, {commands} RUN commands",
        files.len(),
        bytes / 1024
    );
    println!(
        "read + parse + lower, median of {rounds}: {:.1} ms on 1 thread, {:.1} ms on 2 threads",
        median(one).as_secs_f64() * 1e3,
        median(two).as_secs_f64() * 1e3
    );
}
