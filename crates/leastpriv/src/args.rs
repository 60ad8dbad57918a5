//! Command-line arguments, as close to the flags as possible; `config.rs` resolves them into settings.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Make containers run with least privilege.
///
/// leastpriv audits Dockerfiles (and, as they land, Compose files, Kubernetes manifests, `docker run`
/// scripts, `docker inspect` output and images) layer by layer: escape paths, user, capabilities,
/// confinement, filesystem, secrets and the daemon. Each finding has its file:line and its fix.
#[derive(Debug, Parser)]
#[command(name = "leastpriv", version, about, long_about, max_term_width = 100)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Find what is left at the insecure default, with the exact place and the fix.
    Audit(AuditArgs),
    /// List the rules.
    Rules(RulesArgs),
    /// Print one rule's documentation.
    Explain(ExplainArgs),
}

/// Output formats of `audit`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    /// rustc-style diagnostics with the source line, and a summary by layer.
    Human,
    /// One JSON document: the stable machine contract.
    Json,
    /// SARIF 2.1.0, for GitHub code scanning and other SARIF viewers.
    Sarif,
    /// GitHub Actions workflow annotations.
    Github,
}

/// Severity thresholds for `--fail-on`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum FailOn {
    Info,
    Low,
    Medium,
    High,
    Critical,
    /// Never fail on findings (exit 1 is never used; errors still exit 2).
    Never,
}

/// When to use colour.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub(crate) enum ColorChoice {
    /// On a terminal (or when `CLICOLOR_FORCE` is set), unless `NO_COLOR` is set.
    #[default]
    Auto,
    Always,
    Never,
}

#[derive(Debug, Args)]
pub(crate) struct AuditArgs {
    /// Files or directories to audit; `-` reads standard input. Directories are walked with
    /// `.gitignore` respected.
    #[arg(default_value = ".")]
    pub(crate) paths: Vec<PathBuf>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub(crate) format: Format,

    /// Exit 1 when a finding is at or above this severity [default: low, or `fail-on` in
    /// leastpriv.toml].
    #[arg(long, value_enum)]
    pub(crate) fail_on: Option<FailOn>,

    /// Run only these rules: codes (`LP201`), names (`root-user`), code prefixes (`LP2`) or layers
    /// (`secrets`). Comma-separated or repeated.
    #[arg(long, value_delimiter = ',')]
    pub(crate) select: Vec<String>,

    /// Never run these rules (same forms as `--select`).
    #[arg(long, value_delimiter = ',')]
    pub(crate) ignore: Vec<String>,

    /// The configuration file, instead of the `leastpriv.toml` found upward from the first path.
    #[arg(long, value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,

    /// Ignore every configuration file.
    #[arg(long, conflicts_with = "config")]
    pub(crate) isolated: bool,

    /// The Dockerfile stage that becomes the image (`docker build --target`).
    #[arg(long, value_name = "STAGE")]
    pub(crate) target: Option<String>,

    /// A build argument, as `docker build --build-arg NAME=VALUE`. Repeatable.
    #[arg(long = "build-arg", value_name = "NAME=VALUE")]
    pub(crate) build_args: Vec<String>,

    /// The name to report (and to recognise the kind by) for standard input.
    #[arg(long, value_name = "NAME")]
    pub(crate) stdin_filename: Option<String>,

    /// When to colour the human output.
    #[arg(long, value_enum, default_value_t)]
    pub(crate) color: ColorChoice,
}

#[derive(Debug, Args)]
pub(crate) struct RulesArgs {
    /// Print the list as JSON.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct ExplainArgs {
    /// A rule code (`LP201`) or name (`root-user`).
    pub(crate) rule: String,
}
