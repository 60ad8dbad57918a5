//! The engine, through the user's own CLI.
//!
//! verify shells out to `docker` rather than speaking the Engine API (bollard): the user's
//! `docker run` line *is* the configuration being verified, and only the CLI turns those flags into an
//! API request exactly as the user's deployment does (defaults, `--security-opt` parsing, contexts,
//! `DOCKER_HOST`, TLS). Re-implementing that translation would verify our translation instead. It
//! also keeps tokio out of the binary.

use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::VerifyError;

/// What a finished CLI command printed.
#[derive(Debug)]
pub struct Output {
    /// Exit code (`None` when killed).
    pub code: Option<i32>,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

/// Runs `argv`, killing it after `timeout`.
pub fn run(argv: &[String], timeout: Duration) -> Result<Output, VerifyError> {
    run_in(argv, None, timeout)
}

/// Runs `argv` in the directory `dir` (else the current one), killing it after `timeout`.
pub fn run_in(
    argv: &[String],
    dir: Option<&Path>,
    timeout: Duration,
) -> Result<Output, VerifyError> {
    let (program, args) = argv
        .split_first()
        .ok_or_else(|| VerifyError::Usage("empty command".into()))?;
    let mut command = Command::new(program);
    if let Some(dir) = dir {
        command.current_dir(dir);
    }
    let mut child = command
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|source| VerifyError::Engine(format!("cannot run `{program}`: {source}")))?;
    // Read both pipes on threads so that neither fills up while we wait.
    let stdout = drain(&mut child, true);
    let stderr = drain(&mut child, false);
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            Ok(None) => thread::sleep(Duration::from_millis(10)),
            Err(source) => {
                return Err(VerifyError::Engine(format!(
                    "waiting for `{program}`: {source}"
                )))
            }
        }
    };
    let output = Output {
        code: status.and_then(|status| status.code()),
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
    };
    if status.is_none() {
        return Err(VerifyError::Timeout {
            command: argv.join(" "),
            seconds: timeout.as_secs(),
        });
    }
    Ok(output)
}

fn drain(child: &mut Child, stdout: bool) -> thread::JoinHandle<String> {
    let pipe: Option<Box<dyn Read + Send>> = if stdout {
        child
            .stdout
            .take()
            .map(|pipe| Box::new(pipe) as Box<dyn Read + Send>)
    } else {
        child
            .stderr
            .take()
            .map(|pipe| Box::new(pipe) as Box<dyn Read + Send>)
    };
    thread::spawn(move || {
        let mut text = String::new();
        if let Some(mut pipe) = pipe {
            // Bounded: a probe report is a few kilobytes.
            let _ = pipe.by_ref().take(16 << 20).read_to_string(&mut text);
        }
        text
    })
}

/// The security options the daemon reports (`docker info`): seccomp, apparmor, selinux, userns,
/// rootless, cgroupns.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Daemon {
    /// The raw `name=…` entries.
    pub security_options: Vec<String>,
}

impl Daemon {
    /// Parses the JSON array `docker info --format '{{json .SecurityOptions}}'` prints.
    pub fn parse(json: &str) -> Self {
        Self {
            security_options: serde_json::from_str(json.trim()).unwrap_or_default(),
        }
    }

    /// Whether an option (`apparmor`, `userns` …) is reported.
    pub fn has(&self, name: &str) -> bool {
        self.security_options.iter().any(|option| {
            option
                .split(',')
                .any(|part| part == format!("name={name}") || part == name)
        })
    }
}

/// Asks the daemon for its security options; `Err` when the engine does not answer.
pub fn daemon(program: &str, global: &[String]) -> Result<Daemon, VerifyError> {
    let mut argv = vec![program.to_owned()];
    argv.extend(global.iter().cloned());
    argv.extend(["info", "--format", "{{json .SecurityOptions}}"].map(str::to_owned));
    let output = run(&argv, Duration::from_secs(30))?;
    if output.code != Some(0) {
        return Err(VerifyError::Engine(first_line(&output.stderr)));
    }
    Ok(Daemon::parse(&output.stdout))
}

/// The image's configured user (`Config.User`), `None` when the image is not present locally.
pub fn image_user(program: &str, global: &[String], image: &str) -> Option<String> {
    let mut argv = vec![program.to_owned()];
    argv.extend(global.iter().cloned());
    argv.extend(
        [
            "image",
            "inspect",
            "--format",
            "{{json .Config.User}}",
            image,
        ]
        .map(str::to_owned),
    );
    let output = run(&argv, Duration::from_secs(30)).ok()?;
    if output.code != Some(0) {
        return None;
    }
    serde_json::from_str::<String>(output.stdout.trim()).ok()
}

/// The first line of an error message.
pub fn first_line(text: &str) -> String {
    text.lines()
        .find(|line| !line.trim().is_empty())
        .unwrap_or("no output")
        .trim()
        .to_owned()
}

/// The line of a failed container run's standard error that says why: the last one, past the
/// Compose tool's progress lines and the hints that follow an error (`Run 'docker run --help'…`, a
/// Rust panic's `note: run with RUST_BACKTRACE=1…`).
pub fn telling_line(text: &str) -> String {
    let hint = |line: &str| {
        line.starts_with("Run 'docker ") || line.starts_with("note: run with `RUST_BACKTRACE")
    };
    text.lines()
        .rev()
        .map(str::trim)
        .find(|line| !line.is_empty() && !hint(line))
        .unwrap_or("no output")
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_telling_line_is_the_last_past_progress_and_hints() {
        let compose = "Creating network \"p_default\" with the default driver\nCreating p_web_run ... done\n\nthread 'main' panicked at src/x.rs:1:2:\ncalled `Result::unwrap()` on an `Err` value: EPERM\nnote: run with `RUST_BACKTRACE=1` environment variable to display a backtrace\n";
        assert_eq!(
            telling_line(compose),
            "called `Result::unwrap()` on an `Err` value: EPERM"
        );
        let docker = "docker: Error response from daemon: no such image.\n\nRun 'docker run --help' for more information\n";
        assert_eq!(
            telling_line(docker),
            "docker: Error response from daemon: no such image."
        );
        assert_eq!(telling_line("\n \n"), "no output");
    }

    #[test]
    fn reads_daemon_security_options() {
        let daemon = Daemon::parse(r#"["name=seccomp,profile=default","name=apparmor"]"#);
        assert!(daemon.has("seccomp") && daemon.has("apparmor"));
        assert!(!daemon.has("userns") && !daemon.has("selinux"));
        assert_eq!(Daemon::parse("garbage"), Daemon::default());
    }

    #[test]
    fn runs_and_times_out() {
        let output = run(
            &[
                "sh".into(),
                "-c".into(),
                "echo out; echo err >&2; exit 3".into(),
            ],
            Duration::from_secs(10),
        )
        .expect("runs");
        assert_eq!(
            (output.code, output.stdout.as_str(), output.stderr.as_str()),
            (Some(3), "out\n", "err\n")
        );
        let timed_out = run(&["sleep".into(), "5".into()], Duration::from_millis(100));
        assert!(matches!(timed_out, Err(VerifyError::Timeout { .. })));
    }
}
