//! Every rule fixture, run through the real front-ends and the rule it is named after.
//!
//! A fixture is `tests/fixtures/<layer>/<CODE>[.<case>].<ext>`: a Dockerfile, Compose file, Kubernetes
//! manifest or script. It is lowered by the front-end its name selects and judged by rule `<CODE>`
//! alone. A comment line `# expect: <CODE>` says that the next non-comment line holds a finding of
//! that rule; every other line must stay silent. So each fixture shows both firing and silence, and a
//! snapshot of the findings (message and fix) is kept beside it for review.
//!
//! JSON has no comments: a `*.json` fixture (`LP704.daemon.json`, `LP713.info.json`) lists the lines
//! it expects findings on in a sidecar `<fixture>.expect`, one number per line (`#` starts a
//! comment); a sidecar without numbers declares the fixture silent.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use leastpriv_frontend::{detect_by_content, detect_by_name, lower, InputKind, Options};
use leastpriv_rules::{check, find_rule, RuleSelection, Subjects};
use leastpriv_source::SourceDb;

const MARKER: &str = "# expect: ";

fn fixtures() -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures"
    ))];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if is_fixture(&path) {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

/// Fixtures are every file but snapshots, notes, sidecars and hidden files (`.gitkeep`).
fn is_fixture(path: &Path) -> bool {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let ext = path.extension().unwrap_or_default();
    // A `*.seccomp.json` is data a fixture refers to (a seccomp profile), not a fixture itself.
    !name.starts_with('.')
        && ext != "snap"
        && ext != "md"
        && ext != "env"
        && ext != "expect"
        && !name.ends_with(".seccomp.json")
}

/// The kind a fixture is read as: by name (`LP201.Dockerfile`, `LP110.compose.yaml`), else content.
fn kind_of(path: &Path, text: &str) -> InputKind {
    let name = path
        .file_name()
        .unwrap()
        .to_string_lossy()
        .to_ascii_lowercase();
    if name.ends_with(".compose.yaml") || name.ends_with(".compose.yml") {
        return InputKind::Compose;
    }
    if name.ends_with(".k8s.yaml") || name.ends_with(".k8s.json") {
        return InputKind::Kubernetes;
    }
    if name.ends_with(".sh") {
        return InputKind::ShellScript;
    }
    if name.ends_with(".inspect.json") {
        return InputKind::DockerInspect;
    }
    if name.ends_with(".daemon.json") {
        return InputKind::DaemonJson;
    }
    if name.ends_with(".info.json") {
        return InputKind::DockerInfo;
    }
    detect_by_name(path)
        .or_else(|| detect_by_content(text))
        .unwrap_or_else(|| panic!("{}: cannot tell the fixture's kind", path.display()))
}

/// 1-based lines that a `# expect: CODE` marker points at.
fn expected_lines(text: &str, code: &str) -> BTreeSet<u32> {
    let mut expected = BTreeSet::new();
    let mut pending = 0;
    for (index, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        if let Some(codes) = trimmed.strip_prefix(MARKER) {
            pending += codes.split(',').filter(|c| c.trim() == code).count();
        } else if pending > 0 && !trimmed.starts_with('#') && !trimmed.is_empty() {
            expected.insert(u32::try_from(index + 1).unwrap());
            pending = 0;
        }
    }
    expected
}

/// The 1-based lines listed in a JSON fixture's `<fixture>.expect`; `None` when it has none.
fn sidecar_lines(path: &Path) -> Option<BTreeSet<u32>> {
    let mut sidecar = path.as_os_str().to_owned();
    sidecar.push(".expect");
    let text = std::fs::read_to_string(sidecar).ok()?;
    let lines = text
        .lines()
        .map(|line| line.split('#').next().unwrap_or_default().trim())
        .filter(|line| !line.is_empty())
        .map(|line| line.parse().expect("a line number"))
        .collect();
    Some(lines)
}

#[test]
fn every_fixture_fires_where_marked_and_nowhere_else() {
    let mut failures = Vec::new();
    for path in fixtures() {
        let text = std::fs::read_to_string(&path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let code = name.split('.').next().unwrap().to_owned();
        let Some(rule) = find_rule(&code) else {
            failures.push(format!("{name}: no rule {code}"));
            continue;
        };
        let db = SourceDb::new();
        let relative = path.strip_prefix(env!("CARGO_MANIFEST_DIR")).unwrap();
        let file = db.add(relative.display().to_string(), text.clone());
        let lowered = lower(&db, file, kind_of(&path, &text), &Options::default());
        if !lowered.errors.is_empty() {
            failures.push(format!("{name}: front-end errors {:?}", lowered.errors));
            continue;
        }
        let mut selection = RuleSelection::all();
        selection.select([rule.code]).unwrap();
        let subjects = Subjects {
            containers: &lowered.containers,
            daemons: &lowered.daemons,
        };
        let diagnostics = check(&db, subjects, &selection);
        let mut rendered = String::new();
        let mut fired = BTreeSet::new();
        for diagnostic in &diagnostics {
            let source = db.get(diagnostic.span.file);
            let position = source.line_column(diagnostic.span.range.start);
            if diagnostic.span.file == file {
                fired.insert(position.line);
            }
            if !rule.meta.severities().contains(&diagnostic.severity) {
                failures.push(format!(
                    "{name}: {} reports `{}`, which its documentation does not list",
                    rule.code, diagnostic.severity
                ));
            }
            rendered.push_str(&format!(
                "{}:{}:{} {} {}\n  fix: {}\n",
                source.path(),
                position.line,
                position.column,
                diagnostic.severity,
                diagnostic.message,
                diagnostic.fix
            ));
            for (span, note) in &diagnostic.related {
                let source = db.get(span.file);
                let position = source.line_column(span.range.start);
                rendered.push_str(&format!(
                    "  related: {}:{}:{} {note}\n",
                    source.path(),
                    position.line,
                    position.column,
                ));
            }
        }
        let is_json = path.extension().is_some_and(|ext| ext == "json");
        let expected = if is_json {
            match sidecar_lines(&path) {
                Some(lines) => lines,
                None => {
                    failures.push(format!("{name}: a JSON fixture needs `{name}.expect`"));
                    continue;
                }
            }
        } else {
            expected_lines(&text, rule.code)
        };
        if expected.is_empty() && !is_json && !text.contains("# silent") {
            failures.push(format!("{name}: no `{MARKER}{code}` marker (add `# silent` to a fixture meant to stay silent)"));
        }
        if fired != expected {
            failures.push(format!(
                "{name}: expected findings on lines {expected:?}, got {fired:?}\n{rendered}"
            ));
        }
        insta::with_settings!({snapshot_path => path.parent().unwrap().join("snapshots"), prepend_module_to_snapshot => false}, {
            insta::assert_snapshot!(name.clone(), rendered);
        });
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}
