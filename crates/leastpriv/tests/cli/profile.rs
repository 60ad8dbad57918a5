//! `leastpriv profile --merge` and `--compare` on profile files: no workload, no root.

use std::path::Path;
use std::process::Command;

fn leastpriv_command() -> Command {
    Command::new(env!("CARGO_BIN_EXE_leastpriv"))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).expect("written")).expect("JSON")
}

fn strings(value: &serde_json::Value) -> Vec<String> {
    value
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|item| item.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn merge_unites_runs_and_compare_sets_them_against_dockers_default() {
    let dir = tempfile::tempdir().expect("temp dir");
    let profile = |name: &str, syscalls: &[&str], recorder: &str| {
        let path = dir.path().join(name);
        let json = serde_json::json!({
            "schema": 1,
            "syscalls": syscalls,
            "capabilities": ["CAP_CHOWN"],
            "written_paths": ["/var/cache/app"],
            "ports": [{"port": 8080, "protocol": "tcp"}],
            "run": {"command": ["docker", "run", "app:1"], "image": "app:1", "duration_ms": 5,
                    "arch": "x86_64", "recorder": recorder, "runs": 1},
            "a_field_from_a_newer_leastpriv": true
        });
        std::fs::write(&path, json.to_string()).expect("writes");
        path
    };
    let a = profile("a.json", &["read", "write", "clone3"], "ebpf");
    let b = profile("b.json", &["read", "mount"], "seccomp-notify");
    let merged = dir.path().join("merged.json");
    let seccomp = dir.path().join("merged.seccomp.json");
    let output = leastpriv_command()
        .args(["profile", "--compare", "--merge"])
        .args([&a, &b])
        .arg("-o")
        .arg(&merged)
        .arg("--seccomp")
        .arg(&seccomp)
        .output()
        .expect("runs");
    assert!(output.status.success(), "{}", text(&output.stderr));
    let summary = text(&output.stdout);
    assert!(
        summary.contains("allows what Docker's default blocks: mount"),
        "{summary}"
    );
    let json = read_json(&merged);
    assert_eq!(
        strings(&json["syscalls"]),
        ["clone3", "mount", "read", "write"]
    );
    assert_eq!(json["run"]["runs"], 2);
    assert_eq!(json["run"]["recorder"], "ebpf,seccomp-notify");
    assert_eq!(json["seccomp_profile"], "merged.seccomp.json");
    let docker_format = read_json(&seccomp);
    assert_eq!(
        strings(&docker_format["syscalls"][0]["names"]),
        // What was seen (clone3 answered by clone) and the way out, allowed seen or not.
        [
            "clone",
            "exit",
            "exit_group",
            "mount",
            "read",
            "rt_sigreturn",
            "write"
        ]
    );
    assert_eq!(docker_format["syscalls"][1]["errnoRet"], 38);

    // A file that is not a profile is an error with its position; nothing to profile is a usage error.
    std::fs::write(
        dir.path().join("bad.json"),
        "{\n  \"schema\": 1,\n  oops\n}",
    )
    .expect("writes");
    let bad = leastpriv_command()
        .args(["profile", "--merge"])
        .arg(dir.path().join("bad.json"))
        .output()
        .expect("runs");
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        text(&bad.stderr).contains("bad.json:3:"),
        "{}",
        text(&bad.stderr)
    );
    let nothing = leastpriv_command().arg("profile").output().expect("runs");
    assert_eq!(nothing.status.code(), Some(2));
    assert!(text(&nothing.stderr).contains("nothing to profile"));
}
