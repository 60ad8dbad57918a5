//! `leastpriv audit` on image archives and OCI layouts, run as the real binary: inputs are told apart
//! by extension and magic, every finding points into the image config, and `--image` reports a
//! missing engine image as a located error.

use std::path::PathBuf;

use assert_cmd::Command;

fn data(name: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../image/tests/data")).join(name)
}

fn audit_json(args: &[&str]) -> (serde_json::Value, i32) {
    let output = Command::cargo_bin("leastpriv")
        .unwrap()
        .arg("audit")
        .args(args)
        .args(["--format", "json", "--isolated"])
        .output()
        .unwrap();
    assert!(
        output.stderr.is_empty(),
        "nothing on stderr off a terminal (no progress bar): {}",
        String::from_utf8_lossy(&output.stderr)
    );
    (
        serde_json::from_slice(&output.stdout).unwrap(),
        output.status.code().unwrap(),
    )
}

#[test]
fn an_archive_is_audited_as_an_image_and_findings_point_into_its_config() {
    let dir = tempfile::tempdir().unwrap();
    // No telling extension: the archive is recognised by its gzip magic.
    let path = dir.path().join("setuid-image");
    std::fs::copy(data("setuid.tar.gz"), &path).unwrap();
    let (report, status) = audit_json(&[path.to_str().unwrap()]);
    assert_eq!(status, 1);
    let findings: Vec<String> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let file = f["path"]
                .as_str()
                .unwrap()
                .rsplit('/')
                .nth(1)
                .unwrap()
                .to_owned();
            format!(
                "{} {}:{}:{} {}",
                f["rule"].as_str().unwrap(),
                file,
                f["line"],
                f["column"],
                f["message"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        findings,
        [
            "LP251 setuid-image@sha256:043eb93d6836:4:4 image has 1 allowlisted setuid/setgid executable: /usr/bin/passwd",
            "LP201 setuid-image@sha256:043eb93d6836:22:6 image sets no user, so the container runs as root",
            "LP250 setuid-image@sha256:043eb93d6836:48:5 `/bin/sh` is setuid (owner root:root, mode 4755), added by layer sha256:4e870deb5332",
            "LP550 setuid-image@sha256:043eb93d6836:48:5 directory `/srv/drop` is world-writable without the sticky bit (mode 0777, owner root:root), set by layer sha256:4e870deb5332",
        ]
    );
    assert_eq!(report["summary"]["errors"], 0);
    // Said in words, for a reader who has the image but not leastpriv's printing of its config.
    let locations: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["location"].as_str().unwrap_or("-"))
        .collect();
    assert_eq!(
        locations,
        [
            "the image config",
            "config `User`",
            "history entry 1 of 1 (layer 1 of 1)",
            "history entry 1 of 1 (layer 1 of 1)",
        ]
    );
}

#[test]
fn secret_values_never_reach_the_report() {
    let (report, _) = audit_json(&[data("buildarg.tar.gz").to_str().unwrap()]);
    let text = report.to_string();
    assert!(text.contains("LP652"), "{text}");
    assert!(
        !text.contains("ghp_0123") && !text.contains("hunter2"),
        "{text}"
    );
}

#[test]
fn a_broken_archive_is_an_error_and_the_other_inputs_are_still_audited() {
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("broken.tar");
    std::fs::write(&broken, b"not an archive at all, just text").unwrap();
    let (report, status) = audit_json(&[
        broken.to_str().unwrap(),
        data("deleted.tar.gz").to_str().unwrap(),
    ]);
    assert_eq!(status, 2);
    assert_eq!(
        report["errors"][0]["path"].as_str().unwrap(),
        broken.to_str().unwrap()
    );
    assert!(report["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("not an image archive"));
    assert_eq!(report["findings"].as_array().unwrap().len(), 2);
}

#[test]
fn a_missing_engine_image_is_a_located_error() {
    let (report, status) = audit_json(&["--image", "leastpriv-test-no-such-image:404"]);
    assert_eq!(status, 2);
    assert_eq!(
        report["errors"][0]["path"],
        "leastpriv-test-no-such-image:404"
    );
    // Only the image was to be audited, not the current directory, and it is missing: nothing was.
    assert_eq!(report["summary"]["files"], 0, "{report}");
    assert_eq!(report["summary"]["images"], 0, "{report}");
}

/// `rule path:line -> related path:line (note)` for each finding in an image, with paths shortened
/// to their file name.
fn image_findings_with_lines(report: &serde_json::Value) -> Vec<String> {
    let name = |path: &serde_json::Value| {
        let path = path.as_str().unwrap();
        path.rsplit('/').next().unwrap().to_owned()
    };
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|finding| finding["path"].as_str().unwrap().contains(".tar.gz@"))
        .map(|finding| {
            let related: Vec<String> = finding["related"]
                .as_array()
                .map(|related| {
                    related
                        .iter()
                        .filter(|place| place["path"].as_str().unwrap().ends_with("Dockerfile"))
                        .map(|place| {
                            format!("{}:{} ({})", name(&place["path"]), place["line"], {
                                place["message"].as_str().unwrap()
                            })
                        })
                        .collect()
                })
                .unwrap_or_default();
            format!(
                "{} -> {}",
                finding["rule"].as_str().unwrap(),
                related.join(", ")
            )
        })
        .collect()
}

/// The Dockerfile `crates/image/tests/data/make-archives.sh` built `deleted.tar.gz` from.
const DELETED_DOCKERFILE: &str = "FROM lp-data-base:1\n\
    COPY deploy_key /root/.ssh/deploy_key\n\
    COPY app.sudoers /etc/sudoers.d/app\n\
    RUN [\"/bin/rm\", \"/root/.ssh/deploy_key\"]\n\
    USER app\n";

#[test]
fn findings_in_layers_name_the_dockerfile_line_that_created_them() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(data("deleted.tar.gz"), dir.path().join("deleted.tar.gz")).unwrap();
    std::fs::write(dir.path().join("Dockerfile"), DELETED_DOCKERFILE).unwrap();
    // A directory walk skips archives: the image is named, beside the tree that holds its Dockerfile.
    let archive = dir.path().join("deleted.tar.gz");
    let inputs = [dir.path().to_str().unwrap(), archive.to_str().unwrap()];
    let (report, _) = audit_json(&inputs);
    assert_eq!(
        image_findings_with_lines(&report),
        [
            "LP651 -> Dockerfile:2 (the Dockerfile line that created this layer), \
             Dockerfile:4 (the Dockerfile line that deletes it)",
            "LP252 -> Dockerfile:3 (the Dockerfile line that created this layer)",
        ]
    );

    // Another Dockerfile in the tree did not build the image: no line is named.
    std::fs::write(
        dir.path().join("Dockerfile"),
        DELETED_DOCKERFILE.replace("/etc/sudoers.d/app", "/etc/sudoers.d/web"),
    )
    .unwrap();
    let (report, _) = audit_json(&inputs);
    assert_eq!(
        image_findings_with_lines(&report),
        ["LP651 -> ", "LP252 -> "]
    );
}
