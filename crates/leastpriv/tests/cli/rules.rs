//! `leastpriv rules` and `leastpriv explain`.

use crate::*;

#[test]
fn rules_lists_every_rule_with_its_layer_and_severity() {
    let output = Project::new().command().arg("rules").output().unwrap();
    assert_eq!(exit_code(&output), 0);
    let text = stdout(&output);
    let line = text
        .lines()
        .find(|line| line.starts_with("LP201"))
        .expect("LP201 listed");
    let columns: Vec<_> = line.split_whitespace().collect();
    assert_eq!(columns, ["LP201", "root-user", "user", "high"]);
}

#[test]
fn rules_json_is_an_array_of_rules() {
    let output = Project::new()
        .command()
        .args(["rules", "--json"])
        .output()
        .unwrap();
    assert_eq!(exit_code(&output), 0);
    let rules = parse_json(&output);
    let rules = rules.as_array().expect("an array");
    let root = rules
        .iter()
        .find(|rule| rule["code"] == "LP201")
        .expect("LP201 listed");
    assert_eq!(root["name"], "root-user");
    assert_eq!(root["layer"], "user");
    assert_eq!(root["severity"], "high");
    assert!(root["fix"].as_str().unwrap().contains("USER"));
    let codes: Vec<_> = rules
        .iter()
        .map(|rule| rule["code"].as_str().unwrap())
        .collect();
    let mut sorted = codes.clone();
    sorted.sort_unstable();
    assert_eq!(codes, sorted, "rules are listed in code order");
}

#[test]
fn explain_prints_the_documentation_by_code_or_name() {
    for rule in ["LP201", "lp201", "root-user"] {
        let output = Project::new()
            .command()
            .args(["explain", rule])
            .output()
            .unwrap();
        assert_eq!(exit_code(&output), 0, "{rule}");
        let text = stdout(&output);
        assert!(text.starts_with("## LP201 `root-user`"), "{text}");
        for section in [
            "## What it does",
            "## Why is this bad?",
            "## Example",
            "## Equivalents",
        ] {
            assert!(text.contains(section), "{rule}: {section}");
        }
    }
}

#[test]
fn explain_an_unknown_rule_is_an_error() {
    let output = Project::new()
        .command()
        .args(["explain", "LP999"])
        .output()
        .unwrap();
    assert_eq!(exit_code(&output), 2);
    assert!(output.stdout.is_empty());
    assert!(
        stderr(&output).contains("unknown rule `LP999`"),
        "{}",
        stderr(&output)
    );
}
