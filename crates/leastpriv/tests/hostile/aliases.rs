//! YAML aliases bounded by the bytes they copy, not only by their node count.

use crate::harness::{assert_bounded, assert_error, assert_exit, json_of, Case};

#[test]
fn a_long_scalar_aliased_thirty_thousand_times_is_a_located_error() {
    let case = Case::new();
    let mut compose = format!(
        "x-big: &big \"{}\"\nservices:\n  web:\n    image: x\n    command:\n",
        "x".repeat(100_000)
    );
    for _ in 0..30_000 {
        compose.push_str("      - *big\n");
    }
    case.file("compose.yaml", compose);
    // The hidden finding is in another file: this one stops at the bound.
    case.file("Dockerfile", "FROM x\nUSER root\n");
    let outcomes = case.audit();
    assert_exit(&outcomes, 2);
    assert_bounded(&outcomes, 60, 400);
    let report = json_of(&outcomes);
    assert_error(&report, &["compose.yaml", "aliases expand to more than"]);
    assert!(crate::harness::rules(&report).contains(&"LP201".to_owned()));
}

#[test]
fn a_kubernetes_manifest_with_the_same_aliases_is_bounded_too() {
    let case = Case::new();
    let mut manifest = format!(
        "apiVersion: v1\nkind: Pod\nmetadata: {{name: p, labels: {{a: &big \"{}\"}}}}\nspec:\n  containers:\n  - name: c\n    image: x\n    securityContext: {{privileged: true}}\n    args:\n",
        "x".repeat(100_000)
    );
    for _ in 0..30_000 {
        manifest.push_str("    - *big\n");
    }
    case.file("pod.yaml", manifest);
    let outcomes = case.audit();
    assert_exit(&outcomes, 2);
    assert_bounded(&outcomes, 60, 400);
    assert_error(
        &json_of(&outcomes),
        &["pod.yaml", "aliases expand to more than"],
    );
}
