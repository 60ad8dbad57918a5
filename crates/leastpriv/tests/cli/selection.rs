//! `--select` / `--ignore` with every selector form, and `# leastpriv: ignore[…]` comments.

use crate::*;

fn root_project() -> Project {
    let project = Project::new();
    project.file("Dockerfile", ROOT_DOCKERFILE);
    project
}

#[test]
fn select_accepts_codes_names_prefixes_and_layers() {
    let project = root_project();
    for selector in [
        "LP201",
        "lp201",
        "root-user",
        "LP2",
        "LP",
        "user",
        "LP201,LP2",
    ] {
        let (document, code) = project.audit_json(&["--select", selector, "Dockerfile"]);
        assert_eq!(code, 1, "--select {selector}");
        assert_eq!(
            findings_of(&document, "LP201").len(),
            1,
            "--select {selector}"
        );
        let layers: Vec<_> = document["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|finding| finding["layer"].as_str().unwrap().to_owned())
            .collect();
        if selector == "user" {
            assert!(layers.iter().all(|layer| layer == "user"), "{layers:?}");
        }
    }
}

#[test]
fn ignore_accepts_the_same_forms() {
    let project = root_project();
    for selector in ["LP201", "root-user", "LP2", "user"] {
        let (document, _) = project.audit_json(&["--ignore", selector, "Dockerfile"]);
        assert!(
            findings_of(&document, "LP201").is_empty(),
            "--ignore {selector}"
        );
    }
    // --ignore wins over --select.
    let (document, code) =
        project.audit_json(&["--select", "LP201", "--ignore", "LP201", "Dockerfile"]);
    assert_eq!(code, 0);
    assert!(findings(&document).is_empty());
}

#[test]
fn unknown_selectors_are_usage_errors() {
    let project = root_project();
    for flag in ["--select", "--ignore"] {
        let output = project
            .command()
            .args(["audit", flag, "LP999", "Dockerfile"])
            .output()
            .unwrap();
        assert_eq!(exit_code(&output), 2, "{flag}");
        assert!(
            stderr(&output).contains("unknown rule `LP999`"),
            "{}",
            stderr(&output)
        );
        assert!(output.stdout.is_empty());
    }
}

#[test]
fn a_comment_on_the_line_suppresses_the_finding() {
    let project = Project::new();
    project.file(
        "Dockerfile",
        "FROM alpine:3.20\nUSER root # leastpriv: ignore[LP201] the init script drops privileges\n",
    );
    let (document, code) = project.audit_json(&["--select", "LP201", "Dockerfile"]);
    assert_eq!(code, 0, "{document:#}");
    assert!(findings(&document).is_empty());
}

#[test]
fn a_comment_on_the_line_above_suppresses_the_finding() {
    let project = Project::new();
    project.file(
        "Dockerfile",
        "FROM alpine:3.20\n# leastpriv: ignore[root-user] the init script drops privileges\nUSER root\n",
    );
    let (document, code) = project.audit_json(&["--select", "LP201", "Dockerfile"]);
    assert_eq!(code, 0, "{document:#}");
}

#[test]
fn a_comment_for_another_rule_or_further_up_does_not() {
    let project = Project::new();
    project.file(
        "other-rule.Dockerfile",
        "FROM alpine:3.20\n# leastpriv: ignore[LP101] not this one\nUSER root\n",
    );
    project.file(
        "too-far.Dockerfile",
        "FROM alpine:3.20\n# leastpriv: ignore[LP201] two lines up\nRUN true\nUSER root\n",
    );
    let (document, code) = project.audit_json(&["--select", "LP201", "."]);
    assert_eq!(code, 1);
    assert_eq!(
        findings_of(&document, "LP201"),
        [
            ("other-rule.Dockerfile".to_owned(), 3, 6),
            ("too-far.Dockerfile".to_owned(), 4, 6)
        ]
    );
}

#[test]
fn a_missing_user_is_suppressed_at_its_from_line() {
    let project = Project::new();
    project.file(
        "Dockerfile",
        "# leastpriv: ignore[LP201] the base image runs as nobody\nFROM example.invalid/base:1\n",
    );
    let (document, code) = project.audit_json(&["--select", "LP201", "Dockerfile"]);
    assert_eq!(code, 0, "{document:#}");
}
