//! The rules, and the engine that runs them.
//!
//! A rule judges the security model ([`leastpriv_model::Container`]), never a syntax, so one rule serves
//! every front-end. Each rule is one small file under `src/rules/<layer>/`, declared with
//! [`declare_rule!`]: its kebab-case name, [`Layer`], default [`Severity`], fix title, and its
//! documentation as the doc comment (what it does, why, an example, use instead, equivalents in other
//! tools). `registry.rs` is the one table that assigns codes; `leastpriv rules`, `leastpriv explain`,
//! `docs/rules.md` and SARIF help text are all generated from it.
//!
//! The `daemon` layer's rules judge [`leastpriv_model::Daemon`]s (a `daemon.json`, a running engine)
//! the same way; [`Subjects`] hands both to the engine.
//!
//! [`check`] runs the enabled rules over a set of containers and returns [`Diagnostic`]s, with
//! suppression comments (`# leastpriv: ignore[LP101] reason`) and severity overrides applied and
//! duplicates removed (a Dockerfile audited directly and through a Compose `build:` is judged once).
//!
//! [`judgement`] hands single facts to `leastpriv verify`, which judges what it observes inside a
//! running container with the rules' own tables and severities.

mod diagnostic;
#[cfg(test)]
mod dockerfile_testing;
mod docs;
mod engine;
mod helpers;
pub mod judgement;
mod registry;
mod rule;
mod rules;
mod selection;
mod standard;
mod suppression;
#[cfg(test)]
mod testing;

pub use diagnostic::{Diagnostic, Layer, Severity};
pub use docs::{render_rule_docs, rule_markdown};
pub use engine::{check, Subjects};
pub use registry::{find_rule, RULES};
pub use rule::{Check, Rule, RuleMeta};
pub use selection::{RuleSelection, SelectionError};
pub use standard::PssLevel;
