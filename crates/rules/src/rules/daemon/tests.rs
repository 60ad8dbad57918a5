use super::is_loopback;

#[test]
fn tells_loopback_addresses() {
    for address in [
        "localhost:5000",
        "127.0.0.1:2375",
        "127.0.0.0/8",
        "[::1]:2375",
        "::1",
        "::1/128",
        "localhost",
    ] {
        assert!(is_loopback(address), "{address}");
    }
    for address in [
        "0.0.0.0:2375",
        "10.0.0.0/8",
        "registry.lan:5000",
        "[::]:2375",
        "::",
        "128.0.0.1",
        "localhost.example.com:5000",
    ] {
        assert!(!is_loopback(address), "{address}");
    }
}

use leastpriv_frontend::docker_info::{host, read_state};
use leastpriv_model::{Account, Daemon};
use leastpriv_source::SourceDb;

use crate::{check, find_rule, RuleSelection, Subjects};

/// A live engine whose socket has `mode` and is owned by `uid`:`gid` (0 root, 100 users,
/// 999 docker, 1000 alice), rootless or not.
pub(super) fn engine_with_socket(
    db: &SourceDb,
    mode: u32,
    uid: u32,
    gid: u32,
    rootless: bool,
) -> Daemon {
    let options = if rootless {
        r#"["name=seccomp,profile=default","name=rootless"]"#
    } else {
        r#"["name=seccomp,profile=default"]"#
    };
    let info = db.add(
        "docker info",
        format!("{{\"ServerVersion\": \"20.10\", \"SecurityOptions\": {options}}}"),
    );
    let (state, errors) = read_state(db, info);
    assert!(errors.is_empty(), "{errors:?}");
    let name = |id| match id {
        0 => Some("root".to_owned()),
        100 => Some("users".to_owned()),
        999 => Some("docker".to_owned()),
        1000 => Some("alice".to_owned()),
        _ => None,
    };
    let mut state = state.expect("a state");
    state.socket = Some(host::socket_file(
        db,
        "/var/run/docker.sock",
        mode,
        Account {
            id: uid,
            name: name(uid),
        },
        Account {
            id: gid,
            name: name(gid),
        },
    ));
    Daemon {
        name: "docker engine".to_owned(),
        config: None,
        state: Some(state),
    }
}

/// The findings of rule `code` on the daemon `build` makes: the text each points at, and its message.
pub(super) fn findings(
    code: &str,
    build: impl FnOnce(&SourceDb) -> Daemon,
) -> Vec<(String, String)> {
    let db = SourceDb::new();
    let daemons = [build(&db)];
    let mut selection = RuleSelection::all();
    selection
        .select([find_rule(code).expect("a rule").code])
        .expect("selects");
    let subjects = Subjects {
        containers: &[],
        daemons: &daemons,
    };
    check(&db, subjects, &selection)
        .into_iter()
        .map(|diagnostic| (db.slice(diagnostic.span), diagnostic.message))
        .collect()
}

#[test]
fn a_visible_root_process_is_where_the_rootful_daemon_is_shown() {
    use leastpriv_model::Spanned;
    let with_uid = |uid: u32| {
        move |db: &SourceDb| {
            let mut daemon = engine_with_socket(db, 0o660, 0, 999, false);
            let status = db.add(
                "/proc/1419/status",
                format!("Name:\tdockerd\nUid:\t{uid}\t{uid}\t{uid}\t{uid}\n"),
            );
            let state = daemon.state.as_mut().expect("state");
            state.process_user = host::process_user(db, status);
            assert!(matches!(state.process_user, Some(Spanned { value, .. }) if value == uid));
            daemon
        }
    };
    assert_eq!(
        findings("LP701", with_uid(0)),
        [(
            "0".to_owned(),
            "the docker daemon runs as root (uid 0) without rootless mode: whoever controls it is root on the host".to_owned()
        )]
    );
    assert!(findings("LP701", with_uid(1000)).is_empty());
    assert!(findings("LP701", |db| engine_with_socket(
        db, 0o660, 1000, 1000, true
    ))
    .is_empty());
}

#[test]
fn a_rootless_daemons_configuration_needs_no_remapping() {
    use leastpriv_frontend::daemon_json::read_config;
    let daemon_at = |path: &'static str| {
        move |db: &SourceDb| {
            let file = db.add(path, "{\"storage-driver\": \"overlay2\"}");
            Daemon {
                name: path.to_owned(),
                config: read_config(db, file).0,
                state: None,
            }
        }
    };
    assert_eq!(
        findings("LP702", daemon_at("/etc/docker/daemon.json")).len(),
        1
    );
    assert!(findings("LP702", daemon_at("/home/dev/.config/docker/daemon.json")).is_empty());
}

#[test]
fn an_engine_finding_points_at_the_report_and_relates_the_configuration() {
    use leastpriv_frontend::docker_info::{lower_engine, ConfigSource, EngineSources};
    let db = SourceDb::new();
    let info = db.add(
        "docker info",
        "{\"ServerVersion\": \"20.10\", \"LiveRestoreEnabled\": false, \"SecurityOptions\": [\"name=seccomp,profile=unconfined\"]}",
    );
    let config = db.add(
        "/etc/docker/daemon.json",
        "{\n  \"seccomp-profile\": \"unconfined\"\n}\n",
    );
    let daemons = lower_engine(
        &db,
        EngineSources {
            endpoint: "unix:///var/run/docker.sock".to_owned(),
            info,
            config: ConfigSource::Read(config),
            command_line: Some(db.add("/proc/1/cmdline", "dockerd\n")),
            status: None,
            socket: None,
        },
    )
    .daemons;
    let subjects = Subjects {
        containers: &[],
        daemons: &daemons,
    };
    // Sorted by path, then place: the settings `daemon.json` leaves at their defaults, then in the
    // engine's report `LiveRestoreEnabled`, the `SecurityOptions` list and its seccomp entry.
    let diagnostics = check(&db, subjects, &RuleSelection::all());
    let found: Vec<_> = diagnostics
        .iter()
        .map(|d| {
            let related: Vec<_> = d
                .related
                .iter()
                .map(|(span, note)| format!("{}:{}", db.get(span.file).path(), note))
                .collect();
            (d.rule.code, db.get(d.span.file).path().to_owned(), related)
        })
        .collect();
    let config_related = |note: &str| vec![format!("/etc/docker/daemon.json:{note}")];
    assert_eq!(
        found,
        [
            ("LP704", "/etc/docker/daemon.json".to_owned(), vec![]),
            ("LP705", "/etc/docker/daemon.json".to_owned(), vec![]),
            ("LP707", "/etc/docker/daemon.json".to_owned(), vec![]),
            ("LP712", "/etc/docker/daemon.json".to_owned(), vec![]),
            (
                "LP706",
                "docker info".to_owned(),
                config_related("the daemon's configuration, where `live-restore` goes")
            ),
            ("LP701", "docker info".to_owned(), vec![]),
            (
                "LP702",
                "docker info".to_owned(),
                config_related("the daemon's configuration, where `userns-remap` goes")
            ),
            ("LP713", "docker info".to_owned(), vec![]),
            ("LP714", "docker info".to_owned(), vec![]),
            (
                "LP709",
                "docker info".to_owned(),
                config_related("the profile is set here")
            ),
        ]
    );
}
