//! Paths outside the audited project are not read unless the user names them, through `..`,
//! absolute paths or symlinks alike; the error says so and how to allow it, and never quotes what
//! such a file holds (the canary in `outside/secret.env` and in the run's environment).

use crate::harness::{
    assert_error, assert_exit, assert_sentinel, json_of, rules, Case, PRIVILEGED_SERVICE,
};

fn compose_with(top: &str, web: &str) -> String {
    format!("{top}services:\n  web:\n    image: x\n{web}{PRIVILEGED_SERVICE}")
}

fn assert_outside(case: &Case) {
    let outcomes = case.audit();
    assert_exit(&outcomes, 2);
    let report = json_of(&outcomes);
    assert_error(&report, &["outside the audited paths", "--allow-read"]);
    assert_sentinel(&report);
}

#[test]
fn the_process_environment_is_never_read_as_a_dockerfile() {
    let case = Case::new();
    case.file(
        "compose.yaml",
        compose_with(
            "",
            "    build: {context: /proc/self, dockerfile: environ}\n",
        ),
    );
    assert_outside(&case);
}

#[test]
fn includes_extends_and_dockerfiles_outside_the_project_are_refused() {
    let secret = "../outside/secret.env";
    for (top, web) in [
        (format!("include:\n  - {secret}\n"), String::new()),
        (
            "include:\n  - ../../../../../../../../etc/passwd\n".to_owned(),
            String::new(),
        ),
        (
            String::new(),
            "    extends: {file: /etc/passwd, service: root}\n".to_owned(),
        ),
        (
            String::new(),
            format!("    extends: {{file: {secret}, service: x}}\n"),
        ),
        (
            String::new(),
            "    build: {context: .., dockerfile: outside/secret.env}\n".to_owned(),
        ),
        (
            String::new(),
            "    build: {context: /etc, dockerfile: shadow}\n".to_owned(),
        ),
        (
            String::new(),
            "    security_opt: [\"seccomp=/proc/self/environ\"]\n".to_owned(),
        ),
    ] {
        let case = Case::new();
        case.file("compose.yaml", compose_with(&top, &web));
        assert_outside(&case);
    }
}

#[test]
fn symlinks_out_of_the_project_are_refused() {
    let case = Case::new();
    case.symlink(".env", &case.outside().join("secret.env"));
    case.file(
        "compose.yaml",
        compose_with("", "    user: \"${TOKEN:-root}\"\n"),
    );
    assert_outside(&case);

    let case = Case::new();
    case.symlink("linked", &case.outside());
    case.file(
        "compose.yaml",
        compose_with("include:\n  - linked/secret.env\n", ""),
    );
    assert_outside(&case);

    let case = Case::new();
    case.symlink("Dockerfile", std::path::Path::new("/proc/self/environ"));
    case.file("compose.yaml", compose_with("", "    build: .\n"));
    assert_outside(&case);
}

#[test]
fn a_directory_the_user_allows_is_read() {
    let mut case = Case::new();
    let outside = case.outside();
    std::fs::write(
        outside.join("base.yaml"),
        "services:\n  base:\n    image: x\n    cap_add: [SYS_ADMIN]\n",
    )
    .expect("write");
    case.file(
        "compose.yaml",
        compose_with(
            "",
            "    extends: {file: ../outside/base.yaml, service: base}\n",
        ),
    );
    assert_outside(&case);
    case.arg("--allow-read").arg(outside.display().to_string());
    let outcomes = case.audit();
    assert_exit(&outcomes, 1);
    let report = json_of(&outcomes);
    assert!(
        rules(&report).iter().any(|rule| rule.starts_with("LP3")),
        "the extended service's capability is judged: {report:#}"
    );
}
