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
//! ```
//! Command-line `--select`/`--ignore` add to the file's lists; `--fail-on` replaces its threshold.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use globset::{Glob, GlobSet, GlobSetBuilder};
use leastpriv_frontend::Options;
use leastpriv_rules::{PssLevel, RuleSelection, Severity};

use crate::args::{AuditArgs, FailOn, Standard};

/// The name of the configuration file.
pub(crate) const CONFIG_FILE: &str = "leastpriv.toml";

#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct ConfigFile {
    #[serde(default)]
    select: Vec<String>,
    #[serde(default)]
    ignore: Vec<String>,
    #[serde(default)]
    exclude: Vec<String>,
    fail_on: Option<String>,
    standard: Option<String>,
    #[serde(default)]
    severity: BTreeMap<String, String>,
}

/// Everything an audit needs to know, resolved from flags and configuration.
pub(crate) struct Settings {
    pub(crate) selection: RuleSelection,
    /// `None`: never fail on findings.
    pub(crate) fail_on: Option<Severity>,
    pub(crate) exclude: Exclude,
    pub(crate) options: Options,
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
        let (config, root) = match &config_path {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read {}", path.display()))?;
                let config: ConfigFile = toml::from_str(&text)
                    .with_context(|| format!("invalid configuration in {}", path.display()))?;
                let root = path.parent().map(Path::to_path_buf).unwrap_or_default();
                (config, root)
            }
            None => (ConfigFile::default(), PathBuf::new()),
        };
        let in_config = |what: &str| match &config_path {
            Some(path) => format!("{what} in {}", path.display()),
            None => what.to_owned(),
        };

        let mut selection = RuleSelection::all();
        let select: Vec<&str> = config
            .select
            .iter()
            .chain(&args.select)
            .map(String::as_str)
            .collect();
        if !select.is_empty() {
            selection.select(select).context(in_config("`select`"))?;
        }
        selection
            .ignore(config.ignore.iter().chain(&args.ignore).map(String::as_str))
            .context(in_config("`ignore`"))?;
        for (rule, severity) in &config.severity {
            let severity: Severity = severity
                .parse()
                .map_err(anyhow::Error::msg)
                .context(in_config("[severity]"))?;
            selection
                .set_severity(rule, severity)
                .context(in_config("[severity]"))?;
        }

        let standard = match (args.standard, &config.standard) {
            (Some(flag), _) => Some(flag),
            (None, Some(text)) => Some(parse_standard(text).context(in_config("`standard`"))?),
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
            (None, Some(text)) if text.eq_ignore_ascii_case("never") => None,
            (None, Some(text)) => Some(
                text.parse()
                    .map_err(anyhow::Error::msg)
                    .context(in_config("`fail-on`"))?,
            ),
            (None, None) => Some(Severity::Low),
        };

        let mut globs = GlobSetBuilder::new();
        for pattern in &config.exclude {
            globs.add(
                Glob::new(pattern)
                    .with_context(|| in_config(&format!("exclude pattern `{pattern}`")))?,
            );
        }
        let exclude = Exclude {
            root,
            globs: globs.build()?,
        };

        let mut options = Options {
            target: args.target.clone(),
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
        Ok(Self {
            selection,
            fail_on,
            exclude,
            options,
        })
    }
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
