//! Test support: run one rule over a Dockerfile written inline in a unit test, through the real
//! Dockerfile front-end.

use leastpriv_frontend::{lower, InputKind, Options};
use leastpriv_model::Container;
use leastpriv_source::SourceDb;

use crate::{check, RuleMeta, RuleSelection};

/// Lowers `dockerfile` with the real front-end; it must be valid.
pub(crate) fn dockerfile_container(db: &SourceDb, dockerfile: &str) -> Container {
    let file = db.add("Dockerfile", dockerfile);
    let mut lowered = lower(db, file, InputKind::Dockerfile, &Options::default());
    assert!(
        lowered.errors.is_empty(),
        "front-end errors: {:?}",
        lowered.errors
    );
    assert_eq!(lowered.containers.len(), 1, "one container per Dockerfile");
    lowered.containers.remove(0)
}

/// Runs the rule `meta` over `dockerfile` and returns each finding as `line: severity message`.
pub(crate) fn findings(meta: &RuleMeta, dockerfile: &str) -> Vec<String> {
    let db = SourceDb::new();
    let container = dockerfile_container(&db, dockerfile);
    findings_in(meta, &db, &[container])
}

/// Runs the rule `meta` over already-built containers.
pub(crate) fn findings_in(meta: &RuleMeta, db: &SourceDb, containers: &[Container]) -> Vec<String> {
    let mut selection = RuleSelection::all();
    selection
        .select([meta.name])
        .expect("the rule is registered");
    check(db, containers, &selection)
        .iter()
        .map(|diagnostic| {
            let source = db.get(diagnostic.span.file);
            let position = source.line_column(diagnostic.span.range.start);
            format!(
                "{}: {} {}",
                position.line, diagnostic.severity, diagnostic.message
            )
        })
        .collect()
}
