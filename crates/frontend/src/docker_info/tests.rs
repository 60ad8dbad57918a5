use leastpriv_model::Account;
use leastpriv_source::SourceDb;

use super::*;

/// `docker info` of a rootful Docker 20.10 on cgroup v1 without AppArmor, trimmed.
const ROOTFUL: &str = r#"{
  "ServerVersion": "20.10.24+dfsg1",
  "LiveRestoreEnabled": false,
  "RegistryConfig": {
    "IndexConfigs": {
      "docker.io": {"Mirrors": [], "Name": "docker.io", "Official": true, "Secure": true}
    },
    "InsecureRegistryCIDRs": ["127.0.0.0/8"]
  },
  "SecurityOptions": [
    "name=seccomp,profile=default"
  ],
  "Swarm": {"LocalNodeState": "inactive"},
  "Warnings": null
}
"#;

/// A rootless daemon with user namespaces, cgroupns, an insecure registry and a TCP listener.
const ROOTLESS: &str = r#"{
  "ServerVersion": "24.0.7",
  "LiveRestoreEnabled": true,
  "RegistryConfig": {
    "IndexConfigs": {
      "docker.io": {"Name": "docker.io", "Secure": true},
      "registry.lan:5000": {"Name": "registry.lan:5000", "Secure": false}
    },
    "InsecureRegistryCIDRs": ["10.0.0.0/8", "127.0.0.0/8"]
  },
  "SecurityOptions": [
    "name=seccomp,profile=builtin",
    "name=rootless",
    "name=userns",
    "name=apparmor",
    "name=cgroupns"
  ],
  "Swarm": {"LocalNodeState": "active"},
  "Warnings": [
    "WARNING: API is accessible on http://0.0.0.0:2375 without encryption.\n         Access to the remote API is equivalent to root access on the host.",
    "WARNING: API is accessible on https://10.1.2.3:2376 without TLS client verification.\n         Access to the remote API is equivalent to root access on the host.",
    "WARNING: No swap limit support"
  ]
}
"#;

fn state(text: &str) -> (DaemonState, SourceDb) {
    let db = SourceDb::new();
    let file = db.add("docker info", text);
    let (state, errors) = read_state(&db, file);
    assert!(errors.is_empty(), "{errors:?}");
    (state.expect("a state"), db)
}

#[test]
fn reads_a_rootful_daemons_security_options() {
    let (state, db) = state(ROOTFUL);
    assert!(db.slice(state.security_options).starts_with('['));
    let seccomp = state.seccomp.as_ref().expect("seccomp");
    assert_eq!(seccomp.value, "default");
    assert_eq!(db.slice(seccomp.span), "\"name=seccomp,profile=default\"");
    assert_eq!(
        (
            state.rootless,
            state.userns,
            state.apparmor,
            state.selinux,
            state.cgroupns
        ),
        (None, None, None, None, None)
    );
    assert_eq!(state.live_restore.as_ref().map(|v| v.value), Some(false));
    assert!(!state.swarm_active);
    assert!(state.insecure_registries.is_empty());
    assert!(state.insecure_api.is_empty());
}

#[test]
fn reads_a_rootless_daemons_options_registries_and_api_warnings() {
    let (state, db) = state(ROOTLESS);
    assert_eq!(
        [state.rootless, state.userns, state.apparmor, state.cgroupns]
            .map(|span| span.map(|span| db.slice(span))),
        [
            Some("\"name=rootless\"".to_owned()),
            Some("\"name=userns\"".to_owned()),
            Some("\"name=apparmor\"".to_owned()),
            Some("\"name=cgroupns\"".to_owned()),
        ]
    );
    assert_eq!(state.seccomp.map(|s| s.value).as_deref(), Some("builtin"));
    assert!(state.swarm_active);
    let registries: Vec<_> = state
        .insecure_registries
        .iter()
        .map(|r| r.value.as_str())
        .collect();
    assert_eq!(registries, ["10.0.0.0/8", "registry.lan:5000"]);
    let api: Vec<_> = state
        .insecure_api
        .iter()
        .map(|api| (api.value.address.as_str(), api.value.tls))
        .collect();
    assert_eq!(api, [("0.0.0.0:2375", false), ("10.1.2.3:2376", true)]);
}

#[test]
fn a_report_without_security_options_is_a_located_error() {
    let db = SourceDb::new();
    let file = db.add("info.json", "{\"ServerVersion\": \"20.10\"}");
    let (state, errors) = read_state(&db, file);
    assert!(state.is_none());
    assert_eq!(
        errors[0].message,
        "not `docker info` JSON: no `SecurityOptions` list"
    );
    assert!(errors[0].span.is_some());
}

#[test]
fn recognises_docker_info_by_content() {
    assert!(looks_like_info(ROOTFUL));
    assert!(!looks_like_info(r#"{"data-root": "/var/lib/docker"}"#));
    assert!(!crate::daemon_json::looks_like_daemon_json(ROOTFUL));
}

/// Which `daemon.json` the engine of a test has.
enum File {
    Read,
    Absent,
    Unknown,
}

fn engine(file: File, flags: Option<&str>, db: &SourceDb) -> Daemon {
    let info = db.add("docker info", ROOTFUL);
    let config = match file {
        File::Read => ConfigSource::Read(db.add(
            "/etc/docker/daemon.json",
            "{\n  \"icc\": false,\n  \"log-driver\": \"json-file\"\n}\n",
        )),
        File::Absent => ConfigSource::Absent,
        File::Unknown => ConfigSource::Unknown,
    };
    let command_line = flags.map(|flags| db.add("/proc/1419/cmdline", flags));
    let status = db.add("/proc/1419/status", "Name:\tdockerd\nUid:\t0\t0\t0\t0\n");
    let socket = host::socket_file(
        db,
        "/var/run/docker.sock",
        0o660,
        Account {
            id: 0,
            name: Some("root".into()),
        },
        Account {
            id: 999,
            name: Some("docker".into()),
        },
    );
    let lowered = lower_engine(
        db,
        EngineSources {
            endpoint: "unix:///var/run/docker.sock".into(),
            info,
            config,
            command_line,
            status: Some(status),
            socket: Some(socket),
        },
    );
    assert!(lowered.errors.is_empty(), "{:?}", lowered.errors);
    let mut daemons = lowered.daemons;
    assert_eq!(daemons.len(), 1);
    daemons.remove(0)
}

#[test]
fn the_live_engine_joins_its_file_command_line_socket_and_process() {
    let db = SourceDb::new();
    let daemon = engine(
        File::Read,
        Some("/usr/sbin/dockerd\n-H\nfd://\n--no-new-privileges\n"),
        &db,
    );
    assert_eq!(daemon.name, "docker engine (unix:///var/run/docker.sock)");
    let config = daemon.config.expect("configuration");
    assert!(config.complete);
    assert_eq!(db.get(config.anchor.file).path(), "/etc/docker/daemon.json");
    assert_eq!(config.icc.as_ref().map(|v| v.value), Some(false));
    let nnp = config.no_new_privileges.expect("from the command line");
    assert_eq!(db.get(nnp.span.file).path(), "/proc/1419/cmdline");
    assert_eq!(config.hosts[0].value, "fd://");
    let state = daemon.state.expect("state");
    assert_eq!(state.process_user.map(|uid| uid.value), Some(0));
    assert_eq!(state.socket.map(|socket| socket.mode.value), Some(0o660));
}

#[test]
fn the_configuration_is_complete_only_with_the_command_line_in_view() {
    let db = SourceDb::new();
    let file_only = engine(File::Read, None, &db);
    assert!(!file_only.config.expect("configuration").complete);
    let no_file = engine(File::Absent, Some("dockerd\n"), &db);
    let config = no_file.config.expect("configuration");
    assert!(config.complete);
    assert_eq!(db.slice(config.anchor), "dockerd");
    assert!(engine(File::Absent, None, &db).config.is_none());
    let unknown = engine(File::Unknown, Some("dockerd\n--icc=false\n"), &db);
    let config = unknown.config.expect("configuration");
    assert!(!config.complete);
    assert_eq!(config.icc.map(|v| v.value), Some(false));
}
