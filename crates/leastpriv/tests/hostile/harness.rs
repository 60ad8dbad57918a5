//! Builds a hostile project in a temporary directory and runs `leastpriv audit` on it the way CI
//! would, under a memory and a time limit.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// A secret the run must never print: set in its environment and written in files outside the
/// project.
pub(crate) const CANARY: &str = "canary-7f3e9a1c-do-not-print";

/// The four output formats.
pub(crate) const FORMATS: [&str; 4] = ["human", "json", "sarif", "github"];

/// Address space a run may use. Far above what any case needs once fixed (tens to a few hundred
/// MB), far below what the unbounded cases reached (3 GB and more).
pub(crate) const MEMORY_LIMIT: u64 = 2 << 30;

/// A run that has not ended by then hangs, or is quadratic.
pub(crate) const TIME_LIMIT: Duration = Duration::from_secs(150);

/// A temporary project, and a directory beside it that is outside it.
pub(crate) struct Case {
    root: tempfile::TempDir,
    extra_args: Vec<String>,
    extra_env: Vec<(String, String)>,
}

impl Case {
    pub(crate) fn new() -> Self {
        let case = Self {
            root: tempfile::tempdir().expect("temporary directory"),
            extra_args: Vec::new(),
            extra_env: Vec::new(),
        };
        std::fs::create_dir_all(case.project()).expect("project directory");
        std::fs::create_dir_all(case.outside()).expect("outside directory");
        case.outside_file("secret.env", &format!("TOKEN={CANARY}\n"));
        case
    }

    /// The audited directory.
    pub(crate) fn project(&self) -> PathBuf {
        self.root.path().join("project")
    }

    /// A directory that is not audited; holds `secret.env` with the canary.
    pub(crate) fn outside(&self) -> PathBuf {
        self.root.path().join("outside")
    }

    /// Writes `contents` to `relative` in the project.
    pub(crate) fn file(&self, relative: &str, contents: impl AsRef<[u8]>) -> &Self {
        let path = self.project().join(relative);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("directories");
        std::fs::write(&path, contents).expect("write");
        self
    }

    /// Writes `contents` to `relative` outside the project.
    pub(crate) fn outside_file(&self, relative: &str, contents: &str) -> PathBuf {
        let path = self.outside().join(relative);
        std::fs::write(&path, contents).expect("write");
        path
    }

    /// A FIFO at `relative` in the project, which no one ever writes.
    pub(crate) fn fifo(&self, relative: &str) -> &Self {
        let path = self.project().join(relative);
        let status = Command::new("mkfifo")
            .arg(&path)
            .status()
            .expect("mkfifo runs");
        assert!(status.success(), "mkfifo {}", path.display());
        self
    }

    /// A symlink at `relative` in the project to `target`.
    pub(crate) fn symlink(&self, relative: &str, target: &Path) -> &Self {
        std::os::unix::fs::symlink(target, self.project().join(relative)).expect("symlink");
        self
    }

    /// Adds arguments after the project path.
    pub(crate) fn arg(&mut self, arg: impl Into<String>) -> &mut Self {
        self.extra_args.push(arg.into());
        self
    }

    /// Sets a variable in the run's environment.
    pub(crate) fn env(&mut self, name: &str, value: &str) -> &mut Self {
        self.extra_env.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Audits the project in every format.
    pub(crate) fn audit(&self) -> Vec<Outcome> {
        FORMATS.iter().map(|format| self.run(format)).collect()
    }

    /// Audits the project in one format.
    pub(crate) fn run(&self, format: &str) -> Outcome {
        // Another build can be put to the test (an older one, to see the suite fail on it).
        let binary = std::env::var_os("LEASTPRIV_HOSTILE_BINARY")
            .unwrap_or_else(|| env!("CARGO_BIN_EXE_leastpriv").into());
        let mut command = Command::new("prlimit");
        command
            .arg(format!("--as={MEMORY_LIMIT}"))
            .arg("--")
            .arg(&binary)
            .args(["audit", "--color", "never", "--format", format])
            .arg("project")
            .args(&self.extra_args)
            .current_dir(self.root.path())
            // A canary in the environment: `/proc/self/environ` must never reach a report.
            .env("DEPLOY_TOKEN", CANARY)
            .env("LEASTPRIV_HOSTILE_CANARY", CANARY)
            // Thread arenas reserve address space: keep the limit about the input, not the core
            // count of the machine.
            .env("RAYON_NUM_THREADS", "2")
            .env("MALLOC_ARENA_MAX", "2")
            .envs(self.extra_env.iter().map(|(name, value)| (name, value)))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let started = Instant::now();
        let mut child = command
            .spawn()
            .expect("prlimit (util-linux) runs the binary");
        // Stdin stays open and silent, as in a CI runner: reading it would block.
        let _stdin = child.stdin.take();
        let stdout = drain(child.stdout.take().expect("stdout"));
        let stderr = drain(child.stderr.take().expect("stderr"));
        let pid = child.id();
        let mut peak_kib = 0;
        let status = loop {
            if let Some(status) = child.try_wait().expect("wait") {
                break Some(status);
            }
            peak_kib = peak_kib.max(high_water_mark_kib(pid));
            if started.elapsed() > TIME_LIMIT {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        let elapsed = started.elapsed();
        let stdout = stdout.join().expect("stdout read");
        let stderr = stderr.join().expect("stderr read");
        let outcome = Outcome {
            format: format.to_owned(),
            code: status.and_then(|status| status.code()),
            timed_out: status.is_none(),
            elapsed,
            peak_kib,
            stdout: String::from_utf8_lossy(&stdout).into_owned(),
            stderr: String::from_utf8_lossy(&stderr).into_owned(),
        };
        outcome.assert_sound();
        outcome
    }
}

fn drain(mut pipe: impl Read + Send + 'static) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        bytes
    })
}

/// `VmHWM` of a running process, in KiB (0 once it is gone).
fn high_water_mark_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("VmHWM:"))
                .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

/// One run of the binary.
#[derive(Debug)]
pub(crate) struct Outcome {
    pub(crate) format: String,
    /// The exit code; `None` when killed (by the deadline or a signal).
    pub(crate) code: Option<i32>,
    pub(crate) timed_out: bool,
    pub(crate) elapsed: Duration,
    /// Peak resident memory seen while it ran.
    pub(crate) peak_kib: u64,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

impl Outcome {
    /// What every run must satisfy: it ended by itself, with a report and an exit code (no abort,
    /// no panic), and no canary is in its output.
    fn assert_sound(&self) {
        assert!(
            !self.timed_out,
            "{}: no end within {TIME_LIMIT:?}",
            self.format
        );
        assert!(
            matches!(self.code, Some(0..=2)),
            "{}: exit {:?} (an abort or a signal); stderr: {}",
            self.format,
            self.code,
            self.stderr.chars().take(2000).collect::<String>()
        );
        assert!(
            !self.stderr.contains("panicked"),
            "{}: {}",
            self.format,
            self.stderr
        );
        for (stream, text) in [("stdout", &self.stdout), ("stderr", &self.stderr)] {
            assert!(
                !text.contains(CANARY),
                "{}: the canary secret is in {stream}",
                self.format
            );
        }
    }

    /// The JSON report (for the `json` run).
    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|error| panic!("{}: not JSON ({error}): {}", self.format, self.stdout))
    }
}

/// The `json` outcome of a set of runs.
pub(crate) fn json_of(outcomes: &[Outcome]) -> Value {
    outcomes
        .iter()
        .find(|outcome| outcome.format == "json")
        .expect("a json run")
        .json()
}

/// Asserts the exit code of every run.
pub(crate) fn assert_exit(outcomes: &[Outcome], code: i32) {
    for outcome in outcomes {
        assert_eq!(
            outcome.code,
            Some(code),
            "{}: {}",
            outcome.format,
            outcome.stdout.chars().take(3000).collect::<String>()
        );
    }
}

/// The rules of every finding in a JSON report.
pub(crate) fn rules(report: &Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|finding| finding["rule"].as_str().map(str::to_owned))
        .collect()
}

/// The messages of every error in a JSON report, with their paths.
pub(crate) fn errors(report: &Value) -> Vec<String> {
    report["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|error| {
            format!(
                "{}:{}: {}",
                error["path"].as_str().unwrap_or_default(),
                error["line"],
                error["message"].as_str().unwrap_or_default()
            )
        })
        .collect()
}

/// Asserts that some error contains every one of `needles`.
pub(crate) fn assert_error(report: &Value, needles: &[&str]) {
    let errors = errors(report);
    assert!(
        errors
            .iter()
            .any(|error| needles.iter().all(|needle| error.contains(needle))),
        "no error with {needles:?} in {errors:#?}"
    );
}

/// The hidden finding: a privileged service beside the hostile part, which must still be reported.
pub(crate) const PRIVILEGED_SERVICE: &str = "  sentinel:\n    image: x\n    privileged: true\n";

/// Asserts the hidden privileged finding (LP110) is reported.
pub(crate) fn assert_sentinel(report: &Value) {
    assert!(
        rules(report).iter().any(|rule| rule == "LP110"),
        "the privileged service's finding is lost: {:#?}",
        report["findings"]
    );
}

/// Asserts every run ended within `seconds` and `mib` of peak memory (printed for the record).
pub(crate) fn assert_bounded(outcomes: &[Outcome], seconds: u64, mib: u64) {
    for outcome in outcomes {
        eprintln!(
            "{}: {:.2} s, peak {} MiB",
            outcome.format,
            outcome.elapsed.as_secs_f64(),
            outcome.peak_kib / 1024
        );
        assert!(
            outcome.elapsed < Duration::from_secs(seconds),
            "{}: {:?}",
            outcome.format,
            outcome.elapsed
        );
        assert!(
            outcome.peak_kib / 1024 < mib,
            "{}: peak {} MiB",
            outcome.format,
            outcome.peak_kib / 1024
        );
    }
}
