//! Reports a person can trust: findings that stand on their own, inputs read as their names say,
//! a summary that says what was audited, the configuration that shaped the report, and errors that
//! say what to do.

use crate::*;

/// `(rule, line, severity)` of every finding in `path`.
fn rules_at(document: &Value, path: &str) -> Vec<(String, u64, String)> {
    document["findings"]
        .as_array()
        .expect("findings array")
        .iter()
        .filter(|finding| finding["path"] == path)
        .map(|finding| {
            (
                finding["rule"].as_str().unwrap().to_owned(),
                finding["line"].as_u64().unwrap(),
                finding["severity"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn privileged_mode_hides_no_other_setting() {
    let project = Project::new();
    project.file(
        "compose.yaml",
        "services:\n  fuse:\n    image: example/fuse\n    privileged: true\n    cap_add: [SYS_ADMIN]\n    security_opt: [\"no-new-privileges:false\"]\n",
    );
    project.file(
        "run.sh",
        "#!/bin/sh\ndocker run --privileged --cap-add=SYS_ADMIN example/fuse\n",
    );
    project.file(
        "pod.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: debug}\nspec:\n  containers:\n    - name: shell\n      image: example/shell\n      securityContext:\n        privileged: true\n        allowPrivilegeEscalation: true\n",
    );
    let (document, _) = project.audit_json(&["--select", "LP110,LP310,LP501", "."]);
    let compose = rules_at(&document, "compose.yaml");
    assert!(
        compose.contains(&("LP110".into(), 4, "critical".into())),
        "{compose:?}"
    );
    assert!(
        compose.contains(&("LP310".into(), 5, "critical".into())),
        "{compose:?}"
    );
    assert!(
        compose.contains(&("LP501".into(), 6, "medium".into())),
        "{compose:?}"
    );
    let script = rules_at(&document, "run.sh");
    let codes: Vec<_> = script.iter().map(|(code, ..)| code.as_str()).collect();
    assert!(
        codes.contains(&"LP310") && codes.contains(&"LP110"),
        "{script:?}"
    );
    let pod = rules_at(&document, "pod.yaml");
    assert!(
        pod.contains(&("LP501".into(), 10, "medium".into())),
        "{pod:?}"
    );
    // Each covered finding points back at the privileged setting.
    let covered = document["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|finding| finding["rule"] == "LP310" && finding["path"] == "compose.yaml")
        .unwrap();
    assert_eq!(covered["related"][0]["line"], 4, "{covered}");
}

#[test]
fn a_world_writable_chmod_is_reported_at_its_dockerfile_line() {
    let project = Project::new();
    project.file(
        "Dockerfile",
        "FROM debian:12-slim\nRUN chmod 777 /\nRUN mkdir /data && chmod -R a+w /data\nRUN mkdir -m 1777 /scratch\nUSER 10001\n",
    );
    let (document, code) = project.audit_json(&["--select", "LP505", "."]);
    assert_eq!(code, 1);
    assert_eq!(
        rules_at(&document, "Dockerfile"),
        [
            ("LP505".into(), 2, "high".into()),
            ("LP505".into(), 3, "medium".into())
        ]
    );
}

#[test]
fn docker_in_docker_without_tls_is_reported_where_it_is_configured() {
    let project = Project::new();
    project.file(
        "compose.yaml",
        "services:\n  dind:\n    image: docker:dind\n    privileged: true\n    environment:\n      DOCKER_TLS_CERTDIR: \"\"\n  engine:\n    image: docker:27-dind\n    privileged: true\n    command: [\"dockerd\", \"--host=tcp://0.0.0.0:2375\"]\n  tls:\n    image: docker:dind\n    privileged: true\n",
    );
    let (document, code) = project.audit_json(&["--select", "LP703", "."]);
    assert_eq!(code, 1);
    assert_eq!(
        findings_of(&document, "LP703"),
        [
            ("compose.yaml".to_owned(), 6, 7),
            ("compose.yaml".to_owned(), 10, 33)
        ]
    );
}

#[test]
fn namespaced_sysctls_docker_allows_are_not_reported_as_unsafe() {
    let project = Project::new();
    project.file(
        "compose.yaml",
        "services:\n  wireguard:\n    image: example/wireguard\n    cap_add: [NET_ADMIN]\n    sysctls:\n      net.ipv4.conf.all.src_valid_mark: 1\n",
    );
    let (document, code) = project.audit_json(&["--select", "LP123", "."]);
    assert_eq!(code, 0, "info only: {document}");
    assert_eq!(
        rules_at(&document, "compose.yaml"),
        [("LP123".into(), 6, "info".into())]
    );
}

#[test]
fn source_files_named_like_dockerfiles_are_not_read_as_dockerfiles() {
    let project = Project::new();
    for name in [
        "dockerfile.go",
        "Dockerfile.md",
        "syntax/dockerfile.vim",
        "tests/dockerfile_corpus.rs",
        "fuzz/dockerfile.dict",
    ] {
        project.file(name, "package dockerfile\n\nfunc Parse() {}\n");
    }
    project.file("Dockerfile.prod", NONROOT_DOCKERFILE);
    let output = project
        .command()
        .args(["audit", "--color", "never", "."])
        .output()
        .unwrap();
    assert_eq!(exit_code(&output), 0, "{}", stdout(&output));
    assert!(
        stdout(&output).ends_with("no findings in 1 file\n"),
        "{}",
        stdout(&output)
    );
}

#[test]
fn the_summary_counts_the_files_with_findings_among_those_audited() {
    let project = Project::new();
    project
        .file("web/Dockerfile", ROOT_DOCKERFILE)
        .file("api/Dockerfile", NONROOT_DOCKERFILE)
        .file("worker/Dockerfile", NONROOT_DOCKERFILE);
    let output = project
        .command()
        .args(["audit", "--select", "LP201", "--color", "never", "."])
        .output()
        .unwrap();
    assert!(
        stdout(&output).contains("1 finding in 1 of 3 files\n"),
        "{}",
        stdout(&output)
    );
    let (document, _) = project.audit_json(&["--select", "LP201", "."]);
    assert_eq!(document["summary"]["files"], 3);
    assert_eq!(document["summary"]["with_findings"]["files"], 1);
    assert_eq!(document["summary"]["images"], 0);
}

#[test]
fn an_image_that_is_missing_is_an_error_not_a_clean_file() {
    let project = Project::new();
    let output = project
        .command()
        .args([
            "audit",
            "--color",
            "never",
            "--image",
            "leastpriv-missing-image:0",
        ])
        .output()
        .unwrap();
    assert_eq!(exit_code(&output), 2);
    let text = stdout(&output);
    assert!(text.contains("nothing was audited"), "{text}");
    assert!(!text.contains("no findings in 1 file"), "{text}");
}

#[test]
fn the_configuration_file_read_is_named_on_stderr() {
    let project = Project::new();
    project.file("Dockerfile", ROOT_DOCKERFILE).file(
        "leastpriv.toml",
        "fail-on = \"critical\"\nignore = [\"LP207\"]\n",
    );
    let output = project
        .command()
        .args(["audit", "--color", "never", "."])
        .output()
        .unwrap();
    assert_eq!(
        stderr(&output),
        "leastpriv: using leastpriv.toml (sets ignore, fail-on)\n"
    );
    // Machine formats keep stderr for errors.
    let output = project
        .command()
        .args(["audit", "--format", "json", "."])
        .output()
        .unwrap();
    assert_eq!(stderr(&output), "");
    let output = project
        .command()
        .args(["audit", "--isolated", "--color", "never", "."])
        .output()
        .unwrap();
    assert_eq!(stderr(&output), "");
}

#[test]
fn the_readme_sample_configuration_hides_no_high_finding() {
    let repository = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let readme = std::fs::read_to_string(format!("{repository}/README.md")).unwrap();
    let start = readme
        .find("**Configuration.**")
        .expect("a Configuration paragraph");
    let block = readme[start..]
        .split("```toml\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("a toml sample under Configuration");
    let project = Project::new();
    project.file("leastpriv.toml", block);
    let audit = |config: &[&str]| {
        let output = project
            .command()
            .current_dir(repository)
            .args(["audit", "--format", "json"])
            .args(config)
            .arg("examples/driftwood")
            .output()
            .unwrap();
        let document = parse_json(&output);
        let mut high: Vec<String> = document["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|finding| matches!(finding["severity"].as_str(), Some("high" | "critical")))
            .map(|finding| {
                format!(
                    "{} {}:{}",
                    finding["rule"], finding["path"], finding["line"]
                )
            })
            .collect();
        high.sort();
        high
    };
    let everything = audit(&["--isolated"]);
    assert!(!everything.is_empty());
    let config = project.path("leastpriv.toml");
    assert_eq!(
        audit(&["--config", config.to_str().unwrap()]),
        everything,
        "the README's sample configuration hides high findings"
    );
}

#[test]
fn a_stdin_filename_without_dash_is_a_usage_error_not_an_audit_of_the_directory() {
    let project = Project::new();
    project.file("Dockerfile", ROOT_DOCKERFILE);
    let output = project
        .command()
        .args(["audit", "--stdin-filename", "web/Dockerfile"])
        .write_stdin(ROOT_DOCKERFILE)
        .output()
        .unwrap();
    assert_eq!(exit_code(&output), 2);
    assert_eq!(stdout(&output), "", "nothing is audited");
    let text = stderr(&output);
    assert!(text.contains("`-` is not among the paths"), "{text}");
    assert!(text.contains("--stdin-filename web/Dockerfile -"), "{text}");
}

#[test]
fn verify_without_the_separator_says_where_the_command_goes() {
    let output = Project::new()
        .command()
        .args(["verify", "docker", "run", "--rm", "alpine"])
        .output()
        .unwrap();
    assert_eq!(exit_code(&output), 2);
    let text = stderr(&output);
    assert!(text.contains("goes after `--`"), "{text}");
    assert!(
        text.contains("leastpriv verify [OPTIONS] -- docker run"),
        "{text}"
    );
}

#[test]
fn symbolic_links_that_lead_nowhere_say_so() {
    let project = Project::new();
    std::os::unix::fs::symlink("loop-b", project.path("loop-a")).unwrap();
    std::os::unix::fs::symlink("loop-a", project.path("loop-b")).unwrap();
    std::os::unix::fs::symlink("gone/Dockerfile", project.path("dangling")).unwrap();
    let (document, code) = project.audit_json(&["loop-a", "dangling", "missing"]);
    assert_eq!(code, 2);
    let messages: Vec<String> = errors(&document)
        .into_iter()
        .map(|(path, _, _, message)| format!("{path}: {message}"))
        .collect();
    assert_eq!(
        messages,
        [
            "loop-a: symbolic link loop: `loop-a` → `loop-b` → `loop-a` never reaches a file",
            "dangling: symbolic link to `gone/Dockerfile`, which does not exist",
            "missing: no such file or directory",
        ]
    );
}

#[test]
fn a_daemon_json_dockerd_refuses_is_an_error() {
    let project = Project::new();
    project.file(
        "daemon.json",
        "{\n  \"icc\": false,\n  \"no-new-privilege\": true,\n}\n",
    );
    let (document, code) = project.audit_json(&["daemon.json"]);
    assert_eq!(code, 2);
    let messages: Vec<String> = errors(&document)
        .into_iter()
        .map(|(_, line, column, message)| {
            format!("{}:{} {message}", line.unwrap(), column.unwrap())
        })
        .collect();
    assert_eq!(
        messages,
        [
            "3:3 `no-new-privilege` is not a dockerd configuration option, so dockerd refuses to start (did you mean `no-new-privileges`?)",
            "3:27 not valid JSON, so dockerd refuses to start: trailing comma",
        ]
    );
}

#[test]
fn an_unclosed_flow_at_the_end_of_the_file_points_at_its_bracket() {
    let project = Project::new();
    project.file("compose.yaml", "services:\n  web:\n    image: [unclosed\n");
    let (document, code) = project.audit_json(&["compose.yaml"]);
    assert_eq!(code, 2);
    let error = &document["errors"][0];
    assert_eq!(
        (error["line"].as_u64(), error["column"].as_u64()),
        (Some(3), Some(12)),
        "{error}"
    );
    assert_eq!(
        error["related"][0]["message"], "the file ends here",
        "{error}"
    );
    let output = project
        .command()
        .args(["audit", "--color", "never", "compose.yaml"])
        .output()
        .unwrap();
    assert!(
        stdout(&output).contains(" --> compose.yaml:3:12\n"),
        "{}",
        stdout(&output)
    );
}

#[test]
fn image_findings_say_where_they_are_in_words() {
    let archive = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../image/tests/data/deleted.tar.gz"
    );
    let project = Project::new();
    std::fs::copy(archive, project.path("deleted.tar.gz")).unwrap();
    let output = project
        .command()
        .args(["audit", "--isolated", "--color", "never", "deleted.tar.gz"])
        .output()
        .unwrap();
    let text = stdout(&output);
    // The layer's history entry, not a line of leastpriv's printing of the config.
    assert!(
        text.contains(
            "--> deleted.tar.gz@sha256:e0be2ce4a724, history entry 2 of 5 (layer 2 of 4)\n"
        ),
        "{text}"
    );
    assert!(
        text.contains("= the layer that deletes it: history entry 4 of 5 (layer 4 of 4)\n"),
        "{text}"
    );
    assert!(!text.contains("/config:"), "{text}");
    for line in text.lines() {
        let quoted = line.starts_with("  | ");
        assert!(!quoted || line.chars().count() <= 100, "too wide: {line}");
        assert!(
            !line.contains("^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^"),
            "a caret line: {line}"
        );
    }
}
