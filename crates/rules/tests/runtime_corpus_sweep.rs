//! Every rule over every Compose file, Kubernetes manifest and script of the shared corpus
//! (`../shared/corpus`, or `LEASTPRIV_CORPUS`), through the real front-ends; `corpus_sweep.rs` does
//! the same for Dockerfiles.
//!
//! The findings per rule and severity are a snapshot (`snapshots/runtime_corpus_sweep__counts.snap`),
//! so a change in what the rules find on real files is reviewed, and every finding is written to
//! `$CARGO_TARGET_TMPDIR/runtime-corpus-sweep.txt` for that review. The rules are also held to what
//! the corpus shows for certain: the attack pods of BishopFox/badPods and the score-0 manifests of
//! controlplaneio/kubesec fire their rules, and the hardened manifests of
//! GoogleCloudPlatform/microservices-demo stay quiet on everything they set. Skipped, saying so,
//! when the corpus is absent.
// The test says so when it skips, and where it wrote the findings.
#![allow(clippy::print_stdout)]

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;

use leastpriv_frontend::{detect_by_content, detect_by_name, lower, Options};
use leastpriv_rules::{check, Diagnostic, RuleSelection, Severity, Subjects};
use leastpriv_source::SourceDb;

#[path = "../../frontend/tests/support/corpus.rs"]
mod corpus;

/// One finding, reduced to what the checks below compare.
struct Found {
    file: String,
    code: &'static str,
    severity: Severity,
    line: u32,
    message: String,
}

/// Lowers and judges every runtime source of the corpus (Dockerfiles are the Dockerfile rules'
/// business and are left out).
fn sweep(root: &Path) -> (Vec<Found>, usize) {
    let mut found = Vec::new();
    let mut audited = 0;
    for path in corpus::files(root) {
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let Some(kind) = detect_by_name(&path).or_else(|| detect_by_content(&text)) else {
            continue;
        };
        if kind == leastpriv_frontend::InputKind::Dockerfile {
            continue;
        }
        // Absolute, so that Compose finds the Dockerfiles, `.env` and profiles beside the file.
        let db = SourceDb::new();
        let file = db.add(path.display().to_string(), text);
        let lowered = lower(&db, file, kind, &Options::default());
        if lowered.containers.iter().all(|c| c.runtime.is_none()) {
            continue;
        }
        audited += 1;
        // The engines some containers run (Docker-in-Docker) are judged with them.
        let subjects = Subjects {
            containers: &lowered.containers,
            daemons: &lowered.daemons,
        };
        let diagnostics: Vec<Diagnostic> = check(&db, subjects, &RuleSelection::all());
        for diagnostic in diagnostics {
            assert!(
                diagnostic
                    .rule
                    .meta
                    .severities()
                    .contains(&diagnostic.severity),
                "{}: {} reports `{}`, which its documentation does not list",
                path.display(),
                diagnostic.rule.code,
                diagnostic.severity
            );
            let source = db.get(diagnostic.span.file);
            let file = Path::new(source.path());
            found.push(Found {
                file: file
                    .strip_prefix(root)
                    .unwrap_or(file)
                    .display()
                    .to_string(),
                code: diagnostic.rule.code,
                severity: diagnostic.severity,
                line: source.line_column(diagnostic.span.range.start).line,
                message: diagnostic.message,
            });
        }
    }
    (found, audited)
}

fn codes_in<'a>(found: &'a [Found], file: &str) -> BTreeSet<&'a str> {
    found
        .iter()
        .filter(|f| f.file == file)
        .map(|f| f.code)
        .collect()
}

#[test]
fn every_rule_over_the_runtime_corpus() {
    let Some(root) = corpus::root() else {
        println!("skipped: the shared corpus (../shared/corpus) is absent; set LEASTPRIV_CORPUS");
        return;
    };
    let (found, audited) = sweep(&root);
    assert!(audited > 1000, "found only {audited} runtime files");

    let mut per_rule: BTreeMap<&str, BTreeMap<Severity, usize>> = BTreeMap::new();
    let mut report = String::new();
    for finding in &found {
        *per_rule
            .entry(finding.code)
            .or_default()
            .entry(finding.severity)
            .or_default() += 1;
        let _ = writeln!(
            report,
            "{}:{} {} {} {}",
            finding.file, finding.line, finding.code, finding.severity, finding.message
        );
    }
    let mut table = format!("{audited} runtime files, {} findings\n", found.len());
    for (code, severities) in &per_rule {
        let total: usize = severities.values().sum();
        let split: Vec<String> = severities
            .iter()
            .rev()
            .map(|(severity, count)| format!("{severity} {count}"))
            .collect();
        let _ = writeln!(table, "{code}: {total} ({})", split.join(", "));
    }
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("runtime-corpus-sweep.txt");
    std::fs::write(&out, format!("{table}\n{report}")).unwrap();
    println!("{table}findings: {}", out.display());
    insta::assert_snapshot!("counts", table);

    // The attack pods fire their rules.
    for (file, codes) in [
        (
            "BishopFox__badPods/manifests/priv/pod/priv-exec-pod.yaml",
            &["LP110"][..],
        ),
        (
            "BishopFox__badPods/manifests/hostpath/pod/hostpath-exec-pod.yaml",
            &["LP112"],
        ),
        (
            "BishopFox__badPods/manifests/hostpid/pod/hostpid-exec-pod.yaml",
            &["LP115"],
        ),
        (
            "BishopFox__badPods/manifests/hostnetwork/pod/hostnetwork-exec-pod.yaml",
            &["LP116"],
        ),
        (
            "BishopFox__badPods/manifests/hostipc/pod/hostipc-exec-pod.yaml",
            &["LP117"],
        ),
        (
            "BishopFox__badPods/manifests/everything-allowed/pod/everything-allowed-exec-pod.yaml",
            &["LP110", "LP112", "LP115", "LP116", "LP117"],
        ),
        (
            "controlplaneio__kubesec/test/asset/score-0-daemonset-mount-docker-socket.yml",
            &["LP111"],
        ),
        (
            "controlplaneio__kubesec/test/asset/score-0-cap-sys-admin.yml",
            &["LP310"],
        ),
        (
            "controlplaneio__kubesec/test/asset/score-0-dep-seccomp-unconfined-container.yml",
            &["LP401"],
        ),
        (
            "controlplaneio__kubesec/test/asset/score-0-dep-apparmor-unconfined-container.yml",
            &["LP404"],
        ),
    ] {
        let fired = codes_in(&found, file);
        for code in codes {
            assert!(
                fired.contains(code),
                "{file}: {code} did not fire ({fired:?})"
            );
        }
    }
    let root_mount = found.iter().find(|f| {
        f.file == "BishopFox__badPods/manifests/hostpath/pod/hostpath-exec-pod.yaml"
            && f.code == "LP112"
    });
    assert_eq!(root_mount.map(|f| f.severity), Some(Severity::Critical));

    // The hardened demo sets a non-root user, no escalation, drop ALL, read-only roots and no host
    // access: none of those rules may fire on it.
    let hardened: Vec<&Found> = found
        .iter()
        .filter(|f| {
            f.file
                .starts_with("GoogleCloudPlatform__microservices-demo/kubernetes-manifests/")
        })
        .filter(|f| {
            [
                "LP110", "LP111", "LP112", "LP113", "LP115", "LP116", "LP117", "LP201", "LP220",
                "LP310", "LP311", "LP501", "LP502",
            ]
            .contains(&f.code)
        })
        .collect();
    assert!(
        hardened.is_empty(),
        "findings on the hardened demo: {:#?}",
        hardened
            .iter()
            .map(|f| format!("{}:{} {} {}", f.file, f.line, f.code, f.message))
            .collect::<Vec<_>>()
    );
}
