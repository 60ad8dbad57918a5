//! The `daemon` layer through the real binary: a `daemon.json` named on the command line, and
//! `audit --engine` against the real engine (no registry).
//!
//! The engine test builds a `FROM scratch` image holding Debian's static busybox, starts one hardened
//! container and one with `--cap-add SYS_ADMIN` and the engine socket mounted, and removes both and
//! the image afterwards, also when an assertion fails. Without a reachable engine (or without
//! `/bin/busybox`) it prints why and passes, unless `CI=true`.
//!
//! The daemon findings asserted are those of this machine's engine: Docker 20.10, rootful, no
//! `userns-remap`, no AppArmor or SELinux, cgroup v1, socket `root:docker 0660`, and an
//! `/etc/docker/daemon.json` that sets none of the judged options.
#![allow(clippy::print_stderr)]

use std::path::Path;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};

use serde_json::Value;

fn leastpriv(args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_leastpriv"))
        .args(args)
        .envs(env.iter().copied())
        .output()
        .expect("leastpriv runs")
}

/// `(rule, path, line)` of each finding of a JSON report, with its message.
fn findings(report: &Value) -> Vec<(String, String, u64, String)> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|finding| {
            (
                finding["rule"].as_str().unwrap_or_default().to_owned(),
                finding["path"].as_str().unwrap_or_default().to_owned(),
                finding["line"].as_u64().unwrap_or_default(),
                finding["message"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

#[test]
fn judges_a_daemon_json_named_on_the_command_line() {
    let dir = tempfile::tempdir().expect("temporary directory");
    // Named `daemon.json`: known by its name. Named otherwise: known by its content.
    for name in ["daemon.json", "docker-daemon-prod.json"] {
        let path = dir.path().join(name);
        std::fs::write(
            &path,
            "{\n  \"hosts\": [\"unix:///var/run/docker.sock\", \"tcp://0.0.0.0:2375\"],\n  \"icc\": false,\n  \"no-new-privileges\": true,\n  \"userns-remap\": \"default\",\n  \"live-restore\": true,\n  \"userland-proxy\": false,\n  \"seccomp-profile\": \"unconfined\",\n  \"default-ulimits\": {\"nofile\": {\"Name\": \"nofile\", \"Soft\": 1024, \"Hard\": 4096}}\n}\n",
        )
        .expect("write");
        let path = path.to_str().expect("a UTF-8 path");
        let output = leastpriv(&["audit", "--format", "json", path], &[]);
        assert_eq!(output.status.code(), Some(1), "{output:?}");
        let report: Value = serde_json::from_slice(&output.stdout).expect("a JSON report");
        let found: Vec<_> = findings(&report)
            .into_iter()
            .map(|(rule, file, line, _)| (rule, file == path, line))
            .collect();
        assert_eq!(
            found,
            [("LP703".to_owned(), true, 2), ("LP709".to_owned(), true, 8)],
            "{name}"
        );
        assert_eq!(report["findings"][0]["severity"], "critical");
        // The `"tcp://0.0.0.0:2375"` entry.
        assert_eq!(report["findings"][0]["column"], 44);
    }
}

#[test]
fn a_malformed_daemon_json_is_a_located_error() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("daemon.json");
    std::fs::write(
        &path,
        "{\n  \"icc\": \"false\",\n  \"live-restore\": true\n}\n",
    )
    .expect("write");
    let output = leastpriv(
        &[
            "audit",
            "--format",
            "json",
            path.to_str().expect("a UTF-8 path"),
        ],
        &[],
    );
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    let report: Value = serde_json::from_slice(&output.stdout).expect("a JSON report");
    let error = &report["errors"][0];
    assert_eq!((&error["line"], &error["column"]), (&2.into(), &10.into()));
    assert_eq!(
        error["message"],
        "`icc` must be `true` or `false` (dockerd refuses to start otherwise)"
    );
}

#[test]
fn an_unreachable_engine_is_an_error_of_the_report_and_exit_2() {
    let cases: [(&[(&str, &str)], &str); 2] = [
        (
            &[("DOCKER_HOST", "unix:///nonexistent/leastpriv-test.sock")],
            "cannot reach the Docker engine",
        ),
        (
            &[("PATH", "/nonexistent")],
            "--engine needs the `docker` CLI, which is not installed",
        ),
    ];
    for (env, expected) in cases {
        if env[0].0 == "DOCKER_HOST" && !docker_cli_installed() {
            eprintln!("skipping the unreachable-engine case: no docker CLI");
            continue;
        }
        let output = leastpriv(&["audit", "--engine", "--format", "json"], env);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{stderr}");
        // The report is printed, the engine's error in it (the other inputs' findings would be
        // there too: tests/hostile/lost_inputs.rs).
        let report: Value = serde_json::from_slice(&output.stdout).expect("a report");
        let errors = report["errors"].as_array().expect("errors");
        assert_eq!(errors.len(), 1, "{report}");
        assert_eq!(errors[0]["path"], "docker engine");
        let message = errors[0]["message"].as_str().unwrap_or_default();
        assert!(message.starts_with(expected), "{message}");
    }
}

fn docker_cli_installed() -> bool {
    Command::new("docker")
        .arg("--version")
        .output()
        .is_ok_and(|output| output.status.success())
}

fn docker(args: &[&str]) -> Output {
    Command::new("docker")
        .args(args)
        .env("DOCKER_BUILDKIT", "0")
        .output()
        .expect("the docker CLI runs")
}

fn unique(what: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    format!(
        "leastpriv-daemon-test-{what}-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// Whether the engine tests can run here; `false` after saying why (a failure under `CI=true`).
fn engine_available(test: &str) -> bool {
    let ci = std::env::var("CI").is_ok_and(|value| value == "true");
    let why = if !docker_cli_installed() {
        "no docker CLI".to_owned()
    } else if !docker(&["info"]).status.success() {
        "no reachable container engine (`docker info` fails)".to_owned()
    } else if !Path::new("/bin/busybox").is_file() {
        "/bin/busybox is missing (apt-get install busybox-static)".to_owned()
    } else {
        return true;
    };
    assert!(!ci, "{test}: CI=true but {why}");
    eprintln!("skipping {test}: {why}");
    false
}

/// A `FROM scratch` busybox image and the containers started from it, removed when dropped (also
/// while a failed assertion unwinds).
struct Fixture {
    image: String,
    containers: Vec<String>,
}

impl Fixture {
    fn build() -> Self {
        let context = tempfile::tempdir().expect("temporary directory");
        let dir = context.path();
        std::fs::copy("/bin/busybox", dir.join("busybox")).expect("copy busybox");
        std::fs::write(
            dir.join("passwd"),
            "root:x:0:0:root:/:/bin/sh\napp:x:1000:1000:app:/:/bin/sh\n",
        )
        .expect("passwd");
        std::fs::write(
            dir.join("Dockerfile"),
            "FROM scratch\nCOPY busybox /bin/busybox\nCOPY passwd /etc/passwd\n\
             CMD [\"/bin/busybox\", \"sleep\", \"600\"]\n",
        )
        .expect("Dockerfile");
        let fixture = Self {
            image: unique("image"),
            containers: Vec::new(),
        };
        let dir = dir.to_str().expect("a UTF-8 path");
        let output = docker(&[
            "build",
            "--no-cache",
            "--quiet",
            "--tag",
            &fixture.image,
            dir,
        ]);
        assert!(
            output.status.success(),
            "docker build: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        fixture
    }

    /// Starts a detached container with `flags`; its name.
    fn start(&mut self, what: &str, flags: &[&str]) -> String {
        let name = unique(what);
        self.containers.push(name.clone());
        let mut args = vec!["run", "--detach", "--name", &name];
        args.extend(flags);
        args.push(&self.image);
        let output = docker(&args);
        assert!(
            output.status.success(),
            "docker run: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        name
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        for container in &self.containers {
            let _ = docker(&["rm", "--force", container]);
        }
        let _ = docker(&["rmi", "--force", &self.image]);
    }
}

/// The text of 1-based `line` of a container's `docker inspect` element, as leastpriv registers it
/// (the element of the printed array, which starts one line below the array's `[`).
fn inspect_line(container: &str, line: u64) -> String {
    let output = docker(&["inspect", "--type", "container", container]);
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    let index = usize::try_from(line).expect("a line number");
    text.lines()
        .nth(index)
        .unwrap_or_default()
        .trim()
        .to_owned()
}

#[test]
fn audits_running_containers_and_the_daemon_of_the_live_engine() {
    if !engine_available("audits_running_containers_and_the_daemon_of_the_live_engine") {
        return;
    }
    let mut fixture = Fixture::build();
    let hardened = fixture.start(
        "hardened",
        &[
            "--user",
            "1000:1000",
            "--cap-drop",
            "ALL",
            "--security-opt",
            "no-new-privileges",
            "--read-only",
            "--tmpfs",
            "/tmp:size=64m",
        ],
    );
    let exposed = fixture.start(
        "exposed",
        &[
            "--cap-add",
            "SYS_ADMIN",
            "-v",
            "/var/run/docker.sock:/var/run/docker.sock",
        ],
    );

    let output = leastpriv(&["audit", "--engine", "--format", "json"], &[]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    let report: Value = serde_json::from_slice(&output.stdout).expect("a JSON report");
    assert_eq!(report["errors"], serde_json::json!([]));
    let found = findings(&report);

    // Other tests may run containers on the same engine: keep this test's and the daemon's.
    let of = |container: &str| -> Vec<(String, u64, String)> {
        let path = format!("docker inspect {container}");
        found
            .iter()
            .filter(|(_, file, _, _)| *file == path)
            .map(|(rule, _, line, message)| (rule.clone(), *line, message.clone()))
            .collect()
    };
    assert_eq!(of(&hardened), []);
    let exposed_findings = of(&exposed);
    let mut codes: Vec<_> = exposed_findings
        .iter()
        .map(|(rule, ..)| rule.as_str())
        .collect();
    codes.sort_unstable();
    assert_eq!(
        codes,
        ["LP111", "LP201", "LP310", "LP311", "LP501", "LP502"],
        "{exposed_findings:?}"
    );
    let line_of = |code: &str| {
        exposed_findings
            .iter()
            .find(|(rule, ..)| rule == code)
            .map(|(_, line, _)| *line)
            .expect("a finding")
    };
    assert_eq!(inspect_line(&exposed, line_of("LP201")), "\"User\": \"\",");
    assert!(inspect_line(&exposed, line_of("LP111")).contains("/var/run/docker.sock"));
    assert!(inspect_line(&exposed, line_of("LP310")).contains("SYS_ADMIN"));

    let daemon: Vec<_> = found
        .iter()
        .filter(|(_, file, _, _)| !file.starts_with("docker inspect "))
        .map(|(rule, file, _, _)| {
            let file = if file.starts_with("/proc/") && file.ends_with("/status") {
                "/proc/<dockerd>/status"
            } else {
                file.as_str()
            };
            (rule.as_str(), file)
        })
        .collect();
    assert_eq!(
        daemon,
        [
            ("LP704", "/etc/docker/daemon.json"),
            ("LP705", "/etc/docker/daemon.json"),
            ("LP707", "/etc/docker/daemon.json"),
            ("LP712", "/etc/docker/daemon.json"),
            ("LP701", "/proc/<dockerd>/status"),
            ("LP706", "docker info"),
            ("LP702", "docker info"),
            ("LP713", "docker info"),
            ("LP714", "docker info"),
        ]
    );
    // Containers and the daemon are counted as what they are, not as files.
    let summary = &report["summary"];
    let containers = summary["containers"].as_u64().expect("a count");
    assert!(containers >= 2, "two containers at least: {summary}");
    assert_eq!(summary["daemons"], 1, "{summary}");
    assert_eq!(summary["files"], 0, "{summary}");
}
