//! A container as the workload: `leastpriv profile -- docker run [FLAGS…] IMAGE [CMD…]`.
//!
//! The user's line is split as `verify` splits it (the docker_run front-end's flag table) and run
//! with the user's own CLI, so that the container gets exactly the privileges it will get in
//! production, with these changes:
//! - `docker create` then `docker start`, so that the recorder knows the container's id before
//!   anything of it runs: its tasks are recognised by their cgroup, named after the id;
//! - `--security-opt seccomp=…` is replaced by an allow-all profile (`seccomp=unconfined` too):
//!   runc then loads a filter that blocks nothing, and the recording starts there;
//! - `-d`, `-i`, `-t`, `-a`, `--rm`, `--name`, `--restart`, `--cidfile`, `--detach-keys`,
//!   `--sig-proxy` are dropped and `--name <unique>` added; published ports stay, for the exercise.
//!
//! The run: start, then `--exercise` (a host command, `--repeat` times) and/or `--duration`, or wait
//! for the container to exit by itself; then `docker diff` (the engine's record of the container
//! layer's changes), `docker stop` (recorded too: the workload must be able to shut down under its
//! profile), and `docker rm`. A [`Watchdog`] removes the container if leastpriv dies first.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use leastpriv_model::{ProfileRun, ALL_CAPABILITIES, DOCKER_DEFAULT_CAPABILITIES};
use leastpriv_verify::{engine, RunCommand, RUN_CONTROL_FLAGS};

use crate::bpf::BpfRecorder;
use crate::capabilities::{self, Outcome};
use crate::watchdog::Watchdog;
use crate::{
    leaf_paths, run_exercise, seccomp, sleep_until, sys, unique_name, Arch, Observation, Options,
    ProfileError, Recorder, RecorderChoice, Recording,
};

/// How long one CLI call may take (create, start, diff, stop, rm).
const CLI_TIMEOUT: Duration = Duration::from_secs(120);
/// How long `docker stop` waits before it kills.
const STOP_SECONDS: u32 = 10;

/// Records the container `argv` (`docker run …`) runs.
pub fn profile(argv: &[String], options: &Options) -> Result<Recording, ProfileError> {
    sys::catch_signals();
    let command = RunCommand::parse(argv)?;
    let arch = native_arch()?;
    let recorder = load_recorder(options)?;
    let name = unique_name("leastpriv-profile");
    let seccomp_file = TempFile::allow_all(&name, arch)?;
    let docker = |words: &[&str]| -> Vec<String> {
        let mut argv = vec![command.program.clone()];
        argv.extend(command.global.iter().cloned());
        argv.extend(words.iter().map(|word| (*word).to_owned()));
        argv
    };
    let watchdog = Watchdog::start(&[
        remove_labelled(&command, &name),
        vec!["rm".into(), "-f".into(), seccomp_file.path_string()],
    ])?;
    let create = create_argv(&command, &name, &seccomp_file.path_string(), None);
    let created = cli(&create, CLI_TIMEOUT)?;
    if created.code != Some(0) {
        return Err(ProfileError::Engine(format!(
            "`docker create` failed: {}",
            engine::first_line(&created.stderr)
        )));
    }
    let id = created.stdout.trim().to_owned();
    let started = Instant::now();
    let engine = Engine {
        prefix: docker(&[]),
    };
    let recorded = record_with(&engine, recorder, &id, options, || {
        let started = engine.run(&["start", &id], CLI_TIMEOUT)?;
        if started.code != Some(0) {
            return Err(ProfileError::Workload(format!(
                "the container did not start: {}",
                engine::first_line(&started.stderr)
            )));
        }
        Ok(())
    });
    engine.remove(&name);
    let learned = recorded.as_ref().ok().map(|recorded| {
        learn_capabilities(&command, &engine, &name, &seccomp_file, recorded, options)
    });
    drop(seccomp_file);
    watchdog.disarm();
    let mut recorded = recorded?;
    let mut not_observed = Vec::new();
    let learned = learned.transpose()?.unwrap_or_default();
    match learned.needed {
        Some(needed) => recorded.observation.capabilities = needed,
        None => not_observed.push("capabilities".to_owned()),
    }
    let run = ProfileRun {
        command: argv.to_vec(),
        image: Some(command.image.clone()),
        service: None,
        duration_ms: started.elapsed().as_millis() as u64,
        arch: arch.name().to_owned(),
        recorder: Recorder::Ebpf.name().to_owned(),
        runs: 1,
        not_observed,
    };
    let mut recording = into_recording(recorded, arch, run);
    recording.notes.extend(learned.notes);
    Ok(recording)
}

/// `sh -c` that removes every container of this recording (the run and its trials).
fn remove_labelled(command: &RunCommand, name: &str) -> Vec<String> {
    let mut docker = vec![command.program.clone()];
    docker.extend(command.global.iter().cloned());
    let docker = docker
        .iter()
        .map(|word| leastpriv_verify::shell_quote(word))
        .collect::<Vec<_>>()
        .join(" ");
    vec![
        "sh".into(),
        "-c".into(),
        format!("{docker} ps -aq --filter label={LABEL}={name} | xargs -r {docker} rm -fv"),
    ]
}

/// The capabilities of a `docker run` recording: observed, and confirmed or found by trials where
/// `--capabilities` asks.
fn learn_capabilities(
    command: &RunCommand,
    engine: &Engine,
    name: &str,
    seccomp_file: &TempFile,
    recorded: &ContainerRun,
    options: &Options,
) -> Result<capabilities::Learned, ProfileError> {
    // The container's bounding set as read while it ran, else (it exited before it could be read)
    // as its flags configure it; a privileged container cannot be given less for a trial.
    let held = if command.is_set("privileged") {
        None
    } else {
        recorded.held.or_else(|| configured_capabilities(command))
    };
    let outcome = Outcome {
        exercise_passed: true,
        exit_code: recorded.exit_code_if_exited,
    };
    let mut index = 0;
    capabilities::learn(
        options.capabilities,
        recorded.observation.checks.as_ref(),
        held,
        outcome,
        !sys::interrupted(),
        |removed| {
            index += 1;
            let trial_name = format!("{name}-trial-{index}");
            let create = create_argv(
                command,
                &trial_name,
                &seccomp_file.path_string(),
                Some(held.unwrap_or(0) & !removed),
            );
            let result = trial(engine, &create, &trial_name, options);
            engine.remove(&trial_name);
            result
        },
    )
}

/// The capabilities the flags give the container: Docker's default set, less `--cap-drop`, plus
/// `--cap-add` (`ALL` in either); `None` for `--privileged`.
fn configured_capabilities(command: &RunCommand) -> Option<u64> {
    if command.is_set("privileged") {
        return None;
    }
    let bit = |name: &str| {
        let name = name.trim().to_ascii_uppercase();
        let name = name.trim_start_matches("CAP_");
        ALL_CAPABILITIES.iter().position(|known| *known == name)
    };
    let all = (1u64 << ALL_CAPABILITIES.len()) - 1;
    let mut mask = DOCKER_DEFAULT_CAPABILITIES
        .iter()
        .filter_map(|name| bit(name))
        .fold(0, |mask, index| mask | 1 << index);
    let names = |flag| command.values(flag).flat_map(|value| value.split(','));
    for name in names("cap-drop") {
        if name.trim().eq_ignore_ascii_case("ALL") {
            mask = 0;
        } else if let Some(index) = bit(name) {
            mask &= !(1 << index);
        }
    }
    for name in names("cap-add") {
        if name.trim().eq_ignore_ascii_case("ALL") {
            mask = all;
        } else if let Some(index) = bit(name) {
            mask |= 1 << index;
        }
    }
    Some(mask)
}

/// Creates, starts and exercises one trial container; how it behaved.
fn trial(
    engine: &Engine,
    create: &[String],
    name: &str,
    options: &Options,
) -> Result<Outcome, ProfileError> {
    let created = cli(create, CLI_TIMEOUT)?;
    if created.code != Some(0) {
        return Err(ProfileError::Engine(format!(
            "`docker create` of a capability trial failed: {}",
            engine::first_line(&created.stderr)
        )));
    }
    let started = engine.run(&["start", name], CLI_TIMEOUT)?;
    if started.code != Some(0) {
        return Ok(Outcome {
            exercise_passed: false,
            exit_code: None,
        });
    }
    let exercise_passed = run_phase(engine, name, options).is_ok();
    let exit_code = engine.exit_code_if_exited(name);
    // No graceful stop: a trial is not recorded, and the caller removes it with `rm -f` at once.
    Ok(Outcome {
        exercise_passed,
        exit_code,
    })
}

/// The label on every container a recording creates (the watchdog removes by it).
const LABEL: &str = "leastpriv.profile";

/// The argv of `docker create` for the recorded run.
/// With `capabilities`, the container gets exactly that mask (`--cap-drop=ALL --cap-add=…`): a trial.
pub(crate) fn create_argv(
    command: &RunCommand,
    name: &str,
    seccomp_file: &str,
    capabilities: Option<u64>,
) -> Vec<String> {
    let mut argv = vec![command.program.clone()];
    argv.extend(command.global.iter().cloned());
    argv.push("create".to_owned());
    for flag in &command.flags {
        if RUN_CONTROL_FLAGS.contains(&flag.name.as_str()) || is_seccomp_option(flag) {
            continue;
        }
        if capabilities.is_some() && matches!(flag.name.as_str(), "cap-add" | "cap-drop") {
            continue;
        }
        match &flag.value {
            Some(value) => argv.push(format!("--{}={value}", flag.name)),
            None => argv.push(format!("--{}", flag.name)),
        }
    }
    if let Some(mask) = capabilities {
        argv.push("--cap-drop=ALL".to_owned());
        for bit in capabilities::bits(mask) {
            if let Some(cap) = capabilities::name(bit) {
                argv.push(format!("--cap-add={cap}"));
            }
        }
    }
    argv.push(format!("--security-opt=seccomp={seccomp_file}"));
    argv.push(format!("--name={name}"));
    let base = name.split("-trial-").next().unwrap_or(name);
    argv.push(format!("--label={LABEL}={base}"));
    argv.push(command.image.clone());
    argv.extend(command.command.iter().cloned());
    argv
}

/// `--security-opt seccomp=…` (or the old `seccomp:…`).
fn is_seccomp_option(flag: &leastpriv_verify::Flag) -> bool {
    flag.name == "security-opt"
        && flag
            .value
            .as_deref()
            .is_some_and(|value| value.starts_with("seccomp=") || value.starts_with("seccomp:"))
}

/// The engine through the user's CLI (program and global options fixed).
pub(crate) struct Engine {
    /// `docker` and the user's global options.
    pub(crate) prefix: Vec<String>,
}

impl Engine {
    fn run(&self, words: &[&str], timeout: Duration) -> Result<engine::Output, ProfileError> {
        let mut argv = self.prefix.clone();
        argv.extend(words.iter().map(|word| (*word).to_owned()));
        cli(&argv, timeout)
    }

    /// Removes the container and its anonymous volumes, quietly.
    pub(crate) fn remove(&self, name: &str) {
        let _ = self.run(&["rm", "--force", "--volumes", name], CLI_TIMEOUT);
    }

    /// The exit code of a container that has exited; `None` while it runs.
    fn exit_code_if_exited(&self, id: &str) -> Option<i32> {
        let output = self
            .run(
                &[
                    "inspect",
                    "--format",
                    "{{.State.Running}} {{.State.ExitCode}}",
                    id,
                ],
                CLI_TIMEOUT,
            )
            .ok()?;
        let (running, code) = output.stdout.trim().split_once(' ')?;
        (running == "false").then(|| code.parse().ok()).flatten()
    }

    fn running(&self, id: &str) -> bool {
        self.run(
            &["inspect", "--format", "{{.State.Running}}", id],
            CLI_TIMEOUT,
        )
        .is_ok_and(|output| output.stdout.trim() == "true")
    }
}

/// What a recorded container run gave.
pub(crate) struct ContainerRun {
    pub(crate) observation: Observation,
    /// `docker diff`'s paths.
    pub(crate) diff: Vec<String>,
    /// Where volumes, bind mounts and tmpfs are mounted in the container (their writes are not the
    /// root filesystem's).
    pub(crate) mounts: Vec<String>,
    /// The exit code, when the container had exited by itself before it was stopped.
    pub(crate) exit_code_if_exited: Option<i32>,
    /// The container's bounding set (what it could use), when it could be read.
    pub(crate) held: Option<u64>,
}

/// Starts the created container `id` with `start`, exercises it, diffs and stops it, and reads the
/// recorder.
pub(crate) fn record_with(
    engine: &Engine,
    mut recorder: BpfRecorder,
    id: &str,
    options: &Options,
    start: impl FnOnce() -> Result<(), ProfileError>,
) -> Result<ContainerRun, ProfileError> {
    recorder.watch_container(id)?;
    sys::catch_signals();
    start()?;
    let held = engine
        .run(&["inspect", "--format", "{{.State.Pid}}", id], CLI_TIMEOUT)
        .ok()
        .and_then(|output| output.stdout.trim().parse::<u32>().ok())
        .filter(|pid| *pid > 0)
        .and_then(capabilities::bounding_of);
    let phase = run_phase(engine, id, options);
    let exit_code_if_exited = engine.exit_code_if_exited(id);
    let diff = engine.run(&["diff", id], CLI_TIMEOUT)?;
    let mounts = engine
        .run(
            &[
                "inspect",
                "--format",
                "{{range .Mounts}}{{println .Destination}}{{end}}{{range $path, $_ := .HostConfig.Tmpfs}}{{println $path}}{{end}}",
                id,
            ],
            CLI_TIMEOUT,
        )
        .map(|output| {
            output
                .stdout
                .lines()
                .map(str::trim)
                .filter(|line| line.starts_with('/') && *line != "/")
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let _ = engine.run(
        &["stop", "--time", &STOP_SECONDS.to_string(), id],
        CLI_TIMEOUT,
    );
    phase?;
    let namespaces = recorder.namespaces()?;
    if namespaces.is_empty() {
        return Err(ProfileError::Workload(
            "the recorder saw no task of the container under a seccomp filter: did it start?"
                .into(),
        ));
    }
    Ok(ContainerRun {
        observation: recorder.observe(&namespaces, held)?,
        diff: parse_diff(&diff.stdout),
        mounts,
        exit_code_if_exited,
        held,
    })
}

/// The exercise and/or the duration, or until the container exits by itself.
fn run_phase(engine: &Engine, id: &str, options: &Options) -> Result<(), ProfileError> {
    if let Some(command) = &options.exercise {
        run_exercise(command, options.repeat)?;
    }
    match options.duration {
        Some(duration) => {
            sleep_until(duration, || false);
        }
        None if options.exercise.is_none() => {
            sleep_until(Duration::from_secs(86_400 * 365), || !engine.running(id));
        }
        None => {}
    }
    Ok(())
}

/// The paths of `docker diff` output (`A /path`, `C /path`, `D /path`).
pub(crate) fn parse_diff(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|line| {
            let (kind, path) = line.split_once(' ')?;
            matches!(kind, "A" | "C" | "D").then(|| path.to_owned())
        })
        .collect()
}

/// The profile of a container run: written paths from `docker diff`, and from the recorder the
/// absolute paths that are not under a mount (created and deleted again, `docker diff` misses them).
pub(crate) fn into_recording(recorded: ContainerRun, arch: Arch, run: ProfileRun) -> Recording {
    let ContainerRun {
        observation,
        diff,
        mounts,
        exit_code_if_exited,
        ..
    } = recorded;
    let under = |path: &str, mount: &str| {
        path == mount || path.starts_with(&format!("{}/", mount.trim_end_matches('/')))
    };
    let engine_managed = [
        "/proc",
        "/sys",
        "/dev",
        "/etc/hosts",
        "/etc/hostname",
        "/etc/resolv.conf",
    ];
    let written_on_root: Vec<String> = observation
        .written
        .iter()
        .map(|path| crate::local::normalize(std::path::Path::new(path)))
        .filter(|path| {
            !engine_managed.iter().any(|mount| under(path, mount))
                && !mounts.iter().any(|mount| under(path, mount))
        })
        .collect();
    // The engine creates mount points (and their parents) in the container layer: they are not
    // the workload's writes.
    let is_mount_point = |path: &String| {
        mounts
            .iter()
            .any(|mount| under(path, mount) || under(mount, path))
    };
    let diff: Vec<String> = diff
        .into_iter()
        .filter(|path| !is_mount_point(path))
        .collect();
    let mut profile = observation.into_profile(arch, run);
    profile.written_paths = leaf_paths(diff.into_iter().chain(written_on_root));
    Recording {
        profile,
        exit_code: exit_code_if_exited,
        notes: Vec::new(),
    }
}

/// The eBPF recorder, which container mode needs.
pub(crate) fn load_recorder(options: &Options) -> Result<BpfRecorder, ProfileError> {
    if options.recorder == RecorderChoice::SeccompNotify {
        return Err(ProfileError::Usage(
            "a container is recorded with eBPF only (Docker cannot hand a seccomp listener to \
             leastpriv); run leastpriv as root on a kernel with BTF and the BPF LSM"
                .into(),
        ));
    }
    BpfRecorder::load(options.capabilities != crate::CapabilityMode::Skip).map_err(|error| {
        ProfileError::Bpf(format!(
            "{}; a container is recorded with eBPF only (the seccomp-notify fallback records a \
             local command)",
            error
                .to_string()
                .trim_start_matches("the eBPF recorder cannot run: ")
        ))
    })
}

pub(crate) fn native_arch() -> Result<Arch, ProfileError> {
    Arch::native().ok_or_else(|| {
        ProfileError::Usage(format!(
            "no syscall table for {}: leastpriv profiles x86_64 and aarch64",
            std::env::consts::ARCH
        ))
    })
}

pub(crate) fn cli(argv: &[String], timeout: Duration) -> Result<engine::Output, ProfileError> {
    engine::run(argv, timeout).map_err(ProfileError::from)
}

/// A file removed when dropped.
pub(crate) struct TempFile {
    path: PathBuf,
}

impl TempFile {
    /// The allow-all seccomp profile for a recording named `name`.
    pub(crate) fn allow_all(name: &str, arch: Arch) -> Result<Self, ProfileError> {
        let text = serde_json::to_string_pretty(&seccomp::allow_all(arch))
            .map_err(|error| ProfileError::Workload(error.to_string()))?;
        Self::write(&format!("{name}-allow-all.json"), &text)
    }

    /// Writes `text` to `name` in the temporary directory, readable by the owner only.
    pub(crate) fn write(name: &str, text: &str) -> Result<Self, ProfileError> {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let path = std::env::temp_dir().join(name);
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .and_then(|mut file| file.write_all(text.as_bytes()).map(|()| file))
            .map_err(|error| {
                ProfileError::Workload(format!("cannot write {}: {error}", path.display()))
            })?;
        let _ = file.flush();
        Ok(Self { path })
    }

    pub(crate) fn path_string(&self) -> String {
        self.path.to_string_lossy().into_owned()
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(line: &str) -> Vec<String> {
        line.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn rewrites_the_run_into_a_create() {
        let command = RunCommand::parse(&argv(
            "docker run -d --rm -it --name web -p 8080:80 --cap-drop ALL --security-opt \
             seccomp=/etc/tight.json --security-opt no-new-privileges app:1 serve --port 80",
        ))
        .expect("parses");
        assert_eq!(
            create_argv(&command, "lp-1", "/tmp/allow.json", None),
            argv(
                "docker create --publish=8080:80 --cap-drop=ALL \
                 --security-opt=no-new-privileges --security-opt=seccomp=/tmp/allow.json \
                 --name=lp-1 --label=leastpriv.profile=lp-1 app:1 serve --port 80"
            )
        );
        let trial = create_argv(&command, "lp-1-trial-2", "/tmp/a.json", Some(1 | 1 << 10));
        assert_eq!(
            trial[1..7],
            argv(
                "create --publish=8080:80 --security-opt=no-new-privileges --cap-drop=ALL \
                 --cap-add=CHOWN --cap-add=NET_BIND_SERVICE"
            )[..]
        );
        assert!(trial.contains(&"--label=leastpriv.profile=lp-1".to_owned()));
    }

    #[test]
    fn mount_points_and_mounted_writes_are_not_written_paths() {
        let recorded = ContainerRun {
            observation: Observation {
                written: [
                    "/data/db/file".to_owned(),
                    "/tmp/made-and-deleted".to_owned(),
                    "/dev/null".to_owned(),
                ]
                .into(),
                ..Observation::default()
            },
            diff: [
                "/run",
                "/run/secrets",
                "/run/secrets/db_password",
                "/var/cache/app/state",
            ]
            .map(str::to_owned)
            .to_vec(),
            mounts: vec!["/run/secrets/db_password".into(), "/data".into()],
            exit_code_if_exited: None,
            held: None,
        };
        let recording = into_recording(recorded, Arch::X86_64, ProfileRun::default());
        assert_eq!(
            recording.profile.written_paths,
            ["/tmp/made-and-deleted", "/var/cache/app/state"]
        );
    }

    #[test]
    fn reads_the_configured_capabilities() {
        let parse = |line: &str| RunCommand::parse(&argv(line)).expect("parses");
        let default = configured_capabilities(&parse("docker run app")).expect("a mask");
        assert_eq!(default.count_ones(), 14);
        let one = configured_capabilities(&parse("docker run --cap-drop=ALL --cap-add chown app"));
        assert_eq!(one, Some(1));
        let less = configured_capabilities(&parse("docker run --cap-drop CAP_CHOWN,KILL app"));
        assert_eq!(less.map(u64::count_ones), Some(12));
        assert_eq!(
            configured_capabilities(&parse("docker run --privileged app")),
            None
        );
    }

    #[test]
    fn reads_docker_diff() {
        assert_eq!(
            parse_diff("C /var\nA /var/cache/x\nD /etc/motd\n\n"),
            ["/var", "/var/cache/x", "/etc/motd"]
        );
    }
}
