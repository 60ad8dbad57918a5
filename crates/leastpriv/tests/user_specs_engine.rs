//! The model's reading of user specs against the real runtime: what `User::resolve` says a spec runs
//! as must be what `docker run --user SPEC … id -u` prints (or the run must fail where it says the
//! runtime refuses), and an image whose `/etc/passwd` is reached through links must be judged as
//! the runtime runs it.
//!
//! Images are `docker import`ed from tars written here (busybox from Debian's `busybox-static`), named
//! `leastpriv-users-<pid>-<n>`, and removed afterwards; every container runs with `--rm`. Without an
//! engine or busybox the tests say why and pass, unless `CI=true`.
#![allow(clippy::print_stderr)]

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use leastpriv_model::{AccountDb, AccountFile, Resolved, User};
use support::skip;

mod support;

const BUSYBOX: &str = "/bin/busybox";

/// Every line checked on Docker 20.10: duplicates (the first wins), empty and non-numeric uids
/// (0), a name-only line (0), uids past 32 bits (truncated).
const PASSWD: &str = "root:x:0:0:root:/root:/bin/sh
app:x:0:0::/:/bin/sh
app:x:1000:1000::/:/bin/sh
dup:x:1000:1000::/:/bin/sh
dup:x:0:0::/:/bin/sh
wrap:x:4294967296:0::/:/bin/sh
wrap1:x:4294967297:0::/:/bin/sh
empty:x::0::/:/bin/sh
alpha:x:abc:0::/:/bin/sh
plus:x:+0:0::/:/bin/sh
bare
";

const SPECS: [&str; 24] = [
    "+0",
    "-0",
    "00",
    "+000",
    "0:0:5",
    ":1000",
    "1000",
    "+1000",
    "2147483647",
    "2147483648",
    "4294967296",
    "-1",
    "18446744073709551616",
    "app",
    "dup",
    "wrap",
    "wrap1",
    "empty",
    "alpha",
    "plus",
    "bare",
    "nobody",
    "1000:+0",
    " 0",
];

/// An image imported from a tar of `entries` (path, data or symlink target), removed on drop.
struct Imported(String);

impl Drop for Imported {
    fn drop(&mut self) {
        let _ = Command::new("docker").args(["rmi", "-f", &self.0]).output();
    }
}

enum Node<'a> {
    File(&'a str, &'a [u8], u32),
    Symlink(&'a str, &'a str),
    HardLink(&'a str, &'a str),
}

fn rootfs(extra: &[Node<'_>]) -> Vec<u8> {
    let busybox = std::fs::read(BUSYBOX).unwrap();
    let mut nodes = vec![
        Node::File("bin/busybox", &busybox, 0o755),
        Node::Symlink("bin/id", "busybox"),
        Node::Symlink("bin/sh", "busybox"),
    ];
    nodes.extend(extra.iter().map(|node| match node {
        Node::File(path, data, mode) => Node::File(path, data, *mode),
        Node::Symlink(path, target) => Node::Symlink(path, target),
        Node::HardLink(path, target) => Node::HardLink(path, target),
    }));
    let mut builder = tar::Builder::new(Vec::new());
    for node in &nodes {
        let mut header = tar::Header::new_gnu();
        match node {
            Node::File(path, data, mode) => {
                header.set_mode(*mode);
                header.set_size(data.len() as u64);
                builder.append_data(&mut header, path, *data).unwrap();
            }
            Node::Symlink(path, target) | Node::HardLink(path, target) => {
                header.set_entry_type(if matches!(node, Node::Symlink(..)) {
                    tar::EntryType::Symlink
                } else {
                    tar::EntryType::Link
                });
                header.set_mode(0o777);
                header.set_size(0);
                builder.append_link(&mut header, path, target).unwrap();
            }
        }
    }
    builder.into_inner().unwrap()
}

fn import(name: &str, rootfs: &[u8], user: &str) -> Option<Imported> {
    let mut child = Command::new("docker")
        .args(["import", "--change", &format!("USER {user}"), "-", name])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .ok()?;
    child.stdin.take()?.write_all(rootfs).ok()?;
    let output = child.wait_with_output().ok()?;
    assert!(
        output.status.success(),
        "docker import: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Some(Imported(name.to_owned()))
}

fn engine_ready(test: &str) -> bool {
    if !Path::new(BUSYBOX).exists() {
        return skip::<()>(test, "no /bin/busybox (Debian's busybox-static)").is_some();
    }
    let ready = Command::new("docker")
        .arg("info")
        .output()
        .is_ok_and(|output| output.status.success());
    ready || skip::<()>(test, "no Docker engine").is_some()
}

/// `docker run --user SPEC image id -u`: the uid, or `None` when the runtime refuses.
fn run_as(image: &str, spec: &str) -> Option<u32> {
    let output = Command::new("docker")
        .args(["run", "--rm", "--user", spec, image, "/bin/id", "-u"])
        .output()
        .unwrap();
    if !output.status.success() {
        return None;
    }
    Some(
        String::from_utf8_lossy(&output.stdout)
            .trim()
            .parse()
            .unwrap(),
    )
}

#[test]
fn the_model_reads_user_specs_as_docker_runs_them() {
    if !engine_ready("the_model_reads_user_specs_as_docker_runs_them") {
        return;
    }
    let name = format!("leastpriv-users-{}-specs", std::process::id());
    let Some(image) = import(
        &name,
        &rootfs(&[Node::File("etc/passwd", PASSWD.as_bytes(), 0o644)]),
        "root",
    ) else {
        return;
    };
    let passwd = AccountFile::Read(AccountDb::parse(PASSWD, true));
    let mut disagreements = Vec::new();
    for spec in SPECS {
        let expected = match User::parse(spec).resolve(&passwd) {
            Resolved::Uid(uid) => Some(uid),
            Resolved::Refused => None,
            Resolved::Unknown => unreachable!("every spec is known here"),
        };
        let actual = run_as(&image.0, spec);
        // `User::parse` trims (a written spec never keeps spaces); Docker takes " 0" as a name.
        if expected != actual && spec != " 0" {
            disagreements.push(format!(
                "--user {spec:?}: leastpriv says {expected:?}, docker runs {actual:?}"
            ));
        }
    }
    assert_eq!(disagreements, Vec::<String>::new());
}

#[test]
fn passwd_reached_through_links_is_judged_as_docker_runs_it() {
    if !engine_ready("passwd_reached_through_links_is_judged_as_docker_runs_it") {
        return;
    }
    let root_app = b"root:x:0:0::/root:/bin/sh\napp:x:0:0::/app:/bin/sh\n";
    // What Docker runs `app` as: a symlinked /etc is shadowed by the /etc of the init layer Docker
    // puts over every image (hosts, hostname, resolv.conf), so there `app` is not found and the
    // container does not start; containerd (Kubernetes, nerdctl) follows the link and runs `app` as
    // root (checked with `ctr run` on containerd 1.6). leastpriv reports the worse.
    let cases: Vec<(&str, Option<u32>, Vec<Node<'_>>)> = vec![
        (
            "symlink",
            Some(0),
            vec![
                Node::File("data/pw", root_app, 0o644),
                Node::Symlink("etc/passwd", "/data/pw"),
            ],
        ),
        (
            "symlinked-etc",
            None,
            vec![
                Node::File("private/etc/passwd", root_app, 0o644),
                Node::Symlink("etc", "private/etc"),
            ],
        ),
        (
            "hardlink",
            Some(0),
            vec![
                Node::File("data/pw", root_app, 0o644),
                Node::HardLink("etc/passwd", "data/pw"),
            ],
        ),
        (
            "climbing-symlink",
            Some(0),
            vec![
                Node::File("data/pw", root_app, 0o644),
                Node::Symlink("etc/passwd", "../../../../../data/pw"),
            ],
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    for (what, docker_runs_as, nodes) in cases {
        let name = format!("leastpriv-users-{}-{what}", std::process::id());
        let Some(image) = import(&name, &rootfs(&nodes), "app") else {
            return;
        };
        assert_eq!(run_as(&image.0, "app"), docker_runs_as, "{what}");
        let archive = dir.path().join(format!("{what}.tar"));
        let saved = Command::new("docker")
            .args(["save", "-o"])
            .arg(&archive)
            .arg(&image.0)
            .output()
            .unwrap();
        assert!(saved.status.success(), "{what}: docker save");
        let output = Command::new(env!("CARGO_BIN_EXE_leastpriv"))
            .args(["audit", "--isolated", "--format", "json"])
            .arg(&archive)
            .output()
            .unwrap();
        let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        let root_user = report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|finding| {
                finding["rule"] == "LP201"
                    && finding["message"]
                        .as_str()
                        .unwrap()
                        .contains("`app` resolves to uid 0")
            });
        assert!(root_user, "{what}: {report:#}");
    }
}
