//! What a rule is: metadata declared next to its check.

use leastpriv_model::{Container, Daemon};

use crate::engine::Checker;
use crate::{Layer, PssLevel, Severity};

/// A rule's metadata, declared with [`declare_rule!`](crate::declare_rule) in the rule's own file.
#[derive(Debug)]
pub struct RuleMeta {
    /// Kebab-case name describing the flagged pattern (`root-user`, never `no-root`).
    pub name: &'static str,
    /// The layer of defence.
    pub layer: Layer,
    /// The default severity.
    pub severity: Severity,
    /// The other severities a finding of this rule can have, for rules that grade each case (a
    /// capability by what it grants, a mount by what it exposes); empty when every finding has the
    /// default. The documentation lists them, and the tests hold the code to them.
    pub also: &'static [Severity],
    /// The imperative one-line fix (`Add a non-root USER to the final stage`).
    pub fix_title: &'static str,
    /// The Pod Security Standards level whose controls forbid the pattern, if any; a finding may
    /// refine it.
    pub pss: Option<PssLevel>,
    /// The rule's documentation: its doc comment, in Markdown.
    pub explanation: &'static str,
    /// The source file that declares it.
    pub source_file: &'static str,
}

impl RuleMeta {
    /// Every severity a finding of this rule can have, highest first.
    pub fn severities(&self) -> Vec<Severity> {
        let mut all: Vec<Severity> = std::iter::once(self.severity)
            .chain(self.also.iter().copied())
            .collect();
        all.sort_unstable_by(|a, b| b.cmp(a));
        all.dedup();
        all
    }
}

/// How a rule is run.
#[derive(Clone, Copy)]
pub enum Check {
    /// Once per container.
    Container(fn(&mut Checker<'_>, &Container)),
    /// Once per daemon.
    Daemon(fn(&mut Checker<'_>, &Daemon)),
}

impl std::fmt::Debug for Check {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Check::Container(_) => f.write_str("Check::Container"),
            Check::Daemon(_) => f.write_str("Check::Daemon"),
        }
    }
}

/// A registered rule: a code, its metadata and its check.
#[derive(Debug)]
pub struct Rule {
    /// The stable code (`LP101`): hundreds digit by layer.
    pub code: &'static str,
    /// Metadata from the rule's file.
    pub meta: &'static RuleMeta,
    /// The check.
    pub check: Check,
}

impl Rule {
    /// The rule's documentation with its doc-comment indentation removed.
    pub fn explanation(&self) -> String {
        let mut text = String::new();
        for line in self.meta.explanation.lines() {
            text.push_str(line.strip_prefix(' ').unwrap_or(line));
            text.push('\n');
        }
        text
    }
}

/// Declares a rule's metadata; its doc comment becomes its documentation.
///
/// ```ignore
/// declare_rule! {
///     /// ## What it does
///     /// …
///     pub(crate) static META = {
///         name: "root-user",
///         layer: User,
///         severity: High,
///         fix: "Add a non-root `USER` to the final stage",
///         pss: Restricted, // optional: the Pod Security Standards level that forbids it
///         also: [Medium],  // optional: the other severities the rule grades cases with
///     };
/// }
/// ```
#[macro_export]
macro_rules! declare_rule {
    (
        $(#[doc = $doc:literal])*
        $vis:vis static $ident:ident = {
            name: $name:literal,
            layer: $layer:ident,
            severity: $severity:ident,
            fix: $fix:literal
            $(, pss: $pss:ident)?
            $(, also: [$($also:ident),* $(,)?])? $(,)?
        };
    ) => {
        $vis static $ident: $crate::RuleMeta = $crate::RuleMeta {
            name: $name,
            layer: $crate::Layer::$layer,
            severity: $crate::Severity::$severity,
            also: &[$($($crate::Severity::$also),*)?],
            fix_title: $fix,
            pss: $crate::declare_rule!(@pss $($pss)?),
            explanation: concat!($($doc, "\n"),*),
            source_file: file!(),
        };
    };
    (@pss) => { None };
    (@pss $pss:ident) => { Some($crate::PssLevel::$pss) };
}
