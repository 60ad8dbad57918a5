//! Runs the enabled rules over containers and daemons.

use leastpriv_model::{Container, Daemon};
use leastpriv_source::{SourceDb, Span};

use crate::suppression::Suppressions;
use crate::{Check, Diagnostic, Rule, RuleSelection, RULES};

/// What a rule reports into while it runs.
pub struct Checker<'a> {
    rule: &'static Rule,
    selection: &'a RuleSelection,
    diagnostics: &'a mut Vec<Diagnostic>,
    /// Pod Security Standards judge how a container runs: a finding carries the rule's level only
    /// when the container has runtime settings (a Dockerfile's missing `USER` is no pod setting).
    runs: bool,
}

impl Checker<'_> {
    /// Reports a finding of the running rule at `span`. The returned diagnostic can be refined with a
    /// specific fix, related places and a remedy.
    pub fn report(&mut self, span: Span, message: impl Into<String>) -> &mut Diagnostic {
        self.diagnostics.push(Diagnostic {
            rule: self.rule,
            severity: self.selection.severity_of(self.rule),
            message: message.into(),
            span,
            fix: self.rule.meta.fix_title.to_owned(),
            related: Vec::new(),
            remedy: None,
            pss: self.rule.meta.pss.filter(|_| self.runs),
        });
        let last = self.diagnostics.len() - 1;
        &mut self.diagnostics[last]
    }
}

/// What one run judges: containers, and the daemons that run them.
///
/// `check(&db, &containers, &selection)` still reads as before: a slice of containers converts.
#[derive(Clone, Copy, Debug, Default)]
pub struct Subjects<'a> {
    /// Containers, judged by the container rules.
    pub containers: &'a [Container],
    /// Daemons, judged by the `daemon` layer's rules.
    pub daemons: &'a [Daemon],
}

impl<'a> From<&'a [Container]> for Subjects<'a> {
    fn from(containers: &'a [Container]) -> Self {
        Self {
            containers,
            daemons: &[],
        }
    }
}

impl<'a> From<&'a Vec<Container>> for Subjects<'a> {
    fn from(containers: &'a Vec<Container>) -> Self {
        Self::from(containers.as_slice())
    }
}

/// Runs every rule that `selection` enables over the subjects, then drops suppressed findings and
/// duplicates. The result is sorted by file, position and code, so output is deterministic.
pub fn check<'a>(
    db: &SourceDb,
    subjects: impl Into<Subjects<'a>>,
    selection: &RuleSelection,
) -> Vec<Diagnostic> {
    let Subjects {
        containers,
        daemons,
    } = subjects.into();
    let mut diagnostics = Vec::new();
    for rule in RULES.iter().filter(|rule| selection.is_enabled(rule)) {
        for container in containers {
            let mut checker = Checker {
                rule,
                selection,
                diagnostics: &mut diagnostics,
                runs: container.runtime.is_some(),
            };
            match rule.check {
                Check::Container(check) => check(&mut checker, container),
                Check::Daemon(_) => {}
            }
        }
        for daemon in daemons {
            let mut checker = Checker {
                rule,
                selection,
                diagnostics: &mut diagnostics,
                // The Pod Security Standards say nothing about daemons.
                runs: false,
            };
            match rule.check {
                Check::Daemon(check) => check(&mut checker, daemon),
                Check::Container(_) => {}
            }
        }
    }
    // A rule may override the severity of one finding; a configured severity still wins.
    for diagnostic in &mut diagnostics {
        if let Some(configured) = selection.configured_severity(diagnostic.rule) {
            diagnostic.severity = configured;
        }
    }
    if let Some(standard) = selection.standard() {
        diagnostics.retain(|diagnostic| diagnostic.pss.is_some_and(|level| standard.covers(level)));
    }
    let suppressions = Suppressions::new(db);
    diagnostics.retain(|diagnostic| !suppressions.suppresses(diagnostic));
    // Files are ordered by path, not by id: inputs are read in parallel, so ids follow the threads.
    diagnostics.sort_by_cached_key(|diagnostic| {
        (
            normalized_path(db.get(diagnostic.span.file).path()),
            diagnostic.span.range.start,
            diagnostic.rule.code,
            diagnostic.message.clone(),
        )
    });
    // The same file can be read twice in one run under different ids (a Dockerfile found by the walk
    // and again through a Compose `build:`); a finding is reported once per place.
    let mut seen = std::collections::HashSet::new();
    diagnostics.retain(|diagnostic| {
        let path = normalized_path(db.get(diagnostic.span.file).path());
        seen.insert((
            diagnostic.rule.code,
            path,
            diagnostic.span.range,
            diagnostic.message.clone(),
        ))
    });
    diagnostics
}

/// A path without `.` components, so `a/./Dockerfile` and `a/Dockerfile` are one file.
fn normalized_path(path: &str) -> String {
    let path = std::path::Path::new(path);
    let parts: std::path::PathBuf = path
        .components()
        .filter(|part| !matches!(part, std::path::Component::CurDir))
        .collect();
    parts.display().to_string()
}

#[cfg(test)]
mod tests {
    use leastpriv_frontend::{lower, InputKind, Options};
    use leastpriv_source::SourceDb;

    use crate::{check, RuleSelection};

    #[test]
    fn findings_follow_the_paths_not_the_order_files_were_read() {
        let db = SourceDb::new();
        // Read in the reverse of path order, as parallel reading can.
        let containers: Vec<_> = ["web/Dockerfile", "proxy/Dockerfile"]
            .into_iter()
            .flat_map(|path| {
                let file = db.add(path, "FROM nginx:1.27\nUSER root\n");
                lower(&db, file, InputKind::Dockerfile, &Options::default()).containers
            })
            .collect();
        let mut selection = RuleSelection::all();
        selection.select(["LP201"]).unwrap();
        let paths: Vec<_> = check(&db, containers.as_slice(), &selection)
            .iter()
            .map(|diagnostic| db.get(diagnostic.span.file).path().to_owned())
            .collect();
        assert_eq!(paths, ["proxy/Dockerfile", "web/Dockerfile"]);
    }
}
