//! Command-line arguments, as close to the flags as possible; `config.rs` resolves them into settings.

use std::path::PathBuf;

use std::ffi::OsString;

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};

/// Make containers run with least privilege.
///
/// leastpriv judges a container's privileges in seven layers of defence: escape paths, user,
/// capabilities, confinement, filesystem, secrets and the daemon. `audit` reads every place a
/// container's configuration lives (Dockerfiles, Compose files, Kubernetes manifests, `docker run`
/// scripts, `docker inspect` output, image archives, daemon.json, the live engine) and reports each
/// finding at its file:line with its fix; `verify` proves from inside the running container which
/// layers hold. Each command below has its own `--help`.
//
// The about text is this comment's, not the package description: help describes the commands that
// are built in, which clap lists below it.
#[derive(Debug, Parser)]
#[command(name = "leastpriv", version, max_term_width = 100)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

impl Cli {
    /// Checks what clap's declarations cannot say, as usage errors in clap's own format.
    pub(crate) fn validated(self) -> Result<Self, clap::Error> {
        if let Command::Audit(audit) = &self.command {
            let reads_stdin = audit.paths.iter().any(|path| path.as_os_str() == "-");
            if let (Some(name), false) = (&audit.stdin_filename, reads_stdin) {
                let mut command = Cli::command();
                // Built, so the subcommand's usage line names the binary (`leastpriv audit`).
                command.build();
                let audit_command = command
                    .find_subcommand_mut("audit")
                    .expect("the audit subcommand is declared");
                return Err(audit_command.error(
                    ErrorKind::MissingRequiredArgument,
                    format!(
                        "--stdin-filename names standard input, but `-` is not among the paths, so \
                         standard input is not read\n\n  \
                         tip: add `-` to audit standard input as `{name}`: \
                         `... | leastpriv audit --stdin-filename {name} -`"
                    ),
                ));
            }
        }
        Ok(self)
    }
}

/// A clearer error for the mistakes clap can only call unexpected: `verify docker run …` without
/// the `--` that separates leastpriv's flags from the command it runs.
pub(crate) fn explain(error: clap::Error, argv: impl Iterator<Item = OsString>) -> clap::Error {
    if error.kind() != ErrorKind::UnknownArgument {
        return error;
    }
    let argv: Vec<OsString> = argv.collect();
    let verify = argv.iter().skip(1).any(|arg| arg == "verify");
    let separated = argv.iter().any(|arg| arg == "--");
    let unexpected = match error.get(ContextKind::InvalidArg) {
        Some(ContextValue::String(arg)) => arg.clone(),
        _ => String::new(),
    };
    let engine = matches!(unexpected.as_str(), "docker" | "podman" | "nerdctl");
    if !verify || separated || !engine {
        return error;
    }
    let mut command = Cli::command();
    command.build();
    let verify_command = command
        .find_subcommand_mut("verify")
        .expect("the verify subcommand is declared");
    verify_command.error(
        ErrorKind::UnknownArgument,
        format!(
            "the command to verify goes after `--`, so that its flags are not read as leastpriv's\n\n  \
             tip: leastpriv verify [OPTIONS] -- {unexpected} run [FLAGS...] IMAGE [COMMAND...]"
        ),
    )
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Find what is left at the insecure default, with the exact place and the fix.
    Audit(AuditArgs),
    /// Write the least-privilege configuration: each finding's fix, in the file's own syntax, as a
    /// diff (default), into the files (`--in-place`) or into a Compose override file.
    Harden(HardenArgs),
    /// List the rules.
    Rules(RulesArgs),
    /// Print one rule's documentation.
    Explain(ExplainArgs),
    /// Look at this container from the inside: what an attacker in this process would have.
    Probe(ProbeArgs),
    /// Run an image with your own `docker run` flags (or a Compose service with your Compose tool),
    /// probe it from the inside, and prove layer by layer which layers of defence hold (exit 1 when
    /// a required one does not, or a promise is broken).
    Verify(VerifyArgs),
    /// Run a workload (a local command, your `docker run` line or a Compose service), watch it, and
    /// write the least privilege it needs: syscalls, capabilities, written paths, ports, and a
    /// seccomp profile in Docker's format.
    Profile(ProfileArgs),
    /// Print the shell completion script for bash, zsh, fish, elvish or powershell.
    Completions(CompletionsArgs),
    /// Print the man page, or write one page per command into a directory.
    Man(ManArgs),
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

/// Standards `--standard` audits against.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum Standard {
    /// Kubernetes Pod Security Standards, `baseline` level: known privilege escalations.
    PssBaseline,
    /// Kubernetes Pod Security Standards, `restricted` level: `baseline` plus current hardening.
    PssRestricted,
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
    /// `.gitignore` respected. Image archives (`docker save` output, `.tar`, `.tar.gz`, `.tar.zst`)
    /// and OCI layout directories are audited as images.
    #[arg(
        default_value = ".",
        default_value_if("engine", clap::builder::ArgPredicate::IsPresent, None),
        default_value_if("images", clap::builder::ArgPredicate::IsPresent, None),
        default_value_if("compose_files", clap::builder::ArgPredicate::IsPresent, None)
    )]
    pub(crate) paths: Vec<PathBuf>,

    /// Audit the live Docker engine: every running container (`docker inspect`) and the daemon
    /// (`docker info`, its daemon.json, socket and process). Uses the `docker` CLI, so
    /// `DOCKER_HOST` and contexts apply.
    #[arg(long)]
    pub(crate) engine: bool,

    /// A Compose project made of these files merged in order, as `docker compose -f a.yaml -f
    /// b.yaml` merges them (the first file's directory is the project directory). Repeatable.
    #[arg(short = 'f', long = "compose-file", value_name = "FILE")]
    pub(crate) compose_files: Vec<PathBuf>,

    /// An image in the local Docker Engine to audit (`NAME[:TAG]`, an id or a digest), streamed from
    /// the engine. Repeatable.
    #[arg(long = "image", value_name = "NAME[:TAG]")]
    pub(crate) images: Vec<String>,

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

    /// Audit against exactly one standard: report only the findings that break one of its controls
    /// (`pss-restricted` includes `pss-baseline`) [default: `standard` in leastpriv.toml, or none].
    #[arg(long, value_enum, value_name = "STANDARD")]
    pub(crate) standard: Option<Standard>,

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

    /// Also read files under DIR when an audited file refers to them (a Compose `include`,
    /// `extends.file`, build context or `.env`, a seccomp profile). Without it, only files inside
    /// the audited paths are read: a hostile file cannot make leastpriv read `/etc/shadow` or
    /// `/proc/self/environ`. Repeatable.
    #[arg(long = "allow-read", value_name = "DIR")]
    pub(crate) allow_read: Vec<PathBuf>,

    /// When to colour the human output.
    #[arg(long, value_enum, default_value_t)]
    pub(crate) color: ColorChoice,
}

/// Output formats of `harden`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum HardenFormat {
    /// A unified diff per file, then each change with its rule, layer and what it may break.
    Human,
    /// One JSON document: per file its diff, changes and the remedies left with their reason.
    Json,
}

#[derive(Debug, Args)]
pub(crate) struct HardenArgs {
    /// Files or directories to harden, as for `audit`; `-` reads standard input (the hardened text
    /// is printed with `--in-place`).
    #[arg(
        default_value = ".",
        default_value_if("compose_files", clap::builder::ArgPredicate::IsPresent, None)
    )]
    pub(crate) paths: Vec<PathBuf>,

    /// A Compose file of the project to harden. Repeatable: the files are one project, merged in
    /// order as `audit -f` and `docker compose -f a.yaml -f b.yaml` merge them, and each setting
    /// is fixed in the file that writes it.
    #[arg(short = 'f', long = "compose-file", value_name = "FILE")]
    pub(crate) compose_files: Vec<PathBuf>,

    /// Write the changes into the files (atomically; unchanged files are not touched).
    #[arg(long, conflicts_with_all = ["override_file", "check"])]
    pub(crate) in_place: bool,

    /// Compose: write the additions into this override file (`docker-compose -f compose.yaml -f
    /// FILE up`) and leave the Compose files untouched. Removals cannot be expressed in an
    /// override file and are listed as needing `--in-place`.
    #[arg(long = "override", value_name = "FILE")]
    pub(crate) override_file: Option<PathBuf>,

    /// Also remove what changes behaviour on purpose: `privileged`, engine sockets and host paths,
    /// host namespaces, dangerous added capabilities. Without it they are reported, not changed.
    #[arg(long)]
    pub(crate) remove_dangerous: bool,

    /// A profile written by `leastpriv profile`: keep exactly the capabilities it needed, tmpfs for
    /// the paths it wrote, its seccomp profile. Applies to the Compose service or image it recorded.
    /// Repeatable.
    #[arg(long = "profile", value_name = "FILE")]
    pub(crate) profiles: Vec<PathBuf>,

    /// Fix only these rules (same forms as `audit --select`).
    #[arg(long, value_delimiter = ',')]
    pub(crate) select: Vec<String>,

    /// Never fix these rules (same forms as `audit --ignore`).
    #[arg(long, value_delimiter = ',')]
    pub(crate) ignore: Vec<String>,

    /// Write nothing; exit 1 when something would change, 0 when everything is hardened.
    #[arg(long)]
    pub(crate) check: bool,

    /// Output format.
    #[arg(long, value_enum, default_value_t = HardenFormat::Human)]
    pub(crate) format: HardenFormat,

    /// The configuration file, instead of the `leastpriv.toml` found upward from the first path.
    #[arg(long, value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,

    /// Ignore every configuration file.
    #[arg(long, conflicts_with = "config")]
    pub(crate) isolated: bool,

    /// The name (and kind) of standard input.
    #[arg(long, value_name = "NAME")]
    pub(crate) stdin_filename: Option<String>,

    /// Also read files under DIR when a hardened file refers to them (as `audit --allow-read`).
    /// Repeatable.
    #[arg(long = "allow-read", value_name = "DIR")]
    pub(crate) allow_read: Vec<PathBuf>,
}

impl HardenArgs {
    /// The audit these arguments imply: harden judges with audit's own settings.
    pub(crate) fn as_audit(&self) -> AuditArgs {
        AuditArgs {
            paths: self.paths.clone(),
            engine: false,
            compose_files: self.compose_files.clone(),
            images: Vec::new(),
            format: Format::Human,
            fail_on: None,
            select: self.select.clone(),
            ignore: self.ignore.clone(),
            standard: None,
            config: self.config.clone(),
            isolated: self.isolated,
            target: None,
            build_args: Vec::new(),
            stdin_filename: self.stdin_filename.clone(),
            // The seccomp profile `profile` wrote beside a `--profile` file is referenced by the
            // hardened file, and read when the result is audited again.
            allow_read: self
                .allow_read
                .iter()
                .cloned()
                .chain(self.profiles.iter().map(|profile| match profile.parent() {
                    Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
                    _ => PathBuf::from("."),
                }))
                .collect(),
            color: ColorChoice::Never,
        }
    }
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

/// Output formats of `probe` and `verify`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum ReportFormat {
    /// One section per layer, `!` before what an attacker could use.
    Human,
    /// The stable JSON contract.
    Json,
}

#[derive(Debug, Args)]
pub(crate) struct ProbeArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Human)]
    pub(crate) format: ReportFormat,
}

#[derive(Debug, Args)]
pub(crate) struct VerifyArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Human)]
    pub(crate) format: ReportFormat,

    /// The layers that must hold for exit 0 [default: all]: escape, user, capabilities,
    /// confinement, filesystem, secrets, daemon, or all. A policy name requires its layer and a
    /// stricter check of its own: non-root, cap-drop-all, no-new-privileges, read-only, seccomp,
    /// lsm, no-engine-socket, no-host-namespaces, not-privileged, no-secret-env, userns.
    /// Comma-separated or repeated. Every layer is judged and shown either way, and a broken
    /// promise fails in any layer.
    #[arg(long, value_delimiter = ',', value_name = "POLICY")]
    pub(crate) expect: Vec<String>,

    /// The static leastpriv binary mounted into the container [default: $LEASTPRIV_PROBE_BINARY, or
    /// this binary when it is static].
    #[arg(long, value_name = "PATH")]
    pub(crate) probe_binary: Option<PathBuf>,

    /// Seconds the container may take to start and probe (a Compose service's image build, before
    /// it, may take up to an hour).
    #[arg(long, value_name = "SECONDS", default_value_t = 120)]
    pub(crate) timeout: u64,

    /// A Compose file of the service to verify; repeat to merge files in order, as `docker compose
    /// -f` does.
    #[arg(long = "compose", value_name = "FILE", conflicts_with = "command")]
    pub(crate) compose: Vec<PathBuf>,

    /// The Compose service to verify [default: the project's only service].
    #[arg(long, value_name = "NAME", requires = "compose")]
    pub(crate) service: Option<String>,

    /// The command that runs the service: `docker run [FLAGS…] IMAGE [CMD…]`, after `--`.
    #[arg(
        last = true,
        required_unless_present = "compose",
        value_name = "DOCKER_RUN"
    )]
    pub(crate) command: Vec<String>,
}

#[derive(Debug, Args)]
pub(crate) struct CompletionsArgs {
    /// The shell: `leastpriv completions bash > ~/.local/share/bash-completion/completions/leastpriv`.
    #[arg(value_enum)]
    pub(crate) shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub(crate) struct ManArgs {
    /// Write `leastpriv.1` and one `leastpriv-COMMAND.1` per command into this directory, instead of
    /// printing `leastpriv.1` (`leastpriv man | man -l -`).
    #[arg(value_name = "DIR")]
    pub(crate) dir: Option<PathBuf>,
}

/// Recorders for `profile --recorder`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub(crate) enum RecorderArg {
    /// eBPF where it loads (root, kernel BTF), else seccomp-notify for a local command.
    #[default]
    Auto,
    /// eBPF in the kernel: no per-event traffic; sees syscalls, written paths and ports.
    Ebpf,
    /// Seccomp user notification: no root needed, slower, sees syscalls only (local commands).
    SeccompNotify,
}

/// `profile --capabilities`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub(crate) enum CapabilitiesArg {
    /// Where the kernel checks them (eBPF: the cap_capable tracepoint, no-audit checks left out);
    /// by trials with the seccomp-notify fallback, which cannot see the checks.
    #[default]
    Observe,
    /// Observe, then confirm by trials: exactly the observed set works, each one fewer fails (what
    /// is not needed is dropped).
    Confirm,
    /// Rerun the workload without capabilities to find those it needs (no observation).
    Trial,
    /// Do not learn capabilities (the profile says they were not observed).
    Skip,
}

#[derive(Debug, Args)]
#[command(after_long_help = "Examples:
  leastpriv profile --output app.profile.json --seccomp app.seccomp.json -- ./server --port 8080
  leastpriv profile -o web.json --seccomp web.seccomp.json --exercise 'curl -fsS localhost:8080/healthz' \\
      -- docker run --rm -p 8080:8080 web:1
  leastpriv profile -o web.json --compose compose.yaml --service web --duration 30s
  leastpriv profile --merge a.json b.json -o all.json --seccomp all.seccomp.json --compare")]
pub(crate) struct ProfileArgs {
    /// Write the profile (JSON) here [default: standard output, after the workload ends].
    #[arg(short = 'o', long, value_name = "PROFILE.json")]
    pub(crate) output: Option<PathBuf>,

    /// Also write a seccomp profile in Docker's format that allows what the workload needed.
    #[arg(long, value_name = "SECCOMP.json")]
    pub(crate) seccomp: Option<PathBuf>,

    /// A Compose file of the service to profile; repeat to merge files in order, as `docker
    /// compose -f` does. The whole stack comes up; only the service is recorded.
    #[arg(long = "compose", value_name = "FILE", conflicts_with_all = ["command", "merge"])]
    pub(crate) compose: Vec<PathBuf>,

    /// The Compose service to profile [default: the project's only service].
    #[arg(long, value_name = "NAME", requires = "compose")]
    pub(crate) service: Option<String>,

    /// A host command (run with `sh -c`) that exercises the workload once it has started; it should
    /// wait for the workload to be ready. The workload is stopped after it.
    #[arg(long, value_name = "CMD")]
    pub(crate) exercise: Option<String>,

    /// Run the exercise this many times.
    #[arg(long, value_name = "N", default_value_t = 1, requires = "exercise")]
    pub(crate) repeat: u32,

    /// Record for this long (`30s`, `2m`, `500ms`), then stop the workload (after the exercise).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub(crate) duration: Option<std::time::Duration>,

    /// The recorder.
    #[arg(long, value_enum, default_value_t)]
    pub(crate) recorder: RecorderArg,

    /// A profile whose syscalls are already known: the seccomp-notify recorder lets them run
    /// without a round trip (the fast second pass), and the result includes them.
    #[arg(long, value_name = "PROFILE.json")]
    pub(crate) baseline: Option<PathBuf>,

    /// How to learn the capabilities: `observe` where the kernel checks them, `confirm` adds trials
    /// (reruns with exactly the observed set, and with each one fewer), `trial` reruns without them
    /// (one run without any, then one per capability if that one fails), `skip` leaves them
    /// unobserved.
    #[arg(long, value_enum, default_value_t)]
    pub(crate) capabilities: CapabilitiesArg,

    /// Unite the profiles of several runs instead of recording one.
    #[arg(long, value_name = "PROFILE.json", num_args = 1.., conflicts_with = "command")]
    pub(crate) merge: Vec<PathBuf>,

    /// Report what the seccomp profile allows that Docker's default blocks, and how many syscalls
    /// it removes from Docker's default.
    #[arg(long)]
    pub(crate) compare: bool,

    /// Run the command under this seccomp profile (Docker's format, names only) instead of
    /// recording it: try a generated profile on a local command. Exits with the command's status.
    #[arg(long, value_name = "SECCOMP.json", conflicts_with_all = ["merge", "compose", "output", "seccomp"])]
    pub(crate) enforce: Option<PathBuf>,

    /// The workload: a local command, or `docker run [FLAGS…] IMAGE [CMD…]`, after `--`.
    #[arg(last = true, value_name = "COMMAND")]
    pub(crate) command: Vec<String>,
}

/// `30s`, `2m`, `1h`, `500ms`, or plain seconds.
fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a duration (30s, 2m, 500ms)"))?;
    let seconds = match unit {
        "" | "s" => number,
        "ms" => number / 1000.0,
        "m" => number * 60.0,
        "h" => number * 3600.0,
        _ => return Err(format!("`{unit}` is not a unit of time (ms, s, m, h)")),
    };
    if !seconds.is_finite() || !(0.0..=365.0 * 86_400.0).contains(&seconds) {
        return Err(format!("`{text}` is out of range"));
    }
    Ok(std::time::Duration::from_secs_f64(seconds))
}

#[cfg(test)]
mod tests {
    use super::parse_duration;
    use std::time::Duration;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("7"), Ok(Duration::from_secs(7)));
        assert!(parse_duration("3 days").is_err());
        assert!(parse_duration("-1s").is_err());
    }
}
