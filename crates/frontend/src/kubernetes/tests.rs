use super::*;
use crate::test_support::{fixture, lower_text, render};

#[test]
fn lowers_every_field() {
    let (db, lowered) = lower_text(
        lower,
        "every_field.yaml",
        &fixture("kubernetes/every_field.yaml"),
    );
    assert!(lowered.errors.is_empty(), "{:?}", lowered.errors);
    insta::assert_snapshot!(render(&db, &lowered.containers));
}

#[test]
fn lowers_a_kubectl_list_in_json() {
    let (db, lowered) = lower_text(lower, "-", &fixture("kubernetes/pods.json"));
    assert!(lowered.errors.is_empty(), "{:?}", lowered.errors);
    insta::assert_snapshot!(render(&db, &lowered.containers));
}

#[test]
fn finds_the_pod_template_of_every_workload_kind() {
    let template = "template:\n      spec:\n        containers: [{name: c, image: i}]";
    let mut text = String::new();
    for kind in [
        "Deployment",
        "StatefulSet",
        "DaemonSet",
        "ReplicaSet",
        "ReplicationController",
        "Job",
        "DeploymentConfig",
    ] {
        text.push_str(&format!(
            "---\napiVersion: v1\nkind: {kind}\nmetadata: {{name: x}}\nspec:\n    {template}\n"
        ));
    }
    text.push_str(&format!(
        "---\nkind: PodTemplate\nmetadata: {{name: x}}\n{}\n",
        template.replace("\n    ", "\n")
    ));
    text.push_str(
        "---\nkind: ConfigMap\ndata: {containers: x}\n---\nkind: Rollout\nspec: {template: {spec: {containers: [{name: c}]}}}\n",
    );
    let (_, lowered) = lower_text(lower, "kinds.yaml", &text);
    assert!(lowered.errors.is_empty(), "{:?}", lowered.errors);
    let names: Vec<_> = lowered.containers.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "Deployment/x (container c)",
            "StatefulSet/x (container c)",
            "DaemonSet/x (container c)",
            "ReplicaSet/x (container c)",
            "ReplicationController/x (container c)",
            "Job/x (container c)",
            "DeploymentConfig/x (container c)",
            "PodTemplate/x (container c)",
        ]
    );
}

#[test]
fn a_container_overrides_the_pod_and_inherits_the_rest() {
    let text = "kind: Pod\nmetadata: {name: p}\nspec:\n  securityContext: {runAsUser: 1000, runAsNonRoot: true}\n  containers:\n    - name: a\n      securityContext: {runAsUser: 0}\n    - name: b\n";
    let (_, lowered) = lower_text(lower, "p.yaml", text);
    let users: Vec<_> = lowered
        .containers
        .iter()
        .map(|container| {
            let runtime = container.runtime.as_ref().unwrap();
            (
                runtime.user.as_ref().unwrap().value.to_string(),
                runtime.run_as_non_root.as_ref().unwrap().value,
            )
        })
        .collect();
    assert_eq!(users, [("0".into(), true), ("1000".into(), true)]);
}

#[test]
fn a_group_without_a_user_is_not_a_user_override() {
    let text =
        "kind: Pod\nspec:\n  containers:\n    - name: a\n      securityContext: {runAsGroup: 0}\n";
    let (_, lowered) = lower_text(lower, "p.yaml", text);
    let runtime = lowered.containers[0].runtime.as_ref().unwrap();
    assert!(runtime.user.is_none());
    assert_eq!(runtime.run_as_group.as_ref().unwrap().value, "0");
}

#[test]
fn broken_yaml_is_a_located_error_and_other_documents_still_count() {
    let text = "kind: Pod\nspec:\n  containers: [{name: a, image: x}]\n---\nkind: Pod\nspec:\n  containers: [{name: b\n";
    let (db, lowered) = lower_text(lower, "broken.yaml", text);
    assert_eq!(lowered.containers.len(), 1);
    let error = lowered.errors.first().expect("an error");
    let span = error.span.expect("located");
    assert!(db.get(span.file).line_column(span.range.start).line >= 7);
    assert_eq!(error.path, "broken.yaml");
}

#[test]
fn tabs_and_duplicate_keys_are_located_errors() {
    for text in [
        "kind: Pod\nspec:\n\tcontainers: []\n",
        "kind: Pod\nkind: Deployment\n",
    ] {
        let (_, lowered) = lower_text(lower, "bad.yaml", text);
        assert!(
            lowered.errors.iter().all(|error| error.span.is_some()) && !lowered.errors.is_empty(),
            "{text:?}: {:?}",
            lowered.errors
        );
    }
}

#[test]
fn an_alias_bomb_is_bounded() {
    let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for level in 1..12 {
        let previous = level - 1;
        text.push_str(&format!(
            "a{level}: &a{level} [*a{previous}, *a{previous}, *a{previous}, *a{previous}, *a{previous}, *a{previous}, *a{previous}, *a{previous}, *a{previous}, *a{previous}]\n"
        ));
    }
    text.push_str("kind: Pod\n");
    let (_, lowered) = lower_text(lower, "bomb.yaml", &text);
    assert!(!lowered.errors.is_empty());
}

#[test]
fn recognises_manifests_by_content() {
    assert!(looks_like_manifest("apiVersion: v1\nkind: Pod\n"));
    assert!(looks_like_manifest(
        "# c\n---\nkind: Service\n---\napiVersion: apps/v1\nkind: Deployment\n"
    ));
    assert!(looks_like_manifest(
        "{\"apiVersion\": \"v1\", \"kind\": \"List\"}"
    ));
    assert!(looks_like_manifest(
        "---\n{\n  apiVersion: \"v1\",\n  # c\n  kind: \"Pod\",\n}\n"
    ));
    assert!(!looks_like_manifest("services:\n  web:\n    image: x\n"));
    assert!(!looks_like_manifest(
        "spec:\n  apiVersion: v1\n  kind: Pod\n"
    ));
    assert!(!looks_like_manifest(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {{ .Release.Name }}\n"
    ));
    assert!(!looks_like_manifest(
        "{{- if .Values.enabled }}\napiVersion: v1\nkind: Pod\n{{- end }}\n"
    ));
}
