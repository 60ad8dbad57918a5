//! Lowers every Compose file of ../shared/corpus and prints the time one pass takes (`cargo bench -p
//! leastpriv-frontend --bench compose_corpus`). Texts are read once up front; the override, `.env`
//! and included files a project reads from disk are part of the measured work.
#![allow(clippy::print_stdout, clippy::print_stderr)] // A benchmark reports on the terminal.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use leastpriv_frontend::{compose, Options};
use leastpriv_source::SourceDb;

fn compose_files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            compose_files(&path, found);
        } else if path
            .file_name()
            .and_then(|name| name.to_str())
            .is_some_and(compose::is_compose_file_name)
        {
            found.push(path);
        }
    }
}

fn main() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus");
    if !corpus.is_dir() {
        eprintln!("skipped: ../shared/corpus is absent");
        return;
    }
    let mut paths = Vec::new();
    compose_files(&corpus, &mut paths);
    let files: Vec<(String, String)> = paths
        .iter()
        .filter_map(|path| {
            Some((
                path.display().to_string(),
                std::fs::read_to_string(path).ok()?,
            ))
        })
        .collect();
    let bytes: usize = files.iter().map(|(_, text)| text.len()).sum();
    let options = Options {
        env: Some(BTreeMap::new()),
        ..Options::default()
    };
    let mut passes: Vec<Duration> = Vec::new();
    let mut services = 0;
    for _ in 0..20 {
        let start = Instant::now();
        services = 0;
        for (path, text) in &files {
            let db = SourceDb::new();
            let file = db.add(path.clone(), text.as_str());
            services += compose::lower(&db, file, &options).containers.len();
        }
        passes.push(start.elapsed());
    }
    passes.sort();
    println!(
        "{} Compose files ({} KiB, {services} services): min {:.1} ms, median {:.1} ms per pass",
        files.len(),
        bytes / 1024,
        passes[0].as_secs_f64() * 1e3,
        passes[passes.len() / 2].as_secs_f64() * 1e3,
    );
}
