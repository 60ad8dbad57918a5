//! Every Kubernetes manifest of the shared corpus (real files from public repositories) goes through
//! the same detection and lowering a directory walk uses: none may give an input error unless it is
//! listed below with the reason it is genuinely invalid. Prints the count and the time taken; run with
//! `--release --nocapture` to measure. Skipped, with a message, when the corpus is absent.

// The skip message and the measurement are this test's output.
#![allow(clippy::print_stderr)]

use std::time::Instant;

use leastpriv_frontend::{detect_by_name, kubernetes, lower, InputKind, Options};
use leastpriv_source::SourceDb;

#[path = "support/corpus.rs"]
mod corpus;

/// Files of the corpus that are not valid YAML 1.2, each with the reason. The first two are accepted by
/// go-yaml (kubectl), which is lenient about the indentation of a quoted scalar's continuation lines.
const INVALID: &[(&str, &str)] = &[
    (
        "bridgecrewio__checkov/tests/kubernetes/checks/example_ImageDigest/kafka-withrepo-PASSED.yaml",
        "a double-quoted scalar continues on lines less indented than its sequence item (52:15)",
    ),
    (
        "bridgecrewio__checkov/tests/kubernetes/checks/example_ImagePullPolicy/kafka-PullPolicyAlways-PASSED.yaml",
        "a double-quoted scalar continues on lines less indented than its sequence item (52:15)",
    ),
    (
        "kubernetes__examples/_archived/openshift-origin/etcd-controller.yaml",
        "duplicate key `selector`",
    ),
    (
        "kubernetes__examples/_archived/openshift-origin/etcd-discovery-controller.yaml",
        "duplicate key `selector`",
    ),
    (
        "kubernetes__examples/_archived/openshift-origin/openshift-controller.yaml",
        "duplicate key `selector`",
    ),
    (
        "kubernetes__examples/_archived/persistent-volume-provisioning/quobyte/quobyte-admin-secret.yaml",
        "duplicate key `type`",
    ),
    (
        "kubernetes__examples/_archived/volumes/scaleio/sc-pvc.yaml",
        "duplicate key `storageClassName`",
    ),
    (
        "stackrox__kube-linter/tests/checks/cel.yml",
        "a missing `---` joins two documents: duplicate `apiVersion`, `kind`, `metadata`",
    ),
];

#[test]
fn every_corpus_manifest_lowers_without_errors() {
    let Some(root) = corpus::root() else {
        eprintln!("skipped: no corpus at ../shared/corpus (set LEASTPRIV_CORPUS)");
        return;
    };
    let texts: Vec<(String, String)> = corpus::files(&root)
        .into_iter()
        .filter(|path| detect_by_name(path) == Some(InputKind::YamlOrJson))
        .filter_map(|path| {
            let text = std::fs::read_to_string(&path).ok()?;
            let name = path.strip_prefix(&root).ok()?.display().to_string();
            kubernetes::looks_like_manifest(&text).then_some((name, text))
        })
        .collect();
    let db = SourceDb::new();
    let started = Instant::now();
    let mut containers = 0;
    let mut unexpected = Vec::new();
    let mut invalid_seen = Vec::new();
    for (name, text) in &texts {
        let file = db.add(name.clone(), text.as_str());
        let lowered = lower(&db, file, InputKind::YamlOrJson, &Options::default());
        containers += lowered.containers.len();
        if lowered.errors.is_empty() {
            continue;
        }
        if INVALID.iter().any(|(invalid, _)| invalid == name) {
            invalid_seen.push(name.clone());
            continue;
        }
        for error in lowered.errors {
            let position = error
                .span
                .map(|span| db.get(span.file).line_column(span.range.start));
            unexpected.push(format!("{name}:{position:?}: {}", error.message));
        }
    }
    let elapsed = started.elapsed();
    eprintln!(
        "lowered {} manifests ({containers} containers, {} bytes) in {elapsed:?}",
        texts.len(),
        texts.iter().map(|(_, text)| text.len()).sum::<usize>()
    );
    assert!(unexpected.is_empty(), "{}", unexpected.join("\n"));
    assert_eq!(
        invalid_seen.len(),
        INVALID.len(),
        "every file listed as invalid still fails"
    );
}
