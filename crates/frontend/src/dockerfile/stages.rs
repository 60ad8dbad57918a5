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

use leastpriv_model::Stage;

use super::expand::{Scope, Var};

/// Variables in declaration order; a later declaration of a name replaces an earlier one. `None` is
/// a variable declared without a value (`ARG NAME` with no default and no build argument).
#[derive(Clone, Debug, Default)]
pub(crate) struct Vars(Vec<(String, Option<Var>)>);

impl Vars {
    /// Declares `name`, replacing an earlier declaration.
    pub(crate) fn set(&mut self, name: &str, value: Option<Var>) {
        match self.0.iter_mut().find(|(existing, _)| existing == name) {
            Some(slot) => slot.1 = value,
            None => self.0.push((name.to_owned(), value)),
        }
    }

    /// Whether `name` is declared (with or without a value).
    pub(crate) fn declares(&self, name: &str) -> bool {
        self.0.iter().any(|(existing, _)| existing == name)
    }

    /// The declaration of `name`: `Some(None)` when declared without a value.
    pub(crate) fn get(&self, name: &str) -> Option<Option<&Var>> {
        self.0
            .iter()
            .find(|(existing, _)| existing == name)
            .map(|(_, value)| value.as_ref())
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
}

impl Default for Inherited {
    fn default() -> Self {
        Self {
            env: Vars::default(),
            posix_shell: true,
            workdir: None,
        }
    }
}

/// The variables of the stage being lowered.
#[derive(Clone, Debug, Default)]
pub(crate) struct StageScope {
    /// What it inherited, updated by its own `ENV`, `SHELL` and `WORKDIR`.
    pub(crate) inherited: Inherited,
    /// Its `ARG`s.
    pub(crate) args: Vars,
}

impl Scope for StageScope {
    fn lookup(&self, name: &str) -> Option<&Var> {
        match self.inherited.env.get(name) {
            Some(value) => value,
            None => self.args.lookup(name),
        }
    }
}

/// The stage `name` refers to (as `FROM name` or `COPY --from=name`), matched without case as BuildKit
/// does, among the stages before `before`.
pub(crate) fn stage_named(stages: &[Stage], name: &str, before: usize) -> Option<usize> {
    stages.iter().take(before).rposition(|stage| {
        stage
            .name
            .as_ref()
            .is_some_and(|stage_name| stage_name.value.eq_ignore_ascii_case(name))
    })
}

/// The target stage: the one `--target` names (by name, or by index), else the last.
pub(crate) fn target(stages: &[Stage], target: Option<&str>) -> Result<usize, String> {
    let last = stages.len().saturating_sub(1);
    let Some(target) = target else {
        return Ok(last);
    };
    if let Some(index) = stage_named(stages, target, stages.len()) {
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
        let mut scope = StageScope::default();
        scope.args.set("A", Some(Var::known("arg")));
        assert_eq!(scope.lookup("A").unwrap().value, "arg");
        scope.inherited.env.set("A", Some(Var::known("env")));
        scope.args.set("A", Some(Var::known("arg2")));
        assert_eq!(scope.lookup("A").unwrap().value, "env");
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
