//! Driftwood on the real engine, with no registry: `examples/driftwood/build.sh` builds its images (a
//! debootstrap'd Debian base brought in with `docker import`, stand-ins for postgres and nginx on it,
//! the web service as a static binary), the hardened Compose project (`hardened/`, what `leastpriv
//! harden` writes, with the web service under its profiled seccomp filter) serves a request end to
//! end through proxy, web service and database, and `verify --compose` passes every hardened service
//! and fails the original on the right layers.
//!
//! Needs root and debootstrap (the first time: the root filesystem is then cached in the target
//! directory), a reachable engine, `docker compose` or `docker-compose`, and a static leastpriv (see
//! `engine.rs`). Without them the test says why and passes, unless `CI=true`. Every Compose project
//! it starts is taken down with its volumes, and every image it built is removed, also when it fails.
#![allow(clippy::print_stderr)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

use leastpriv_verify::engine;
use support::{compose_tool, free_port, get, skip, static_leastpriv, NO_STATIC_BINARY};

mod support;

/// Every image build.sh builds (the projects' own web images go with `down --rmi local`).
const IMAGES: [&str; 3] = [
    "driftwood/debian:bookworm",
    "driftwood/postgres:15",
    "driftwood/nginx:1.22",
];

/// The policy both Compose files are verified against.
const POLICY: &str =
    "non-root,cap-drop-all,no-new-privileges,read-only,seccomp,no-engine-socket,no-secret-env";

fn example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/driftwood")
}

fn run(argv: &[&str], timeout: Duration) -> engine::Output {
    let argv: Vec<String> = argv.iter().map(|word| (*word).to_owned()).collect();
    engine::run(&argv, timeout).unwrap_or_else(|error| panic!("{}: {error}", argv.join(" ")))
}

fn succeeds(argv: &[&str]) -> bool {
    run(argv, Duration::from_secs(30)).code == Some(0)
}

/// The images this test built, removed when dropped.
struct BuiltImages {
    new: Vec<&'static str>,
}

impl BuiltImages {
    fn before_build() -> Self {
        let new = IMAGES
            .into_iter()
            .filter(|image| !succeeds(&["docker", "image", "inspect", image]))
            .collect();
        Self { new }
    }
}

impl Drop for BuiltImages {
    fn drop(&mut self) {
        // The stand-ins first: the base cannot go while images built on it remain.
        for image in self.new.iter().rev() {
            run(
                &["docker", "rmi", "--force", image],
                Duration::from_secs(60),
            );
        }
    }
}

/// A Compose project started by the test, taken down with its volumes and built images when
/// dropped.
struct Project {
    compose: Vec<String>,
    /// The project's directory, where the tool runs: Compose v1 reads a relative `seccomp=FILE`
    /// from its working directory, v2 from the project's.
    directory: PathBuf,
}

impl Project {
    fn up(compose: &[String], file: &Path, name: &str, port: u16) -> Self {
        let mut base = compose.to_vec();
        base.extend(["-p".into(), name.into(), "-f".into()]);
        base.push(file.to_string_lossy().into_owned());
        let directory = file.parent().expect("a directory").to_path_buf();
        let project = Self {
            compose: base,
            directory,
        };
        let mut argv = project.compose.clone();
        argv.extend(["up".into(), "-d".into(), "--build".into()]);
        let mut command = Command::new(&argv[0]);
        command
            .args(&argv[1..])
            .current_dir(&project.directory)
            .env("DRIFTWOOD_PORT", port.to_string());
        let output = command.output().expect("compose runs");
        assert!(
            output.status.success(),
            "{}: {}",
            argv.join(" "),
            String::from_utf8_lossy(&output.stderr)
        );
        project
    }
}

impl Drop for Project {
    fn drop(&mut self) {
        let mut argv = self.compose.clone();
        argv.extend(["down", "--volumes", "--remove-orphans", "--rmi", "local"].map(str::to_owned));
        let _ = Command::new(&argv[0])
            .args(&argv[1..])
            .current_dir(&self.directory)
            .output();
    }
}

/// `leastpriv verify --format json --expect POLICY --compose FILE --service SERVICE`.
fn verify(binary: &Path, file: &str, service: &str) -> (Option<i32>, serde_json::Value) {
    let output = Command::new(env!("CARGO_BIN_EXE_leastpriv"))
        .args([
            "verify",
            "--format",
            "json",
            "--expect",
            POLICY,
            "--probe-binary",
        ])
        .arg(binary)
        .arg("--compose")
        .arg(example().join(file))
        .args(["--service", service])
        .output()
        .expect("leastpriv runs");
    let report = serde_json::from_slice(&output.stdout).unwrap_or_else(|error| {
        panic!(
            "verify {file} {service} printed no report ({error}): {}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    (output.status.code(), report)
}

/// `daemon fail` when container root is host root (no userns-remap or rootless engine).
fn daemon_status(report: &serde_json::Value) -> String {
    let root_is_host_root = report["probe"]["user_namespace"]["uid_map"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|entry| entry[0] == 0 && entry[1] == 0);
    let status = if root_is_host_root { "fail" } else { "pass" };
    format!("daemon {status}")
}

fn statuses(report: &serde_json::Value) -> Vec<String> {
    report["layers"]
        .as_array()
        .expect("layers")
        .iter()
        .map(|layer| format!("{} {}", layer["layer"], layer["status"]).replace('"', ""))
        .collect()
}

#[test]
fn driftwood_runs_hardened_and_verify_tells_it_from_the_original() {
    let test = "driftwood_runs_hardened_and_verify_tells_it_from_the_original";
    if let Err(error) = engine::daemon("docker", &[]) {
        skip::<()>(test, &format!("no container engine ({error})"));
        return;
    }
    let Some(binary) = static_leastpriv() else {
        skip::<()>(test, NO_STATIC_BINARY);
        return;
    };
    let Some(compose) = compose_tool() else {
        skip::<()>(test, "neither `docker compose` nor `docker-compose` runs");
        return;
    };
    let cache = Path::new(env!("CARGO_TARGET_TMPDIR")).join("driftwood-debian-bookworm.tar");
    let base_ready = cache.is_file() || succeeds(&["docker", "image", "inspect", IMAGES[0]]);
    if !base_ready && !Path::new("/usr/sbin/debootstrap").is_file() {
        skip::<()>(test, "debootstrap is missing (apt-get install debootstrap)");
        return;
    }

    let _images = BuiltImages::before_build();
    let output = Command::new("bash")
        .arg(example().join("build.sh"))
        .env("ROOTFS_CACHE", &cache)
        .output()
        .expect("build.sh runs");
    assert!(
        output.status.success(),
        "build.sh failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );

    // Every hardened service keeps every promise, and the policy besides: the web service under
    // its profiled seccomp filter, which the probe runs under too.
    for service in ["db", "proxy"] {
        let (code, report) = verify(&binary, "hardened/compose.yaml", service);
        assert_eq!(code, Some(0), "{service}: {report:#}");
    }
    let (code, report) = verify(&binary, "hardened/compose.yaml", "web");
    assert_eq!(code, Some(0), "{report:#}");
    // Container root is host root unless the engine remaps users: the daemon layer, which the
    // policy does not require (a Compose file cannot change it).
    let daemon = daemon_status(&report);
    assert_eq!(
        statuses(&report),
        [
            "escape pass",
            "user pass",
            "capabilities pass",
            "confinement pass",
            "filesystem pass",
            "secrets pass",
            daemon.as_str()
        ],
        "{report:#}"
    );
    assert_eq!(report["probe"]["uid"], 10001);
    assert_eq!(report["probe"]["rootfs_read_only"], true);
    assert!(report["layers"][5]["evidence"][0].as_str().is_some_and(
        |evidence| evidence.starts_with("secret db_password at /run/secrets/db_password")
    ));
    assert!(
        report["layers"][3]["evidence"][0]
            .as_str()
            .is_some_and(|evidence| evidence.contains("web.seccomp.json loaded")),
        "{report:#}"
    );

    // The original runs as root with Docker's defaults and secrets in its environment; Docker's
    // default seccomp profile holds its confinement layer.
    let (code, report) = verify(&binary, "compose.yaml", "web");
    assert_eq!(code, Some(1), "{report:#}");
    assert_eq!(
        statuses(&report),
        [
            "escape pass",
            "user fail",
            "capabilities fail",
            "confinement pass",
            "filesystem fail",
            "secrets fail",
            daemon.as_str()
        ],
        "{report:#}"
    );
    assert_eq!(report["probe"]["uid"], 0);
    assert_eq!(
        report["probe"]["secret_env_names"],
        serde_json::json!([
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "DB_PASSWORD",
            "SECRET_KEY"
        ])
    );
    assert!(
        !report.to_string().contains("driftwood-dev-password"),
        "a secret value leaked into the report"
    );

    // The original proxy has the engine in reach.
    let (code, report) = verify(&binary, "compose.yaml", "proxy");
    assert_eq!(code, Some(1), "{report:#}");
    assert_eq!(report["layers"][0]["status"], "fail", "{report:#}");
    assert_eq!(
        report["layers"][0]["evidence"][0],
        "broken promise: expect no-engine-socket: /tmp/docker.sock reachable"
    );
    // Mounted on purpose, the socket fails the escape layer all the same: LP111.
    let socket = report["layers"][0]["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .find(|check| check["rule"] == "LP111")
        .expect("the socket, judged as audit judges it");
    assert_eq!(socket["outcome"], "fail");

    // The hardened project serves a request through the proxy, the web service and the database.
    let port = free_port();
    let name = format!("leastpriv-test-driftwood-{}", std::process::id());
    let _project = Project::up(
        &compose,
        &example().join("hardened/compose.yaml"),
        &name,
        port,
    );
    let deadline = Instant::now() + Duration::from_secs(90);
    let mut last = String::new();
    while Instant::now() < deadline {
        match get(port, "/healthz") {
            Ok(response) if response.contains(r#""database":"ok""#) => {
                assert!(
                    response.contains(r#""credentials":"secret file""#),
                    "{response}"
                );
                return;
            }
            Ok(response) => last = response,
            Err(error) => last = error.to_string(),
        }
        thread::sleep(Duration::from_millis(500));
    }
    panic!("the hardened Driftwood did not answer through its proxy within 90 s: {last}");
}
