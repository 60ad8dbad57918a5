//! LP608 `secret-file-copied-from-context` through the binary, on real build contexts: what
//! `.dockerignore` (or the Dockerfile's own ignore file) leaves in, which context is read (the
//! Dockerfile's directory, a Compose `build.context`, never outside the audited paths nor for
//! standard input), and a hostile tree that must not hang or mislead the listing.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::{exit_code, parse_json, stdout, Project};

/// The value in the test `.env`: no output may contain it.
const VALUE: &str = "DB_PASSWORD=ctx-7d1e-do-not-print";

/// `(path, line, column, severity, message)` of every LP608 finding.
fn lp608(document: &Value) -> Vec<(String, u64, u64, String, String)> {
    document["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|finding| finding["rule"] == "LP608")
        .map(|finding| {
            (
                finding["path"].as_str().unwrap().to_owned(),
                finding["line"].as_u64().unwrap(),
                finding["column"].as_u64().unwrap(),
                finding["severity"].as_str().unwrap().to_owned(),
                finding["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn audit(project: &Project, args: &[&str]) -> (Value, i32) {
    let (document, code) = project.audit_json(&[&["--select", "LP608"], args].concat());
    assert!(
        !document.to_string().contains(VALUE),
        "a report quotes the secret file's content: {document:#}"
    );
    (document, code)
}

fn app() -> Project {
    let project = Project::new();
    project
        .file(".env", format!("{VALUE}\n"))
        .file("server.py", "print('hi')\n")
        .file("Dockerfile", "FROM python:3.12-slim\nCOPY . /app\n");
    project
}

#[test]
fn copy_dot_sends_a_dotenv_that_dockerignore_does_not_exclude() {
    let project = app();
    project.file(".dockerignore", "# only caches\n__pycache__\n");
    let (document, code) = audit(&project, &["."]);
    assert_eq!(code, 1, "{document:#}");
    let found = lp608(&document);
    assert_eq!(found.len(), 1, "{found:?}");
    let (path, line, column, severity, message) = &found[0];
    assert_eq!((path.as_str(), *line, *column), ("Dockerfile", 2, 6));
    assert_eq!(severity, "high");
    assert_eq!(
        message,
        "`COPY .` sends `.env` (an environment file) from the build context into an image layer: anyone who can pull the image can read it; `.dockerignore` does not exclude it"
    );
    // The human report names it too, and never its content.
    let output = project
        .command()
        .args(["audit", "--select", "LP608", "--color", "never", "."])
        .output()
        .expect("run");
    let text = stdout(&output);
    assert!(
        text.contains("LP608 [high] `COPY .` sends `.env`"),
        "{text}"
    );
    assert!(!text.contains(VALUE), "{text}");
}

#[test]
fn without_dockerignore_the_message_says_so() {
    let project = app();
    let (document, _) = audit(&project, &["Dockerfile"]);
    let found = lp608(&document);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].4.ends_with("; no `.dockerignore` excludes it"),
        "{found:?}"
    );
}

#[test]
fn excluded_by_dockerignore_is_silent() {
    for rules in [
        ".env\n",
        "/.env\n",
        "**/.env\n",
        "*\n!server.py\n",
        "./.env\n",
    ] {
        let project = app();
        project.file(".dockerignore", rules);
        let (document, code) = audit(&project, &["."]);
        assert_eq!(code, 0, "{rules:?}: {document:#}");
        assert!(lp608(&document).is_empty(), "{rules:?}");
    }
}

#[test]
fn an_exception_re_includes_a_secret_file() {
    let project = Project::new();
    project
        .file("config/.env", format!("{VALUE}\n"))
        .file("config/app.yaml", "a: 1\n")
        .file(".dockerignore", "config\n!config/.env\n")
        .file("Dockerfile", "FROM python:3.12-slim\nCOPY . /app\n");
    let (document, _) = audit(&project, &["."]);
    let found = lp608(&document);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].4.contains("`config/.env` (an environment file)"));
}

#[test]
fn the_dockerfiles_own_ignore_file_wins() {
    // `.dockerignore` excludes the file, but Docker reads `app.Dockerfile.dockerignore` instead.
    let project = Project::new();
    project
        .file(".env", format!("{VALUE}\n"))
        .file(".dockerignore", ".env\n")
        .file("app.Dockerfile.dockerignore", "node_modules\n")
        .file("app.Dockerfile", "FROM node:20-slim\nCOPY . /app\n")
        .file("Dockerfile", "FROM node:20-slim\nCOPY . /app\n");
    let (document, _) = audit(&project, &["."]);
    let found = lp608(&document);
    assert_eq!(found.len(), 1, "only app.Dockerfile: {found:?}");
    assert_eq!(found[0].0, "app.Dockerfile");
    assert!(
        found[0]
            .4
            .ends_with("`app.Dockerfile.dockerignore` does not exclude it"),
        "{found:?}"
    );
}

#[test]
fn a_builder_stage_is_low_and_copy_from_is_silent() {
    let project = app();
    project.file(
        "Dockerfile",
        "FROM python:3.12 AS build\nCOPY . /src\nRUN make -C /src\n\
         FROM python:3.12-slim\nCOPY --from=build /src /app\nCOPY server.py /app/\n",
    );
    let (document, _) = audit(&project, &["."]);
    let found = lp608(&document);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!((found[0].1, found[0].3.as_str()), (2, "low"));
    assert!(
        found[0]
            .4
            .contains("into stage `build`: not in the final image"),
        "{found:?}"
    );
}

#[test]
fn a_directory_or_glob_source_sends_what_is_under_it() {
    let project = Project::new();
    project
        .file("deploy/keys/id_ed25519", "key\n")
        .file("deploy/keys/id_ed25519.pub", "public\n")
        .file("deploy/run.sh", "true\n")
        .file("src/main.py", "\n")
        .file(
            "Dockerfile",
            "FROM python:3.12-slim\nCOPY src/ /app/\nCOPY dep* /opt/\n",
        );
    let (document, _) = audit(&project, &["."]);
    let found = lp608(&document);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!((found[0].1, found[0].2), (3, 6));
    assert!(
        found[0]
            .4
            .starts_with("`COPY dep*` sends `deploy/keys/id_ed25519` (an SSH private key)"),
        "{found:?}"
    );
}

#[test]
fn a_compose_build_context_is_the_one_listed() {
    let project = Project::new();
    project
        .file(
            "compose.yaml",
            "services:\n  web:\n    build:\n      context: web\n      dockerfile: ../docker/web.Dockerfile\n",
        )
        .file("docker/web.Dockerfile", "FROM node:20-slim\nCOPY . /app\n")
        .file("web/.env", format!("{VALUE}\n"))
        .file("web/index.js", "\n");
    let (document, _) = audit(&project, &["compose.yaml"]);
    let found = lp608(&document);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].0, "docker/web.Dockerfile");
    assert!(found[0].4.contains("`.env` (an environment file)"));
    // The Dockerfile audited on its own has its own directory as context: no `.env` there.
    let (document, _) = audit(&project, &["docker/web.Dockerfile"]);
    assert!(lp608(&document).is_empty());
}

#[test]
fn a_context_outside_the_audited_paths_is_not_read() {
    // `svc/compose.yaml` builds with the repository root as context: it is not audited, so its
    // `.env` is not listed, and nothing is said (as for an `env_file` outside the project).
    let project = Project::new();
    project
        .file(".env", format!("{VALUE}\n"))
        .file(
            "svc/compose.yaml",
            "services:\n  svc:\n    build:\n      context: ..\n      dockerfile: svc/Dockerfile\n",
        )
        .file("svc/Dockerfile", "FROM alpine:3.20\nCOPY . /app\n");
    let (document, code) = audit(&project, &["svc/compose.yaml"]);
    assert_eq!(code, 0, "{document:#}");
    assert!(lp608(&document).is_empty());
    assert!(document["errors"].as_array().unwrap().is_empty());
    // Named with `--allow-read`, it is read.
    let (document, code) = audit(&project, &["--allow-read", ".", "svc/compose.yaml"]);
    assert_eq!(code, 1, "{document:#}");
    assert_eq!(lp608(&document).len(), 1);
}

#[test]
fn a_dockerfile_on_standard_input_has_no_context() {
    let project = app();
    let output = project
        .command()
        .args(["audit", "--format", "json", "--select", "LP608", "-"])
        .args(["--stdin-filename", "Dockerfile"])
        .write_stdin("FROM python:3.12-slim\nCOPY . /app\n")
        .output()
        .expect("run");
    let document = parse_json(&output);
    assert_eq!(exit_code(&output), 0, "{document:#}");
    assert!(lp608(&document).is_empty());
}

#[test]
fn a_hostile_context_is_listed_within_bounds() {
    let project = Project::new();
    project.file("Dockerfile", "FROM alpine:3.20\nCOPY . /app\n");
    // A FIFO named `.env` (never opened), a symlink loop, a symlink named `.npmrc` to a secret
    // outside, and a `.env` deeper than the listing goes.
    let status = std::process::Command::new("mkfifo")
        .arg(project.path(".env"))
        .status()
        .expect("mkfifo");
    assert!(status.success());
    std::os::unix::fs::symlink(project.root(), project.path("loop")).expect("symlink");
    let outside = tempfile::tempdir().expect("tempdir");
    std::fs::write(outside.path().join("npmrc"), format!("{VALUE}\n")).expect("write");
    std::os::unix::fs::symlink(outside.path().join("npmrc"), project.path(".npmrc"))
        .expect("symlink");
    let deep = format!("{}/.env", ["d"; 40].join("/"));
    project.file(&deep, format!("{VALUE}\n"));
    let started = Instant::now();
    let (document, code) = audit(&project, &["."]);
    assert!(started.elapsed() < Duration::from_secs(60));
    assert_eq!(code, 0, "{document:#}");
    assert!(lp608(&document).is_empty(), "{document:#}");
    // Within the bound, the same file is found.
    project.file("d/d/.env", format!("{VALUE}\n"));
    let (document, _) = audit(&project, &["."]);
    let found = lp608(&document);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].4.contains("`d/d/.env`"), "{found:?}");
}

#[test]
fn harden_leaves_it_saying_what_to_add_to_which_ignore_file() {
    let project = app();
    project.file(".dockerignore", "__pycache__\n");
    let output = project
        .command()
        .args(["harden", "--format", "json", "Dockerfile"])
        .output()
        .expect("run");
    let document = parse_json(&output);
    let left: Vec<&Value> = document["files"][0]["left"]
        .as_array()
        .expect("left")
        .iter()
        .filter(|left| left["rule"] == "LP608")
        .collect();
    assert_eq!(left.len(), 1, "{document:#}");
    assert_eq!(left[0]["reason"], "in-another-file");
    assert_eq!(
        left[0]["detail"],
        "harden edits only the files it was given, not `.dockerignore`: add `/.env` to it"
    );
    assert_eq!(
        std::fs::read_to_string(project.path(".dockerignore")).unwrap(),
        "__pycache__\n",
        "harden wrote the ignore file"
    );
}
