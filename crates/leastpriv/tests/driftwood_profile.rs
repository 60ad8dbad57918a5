//! Driftwood's web service profiled as `examples/driftwood/profile.sh` does it, on the real engine:
//! in its stack hardened with harden's safe defaults (a temporary copy), exercised with `/healthz`
//! through the proxy (proxy → web → database).
//!
//! The recording sees the service's port and no capability (it holds none), and every syscall it
//! saw is one the checked-in `examples/driftwood/hardened/web.seccomp.json` allows: the filter
//! Driftwood's hardened stack runs under (`tests/driftwood.rs` runs and verifies it) still covers
//! what the service does.
//!
//! Needs root, a reachable engine, `docker compose` or `docker-compose`, curl, and what build.sh
//! needs (debootstrap the first time). Without them the test says why and passes, unless
//! `CI=true`. Everything the script starts it takes down; images the test built are removed.
#![allow(clippy::print_stderr)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use support::{compose_tool, free_port, skip};

mod support;

const IMAGES: [&str; 3] = [
    "driftwood/debian:bookworm",
    "driftwood/postgres:15",
    "driftwood/nginx:1.22",
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

/// Images that were not there before the test, removed when dropped (the stand-ins before the
/// base).
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

fn names(value: &serde_json::Value) -> BTreeSet<String> {
    value
        .as_array()
        .expect("a list of syscalls")
        .iter()
        .map(|name| name.as_str().expect("a name").to_owned())
        .collect()
}

#[test]
fn driftwood_web_is_profiled_in_its_hardened_stack_and_its_filter_still_covers_it() {
    let test = "driftwood_web_is_profiled_in_its_hardened_stack_and_its_filter_still_covers_it";
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
    if compose_tool().is_none() {
        skip::<()>(test, "neither `docker compose` nor `docker-compose` runs");
        return;
    }
    if !succeeds(&["curl", "--version"]) {
        skip::<()>(test, "curl is missing (apt-get install curl)");
        return;
    }
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

    let out = tempfile::tempdir().expect("temp dir");
    let profiled = Command::new("bash")
        .arg(example().join("profile.sh"))
        .arg(out.path())
        .env("LEASTPRIV", env!("CARGO_BIN_EXE_leastpriv"))
        .env("ROOTFS_CACHE", &cache)
        .env("DRIFTWOOD_PORT", free_port().to_string())
        .env("REPEAT", "1")
        .env("DURATION", "12s")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("profile.sh runs");
    assert!(
        profiled.status.success(),
        "profile.sh: {}",
        text(&profiled.stderr)
    );
    let read = |name: &str| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(out.path().join(name)).expect("written"))
            .expect("JSON")
    };
    let profile = read("web.profile.json");
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
    // The filter of what was just recorded allows no more than the checked-in one: every syscall
    // the service made now, the hardened stack's filter allows.
    let allowed = |filter: &serde_json::Value| -> BTreeSet<String> {
        filter["syscalls"]
            .as_array()
            .expect("rules")
            .iter()
            .filter(|rule| rule["action"] == "SCMP_ACT_ALLOW")
            .flat_map(|rule| names(&rule["names"]))
            .collect()
    };
    let checked_in: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(example().join("hardened/web.seccomp.json"))
            .expect("examples/driftwood/hardened/web.seccomp.json is checked in"),
    )
    .expect("JSON");
    let missing: Vec<String> = allowed(&read("web.seccomp.json"))
        .difference(&allowed(&checked_in))
        .cloned()
        .collect();
    assert!(
        missing.is_empty(),
        "the service now makes syscalls examples/driftwood/hardened/web.seccomp.json denies \
         ({missing:?}): run examples/driftwood/profile.sh and harden again"
    );
}
