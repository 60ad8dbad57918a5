//! Memory per input a small multiple of its size, and the run's peak bounded however many large
//! inputs are read in parallel: each case checks the bound the README states, on the shapes that
//! cost the most per input byte, generated at the largest size read.

use crate::harness::{assert_bounded, assert_error, assert_exit, assert_sentinel, json_of, Case};

/// The largest input read: 8 MiB.
const MAX_INPUT: usize = 8 * 1024 * 1024;

/// The README's bound for one input: lowering holds at most 64 times the input's size, on top of a
/// fixed base (the binary, thread stacks, the allocator's arenas), in MiB.
const LOWERING_PER_INPUT_BYTE: u64 = 64;
const BASE_MIB: u64 = 64;

/// The documented peak of a run whose largest input is `bytes`, in MiB.
fn one_input_bound_mib(bytes: usize) -> u64 {
    BASE_MIB + LOWERING_PER_INPUT_BYTE * bytes as u64 / (1024 * 1024)
}

/// A Compose file of `bytes` whose one service has a flow list of two-byte items: the most values
/// per byte, past the million values a tree may hold.
fn flow_compose(bytes: usize) -> String {
    let head = format!(
        "services:\n{}  web:\n    image: x\n    command: [",
        crate::harness::PRIVILEGED_SERVICE
    );
    let items = (bytes - head.len() - 4) / 2;
    let mut text = head;
    text.push_str(&"1,".repeat(items));
    text.push_str("1]\n");
    text
}

/// A Compose file of `bytes` with one `environment` item per line.
fn environment_compose(bytes: usize) -> String {
    let mut text = format!(
        "services:\n{}  web:\n    image: x\n    environment:\n",
        crate::harness::PRIVILEGED_SERVICE
    );
    let mut i = 0;
    while text.len() < bytes - 64 {
        text.push_str(&format!("      - K{i}=v\n"));
        i += 1;
    }
    text
}

/// A privileged pod, as `kubectl … -o json | jq -c` writes one.
const POD_JSON: &str = r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[{"name":"c","image":"x","securityContext":{"privileged":true}}]}}"#;

/// A one-line JSON `List` of `bytes` of privileged pods.
fn json_list(bytes: usize) -> String {
    let count = (bytes - 64) / (POD_JSON.len() + 1);
    format!(
        r#"{{"apiVersion":"v1","kind":"List","items":[{}]}}"#,
        vec![POD_JSON; count].join(",")
    )
}

/// `bytes` of small pods, one YAML document each.
fn pod_documents(bytes: usize) -> String {
    let mut text = String::with_capacity(bytes);
    let mut i = 0;
    while text.len() < bytes - 200 {
        text.push_str(&format!(
            "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: p{i}\nspec:\n  containers:\n  - name: c\n    image: x\n    securityContext:\n      privileged: true\n"
        ));
        i += 1;
    }
    text
}

#[test]
fn a_flow_list_past_the_value_bound_is_an_error_and_the_rest_of_the_file_is_kept() {
    let case = Case::new();
    case.file("compose.yaml", flow_compose(MAX_INPUT - 1024));
    let outcomes = [case.run("json")];
    assert_exit(&outcomes, 2);
    assert_bounded(&outcomes, 80, one_input_bound_mib(MAX_INPUT));
    let report = json_of(&outcomes);
    assert_error(&report, &["compose.yaml:", "more than 1000000 YAML values"]);
    // The service before the cut is still judged.
    assert_sentinel(&report);
}

#[test]
fn an_eight_mib_compose_file_stays_within_the_documented_bound() {
    let case = Case::new();
    case.file("compose.yaml", environment_compose(MAX_INPUT - 1024));
    let outcomes = [case.run("json")];
    assert_exit(&outcomes, 1);
    assert_bounded(&outcomes, 80, one_input_bound_mib(MAX_INPUT));
    assert_sentinel(&json_of(&outcomes));
}

#[test]
fn eight_mib_of_kubernetes_manifests_stay_within_the_documented_bound() {
    for (name, text) in [
        ("pods.json", json_list(MAX_INPUT - 1024)),
        ("pods.yaml", pod_documents(MAX_INPUT - 1024)),
    ] {
        let case = Case::new();
        case.file(name, text);
        let outcomes = [case.run("json")];
        // Tens of thousands of pods: the first 10,000 containers are judged, the rest is an error.
        assert_exit(&outcomes, 2);
        assert_bounded(&outcomes, 80, one_input_bound_mib(MAX_INPUT));
        let report = json_of(&outcomes);
        assert_error(&report, &[name, "more than 10000 containers in one file"]);
        assert!(crate::harness::rules(&report)
            .iter()
            .any(|rule| rule == "LP110"));
    }
}

#[test]
fn many_large_inputs_in_parallel_share_one_memory_bound() {
    let mut case = Case::new();
    for i in 0..4 {
        case.file(
            &format!("app{i}/compose.yaml"),
            environment_compose(MAX_INPUT - 1024),
        );
        case.file(&format!("app{i}/pods.json"), json_list(MAX_INPUT - 1024));
    }
    // Four threads would lower four inputs at once; the gate lowers one input of this size at a
    // time. What each keeps for the report (its model and findings) adds up over the inputs, at
    // most about twelve times each input's size (README).
    case.env("RAYON_NUM_THREADS", "4");
    let outcomes = [case.run("json")];
    assert_exit(&outcomes, 2);
    let retained_mib = 12 * 8 * MAX_INPUT as u64 / (1024 * 1024);
    assert_bounded(
        &outcomes,
        150,
        one_input_bound_mib(MAX_INPUT) + retained_mib,
    );
    let report = json_of(&outcomes);
    assert_eq!(report["summary"]["files"], 8);
}
