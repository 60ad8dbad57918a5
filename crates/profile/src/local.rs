//! A local command as the workload: `leastpriv profile -- CMD [ARGS…]`.
//!
//! With eBPF, the child enters a mount namespace of its own (the recording's key; propagation is
//! left as it is, so the workload sees the same files) and an allow-all seccomp filter (root needs
//! no no-new-privileges for that, and none is set: it would change what setuid programs do), then
//! execs. Every thread and child it starts, across execve, stays in that namespace under that filter.
//! With the fallback, the child installs a user-notification filter instead and hands its listener
//! to leastpriv ([`crate::notify`]).
//!
//! The run ends when the command exits (or after `--exercise`/`--duration`, when leastpriv stops it).
//! leastpriv is the subreaper of the workload, so daemons it leaves behind are stopped too (SIGTERM,
//! then SIGKILL) rather than left running under a recording filter. If leastpriv is killed (SIGKILL),
//! its child dies with it (`PR_SET_PDEATHSIG`) and, with eBPF, a [`Watchdog`] stops every process
//! left in the workload's mount namespace. Ctrl-C reaches the workload as
//! it would without leastpriv; leastpriv waits for it to end and writes the profile of what it did.

use std::collections::BTreeSet;
use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use leastpriv_model::ProfileRun;

use crate::bpf::BpfRecorder;
use crate::capabilities::{self, Outcome};
use crate::sys::{self, ChildSetup, Waited};
use crate::watchdog::{self, Watchdog};
use crate::{
    filter, leaf_paths, notify, run_exercise, sleep_until, Arch, CapabilityMode, Options,
    ProfileError, Recorder, RecorderChoice, Recording,
};

/// How long a workload may take to end after SIGTERM before it is killed.
const STOP_GRACE: Duration = Duration::from_secs(5);

/// Records `argv` run as a local process tree.
pub fn profile(argv: &[String], options: &Options) -> Result<Recording, ProfileError> {
    let arch = Arch::native().ok_or_else(|| {
        ProfileError::Usage(format!(
            "no syscall table for {}: leastpriv profiles x86_64 and aarch64",
            std::env::consts::ARCH
        ))
    })?;
    let (program, args) = prepare(argv)?;
    let started = Instant::now();
    sys::catch_signals();
    sys::become_subreaper();
    let mut notes = Vec::new();
    let observes = options.capabilities != CapabilityMode::Skip;
    let (observation, exit_code, recorder) = match options.recorder {
        RecorderChoice::SeccompNotify => {
            let (observation, code) = notify::record(&program, &args, options)?;
            (observation, code, Recorder::SeccompNotify)
        }
        RecorderChoice::Ebpf => {
            let recorder = BpfRecorder::load(observes)?;
            let (observation, code) = record_bpf(recorder, &program, &args, options)?;
            (observation, code, Recorder::Ebpf)
        }
        RecorderChoice::Auto => match BpfRecorder::load(observes) {
            Ok(recorder) => {
                let (observation, code) = record_bpf(recorder, &program, &args, options)?;
                (observation, code, Recorder::Ebpf)
            }
            Err(error) => {
                notes.push(format!(
                    "{error}; recorded with the seccomp-notify fallback instead"
                ));
                let (observation, code) = notify::record(&program, &args, options)?;
                (observation, code, Recorder::SeccompNotify)
            }
        },
    };
    let written = leaf_paths(
        observation
            .written
            .iter()
            .map(|path| normalize(Path::new(path)))
            .filter(|path| !is_pseudo_file(path)),
    );
    let mut not_observed: Vec<String> = Vec::new();
    if recorder == Recorder::SeccompNotify {
        not_observed.extend(notify::NOT_OBSERVED.iter().map(|what| (*what).to_owned()));
    }
    let recorded = Outcome {
        exercise_passed: true,
        exit_code,
    };
    let learned = capabilities::learn(
        options.capabilities,
        observation.checks.as_ref(),
        Some(held_capabilities()),
        recorded,
        !sys::interrupted(),
        |removed| trial(&program, &args, options, removed),
    )?;
    notes.extend(learned.notes);
    if learned.needed.is_none() {
        not_observed.push("capabilities".to_owned());
    }
    let capabilities = learned.needed.unwrap_or(0);
    let run = ProfileRun {
        command: argv.to_vec(),
        image: None,
        service: None,
        duration_ms: started.elapsed().as_millis() as u64,
        arch: arch.name().to_owned(),
        recorder: recorder.name().to_owned(),
        runs: 1,
        not_observed,
    };
    let observation = crate::Observation {
        capabilities,
        ..observation
    };
    let mut profile = observation.into_profile(arch, run);
    profile.written_paths = written;
    if recorder == Recorder::SeccompNotify {
        notes.push(
            "the seccomp-notify recorder cannot see written paths or ports: they are listed in \
             run.not_observed, not as needing nothing"
                .to_owned(),
        );
    }
    Ok(Recording {
        profile,
        exit_code,
        notes,
    })
}

/// The capabilities a child of ours starts its program with: root gets the bounding set at exec,
/// another user only the ambient set (file capabilities aside).
fn held_capabilities() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = if sys::euid() == 0 {
        "CapBnd:"
    } else {
        "CapAmb:"
    };
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|hex| u64::from_str_radix(hex.trim(), 16).ok())
        .unwrap_or(0)
}

/// Runs the command again without the capabilities in `removed`, unrecorded.
fn trial(
    program: &CString,
    args: &[CString],
    options: &Options,
    removed: u64,
) -> Result<Outcome, ProfileError> {
    let mut child = sys::spawn(
        program,
        args,
        ChildSetup::DropCapabilities { mask: removed },
    )
    .map_err(|error| ProfileError::Workload(format!("cannot start a trial: {error}")))?;
    if let Err(error) = child.go() {
        let _ = sys::wait_child(child.pid, true);
        return Err(ProfileError::Workload(format!(
            "cannot run a trial: {error}"
        )));
    }
    match supervise(child.pid, options, None) {
        Ok(exit_code) => Ok(Outcome {
            exercise_passed: true,
            exit_code,
        }),
        Err(ProfileError::Exercise { .. }) => Ok(Outcome {
            exercise_passed: false,
            exit_code: None,
        }),
        Err(error) => Err(error),
    }
}

/// `/a/./b/../c` → `/a/c`, without touching the filesystem (the file may be gone).
pub(crate) fn normalize(path: &Path) -> String {
    let mut parts: Vec<&std::ffi::OsStr> = Vec::new();
    for component in path.components() {
        match component {
            std::path::Component::Normal(part) => parts.push(part),
            std::path::Component::ParentDir => {
                parts.pop();
            }
            _ => {}
        }
    }
    let mut out = String::new();
    for part in parts {
        out.push('/');
        out.push_str(&part.to_string_lossy());
    }
    if out.is_empty() {
        out.push('/');
    }
    out
}

/// Paths a workload writes that are not files of a filesystem (`/dev/null`, `/proc/self/…`).
fn is_pseudo_file(path: &str) -> bool {
    ["/dev/", "/proc/", "/sys/"]
        .iter()
        .any(|prefix| path.starts_with(prefix))
}

/// Resolves the program on PATH and turns the arguments into C strings, before any fork.
pub(crate) fn prepare(argv: &[String]) -> Result<(CString, Vec<CString>), ProfileError> {
    let first = argv
        .first()
        .ok_or_else(|| ProfileError::Usage("no command after `--`".into()))?;
    let path = find_program(first).ok_or_else(|| {
        ProfileError::Usage(format!("`{first}`: no such program (on PATH or as a path)"))
    })?;
    let program = CString::new(path.as_os_str().as_bytes())
        .map_err(|_| ProfileError::Usage("the program's path contains a NUL byte".into()))?;
    let args = argv
        .iter()
        .map(|arg| {
            CString::new(arg.as_bytes())
                .map_err(|_| ProfileError::Usage("an argument contains a NUL byte".into()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok((program, args))
}

/// `name` if it has a slash, else the first executable `PATH` entry of that name.
fn find_program(name: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let executable = |path: &Path| {
        path.metadata()
            .is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
    };
    if name.contains('/') {
        let path = PathBuf::from(name);
        return executable(&path).then_some(path);
    }
    let paths = std::env::var_os("PATH").unwrap_or_else(|| "/usr/local/bin:/usr/bin:/bin".into());
    std::env::split_paths(&paths)
        .map(|dir| dir.join(name))
        .find(|path| executable(path))
}

/// The eBPF recording of a local command.
fn record_bpf(
    mut recorder: BpfRecorder,
    program: &CString,
    args: &[CString],
    options: &Options,
) -> Result<(crate::Observation, Option<i32>), ProfileError> {
    let allow_all = filter::allow_all();
    let mut child = sys::spawn(program, args, ChildSetup::Namespace { filter: &allow_all })
        .map_err(|error| ProfileError::Workload(format!("cannot start the command: {error}")))?;
    let mntns = namespace_of(child.pid).inspect_err(|_| {
        sys::kill(child.pid, libc::SIGKILL);
        let _ = sys::wait_child(child.pid, true);
    })?;
    recorder.enrol_namespace(mntns)?;
    // Stops what the workload forked if leastpriv is killed (its child dies with it anyway).
    let watchdog = Watchdog::start(&[watchdog::stop_namespace(mntns)])?;
    if let Err(error) = child.go() {
        let _ = sys::wait_child(child.pid, true);
        return Err(ProfileError::Workload(format!(
            "cannot run {}: {error}",
            program.to_string_lossy()
        )));
    }
    let exit_code = supervise(child.pid, options, Some(mntns))?;
    watchdog.disarm();
    let observation = recorder.observe(&BTreeSet::from([mntns]), None)?;
    Ok((observation, exit_code))
}

/// The mount namespace of `pid`, once the child has entered its own.
fn namespace_of(pid: libc::pid_t) -> Result<u32, ProfileError> {
    use std::os::unix::fs::MetadataExt;
    let own = std::fs::metadata("/proc/self/ns/mnt").map(|meta| meta.ino());
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let theirs = std::fs::metadata(format!("/proc/{pid}/ns/mnt")).map(|meta| meta.ino());
        match (&own, theirs) {
            (Ok(own), Ok(theirs)) if *own != theirs => {
                return u32::try_from(theirs)
                    .map_err(|_| ProfileError::Bpf("mount namespace inode out of range".into()))
            }
            _ if Instant::now() > deadline => {
                return Err(ProfileError::Workload(
                    "the command did not enter its own mount namespace (is leastpriv root?)".into(),
                ))
            }
            (_, Err(error)) if error.kind() == std::io::ErrorKind::NotFound => {
                return Err(ProfileError::Workload(
                    "the command could not set up its recording (unshare or seccomp refused)"
                        .into(),
                ))
            }
            _ => std::thread::sleep(Duration::from_millis(2)),
        }
    }
}

/// Waits for the workload: until it exits, or runs the exercise / waits the duration and then stops
/// it. Returns its exit code. Stops every process left in the workload afterwards.
pub(crate) fn supervise(
    pid: libc::pid_t,
    options: &Options,
    mntns: Option<u32>,
) -> Result<Option<i32>, ProfileError> {
    let mut exit_code = None;
    let mut finished = false;
    let check = |exit_code: &mut Option<i32>| -> bool {
        match sys::wait_child(pid, false) {
            Ok(Waited::Exited(code)) => {
                *exit_code = Some(code);
                true
            }
            Ok(Waited::Signalled(signal)) => {
                *exit_code = Some(128 + signal);
                true
            }
            Ok(Waited::Running) => false,
            Err(_) => true,
        }
    };
    let stop_requested = if options.exercise.is_some() || options.duration.is_some() {
        let mut exercise_result = Ok(());
        if let Some(command) = &options.exercise {
            exercise_result = run_exercise(command, options.repeat);
        }
        let signal = options
            .duration
            .and_then(|duration| sleep_until(duration, || check(&mut exit_code)));
        finished = check(&mut exit_code) || exit_code.is_some();
        if let Err(error) = exercise_result {
            stop_workload(pid, &mut finished, mntns);
            return Err(error);
        }
        signal.is_some() || !finished
    } else {
        false
    };
    if stop_requested {
        stop_workload(pid, &mut finished, mntns);
        if exit_code.is_none() {
            check(&mut exit_code);
        }
    }
    while !finished {
        // Polled rather than blocking, so a signal is seen whichever thread it was delivered to.
        std::thread::sleep(Duration::from_millis(10));
        match sys::wait_child(pid, false) {
            Ok(Waited::Exited(code)) => {
                exit_code = Some(code);
                finished = true;
            }
            Ok(Waited::Signalled(signal)) => {
                exit_code = Some(128 + signal);
                finished = true;
            }
            Ok(Waited::Running) => {
                // A signal: SIGINT and SIGQUIT reached the workload from the terminal too; pass
                // on the others and go on waiting for it to end.
                if let Some(signal) = sys::take_signal() {
                    if signal != libc::SIGINT && signal != libc::SIGQUIT {
                        sys::kill(pid, signal);
                    }
                }
            }
            Err(_) => finished = true,
        }
    }
    stop_leftovers(mntns);
    Ok(exit_code)
}

/// SIGTERM to the workload, SIGKILL after the grace period.
fn stop_workload(pid: libc::pid_t, finished: &mut bool, mntns: Option<u32>) {
    if *finished {
        return;
    }
    sys::kill(pid, libc::SIGTERM);
    let deadline = Instant::now() + STOP_GRACE;
    while Instant::now() < deadline {
        if !matches!(sys::wait_child(pid, false), Ok(Waited::Running)) {
            *finished = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    if !*finished {
        sys::kill(pid, libc::SIGKILL);
        let _ = sys::wait_child(pid, true);
        *finished = true;
    }
    stop_leftovers(mntns);
}

/// Stops what the workload left running: our re-parented children (we are the subreaper) and,
/// with eBPF, every process still in the workload's mount namespace.
fn stop_leftovers(mntns: Option<u32>) {
    let deadline = Instant::now() + STOP_GRACE;
    let mut signal = libc::SIGTERM;
    loop {
        while sys::reap_any() {}
        let left = leftovers(mntns);
        if left.is_empty() {
            return;
        }
        if Instant::now() > deadline {
            signal = libc::SIGKILL;
        }
        for pid in &left {
            sys::kill(*pid, signal);
        }
        std::thread::sleep(Duration::from_millis(50));
        if signal == libc::SIGKILL && Instant::now() > deadline + STOP_GRACE {
            return;
        }
    }
}

/// Processes that are our children (but the watchdog) or live in `mntns`.
fn leftovers(mntns: Option<u32>) -> Vec<libc::pid_t> {
    use std::os::unix::fs::MetadataExt;
    let own = std::process::id().to_string();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|entry| entry.file_name().to_str()?.parse::<libc::pid_t>().ok())
        .filter(|pid| {
            let stat = read_stat(*pid);
            // The fields after the command's closing parenthesis: state, ppid, …
            let after = stat.rsplit_once(") ").map_or("", |(_, rest)| rest);
            let mut fields = after.split(' ');
            let state = fields.next().unwrap_or("");
            if state == "Z" {
                return false;
            }
            let child = fields.next() == Some(own.as_str()) && !watchdog::is_watchdog(*pid);
            child
                || mntns.is_some_and(|mntns| {
                    std::fs::metadata(format!("/proc/{pid}/ns/mnt"))
                        .is_ok_and(|meta| meta.ino() == u64::from(mntns))
                })
        })
        .collect()
}

/// `/proc/<pid>/stat` in one read (it is a few hundred bytes; `read_to_string` would read it in
/// small steps, which adds up over every process of a busy machine at each run's end).
fn read_stat(pid: libc::pid_t) -> String {
    use std::io::Read;
    let mut buffer = [0u8; 1024];
    let length = std::fs::File::open(format!("/proc/{pid}/stat"))
        .and_then(|mut file| file.read(&mut buffer))
        .unwrap_or(0);
    String::from_utf8_lossy(&buffer[..length]).into_owned()
}

/// `--enforce SECCOMP.json -- CMD`: runs `argv` under a names-only seccomp profile in Docker's
/// format (as `profile` writes them), so a profile can be tried on a local command without Docker.
/// Returns the command's exit code.
pub fn enforce(seccomp_text: &str, argv: &[String]) -> Result<i32, ProfileError> {
    let arch = Arch::native().ok_or_else(|| {
        ProfileError::Usage(format!("no syscall table for {}", std::env::consts::ARCH))
    })?;
    let profile = crate::seccomp::parse(seccomp_text)?;
    let native = arch.seccomp_architectures()[0];
    if !profile.architectures.is_empty() && !profile.architectures.iter().any(|name| name == native)
    {
        return Err(ProfileError::Usage(format!(
            "the seccomp profile does not cover this machine's architecture ({native})"
        )));
    }
    let numbers: std::collections::HashMap<&str, u32> = (0..1024)
        .filter_map(|nr| arch.syscall_name(nr).map(|name| (name, nr)))
        .collect();
    let mut rules = Vec::new();
    let mut seen = BTreeSet::new();
    for rule in &profile.syscalls {
        let action = crate::seccomp::action_value(&rule.action, rule.errno_ret)?;
        for name in &rule.names {
            // The first rule that names a syscall decides, as in libseccomp for equal priority.
            if let Some(&nr) = numbers.get(name.as_str()) {
                if seen.insert(nr) {
                    rules.push((nr, action));
                }
            }
        }
    }
    let default = crate::seccomp::action_value(&profile.default_action, profile.default_errno_ret)?;
    let program = filter::build(&rules, default, default);
    let (program_path, args) = prepare(argv)?;
    let mut child = sys::spawn(
        &program_path,
        &args,
        ChildSetup::Enforce {
            filter: &program,
            no_new_privs: sys::euid() != 0,
        },
    )
    .map_err(|error| ProfileError::Workload(format!("cannot start the command: {error}")))?;
    sys::catch_signals();
    if let Err(error) = child.go() {
        let _ = sys::wait_child(child.pid, true);
        return Err(ProfileError::Workload(format!(
            "cannot run {} under the profile: {error}",
            program_path.to_string_lossy()
        )));
    }
    loop {
        match sys::wait_child(child.pid, true) {
            Ok(Waited::Exited(code)) => return Ok(code),
            Ok(Waited::Signalled(signal)) => return Ok(128 + signal),
            Ok(Waited::Running) => {
                if let Some(signal) = sys::take_signal() {
                    if signal != libc::SIGINT && signal != libc::SIGQUIT {
                        sys::kill(child.pid, signal);
                    }
                }
            }
            Err(error) => return Err(ProfileError::Workload(error.to_string())),
        }
    }
}
