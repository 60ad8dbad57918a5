//! Every Dockerfile of the shared corpus (real files from public repositories) lowers without an input
//! error, except the few that are invalid, listed with the reason.
// The test says so when it skips for want of the corpus.
#![allow(clippy::print_stdout)]

use std::path::PathBuf;

use leastpriv_frontend::{detect_by_name, lower, InputKind, Options};
use leastpriv_source::SourceDb;

#[path = "support/corpus.rs"]
mod corpus;

/// Corpus files that are not valid Dockerfiles, each checked by hand, with the error expected.
const INVALID: &[(&str, &str)] = &[
    // Test data of other linters and of BuildKit's own parser, invalid on purpose.
    (
        "aquasecurity__trivy-checks/extracted-examples/docker/DS-0008_unix_ports_out_of_range/bad-1.Dockerfile",
        "invalid port `65536`",
    ),
    (
        "aquasecurity__trivy-checks/extracted-examples/docker/DS-0012_same_alias_in_different_froms/bad-1.Dockerfile",
        "duplicate stage name `build`",
    ),
    (
        "bridgecrewio__checkov/tests/dockerfile/checks/example_AliasIsUnique/failure/Dockerfile",
        "duplicate stage name `build`",
    ),
    // A vim `~` line left at the end of the file.
    (
        "bridgecrewio__checkov/tests/dockerfile/checks/example_UpdateNotAlone/failure/Dockerfile",
        "unknown instruction `~`",
    ),
    (
        "bridgecrewio__checkov/tests/secrets/resources/file_type/Dockerfile",
        "unknown instruction `~`",
    ),
    // Secret-scanner test data named like Dockerfiles: JavaScript and plain text.
    (
        "bridgecrewio__checkov/tests/secrets/multiline_finding/Dockerfile.mine",
        "`FROM` missing",
    ),
    (
        "bridgecrewio__checkov/tests/secrets/multiline_finding/Dockerfile.two_secrets",
        "`FROM` missing",
    ),
    // Compose's test of a build that fails: `WRONG DOCKERFILE`.
    (
        "docker__compose/pkg/e2e/fixtures/wrong-composefile/service1/Dockerfile",
        "unknown instruction `WRONG`",
    ),
    // BuildKit parser tests: parsed, never built. `ENV name='a\'b'` leaves a quote open.
    (
        "moby__buildkit/frontend/dockerfile/parser/testfiles/env/Dockerfile",
        "matching single quote",
    ),
    // `ADD \conf\\" /.znc` opens a double quote that never closes.
    (
        "moby__buildkit/frontend/dockerfile/parser/testfiles/escapes/Dockerfile",
        "matching double quote",
    ),
    (
        "moby__buildkit/frontend/dockerfile/parser/testfiles/flags/Dockerfile",
        "unknown flag `--user` for `COPY`",
    ),
    // Only `CMD` lines.
    (
        "moby__buildkit/frontend/dockerfile/parser/testfiles/jeztah-invalid-json-json-inside-string/Dockerfile",
        "`FROM` missing",
    ),
    (
        "moby__buildkit/frontend/dockerfile/parser/testfiles/jeztah-invalid-json-json-inside-string-double/Dockerfile",
        "`FROM` missing",
    ),
    (
        "moby__buildkit/frontend/dockerfile/parser/testfiles/jeztah-invalid-json-single-quotes/Dockerfile",
        "`FROM` missing",
    ),
    (
        "moby__buildkit/frontend/dockerfile/parser/testfiles/jeztah-invalid-json-unterminated-bracket/Dockerfile",
        "`FROM` missing",
    ),
    (
        "moby__buildkit/frontend/dockerfile/parser/testfiles/jeztah-invalid-json-unterminated-string/Dockerfile",
        "`FROM` missing",
    ),
    (
        "moby__buildkit/frontend/dockerfile/parser/testfiles/json/Dockerfile",
        "`FROM` missing",
    ),
    (
        "moby__buildkit/frontend/dockerfile/parser/testfiles-negative/shykes-nested-json/Dockerfile",
        "`FROM` missing",
    ),
    (
        "moby__buildkit/frontend/dockerfile/parser/testfiles-negative/env_no_value/Dockerfile",
        "`ENV PATH` needs a value",
    ),
    (
        "moby__buildkit/frontend/dockerfile/parser/testfiles-negative/only_comments/Dockerfile",
        "`FROM` missing",
    ),
];

#[test]
fn corpus_dockerfiles_lower_without_errors() {
    let Some(root) = corpus::root() else {
        println!("skipped: the shared corpus (../shared/corpus) is absent");
        return;
    };
    let files: Vec<PathBuf> = corpus::files(&root)
        .into_iter()
        .filter(|path| detect_by_name(path) == Some(InputKind::Dockerfile))
        .collect();
    assert!(files.len() > 900, "found only {} Dockerfiles", files.len());
    let mut failures = Vec::new();
    let mut expected_seen = 0;
    for path in &files {
        let relative = path.strip_prefix(&root).unwrap().display().to_string();
        let Ok(text) = std::fs::read_to_string(path) else {
            continue;
        };
        let db = SourceDb::new();
        let file = db.add(relative.clone(), text);
        let lowered = lower(&db, file, InputKind::Dockerfile, &Options::default());
        let source = db.get(file);
        let messages: Vec<String> = lowered
            .errors
            .iter()
            .map(|error| {
                let position = source.line_column(error.span.map_or(0, |span| span.range.start));
                format!("{}:{}: {}", position.line, position.column, error.message)
            })
            .collect();
        match INVALID.iter().find(|(name, _)| *name == relative) {
            Some((_, expected)) => {
                expected_seen += 1;
                if !messages.iter().any(|message| message.contains(expected)) {
                    failures.push(format!(
                        "{relative}: expected `{expected}`, got {messages:?}"
                    ));
                }
            }
            None if !messages.is_empty() => {
                failures.push(format!("{relative}: {}", messages.join("; ")))
            }
            None => {}
        }
        if lowered.errors.is_empty() {
            assert_eq!(lowered.containers.len(), 1, "{relative}");
        }
    }
    assert_eq!(
        expected_seen,
        INVALID.len(),
        "an INVALID entry names no corpus file"
    );
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}
