//! A Compose service as the workload: `leastpriv profile --compose FILE --service NAME`.
//!
//! The project is read and run as `verify --compose` runs it (`leastpriv_verify::compose`): with
//! the user's own Compose tool, under a project name of its own so the user's running stack is never
//! touched, and taken down afterwards with its volumes, network and locally built images. The whole
//! stack comes up (`depends_on`, and the services in front that an exercise goes through), but only
//! the named service is recorded.
//!
//! An override file merged after the user's replaces the service's seccomp profile with the
//! allow-all one (Compose unites `security_opt` lists; leastpriv checks that its own profile is
//! the one the engine applied). Containers are created first (`up --no-start`) so the recorder
//! knows the service's container id before it runs; then the stack starts (`up -d`).

use std::time::{Duration, Instant};

use leastpriv_model::ProfileRun;
use leastpriv_verify::compose::{ComposeRun, ComposeTarget};
use leastpriv_verify::engine;

use crate::capabilities::{self, Outcome};
use crate::container::{self, cli, Engine, TempFile};
use crate::watchdog::Watchdog;
use crate::{unique_name, CapabilityMode, Options, ProfileError, Recorder, Recording};

/// How long building the service's image may take (the classic builder on fuse-overlayfs is slow).
const BUILD_TIMEOUT: Duration = Duration::from_secs(3600);
/// How long creating, starting or taking down the stack may take.
const STACK_TIMEOUT: Duration = Duration::from_secs(600);

/// Records one service of a Compose project.
pub fn profile(target: &ComposeTarget, options: &Options) -> Result<Recording, ProfileError> {
    crate::sys::catch_signals();
    let project = unique_name("leastpriv-profile");
    let mut run = ComposeRun::load(target, project.clone())?;
    run.find_tool()?;
    let arch = container::native_arch()?;
    let recorder = container::load_recorder(options)?;
    let seccomp_file = TempFile::allow_all(&project, arch)?;
    let version = target
        .files
        .first()
        .and_then(|file| std::fs::read_to_string(file).ok())
        .and_then(|text| top_level_version(&text));
    let override_file = TempFile::write(
        &format!("{project}-override.yaml"),
        &override_yaml(
            version.as_deref(),
            &run.service,
            &seccomp_file.path_string(),
        ),
    )?;
    run.add_file(&override_file.path_string());
    let watchdog = Watchdog::start(&[
        run.down_argv(),
        vec!["rm".into(), "-f".into(), seccomp_file.path_string()],
        vec!["rm".into(), "-f".into(), override_file.path_string()],
    ])?;
    let started = Instant::now();
    let result = record(&run, recorder, options, &project);
    let _ = cli(&run.down_argv(), STACK_TIMEOUT);
    drop(override_file);
    drop(seccomp_file);
    watchdog.disarm();
    let recorded = result?;
    // Observed capabilities need no rerun; trials would need the whole stack brought up once per
    // capability, so a Compose service gets none.
    let mut learned = capabilities::learn(
        options.capabilities,
        recorded.observation.checks.as_ref(),
        None,
        Outcome {
            exercise_passed: true,
            exit_code: None,
        },
        false,
        |_| {
            Err(ProfileError::Usage(
                "no capability trial for a Compose service".into(),
            ))
        },
    )?;
    if learned.needed.is_none()
        && recorded.held == Some(0)
        && options.capabilities != CapabilityMode::Skip
    {
        // A service that holds no capability (cap_drop: [ALL] alone) needs none.
        learned.needed = Some(0);
    }
    if matches!(
        options.capabilities,
        CapabilityMode::Confirm | CapabilityMode::Trial
    ) {
        learned.notes.push(
            "capability trials are made for `docker run` and local commands, not for a Compose \
             service (each would bring the stack up again): profile it once as `leastpriv \
             profile -- docker run …` to confirm"
                .to_owned(),
        );
    }
    let mut command = vec!["--compose".to_owned()];
    command.extend(
        target
            .files
            .iter()
            .map(|file| file.to_string_lossy().into_owned()),
    );
    command.extend(["--service".to_owned(), run.service.clone()]);
    let profile_run = ProfileRun {
        command,
        image: run.image().map(str::to_owned),
        service: Some(run.service.clone()),
        duration_ms: started.elapsed().as_millis() as u64,
        arch: arch.name().to_owned(),
        recorder: Recorder::Ebpf.name().to_owned(),
        runs: 1,
        not_observed: if learned.needed.is_some() {
            Vec::new()
        } else {
            vec!["capabilities".to_owned()]
        },
    };
    let mut recorded = recorded;
    recorded.observation.capabilities = learned.needed.unwrap_or(0);
    let mut recording = container::into_recording(recorded, arch, profile_run);
    recording.notes.extend(learned.notes);
    Ok(recording)
}

fn record(
    run: &ComposeRun,
    recorder: crate::bpf::BpfRecorder,
    options: &Options,
    project: &str,
) -> Result<container::ContainerRun, ProfileError> {
    if let Some(build) = run.build_argv() {
        let built = cli(&build, BUILD_TIMEOUT)?;
        if built.code != Some(0) {
            return Err(ProfileError::Engine(format!(
                "building the service's image failed; `{}` shows why",
                build.join(" ")
            )));
        }
    }
    let mut up = run.base();
    up.extend(["up", "--no-start"].map(str::to_owned));
    let created = cli(&up, STACK_TIMEOUT)?;
    if created.code != Some(0) {
        return Err(ProfileError::Engine(format!(
            "`{}` failed: {}",
            up.join(" "),
            engine::first_line(&created.stderr)
        )));
    }
    let id = service_container(project, &run.service)?;
    check_seccomp_override(&id)?;
    let engine = Engine {
        prefix: vec!["docker".to_owned()],
    };
    // `up -d` starts the stack, the service's container among the created ones, once the recorder
    // watches for it.
    let mut up = run.base();
    up.extend(["up", "-d", "--no-recreate"].map(str::to_owned));
    container::record_with(&engine, recorder, &id, options, || {
        let started = cli(&up, STACK_TIMEOUT)?;
        if started.code != Some(0) {
            return Err(ProfileError::Engine(format!(
                "`{}` failed: {}",
                up.join(" "),
                engine::first_line(&started.stderr)
            )));
        }
        Ok(())
    })
}

/// The full id of the service's container in `project`.
fn service_container(project: &str, service: &str) -> Result<String, ProfileError> {
    let argv: Vec<String> = [
        "docker",
        "ps",
        "--all",
        "--no-trunc",
        "--quiet",
        "--filter",
        &format!("label=com.docker.compose.project={project}"),
        "--filter",
        &format!("label=com.docker.compose.service={service}"),
    ]
    .map(str::to_owned)
    .to_vec();
    let output = cli(&argv, Duration::from_secs(60))?;
    let ids: Vec<&str> = output.stdout.split_whitespace().collect();
    match ids.as_slice() {
        [id] => Ok((*id).to_owned()),
        [] => Err(ProfileError::Engine(format!(
            "Compose created no container for the service `{service}`"
        ))),
        _ => Err(ProfileError::Usage(format!(
            "the service `{service}` has {} containers (replicas): profile one with `docker run`",
            ids.len()
        ))),
    }
}

/// Fails unless the engine applied leastpriv's allow-all profile (the service's own `seccomp=`
/// option could have won the merge).
fn check_seccomp_override(id: &str) -> Result<(), ProfileError> {
    let argv: Vec<String> = [
        "docker",
        "inspect",
        "--format",
        "{{json .HostConfig.SecurityOpt}}",
        id,
    ]
    .map(str::to_owned)
    .to_vec();
    let output = cli(&argv, Duration::from_secs(60))?;
    let options: Vec<String> = serde_json::from_str(output.stdout.trim()).unwrap_or_default();
    let seccomp: Vec<&String> = options
        .iter()
        .filter(|option| option.starts_with("seccomp=") || option.starts_with("seccomp:"))
        .collect();
    let ours = |option: &&String| {
        option.contains("\"SCMP_ACT_ALLOW\"") || option.contains("-allow-all.json")
    };
    if seccomp.len() == 1 && seccomp.iter().all(ours) {
        return Ok(());
    }
    Err(ProfileError::Usage(
        "the service sets its own seccomp profile and Compose kept it over leastpriv's recording \
         profile: remove its `seccomp=` security option while profiling"
            .into(),
    ))
}

/// The override that puts the service under the allow-all profile.
fn override_yaml(version: Option<&str>, service: &str, seccomp_file: &str) -> String {
    let version = version.map_or_else(String::new, |version| format!("version: {version}\n"));
    let quote = |text: &str| serde_json::to_string(text).unwrap_or_default();
    format!(
        "{version}services:\n  {}:\n    security_opt:\n      - {}\n",
        quote(service),
        quote(&format!("seccomp={seccomp_file}"))
    )
}

/// A top-level `version:` value, as written (Compose v1 refuses to merge files of other versions).
fn top_level_version(text: &str) -> Option<String> {
    text.lines()
        .find_map(|line| line.strip_prefix("version:"))
        .map(|value| value.trim().to_owned())
        .filter(|value| !value.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_the_override() {
        assert_eq!(
            override_yaml(Some("\"3.8\""), "web", "/tmp/a.json"),
            "version: \"3.8\"\nservices:\n  \"web\":\n    security_opt:\n      - \"seccomp=/tmp/a.json\"\n"
        );
        assert_eq!(
            top_level_version("services:\n  a: {}\nversion: '2.4'\n"),
            Some("'2.4'".into())
        );
        assert_eq!(top_level_version("services: {}\n"), None);
    }
}
