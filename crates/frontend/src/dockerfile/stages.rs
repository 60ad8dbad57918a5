//! Build stages: which variables each one sees, what a child stage inherits, and which is the target.
//!
//! BuildKit's scoping, which this module reproduces:
//!
//! - `ARG`s before the first `FROM` are global: they may be used in `FROM` lines (with the platform
//!   arguments `TARGETARCH` and friends, whose values depend on the build) and nowhere else unless a
//!   stage declares them again. `ARG NAME` without a default inside a stage takes the global value.
//! - A `--build-arg NAME=value` overrides the default of an `ARG NAME` that is declared; a build
//!   argument that no `ARG` declares is invisible.
//! - `ENV` always wins over an `ARG` of the same name, and persists into a stage built `FROM` this one
//!   (it is part of the image configuration); `ARG`s do not.
//! - The `SHELL` and `WORKDIR` a stage ends with are inherited the same way.

use crate::budget::ExpansionBudget;
use std::collections::HashMap;
use std::rc::Rc;

use leastpriv_model::Stage;

use super::expand::{Scope, Var};

/// Variables by name; a later declaration of a name replaces an earlier one. `None` is a variable
/// declared without a value (`ARG NAME` with no default and no build argument).
#[derive(Clone, Debug, Default)]
pub(crate) struct Vars(HashMap<String, Option<Var>>);

impl Vars {
    /// Declares `name`, replacing an earlier declaration.
    pub(crate) fn set(&mut self, name: &str, value: Option<Var>) {
        match self.0.get_mut(name) {
            Some(slot) => *slot = value,
            None => {
                self.0.insert(name.to_owned(), value);
            }
        }
    }

    /// Whether `name` is declared (with or without a value).
    pub(crate) fn declares(&self, name: &str) -> bool {
        self.0.contains_key(name)
    }

    /// The declaration of `name`: `Some(None)` when declared without a value.
    pub(crate) fn get(&self, name: &str) -> Option<Option<&Var>> {
        self.0.get(name).map(Option::as_ref)
    }

    /// What copying it costs, in bytes: its names and values and a table entry for each.
    fn size(&self) -> usize {
        const ENTRY: usize = 64;
        self.0
            .iter()
            .map(|(name, value)| {
                ENTRY + name.len() + value.as_ref().map_or(0, |var| var.value.len())
            })
            .sum()
    }
}

impl Scope for Vars {
    fn lookup(&self, name: &str) -> Option<&Var> {
        self.get(name).flatten()
    }
}

/// What a stage hands to a stage built `FROM` it.
#[derive(Clone, Debug)]
pub(crate) struct Inherited {
    /// `ENV` values.
    pub(crate) env: Vars,
    /// Whether `RUN` in shell form runs a POSIX shell (no `SHELL ["powershell", …]`).
    pub(crate) posix_shell: bool,
    /// The working directory, when the Dockerfile sets it.
    pub(crate) workdir: Option<String>,
    /// Whether the parent's state was dropped at the budget: its variables are then unknown here.
    pub(crate) dropped: bool,
}

impl Default for Inherited {
    fn default() -> Self {
        Self {
            env: Vars::default(),
            posix_shell: true,
            workdir: None,
            dropped: false,
        }
    }
}

/// The variables of the stage being lowered.
#[derive(Clone, Debug, Default)]
pub(crate) struct StageScope {
    /// What it inherited, updated by its own `ENV`, `SHELL` and `WORKDIR`. Shared with the parent
    /// stage until the first change.
    inherited: Rc<Inherited>,
    /// Its `ARG`s.
    pub(crate) args: Vars,
}

impl StageScope {
    /// A scope that starts from `inherited`.
    pub(crate) fn new(inherited: Rc<Inherited>) -> Self {
        Self {
            inherited,
            args: Vars::default(),
        }
    }

    /// What the stage inherited, as changed so far.
    pub(crate) fn inherited(&self) -> &Inherited {
        &self.inherited
    }

    /// What the stage hands to its children.
    pub(crate) fn into_inherited(self) -> Rc<Inherited> {
        self.inherited
    }

    /// What the stage inherited, to change. The first change copies the parent's state, charged to
    /// `budget`: a file of thousands of stages each built `FROM` the previous one must not copy a
    /// growing environment thousands of times. Once the budget is spent, a stage starts afresh (its
    /// inherited variables become unknown, and a lookup that misses says so: see
    /// [`Scope::incomplete`]).
    pub(crate) fn inherited_mut(&mut self, budget: &ExpansionBudget) -> &mut Inherited {
        if Rc::strong_count(&self.inherited) > 1 && !budget.take(self.inherited.env.size()) {
            self.inherited = Rc::new(Inherited {
                dropped: true,
                ..Inherited::default()
            });
        }
        Rc::make_mut(&mut self.inherited)
    }
}

impl Scope for StageScope {
    fn lookup(&self, name: &str) -> Option<&Var> {
        match self.inherited.env.get(name) {
            Some(value) => value,
            None => self.args.lookup(name),
        }
    }

    fn incomplete(&self) -> bool {
        self.inherited.dropped
    }
}

/// Stage names, matched without case as BuildKit does (`FROM name`, `COPY --from=name`, `--target`).
#[derive(Debug, Default)]
pub(crate) struct StageNames(HashMap<String, usize>);

impl StageNames {
    /// Records that stage `index` is named `name`; false when the name is taken (the first keeps it).
    pub(crate) fn insert(&mut self, name: &str, index: usize) -> bool {
        let key = name.to_ascii_lowercase();
        if self.0.contains_key(&key) {
            return false;
        }
        self.0.insert(key, index);
        true
    }

    /// The stage named `name`.
    pub(crate) fn get(&self, name: &str) -> Option<usize> {
        self.0.get(&name.to_ascii_lowercase()).copied()
    }
}

/// The target stage: the one `--target` names (by name, or by index), else the last.
pub(crate) fn target(
    stages: &[Stage],
    names: &StageNames,
    target: Option<&str>,
) -> Result<usize, String> {
    let last = stages.len().saturating_sub(1);
    let Some(target) = target else {
        return Ok(last);
    };
    if let Some(index) = names.get(target) {
        return Ok(index);
    }
    match target.parse::<usize>() {
        Ok(index) if index < stages.len() => Ok(index),
        _ => Err(format!("target stage `{target}` not found")),
    }
}

/// Whether `name` is a valid stage name (`^[a-z][a-z0-9-_.]*$` once lowercased).
pub(crate) fn is_valid_stage_name(name: &str) -> bool {
    let mut bytes = name.bytes().map(|b| b.to_ascii_lowercase());
    bytes.next().is_some_and(|b| b.is_ascii_lowercase())
        && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-_.".contains(&b))
}

/// `path` resolved against the working directory `base`, cleaned as Go's `path.Join` does.
pub(crate) fn join_workdir(base: Option<&str>, path: &str) -> String {
    let is_absolute = |path: &str| {
        path.starts_with('/') || path.starts_with('\\') || path.as_bytes().get(1) == Some(&b':')
    };
    let joined = match base {
        Some(base) if !is_absolute(path) => format!("{base}/{path}"),
        _ => path.to_owned(),
    };
    if !joined.starts_with('/') {
        return joined;
    }
    let mut parts: Vec<&str> = Vec::new();
    for part in joined.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            part => parts.push(part),
        }
    }
    format!("/{}", parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_wins_over_arg() {
        let budget = ExpansionBudget::new(1000);
        let mut scope = StageScope::default();
        scope.args.set("A", Some(Var::known("arg")));
        assert_eq!(scope.lookup("A").unwrap().value, "arg");
        scope
            .inherited_mut(&budget)
            .env
            .set("A", Some(Var::known("env")));
        scope.args.set("A", Some(Var::known("arg2")));
        assert_eq!(scope.lookup("A").unwrap().value, "env");
    }

    #[test]
    fn copying_the_parent_environment_is_budgeted() {
        let budget = ExpansionBudget::new(1000);
        let mut parent = StageScope::default();
        parent
            .inherited_mut(&budget)
            .env
            .set("NAME", Some(Var::known("value")));
        assert_eq!(budget.left(), 1000, "an unshared state is changed in place");
        let parent = parent.into_inherited();
        let mut child = StageScope::new(Rc::clone(&parent));
        child.inherited_mut(&budget).workdir = Some("/x".into());
        assert_eq!(budget.left(), 1000 - 64 - 9);
        assert_eq!(child.lookup("NAME").unwrap().value, "value");
        assert_eq!(parent.workdir, None);
        let mut poor = StageScope::new(Rc::clone(&parent));
        poor.inherited_mut(&ExpansionBudget::new(70)).workdir = Some("/y".into());
        assert_eq!(poor.lookup("NAME"), None);
        assert_eq!(parent.env.get("NAME").flatten().unwrap().value, "value");
    }

    #[test]
    fn stage_names_ignore_case() {
        let mut names = StageNames::default();
        assert!(names.insert("Build", 0));
        assert!(!names.insert("build", 1));
        assert_eq!(names.get("BUILD"), Some(0));
    }

    #[test]
    fn declared_without_value() {
        let mut vars = Vars::default();
        vars.set("X", None);
        assert!(vars.declares("X"));
        assert_eq!(vars.lookup("X"), None);
        assert_eq!(vars.get("X"), Some(None));
        assert_eq!(vars.get("Y"), None);
    }

    #[test]
    fn stage_names() {
        assert!(is_valid_stage_name("Build-1.x_y"));
        assert!(!is_valid_stage_name("1build"));
        assert!(!is_valid_stage_name("a$b"));
        assert!(!is_valid_stage_name(""));
    }

    #[test]
    fn workdirs() {
        assert_eq!(join_workdir(None, "app"), "app");
        assert_eq!(join_workdir(Some("/srv"), "app/../x/."), "/srv/x");
        assert_eq!(join_workdir(Some("/srv"), "/opt//y/"), "/opt/y");
        assert_eq!(join_workdir(Some("/srv"), "C:\\app"), "C:\\app");
    }
}
