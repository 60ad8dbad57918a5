//! Exit codes, `--fail-on`, the output formats, colour, broken pipes and paths.

use crate::*;

fn root_project() -> Project {
    let project = Project::new();
    project.file("web/Dockerfile", ROOT_DOCKERFILE);
    project
}

#[test]
fn exits_1_on_a_finding_and_0_when_clean() {
    let project = root_project();
    let (document, code) = project.audit_json(&["--select", "LP201", "web/Dockerfile"]);
    assert_eq!(code, 1);
    assert_eq!(
        findings_of(&document, "LP201"),
        [("web/Dockerfile".to_owned(), 3, 6)]
    );
    let finding = &document["findings"][0];
    assert_eq!(finding["name"], "root-user");
    assert_eq!(finding["layer"], "user");
    assert_eq!(finding["severity"], "high");
    assert_eq!(
        (finding["end_line"].as_u64(), finding["end_column"].as_u64()),
        (Some(3), Some(10))
    );
    assert!(finding["fix"].as_str().unwrap().contains("USER"));

    project.file("ok/Dockerfile", NONROOT_DOCKERFILE);
    let (document, code) = project.audit_json(&["--select", "LP201", "ok/Dockerfile"]);
    assert_eq!(code, 0, "{document:#}");
    assert_eq!(document["summary"]["findings"], 0);
    assert_eq!(document["summary"]["files"], 1);
}

#[test]
fn fail_on_sets_the_threshold() {
    let project = root_project();
    for (threshold, expected) in [
        ("info", 1),
        ("low", 1),
        ("high", 1),
        ("critical", 0),
        ("never", 0),
    ] {
        let (document, code) =
            project.audit_json(&["--select", "LP201", "--fail-on", threshold, "web"]);
        assert_eq!(code, expected, "--fail-on {threshold}");
        // The threshold decides the exit code only: the finding is reported either way.
        assert_eq!(findings_of(&document, "LP201").len(), 1);
    }
}

#[test]
fn errors_exit_2_even_with_findings_below_and_above_the_threshold() {
    let project = root_project();
    project.file("bad.dockerfile", b"FROM x\n\x00\x01");
    let (document, code) = project.audit_json(&["--select", "LP201", "--fail-on", "never", "."]);
    assert_eq!(code, 2);
    assert_eq!(findings_of(&document, "LP201").len(), 1);
    assert_eq!(errors(&document).len(), 1);
}

#[test]
fn usage_errors_exit_2() {
    let project = root_project();
    let output = project
        .command()
        .args(["audit", "--no-such-flag"])
        .output()
        .unwrap();
    assert_eq!(exit_code(&output), 2);
    let output = project
        .command()
        .args(["audit", "--format", "xml", "web"])
        .output()
        .unwrap();
    assert_eq!(exit_code(&output), 2);
    assert!(stderr(&output).contains("xml"));
}

#[test]
fn human_output_shows_the_line_the_caret_and_the_fix() {
    let project = root_project();
    let output = project
        .command()
        .args(["audit", "--select", "LP201", "web/Dockerfile"])
        .output()
        .unwrap();
    assert_eq!(exit_code(&output), 1);
    let text = stdout(&output);
    assert!(text.starts_with("LP201 [high] "), "{text}");
    assert!(text.contains(" --> web/Dockerfile:3:6"), "{text}");
    assert!(text.contains("3 | USER root\n  |      ^^^^"), "{text}");
    assert!(text.contains("\nhelp: "), "{text}");
    assert!(text.contains("1 finding in 1 file"), "{text}");
    assert!(
        !text.contains('\x1b'),
        "no colour when stdout is not a terminal"
    );
}

#[test]
fn human_output_of_a_small_project() {
    let project = Project::new();
    project
        .file("web/Dockerfile", ROOT_DOCKERFILE)
        .file(
            "proxy/Dockerfile",
            "FROM nginx:1.27\nCOPY nginx.conf /etc/nginx/nginx.conf\n",
        )
        .file("worker/Dockerfile", NONROOT_DOCKERFILE)
        .file("notes/Dockerfile.prod", "FROM alpine:3.20\n\u{0}");
    let output = project
        .command()
        .args(["audit", "--select", "LP201", "--color", "never", "."])
        .output()
        .unwrap();
    assert_eq!(exit_code(&output), 2);
    insta::assert_snapshot!(stdout(&output));
}

#[test]
fn colour_follows_the_flag_and_the_environment() {
    let project = root_project();
    let run = |args: &[&str], env: &[(&str, &str)]| {
        let mut command = project.command();
        command
            .args(["audit", "--select", "LP201"])
            .args(args)
            .arg("web");
        for (name, value) in env {
            command.env(name, value);
        }
        stdout(&command.output().unwrap()).contains('\x1b')
    };
    assert!(run(&["--color", "always"], &[]));
    assert!(!run(&["--color", "never"], &[("CLICOLOR_FORCE", "1")]));
    assert!(!run(&[], &[]), "auto: not a terminal");
    assert!(run(&[], &[("CLICOLOR_FORCE", "1")]));
    assert!(!run(&[], &[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")]));
}

#[test]
fn sarif_output_is_a_sarif_log() {
    let project = root_project();
    let output = project
        .command()
        .args(["audit", "--select", "LP201", "--format", "sarif", "web"])
        .output()
        .unwrap();
    assert_eq!(exit_code(&output), 1);
    let log = parse_json(&output);
    assert_eq!(log["version"], "2.1.0");
    let result = &log["runs"][0]["results"][0];
    assert_eq!(result["ruleId"], "LP201");
    let location = &result["locations"][0]["physicalLocation"];
    assert_eq!(location["artifactLocation"]["uri"], "web/Dockerfile");
    assert_eq!(location["region"]["startLine"], 3);
    assert_eq!(location["region"]["startColumn"], 6);
    assert_eq!(log["runs"][0]["tool"]["driver"]["rules"][0]["id"], "LP201");
}

#[test]
fn sarif_of_the_driftwood_example_is_valid_sarif_2_1_0() {
    let repository = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let output = Project::new()
        .command()
        .current_dir(repository)
        .args(["audit", "--format", "sarif", "examples/driftwood"])
        .output()
        .unwrap();
    assert_eq!(exit_code(&output), 1, "{}", stderr(&output));
    let log = parse_json(&output);
    let schema_path = format!("{repository}/crates/report/tests/data/sarif-schema-2.1.0.json");
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(schema_path).unwrap()).unwrap();
    let mut schemas = boon::Schemas::new();
    let mut compiler = boon::Compiler::new();
    compiler.enable_format_assertions();
    compiler.add_resource("sarif.json", schema).unwrap();
    let index = compiler.compile("sarif.json", &mut schemas).unwrap();
    if let Err(error) = schemas.validate(&log, index) {
        panic!("invalid SARIF: {error:#}");
    }
    let results = log["runs"][0]["results"].as_array().unwrap();
    assert!(!results.is_empty());
    let text = stdout(&output);
    for fake in [
        "driftwood-dev-password",
        "ghp_FAKE",
        "not-a-real-secret-key",
    ] {
        assert!(!text.contains(fake), "SARIF leaks {fake}");
    }
}

#[test]
fn no_format_prints_a_secret_of_the_driftwood_example() {
    let repository = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    for format in ["human", "json", "sarif", "github"] {
        let output = Project::new()
            .command()
            .current_dir(repository)
            .args([
                "audit",
                "--color",
                "always",
                "--format",
                format,
                "examples/driftwood",
            ])
            .output()
            .unwrap();
        let text = stdout(&output);
        assert!(text.contains("DB_PASSWORD"), "{format}: {text}");
        for fake in [
            "driftwood-dev-password",
            "ghp_FAKE",
            "not-a-real-secret-key",
            "wJalrXUtnFEMI",
        ] {
            assert!(!text.contains(fake), "{format} prints {fake}");
        }
    }
}

#[test]
fn github_output_is_one_annotation_per_finding() {
    let project = root_project();
    let output = project
        .command()
        .args(["audit", "--select", "LP201", "--format", "github", "web"])
        .output()
        .unwrap();
    assert_eq!(exit_code(&output), 1);
    let text = stdout(&output);
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(
        text.starts_with(
            "::error file=web/Dockerfile,line=3,col=6,endLine=3,endColumn=10,title=LP201 root-user::"
        ),
        "{text}"
    );
}

#[test]
fn relative_paths_stay_relative() {
    let project = root_project();
    for (arg, expected) in [
        ("web/Dockerfile", "web/Dockerfile"),
        ("./web/Dockerfile", "web/Dockerfile"),
        ("web", "web/Dockerfile"),
        (".", "web/Dockerfile"),
    ] {
        let (document, _) = project.audit_json(&["--select", "LP201", arg]);
        assert_eq!(
            findings_of(&document, "LP201"),
            [(expected.to_owned(), 3, 6)],
            "argument {arg}"
        );
    }
    let absolute = project.path("web/Dockerfile");
    let (document, _) = project.audit_json(&["--select", "LP201", absolute.to_str().unwrap()]);
    assert_eq!(
        findings_of(&document, "LP201")[0].0,
        absolute.to_str().unwrap()
    );
}

#[test]
fn a_broken_pipe_ends_quietly_with_0() {
    let project = Project::new();
    // Enough output to overflow the pipe once `head` has gone.
    for index in 0..3000 {
        project.file(&format!("images/{index:04}.dockerfile"), b"FROM x\n\x00");
    }
    let output = std::process::Command::new("bash")
        .arg("-c")
        .arg(r#"set -o pipefail; "$0" audit . | head -1 >/dev/null"#)
        .arg(env!("CARGO_BIN_EXE_leastpriv"))
        .current_dir(project.root())
        .output()
        .unwrap();
    assert_eq!(exit_code(&output), 0, "stderr: {}", stderr(&output));
    assert_eq!(stderr(&output), "");
}
