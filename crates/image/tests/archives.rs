//! The archives `docker save` and skopeo wrote (tests/data, made by make-archives.sh), read as
//! compressed streams, as plain tar files (indexed, layers read in parallel) and as OCI layout
//! directories, and judged by every rule: the findings are exact.

mod support;

use std::io::Read;
use std::path::Path;

use leastpriv_image::Options;
use support::{errors, findings};

fn data(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data")
            .join(name),
    )
    .unwrap()
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .unwrap();
    out
}

/// Findings for the archive read compressed, then decompressed: both must agree.
fn audit_both_ways(name: &str) -> Vec<String> {
    let compressed = data(name);
    let (db, audited) = support::audit_bytes(name, &compressed, &Options::default());
    assert_eq!(errors(&audited), Vec::<String>::new(), "{name}");
    let streamed = findings(&db, &audited);
    let plain_name = name.replace(".tar.gz", ".tar");
    let (db, audited) =
        support::audit_bytes(&plain_name, &gunzip(&compressed), &Options::default());
    assert_eq!(errors(&audited), Vec::<String>::new(), "{plain_name}");
    let plain = findings(&db, &audited);
    assert_eq!(
        streamed,
        plain
            .iter()
            .map(|line| line.replace(&plain_name, name))
            .collect::<Vec<_>>(),
        "{name}: the streamed and the indexed reading disagree"
    );
    streamed
}

#[test]
fn setuid_shell_world_writable_dir_and_root_user() {
    assert_eq!(
        audit_both_ways("setuid.tar.gz"),
        [
            "LP201 22:6 image sets no user, so the container runs as root",
            "LP250 48:5 `/bin/sh` is setuid (owner root:root, mode 4755), added by layer sha256:4e870deb5332",
            "LP251 4:4 image has 1 allowlisted setuid/setgid executable: /usr/bin/passwd",
            "LP550 48:5 directory `/srv/drop` is world-writable without the sticky bit (mode 0777, owner root:root), set by layer sha256:4e870deb5332",
        ]
    );
}

#[test]
fn secret_added_then_deleted_and_passwordless_sudo() {
    assert_eq!(
        audit_both_ways("deleted.tar.gz"),
        [
            "LP252 64:22 `/etc/sudoers.d/app` grants sudo without a password (`app ALL=(ALL) NOPASSWD: ALL`), added by layer sha256:889c1ed701bf",
            "LP651 60:22 `/root/.ssh/deploy_key` (SSH private key) is still in layer sha256:ab29a194941a, deleted by layer sha256:4bdcfceaca5b: deleting it in a later layer does not remove it from the image",
        ]
    );
}

#[test]
fn the_same_image_as_an_oci_layout_with_zstd_layers() {
    let expected = [
        "LP252 21:22 `/etc/sudoers.d/app` grants sudo without a password (`app ALL=(ALL) NOPASSWD: ALL`), added by layer sha256:2bd71e46c179",
        "LP651 17:22 `/root/.ssh/deploy_key` (SSH private key) is still in layer sha256:71f33c1191e5, deleted by layer sha256:03191b2011f6: deleting it in a later layer does not remove it from the image",
    ];
    assert_eq!(audit_both_ways("deleted.oci.tar.gz"), expected);

    // Unpacked into a directory, as `skopeo copy oci:dir` leaves it.
    let dir = tempfile::tempdir().unwrap();
    tar::Archive::new(&gunzip(&data("deleted.oci.tar.gz"))[..])
        .unpack(dir.path())
        .unwrap();
    assert!(leastpriv_image::is_image_input(dir.path()));
    let db = leastpriv_source::SourceDb::new();
    let audited = leastpriv_image::audit_path(&db, dir.path(), "oci-dir", &Options::default());
    assert_eq!(errors(&audited), Vec::<String>::new());
    assert_eq!(findings(&db, &audited), expected);
}

#[test]
fn build_arg_in_history_and_user_resolved_through_passwd() {
    let findings = audit_both_ways("buildarg.tar.gz");
    assert_eq!(
        findings,
        [
            "LP201 21:14 container runs as root (`toor` resolves to uid 0 through the image's /etc/passwd)",
            "LP601 12:8 `DB_PASSWORD` is set to a literal in the image config's `Env` (`<redacted, 16 chars>`): readable by anyone who can pull the image",
            "LP652 72:25 build arg `GITHUB_TOKEN` is recorded with its value (<redacted, 42 chars>) in the image history",
        ]
    );
    assert!(
        findings
            .iter()
            .all(|line| !line.contains("ghp_") && !line.contains("hunter2")),
        "a secret value reached a message: {findings:#?}"
    );
}

#[test]
fn a_clean_non_root_image_has_no_findings() {
    assert_eq!(audit_both_ways("clean.tar.gz"), Vec::<String>::new());
}

#[test]
fn two_images_in_one_archive_are_two_containers() {
    let (db, audited) = support::audit_bytes(
        "two.tar.gz",
        &data("two-images.tar.gz"),
        &Options::default(),
    );
    assert_eq!(errors(&audited), Vec::<String>::new());
    let names: Vec<&str> = audited.containers.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["lp-data-setuid:1", "lp-data-clean:1"]);
    assert_eq!(findings(&db, &audited).len(), 4);
}

#[test]
fn a_build_arg_secret_is_one_finding_however_many_runs_record_it() {
    use support::{docker_save, tar, Entry, Image};
    // The classic builder writes `|1 GITHUB_TOKEN=…` into the history of every `RUN` after the
    // `ARG`: three entries, one secret.
    let token = "ghp_0123456789abcdefghijklmnopqrstuvwxyzAB";
    let history: Vec<String> = ["mkdir /app", "chmod 755 /app", "touch /app/log"]
        .iter()
        .map(|command| format!("|1 GITHUB_TOKEN={token} /bin/sh -c {command}"))
        .collect();
    let history: Vec<&str> = history.iter().map(String::as_str).collect();
    let layers = (0..3)
        .map(|index| tar(&[Entry::Dir(&format!("layer{index}/"), 0o755)]))
        .collect();
    let archive = docker_save(&[Image {
        tag: "secret:1",
        user: "10001",
        env: &[],
        exposed: &[],
        history: &history,
        layers,
    }]);
    let (db, audited) = support::audit_bytes("secret.tar", &archive, &Options::default());
    assert_eq!(errors(&audited), Vec::<String>::new());
    let secrets: Vec<String> = findings(&db, &audited)
        .into_iter()
        .filter(|line| line.starts_with("LP652"))
        .collect();
    assert_eq!(secrets.len(), 1, "{secrets:#?}");
    assert!(
        secrets[0].ends_with("in the image history, in this entry and 2 later ones"),
        "{secrets:#?}"
    );
    assert!(!secrets[0].contains("ghp_"), "{secrets:#?}");
}
