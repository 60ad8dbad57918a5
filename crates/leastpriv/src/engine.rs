//! `audit --engine`: the live Docker engine, its running containers and its daemon.
//!
//! The engine is read through the user's own `docker` CLI, not the Engine API through bollard:
//! - correctness: `docker inspect` prints exactly the JSON that the `docker inspect` front-end reads
//!   from a saved file, so a running container is judged by the same code and its findings point
//!   into the very text a user would get (one file per container, named after it);
//! - the CLI resolves `DOCKER_HOST`, contexts, TLS and SSH as the user's other commands do;
//! - build cost: no tokio and HTTP stack (bollard adds ~50 s to a clean debug build), and the same
//!   runner as `verify`, with timeouts.
//!
//! The daemon is `docker info` plus what the host shows of a local engine: the socket file, the
//! `dockerd` process (`/proc/<pid>/status` and `cmdline`) and the `daemon.json` it reads. Each text
//! is added to the source database, so findings point at real lines. An engine that cannot be
//! reached is one error of the report: the other inputs are still audited and reported.

use std::io::Read;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Result};
use leastpriv_frontend::daemon_json::flags;
use leastpriv_frontend::docker_info::{host, lower_engine, ConfigSource, EngineSources};
use leastpriv_frontend::{inspect, Lowered, Options};
use leastpriv_model::Account;
use leastpriv_source::read::{self, ReadError};
use leastpriv_source::{InputError, Origin, SourceDb};
use leastpriv_verify::engine::{first_line, run};
use serde_json::value::RawValue;

use crate::inputs::MAX_FILE_BYTES;

/// How long one CLI call may take.
const TIMEOUT: Duration = Duration::from_secs(60);

/// Containers per `docker inspect` call: keeps each output far below the runner's 16 MiB bound.
const INSPECT_BATCH: usize = 100;

/// The engine a plain `docker` command reaches.
const DEFAULT_ENDPOINT: &str = "unix:///var/run/docker.sock";

/// What the live engine holds, lowered: its running containers and its daemon.
pub(crate) struct Audited {
    /// Containers, the daemon and errors.
    pub(crate) lowered: Lowered,
}

/// Reads the live engine into `db`. `Err` (one line) when the `docker` CLI is missing or the engine
/// does not answer.
pub(crate) fn audit(db: &SourceDb, options: &Options) -> Result<Audited> {
    let endpoint = endpoint();
    let info = docker_info(&endpoint)?;
    let rootless = info.contains("\"name=rootless\"");
    let info = db.add_with_origin("docker info", info, Origin::Daemon);

    let mut lowered = Lowered::default();
    for (name, text) in running_containers(&endpoint)? {
        let file = db.add_with_origin(
            format!("docker inspect {name}"),
            text,
            Origin::Container(name.clone()),
        );
        let containers = inspect::lower(db, file, options);
        lowered.containers.extend(containers.containers);
        lowered.errors.extend(containers.errors);
    }

    let local = endpoint.strip_prefix("unix://").map(PathBuf::from);
    let process = local.as_ref().and_then(|_| daemon_process(rootless));
    let command_line = process.as_ref().map(|process| {
        db.add_with_origin(
            format!("/proc/{}/cmdline", process.pid),
            process.command_line.clone(),
            Origin::Daemon,
        )
    });
    let status = process.as_ref().map(|process| {
        db.add_with_origin(
            format!("/proc/{}/status", process.pid),
            process.status.clone(),
            Origin::Daemon,
        )
    });
    // Only a daemon whose process is in view is known to read this machine's files: through a
    // mounted socket or a remote endpoint, the local `/etc/docker/daemon.json` is someone else's.
    let config = match command_line {
        Some(command_line) => {
            let configured = flags::read(db, command_line).config_file;
            let path = configured.map_or_else(|| default_config_path(rootless), PathBuf::from);
            read_config(db, &path, &mut lowered)
        }
        None => ConfigSource::Unknown,
    };
    let socket = local.as_deref().and_then(|path| socket_file(db, path));
    let daemon = lower_engine(
        db,
        EngineSources {
            endpoint,
            info,
            config,
            command_line,
            status,
            socket,
        },
    );
    lowered.daemons.extend(daemon.daemons);
    lowered.errors.extend(daemon.errors);
    Ok(Audited { lowered })
}

/// `DOCKER_HOST`, else the current context's endpoint, else the default socket.
fn endpoint() -> String {
    if let Some(host) = std::env::var("DOCKER_HOST").ok().filter(|h| !h.is_empty()) {
        return host;
    }
    let context = docker(&[
        "context",
        "inspect",
        "--format",
        "{{.Endpoints.docker.Host}}",
    ]);
    match context {
        Ok(output) if output.code == Some(0) && !output.stdout.trim().is_empty() => {
            output.stdout.trim().to_owned()
        }
        _ => DEFAULT_ENDPOINT.to_owned(),
    }
}

fn docker(args: &[&str]) -> Result<leastpriv_verify::engine::Output> {
    let mut argv = vec!["docker".to_owned()];
    argv.extend(args.iter().map(|arg| (*arg).to_owned()));
    run(&argv, TIMEOUT).map_err(|error| match error {
        leastpriv_verify::VerifyError::Engine(message) if message.contains("No such file") => {
            anyhow::anyhow!("--engine needs the `docker` CLI, which is not installed")
        }
        other => anyhow::anyhow!("{other}"),
    })
}

/// `docker info` as pretty JSON (so findings have meaningful lines), without the CLI's own
/// `ClientInfo`.
fn docker_info(endpoint: &str) -> Result<String> {
    let output = docker(&["info", "--format", "{{json .}}"])?;
    let mut info: serde_json::Value =
        serde_json::from_str(output.stdout.trim()).unwrap_or_default();
    let server_error = info
        .get("ServerErrors")
        .and_then(|errors| errors.get(0))
        .and_then(serde_json::Value::as_str)
        .map(str::to_owned);
    let answered = info
        .get("ServerVersion")
        .and_then(serde_json::Value::as_str)
        .is_some_and(|version| !version.is_empty());
    if output.code != Some(0) || !answered {
        let why = server_error.unwrap_or_else(|| first_line(&output.stderr));
        if why.contains(endpoint) {
            bail!("cannot reach the Docker engine: {why}");
        }
        bail!("cannot reach the Docker engine at {endpoint}: {why}");
    }
    if let Some(object) = info.as_object_mut() {
        object.remove("ClientInfo");
    }
    Ok(serde_json::to_string_pretty(&info)? + "\n")
}

/// Each running container's `docker inspect` JSON, exactly as printed, with its name.
fn running_containers(endpoint: &str) -> Result<Vec<(String, String)>> {
    let listed = docker(&["ps", "--quiet", "--no-trunc"])?;
    if listed.code != Some(0) {
        bail!(
            "cannot list the containers of the Docker engine at {endpoint}: {}",
            first_line(&listed.stderr)
        );
    }
    let ids: Vec<&str> = listed.stdout.split_whitespace().collect();
    let mut containers = Vec::new();
    for batch in ids.chunks(INSPECT_BATCH) {
        let mut args = vec!["inspect", "--type", "container"];
        args.extend(batch);
        // A container that exits between `ps` and `inspect` makes the command fail for it alone;
        // the others are still printed.
        let output = docker(&args)?;
        let Ok(items) = serde_json::from_str::<Vec<&RawValue>>(&output.stdout) else {
            bail!(
                "cannot inspect the containers of the Docker engine at {endpoint}: {}",
                first_line(&output.stderr)
            );
        };
        for item in items {
            containers.push((container_name(item.get()), item.get().to_owned()));
        }
    }
    Ok(containers)
}

/// `Name` without its leading `/`, else the short id.
fn container_name(json: &str) -> String {
    #[derive(serde::Deserialize)]
    struct Names {
        #[serde(rename = "Name", default)]
        name: String,
        #[serde(rename = "Id", default)]
        id: String,
    }
    let names: Names = serde_json::from_str(json).unwrap_or(Names {
        name: String::new(),
        id: String::new(),
    });
    match names.name.trim_start_matches('/') {
        "" => names.id.chars().take(12).collect(),
        name => name.to_owned(),
    }
}

/// The daemon's `daemon.json`: a rootless daemon reads `$XDG_CONFIG_HOME/docker/daemon.json`.
fn default_config_path(rootless: bool) -> PathBuf {
    if rootless {
        let config_home = std::env::var_os("XDG_CONFIG_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".config")));
        if let Some(config_home) = config_home {
            return config_home.join("docker/daemon.json");
        }
    }
    PathBuf::from("/etc/docker/daemon.json")
}

/// Reads the daemon's configuration file. Missing means every setting is at its default; unreadable
/// is reported, since the settings it holds cannot be judged.
fn read_config(db: &SourceDb, path: &Path, lowered: &mut Lowered) -> ConfigSource {
    let name = path.display().to_string();
    // Only a regular file: the daemon's command line names this path, and a FIFO there must not
    // block the audit.
    let problem = match read::read_regular(path, MAX_FILE_BYTES).and_then(read::decode) {
        Ok(text) => return ConfigSource::Read(db.add_with_origin(name, text, Origin::Daemon)),
        Err(ReadError::NotFound) => return ConfigSource::Absent,
        Err(error) => error.to_string(),
    };
    lowered.errors.push(InputError::file(
        name,
        format!(
            "cannot read the daemon's configuration ({problem}): its settings cannot be judged"
        ),
    ));
    ConfigSource::Unknown
}

/// The socket file at `path`, with its owners' names; `None` when it is not a socket here (the
/// endpoint is another machine's, or a different mount namespace).
fn socket_file(db: &SourceDb, path: &Path) -> Option<leastpriv_model::SocketFile> {
    let metadata = std::fs::metadata(path).ok()?;
    if !metadata.file_type().is_socket() {
        return None;
    }
    let owner = Account {
        id: metadata.uid(),
        name: account_name(Path::new("/etc/passwd"), metadata.uid()),
    };
    let group = Account {
        id: metadata.gid(),
        name: account_name(Path::new("/etc/group"), metadata.gid()),
    };
    Some(host::socket_file(
        db,
        &path.display().to_string(),
        metadata.mode(),
        owner,
        group,
    ))
}

/// The name of `id` in `/etc/passwd` or `/etc/group` (`name:x:id:…`). Read directly rather than
/// through NSS: no crate gives NSS lookups without libc calls, and a name is only for messages; an
/// id that does not resolve is shown as a number.
fn account_name(database: &Path, id: u32) -> Option<String> {
    let text = read_bounded(database)?;
    text.lines().find_map(|line| {
        let mut fields = line.split(':');
        let name = fields.next()?;
        let entry_id: u32 = fields.nth(1)?.parse().ok()?;
        (entry_id == id && !name.is_empty()).then(|| name.to_owned())
    })
}

/// A `dockerd` process seen in `/proc`.
struct Process {
    pid: u32,
    /// Its arguments, one per line.
    command_line: String,
    /// `/proc/<pid>/status`.
    status: String,
}

/// The daemon's process: the one `dockerd` whose owner matches the engine's mode (root for a
/// rootful engine, not root for a rootless one). `None` when there is none or more than one, so
/// that no other daemon's facts are judged as this one's.
fn daemon_process(rootless: bool) -> Option<Process> {
    let mut found = None;
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|name| name.parse().ok())
        else {
            continue;
        };
        let dir = entry.path();
        if read_bounded(&dir.join("comm")).as_deref().map(str::trim) != Some("dockerd") {
            continue;
        }
        let (Some(status), Some(command_line)) = (
            read_bounded(&dir.join("status")),
            read_bounded(&dir.join("cmdline")),
        ) else {
            continue;
        };
        let root = status
            .lines()
            .find_map(|line| line.strip_prefix("Uid:"))
            .and_then(|ids| ids.split_whitespace().next())
            == Some("0");
        if root == rootless {
            continue;
        }
        if found.is_some() {
            return None;
        }
        found = Some(Process {
            pid,
            command_line: command_line.replace('\0', "\n"),
            status,
        });
    }
    found
}

/// A small system file's text (at most 1 MiB), `None` when unreadable.
fn read_bounded(path: &Path) -> Option<String> {
    let mut text = String::new();
    std::fs::File::open(path)
        .ok()?
        .take(1 << 20)
        .read_to_string(&mut text)
        .ok()?;
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_containers_by_name_or_short_id() {
        assert_eq!(
            container_name(r#"{"Id": "0123456789abcdef", "Name": "/web-1"}"#),
            "web-1"
        );
        assert_eq!(
            container_name(r#"{"Id": "0123456789abcdef", "Name": ""}"#),
            "0123456789ab"
        );
        assert_eq!(container_name("not json"), "");
    }

    #[test]
    fn resolves_account_names_from_their_database() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let group = dir.path().join("group");
        std::fs::write(&group, "root:x:0:\n# comment\ndocker:x:999:alice\nbad\n").expect("write");
        assert_eq!(account_name(&group, 999).as_deref(), Some("docker"));
        assert_eq!(account_name(&group, 0).as_deref(), Some("root"));
        assert_eq!(account_name(&group, 5), None);
        assert_eq!(account_name(&dir.path().join("missing"), 0), None);
    }

    #[test]
    fn a_rootless_daemon_reads_its_users_configuration() {
        assert_eq!(
            default_config_path(false),
            Path::new("/etc/docker/daemon.json")
        );
        assert!(default_config_path(true).ends_with("docker/daemon.json"));
    }
}
