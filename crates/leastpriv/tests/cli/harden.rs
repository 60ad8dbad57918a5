//! `leastpriv harden` on real files: the guarantees of docs/harden.md, each tested on the real binary.
//!
//! - idempotent: hardening a hardened file changes nothing, byte for byte;
//! - effective: re-auditing the result leaves at medium or above only what harden named as left, and
//!   nothing it claimed to fix;
//! - valid: the result parses with our front-ends and `docker-compose config` accepts it;
//! - secrets: no planted value is ever printed or written;
//! - safe writes: nothing written without `--in-place`, unchanged files untouched, symlinks written
//!   through, modes kept;
//! - layout: comments, anchors and aliases, flow and block styles and CRLF kept (diff snapshots).
//!
//! The corpus test runs the same checks over every Compose file and Kubernetes manifest of
//! `../shared/corpus` that parses, and snapshots what is left for the user by reason.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;
use serde_json::Value;

/// The values planted in the fixtures: never in any output or written file.
const PLANTED: [&str; 3] = [
    "planted-db-secret-1",
    "planted-crlf-secret-2",
    "planted-k8s-secret-3",
];

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/harden")
}

/// A copy of the fixtures in a temporary directory.
fn copied() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temporary directory");
    copy_dir(&fixtures(), dir.path());
    dir
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).expect("directory");
    for entry in fs::read_dir(from).expect("fixtures") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

fn leastpriv(dir: &Path, args: &[&str]) -> Output {
    Command::cargo_bin("leastpriv")
        .expect("the binary")
        .current_dir(dir)
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn json(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|error| panic!("JSON ({error}): {}", stdout(output)))
}

/// Every file under `dir`, with its bytes.
fn files(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut all = BTreeMap::new();
    for entry in walk(dir) {
        all.insert(entry.clone(), fs::read(&entry).expect("read"));
    }
    all
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in fs::read_dir(dir).expect("list").flatten() {
        let path = entry.path();
        if entry.file_type().is_ok_and(|kind| kind.is_dir()) {
            found.extend(walk(&path));
        } else {
            found.push(path);
        }
    }
    found
}

fn assert_no_planted(text: &str, what: &str) {
    for value in PLANTED {
        assert!(
            !text.contains(value),
            "{what} holds a planted secret:\n{text}"
        );
    }
}

/// `(file: container, rule)` pairs of a harden JSON report's `key` list (`changes` or `left`).
fn pairs(report: &Value, key: &str) -> BTreeSet<(String, String)> {
    let mut pairs = BTreeSet::new();
    for file in report["files"].as_array().into_iter().flatten() {
        let path = file["path"].as_str().unwrap_or_default();
        for item in file[key].as_array().into_iter().flatten() {
            let container = format!("{path}: {}", item["container"].as_str().unwrap_or_default());
            match item.get("rules") {
                Some(rules) => {
                    for rule in rules.as_array().into_iter().flatten() {
                        pairs.insert((
                            container.clone(),
                            rule.as_str().unwrap_or_default().to_owned(),
                        ));
                    }
                }
                None => {
                    pairs.insert((
                        container,
                        item["rule"].as_str().unwrap_or_default().to_owned(),
                    ));
                }
            }
        }
    }
    pairs
}

/// The checks every hardened tree must pass: the second run changes nothing, every finding at medium
/// or above left in a hardened file is named as left, and nothing claimed as fixed is still left.
/// Returns the second run's report.
fn assert_idempotent_and_effective(dir: &Path, first: &Value) -> Value {
    let before = files(dir);
    let second = leastpriv(
        dir,
        &[
            "harden",
            ".",
            "--check",
            "--remove-dangerous",
            "--format",
            "json",
        ],
    );
    let report = json(&second);
    let changed: Vec<&str> = report["files"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|file| file["changed"] == true)
        .filter_map(|file| file["path"].as_str())
        .collect();
    assert!(
        changed.is_empty(),
        "a second run would change {changed:?}:\n{}",
        stdout(&second)
    );
    assert_eq!(before, files(dir), "--check wrote something");

    let fixed = pairs(first, "changes");
    let left = pairs(&report, "left");
    let still: Vec<_> = fixed.intersection(&left).collect();
    assert!(
        still.is_empty(),
        "fixed, yet left after hardening: {still:?}"
    );

    let hardened: BTreeSet<String> = report["files"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|file| file["hardened"] == true)
        .filter_map(|file| Some(file["path"].as_str()?.to_owned()))
        .collect();
    let left_codes: BTreeSet<&str> = left.iter().map(|(_, rule)| rule.as_str()).collect();
    let audit = json(&leastpriv(
        dir,
        &["audit", ".", "--format", "json", "--fail-on", "never"],
    ));
    for finding in audit["findings"].as_array().into_iter().flatten() {
        let path = finding["path"].as_str().unwrap_or_default();
        let severity = finding["severity"].as_str().unwrap_or_default();
        let rule = finding["rule"].as_str().unwrap_or_default();
        if !hardened.contains(path) || matches!(severity, "info" | "low") {
            continue;
        }
        assert!(
            left_codes.contains(rule),
            "{path}:{}: {rule} ({severity}) is neither fixed nor named as left",
            finding["line"]
        );
    }
    report
}

#[test]
fn fixture_diffs_keep_comments_anchors_flow_style_and_crlf() {
    let dir = copied();
    let output = leastpriv(dir.path(), &["harden", ".", "--remove-dangerous"]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = stdout(&output);
    assert_no_planted(&text, "the diff");
    // CRLF lines stay CRLF, shown as such in the diff.
    assert!(
        text.contains("+    user: \"10001:10001\"\r\n") || text.contains("+    user: mysql\r\n"),
        "{text}"
    );
    insta::assert_snapshot!("harden_fixture_diffs", text.replace('\r', "␍"));
}

#[test]
fn hardening_is_idempotent_effective_and_keeps_secrets_out() {
    let dir = copied();
    let first = leastpriv(
        dir.path(),
        &[
            "harden",
            ".",
            "--in-place",
            "--remove-dangerous",
            "--format",
            "json",
        ],
    );
    assert_eq!(first.status.code(), Some(0), "{}", stdout(&first));
    let first_report = json(&first);
    assert_no_planted(&stdout(&first), "the JSON report");
    assert_no_planted(&String::from_utf8_lossy(&first.stderr), "stderr");
    for (path, bytes) in files(dir.path()) {
        assert_no_planted(
            &String::from_utf8_lossy(&bytes),
            &path.display().to_string(),
        );
    }
    let second = assert_idempotent_and_effective(dir.path(), &first_report);

    // What is left, and why: the anchored worker and its alias, nothing else.
    let reasons: BTreeSet<(String, String)> = second["files"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|file| file["left"].as_array().cloned().unwrap_or_default())
        .map(|left| {
            (
                left["container"].as_str().unwrap_or_default().to_owned(),
                left["reason"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    insta::assert_debug_snapshot!("harden_fixture_left", reasons);

    let crlf = fs::read_to_string(dir.path().join("crlf/compose.yaml")).expect("read");
    assert!(
        !crlf.replace("\r\n", "").contains('\n'),
        "a bare LF in a CRLF file:\n{crlf:?}"
    );
    let compose = fs::read_to_string(dir.path().join("compose.yaml")).expect("read");
    assert!(
        compose.starts_with("# Shop: comments, anchors, merge keys"),
        "{compose}"
    );
    assert!(
        compose.contains("  worker: &worker\n") && compose.contains("  worker-copy: *worker\n")
    );
    assert!(compose.contains("restart: unless-stopped # keep running"));
}

#[test]
fn docker_compose_accepts_the_hardened_project() {
    let Some(tool) = compose_tool() else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "no Compose tool, and CI=true"
        );
        eprintln!("skipped: neither `docker compose` nor `docker-compose` runs here");
        return;
    };
    let dir = copied();
    let output = leastpriv(
        dir.path(),
        &["harden", ".", "--in-place", "--remove-dangerous"],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    for project in [dir.path().to_path_buf(), dir.path().join("crlf")] {
        let config = std::process::Command::new(&tool[0])
            .args(&tool[1..])
            .args(["-f", "compose.yaml", "config", "-q"])
            .current_dir(&project)
            .output()
            .expect("the Compose tool runs");
        assert!(
            config.status.success(),
            "{}: {}",
            project.display(),
            String::from_utf8_lossy(&config.stderr)
        );
    }
}

fn compose_tool() -> Option<Vec<String>> {
    let runs = |argv: &[&str]| {
        std::process::Command::new(argv[0])
            .args(&argv[1..])
            .output()
            .is_ok_and(|output| output.status.success())
    };
    if runs(&["docker-compose", "version"]) {
        Some(vec!["docker-compose".into()])
    } else if runs(&["docker", "compose", "version"]) {
        Some(vec!["docker".into(), "compose".into()])
    } else {
        None
    }
}

#[test]
fn without_in_place_nothing_is_written_and_check_says_so() {
    let dir = copied();
    let before = files(dir.path());
    let check = leastpriv(dir.path(), &["harden", ".", "--check"]);
    assert_eq!(check.status.code(), Some(1), "{}", stdout(&check));
    let diff = leastpriv(dir.path(), &["harden", "compose.yaml"]);
    assert_eq!(diff.status.code(), Some(0));
    assert!(stdout(&diff).contains("run with --in-place to write them"));
    assert_eq!(before, files(dir.path()));
}

#[test]
fn input_errors_exit_2_and_leave_the_file_alone() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("compose.yaml");
    fs::write(&path, "services:\n  web: {image: x\n").expect("write");
    let output = leastpriv(dir.path(), &["harden", "compose.yaml", "--in-place"]);
    assert_eq!(output.status.code(), Some(2), "{}", stdout(&output));
    assert!(
        stdout(&output).contains("compose.yaml:"),
        "{}",
        stdout(&output)
    );
    assert_eq!(
        fs::read_to_string(&path).expect("read"),
        "services:\n  web: {image: x\n"
    );
}

#[test]
fn in_place_keeps_the_mode_and_writes_through_a_symlink() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let real = dir.path().join("real.yaml");
    fs::write(&real, "services:\n  web:\n    image: example/web\n").expect("write");
    fs::set_permissions(&real, fs::Permissions::from_mode(0o640)).expect("chmod");
    std::os::unix::fs::symlink("real.yaml", dir.path().join("compose.yaml")).expect("symlink");
    let output = leastpriv(dir.path(), &["harden", "compose.yaml", "--in-place"]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    let link = fs::symlink_metadata(dir.path().join("compose.yaml")).expect("lstat");
    assert!(link.file_type().is_symlink(), "the link is still a link");
    let text = fs::read_to_string(&real).expect("read");
    assert!(text.contains("read_only: true"), "{text}");
    let mode = fs::metadata(&real).expect("metadata").permissions().mode();
    assert_eq!(mode & 0o777, 0o640);
    let names: Vec<String> = fs::read_dir(dir.path())
        .expect("list")
        .flatten()
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 2, "no temporary file left: {names:?}");
}

#[test]
fn an_override_file_carries_the_additions_and_names_what_needs_in_place() {
    let dir = copied();
    let original = fs::read(dir.path().join("compose.yaml")).expect("read");
    let output = leastpriv(
        dir.path(),
        &[
            "harden",
            "compose.yaml",
            "--override",
            "hardened.override.yaml",
            "--remove-dangerous",
            "--format",
            "json",
        ],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    assert_eq!(
        fs::read(dir.path().join("compose.yaml")).expect("read"),
        original
    );
    let report = json(&output);
    let reasons: BTreeSet<&str> = report["files"][0]["left"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|left| left["reason"].as_str())
        .collect();
    assert!(reasons.contains("needs-in-place"), "{reasons:?}");
    let text = fs::read_to_string(dir.path().join("hardened.override.yaml")).expect("written");
    assert_no_planted(&text, "the override file");
    insta::assert_snapshot!("harden_override_file", text);
    if let Some(tool) = compose_tool() {
        let config = std::process::Command::new(&tool[0])
            .args(&tool[1..])
            .args([
                "-f",
                "compose.yaml",
                "-f",
                "hardened.override.yaml",
                "config",
                "-q",
            ])
            .current_dir(dir.path())
            .output()
            .expect("the Compose tool runs");
        assert!(
            config.status.success(),
            "{}",
            String::from_utf8_lossy(&config.stderr)
        );
    }
}

#[test]
fn a_profile_decides_capabilities_paths_and_seccomp() {
    let dir = tempfile::tempdir().expect("temporary directory");
    fs::write(
        dir.path().join("compose.yaml"),
        "services:\n  web:\n    image: example/web:1\n    ports: [\"80:80\"]\n",
    )
    .expect("write");
    fs::write(
        dir.path().join("web.profile.json"),
        r#"{"schema": 1, "syscalls": ["read"], "capabilities": ["CAP_NET_BIND_SERVICE", "CAP_CHOWN"],
            "written_paths": ["/var/lib/web/cache", "/run/web.pid"], "ports": [],
            "seccomp_profile": "web.seccomp.json",
            "run": {"command": [], "service": "web", "duration_ms": 1, "arch": "x86_64",
                    "recorder": "ebpf", "runs": 1}}"#,
    )
    .expect("write");
    let output = leastpriv(
        dir.path(),
        &[
            "harden",
            "compose.yaml",
            "--profile",
            "web.profile.json",
            "--in-place",
        ],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    let text = fs::read_to_string(dir.path().join("compose.yaml")).expect("read");
    insta::assert_snapshot!("harden_with_profile", text);
}

/// The loop of the worked example: a file hardened with the safe defaults has no finding left, and
/// the profile recorded afterwards still tightens it: the profile's seccomp filter is written in
/// Compose, Kubernetes (`Localhost`) and `docker run` alike, once, and only when the confinement
/// layer is selected.
#[test]
fn a_profile_tightens_a_file_with_no_finding_left() {
    let dir = tempfile::tempdir().expect("temporary directory");
    fs::write(
        dir.path().join("compose.yaml"),
        "services:\n  web:\n    image: example/web:1\n    user: \"10001:10001\"\n    cap_drop: [ALL]\n    security_opt: [\"no-new-privileges:true\"]\n    read_only: true\n",
    )
    .expect("write");
    fs::write(
        dir.path().join("pod.yaml"),
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n    - name: web\n      image: example/web:1\n      securityContext:\n        runAsNonRoot: true\n        runAsUser: 10001\n        allowPrivilegeEscalation: false\n        readOnlyRootFilesystem: true\n        capabilities:\n          drop: [ALL]\n        seccompProfile:\n          type: RuntimeDefault\n",
    )
    .expect("write");
    fs::write(
        dir.path().join("web.profile.json"),
        r#"{"schema": 1, "syscalls": ["read"], "capabilities": [], "written_paths": [], "ports": [],
            "seccomp_profile": "web.seccomp.json",
            "run": {"command": [], "image": "example/web:1", "duration_ms": 1, "arch": "x86_64",
                    "recorder": "ebpf", "runs": 1}}"#,
    )
    .expect("write");
    let files = ["compose.yaml", "pod.yaml"];
    let before: Vec<String> = files
        .iter()
        .map(|name| fs::read_to_string(dir.path().join(name)).expect("read"))
        .collect();
    let audit = leastpriv(
        dir.path(),
        &["audit", "--format", "json", "compose.yaml", "pod.yaml"],
    );
    let report = json(&audit);
    let medium: Vec<&Value> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| matches!(f["severity"].as_str(), Some("medium" | "high" | "critical")))
        .collect();
    assert!(
        medium.is_empty(),
        "the files are hardened already: {medium:?}"
    );

    // Another layer selected: nothing to do.
    let other = leastpriv(
        dir.path(),
        &[
            "harden",
            "--check",
            "--profile",
            "web.profile.json",
            "--select",
            "user",
            "compose.yaml",
            "pod.yaml",
        ],
    );
    assert_eq!(other.status.code(), Some(0), "{}", stdout(&other));

    let output = leastpriv(
        dir.path(),
        &[
            "harden",
            "--in-place",
            "--profile",
            "web.profile.json",
            "compose.yaml",
            "pod.yaml",
        ],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    let compose = fs::read_to_string(dir.path().join("compose.yaml")).expect("read");
    assert_eq!(
        compose,
        before[0].replace(
            "[\"no-new-privileges:true\"]",
            "[\"no-new-privileges:true\", seccomp=./web.seccomp.json]"
        )
    );
    let pod = fs::read_to_string(dir.path().join("pod.yaml")).expect("read");
    assert_eq!(
        pod,
        before[1].replace(
            "type: RuntimeDefault\n",
            "type: Localhost\n          localhostProfile: web.seccomp.json\n"
        ),
        "{pod}"
    );
    let again = leastpriv(
        dir.path(),
        &[
            "harden",
            "--check",
            "--profile",
            "web.profile.json",
            "compose.yaml",
            "pod.yaml",
        ],
    );
    assert_eq!(again.status.code(), Some(0), "{}", stdout(&again));
    assert!(
        again.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );

    // A profile that describes no container hardened is said to be unused.
    fs::write(
        dir.path().join("other.yaml"),
        "services:\n  api:\n    image: example/api:1\n",
    )
    .expect("write");
    let unused = leastpriv(
        dir.path(),
        &["harden", "--profile", "web.profile.json", "other.yaml"],
    );
    assert_eq!(unused.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&unused.stderr),
        "leastpriv: note: --profile web.profile.json describes containers of the image `example/web:1`, and no container hardened here is one: it was not used\n"
    );
}

/// Every Compose file and Kubernetes manifest of the shared corpus that parses, hardened in a copy
/// with `--in-place --remove-dangerous`: idempotent, effective, and what is left counted by reason.
#[test]
fn the_corpus_hardens_idempotently_and_effectively() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus");
    if !corpus.is_dir() {
        eprintln!("skipped: {} is absent", corpus.display());
        return;
    }
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut copied = 0;
    for (index, path) in walk(&corpus).into_iter().enumerate() {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_owned();
        let Ok(text) = fs::read_to_string(&path) else {
            continue;
        };
        let compose = leastpriv_frontend::compose::is_compose_file_name(&name);
        let manifest =
            (name.ends_with(".yaml") || name.ends_with(".yml") || name.ends_with(".json"))
                && leastpriv_frontend::kubernetes::looks_like_manifest(&text);
        if !(compose || manifest) {
            continue;
        }
        let target = dir.path().join(format!("{index:05}"));
        fs::create_dir_all(&target).expect("directory");
        fs::write(target.join(&name), text).expect("copy");
        copied += 1;
    }
    assert!(copied > 0, "the corpus holds Compose files and manifests");
    let first = leastpriv(
        dir.path(),
        &[
            "harden",
            ".",
            "--in-place",
            "--remove-dangerous",
            "--format",
            "json",
        ],
    );
    let first_report = json(&first);
    // Files that do not parse are no part of the check: drop them (they were not written).
    let mut unparsed = 0;
    for error in first_report["errors"].as_array().into_iter().flatten() {
        let error = error.as_str().unwrap_or_default();
        assert!(
            !error.contains("would not parse again"),
            "harden broke a file: {error}"
        );
        let path = error.split(':').next().unwrap_or_default();
        if !path.is_empty() && dir.path().join(path).is_file() {
            fs::remove_file(dir.path().join(path)).expect("remove");
            unparsed += 1;
        }
    }
    let second = assert_idempotent_and_effective(dir.path(), &first_report);
    let mut left_by_reason: BTreeMap<String, usize> = BTreeMap::new();
    for left in second["files"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|file| file["left"].as_array().cloned().unwrap_or_default())
    {
        *left_by_reason
            .entry(left["reason"].as_str().unwrap_or_default().to_owned())
            .or_default() += 1;
    }
    let changes: usize = first_report["files"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|file| file["changes"].as_array().map_or(0, Vec::len))
        .sum();
    eprintln!(
        "corpus: {copied} files, {unparsed} not parsed, {changes} changes, left {left_by_reason:?}"
    );
    insta::assert_debug_snapshot!("harden_corpus_left_by_reason", left_by_reason);
}

/// A Compose service built from an audited Dockerfile runs as that Dockerfile's non-root user.
#[test]
fn a_built_service_gets_its_dockerfiles_non_root_user() {
    let dir = tempfile::tempdir().expect("temporary directory");
    fs::write(
        dir.path().join("Dockerfile"),
        "FROM debian:bookworm\nRUN useradd -u 10002 app\nUSER app\n",
    )
    .expect("write");
    fs::write(
        dir.path().join("compose.yaml"),
        "services:\n  web:\n    build: .\n    user: root # for debugging\n",
    )
    .expect("write");
    let output = leastpriv(
        dir.path(),
        &["harden", "compose.yaml", "--in-place", "--select", "user"],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    let text = fs::read_to_string(dir.path().join("compose.yaml")).expect("read");
    assert_eq!(
        text,
        "services:\n  web:\n    build: .\n    user: app # for debugging\n"
    );
}

/// A project's own image reads a secret from a file once `leastpriv.toml` says so: the service's
/// secret moves, sharing one Compose secret with the database's same value, and a declared image's
/// `docker run -e` becomes a secret file; a variable nobody declared is left with the way to declare
/// it.
#[test]
fn declared_secret_files_move_a_built_services_secret() {
    let dir = tempfile::tempdir().expect("temporary directory");
    fs::write(
        dir.path().join("leastpriv.toml"),
        "[harden.secret-files]\napi = [\"API_DB_PASSWORD\"]\n\"example/worker\" = [\"TOKEN\"]\n",
    )
    .expect("write");
    fs::write(
        dir.path().join("compose.yaml"),
        "services:\n  api:\n    build: .\n    environment:\n      API_DB_PASSWORD: planted-db-secret-1\n      SESSION_SECRET: kept-in-place-value-9\n  db:\n    image: postgres:16\n    environment:\n      POSTGRES_PASSWORD: planted-db-secret-1\n",
    )
    .expect("write");
    fs::write(
        dir.path().join("run.sh"),
        "docker run -d -e TOKEN=planted-k8s-secret-3 example/worker:2\ndocker run -d -e TOKEN=planted-k8s-secret-3 example/other:2\n",
    )
    .expect("write");
    fs::write(
        dir.path().join("Dockerfile"),
        "FROM scratch\nUSER 10001:10001\n",
    )
    .expect("write");
    let output = leastpriv(
        dir.path(),
        &[
            "harden",
            "--format",
            "json",
            "--select",
            "secrets",
            "--in-place",
            "compose.yaml",
            "run.sh",
        ],
    );
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report = json(&output);
    assert_no_planted(&report.to_string(), "the report");
    let compose = fs::read_to_string(dir.path().join("compose.yaml")).expect("read");
    assert_no_planted(&compose, "compose.yaml");
    assert!(
        compose.contains("      API_DB_PASSWORD_FILE: /run/secrets/api_db_password\n"),
        "{compose}"
    );
    assert!(
        compose.contains("      POSTGRES_PASSWORD_FILE: /run/secrets/api_db_password\n"),
        "{compose}"
    );
    assert!(
        compose.contains("      SESSION_SECRET: kept-in-place-value-9\n"),
        "{compose}"
    );
    let script = fs::read_to_string(dir.path().join("run.sh")).expect("read");
    assert!(
        script.contains("-e TOKEN_FILE=/run/secrets/token example/worker:2"),
        "{script}"
    );
    // An image nobody declared takes the value from the caller's environment instead.
    assert!(
        script.contains("\ndocker run -d -e TOKEN example/other:2\n"),
        "{script}"
    );
    assert_no_planted(&script, "run.sh");
    // What no declaration covers is left, with the way to declare it.
    let left: Vec<(String, String, String)> = report["files"]
        .as_array()
        .expect("files")
        .iter()
        .flat_map(|file| file["left"].as_array().into_iter().flatten())
        .map(|item| {
            (
                item["container"].as_str().unwrap_or_default().to_owned(),
                item["reason"].as_str().unwrap_or_default().to_owned(),
                item["detail"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let containers: Vec<&str> = left
        .iter()
        .map(|(container, ..)| container.as_str())
        .collect();
    assert_eq!(
        containers,
        ["api", "docker run example/other:2"],
        "{left:?}"
    );
    for (container, reason, detail) in &left {
        assert_eq!(reason, "no-file-convention", "{container}");
        assert!(detail.contains("[harden.secret-files]"), "{detail}");
    }
}

/// A declared name that is not a variable's is an error at its line and column, and nothing runs.
#[test]
fn a_declared_secret_file_that_is_no_variable_is_a_located_error() {
    let dir = tempfile::tempdir().expect("temporary directory");
    fs::write(
        dir.path().join("leastpriv.toml"),
        "[harden.secret-files]\nweb = [\"DB_PASSWORD\", \"2BAD-NAME\"]\n",
    )
    .expect("write");
    fs::write(
        dir.path().join("compose.yaml"),
        "services:\n  web:\n    image: app:1\n",
    )
    .expect("write");
    let output = leastpriv(dir.path(), &["harden", "compose.yaml"]);
    assert_eq!(output.status.code(), Some(2));
    let message = String::from_utf8_lossy(&output.stderr);
    assert!(
        message.contains(
            "leastpriv.toml:2:23: [harden.secret-files]: not an environment variable name"
        ),
        "{message}"
    );
}

/// Standard input: the diff by default, the hardened text with `--in-place` (as a formatter does).
#[test]
fn standard_input_is_hardened_to_standard_output() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let input = "services:\n  db:\n    image: postgres:16\n    environment:\n      POSTGRES_PASSWORD: planted-db-secret-1\n";
    let run = |extra: &[&str]| {
        let mut args = vec!["harden", "-", "--stdin-filename", "compose.yaml"];
        args.extend(extra);
        Command::cargo_bin("leastpriv")
            .expect("the binary")
            .current_dir(dir.path())
            .args(&args)
            .write_stdin(input)
            .output()
            .expect("runs")
    };
    let diff = run(&[]);
    assert_eq!(diff.status.code(), Some(0));
    assert!(
        stdout(&diff).starts_with("--- a/compose.yaml\n+++ b/compose.yaml\n"),
        "{}",
        stdout(&diff)
    );
    assert_no_planted(&stdout(&diff), "the diff");
    let hardened = run(&["--in-place"]);
    assert_eq!(hardened.status.code(), Some(0));
    let text = stdout(&hardened);
    assert!(text.starts_with("services:\n  db:\n"), "{text}");
    assert!(
        text.contains("POSTGRES_PASSWORD_FILE: /run/secrets/postgres_password"),
        "{text}"
    );
    assert_no_planted(&text, "the hardened text");
    assert_no_planted(&String::from_utf8_lossy(&hardened.stderr), "stderr");
}

/// `-f a -f b`: one project, judged merged as `audit -f` judges it. A setting the second file
/// already writes is not added to the first; a finding about a value the second file writes is
/// fixed there; what neither writes goes where the service is first defined. The result is
/// idempotent, the merged project's re-audit leaves only what harden named, and docker-compose
/// accepts the two files together.
#[test]
fn a_project_of_several_files_is_hardened_merged() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let base = "# The project's base file.\nservices:\n  web:\n    image: nginx:1.27\n    ports:\n      - \"8080:80\"\n  db:\n    image: postgres:16\n    environment:\n      POSTGRES_DB: shop\n";
    let prod = "# Production settings.\nservices:\n  web:\n    user: \"101:101\" # nginx's own user\n    read_only: false\n    cap_add:\n      - SYS_ADMIN\n      - NET_BIND_SERVICE\n  db:\n    read_only: true\n    environment:\n      POSTGRES_PASSWORD: planted-db-secret-1\n";
    fs::write(dir.path().join("compose.yaml"), base).expect("write");
    fs::write(dir.path().join("compose.prod.yaml"), prod).expect("write");
    let project = ["-f", "compose.yaml", "-f", "compose.prod.yaml"];
    let run = |extra: &[&str]| {
        let mut args = vec!["harden"];
        args.extend(project);
        args.extend(["--remove-dangerous", "--format", "json"]);
        args.extend(extra);
        leastpriv(dir.path(), &args)
    };
    let first = run(&["--in-place"]);
    assert_eq!(first.status.code(), Some(0), "{}", stdout(&first));
    assert_no_planted(&stdout(&first), "the JSON report");
    let first_report = json(&first);
    let base_after = fs::read_to_string(dir.path().join("compose.yaml")).expect("read");
    let prod_after = fs::read_to_string(dir.path().join("compose.prod.yaml")).expect("read");
    assert_no_planted(&base_after, "compose.yaml");
    assert_no_planted(&prod_after, "compose.prod.yaml");

    // A service's lines: those under `  name:`, indented deeper.
    let section = |text: &str, service: &str| -> String {
        let header = format!("  {service}:");
        text.lines()
            .skip_while(|line| *line != header)
            .skip(1)
            .take_while(|line| line.starts_with("    "))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let (base_web, prod_web) = (section(&base_after, "web"), section(&prod_after, "web"));
    // `user:` is the override's; not written again in the base file.
    assert!(!base_web.contains("user:"), "{base_after}");
    assert!(
        prod_web.contains("user: \"101:101\" # nginx's own user"),
        "{prod_after}"
    );
    // `read_only: false` is fixed where it is written; the base file gets none.
    assert!(!base_web.contains("read_only"), "{base_after}");
    assert!(prod_web.contains("read_only: true"), "{prod_after}");
    // The dangerous capability is taken out of the file that adds it; what it keeps stays.
    assert!(!prod_after.contains("SYS_ADMIN"), "{prod_after}");
    assert!(prod_web.contains("NET_BIND_SERVICE"), "{prod_after}");
    assert!(!base_after.contains("NET_BIND_SERVICE"), "{base_after}");
    // New keys go where the service is first defined.
    assert!(base_web.contains("cap_drop:"), "{base_after}");
    assert!(base_web.contains("no-new-privileges:true"), "{base_after}");
    assert!(!prod_web.contains("cap_drop"), "{prod_after}");
    // db: read_only is the override's; its user is added in the base file; its password, written
    // in the override, becomes a secret there.
    let (base_db, prod_db) = (section(&base_after, "db"), section(&prod_after, "db"));
    assert!(!base_db.contains("read_only"), "{base_after}");
    assert!(base_db.contains("user:"), "{base_after}");
    assert!(
        prod_db.contains("POSTGRES_PASSWORD_FILE: /run/secrets/postgres_password"),
        "{prod_after}"
    );
    assert!(base_after.starts_with("# The project's base file.\n"));
    assert!(prod_after.starts_with("# Production settings.\n"));
    // Changes are reported in the file that got them.
    let changed: BTreeSet<String> = first_report["files"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|file| file["changed"] == true)
        .filter_map(|file| Some(file["path"].as_str()?.to_owned()))
        .collect();
    assert_eq!(
        changed,
        BTreeSet::from(["compose.yaml".to_owned(), "compose.prod.yaml".to_owned()])
    );

    // Idempotent: a second run changes neither file.
    let before = files(dir.path());
    let second = run(&["--check"]);
    assert_eq!(second.status.code(), Some(0), "{}", stdout(&second));
    let second_report = json(&second);
    assert_eq!(before, files(dir.path()), "--check wrote something");
    let fixed = pairs(&first_report, "changes");
    let left = pairs(&second_report, "left");
    let still: Vec<_> = fixed.intersection(&left).collect();
    assert!(
        still.is_empty(),
        "fixed, yet left after hardening: {still:?}"
    );

    // Effective: the merged project's re-audit leaves at medium or above only what harden named.
    let left_codes: BTreeSet<&str> = left.iter().map(|(_, rule)| rule.as_str()).collect();
    let mut audit_args = vec!["audit"];
    audit_args.extend(project);
    audit_args.extend(["--format", "json", "--fail-on", "never"]);
    let audit = json(&leastpriv(dir.path(), &audit_args));
    let findings = audit["findings"].as_array().cloned().unwrap_or_default();
    assert!(!findings.is_empty() || left_codes.is_empty());
    for finding in &findings {
        let severity = finding["severity"].as_str().unwrap_or_default();
        let rule = finding["rule"].as_str().unwrap_or_default();
        if matches!(severity, "info" | "low") {
            continue;
        }
        assert!(
            left_codes.contains(rule),
            "{}:{}: {rule} ({severity}) is neither fixed nor named as left",
            finding["path"],
            finding["line"]
        );
    }

    // docker-compose merges the two files as hardened.
    if let Some(tool) = compose_tool() {
        let config = std::process::Command::new(&tool[0])
            .args(&tool[1..])
            .args(project)
            .args(["config", "-q"])
            .current_dir(dir.path())
            .output()
            .expect("the Compose tool runs");
        assert!(
            config.status.success(),
            "{}\n{base_after}\n{prod_after}",
            String::from_utf8_lossy(&config.stderr)
        );
    } else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "no Compose tool, and CI=true"
        );
        eprintln!("skipped docker-compose config: no Compose tool runs here");
    }
}
