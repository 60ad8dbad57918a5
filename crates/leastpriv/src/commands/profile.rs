//! `leastpriv profile`: record a workload (a local command, a `docker run` line or a Compose
//! service), unite profiles (`--merge`), set one against Docker's default (`--compare`), or try a
//! seccomp profile on a local command (`--enforce`).
//!
//! The profile goes to `--output` (written atomically) or, without it, to standard output once the
//! workload has ended; the summary then goes to standard error, so that the JSON stays clean.

use std::io::Write;
use std::path::Path;

use anyhow::{bail, Context, Result};
use leastpriv_model::WorkloadProfile;
use leastpriv_profile::{
    seccomp, CapabilityMode, ComposeTarget, Options, RecorderChoice, Recording,
};

use crate::args::{CapabilitiesArg, ProfileArgs, RecorderArg};
use crate::ExitStatus;

/// The largest profile `--merge` and `--baseline` read.
const MAX_PROFILE_BYTES: u64 = 16 << 20;

pub(crate) fn run(args: &ProfileArgs, out: &mut dyn Write) -> Result<ExitStatus> {
    if let Some(seccomp_file) = &args.enforce {
        let text = read_bounded(seccomp_file)?;
        if args.command.is_empty() {
            bail!("--enforce needs the command to run after `--`");
        }
        let code = leastpriv_profile::local::enforce(&text, &args.command)?;
        return Ok(ExitStatus::Code(u8::try_from(code).unwrap_or(255)));
    }
    let recording = if !args.merge.is_empty() {
        let profiles = args
            .merge
            .iter()
            .map(|path| read_profile(path))
            .collect::<Result<Vec<_>>>()?;
        Recording {
            profile: leastpriv_profile::merge::merge(&profiles)?,
            exit_code: None,
            notes: Vec::new(),
        }
    } else {
        record(args)?
    };
    let mut profile = recording.profile;

    if let Some(path) = &args.seccomp {
        let docker = seccomp::from_profile(&profile)?;
        let text = serde_json::to_string_pretty(&docker)? + "\n";
        write_atomically(path, &text)?;
        profile.seccomp_profile = Some(relative_to_profile(path, args.output.as_deref()));
    }
    let json = serde_json::to_string_pretty(&profile)? + "\n";
    let mut stderr = std::io::stderr();
    let summary: &mut dyn Write = match &args.output {
        Some(path) => {
            write_atomically(path, &json)?;
            out
        }
        None => {
            out.write_all(json.as_bytes())?;
            out.flush()?;
            &mut stderr
        }
    };
    write_summary(
        summary,
        &profile,
        &recording.notes,
        recording.exit_code,
        args,
    )?;
    if args.compare {
        let comparison = seccomp::compare(&profile)?;
        write_comparison(summary, &comparison)?;
    }
    Ok(ExitStatus::Clean)
}

/// Records the workload the arguments name.
fn record(args: &ProfileArgs) -> Result<Recording> {
    let baseline = match &args.baseline {
        Some(path) => read_profile(path)?.syscalls,
        None => Vec::new(),
    };
    let options = Options {
        recorder: match args.recorder {
            RecorderArg::Auto => RecorderChoice::Auto,
            RecorderArg::Ebpf => RecorderChoice::Ebpf,
            RecorderArg::SeccompNotify => RecorderChoice::SeccompNotify,
        },
        exercise: args.exercise.clone(),
        repeat: args.repeat,
        duration: args.duration,
        baseline,
        capabilities: match args.capabilities {
            CapabilitiesArg::Observe => CapabilityMode::Observe,
            CapabilitiesArg::Confirm => CapabilityMode::Confirm,
            CapabilitiesArg::Trial => CapabilityMode::Trial,
            CapabilitiesArg::Skip => CapabilityMode::Skip,
        },
    };
    let mut recording = if !args.compose.is_empty() {
        let target = ComposeTarget {
            files: args.compose.clone(),
            service: args.service.clone(),
        };
        leastpriv_profile::compose::profile(&target, &options)?
    } else if args.command.is_empty() {
        bail!("nothing to profile: give the command after `--` (a local command or `docker run …`), --compose FILE, or --merge PROFILE…");
    } else if is_docker_run(&args.command) {
        leastpriv_profile::container::profile(&args.command, &options)?
    } else {
        leastpriv_profile::local::profile(&args.command, &options)?
    };
    if let Some(path) = &args.baseline {
        let baseline = read_profile(path)?;
        recording.profile = leastpriv_profile::merge::merge(&[baseline, recording.profile])?;
        recording.profile.run.runs = 1;
    }
    Ok(recording)
}

/// A `docker …` line is a container to run (`docker run`, `docker container run`, `docker create`;
/// anything else is refused with the reason); any other command runs locally.
fn is_docker_run(argv: &[String]) -> bool {
    argv.first()
        .is_some_and(|program| program.rsplit('/').next() == Some("docker"))
}

fn read_bounded(path: &Path) -> Result<String> {
    use std::io::Read;
    let file = std::fs::File::open(path).with_context(|| format!("{}", path.display()))?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        bail!("{}: not a regular file", path.display());
    }
    let mut text = String::new();
    file.take(MAX_PROFILE_BYTES + 1)
        .read_to_string(&mut text)
        .with_context(|| format!("{}", path.display()))?;
    if text.len() as u64 > MAX_PROFILE_BYTES {
        bail!(
            "{}: larger than {} MiB",
            path.display(),
            MAX_PROFILE_BYTES >> 20
        );
    }
    Ok(text)
}

fn read_profile(path: &Path) -> Result<WorkloadProfile> {
    let text = read_bounded(path)?;
    let profile: WorkloadProfile = serde_json::from_str(&text).map_err(|error| {
        anyhow::anyhow!(
            "{}:{}:{}: not a leastpriv profile: {error}",
            path.display(),
            error.line(),
            error.column()
        )
    })?;
    if profile.schema > leastpriv_model::PROFILE_SCHEMA {
        bail!(
            "{}: profile schema {} is newer than this leastpriv reads ({})",
            path.display(),
            profile.schema,
            leastpriv_model::PROFILE_SCHEMA
        );
    }
    Ok(profile)
}

/// Writes `text` to `path`. A regular file (or a new one) is replaced through a temporary file in
/// its directory and a rename, so a reader never sees half a profile; a symlink is written through
/// to its target. Anything else that already exists (`/dev/null`, `/dev/stdout`, a FIFO) is written
/// as it is: renaming over it would replace the device node itself, machine-wide.
fn write_atomically(path: &Path, text: &str) -> Result<()> {
    let target = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    if std::fs::metadata(&target).is_ok_and(|metadata| !metadata.is_file()) {
        return std::fs::write(&target, text).with_context(|| format!("{}", path.display()));
    }
    let dir = match target.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let mut temporary = tempfile::Builder::new()
        .prefix(".leastpriv-profile-")
        // As a plain create would: 0666 less the umask (tempfile's default is 0600).
        .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666))
        .tempfile_in(dir)
        .with_context(|| format!("{}: creating a temporary file beside it", path.display()))?;
    temporary
        .write_all(text.as_bytes())
        .with_context(|| format!("{}", path.display()))?;
    temporary
        .persist(&target)
        .map_err(|error| error.error)
        .with_context(|| format!("{}", path.display()))?;
    Ok(())
}

/// The seccomp file as the profile refers to it: relative to the profile's directory when it is
/// inside it, else absolute.
fn relative_to_profile(seccomp: &Path, profile: Option<&Path>) -> String {
    let absolute = |path: &Path| std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let seccomp_abs = absolute(seccomp);
    let base = match profile {
        Some(profile) => absolute(profile)
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default(),
        None => absolute(Path::new(".")),
    };
    match seccomp_abs.strip_prefix(&base) {
        Ok(relative) => relative.to_string_lossy().into_owned(),
        Err(_) => seccomp_abs.to_string_lossy().into_owned(),
    }
}

fn write_summary(
    out: &mut dyn Write,
    profile: &WorkloadProfile,
    notes: &[String],
    exit_code: Option<i32>,
    args: &ProfileArgs,
) -> Result<()> {
    let run = &profile.run;
    let recorder = match run.recorder.as_str() {
        "ebpf" => leastpriv_profile::Recorder::Ebpf.overhead(),
        "seccomp-notify" => leastpriv_profile::Recorder::SeccompNotify.overhead(),
        _ => "",
    };
    writeln!(
        out,
        "profile: {} run(s), {} ms, recorder {}{}",
        run.runs,
        run.duration_ms,
        run.recorder,
        if recorder.is_empty() {
            String::new()
        } else {
            format!(" ({recorder})")
        }
    )?;
    let unobserved = |what: &str| run.not_observed.iter().any(|name| name == what);
    writeln!(
        out,
        "  syscalls      {} ({})",
        profile.syscalls.len(),
        run.arch
    )?;
    let list = |items: Vec<String>, what: &str| -> String {
        if unobserved(what) {
            "not observed (run.not_observed)".to_owned()
        } else if items.is_empty() {
            "none".to_owned()
        } else {
            items.join(", ")
        }
    };
    writeln!(
        out,
        "  capabilities  {}",
        list(profile.capabilities.clone(), "capabilities")
    )?;
    writeln!(
        out,
        "  written paths {}",
        list(profile.written_paths.clone(), "written_paths")
    )?;
    writeln!(
        out,
        "  ports         {}",
        list(
            profile
                .ports
                .iter()
                .map(|port| format!("{}/{}", port.port, port.protocol))
                .collect(),
            "ports"
        )
    )?;
    if let Some(path) = &args.output {
        writeln!(out, "  wrote {}", path.display())?;
    }
    if let Some(path) = &args.seccomp {
        writeln!(out, "  wrote {} (Docker seccomp profile)", path.display())?;
    }
    if let Some(code) = exit_code.filter(|code| *code != 0) {
        writeln!(
            out,
            "  note: the workload exited with status {code}; the profile covers what it did until then"
        )?;
    }
    for note in notes {
        writeln!(out, "  note: {note}")?;
    }
    Ok(())
}

fn write_comparison(out: &mut dyn Write, comparison: &seccomp::Comparison) -> Result<()> {
    writeln!(
        out,
        "compared with Docker's default seccomp profile ({} syscalls allowed there):",
        comparison.default_allows
    )?;
    writeln!(
        out,
        "  removes {} of them; allows {} in all",
        comparison.removed_from_default, comparison.profile_allows
    )?;
    if comparison.allowed_beyond_default.is_empty() {
        writeln!(out, "  allows nothing that Docker's default blocks")?;
    } else {
        writeln!(
            out,
            "  allows what Docker's default blocks: {}",
            comparison.allowed_beyond_default.join(", ")
        )?;
    }
    if !comparison.argument_filters_dropped.is_empty() {
        writeln!(
            out,
            "  allows whole what Docker's default allows only with argument filters: {}",
            comparison.argument_filters_dropped.join(", ")
        )?;
    }
    Ok(())
}
