//! Images built in the real Docker Engine (no registry: `FROM scratch` with a static busybox from the
//! build context), read back through the engine's export API, and judged by every rule.
//!
//! Skips with a message when no engine answers, unless `CI=true` (CI has an engine: a missing one is
//! a failure there). Every image a test builds is removed when it ends, pass or fail.

// The skip message is the point: a skipped engine test must say so.
#![allow(clippy::print_stderr)]

mod support;

use std::path::Path;
use std::process::Command;

use leastpriv_image::engine::{audit_engine_image, engine_available};
use leastpriv_image::Options;
use leastpriv_source::SourceDb;

/// Removes the images it names on drop, so a failing assertion leaves nothing behind.
struct Images(Vec<String>);

impl Drop for Images {
    fn drop(&mut self) {
        if !self.0.is_empty() {
            // Without --no-prune, the build's intermediate images go with the image.
            let _ = Command::new("docker")
                .args(["rmi", "--force"])
                .args(&self.0)
                .output();
        }
    }
}

fn engine_or_skip() -> bool {
    if engine_available() {
        return true;
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "CI=true but no Docker Engine answers: the engine tests must run in CI"
    );
    eprintln!("skipping: no Docker Engine answers (set DOCKER_HOST or start dockerd)");
    false
}

fn busybox() -> &'static Path {
    ["/bin/busybox", "/usr/bin/busybox"]
        .iter()
        .map(Path::new)
        .find(|path| path.is_file())
        .expect("a static busybox (Debian's busybox-static) is needed to build test images")
}

/// Builds `dockerfile` with `files` in its context (plus `busybox`) as `name`, registered in `images`.
fn build(
    images: &mut Images,
    name: &str,
    dockerfile: &str,
    files: &[(&str, &str)],
    args: &[&str],
) -> String {
    let tag = format!("leastpriv-test-{}-{name}:1", std::process::id());
    images.0.push(tag.clone());
    let context = tempfile::tempdir().unwrap();
    std::fs::copy(busybox(), context.path().join("busybox")).unwrap();
    std::fs::write(context.path().join("Dockerfile"), dockerfile).unwrap();
    for (path, text) in files {
        std::fs::write(context.path().join(path), text).unwrap();
    }
    let mut command = Command::new("docker");
    command
        .env("DOCKER_BUILDKIT", "0")
        .args(["build", "--no-cache", "--quiet", "--tag", &tag]);
    for arg in args {
        command.args(["--build-arg", arg]);
    }
    let output = command.arg(context.path()).output().unwrap();
    assert!(
        output.status.success(),
        "docker build {name} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    tag
}

/// `CODE message` of every finding, with layer digests masked (they change with file times).
fn audit(tag: &str) -> Vec<String> {
    let db = SourceDb::new();
    let audited = audit_engine_image(&db, tag, &Options::default());
    assert_eq!(support::errors(&audited), Vec::<String>::new());
    assert_eq!(audited.containers.len(), 1);
    assert_eq!(audited.containers[0].name, tag);
    let digest = regex_lite_digest();
    support::findings(&db, &audited)
        .into_iter()
        .map(|line| {
            let (code, rest) = line.split_once(' ').unwrap();
            let (_, message) = rest.split_once(' ').unwrap();
            format!("{code} {}", digest(message))
        })
        .collect()
}

/// Replaces `sha256:` and 12 hex digits with `sha256:…`.
fn regex_lite_digest() -> impl Fn(&str) -> String {
    |text: &str| {
        let mut out = String::new();
        let mut rest = text;
        while let Some(at) = rest.find("sha256:") {
            out.push_str(&rest[..at + 7]);
            rest = &rest[at + 7..];
            let hex = rest.bytes().take_while(u8::is_ascii_hexdigit).count();
            out.push('…');
            rest = &rest[hex..];
        }
        out.push_str(rest);
        out
    }
}

#[test]
fn images_built_in_the_engine_are_audited_through_its_export_api() {
    if !engine_or_skip() {
        return;
    }
    let mut images = Images(Vec::new());
    let setuid = build(
        &mut images,
        "setuid",
        "FROM scratch\nCOPY busybox /bin/busybox\n\
         RUN [\"/bin/busybox\", \"sh\", \"-c\", \"/bin/busybox cp /bin/busybox /bin/sh && /bin/busybox chmod 4755 /bin/sh\"]\n",
        &[],
        &[],
    );
    let deleted = build(
        &mut images,
        "deleted",
        "FROM scratch\nCOPY busybox /bin/busybox\nCOPY key /root/.ssh/id_ed25519\n\
         RUN [\"/bin/busybox\", \"rm\", \"/root/.ssh/id_ed25519\"]\nUSER 10001\n",
        &[(
            "key",
            "-----BEGIN OPENSSH PRIVATE KEY-----\nfake\n-----END OPENSSH PRIVATE KEY-----\n",
        )],
        &[],
    );
    let build_arg = build(
        &mut images,
        "buildarg",
        "FROM scratch\nCOPY busybox /bin/busybox\nARG NPM_TOKEN\nRUN [\"/bin/busybox\", \"true\"]\nUSER 10001\n",
        &[],
        &["NPM_TOKEN=npm_0123456789abcdefghijklmnopqrstuvwxyz"],
    );
    let clean = build(
        &mut images,
        "clean",
        "FROM scratch\nCOPY busybox /bin/busybox\nUSER 10001:10001\n",
        &[],
        &[],
    );

    assert_eq!(
        audit(&setuid),
        [
            "LP201 image sets no user, so the container runs as root",
            "LP250 `/bin/sh` is setuid (owner root:root, mode 4755), added by layer sha256:…",
        ]
    );
    assert_eq!(
        audit(&deleted),
        ["LP651 `/root/.ssh/id_ed25519` (SSH private key) is still in layer sha256:…, deleted by layer sha256:…: deleting it in a later layer does not remove it from the image"]
    );
    let found = audit(&build_arg);
    assert!(
        found.iter().all(|line| !line.contains("npm_0123")),
        "{found:#?}"
    );
    assert_eq!(
        found,
        ["LP652 build arg `NPM_TOKEN` is recorded with its value (<redacted, 40 chars>) in the image history"]
    );
    assert_eq!(audit(&clean), Vec::<String>::new());
}

#[test]
fn a_missing_image_is_a_clear_error() {
    if !engine_or_skip() {
        return;
    }
    let db = SourceDb::new();
    let audited = audit_engine_image(&db, "leastpriv-test-no-such-image:404", &Options::default());
    assert_eq!(
        support::errors(&audited),
        ["no such image in the local engine: `leastpriv-test-no-such-image:404`"]
    );
    assert_eq!(audited.errors[0].path, "leastpriv-test-no-such-image:404");
}
