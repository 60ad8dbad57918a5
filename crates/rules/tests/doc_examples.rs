//! Every rule's documentation says what its code does: the `## Example` block is run through the
//! real front-end and the rule, and must make it fire at a severity the documentation lists; the
//! `Use instead:` block must leave it silent; both must read without input errors (and a Dockerfile
//! example must name only stages it defines in `--from`). Fixtures and corpus sweeps hold the code
//! to the documented severities too ([`assert_documented_severity`]).
//!
//! Conventions that keep the examples short: a Dockerfile block without `FROM` is a fragment, read
//! after `FROM debian:12-slim`; a `Use instead:` without a code block gives its fix in words. Image
//! rules judge a built image, which a doc block cannot hold: their examples show the Dockerfile that
//! builds such an image, and the rule that finds the same thing in a Dockerfile must fire on it.
//! Rules about the live engine's own state show its output (`docker info`, `ls -l` of the socket),
//! which only `--engine` reads: they are listed, and must keep `text` blocks.

use leastpriv_frontend::{lower, InputKind, Options};
use leastpriv_rules::{check, find_rule, Diagnostic, Rule, RuleSelection, Subjects, RULES};
use leastpriv_source::SourceDb;

/// Image rules, and the Dockerfile rule that finds what their example builds.
const IMAGE_RULES: &[(&str, &str)] = &[
    ("LP250", "LP205"),
    ("LP251", "LP205"),
    ("LP252", "LP203"),
    ("LP550", "LP505"),
    ("LP650", "LP604"),
    ("LP651", "LP604"),
    ("LP652", "LP602"),
];

/// Rules whose example cannot be one block, and why: the test holds the list to exactly these.
const NOT_ONE_BLOCK: &[(&str, &str)] = &[
    (
        "LP222",
        "the image's `USER` and the pod's `runAsNonRoot` are written in two files",
    ),
    (
        "LP251",
        "the setuid programs come with the base image's layers, which no Dockerfile line shows",
    ),
    (
        "LP403",
        "a seccomp profile is read through the Compose file or `docker run` line that names it",
    ),
    (
        "LP608",
        "the secret file and `.dockerignore` are files of the build context beside the Dockerfile",
    ),
];

/// Rules judged on the live engine's reported state, whose examples show that state as text.
const ENGINE_STATE_RULES: &[&str] = &["LP701", "LP710", "LP711", "LP713"];

/// A fenced code block of a rule's documentation.
struct Block {
    language: String,
    text: String,
}

/// The first fenced block after `heading` in `doc`, before the next section (or, for the
/// example, before its `Use instead:`).
fn block_after(doc: &str, heading: &str) -> Option<Block> {
    let rest = &doc[doc.find(heading)? + heading.len()..];
    let open = rest.find("```")?;
    if rest[..open].contains("\n## ") || rest[..open].contains("Use instead:") {
        return None;
    }
    let after = &rest[open + 3..];
    let (language, body) = after.split_once('\n')?;
    let end = body.find("```")?;
    Some(Block {
        language: language.trim().to_owned(),
        text: body[..end].to_owned(),
    })
}

/// How a block is read: by its fence language, and for YAML and JSON by what it holds.
fn kind_of(block: &Block) -> Option<InputKind> {
    match block.language.as_str() {
        "dockerfile" | "Dockerfile" => Some(InputKind::Dockerfile),
        "sh" | "bash" | "shell" => Some(InputKind::ShellScript),
        "yaml" | "yml" if block.text.contains("apiVersion") => Some(InputKind::Kubernetes),
        "yaml" | "yml" => Some(InputKind::Compose),
        "json" if block.text.contains("SecurityOptions") => Some(InputKind::DockerInfo),
        "json" if block.text.contains("HostConfig") => Some(InputKind::DockerInspect),
        "json" => Some(InputKind::DaemonJson),
        _ => None,
    }
}

/// The findings of `code` alone on `block`, or why the block cannot be run.
fn run(code: &str, block: &Block, name: &str) -> Result<Vec<Diagnostic>, String> {
    let kind = kind_of(block).ok_or_else(|| format!("a `{}` block", block.language))?;
    let db = SourceDb::new();
    let path = match kind {
        InputKind::Dockerfile => format!("{name}/Dockerfile"),
        InputKind::Compose => format!("{name}/compose.yaml"),
        InputKind::Kubernetes => format!("{name}/manifest.yaml"),
        InputKind::ShellScript => format!("{name}/run.sh"),
        InputKind::DaemonJson => format!("{name}/daemon.json"),
        _ => format!("{name}/input.json"),
    };
    let fragment = kind == InputKind::Dockerfile
        && !block
            .text
            .lines()
            .any(|line| line.trim_start().to_ascii_uppercase().starts_with("FROM "));
    let text = if fragment {
        format!("FROM debian:12-slim\n{}", block.text)
    } else {
        block.text.clone()
    };
    let file = db.add(path, text.clone());
    let lowered = lower(&db, file, kind, &Options::default());
    if let Some(error) = lowered.errors.first() {
        return Err(format!("input error: {}", error.message));
    }
    if kind == InputKind::Dockerfile {
        undefined_stage(&text)?;
    }
    let mut selection = RuleSelection::all();
    selection
        .select([code])
        .map_err(|error| error.to_string())?;
    let subjects = Subjects {
        containers: &lowered.containers,
        daemons: &lowered.daemons,
    };
    Ok(check(&db, subjects, &selection))
}

/// A `--from=NAME` that names neither a stage of the Dockerfile nor an image (a reference with a
/// tag, digest, registry or path): the example would not build.
fn undefined_stage(dockerfile: &str) -> Result<(), String> {
    let stages: Vec<String> = dockerfile
        .lines()
        .filter_map(|line| {
            let words: Vec<&str> = line.split_whitespace().collect();
            match words.as_slice() {
                [from, .., as_, name]
                    if from.eq_ignore_ascii_case("FROM") && as_.eq_ignore_ascii_case("AS") =>
                {
                    Some(name.to_ascii_lowercase())
                }
                _ => None,
            }
        })
        .collect();
    for word in dockerfile.split_whitespace() {
        let Some(name) = word.strip_prefix("--from=") else {
            continue;
        };
        let image = name.contains([':', '/', '@', '.']);
        let index = name.bytes().all(|b| b.is_ascii_digit());
        if !image && !index && !stages.contains(&name.to_ascii_lowercase()) {
            return Err(format!("`--from={name}` names no stage of the example"));
        }
    }
    Ok(())
}

/// Holds a finding to the severities its rule documents.
pub fn assert_documented_severity(diagnostic: &Diagnostic) -> Result<(), String> {
    let meta = diagnostic.rule.meta;
    if meta.severities().contains(&diagnostic.severity) {
        Ok(())
    } else {
        Err(format!(
            "{} reports `{}` but documents only {:?}: \"{}\"",
            diagnostic.rule.code,
            diagnostic.severity,
            meta.severities(),
            diagnostic.message
        ))
    }
}

fn example_fires(rule: &Rule, failures: &mut Vec<String>) {
    let code = rule.code;
    let doc = rule.explanation();
    if NOT_ONE_BLOCK.iter().any(|(listed, _)| *listed == code) {
        // Listed only while it is true: an example that runs and fires leaves the list.
        let runs = block_after(&doc, "## Example")
            .and_then(|example| run(code, &example, "example").ok())
            .is_some_and(|found| !found.is_empty());
        if runs {
            failures.push(format!(
                "{code}: its example runs and fires: take it off NOT_ONE_BLOCK"
            ));
        }
        return;
    }
    let Some(example) = block_after(&doc, "## Example") else {
        failures.push(format!("{code}: no code block under `## Example`"));
        return;
    };
    if ENGINE_STATE_RULES.contains(&code) {
        if example.language != "text" {
            failures.push(format!(
                "{code}: listed as an engine-state rule but its example is a `{}` block: run it",
                example.language
            ));
        }
        return;
    }
    let judged_by = IMAGE_RULES
        .iter()
        .find(|(image_rule, _)| *image_rule == code)
        .map_or(code, |(_, dockerfile_rule)| *dockerfile_rule);
    match run(judged_by, &example, "example") {
        Err(why) => failures.push(format!("{code}: the example cannot be run: {why}")),
        Ok(found) if found.is_empty() => {
            failures.push(format!(
                "{code}: the example does not make {judged_by} fire"
            ));
        }
        Ok(found) => {
            for diagnostic in &found {
                if let Err(why) = assert_documented_severity(diagnostic) {
                    failures.push(format!("{code}: the example: {why}"));
                }
            }
        }
    }
    let Some(instead) = block_after(&doc, "Use instead:").filter(|block| kind_of(block).is_some())
    else {
        return;
    };
    match run(judged_by, &instead, "instead") {
        Err(why) => failures.push(format!("{code}: `Use instead` cannot be run: {why}")),
        Ok(found) => {
            for diagnostic in found {
                failures.push(format!(
                    "{code}: `Use instead` still fires {judged_by}: {}",
                    diagnostic.message
                ));
            }
        }
    }
}

#[test]
fn every_rule_example_fires_at_a_documented_severity_and_its_fix_is_silent() {
    let mut failures = Vec::new();
    for rule in RULES {
        example_fires(rule, &mut failures);
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn the_documentation_lists_every_severity_a_rule_can_report() {
    // The header of each rule's page is generated from the same list the tests hold the code to.
    for rule in RULES {
        let page = leastpriv_rules::rule_markdown(rule);
        for severity in rule.meta.severities() {
            assert!(
                page.contains(&format!("`{severity}`")),
                "{}: its page does not name `{severity}`",
                rule.code
            );
        }
    }
    assert!(find_rule("LP503").is_some());
}
