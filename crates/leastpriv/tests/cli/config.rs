//! `leastpriv.toml`: discovery, `--config`, `--isolated`, `exclude`, `[severity]`, `fail-on`, and
//! invalid files.

use crate::*;

#[test]
fn is_found_upward_from_the_first_path() {
    let project = Project::new();
    project
        .file("leastpriv.toml", "ignore = [\"LP201\"]\n")
        .file("services/web/Dockerfile", ROOT_DOCKERFILE);
    let (document, code) = project.audit_json(&["--select", "LP201", "services/web"]);
    assert_eq!(code, 0, "{document:#}");
    assert!(findings(&document).is_empty());

    // From a subdirectory, too: the file sits above the working directory.
    let output = project
        .command()
        .current_dir(project.path("services"))
        .args([
            "audit",
            "--format",
            "json",
            "--select",
            "LP201",
            "web/Dockerfile",
        ])
        .output()
        .unwrap();
    assert_eq!(exit_code(&output), 0, "{}", stdout(&output));
}

#[test]
fn config_flag_replaces_discovery_and_isolated_ignores_both() {
    let project = Project::new();
    project
        .file("leastpriv.toml", "select = [\"LP201\"]\n")
        .file(
            "ci/strict.toml",
            "select = [\"LP201\"]\n[severity]\nLP201 = \"critical\"\n",
        )
        .file("Dockerfile", ROOT_DOCKERFILE);
    let severity = |args: &[&str]| {
        let (document, _) = project.audit_json(args);
        document["findings"][0]["severity"]
            .as_str()
            .map(str::to_owned)
    };
    assert_eq!(severity(&["Dockerfile"]).as_deref(), Some("high"));
    assert_eq!(
        severity(&["--config", "ci/strict.toml", "Dockerfile"]).as_deref(),
        Some("critical")
    );

    project.file("leastpriv.toml", "ignore = [\"LP201\"]\n");
    assert_eq!(severity(&["--select", "LP201", "Dockerfile"]), None);
    assert_eq!(
        severity(&["--isolated", "--select", "LP201", "Dockerfile"]).as_deref(),
        Some("high")
    );
}

#[test]
fn severity_overrides_change_the_report_and_the_exit_code() {
    let project = Project::new();
    project
        .file("leastpriv.toml", "[severity]\nroot-user = \"info\"\n")
        .file("Dockerfile", ROOT_DOCKERFILE);
    let (document, code) = project.audit_json(&["--select", "LP201", "Dockerfile"]);
    assert_eq!(code, 0, "info is below the default threshold (low)");
    assert_eq!(document["findings"][0]["severity"], "info");
    assert_eq!(document["summary"]["by_severity"]["info"], 1);
    let (_, code) = project.audit_json(&["--select", "LP201", "--fail-on", "info", "Dockerfile"]);
    assert_eq!(code, 1);
}

#[test]
fn fail_on_in_the_file_and_the_flag_that_overrides_it() {
    let project = Project::new();
    project
        .file("leastpriv.toml", "fail-on = \"critical\"\n")
        .file("Dockerfile", ROOT_DOCKERFILE);
    let (_, code) = project.audit_json(&["--select", "LP201", "Dockerfile"]);
    assert_eq!(code, 0);
    let (_, code) = project.audit_json(&["--select", "LP201", "--fail-on", "high", "Dockerfile"]);
    assert_eq!(code, 1);
}

#[test]
fn exclude_skips_paths_relative_to_the_file() {
    let project = Project::new();
    project
        .file(
            "leastpriv.toml",
            "exclude = [\"vendor/**\", \"**/testdata/**\"]\n",
        )
        .file("Dockerfile", ROOT_DOCKERFILE)
        .file("vendor/lib/Dockerfile", ROOT_DOCKERFILE)
        .file("app/testdata/Dockerfile", ROOT_DOCKERFILE);
    let (document, _) = project.audit_json(&["--select", "LP201", "."]);
    assert_eq!(
        findings_of(&document, "LP201"),
        [("Dockerfile".to_owned(), 3, 6)]
    );
    assert_eq!(document["summary"]["files"], 1);
}

#[test]
fn invalid_files_are_located_errors_with_exit_2() {
    let cases = [
        (
            "select = [\"LP201\"\n",
            "invalid configuration in leastpriv.toml: TOML parse error at line 1, column 18",
        ),
        ("selekt = [\"LP201\"]\n", "unknown field `selekt`"),
        (
            "ignore = [\n  \"LP201\",\n  \"LP999\",\n]\n",
            "leastpriv.toml:3:3: `ignore`: unknown rule `LP999`",
        ),
        (
            "[severity]\nLP201 = \"severe\"\n",
            "leastpriv.toml:2:9: [severity] LP201: unknown severity `severe`",
        ),
        (
            "fail-on = \"sometimes\"\n",
            "leastpriv.toml:1:11: `fail-on`: unknown severity `sometimes`",
        ),
        (
            "exclude = [\"a/[\"]\n",
            "leastpriv.toml:1:12: exclude pattern `a/[`",
        ),
    ];
    for (text, expected) in cases {
        let project = Project::new();
        project
            .file("leastpriv.toml", text)
            .file("Dockerfile", ROOT_DOCKERFILE);
        let output = project
            .command()
            .args(["audit", "Dockerfile"])
            .output()
            .unwrap();
        assert_eq!(exit_code(&output), 2, "{text}");
        let message = stderr(&output);
        assert!(message.contains(expected), "{text}: {message}");
        assert!(message.contains("leastpriv.toml"), "{text}: {message}");
    }
}

#[test]
fn a_missing_config_flag_file_is_an_error() {
    let project = Project::new();
    project.file("Dockerfile", ROOT_DOCKERFILE);
    let output = project
        .command()
        .args(["audit", "--config", "nope.toml", "Dockerfile"])
        .output()
        .unwrap();
    assert_eq!(exit_code(&output), 2);
    assert!(stderr(&output).contains("nope.toml"), "{}", stderr(&output));
}
