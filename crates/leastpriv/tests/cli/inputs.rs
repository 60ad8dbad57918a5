//! What gets audited: stdin, directory walks, content detection, and inputs that cannot be read.

use std::io::Write;

use crate::*;

#[test]
fn stdin_is_read_and_reported_under_its_given_name() {
    let project = Project::new();
    let output = project
        .command()
        .args(["audit", "--format", "json", "--select", "LP201"])
        .args(["--stdin-filename", "deploy/web/Dockerfile", "-"])
        .write_stdin(ROOT_DOCKERFILE)
        .output()
        .unwrap();
    assert_eq!(exit_code(&output), 1);
    assert_eq!(
        findings_of(&parse_json(&output), "LP201"),
        [("deploy/web/Dockerfile".to_owned(), 3, 6)]
    );
}

#[test]
fn stdin_without_a_name_is_recognised_by_content() {
    let project = Project::new();
    let output = project
        .command()
        .args(["audit", "--format", "json", "--select", "LP201", "-"])
        .write_stdin(ROOT_DOCKERFILE)
        .output()
        .unwrap();
    assert_eq!(exit_code(&output), 1);
    assert_eq!(
        findings_of(&parse_json(&output), "LP201"),
        [("-".to_owned(), 3, 6)]
    );
}

#[test]
fn a_directory_walk_takes_dockerfiles_by_name_and_honours_gitignore() {
    let project = Project::new();
    project
        .file(".gitignore", "build/\n*.generated.Dockerfile\n")
        .file("Dockerfile", ROOT_DOCKERFILE)
        .file("api/Dockerfile.prod", ROOT_DOCKERFILE)
        .file("api/worker.dockerfile", ROOT_DOCKERFILE)
        .file("api/web.Dockerfile", ROOT_DOCKERFILE)
        .file(".devcontainer/Dockerfile", ROOT_DOCKERFILE)
        .file("build/Dockerfile", ROOT_DOCKERFILE)
        .file("api/x.generated.Dockerfile", ROOT_DOCKERFILE)
        .file("docs/Dockerfile-notes.md", "FROM alpine\nUSER root\n")
        .file("README.md", "FROM alpine\n");
    let (document, code) = project.audit_json(&["--select", "LP201", "."]);
    assert_eq!(code, 1);
    let mut paths: Vec<_> = findings_of(&document, "LP201")
        .into_iter()
        .map(|(path, ..)| path)
        .collect();
    paths.sort();
    assert_eq!(
        paths,
        [
            ".devcontainer/Dockerfile",
            "Dockerfile",
            "api/Dockerfile.prod",
            "api/web.Dockerfile",
            "api/worker.dockerfile"
        ]
    );
    assert_eq!(document["summary"]["files"], 5);
    assert!(errors(&document).is_empty());
}

#[test]
fn a_named_file_is_recognised_by_its_content() {
    let project = Project::new();
    project
        .file("images/app.txt", ROOT_DOCKERFILE)
        .file("images/notes.txt", "Remember to rotate the keys.\n");
    let (document, code) = project.audit_json(&["--select", "LP201", "images/app.txt"]);
    assert_eq!(code, 1);
    assert_eq!(
        findings_of(&document, "LP201"),
        [("images/app.txt".to_owned(), 3, 6)]
    );

    let (document, code) = project.audit_json(&["--select", "LP201", "images/notes.txt"]);
    assert_eq!(code, 2);
    let errors = errors(&document);
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].0, "images/notes.txt");
    assert!(errors[0].3.contains("not a recognised input"), "{errors:?}");
}

#[test]
fn bad_inputs_are_located_errors_and_the_rest_is_still_audited() {
    let project = Project::new();
    project
        .file("good/Dockerfile", ROOT_DOCKERFILE)
        .file("binary/Dockerfile", b"FROM alpine\nRUN x\x00y\n")
        .file(
            "latin1/Dockerfile",
            b"FROM alpine\nLABEL author=\"Jos\xe9\"\n",
        )
        .file("bom/Dockerfile", format!("\u{feff}{ROOT_DOCKERFILE}"));
    // Over the size limit (8 MiB), written without holding it in memory twice.
    let big = project.path("big/Dockerfile");
    std::fs::create_dir_all(big.parent().unwrap()).unwrap();
    let mut file = std::fs::File::create(&big).unwrap();
    file.write_all(b"FROM alpine\n").unwrap();
    let line = format!("# {}\n", "x".repeat(1022));
    for _ in 0..(9 * 1024) {
        file.write_all(line.as_bytes()).unwrap();
    }
    drop(file);

    let (document, code) = project.audit_json(&["--select", "LP201", "."]);
    assert_eq!(code, 2, "{document:#}");
    let mut errors = errors(&document);
    errors.sort();
    assert_eq!(errors.len(), 3, "{errors:?}");
    let (path, line, column, message) = &errors[0];
    assert_eq!(
        (path.as_str(), *line, *column),
        ("big/Dockerfile", None, None)
    );
    assert!(message.contains("larger than 8 MiB"), "{message}");
    let (path, line, column, message) = &errors[1];
    assert_eq!(
        (path.as_str(), *line, *column),
        ("binary/Dockerfile", Some(2), Some(6))
    );
    assert!(message.contains("binary"), "{message}");
    let (path, line, column, message) = &errors[2];
    assert_eq!(
        (path.as_str(), *line, *column),
        ("latin1/Dockerfile", Some(2), Some(18))
    );
    assert!(message.contains("UTF-8"), "{message}");
    // The good file and the one with a byte-order mark are still audited, positions unshifted.
    assert_eq!(
        findings_of(&document, "LP201"),
        [
            ("bom/Dockerfile".to_owned(), 3, 6),
            ("good/Dockerfile".to_owned(), 3, 6)
        ]
    );
}

#[test]
fn missing_and_dangling_paths_are_errors() {
    let project = Project::new();
    project.file("Dockerfile", ROOT_DOCKERFILE);
    std::os::unix::fs::symlink(project.path("gone"), project.path("dangling.Dockerfile")).unwrap();
    let (document, code) = project.audit_json(&[
        "--select",
        "LP201",
        "Dockerfile",
        "no/such/Dockerfile",
        "dangling.Dockerfile",
    ]);
    assert_eq!(code, 2);
    let paths: Vec<_> = errors(&document).into_iter().map(|error| error.0).collect();
    assert_eq!(paths, ["no/such/Dockerfile", "dangling.Dockerfile"]);
    assert_eq!(findings_of(&document, "LP201").len(), 1);
}

#[test]
fn an_unreadable_file_is_an_error() {
    use std::os::unix::fs::PermissionsExt;
    let project = Project::new();
    project
        .file("Dockerfile", ROOT_DOCKERFILE)
        .file("secret/Dockerfile", ROOT_DOCKERFILE);
    let locked = project.path("secret/Dockerfile");
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    if std::fs::read(&locked).is_ok() {
        eprintln!("skipped: running with privileges that read a mode-000 file (root)");
        return;
    }
    let (document, code) = project.audit_json(&["--select", "LP201", "."]);
    assert_eq!(code, 2);
    assert_eq!(
        errors(&document),
        [(
            "secret/Dockerfile".to_owned(),
            None,
            None,
            "permission denied".to_owned()
        )]
    );
    assert_eq!(findings_of(&document, "LP201").len(), 1);
}

#[test]
fn malformed_lines_are_located_in_order_and_the_file_is_still_audited() {
    let project = Project::new();
    project.file(
        "Dockerfile",
        "FROM alpine:3.20\nFROBNICATE x\nUSER root\nRUN <<EOF\necho never closed\n",
    );
    let (document, code) = project.audit_json(&["--select", "LP201", "Dockerfile"]);
    assert_eq!(code, 2);
    let located: Vec<_> = errors(&document)
        .into_iter()
        .map(|(path, line, column, _)| (path, line, column))
        .collect();
    assert_eq!(
        located,
        [
            ("Dockerfile".to_owned(), Some(2), Some(1)),
            ("Dockerfile".to_owned(), Some(4), Some(5))
        ]
    );
    assert_eq!(
        findings_of(&document, "LP201"),
        [("Dockerfile".to_owned(), 3, 6)]
    );
}
