//! Long lines: positions and snippets cost the span, not the line, so thousands of findings on one
//! line stay linear in every format (a one-line `List` of 8,000 pods took 510 s in human format).

use crate::harness::{assert_bounded, assert_exit, json_of, Case};

#[test]
fn a_one_line_kubernetes_list_of_8000_privileged_pods() {
    let case = Case::new();
    let items: Vec<String> = (0..8000)
        .map(|i| {
            format!(
                r#"{{"apiVersion":"v1","kind":"Pod","metadata":{{"name":"p{i}"}},"spec":{{"containers":[{{"name":"c","image":"x","securityContext":{{"privileged":true}}}}]}}}}"#
            )
        })
        .collect();
    case.file(
        "pods.json",
        format!(
            r#"{{"apiVersion":"v1","kind":"List","items":[{}]}}"#,
            items.join(",")
        ),
    );
    let outcomes = case.audit();
    assert_exit(&outcomes, 1);
    assert_bounded(&outcomes, 60, 600);
    let report = json_of(&outcomes);
    let privileged = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|finding| finding["rule"] == "LP110")
        .count();
    assert_eq!(privileged, 8000);
    let human = &outcomes[0];
    assert!(
        human.stdout.len() < 8000 * 3 * 2000,
        "each snippet is a window: {} bytes",
        human.stdout.len()
    );
}

#[test]
fn an_86_kb_one_line_docker_run_script() {
    let case = Case::new();
    let unit = "docker run --privileged -v /:/host nginx; ";
    let script = format!("#!/bin/sh\n{}\n", unit.repeat(86_000 / unit.len()));
    case.file("deploy.sh", script);
    let outcomes = case.audit();
    assert_exit(&outcomes, 1);
    // Under a second in a debug build; 8 s (release) when each snippet drew the whole line.
    assert_bounded(&outcomes, 5, 600);
}

#[test]
fn one_long_docker_run_command() {
    let case = Case::new();
    let flags: String = (0..6000)
        .map(|i| format!(" -e V{i}=x -v /d{i}:/d{i}"))
        .collect();
    case.file(
        "deploy.sh",
        format!("#!/bin/sh\ndocker run --privileged{flags} nginx\n"),
    );
    let outcomes = case.audit();
    assert_exit(&outcomes, 1);
    assert_bounded(&outcomes, 60, 600);
}
