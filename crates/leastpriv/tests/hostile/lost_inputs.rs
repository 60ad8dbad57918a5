//! Lost inputs are errors (exit 2) that the report names, never silently wrong results.

use crate::harness::{
    assert_error, assert_exit, assert_sentinel, json_of, rules, Case, PRIVILEGED_SERVICE,
};

fn compose_with_dotenv_user() -> String {
    format!(
        "services:\n  web:\n    image: x\n    user: \"${{APP_USER:-root}}\"\n{PRIVILEGED_SERVICE}"
    )
}

/// The project `.env` sets `APP_USER=10001`; when it cannot be read, `user:` is unknown, never
/// `root` (the default) and never silently fine.
fn assert_dotenv_lost(case: &Case, needle: &str) {
    let outcomes = case.audit();
    assert_exit(&outcomes, 2);
    let report = json_of(&outcomes);
    assert_error(&report, &[".env", needle, "judged unknown"]);
    assert_sentinel(&report);
    assert!(
        !rules(&report).contains(&"LP201".to_owned()),
        "the user is unknown, not root: {report:#}"
    );
}

#[test]
fn a_dotenv_that_is_not_utf8_is_an_input_error() {
    let case = Case::new();
    case.file(".env", b"APP_USER=10001\nNOTE=caf\xe9\n");
    case.file("compose.yaml", compose_with_dotenv_user());
    assert_dotenv_lost(&case, "UTF-8");
}

#[test]
fn a_dotenv_over_the_size_bound_is_an_input_error() {
    let case = Case::new();
    let mut text = "APP_USER=10001\n".to_owned();
    text.push_str(&format!("PAD={}\n", "x".repeat(9 * 1024 * 1024)));
    case.file(".env", text);
    case.file("compose.yaml", compose_with_dotenv_user());
    assert_dotenv_lost(&case, "larger than");
}

#[test]
fn a_dotenv_that_is_a_directory_or_binary_is_an_input_error() {
    let case = Case::new();
    std::fs::create_dir_all(case.project().join(".env")).expect("directory");
    case.file("compose.yaml", compose_with_dotenv_user());
    assert_dotenv_lost(&case, "not a regular file");

    let case = Case::new();
    case.file(".env", b"APP_USER=10001\n\0\0\0");
    case.file("compose.yaml", compose_with_dotenv_user());
    assert_dotenv_lost(&case, "binary");
}

#[test]
fn a_dotenv_with_a_syntax_error_loses_only_what_follows() {
    let case = Case::new();
    case.file(".env", "APP_USER=10001\nBROKEN='unterminated\n");
    case.file("compose.yaml", compose_with_dotenv_user());
    let outcomes = case.audit();
    assert_exit(&outcomes, 2);
    let report = json_of(&outcomes);
    assert_error(&report, &[".env", "unterminated"]);
    assert!(!rules(&report).contains(&"LP201".to_owned()), "{report:#}");
}

#[test]
fn an_unreachable_engine_is_an_error_beside_the_other_findings() {
    let mut case = Case::new();
    case.file("compose.yaml", format!("services:\n{PRIVILEGED_SERVICE}"));
    case.arg("--engine");
    case.env("DOCKER_HOST", "unix:///nonexistent/docker.sock");
    let outcomes = case.audit();
    assert_exit(&outcomes, 2);
    let report = json_of(&outcomes);
    assert_error(&report, &["docker engine"]);
    assert_sentinel(&report);
}

#[test]
fn a_walked_dockerfile_with_a_non_utf8_name_is_audited() {
    use std::os::unix::ffi::OsStrExt;
    let case = Case::new();
    let name = std::ffi::OsStr::from_bytes(b"Dockerfile.\xff");
    std::fs::write(case.project().join(name), "FROM x\nUSER root\n").expect("write");
    let outcomes = case.audit();
    assert_exit(&outcomes, 1);
    let report = json_of(&outcomes);
    assert!(rules(&report).contains(&"LP201".to_owned()), "{report:#}");
}
