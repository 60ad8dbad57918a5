//! Every rule over every Dockerfile of the shared corpus (real files from public repositories).
//!
//! The per-rule counts are a snapshot (`snapshots/corpus_sweep__counts.snap`): a change in what the
//! rules find on real files must be reviewed, never slip in. Every finding is written to
//! `$CARGO_TARGET_TMPDIR/corpus-sweep.txt` for that review. Skipped, saying so, when
//! `../shared/corpus` is absent.
// The test says so when it skips, and where it wrote the findings.
#![allow(clippy::print_stdout)]

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use leastpriv_frontend::{detect_by_name, lower, InputKind, Options};
use leastpriv_rules::{check, RuleSelection, RULES};
use leastpriv_source::SourceDb;

#[path = "../../frontend/tests/support/corpus.rs"]
mod corpus;

#[test]
fn every_rule_over_the_corpus() {
    let Some(root) = corpus::root() else {
        println!("skipped: the shared corpus (../shared/corpus) is absent");
        return;
    };
    let files: Vec<PathBuf> = corpus::files(&root)
        .into_iter()
        .filter(|path| detect_by_name(path) == Some(InputKind::Dockerfile))
        .collect();
    assert!(files.len() > 900, "found only {} Dockerfiles", files.len());
    let mut counts: BTreeMap<&str, (usize, usize)> =
        RULES.iter().map(|rule| (rule.code, (0, 0))).collect();
    let mut report = String::new();
    for path in &files {
        let relative = path.strip_prefix(&root).unwrap().display().to_string();
        let Ok(text) = std::fs::read_to_string(path) else {
            continue;
        };
        let db = SourceDb::new();
        let file = db.add(relative.clone(), text);
        let lowered = lower(&db, file, InputKind::Dockerfile, &Options::default());
        let diagnostics = check(&db, &lowered.containers, &RuleSelection::all());
        let source = db.get(file);
        let mut files_hit: Vec<&str> = Vec::new();
        for diagnostic in &diagnostics {
            assert!(
                diagnostic.span.range.end as usize <= source.text().len(),
                "{relative}: {} points past the end of the file",
                diagnostic.rule.code
            );
            let position = source.line_column(diagnostic.span.range.start);
            assert!(
                diagnostic
                    .rule
                    .meta
                    .severities()
                    .contains(&diagnostic.severity),
                "{relative}: {} reports `{}`, which its documentation does not list",
                diagnostic.rule.code,
                diagnostic.severity
            );
            let count = counts.entry(diagnostic.rule.code).or_default();
            count.0 += 1;
            if !files_hit.contains(&diagnostic.rule.code) {
                files_hit.push(diagnostic.rule.code);
                count.1 += 1;
            }
            let _ = writeln!(
                report,
                "{relative}:{}:{} {} {} {}",
                position.line,
                position.column,
                diagnostic.rule.code,
                diagnostic.severity,
                diagnostic.message
            );
        }
    }
    let mut table = format!("{} Dockerfiles\n", files.len());
    for (code, (findings, files)) in &counts {
        let _ = writeln!(table, "{code}: {findings} findings in {files} files");
    }
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("corpus-sweep.txt");
    std::fs::write(&out, format!("{table}\n{report}")).unwrap();
    println!("{table}findings: {}", out.display());
    insta::assert_snapshot!("counts", table);
}
