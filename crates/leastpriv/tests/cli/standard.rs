//! `--standard pss-baseline|pss-restricted` and `standard =` in leastpriv.toml: each finding's Pod
//! Security Standards level, and an audit against exactly one level.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::*;

/// A pod that breaks `baseline` (a privileged container, SYS_ADMIN added to another), `restricted`
/// only (CHOWN re-added, no seccomp profile) and no PSS control (writable roots), beside a Dockerfile
/// that runs as root.
const POD: &str = "\
apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  containers:
    - name: agent
      image: example/agent:1
      securityContext:
        privileged: true
    - name: app
      image: example/app:1
      securityContext:
        runAsUser: 10001
        runAsNonRoot: true
        allowPrivilegeEscalation: false
        capabilities:
          drop: [ALL]
          add: [SYS_ADMIN, CHOWN]
";

fn project() -> Project {
    let project = Project::new();
    project
        .file("pod.k8s.yaml", POD)
        .file("Dockerfile", ROOT_DOCKERFILE);
    project
}

/// `(rule, pss)` of every finding.
fn levels(document: &Value) -> BTreeSet<(String, Option<String>)> {
    document["findings"]
        .as_array()
        .expect("findings array")
        .iter()
        .map(|finding| {
            (
                finding["rule"].as_str().unwrap().to_owned(),
                finding["pss"].as_str().map(str::to_owned),
            )
        })
        .collect()
}

fn has(levels: &BTreeSet<(String, Option<String>)>, rule: &str, level: Option<&str>) -> bool {
    levels.contains(&(rule.to_owned(), level.map(str::to_owned)))
}

#[test]
fn every_finding_reports_its_level() {
    let project = project();
    let (document, code) = project.audit_json(&["pod.k8s.yaml", "Dockerfile"]);
    assert_eq!(code, 1);
    let levels = levels(&document);
    assert!(has(&levels, "LP110", Some("baseline")), "{levels:?}");
    assert!(
        has(&levels, "LP310", Some("baseline")),
        "SYS_ADMIN: {levels:?}"
    );
    assert!(
        has(&levels, "LP310", Some("restricted")),
        "CHOWN: {levels:?}"
    );
    assert!(has(&levels, "LP402", Some("restricted")), "{levels:?}");
    assert!(has(&levels, "LP502", None), "no PSS control: {levels:?}");
    assert!(
        has(&levels, "LP201", None),
        "a Dockerfile is no pod: {levels:?}"
    );
}

#[test]
fn baseline_keeps_only_what_baseline_forbids() {
    let project = project();
    let (document, code) =
        project.audit_json(&["--standard", "pss-baseline", "pod.k8s.yaml", "Dockerfile"]);
    assert_eq!(code, 1);
    let levels = levels(&document);
    assert!(has(&levels, "LP110", Some("baseline")), "{levels:?}");
    assert!(
        levels
            .iter()
            .all(|(_, level)| level.as_deref() == Some("baseline")),
        "{levels:?}"
    );
}

#[test]
fn restricted_includes_baseline_and_nothing_outside_the_standard() {
    let project = project();
    let (document, _) =
        project.audit_json(&["--standard", "pss-restricted", "pod.k8s.yaml", "Dockerfile"]);
    let levels = levels(&document);
    assert!(has(&levels, "LP110", Some("baseline")), "{levels:?}");
    assert!(has(&levels, "LP402", Some("restricted")), "{levels:?}");
    assert!(
        levels.iter().all(|(_, level)| level.is_some()),
        "{levels:?}"
    );
}

#[test]
fn the_configuration_file_sets_the_standard_and_locates_a_bad_one() {
    let project = project();
    project.file("leastpriv.toml", "standard = \"pss-baseline\"\n");
    let (document, _) = project.audit_json(&["pod.k8s.yaml"]);
    let levels = levels(&document);
    assert!(!levels.is_empty());
    assert!(
        levels
            .iter()
            .all(|(_, level)| level.as_deref() == Some("baseline")),
        "{levels:?}"
    );

    project.file("leastpriv.toml", "standard = \"cis\"\n");
    let output = project
        .command()
        .args(["audit", "pod.k8s.yaml"])
        .output()
        .expect("run leastpriv");
    assert_eq!(exit_code(&output), 2);
    let message = stderr(&output);
    assert!(
        message.contains("leastpriv.toml:1:12: `standard`"),
        "{message}"
    );
    assert!(
        message.contains("expected pss-baseline or pss-restricted"),
        "{message}"
    );
}

#[test]
fn human_output_names_the_level() {
    let project = project();
    let output = project
        .command()
        .args([
            "audit",
            "--select",
            "LP110",
            "--color",
            "never",
            "pod.k8s.yaml",
        ])
        .output()
        .expect("run leastpriv");
    assert!(
        stdout(&output).contains("LP110 [critical] [PSS baseline]"),
        "{}",
        stdout(&output)
    );
}
