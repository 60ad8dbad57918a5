//! `leastpriv verify`: run an image on the real engine with the user's own flags, probe it from the
//! inside, and judge layer by layer whether each layer of defence really holds: against least
//! privilege, with the audit rules' own judgement, and against what the configuration promised.
//!
//! 1. [`command`] splits the user's `docker run …` line and rewrites it into the run of the probe: the
//!    same privilege-shaping flags, the static leastpriv binary bind-mounted read-only at
//!    [`PROBE_PATH`] and run through `--entrypoint` as the configured user (the image's `USER`, or
//!    `--user`), `--rm` and a unique name.
//! 2. The docker_run front-end lowers the same flags into the security model: the promises.
//! 3. [`engine`] asks the daemon for its security options and the image for its `USER`, runs the
//!    probe and reads its JSON report.
//! 4. [`judge`] judges the observations per layer as the audit rules judge the same facts, and
//!    compares them with the promises.
//!
//! A Compose service is verified the same way through the user's Compose tool ([`compose`]).
//!
//! Configuration can lie: a profile that fails to load, a daemon default that differs, a flag
//! overridden by an orchestrator. Only the process itself knows what it got.

mod binary;
mod command;
pub mod compose;
pub mod engine;
mod expect;
mod human;
pub mod judge;
mod report;

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use leastpriv_frontend::Options as FrontendOptions;
use leastpriv_model::{Runtime, Sensitive};
use leastpriv_probe::ProbeReport;
use leastpriv_source::SourceDb;

pub use binary::check_probe_binary;
pub use command::{shell_quote, Flag, RunCommand, PROBE_PATH, RUN_CONTROL_FLAGS};
use compose::ComposeRun;
pub use compose::ComposeTarget;
pub use expect::{parse_policy, Expectation, EXPECTATIONS};
pub use human::write_human;
pub use report::{Check, LayerVerdict, Outcome, Status, VerifyReport, LAYERS};

/// Why verify could not give a verdict.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// The command line or the policy is wrong.
    #[error("{0}")]
    Usage(String),
    /// The engine (or its CLI) is not there or refuses.
    #[error("the container engine is not reachable: {0}")]
    Engine(String),
    /// A CLI command hung.
    #[error("`{command}` did not finish within {seconds} s")]
    Timeout {
        /// The command.
        command: String,
        /// The limit.
        seconds: u64,
    },
    /// The container did not start or the probe did not run in it.
    #[error("the container did not run the probe (exit {code}): {message}")]
    ContainerFailed {
        /// The CLI's exit code.
        code: String,
        /// Its first line of error output.
        message: String,
    },
    /// The Compose service's image did not build.
    #[error("building the service's image failed (exit {code}); `{command}` shows why")]
    BuildFailed {
        /// The build's exit code.
        code: String,
        /// The build command, to rerun by hand.
        command: String,
    },
    /// The probe printed something that is not a report.
    #[error("the probe's output is not a report: {0}")]
    BadProbeOutput(String),
    /// The probe binary cannot run in a container.
    #[error("{0}")]
    ProbeBinary(String),
}

/// How long the image build of a Compose service may take. Builds are slow for reasons that are
/// not the container's (the classic builder on fuse-overlayfs diffs the whole base for every step),
/// so `--timeout` bounds only the probe's run; this bounds a build that hangs.
const BUILD_TIMEOUT: Duration = Duration::from_secs(3600);

/// How to verify.
#[derive(Clone, Debug)]
pub struct Options {
    /// The static leastpriv binary to mount into the container.
    pub probe_binary: PathBuf,
    /// `--expect`.
    pub expect: Vec<Expectation>,
    /// How long the container may take to start and probe.
    pub timeout: Duration,
}

/// Runs the probe with the flags of `argv` (`docker run …`) and judges the result.
pub fn verify(argv: &[String], options: &Options) -> Result<VerifyReport, VerifyError> {
    let command = RunCommand::parse(argv)?;
    let probe_binary = mountable_probe_binary(options)?;
    let daemon = engine::daemon(&command.program, &command.global)?;
    let image_user = engine::image_user(&command.program, &command.global, &command.image);
    let runtime = promised_runtime(&command);

    let name = container_name();
    let probe_argv = command.probe_argv(&probe_binary, &name);
    let probe = run_probe(&probe_argv, None, options.timeout).inspect_err(|_| {
        remove_container(&command, &name);
    })?;
    let promises = judge::Promises {
        runtime: &runtime,
        syntax: judge::Syntax::DockerRun,
        image_user: image_user.as_deref(),
        daemon: &daemon,
        expect: &options.expect,
    };
    Ok(verdict(
        command.image.clone(),
        redacted(&probe_argv),
        command.dropped_flags(),
        &promises,
        probe,
    ))
}

/// Runs the probe in one service of a Compose project, with the user's Compose tool, and judges
/// the result against what the Compose files promise. See [`compose`].
pub fn verify_compose(
    target: &ComposeTarget,
    options: &Options,
) -> Result<VerifyReport, VerifyError> {
    let mut run = ComposeRun::load(target, container_name())?;
    let probe_binary = mountable_probe_binary(options)?;
    if probe_binary.contains(':') {
        return Err(VerifyError::ProbeBinary(format!(
            "{probe_binary}: Compose cannot mount a path with a colon; copy the binary elsewhere"
        )));
    }
    run.find_tool()?;
    let daemon = engine::daemon("docker", &[])?;

    let probed = (|| {
        if let Some(build) = run.build_argv() {
            let output = engine::run_in(&build, Some(run.directory()), BUILD_TIMEOUT)?;
            if output.code != Some(0) {
                // Not the build's output: a failing step can echo what its command holds.
                return Err(VerifyError::BuildFailed {
                    code: exit_code(output.code),
                    command: build.join(" "),
                });
            }
        }
        let probe = run_probe(
            &run.probe_argv(&probe_binary),
            Some(run.directory()),
            options.timeout,
        )?;
        let image_user = run
            .image_names()
            .iter()
            .find_map(|image| engine::image_user("docker", &[], image));
        Ok((probe, image_user))
    })();
    // Whatever happened: the project's containers, network, volumes and built images go.
    let _ = engine::run_in(
        &run.down_argv(),
        Some(run.directory()),
        Duration::from_secs(120),
    );
    let (probe, image_user) = probed?;

    let promises = judge::Promises {
        runtime: &run.runtime,
        syntax: judge::Syntax::Compose,
        image_user: image_user.as_deref(),
        daemon: &daemon,
        expect: &options.expect,
    };
    Ok(verdict(
        run.image_label(),
        run.probe_argv(&probe_binary),
        ComposeRun::left_out(),
        &promises,
        probe,
    ))
}

/// The probe binary, checked to run in a container, as an absolute path the engine can mount.
fn mountable_probe_binary(options: &Options) -> Result<String, VerifyError> {
    check_probe_binary(&options.probe_binary)?;
    // The engine needs an absolute path, and `--mount` splits its value at commas.
    let probe_binary = std::fs::canonicalize(&options.probe_binary)
        .map_err(|error| {
            VerifyError::ProbeBinary(format!("{}: {error}", options.probe_binary.display()))
        })?
        .to_string_lossy()
        .into_owned();
    if probe_binary.contains(',') {
        return Err(VerifyError::ProbeBinary(format!(
            "{probe_binary}: the engine cannot mount a path with a comma; copy the binary elsewhere"
        )));
    }
    Ok(probe_binary)
}

/// Runs the probe's container and reads its report.
fn run_probe(
    argv: &[String],
    dir: Option<&Path>,
    timeout: Duration,
) -> Result<ProbeReport, VerifyError> {
    let output = engine::run_in(argv, dir, timeout)?;
    if output.code != Some(0) {
        return Err(VerifyError::ContainerFailed {
            code: exit_code(output.code),
            message: engine::telling_line(&output.stderr),
        });
    }
    serde_json::from_str(&output.stdout).map_err(|error| {
        VerifyError::BadProbeOutput(format!("{error}: {}", engine::first_line(&output.stdout)))
    })
}

fn exit_code(code: Option<i32>) -> String {
    code.map_or_else(|| "killed".to_owned(), |code| code.to_string())
}

/// Judges `probe` against `promises` into the report.
fn verdict(
    image: String,
    command: Vec<String>,
    dropped_flags: Vec<String>,
    promises: &judge::Promises<'_>,
    probe: ProbeReport,
) -> VerifyReport {
    let layers = judge::judge(promises, &probe);
    VerifyReport {
        image,
        command,
        dropped_flags,
        expected: promises
            .expect
            .iter()
            .map(|expectation| expectation.name().to_owned())
            .collect(),
        required: layers
            .iter()
            .filter(|layer| layer.required)
            .map(|layer| layer.layer.clone())
            .collect(),
        holds: report::holds(&layers),
        layers,
        probe,
    }
}

/// The flags as the security model: what they promise.
fn promised_runtime(command: &RunCommand) -> Runtime {
    let db = SourceDb::new();
    let file = db.add("<verify command line>", command.as_script());
    let lowered = leastpriv_frontend::docker_run::lower(&db, file, &FrontendOptions::default());
    lowered
        .containers
        .into_iter()
        .find_map(|container| container.runtime)
        .unwrap_or_default()
}

/// A name no running container has: `leastpriv-verify-<pid>-<nanos>`.
fn container_name() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.subsec_nanos());
    format!("leastpriv-verify-{}-{nanos}", std::process::id())
}

/// Removes the probe's container after a failure or a timeout (`--rm` covers a normal exit).
fn remove_container(command: &RunCommand, name: &str) {
    let mut argv = vec![command.program.clone()];
    argv.extend(command.global.iter().cloned());
    argv.extend(["rm".to_owned(), "--force".to_owned(), name.to_owned()]);
    let _ = engine::run(&argv, Duration::from_secs(30));
}

/// The argv with environment values replaced by their redaction.
fn redacted(argv: &[String]) -> Vec<String> {
    argv.iter()
        .map(|word| {
            match word
                .strip_prefix("--env=")
                .and_then(|env| env.split_once('='))
            {
                Some((name, value)) => format!("--env={name}={}", Sensitive::new(value)),
                None => word.clone(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_shows_environment_values() {
        let argv = redacted(&[
            "docker".into(),
            "--env=DB_PASSWORD=hunter2".into(),
            "--env=EMPTY".into(),
        ]);
        assert_eq!(
            argv,
            vec![
                "docker",
                "--env=DB_PASSWORD=<redacted, 7 chars>",
                "--env=EMPTY"
            ]
        );
    }

    #[test]
    fn the_front_end_reads_the_flags() {
        let argv: Vec<String> =
            "docker run -u 1000 --cap-drop ALL --read-only --tmpfs /tmp:noexec \
             --security-opt no-new-privileges -v /var/run/docker.sock:/var/run/docker.sock img"
                .split_whitespace()
                .map(str::to_owned)
                .collect();
        let runtime = promised_runtime(&RunCommand::parse(&argv).expect("parses"));
        assert_eq!(
            runtime.user.map(|user| user.value.user).as_deref(),
            Some("1000")
        );
        assert_eq!(runtime.cap_drop.len(), 1);
        assert_eq!(runtime.read_only_root.map(|ro| ro.value), Some(true));
        assert_eq!(runtime.tmpfs[0].value.target, "/tmp");
        assert_eq!(runtime.no_new_privileges.map(|nnp| nnp.value), Some(true));
        assert_eq!(runtime.mounts[0].value.target, "/var/run/docker.sock");
    }
}
