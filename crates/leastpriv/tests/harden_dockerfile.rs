//! `leastpriv harden` on Dockerfiles and `docker run` scripts: the real binary on copies of the
//! fixtures in `fixtures-harden-dockerfile/`, in temporary directories.
//!
//! Each fixture is hardened and checked for what the issue guarantees: the diff (snapshot), the file
//! written with `--in-place` parses with our front-ends and hardens to itself byte for byte, the
//! audit of the result keeps no finding at medium or above except those harden said it left, and
//! no planted secret value reaches any output or file. The images that need no BuildKit are built
//! on the real engine (`FROM scratch` with the host's static busybox) and run as the non-root user;
//! a corpus test hardens every Dockerfile of `../shared/corpus` the same way.

#![allow(clippy::print_stderr)] // a skipped test says why on stderr

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;
use support::skip;

/// The secret values planted in the fixtures: none may appear in any output or hardened file.
const PLANTED: &[&str] = &[
    "sk_live_51Hescape0directive0value0000",
    "s3cr3t",
    "glpat-planted0deploy0token0xyz",
    "planted-db-password-4711",
    "sk_live_plantedStripeKey0000000000",
    "planted-Pg-passw0rd-1234",
    "ghp_FAKE0driftwood0example0token00000000",
    "driftwood-dev-password",
    "not-a-real-secret-key-driftwood-dev",
    "AKIA2DRIFTWOODFAKE3Q",
    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
];

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures-harden-dockerfile")
}

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `leastpriv ARGS…` in `dir`.
fn leastpriv(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_leastpriv"))
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .args(args)
        .output()
        .expect("run leastpriv")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn assert_no_secret(what: &str, bytes: &[u8]) {
    let shown = text(bytes);
    for secret in PLANTED {
        assert!(
            !shown.contains(secret),
            "a planted secret value reached {what}"
        );
    }
}

/// A temporary directory holding a copy of the fixture `name`.
fn copy_of(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temporary directory");
    std::fs::copy(fixtures().join(name), dir.path().join(name)).expect("copy the fixture");
    dir
}

/// Rule codes of the audit's findings at medium or above, with their count.
fn medium_or_above(dir: &Path, path: &str) -> BTreeMap<String, usize> {
    let output = leastpriv(
        dir,
        &["audit", "--format", "json", "--fail-on", "critical", path],
    );
    assert_no_secret("the audit", &output.stdout);
    let document: Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|error| panic!("audit JSON ({error}): {}", text(&output.stderr)));
    assert!(
        document["errors"].as_array().is_none_or(Vec::is_empty),
        "the hardened file does not parse: {document:#}"
    );
    let mut codes = BTreeMap::new();
    for finding in document["findings"].as_array().expect("findings") {
        let severity = finding["severity"].as_str().unwrap_or_default();
        if matches!(severity, "medium" | "high" | "critical") {
            *codes
                .entry(finding["rule"].as_str().unwrap_or_default().to_owned())
                .or_insert(0) += 1;
        }
    }
    codes
}

/// Hardens a copy of the fixture with `flags`: the diff printed without `--in-place` (snapshotted),
/// then the file written with it, checked for idempotence and effectiveness. Returns the hardened
/// text and the findings at medium or above that remain.
fn harden_fixture(name: &str, flags: &[&str]) -> (String, BTreeMap<String, usize>) {
    let dir = copy_of(name);
    let original = std::fs::read(dir.path().join(name)).expect("read");
    let mut args = vec!["harden"];
    args.extend(flags);
    args.push(name);
    let shown = leastpriv(dir.path(), &args);
    assert_eq!(shown.status.code(), Some(0), "{}", text(&shown.stderr));
    assert_no_secret("harden's output", &shown.stdout);
    assert_no_secret("harden's errors", &shown.stderr);
    assert_eq!(
        std::fs::read(dir.path().join(name)).expect("read"),
        original,
        "without --in-place nothing is written"
    );
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_suffix(format!("{name}{}", flags.join("")));
    settings.bind(|| insta::assert_snapshot!("diff", text(&shown.stdout)));

    let mut in_place = args.clone();
    in_place.insert(1, "--in-place");
    let written = leastpriv(dir.path(), &in_place);
    assert_eq!(written.status.code(), Some(0), "{}", text(&written.stderr));
    assert_no_secret("harden --in-place's output", &written.stdout);
    let hardened = std::fs::read(dir.path().join(name)).expect("read");
    assert_no_secret("the hardened file", &hardened);

    // Idempotent: `--check` finds nothing to change, and a second run writes the same bytes.
    let mut check = args.clone();
    check.insert(1, "--check");
    let checked = leastpriv(dir.path(), &check);
    assert_eq!(checked.status.code(), Some(0), "{}", text(&checked.stdout));
    let again = leastpriv(dir.path(), &in_place);
    assert_eq!(again.status.code(), Some(0));
    assert_eq!(
        std::fs::read(dir.path().join(name)).expect("read"),
        hardened
    );

    let hardened = String::from_utf8(hardened).expect("UTF-8");
    (hardened, medium_or_above(dir.path(), name))
}

#[test]
fn debian() {
    let (hardened, left) = harden_fixture("debian.Dockerfile", &[]);
    assert!(hardened.contains("useradd --uid 10001"), "{hardened}");
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn alpine_with_setuid_bits() {
    let (hardened, left) = harden_fixture("alpine.Dockerfile", &[]);
    assert!(hardened.contains("adduser -S -D -H -u 10001"), "{hardened}");
    assert!(!hardened.contains("u+s") && !hardened.contains("4755"));
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn scratch_multi_stage() {
    let (hardened, left) = harden_fixture("scratch.Dockerfile", &[]);
    assert!(
        hardened.contains("USER 10001:10001\nENTRYPOINT"),
        "{hardened}"
    );
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn multi_stage_with_a_build_secret() {
    let (hardened, left) = harden_fixture("multi-stage.Dockerfile", &[]);
    assert!(hardened.starts_with("# syntax=docker/dockerfile:1\n"));
    assert!(hardened.contains("RUN --mount=type=secret,id=npm_token,env=NPM_TOKEN "));
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn escape_directive() {
    let (hardened, left) = harden_fixture("escape.Dockerfile", &[]);
    assert!(hardened.starts_with("# escape=`\n"));
    assert!(hardened.contains("ENV APP_HOME=/opt/app `\n    LANG=C.UTF-8\n"));
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn crlf_line_ends() {
    let (hardened, left) = harden_fixture("crlf.Dockerfile", &[]);
    assert_eq!(
        hardened.matches('\n').count(),
        hardened.matches("\r\n").count(),
        "every line still ends with CRLF"
    );
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn secrets_move_out_and_dangerous_steps_wait_for_the_flag() {
    let (_, left) = harden_fixture("secrets.Dockerfile", &[]);
    assert_eq!(
        left.keys().collect::<Vec<_>>(),
        ["LP605"],
        "the credential file step is left without --remove-dangerous"
    );
    let (hardened, left) = harden_fixture("secrets.Dockerfile", &["--remove-dangerous"]);
    assert!(left.is_empty(), "{left:?}");
    assert!(!hardened.contains(".netrc") && !hardened.contains(".env"));
}

#[test]
fn docker_run_script() {
    let (_, left) = harden_fixture("run.sh", &[]);
    let left: Vec<_> = left.keys().cloned().collect();
    assert_eq!(
        left,
        ["LP110", "LP111", "LP115", "LP401"],
        "privileged (and the seccomp filter it turns off), socket, host pid"
    );
    let (hardened, left) = harden_fixture("run.sh", &["--remove-dangerous"]);
    assert!(left.is_empty(), "{left:?}");
    // The rest of the script is untouched.
    assert!(hardened.starts_with("#!/usr/bin/env bash\n# Starts the stack by hand."));
    assert!(hardened.ends_with("\necho \"started $NAME\"\n"));
}

/// A build context holding the host's static busybox and `dockerfile`; `None` (skipped) without an
/// engine or busybox.
fn busybox_context(test: &str, dockerfile: &str) -> Option<tempfile::TempDir> {
    if Command::new("docker")
        .args(["version", "--format", "{{.Server.Version}}"])
        .output()
        .map_or(true, |output| !output.status.success())
    {
        return skip(test, "no container engine (`docker version` fails)");
    }
    let busybox = Path::new("/bin/busybox");
    if !busybox.is_file() {
        return skip(
            test,
            "no static /bin/busybox (apt-get install busybox-static)",
        );
    }
    let context = tempfile::tempdir().expect("temporary directory");
    std::fs::copy(busybox, context.path().join("busybox")).expect("copy busybox");
    std::fs::write(context.path().join("Dockerfile"), dockerfile).expect("write");
    Some(context)
}

/// Builds `dockerfile` (with the host's static busybox in the context) with the classic builder,
/// runs it with `command`, and returns its output; `None` (skipped) without an engine or busybox.
fn build_and_run(
    test: &str,
    dockerfile: &str,
    extra: &[(&str, &str)],
    command: &[&str],
) -> Option<String> {
    let context = busybox_context(test, dockerfile)?;
    for (name, contents) in extra {
        std::fs::write(context.path().join(name), contents).expect("write");
    }
    let hardened = leastpriv(context.path(), &["harden", "--in-place", "Dockerfile"]);
    assert_eq!(
        hardened.status.code(),
        Some(0),
        "{}",
        text(&hardened.stderr)
    );
    let tag = format!("leastpriv-test/harden-{}-{test}:1", std::process::id());
    let built = Command::new("docker")
        .args(["build", "--no-cache", "-q", "-t", &tag, "."])
        .env("DOCKER_BUILDKIT", "0")
        .current_dir(context.path())
        .output()
        .expect("docker build");
    assert!(built.status.success(), "{}", text(&built.stderr));
    let ran = Command::new("docker")
        .args(["run", "--rm", &tag])
        .args(command)
        .output()
        .expect("docker run");
    let _ = Command::new("docker").args(["rmi", "-f", &tag]).output();
    assert!(ran.status.success(), "{}", text(&ran.stderr));
    Some(text(&ran.stdout))
}

#[test]
fn a_hardened_scratch_image_builds_and_runs_as_the_non_root_user() {
    let dockerfile = "FROM scratch AS tools\n\
                      COPY busybox /bin/busybox\n\
                      RUN [\"/bin/busybox\", \"--install\", \"-s\", \"/bin\"]\n\
                      \n\
                      FROM tools\n\
                      ENV API_TOKEN=tok_planted0engine0test0value0\n\
                      COPY .env /app/.env\n\
                      COPY app.sh /app/app.sh\n\
                      RUN chmod 4755 /bin/busybox\n\
                      CMD [\"/bin/sh\", \"/app/app.sh\"]\n";
    let script = "id -u\nid -g\nenv | grep -c TOKEN || true\ntest -e /app/.env && echo env-file\nstat -L -c %a /bin/busybox\n";
    let Some(output) = build_and_run(
        "a_hardened_scratch_image_builds_and_runs_as_the_non_root_user",
        dockerfile,
        &[(".env", "TOKEN=planted\n"), ("app.sh", script)],
        &[],
    ) else {
        return;
    };
    assert_eq!(output, "10001\n10001\n0\n755\n");
}

/// A `docker run` script hardened and run on the engine: Docker accepts every flag harden writes,
/// and inside the container the process is uid 10001 with no capability, no-new-privileges, a
/// read-only root and a writable `/tmp`.
#[test]
fn a_hardened_docker_run_script_runs_on_the_engine() {
    let test = "a_hardened_docker_run_script_runs_on_the_engine";
    let tag = format!("leastpriv-test/harden-run-{}:1", std::process::id());
    let image = "FROM scratch\n\
                 COPY busybox /bin/busybox\n\
                 RUN [\"/bin/busybox\", \"--install\", \"-s\", \"/bin\"]\n";
    let Some(context) = busybox_context(test, image) else {
        return;
    };
    let built = Command::new("docker")
        .args(["build", "--no-cache", "-q", "-t", &tag, "."])
        .env("DOCKER_BUILDKIT", "0")
        .current_dir(context.path())
        .output()
        .expect("docker build");
    assert!(built.status.success(), "{}", text(&built.stderr));
    let probe = "id -u; touch /tmp/x && echo tmp-ok; touch /x 2>/dev/null || echo ro-ok; grep -E \"^(NoNewPrivs|CapEff)\" /proc/self/status";
    let script =
        format!("#!/bin/sh\nset -e\ndocker run --rm \\\n    {tag} \\\n    sh -c '{probe}'\n");
    std::fs::write(context.path().join("run.sh"), &script).expect("write");
    let hardened = leastpriv(context.path(), &["harden", "--in-place", "run.sh"]);
    assert_eq!(
        hardened.status.code(),
        Some(0),
        "{}",
        text(&hardened.stderr)
    );
    let ran = Command::new("sh")
        .arg("run.sh")
        .current_dir(context.path())
        .output()
        .expect("run the script");
    let _ = Command::new("docker").args(["rmi", "-f", &tag]).output();
    let written = std::fs::read_to_string(context.path().join("run.sh")).expect("read");
    assert!(ran.status.success(), "{written}\n{}", text(&ran.stderr));
    assert_eq!(
        text(&ran.stdout),
        "10001\ntmp-ok\nro-ok\nCapEff:\t0000000000000000\nNoNewPrivs:\t1\n",
        "{written}"
    );
}

/// Every Dockerfile of `../shared/corpus`, copied into a temporary directory and hardened in place
/// with `--remove-dangerous`: the result hardens to itself, keeps no finding at medium or above
/// that harden did not leave, and the counts of what was left and why are snapshotted.
#[test]
fn corpus_dockerfiles_harden_effectively_and_idempotently() {
    let corpus = repository().join("../shared/corpus");
    if !corpus.is_dir() {
        eprintln!("skipping corpus_dockerfiles_harden_effectively_and_idempotently: ../shared/corpus is absent");
        return;
    }
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut copied = 0;
    let mut stack = vec![corpus.clone()];
    while let Some(next) = stack.pop() {
        for entry in std::fs::read_dir(&next).expect("read corpus") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if leastpriv_frontend::detect_by_name(&path)
                != Some(leastpriv_frontend::InputKind::Dockerfile)
            {
                continue;
            }
            let relative = path.strip_prefix(&corpus).expect("inside the corpus");
            let flat = relative.to_string_lossy().replace('/', "__");
            // A name the Dockerfile front-end recognises: `<flattened path>.Dockerfile`.
            std::fs::copy(&path, dir.path().join(format!("{flat}.Dockerfile"))).expect("copy");
            copied += 1;
        }
    }
    assert!(copied > 100, "the corpus holds Dockerfiles");
    let run = |args: &[&str]| leastpriv(dir.path(), args);
    let hardened = run(&[
        "harden",
        "--in-place",
        "--remove-dangerous",
        "--format",
        "json",
        ".",
    ]);
    assert_no_secret("harden over the corpus", &hardened.stdout);
    let report: Value = serde_json::from_slice(&hardened.stdout)
        .unwrap_or_else(|error| panic!("harden JSON ({error}): {}", text(&hardened.stderr)));
    // Idempotent: a second run writes nothing new (files that do not parse are left as they are,
    // so the exit status says "input errors" and the bytes are compared instead).
    let contents = || {
        let mut all: Vec<(PathBuf, Vec<u8>)> = std::fs::read_dir(dir.path())
            .expect("read")
            .map(|entry| {
                let path = entry.expect("entry").path();
                let bytes = std::fs::read(&path).expect("read");
                (path, bytes)
            })
            .collect();
        all.sort();
        all
    };
    let first = contents();
    let again = run(&[
        "harden",
        "--in-place",
        "--remove-dangerous",
        "--format",
        "json",
        ".",
    ]);
    assert_no_secret("harden over the corpus", &again.stdout);
    let second: Value = serde_json::from_slice(&again.stdout).expect("harden JSON");
    let still_changing: Vec<_> = second["files"]
        .as_array()
        .expect("files")
        .iter()
        .filter(|file| {
            file["changes"]
                .as_array()
                .is_some_and(|changes| !changes.is_empty())
        })
        .map(|file| file["path"].to_string())
        .collect();
    assert!(
        still_changing.is_empty(),
        "changes on a second run: {still_changing:#?}"
    );
    let second = contents();
    let unstable: Vec<_> = first
        .iter()
        .zip(&second)
        .filter(|(a, b)| a != b)
        .map(|(a, _)| a.0.display().to_string())
        .collect();
    assert!(unstable.is_empty(), "hardening again changed {unstable:#?}");
    // Effective: a finding at medium or above that remains was left, with a reason, on that file.
    // A file that does not parse is not hardened (it is an input error), whatever audit still reads.
    let left = left_by_file(&report);
    let unparsed: BTreeSet<String> = report["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|error| {
            error
                .as_str()?
                .split_once(':')
                .map(|(path, _)| path.trim_start_matches("./").to_owned())
        })
        .collect();
    let audit = run(&["audit", "--format", "json", "--fail-on", "critical", "."]);
    let document: Value = serde_json::from_slice(&audit.stdout).expect("audit JSON");
    let mut ineffective = Vec::new();
    for finding in document["findings"].as_array().expect("findings") {
        let severity = finding["severity"].as_str().unwrap_or_default();
        if !matches!(severity, "medium" | "high" | "critical") {
            continue;
        }
        let rule = finding["rule"].as_str().unwrap_or_default();
        let path = finding["path"]
            .as_str()
            .unwrap_or_default()
            .trim_start_matches("./");
        if !unparsed.contains(path) && !left.get(path).is_some_and(|rules| rules.contains(rule)) {
            ineffective.push(format!("{path}: {rule}"));
        }
    }
    assert!(ineffective.is_empty(), "{ineffective:#?}");
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    let files = report["files"].as_array().expect("files");
    counts.insert("files".to_owned(), files.len());
    counts.insert(
        "files changed".to_owned(),
        files.iter().filter(|file| file["changed"] == true).count(),
    );
    counts.insert(
        "input errors".to_owned(),
        report["errors"].as_array().map_or(0, Vec::len),
    );
    for (_, entries) in left_entries(&report) {
        for (rule, reason) in entries {
            *counts.entry(format!("{rule} {reason}")).or_insert(0) += 1;
        }
    }
    insta::assert_yaml_snapshot!("corpus_dockerfiles_left", counts);
}

/// `(path, [(rule, reason)])` of every file of a `harden --format json` report.
fn left_entries(report: &Value) -> Vec<(String, Vec<(String, String)>)> {
    report["files"]
        .as_array()
        .map(|files| {
            files
                .iter()
                .map(|file| {
                    let path = file["path"]
                        .as_str()
                        .unwrap_or_default()
                        .trim_start_matches("./")
                        .to_owned();
                    let left = file["left"]
                        .as_array()
                        .map(|left| {
                            left.iter()
                                .map(|entry| {
                                    (
                                        entry["rule"].as_str().unwrap_or_default().to_owned(),
                                        entry["reason"].as_str().unwrap_or_default().to_owned(),
                                    )
                                })
                                .collect()
                        })
                        .unwrap_or_default();
                    (path, left)
                })
                .collect()
        })
        .unwrap_or_default()
}

fn left_by_file(report: &Value) -> BTreeMap<String, BTreeSet<String>> {
    left_entries(report)
        .into_iter()
        .map(|(path, entries)| (path, entries.into_iter().map(|(rule, _)| rule).collect()))
        .collect()
}
