//! `.env` and Compose interpolation: output bounded per value and in total, a located error past
//! the bound, and the values built from a lost one judged unknown.

use crate::harness::{assert_bounded, assert_error, assert_exit, assert_sentinel, json_of, Case};

fn doubling_dotenv(lines: usize) -> String {
    let mut text = "A0=xxxxxxxxxxxxxxxx\n".to_owned();
    for i in 1..lines {
        text.push_str(&format!("A{i}=${{A{}}}${{A{}}}\n", i - 1, i - 1));
    }
    text
}

#[test]
fn a_dotenv_that_doubles_39_times_is_a_located_error_not_gigabytes() {
    let case = Case::new();
    case.file(".env", doubling_dotenv(40));
    case.file(
        "compose.yaml",
        format!(
            "services:\n  web:\n    image: x\n    user: \"${{A39:-root}}\"\n    command: [\"${{A39}}\"]\n{}",
            crate::harness::PRIVILEGED_SERVICE
        ),
    );
    let outcomes = case.audit();
    assert_exit(&outcomes, 2);
    assert_bounded(&outcomes, 60, 300);
    let report = json_of(&outcomes);
    assert_error(&report, &[".env", "judged unknown"]);
    assert_sentinel(&report);
    // `${A39:-root}` is unknown, not `root`: the lost value is not replaced by the default.
    let findings = report["findings"].as_array().expect("findings");
    assert!(
        !findings.iter().any(|finding| finding["rule"] == "LP201"),
        "{findings:#?}"
    );
}

#[test]
fn values_doubled_across_the_compose_file_are_bounded_in_total() {
    // Each value stays under the per-value bound; together they would be gigabytes.
    let case = Case::new();
    case.file(".env", format!("BIG={}\n", "y".repeat(512 * 1024)));
    let mut compose = "services:\n  web:\n    image: x\n    environment:\n".to_owned();
    for i in 0..4000 {
        compose.push_str(&format!("      V{i}: \"${{BIG}}\"\n"));
    }
    compose.push_str(crate::harness::PRIVILEGED_SERVICE);
    case.file("compose.yaml", compose);
    let outcomes = case.audit();
    assert_exit(&outcomes, 2);
    assert_bounded(&outcomes, 60, 400);
    let report = json_of(&outcomes);
    assert_error(&report, &["compose.yaml", "budget"]);
    assert_sentinel(&report);
}
