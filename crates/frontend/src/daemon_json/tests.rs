use leastpriv_source::SourceDb;

use super::*;

fn read(path: &str, text: &str) -> (Option<DaemonConfig>, Vec<InputError>, SourceDb) {
    let db = SourceDb::new();
    let file = db.add(path, text);
    let (config, errors) = read_config(&db, file);
    (config, errors, db)
}

fn slice<T>(db: &SourceDb, value: Option<&Spanned<T>>) -> String {
    value.map(|value| db.slice(value.span)).unwrap_or_default()
}

#[test]
fn reads_every_judged_setting_at_its_value() {
    let text = r#"{
  "data-root": "/var/lib/docker",
  "userns-remap": "default",
  "hosts": ["unix:///var/run/docker.sock", "tcp://0.0.0.0:2376"],
  "tls": true,
  "tlsverify": false,
  "icc": false,
  "iptables": true,
  "bridge": "none",
  "no-new-privileges": true,
  "live-restore": true,
  "userland-proxy": false,
  "default-ulimits": {"nofile": {"Name": "nofile", "Hard": 64000, "Soft": 64000}},
  "seccomp-profile": "/etc/docker/seccomp.json",
  "selinux-enabled": true,
  "default-cgroupns-mode": "private",
  "insecure-registries": ["registry.lan:5000"]
}
"#;
    let (config, errors, db) = read("/etc/docker/daemon.json", text);
    assert!(errors.is_empty(), "{errors:?}");
    let config = config.expect("a configuration");
    assert!(config.complete && !config.rootless_location);
    assert_eq!(db.slice(config.anchor), "{");
    assert_eq!(slice(&db, config.userns_remap.as_ref()), "\"default\"");
    assert_eq!(config.hosts[1].value, "tcp://0.0.0.0:2376");
    assert_eq!(db.slice(config.hosts[1].span), "\"tcp://0.0.0.0:2376\"");
    assert_eq!(config.tls.as_ref().map(|v| v.value), Some(true));
    assert_eq!(config.tls_verify.as_ref().map(|v| v.value), Some(false));
    assert_eq!(slice(&db, config.icc.as_ref()), "false");
    assert_eq!(config.iptables.as_ref().map(|v| v.value), Some(true));
    assert_eq!(
        config.bridge.as_ref().map(|v| v.value.as_str()),
        Some("none")
    );
    assert_eq!(
        config.no_new_privileges.as_ref().map(|v| v.value),
        Some(true)
    );
    assert_eq!(config.live_restore.as_ref().map(|v| v.value), Some(true));
    assert_eq!(config.userland_proxy.as_ref().map(|v| v.value), Some(false));
    assert_eq!(config.default_ulimits[0].value, "nofile");
    assert_eq!(db.slice(config.default_ulimits[0].span), "\"nofile\"");
    assert_eq!(
        config.seccomp_profile.as_ref().map(|v| v.value.as_str()),
        Some("/etc/docker/seccomp.json")
    );
    assert_eq!(config.selinux_enabled.as_ref().map(|v| v.value), Some(true));
    assert_eq!(
        config
            .default_cgroupns_mode
            .as_ref()
            .map(|v| v.value.as_str()),
        Some("private")
    );
    assert_eq!(config.insecure_registries[0].value, "registry.lan:5000");
    let line = db
        .get(config.insecure_registries[0].span.file)
        .line_column(config.insecure_registries[0].span.range.start);
    assert_eq!((line.line, line.column), (17, 27));
}

#[test]
fn wrong_types_are_located_errors_as_dockerd_refuses_them() {
    let text = "{\n  \"icc\": \"false\",\n  \"hosts\": \"tcp://0.0.0.0:2375\",\n  \"userns-remap\": true,\n  \"default-ulimits\": {\"nofile\": 1024},\n  \"live-restore\": true\n}\n";
    let (config, errors, db) = read("daemon.json", text);
    let found: Vec<_> = errors
        .iter()
        .map(|error| {
            let span = error.span.expect("located");
            (
                db.get(span.file).line_column(span.range.start).line,
                error.message.as_str(),
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            (2, "`icc` must be `true` or `false` (dockerd refuses to start otherwise)"),
            (3, "`hosts` must be an array of strings (dockerd refuses to start otherwise)"),
            (4, "`userns-remap` must be a string (dockerd refuses to start otherwise)"),
            (
                5,
                "`default-ulimits.nofile` must be an object such as `{\"Name\": \"nofile\", \"Soft\": 1024, \"Hard\": 2048}`"
            ),
        ]
    );
    // What is well-typed is still read.
    let config = config.expect("a configuration");
    assert_eq!(config.live_restore.as_ref().map(|v| v.value), Some(true));
    assert!(config.icc.is_none() && config.hosts.is_empty() && config.default_ulimits.is_empty());
}

#[test]
fn only_a_json_object_is_a_daemon_configuration() {
    for text in ["icc: false\n", "[]", "", "  \"icc\""] {
        let (config, errors, _) = read("daemon.json", text);
        assert!(config.is_none(), "{text:?}");
        assert_eq!(errors.len(), 1, "{text:?}");
        assert_eq!(
            errors[0].message,
            "a daemon.json must be a JSON object (`{ … }`)"
        );
    }
    let (config, errors, _) = read("daemon.json", "{\"icc\": false,,}");
    assert!(config.is_none());
    assert!(errors[0].span.is_some(), "{errors:?}");
}

#[test]
fn reads_tab_indented_crlf_json_and_reports_duplicate_keys() {
    let text = "{\r\n\t\"icc\": false,\r\n\t\"icc\": true,\r\n\t\"live-restore\": true\r\n}\r\n";
    let (config, errors, db) = read("daemon.json", text);
    let config = config.expect("a configuration");
    assert_eq!(config.live_restore.as_ref().map(|v| v.value), Some(true));
    assert_eq!(errors.len(), 1, "{errors:?}");
    let span = errors[0].span.expect("located");
    assert_eq!(db.get(span.file).line_column(span.range.start).line, 3);
}

#[test]
fn a_rootless_daemons_file_is_known_by_its_place() {
    let (config, _, _) = read("/home/dev/.config/docker/daemon.json", "{}");
    assert!(config.expect("a configuration").rootless_location);
}

#[test]
fn recognises_daemon_configurations_by_content() {
    assert!(looks_like_daemon_json(
        r#"{"data-root": "/var/lib/docker", "storage-driver": "overlay2"}"#
    ));
    assert!(looks_like_daemon_json(
        "{\n  \"userns-remap\": \"default\"\n}"
    ));
    for other in [
        r#"{"name": "app", "version": "1.0.0", "scripts": {}}"#,
        r#"{"compilerOptions": {"strict": true}}"#,
        r#"["userns-remap"]"#,
        r#"{"kind": "ConfigMap", "data": {"daemon.json": "{\"userns-remap\": \"default\"}"}}"#,
    ] {
        assert!(!looks_like_daemon_json(other), "{other}");
    }
}

#[test]
fn lowers_one_daemon_named_by_its_path() {
    let db = SourceDb::new();
    let file = db.add("etc/docker/daemon.json", "{\"icc\": true}");
    let lowered = lower(&db, file, &Options::default());
    assert!(lowered.containers.is_empty() && lowered.errors.is_empty());
    assert_eq!(lowered.daemons.len(), 1);
    assert_eq!(lowered.daemons[0].name, "etc/docker/daemon.json");
    assert!(lowered.daemons[0].state.is_none());
}

/// `(line:column, message)` of each error.
fn located(db: &SourceDb, errors: &[InputError]) -> Vec<(String, String)> {
    errors
        .iter()
        .map(|error| {
            let span = error.span.expect("located");
            let position = db.get(span.file).line_column(span.range.start);
            (
                format!("{}:{}", position.line, position.column),
                error.message.clone(),
            )
        })
        .collect()
}

#[test]
fn what_dockerd_refuses_to_start_with_is_an_error() {
    // A trailing comma and an unknown key: dockerd stops at both.
    let (config, errors, db) = read(
        "daemon.json",
        "{\n  \"icc\": false,\n  \"no-new-privilege\": true,\n}\n",
    );
    assert!(config.is_none(), "a file dockerd refuses is not judged");
    assert_eq!(
        located(&db, &errors),
        [
            (
                "3:27".to_owned(),
                "not valid JSON, so dockerd refuses to start: trailing comma".to_owned()
            ),
            (
                "3:3".to_owned(),
                "`no-new-privilege` is not a dockerd configuration option, so dockerd refuses to start (did you mean `no-new-privileges`?)".to_owned()
            ),
        ]
    );
    // Valid JSON with a misspelt key: the rest is still judged.
    let (config, errors, db) = read(
        "daemon.json",
        "{\n  \"icc\": false,\n  \"live_restore\": true\n}\n",
    );
    assert_eq!(config.and_then(|c| c.icc).map(|icc| icc.value), Some(false));
    assert_eq!(
        located(&db, &errors),
        [(
            "3:3".to_owned(),
            "`live_restore` is not a dockerd configuration option, so dockerd refuses to start (did you mean `live-restore`?)".to_owned()
        )]
    );
    // Comments are YAML, not JSON.
    let (_, errors, db) = read("daemon.json", "{\n  // mine\n  \"icc\": false\n}\n");
    assert_eq!(
        located(&db, &errors),
        [(
            "2:3".to_owned(),
            "not valid JSON, so dockerd refuses to start: a comment (JSON has none)".to_owned()
        )]
    );
}

#[test]
fn every_key_of_the_documented_full_example_is_known() {
    // docker/cli docs/reference/commandline/dockerd.md, "This is a full example of the allowed
    // configuration options on Linux" (20.10), keys only.
    let keys = [
        "allow-nondistributable-artifacts",
        "api-cors-header",
        "authorization-plugins",
        "bip",
        "bridge",
        "cgroup-parent",
        "cluster-advertise",
        "cluster-store",
        "cluster-store-opts",
        "containerd",
        "containerd-namespace",
        "containerd-plugins-namespace",
        "data-root",
        "debug",
        "default-address-pools",
        "default-cgroupns-mode",
        "default-gateway",
        "default-gateway-v6",
        "default-runtime",
        "default-shm-size",
        "default-ulimits",
        "dns",
        "dns-opts",
        "dns-search",
        "exec-opts",
        "exec-root",
        "experimental",
        "features",
        "fixed-cidr",
        "fixed-cidr-v6",
        "group",
        "hosts",
        "icc",
        "init",
        "init-path",
        "insecure-registries",
        "ip",
        "ip-forward",
        "ip-masq",
        "iptables",
        "ip6tables",
        "ipv6",
        "labels",
        "live-restore",
        "log-driver",
        "log-level",
        "log-opts",
        "max-concurrent-downloads",
        "max-concurrent-uploads",
        "max-download-attempts",
        "mtu",
        "no-new-privileges",
        "node-generic-resources",
        "oom-score-adjust",
        "pidfile",
        "raw-logs",
        "registry-mirrors",
        "runtimes",
        "seccomp-profile",
        "selinux-enabled",
        "shutdown-timeout",
        "storage-driver",
        "storage-opts",
        "swarm-default-advertise-addr",
        "tls",
        "tlscacert",
        "tlscert",
        "tlskey",
        "tlsverify",
        "userland-proxy",
        "userland-proxy-path",
        "userns-remap",
    ];
    let text = format!(
        "{{\n{}\n}}\n",
        keys.iter()
            .map(|key| format!("  \"{key}\": null"))
            .collect::<Vec<_>>()
            .join(",\n")
    );
    let (config, errors, _) = read("daemon.json", &text);
    assert!(config.is_some());
    assert!(errors.is_empty(), "{errors:?}");
}
