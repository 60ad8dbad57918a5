//! What a new user gets: the binary the default build makes (static, so `verify` mounts it), help
//! that describes the commands there are, completions and man pages generated from the clap
//! definition, the pre-commit hook, and leastpriv's own image.

use std::path::{Path, PathBuf};

use leastpriv_frontend::yaml::{self, Node};
use leastpriv_source::SourceDb;

use crate::{exit_code, stderr, stdout, Project};

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("the repository root")
        .to_path_buf()
}

fn leastpriv(args: &[&str]) -> std::process::Output {
    Project::new()
        .command()
        .args(args)
        .output()
        .expect("leastpriv runs")
}

#[test]
#[cfg(target_os = "linux")]
fn the_binary_the_default_build_makes_is_the_probe_verify_mounts() {
    let binary = Path::new(env!("CARGO_BIN_EXE_leastpriv"));
    if let Err(error) = leastpriv_verify::check_probe_binary(binary) {
        panic!("the default build is not mountable as the probe: {error}");
    }
}

/// The commands `--help` lists, after `Commands:`.
fn listed_commands(help: &str) -> Vec<String> {
    help.lines()
        .skip_while(|line| !line.starts_with("Commands:"))
        .skip(1)
        .take_while(|line| !line.trim().is_empty())
        .filter(|line| line.starts_with("  ") && !line.starts_with("   "))
        .filter_map(|line| line.split_whitespace().next())
        .map(str::to_owned)
        .collect()
}

#[test]
fn help_describes_the_commands_that_exist() {
    let help = leastpriv(&["--help"]);
    assert_eq!(exit_code(&help), 0);
    let help = stdout(&help);
    let bare = leastpriv(&[]);
    assert_eq!(exit_code(&bare), 2, "a command is required");
    let bare = stderr(&bare);
    let commands = listed_commands(&help);
    assert_eq!(commands, listed_commands(&bare));
    for command in ["audit", "verify", "probe", "completions", "man"] {
        assert!(commands.iter().any(|listed| listed == command), "{help}");
    }
    // Every command listed runs, and the prose names no command that is not there.
    for command in commands.iter().filter(|command| *command != "help") {
        let output = leastpriv(&[command, "--help"]);
        assert_eq!(exit_code(&output), 0, "{command} --help");
    }
    let prose = |text: &str| -> String {
        text.lines()
            .take_while(|line| !line.starts_with("Usage:"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    for text in [prose(&help), prose(&bare)] {
        assert!(!text.contains("as they land"), "{text}");
        for promised in ["harden", "profile"] {
            assert!(
                !text.contains(promised) || commands.iter().any(|command| command == promised),
                "the help announces `{promised}`, which this binary does not have: {text}"
            );
        }
        // Backquoted words that name a leastpriv command are ones it has.
        for quoted in text.split('`').skip(1).step_by(2) {
            let word = quoted.split_whitespace().next().unwrap_or_default();
            let looks_like_command = word.chars().all(|c| c.is_ascii_lowercase());
            let other_tool = ["docker", "leastpriv"].contains(&word);
            if looks_like_command && !other_tool && quoted.split_whitespace().count() == 1 {
                assert!(
                    commands.iter().any(|command| command == word) || word.starts_with("--"),
                    "the help names `{word}`: {text}"
                );
            }
        }
    }
}

#[test]
fn completions_are_generated_for_every_shell() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let output = leastpriv(&["completions", shell]);
        assert_eq!(exit_code(&output), 0, "{shell}");
        let script = stdout(&output);
        for word in ["audit", "verify", "expect", "fail-on"] {
            assert!(script.contains(word), "{shell} completions lack {word}");
        }
    }
    let unknown = leastpriv(&["completions", "tcsh"]);
    assert_eq!(exit_code(&unknown), 2);
    // bash reads the script and registers the completion.
    if Path::new("/bin/bash").exists() {
        let bash = std::process::Command::new("/bin/bash")
            .args([
                "-c",
                "source <(\"$0\" completions bash) && complete -p leastpriv",
                env!("CARGO_BIN_EXE_leastpriv"),
            ])
            .output()
            .expect("bash runs");
        assert!(
            bash.status.success(),
            "{}",
            String::from_utf8_lossy(&bash.stderr)
        );
        assert!(stdout(&bash).contains("leastpriv"), "{}", stdout(&bash));
    }
}

#[test]
fn man_pages_are_generated_from_the_command_line_definition() {
    let output = leastpriv(&["man"]);
    assert_eq!(exit_code(&output), 0);
    let page = stdout(&output);
    assert!(page.contains(".TH leastpriv 1"), "{page}");
    assert!(page.contains("leastpriv\\-verify(1)"), "{page}");
    let project = Project::new();
    let dir = project.path("man/man1");
    let written = project
        .command()
        .args(["man"])
        .arg(&dir)
        .output()
        .expect("leastpriv runs");
    assert_eq!(exit_code(&written), 0, "{}", stderr(&written));
    for name in ["leastpriv.1", "leastpriv-audit.1", "leastpriv-verify.1"] {
        let text = std::fs::read_to_string(dir.join(name)).expect("a page");
        assert!(text.starts_with(".ie"), "{name}");
    }
    let verify = std::fs::read_to_string(dir.join("leastpriv-verify.1")).expect("a page");
    assert!(verify.contains("\\-\\-expect"), "{verify}");
}

/// A YAML mapping's string value.
fn text<'a>(node: &'a Node, key: &str) -> Option<&'a str> {
    node.get(key).and_then(Node::as_str)
}

#[test]
fn the_pre_commit_hook_parses_and_its_entry_runs() {
    let path = repository().join(".pre-commit-hooks.yaml");
    let source = std::fs::read_to_string(&path).expect("the hooks file");
    let db = SourceDb::new();
    let file = db.add(".pre-commit-hooks.yaml", source.clone());
    let stream = yaml::parse(&source, file);
    assert!(stream.errors.is_empty(), "{:?}", stream.errors);
    let hooks = stream.documents[0].as_seq().expect("a list of hooks");
    let hook = &hooks[0];
    for key in ["id", "name", "entry", "language"] {
        assert!(text(hook, key).is_some(), "pre-commit requires `{key}`");
    }
    assert_eq!(text(hook, "id"), Some("leastpriv"));
    assert_eq!(text(hook, "language"), Some("system"));
    assert_eq!(
        hook.get("pass_filenames").and_then(Node::as_bool),
        Some(false)
    );

    // pre-commit's `files` is a Python regex searched in each changed path.
    let files = regex::Regex::new(text(hook, "files").expect("files")).expect("a regex");
    for path in [
        "Dockerfile",
        "web/Dockerfile.prod",
        "Containerfile",
        "api.dockerfile",
        "compose.yaml",
        "deploy/k8s/web.yml",
        "etc/docker/daemon.json",
        "scripts/run.sh",
        ".env",
        "leastpriv.toml",
    ] {
        assert!(
            files.is_match(path),
            "{path} changes what leastpriv reports"
        );
    }
    for path in ["src/main.rs", "README.md", "Cargo.toml"] {
        assert!(!files.is_match(path), "{path} is not read");
    }

    // The entry, with pre-commit's `args`, runs as pre-commit runs it: in the repository, with no
    // file names.
    let entry: Vec<&str> = text(hook, "entry")
        .expect("entry")
        .split_whitespace()
        .collect();
    assert_eq!(entry[0], "leastpriv");
    let project = Project::new();
    project.file("Dockerfile", crate::ROOT_DOCKERFILE);
    let run = |args: &[&str]| {
        project
            .command()
            .args(&entry[1..])
            .args(args)
            .output()
            .expect("leastpriv runs")
    };
    let failing = run(&[]);
    assert_eq!(exit_code(&failing), 1, "{}", stdout(&failing));
    assert!(stdout(&failing).contains("LP201"));
    let tolerant = run(&["--fail-on", "critical"]);
    assert_eq!(exit_code(&tolerant), 0, "{}", stdout(&tolerant));
}

#[test]
fn leastpriv_s_own_image_is_audited_clean() {
    let root = repository();
    let output = Project::new()
        .command()
        .args([
            "audit",
            "--isolated",
            "--fail-on",
            "info",
            "--format",
            "json",
        ])
        .arg(root.join("Dockerfile"))
        .output()
        .expect("leastpriv runs");
    assert_eq!(exit_code(&output), 0, "{}", stdout(&output));
    let dockerfile = std::fs::read_to_string(root.join("Dockerfile")).expect("the Dockerfile");
    assert!(dockerfile.contains("\nFROM scratch\n"));
    assert!(dockerfile.contains("\nUSER 65532:65532\n"));
    // The builder is sent the binary alone, not the repository and its target directory.
    let ignore = std::fs::read_to_string(root.join(".dockerignore")).expect(".dockerignore");
    let rules: Vec<&str> = ignore
        .lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .collect();
    assert_eq!(rules, ["*", "!leastpriv"]);
}
