//! Compose projects through the binary: the override file merged once, `.env` interpolation,
//! content detection and located YAML errors.

use crate::{errors, findings_of, Project};

const ROOT_SERVICE: &str = "services:\n  web:\n    image: nginx\n    user: root\n";

#[test]
fn a_directory_with_an_override_file_is_audited_once_as_one_project() {
    let project = Project::new();
    project.file("compose.yaml", ROOT_SERVICE).file(
        "compose.override.yaml",
        "services:\n  web:\n    environment:\n      - DEBUG=1\n",
    );
    let (document, code) = project.audit_json(&["--select", "LP201", "."]);
    assert_eq!(code, 1, "{document:#}");
    assert_eq!(
        findings_of(&document, "LP201"),
        [("compose.yaml".to_owned(), 4, 11)]
    );
}

#[test]
fn the_override_file_decides_and_is_pointed_at() {
    let project = Project::new();
    project
        .file(
            "compose.yaml",
            "services:\n  web:\n    image: nginx\n    user: \"1000\"\n",
        )
        .file(
            "compose.override.yaml",
            "services:\n  web:\n    user: root\n",
        );
    let (document, _) = project.audit_json(&["--select", "LP201", "."]);
    assert_eq!(
        findings_of(&document, "LP201"),
        [("compose.override.yaml".to_owned(), 3, 11)]
    );
}

#[test]
fn values_are_judged_after_interpolation_from_dotenv() {
    let project = Project::new();
    project.file(
        "compose.yaml",
        "services:\n  web:\n    image: nginx\n    user: ${LEASTPRIV_TEST_USER:-root}\n",
    );
    let (document, _) = project.audit_json(&["--select", "LP201", "."]);
    assert_eq!(
        findings_of(&document, "LP201"),
        [("compose.yaml".to_owned(), 4, 11)]
    );
    project.file(".env", "LEASTPRIV_TEST_USER=1000\n");
    let (document, code) = project.audit_json(&["--select", "LP201", "."]);
    assert_eq!(code, 0, "{document:#}");
}

#[test]
fn a_named_yaml_file_with_services_is_read_as_compose() {
    let project = Project::new();
    project.file("deploy/stack.yml", ROOT_SERVICE);
    let (document, code) = project.audit_json(&["--select", "LP201", "deploy/stack.yml"]);
    assert_eq!(code, 1, "{document:#}");
    assert_eq!(
        findings_of(&document, "LP201"),
        [("deploy/stack.yml".to_owned(), 4, 11)]
    );
}

#[test]
fn broken_yaml_is_a_located_error_and_other_projects_are_still_audited() {
    let project = Project::new();
    project
        .file("broken/compose.yaml", "services:\n  web:\n\timage: nginx\n")
        .file("ok/compose.yaml", ROOT_SERVICE);
    let (document, code) = project.audit_json(&["--select", "LP201", "."]);
    assert_eq!(code, 2, "{document:#}");
    let errors = errors(&document);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(
        (errors[0].0.as_str(), errors[0].1, errors[0].2),
        ("broken/compose.yaml", Some(3), Some(1))
    );
    assert!(errors[0].3.contains("tab"), "{}", errors[0].3);
    assert_eq!(
        findings_of(&document, "LP201"),
        [("ok/compose.yaml".to_owned(), 4, 11)]
    );
}

#[test]
fn files_given_with_f_are_merged_in_order_as_compose_does() {
    let project = Project::new();
    project
        .file(
            "base.yml",
            "services:\n  web:\n    image: nginx\n    user: root\n",
        )
        .file("prod.yml", "services:\n  web:\n    user: \"10001\"\n");
    // Alone, the base file runs the service as root.
    let (document, _) = project.audit_json(&["--select", "LP201", "-f", "base.yml"]);
    assert_eq!(
        findings_of(&document, "LP201"),
        [("base.yml".to_owned(), 4, 11)]
    );
    // With the production file merged on top, the later file's user wins, as with `docker compose -f`.
    let (document, code) =
        project.audit_json(&["--select", "LP201", "-f", "base.yml", "-f", "prod.yml"]);
    assert_eq!(code, 0, "{document:#}");
    assert!(findings_of(&document, "LP201").is_empty());
}

#[test]
fn committed_env_files_are_audited_for_literal_secrets_at_their_line() {
    let project = Project::new();
    project
        .file(".env", "APP_NAME=web\nDB_PASSWORD=s3cr3t-in-dotenv\n")
        .file("web.env", "# settings\nAPI_TOKEN=t0ken-in-env-file\nMODE=prod\n")
        .file(
            "compose.yaml",
            "services:\n  web:\n    image: nginx:${APP_NAME}\n    env_file: [web.env, not-committed.env]\n    \
             environment:\n      GIT_URL: \"https://${GITHUB_TOKEN}:x-oauth-basic@github.com/o/r\"\n",
        );
    let (document, code) = project.audit_json(&["--select", "secrets", "."]);
    assert_eq!(code, 1, "{document:#}");
    let mut found = findings_of(&document, "LP601");
    found.sort();
    assert_eq!(
        found,
        [(".env".to_owned(), 2, 1), ("web.env".to_owned(), 2, 1)],
        "{document:#}"
    );
    // `x-oauth-basic` is GitHub's placeholder, not a password; an env file that is not committed
    // is not an error.
    assert!(findings_of(&document, "LP603").is_empty(), "{document:#}");
    assert!(errors(&document).is_empty(), "{document:#}");
    let text = document.to_string();
    assert!(!text.contains("s3cr3t-in-dotenv") && !text.contains("t0ken-in-env-file"));
}
