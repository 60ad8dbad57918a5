//! The chapter's worked example, produced by the tool: `examples/driftwood/hardened/` is what
//! `leastpriv harden` makes of Driftwood as first written (with the web service's checked-in
//! profile), its audit is empty, and the per-layer diffs of `examples/driftwood/README.md` are the
//! ones harden prints. The engine tests (`tests/driftwood.rs`, `tests/driftwood_profile.rs`) run
//! what these files describe.

use std::fs;
use std::path::{Path, PathBuf};

use crate::{exit_code, findings, parse_json, stderr, stdout, Project};

/// Every secret value planted in Driftwood's first-written files: none may reach any output or
/// any hardened file.
const SECRETS: [&str; 6] = [
    "driftwood-dev-password",
    "not-a-real-secret-key-driftwood-dev",
    "ghp_FAKE0driftwood0example0token00000000",
    "AKIA2DRIFTWOODFAKE3Q",
    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "sk_test_FAKE0driftwood0example0key",
];

/// The files harden writes into `hardened/`.
const HARDENED: [&str; 2] = ["Dockerfile", "compose.yaml"];

/// Copied from the original project into `hardened/` before harden runs.
const COPIED: [&str; 3] = ["Dockerfile", "compose.yaml", ".dockerignore"];

/// `leastpriv harden`'s flags in the example's README: the profile is the web service's.
const HARDEN: [&str; 4] = [
    "--remove-dangerous",
    "--profile",
    "hardened/web.profile.json",
    "--in-place",
];

fn example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/driftwood")
}

fn assert_no_secret(what: &str, text: &str) {
    for secret in SECRETS {
        assert!(!text.contains(secret), "a secret value reached {what}");
    }
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

/// The example's commands, in a copy of it: `cp Dockerfile compose.yaml .dockerignore hardened/`,
/// then `leastpriv harden --in-place --remove-dangerous --profile hardened/web.profile.json
/// hardened`. The copy holds the project's `leastpriv.toml` and the profile, as the example does.
#[test]
fn hardened_is_the_output_of_harden_and_audits_clean() {
    let example = example();
    let project = Project::new();
    for name in [
        "Dockerfile",
        "compose.yaml",
        ".dockerignore",
        ".env",
        "leastpriv.toml",
    ] {
        project.file(name, fs::read(example.join(name)).expect("read"));
    }
    for name in ["web.profile.json", "web.seccomp.json"] {
        let path = format!("hardened/{name}");
        project.file(&path, fs::read(example.join(&path)).expect("read"));
    }
    for name in COPIED {
        project.file(&format!("hardened/{name}"), read(&example.join(name)));
    }

    let output = project
        .command()
        .arg("harden")
        .args(HARDEN)
        .arg("hardened")
        .output()
        .expect("runs");
    assert_eq!(exit_code(&output), 0, "{}", stderr(&output));
    assert_no_secret("harden's report", &stdout(&output));
    assert_no_secret("harden's messages", &stderr(&output));
    for name in HARDENED {
        let generated = read(&project.path(&format!("hardened/{name}")));
        assert_no_secret(name, &generated);
        assert_eq!(
            read(&example.join("hardened").join(name)),
            generated,
            "examples/driftwood/hardened/{name} is not what harden writes: regenerate it with the \
             commands of examples/driftwood/README.md"
        );
    }
    // Built by the classic builder in the engine test: nothing in it may need BuildKit.
    assert!(!read(&project.path("hardened/Dockerfile")).contains("--mount="));
    // Nothing was left for the user: each remedy was written.
    assert!(!stdout(&output).contains(" left ("), "{}", stdout(&output));

    // The hardened project audits clean, and so again changes nothing.
    let (report, code) = project.audit_json(&["hardened"]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(findings(&report), [], "{report:#}");
    assert_eq!(report["errors"], serde_json::json!([]), "{report:#}");
    let again = project
        .command()
        .args(["harden", "--check", "--remove-dangerous"])
        .args(["--profile", "hardened/web.profile.json", "hardened"])
        .output()
        .expect("runs");
    assert_eq!(exit_code(&again), 0, "{}", stdout(&again));
}

/// The whole of harden's report on the example (diffs, each change with its rule and layer and
/// what it may break, and the follow-ups), as a reader of the example sees it. Run where the
/// example lives: the default mode writes nothing.
#[test]
fn harden_report_on_the_example() {
    let example = example();
    let before = (
        read(&example.join("Dockerfile")),
        read(&example.join("compose.yaml")),
    );
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_leastpriv"))
        .current_dir(&example)
        .env("NO_COLOR", "1")
        .args([
            "harden",
            "--remove-dangerous",
            "--profile",
            "hardened/web.profile.json",
        ])
        .args(["Dockerfile", "compose.yaml"])
        .output()
        .expect("runs");
    assert_eq!(exit_code(&output), 0, "{}", stderr(&output));
    assert_eq!(
        before,
        (
            read(&example.join("Dockerfile")),
            read(&example.join("compose.yaml"))
        ),
        "the default mode wrote something"
    );
    let text = stdout(&output);
    assert_no_secret("harden's report", &text);
    insta::assert_snapshot!("driftwood_harden", text);
}

/// The README's per-layer diffs, each marked `<!-- leastpriv harden --select LAYER -->`.
fn readme_layers(readme: &str) -> Vec<(String, String)> {
    let mut layers = Vec::new();
    let mut lines = readme.lines();
    while let Some(line) = lines.next() {
        let Some(layer) = line
            .strip_prefix("<!-- leastpriv harden --select ")
            .and_then(|rest| rest.strip_suffix(" -->"))
        else {
            continue;
        };
        assert_eq!(
            lines.next(),
            Some("```diff"),
            "a diff block follows the marker of {layer}"
        );
        let mut block = String::new();
        for line in lines.by_ref().take_while(|line| *line != "```") {
            block.push_str(line);
            block.push('\n');
        }
        layers.push((layer.to_owned(), block));
    }
    layers
}

/// The README walks the layers with the diff harden prints for each alone: what the reader sees
/// is what the tool does.
#[test]
fn the_readme_shows_each_layers_diff_as_harden_prints_it() {
    let example = example();
    let readme = read(&example.join("README.md"));
    let layers = readme_layers(&readme);
    let names: Vec<&str> = layers.iter().map(|(layer, _)| layer.as_str()).collect();
    assert_eq!(
        names,
        [
            "escape",
            "user",
            "capabilities",
            "confinement",
            "filesystem",
            "secrets"
        ]
    );
    for (layer, shown) in &layers {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_leastpriv"))
            .current_dir(&example)
            .args(["harden", "--format", "json", "--remove-dangerous"])
            .args(["--profile", "hardened/web.profile.json", "--select", layer])
            .args(["Dockerfile", "compose.yaml"])
            .output()
            .expect("runs");
        let report = parse_json(&output);
        let diff: String = report["files"]
            .as_array()
            .expect("files")
            .iter()
            .filter_map(|file| file["diff"].as_str())
            .collect();
        assert_no_secret("a diff", &diff);
        assert_eq!(
            shown, &diff,
            "examples/driftwood/README.md shows another diff for the {layer} layer than harden prints"
        );
    }
}
