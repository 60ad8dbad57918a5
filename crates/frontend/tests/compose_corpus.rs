//! Every Compose file of the shared corpus lowers without an input error, except the files that are
//! invalid on purpose (listed with the reason). Skips with a message when the corpus is absent.
#![allow(clippy::print_stderr)] // The skip message and the count are the test's report.

use std::collections::BTreeMap;
use std::path::PathBuf;

use leastpriv_frontend::{compose, Options};
use leastpriv_source::SourceDb;

#[path = "support/corpus.rs"]
mod corpus;

/// Files that do not load on purpose or because the corpus holds only Compose-named files, with the
/// error each must report.
const EXPECTED_ERRORS: &[(&str, &str, &str)] = &[
    (
        "compose-spec__compose-go/loader/testdata/compose-include-cycle.yaml",
        "`include` cycle",
        "compose-go's test of include cycle detection",
    ),
    (
        "compose-spec__compose-go/loader/testdata/remote/cycle/compose.yaml",
        "remote:cycle/compose-cycle.yaml",
        "`remote:` is a resource loader defined only in compose-go's tests",
    ),
    (
        "compose-spec__compose-go/loader/testdata/remote/cycle/compose-cycle.yaml",
        "remote:cycle/compose.yaml",
        "`remote:` is a resource loader defined only in compose-go's tests",
    ),
    (
        "compose-spec__compose-go/loader/testdata/remote/nested/compose.yaml",
        "remote:nested/compose-nested.yaml",
        "`remote:` is a resource loader defined only in compose-go's tests",
    ),
    (
        "docker__compose/pkg/e2e/testdata/TestUpImageID/compose.yaml",
        "required variable `ID`",
        "the test sets `ID`; `${ID:?…}` requires it",
    ),
    (
        "compose-spec__compose-go/loader/testdata/combined/compose.yaml",
        "dir/included.yaml`: no such file",
        "includes a file the corpus does not hold (not Compose-named)",
    ),
    (
        "compose-spec__compose-go/loader/testdata/include/compose.yaml",
        "include/included.yaml`: no such file",
        "includes a file the corpus does not hold (not Compose-named)",
    ),
    (
        "compose-spec__compose-go/loader/testdata/extends/withdir/compose.yaml",
        "dir/base.yaml`: no such file",
        "extends a file the corpus does not hold (not Compose-named)",
    ),
    (
        "compose-spec__compose-go/loader/testdata/extends/withdir/dir/compose.yaml",
        "dir/base.yaml`: no such file",
        "extends a file the corpus does not hold (not Compose-named)",
    ),
    (
        "docker__compose/pkg/compose/testdata/publish/compose.yaml",
        "publish/common.yaml`: no such file",
        "extends a file the corpus does not hold (not Compose-named)",
    ),
    (
        "docker__compose/pkg/e2e/fixtures/publish/oci/compose.yaml",
        "oci/extends.yaml`: no such file",
        "extends a file the corpus does not hold (not Compose-named)",
    ),
    (
        "docker__compose/pkg/e2e/testdata/TestPublishLocalInclude/compose.yaml",
        "TestPublishLocalInclude/common.yaml`: no such file",
        "includes a file the corpus does not hold (not Compose-named)",
    ),
    (
        "docker__compose/pkg/e2e/testdata/TestPublishWithExtends/compose.yaml",
        "TestPublishWithExtends/common.yaml`: no such file",
        "extends a file the corpus does not hold (not Compose-named)",
    ),
    (
        "docker__compose/pkg/e2e/testdata/TestSecretFromEnv/compose.yaml",
        "secret.env`: no such file",
        "its include names an env_file the corpus does not hold",
    ),
];

#[test]
fn corpus_compose_files_lower_without_errors() {
    let Some(corpus) = corpus::root() else {
        eprintln!("skipped: ../shared/corpus is absent");
        return;
    };
    let files: Vec<PathBuf> = corpus::files(&corpus)
        .into_iter()
        .filter(|path| {
            path.file_name()
                .and_then(|name| name.to_str())
                .is_some_and(compose::is_compose_file_name)
        })
        .collect();
    // The corpus is audited as one tree: a project may build a context beside its own directory.
    let options = Options {
        env: Some(BTreeMap::new()),
        scope: leastpriv_source::read::ReadScope::within([corpus.clone()]),
        ..Options::default()
    };
    let mut containers = 0;
    let mut failures = Vec::new();
    let mut expected_seen = Vec::new();
    for path in &files {
        let relative = path
            .strip_prefix(&corpus)
            .unwrap_or(path)
            .display()
            .to_string();
        let expected = EXPECTED_ERRORS
            .iter()
            .find(|(file, _, _)| *file == relative);
        let db = SourceDb::new();
        let text = std::fs::read_to_string(path).expect("corpus files are UTF-8");
        let file = db.add(path.display().to_string(), text);
        let lowered = compose::lower(&db, file, &options);
        containers += lowered.containers.len();
        for error in lowered.errors {
            if let Some((_, message, _)) = expected {
                if error.message.contains(message) {
                    expected_seen.push(relative.clone());
                    continue;
                }
            }
            let position = error
                .span
                .map(|span| {
                    let position = db.get(span.file).line_column(span.range.start);
                    format!("{}:{}:{}", error.path, position.line, position.column)
                })
                .unwrap_or_else(|| error.path.clone());
            failures.push(format!("{relative}: {position}: {}", error.message));
        }
    }
    eprintln!("{} compose files, {containers} services", files.len());
    for (file, _, why) in EXPECTED_ERRORS {
        if !expected_seen.iter().any(|seen: &String| seen == file) {
            failures.push(format!("{file}: expected its error ({why})"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} errors:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
