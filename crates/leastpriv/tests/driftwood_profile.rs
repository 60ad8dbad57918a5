//! Driftwood's web service profiled in its hardened stack, and the stack run with the custom seccomp
//! profile checked in beside it (`examples/driftwood/web.seccomp.json`, made by
//! `examples/driftwood/profile.sh`).
//!
//! 1. `leastpriv profile --compose compose.hardened.yaml --service web`, exercised with `/healthz`
//!    through the proxy: the eBPF recorder sees the service's port, and no capability (the service
//!    holds none).
//! 2. The hardened stack with the web service under the checked-in seccomp profile answers `/healthz`
//!    end to end (proxy → web → database), and the engine applied that profile.
//!
//! Needs root, a reachable engine, `docker compose` or `docker-compose`, and what build.sh needs
//! (debootstrap the first time). Without them the test says why and passes, unless `CI=true`. Every
//! project it starts is taken down with its volumes; images it built are removed.
#![allow(clippy::print_stderr)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use support::{compose_tool, free_port, get, skip};

mod support;

const IMAGES: [&str; 4] = [
    "driftwood/debian:bookworm",
    "driftwood/postgres:15",
    "driftwood/nginx:1.22",
    "driftwood-web:hardened",
];

fn example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/driftwood")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn succeeds(argv: &[&str]) -> bool {
    Command::new(argv[0])
        .args(&argv[1..])
        .output()
        .is_ok_and(|output| output.status.success())
}

/// Images that were not there before the test, removed when dropped (the stand-ins after the web).
struct NewImages(Vec<&'static str>);

impl Drop for NewImages {
    fn drop(&mut self) {
        for image in self.0.iter().rev() {
            let _ = Command::new("docker")
                .args(["rmi", "--force", image])
                .output();
        }
    }
}

/// A Compose project, taken down with its volumes when dropped.
struct Project {
    base: Vec<String>,
}

impl Drop for Project {
    fn drop(&mut self) {
        let _ = Command::new(&self.base[0])
            .args(&self.base[1..])
            .args(["down", "--volumes", "--remove-orphans"])
            .output();
    }
}

#[test]
fn driftwood_web_profile_runs_its_stack_under_the_custom_seccomp_profile() {
    let test = "driftwood_web_profile_runs_its_stack_under_the_custom_seccomp_profile";
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|output| text(&output.stdout).trim() == "0");
    if !root {
        skip::<()>(test, "the eBPF recorder needs root");
        return;
    }
    if !succeeds(&["docker", "info"]) {
        skip::<()>(test, "no reachable Docker engine");
        return;
    }
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
    let _images = NewImages(
        IMAGES
            .into_iter()
            .filter(|image| !succeeds(&["docker", "image", "inspect", image]))
            .collect(),
    );
    let built = Command::new("bash")
        .arg(example().join("build.sh"))
        .env("ROOTFS_CACHE", &cache)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("build.sh runs");
    assert!(built.status.success(), "build.sh: {}", text(&built.stderr));

    // 1. Profile the web service in its stack.
    let port = free_port();
    let dir = tempfile::tempdir().expect("temp dir");
    let exercise = format!(
        "for i in $(seq 120); do curl -fsS http://127.0.0.1:{port}/healthz >/dev/null 2>&1 && \
         break; sleep 0.5; done; curl -fsS http://127.0.0.1:{port}/healthz"
    );
    let profiled = Command::new(env!("CARGO_BIN_EXE_leastpriv"))
        .current_dir(example())
        .env("DRIFTWOOD_PORT", port.to_string())
        .args([
            "profile",
            "--compose",
            "compose.hardened.yaml",
            "--service",
            "web",
        ])
        .args(["--exercise", &exercise, "--duration", "12s", "-o"])
        .arg(dir.path().join("web.json"))
        .arg("--seccomp")
        .arg(dir.path().join("web.seccomp.json"))
        .output()
        .expect("leastpriv runs");
    assert!(profiled.status.success(), "{}", text(&profiled.stderr));
    let profile: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("web.json")).expect("written"),
    )
    .expect("JSON");
    assert_eq!(profile["run"]["recorder"], "ebpf");
    assert_eq!(profile["run"]["service"], "web");
    assert_eq!(profile["capabilities"], serde_json::json!([]));
    assert_eq!(
        profile["ports"],
        serde_json::json!([{"port": 8000, "protocol": "tcp"}]),
        "{}",
        text(&profiled.stdout)
    );
    assert!(profile["run"].get("not_observed").is_none());

    // 2. The stack with the checked-in profile on the web service answers end to end.
    let seccomp = example().join("web.seccomp.json");
    assert!(
        seccomp.is_file(),
        "examples/driftwood/web.seccomp.json is checked in"
    );
    let override_file = dir.path().join("override.yaml");
    std::fs::write(
        &override_file,
        format!(
            "services:\n  web:\n    security_opt:\n      - \"seccomp={}\"\n",
            seccomp.canonicalize().expect("exists").display()
        ),
    )
    .expect("writes");
    let name = format!("profile-driftwood-{}", std::process::id());
    let mut base = compose.clone();
    base.extend(["-p".into(), name.clone(), "-f".into()]);
    base.push(
        example()
            .join("compose.hardened.yaml")
            .display()
            .to_string(),
    );
    base.extend(["-f".into(), override_file.display().to_string()]);
    let project = Project { base };
    let up = Command::new(&project.base[0])
        .args(&project.base[1..])
        .args(["up", "-d"])
        .env("DRIFTWOOD_PORT", port.to_string())
        .output()
        .expect("compose runs");
    assert!(up.status.success(), "{}", text(&up.stderr));
    let deadline = Instant::now() + Duration::from_secs(90);
    let answer = loop {
        // The proxy answers as soon as the web service does; the database may take longer.
        match get(port, "/healthz") {
            Ok(response) if response.contains("\"database\":\"ok\"") => break response,
            other => {
                assert!(
                    Instant::now() < deadline,
                    "no answer through the stack: {other:?}"
                );
                std::thread::sleep(Duration::from_millis(500));
            }
        }
    };
    assert!(answer.contains("200 OK"), "{answer}");
    let security = Command::new("docker")
        .args(["ps", "-q", "--filter"])
        .arg(format!("label=com.docker.compose.project={name}"))
        .args(["--filter", "label=com.docker.compose.service=web"])
        .output()
        .expect("docker ps");
    let id = text(&security.stdout).trim().to_owned();
    let options = Command::new("docker")
        .args([
            "inspect",
            "--format",
            "{{json .HostConfig.SecurityOpt}}",
            &id,
        ])
        .output()
        .expect("docker inspect");
    let options = text(&options.stdout);
    assert!(
        options.contains("seccomp=") && options.contains("SCMP_ACT_ERRNO"),
        "{options}"
    );
    drop(project);
}
