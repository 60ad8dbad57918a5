//! The rule reference, generated from the rules themselves.

use std::fmt::Write as _;

use crate::{Layer, Rule, RULES};

/// One rule's documentation page: a heading with code and name, its facts, then its doc comment.
pub fn rule_markdown(rule: &Rule) -> String {
    let mut page = String::new();
    let meta = rule.meta;
    let _ = writeln!(page, "## {} `{}`\n", rule.code, meta.name);
    let pss = meta
        .pss
        .map(|level| format!(" · Pod Security Standards: `{level}`"))
        .unwrap_or_default();
    let _ = writeln!(
        page,
        "Layer: `{}` · severity: {}{pss} · fix: {}\n",
        meta.layer,
        severities(rule),
        meta.fix_title
    );
    page.push_str(rule.explanation().trim_end());
    page.push('\n');
    page
}

/// The severities of a rule's findings: `` `medium` `` for a rule with one, `` `medium` (default),
/// also `high`, `low` `` for one that grades its cases.
fn severities(rule: &Rule) -> String {
    let meta = rule.meta;
    let others: Vec<String> = meta
        .severities()
        .into_iter()
        .filter(|&severity| severity != meta.severity)
        .map(|severity| format!("`{severity}`"))
        .collect();
    if others.is_empty() {
        format!("`{}`", meta.severity)
    } else {
        format!("`{}` (default), also {}", meta.severity, others.join(", "))
    }
}

/// `docs/rules.md`: every rule, by layer.
pub fn render_rule_docs() -> String {
    let mut doc = String::from(
        "# leastpriv rules\n\n\
         <!-- Generated from the rules' doc comments by `UPDATE_DOCS=1 cargo test -p leastpriv-rules`; do not edit by hand. -->\n\n\
         | code | name | layer | severity | Pod Security Standards |\n|---|---|---|---|---|\n",
    );
    for rule in RULES {
        let _ = writeln!(
            doc,
            "| [{code}](#{anchor}) | `{name}` | {layer} | {severity} | {pss} |",
            code = rule.code,
            anchor = format!("{}-{}", rule.code, rule.meta.name).to_ascii_lowercase(),
            name = rule.meta.name,
            layer = rule.meta.layer,
            severity = severities(rule),
            pss = rule.meta.pss.map(|level| level.as_str()).unwrap_or(""),
        );
    }
    for layer in Layer::ALL {
        let rules: Vec<_> = RULES
            .iter()
            .filter(|rule| rule.meta.layer == layer)
            .collect();
        if rules.is_empty() {
            continue;
        }
        let _ = writeln!(doc, "\n# Layer `{layer}`\n");
        for rule in rules {
            // Section headings of the doc comments sit one level below the rule heading here.
            doc.push_str(&rule_markdown(rule).replace("\n## ", "\n### "));
            doc.push('\n');
        }
    }
    doc
}
