//! Only regular files are read: special files named by an input never block the run, whatever
//! stdin, stdout and stderr are (pipes here, as in every CI runner).

use crate::harness::{
    assert_error, assert_exit, assert_sentinel, json_of, rules, Case, PRIVILEGED_SERVICE,
};

fn compose_with(top: &str, web: &str) -> String {
    format!("{top}services:\n  web:\n    image: x\n{web}{PRIVILEGED_SERVICE}")
}

fn assert_refused(case: &Case, needles: &[&str]) {
    let outcomes = case.audit();
    assert_exit(&outcomes, 2);
    let report = json_of(&outcomes);
    assert_error(&report, needles);
    assert_sentinel(&report);
}

#[test]
fn include_of_the_standard_streams_is_refused() {
    for stream in [
        "/dev/stdout",
        "/dev/stderr",
        "/dev/stdin",
        "/proc/self/fd/0",
    ] {
        let case = Case::new();
        case.file(
            "compose.yaml",
            compose_with(&format!("include:\n  - {stream}\n"), ""),
        );
        assert_refused(&case, &["compose.yaml", stream]);
    }
}

#[test]
fn a_dockerfile_on_a_standard_stream_is_refused() {
    for path in ["/proc/self/fd/2", "/dev/stdin"] {
        let case = Case::new();
        case.file(
            "compose.yaml",
            compose_with(
                "",
                &format!("    build: {{context: ., dockerfile: {path}}}\n"),
            ),
        );
        assert_refused(&case, &["compose.yaml", "Dockerfile"]);
    }
}

#[test]
fn fifos_in_the_project_are_refused_without_blocking() {
    let case = Case::new();
    case.fifo(".env");
    case.file(
        "compose.yaml",
        compose_with("", "    user: \"${APP_USER:-root}\"\n"),
    );
    assert_refused(&case, &[".env", "not a regular file"]);

    let case = Case::new();
    case.fifo("included.yaml");
    case.file(
        "compose.yaml",
        compose_with("include:\n  - included.yaml\n", ""),
    );
    assert_refused(&case, &["compose.yaml", "not a regular file"]);

    let case = Case::new();
    case.fifo("Dockerfile");
    case.file("compose.yaml", compose_with("", "    build: .\n"));
    assert_refused(&case, &["compose.yaml", "not a regular file"]);

    let case = Case::new();
    case.fifo("seccomp.json");
    case.file(
        "compose.yaml",
        compose_with("", "    security_opt: [\"seccomp=./seccomp.json\"]\n"),
    );
    let outcomes = case.audit();
    assert_exit(&outcomes, 2);
    assert_error(&json_of(&outcomes), &["seccomp", "not a regular file"]);

    // A configuration file that is a FIFO is not one: the audit goes on without it.
    let case = Case::new();
    case.fifo("leastpriv.toml");
    case.file("compose.yaml", compose_with("", ""));
    let outcomes = case.audit();
    assert_exit(&outcomes, 1);
    assert_sentinel(&json_of(&outcomes));
}

#[test]
fn an_extends_or_env_file_on_a_fifo_is_refused() {
    let case = Case::new();
    case.fifo("base.yaml");
    case.file(
        "compose.yaml",
        compose_with("", "    extends: {file: base.yaml, service: base}\n"),
    );
    assert_refused(&case, &["compose.yaml", "not a regular file"]);

    let case = Case::new();
    case.fifo("vars.env");
    case.file("sub/compose.yaml", "services:\n  inner: {image: x}\n");
    case.file(
        "compose.yaml",
        compose_with(
            "include:\n  - path: sub/compose.yaml\n    env_file: vars.env\n",
            "",
        ),
    );
    assert_refused(&case, &["compose.yaml", "not a regular file"]);
}

/// A Dockerfile's build context is listed, never read: a FIFO named `.env` is not opened, a
/// symlink named `.npmrc` to a secret outside is not followed, a symlink loop and nesting deeper
/// than the listing goes stop it, and an ignore file that is a FIFO leaves the context unjudged.
#[test]
fn a_build_context_of_special_files_and_loops_is_listed_without_blocking() {
    let case = Case::new();
    let canary = case.outside().join("secret.env");
    case.file("app/Dockerfile", "FROM alpine:3.20\nCOPY . /app\n")
        .fifo("app/.env")
        .symlink("app/.npmrc", &canary)
        .symlink("app/loop", &case.project())
        .file(&format!("app/{}/.env", ["d"; 40].join("/")), "A=1\n")
        .file("app/ok/.pypirc", "[pypi]\n");
    case.file(
        "compose.yaml",
        compose_with(
            "",
            "    build: app
",
        ),
    );
    let outcomes = case.audit();
    assert_exit(&outcomes, 1);
    let report = json_of(&outcomes);
    assert_sentinel(&report);
    let listed: Vec<&str> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|finding| finding["rule"] == "LP608")
        .filter_map(|finding| finding["message"].as_str())
        .collect();
    assert!(
        !listed.is_empty()
            && listed.iter().all(|message| message.contains("`ok/.pypirc`")
                && !message.contains(".env`")
                && !message.contains(".npmrc")),
        "{listed:#?}"
    );

    let case = Case::new();
    case.file("app/Dockerfile", "FROM alpine:3.20\nCOPY . /app\n")
        .fifo("app/.dockerignore")
        .file("app/.pypirc", "[pypi]\n");
    case.file("compose.yaml", compose_with("", "    build: app\n"));
    let outcomes = case.audit();
    assert_exit(&outcomes, 1);
    let report = json_of(&outcomes);
    assert_sentinel(&report);
    assert!(!rules(&report).iter().any(|rule| rule == "LP608"));
}
