//! `leastpriv.toml` and the command line, resolved once into [`Settings`].
//!
//! ```toml
//! # leastpriv.toml, found upward from the first audited path (or given with --config)
//! select = ["LP2", "secrets"]     # run only these (codes, names, prefixes, layers)
//! ignore = ["LP203"]              # never run these
//! exclude = ["tests/fixtures/**"] # paths (globs, relative to this file) never audited
//! fail-on = "medium"              # exit 1 only at or above this severity
//! standard = "pss-restricted"     # report only what this standard forbids (pss-baseline too)
//!
//! [severity]                      # report a rule at another severity
//! LP203 = "info"
//!
//! [harden.secret-files]           # `harden`: the variables a service (or image) also reads from
//! web = ["DB_PASSWORD"]           # the file named by NAME_FILE, for images harden does not know
//! ```
//! Command-line `--select`/`--ignore` add to the file's lists; `--fail-on` replaces its threshold.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use globset::{Glob, GlobSet, GlobSetBuilder};
use leastpriv_frontend::Options;
use leastpriv_harden::known_images::SecretFiles;
use leastpriv_rules::{PssLevel, RuleSelection, Severity};
use leastpriv_source::read::{self, ReadScope};
use leastpriv_source::LineIndex;
use toml::Spanned;

use crate::args::{AuditArgs, FailOn, Standard};

/// The name of the configuration file.
pub(crate) const CONFIG_FILE: &str = "leastpriv.toml";

/// The file as written; every value keeps its place, so a bad one is reported at its line and column.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct ConfigFile {
    #[serde(default)]
    select: Vec<Spanned<String>>,
    #[serde(default)]
    ignore: Vec<Spanned<String>>,
    #[serde(default)]
    exclude: Vec<Spanned<String>>,
    fail_on: Option<Spanned<String>>,
    standard: Option<Spanned<String>>,
    #[serde(default)]
    severity: BTreeMap<String, Spanned<String>>,
    #[serde(default)]
    harden: HardenConfig,
}

/// `[harden]`: what `leastpriv harden` cannot learn from the files themselves.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct HardenConfig {
    /// Compose service name or image → variables its program also reads from `NAME_FILE`.
    #[serde(default)]
    secret_files: BTreeMap<String, Vec<Spanned<String>>>,
}

/// Where a configuration value was written, for error messages: `path:line:column`.
struct Locator {
    path: String,
    line_index: LineIndex,
    text: String,
}

impl Locator {
    fn at<T>(&self, value: &Spanned<T>) -> String {
        let position = self.line_index.line_column(&self.text, value.span().start);
        format!("{}:{}:{}", self.path, position.line, position.column)
    }
}

/// Everything an audit needs to know, resolved from flags and configuration.
pub(crate) struct Settings {
    pub(crate) selection: RuleSelection,
    /// `None`: never fail on findings.
    pub(crate) fail_on: Option<Severity>,
    pub(crate) exclude: Exclude,
    pub(crate) options: Options,
    /// The configuration file read, and what it sets: for the line that says so.
    pub(crate) loaded: Option<Loaded>,
    /// `[harden.secret-files]`: the `NAME_FILE` conventions of images harden does not know.
    pub(crate) secret_files: SecretFiles,
}

/// A configuration file that was read.
pub(crate) struct Loaded {
    /// Its path as shown to the user.
    pub(crate) path: String,
    /// The settings it sets, in the file's terms (`select`, `exclude`, `fail-on` …).
    pub(crate) sets: Vec<&'static str>,
}

impl Loaded {
    /// `using leastpriv.toml (sets select, exclude, fail-on)`: one line, for stderr.
    pub(crate) fn describe(&self) -> String {
        if self.sets.is_empty() {
            format!("using {} (it sets nothing)", self.path)
        } else {
            format!("using {} (sets {})", self.path, self.sets.join(", "))
        }
    }
}

/// Paths excluded by the configuration, matched relative to the configuration file's directory.
pub(crate) struct Exclude {
    root: PathBuf,
    globs: GlobSet,
}

impl Exclude {
    pub(crate) fn is_excluded(&self, path: &Path) -> bool {
        if self.globs.is_empty() {
            return false;
        }
        let relative = path.strip_prefix(&self.root).unwrap_or(path);
        let relative = relative.strip_prefix(".").unwrap_or(relative);
        self.globs.is_match(relative) || self.globs.is_match(path)
    }
}

impl Settings {
    pub(crate) fn resolve(args: &AuditArgs) -> Result<Self> {
        let config_path = if args.isolated {
            None
        } else if let Some(path) = &args.config {
            Some(path.clone())
        } else {
            args.paths.first().and_then(|first| find_config(first))
        };
        let (config, root, locator) = match &config_path {
            Some(path) => {
                let shown = display_path(path);
                let text = read::read_regular(path, read::MAX_INPUT_BYTES)
                    .and_then(read::decode)
                    .map_err(|error| anyhow::anyhow!("cannot read {shown}: {error}"))?;
                let config: ConfigFile = toml::from_str(&text)
                    .with_context(|| format!("invalid configuration in {shown}"))?;
                let root = path.parent().map(Path::to_path_buf).unwrap_or_default();
                let locator = Locator {
                    path: shown,
                    line_index: LineIndex::new(&text),
                    text,
                };
                (config, root, Some(locator))
            }
            None => (ConfigFile::default(), PathBuf::new(), None),
        };
        // Values from `config` exist only when a file was read, so its locator exists too.
        let at = |value: &Spanned<String>| {
            locator
                .as_ref()
                .map_or_else(String::new, |locator| locator.at(value))
        };

        let mut selection = RuleSelection::all();
        for entry in &config.select {
            selection
                .select([entry.get_ref().as_str()])
                .with_context(|| format!("{}: `select`", at(entry)))?;
        }
        if !args.select.is_empty() {
            selection
                .select(args.select.iter().map(String::as_str))
                .context("--select")?;
        }
        for entry in &config.ignore {
            selection
                .ignore([entry.get_ref().as_str()])
                .with_context(|| format!("{}: `ignore`", at(entry)))?;
        }
        selection
            .ignore(args.ignore.iter().map(String::as_str))
            .context("--ignore")?;
        for (rule, severity) in &config.severity {
            let context = || format!("{}: [severity] {rule}", at(severity));
            let level: Severity = severity
                .get_ref()
                .parse()
                .map_err(anyhow::Error::msg)
                .with_context(context)?;
            selection.set_severity(rule, level).with_context(context)?;
        }

        let standard = match (args.standard, &config.standard) {
            (Some(flag), _) => Some(flag),
            (None, Some(text)) => Some(
                parse_standard(text.get_ref())
                    .with_context(|| format!("{}: `standard`", at(text)))?,
            ),
            (None, None) => None,
        };
        if let Some(standard) = standard {
            selection.set_standard(match standard {
                Standard::PssBaseline => PssLevel::Baseline,
                Standard::PssRestricted => PssLevel::Restricted,
            });
        }

        let fail_on = match (args.fail_on, &config.fail_on) {
            (Some(flag), _) => threshold(flag),
            (None, Some(text)) if text.get_ref().eq_ignore_ascii_case("never") => None,
            (None, Some(text)) => Some(
                text.get_ref()
                    .parse()
                    .map_err(anyhow::Error::msg)
                    .with_context(|| format!("{}: `fail-on`", at(text)))?,
            ),
            (None, None) => Some(Severity::Low),
        };

        let mut globs = GlobSetBuilder::new();
        for pattern in &config.exclude {
            globs.add(Glob::new(pattern.get_ref()).with_context(|| {
                format!("{}: exclude pattern `{}`", at(pattern), pattern.get_ref())
            })?);
        }
        let exclude = Exclude {
            root,
            globs: globs.build()?,
        };

        let mut options = Options {
            target: args.target.clone(),
            scope: read_scope(args),
            ..Options::default()
        };
        for build_arg in &args.build_args {
            match build_arg.split_once('=') {
                Some((name, value)) => options.build_args.insert(name.to_owned(), value.to_owned()),
                None => match std::env::var(build_arg) {
                    // `--build-arg NAME` takes the value from the environment, as `docker build` does.
                    Ok(value) => options.build_args.insert(build_arg.clone(), value),
                    Err(_) => bail!(
                        "--build-arg {build_arg}: no `=VALUE` and no such environment variable"
                    ),
                },
            };
        }
        let mut secret_files = SecretFiles::default();
        for (subject, variables) in &config.harden.secret_files {
            for variable in variables {
                if !is_variable_name(variable.get_ref()) {
                    bail!(
                        "{}: [harden.secret-files]: not an environment variable name (letters, digits and `_`, not starting with a digit)",
                        at(variable)
                    );
                }
            }
            secret_files.declare(
                subject,
                variables.iter().map(|variable| variable.get_ref().clone()),
            );
        }
        let loaded = locator.map(|locator| Loaded {
            path: locator.path,
            sets: [
                ("select", !config.select.is_empty()),
                ("ignore", !config.ignore.is_empty()),
                ("exclude", !config.exclude.is_empty()),
                ("fail-on", config.fail_on.is_some()),
                ("standard", config.standard.is_some()),
                ("[severity]", !config.severity.is_empty()),
                (
                    "[harden.secret-files]",
                    !config.harden.secret_files.is_empty(),
                ),
            ]
            .into_iter()
            .filter_map(|(key, set)| set.then_some(key))
            .collect(),
        });
        Ok(Self {
            selection,
            fail_on,
            exclude,
            options,
            loaded,
            secret_files,
        })
    }
}

/// `NAME` as a shell and Compose take it: letters, digits and `_`, not starting with a digit.
fn is_variable_name(name: &str) -> bool {
    name.chars()
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic() || first == '_')
        && name
            .chars()
            .all(|character| character.is_ascii_alphanumeric() || character == '_')
}

fn parse_standard(text: &str) -> Result<Standard> {
    use clap::ValueEnum;
    Standard::from_str(text, true).map_err(|_| {
        anyhow::anyhow!("unknown standard `{text}` (expected pss-baseline or pss-restricted)")
    })
}

fn threshold(flag: FailOn) -> Option<Severity> {
    match flag {
        FailOn::Info => Some(Severity::Info),
        FailOn::Low => Some(Severity::Low),
        FailOn::Medium => Some(Severity::Medium),
        FailOn::High => Some(Severity::High),
        FailOn::Critical => Some(Severity::Critical),
        FailOn::Never => None,
    }
}

/// `path` relative to the working directory when it is below it, as the user would write it.
fn display_path(path: &Path) -> String {
    let relative = std::env::current_dir()
        .ok()
        .and_then(|cwd| path.strip_prefix(cwd).ok().map(Path::to_path_buf));
    relative
        .unwrap_or_else(|| path.to_path_buf())
        .display()
        .to_string()
}

/// Where files the inputs refer to may be read: the audited paths (a named directory, the directory
/// of a named file, the current directory for standard input) and every `--allow-read` directory.
/// Never from `leastpriv.toml`: in an audited pull request, the attacker writes that file too.
fn read_scope(args: &AuditArgs) -> ReadScope {
    let named = args.paths.iter().chain(&args.compose_files);
    let roots = named
        .map(|path| {
            if path.as_os_str() == "-" || path.is_dir() {
                if path.as_os_str() == "-" {
                    PathBuf::from(".")
                } else {
                    path.clone()
                }
            } else {
                match path.parent() {
                    Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
                    _ => PathBuf::from("."),
                }
            }
        })
        .chain(args.allow_read.iter().cloned());
    ReadScope::within(roots)
}

/// `leastpriv.toml` in `start` (or its directory) or the nearest ancestor.
fn find_config(start: &Path) -> Option<PathBuf> {
    let start = if start.as_os_str() == "-" {
        PathBuf::from(".")
    } else {
        start.to_path_buf()
    };
    let absolute = std::path::absolute(&start).ok()?;
    let dir = if absolute.is_dir() {
        absolute.as_path()
    } else {
        absolute.parent()?
    };
    dir.ancestors()
        .map(|ancestor| ancestor.join(CONFIG_FILE))
        .find(|candidate| candidate.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_standards_in_any_case_and_names_the_choices_otherwise() {
        assert_eq!(
            parse_standard("pss-baseline").ok(),
            Some(Standard::PssBaseline)
        );
        assert_eq!(
            parse_standard("PSS-Restricted").ok(),
            Some(Standard::PssRestricted)
        );
        let error = parse_standard("cis").map(|_| ()).unwrap_err().to_string();
        assert_eq!(
            error,
            "unknown standard `cis` (expected pss-baseline or pss-restricted)"
        );
    }
}
