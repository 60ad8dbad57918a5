//! Verdicts over probe reports captured from real containers (Docker 20.10, kernel 6.18,
//! `tests/fixtures/*.json`) against the flags that produced them — and against flags they do not
//! match, as when configuration lies.

use leastpriv_probe::ProbeReport;

use leastpriv_source::SourceDb;

use super::{judge, Promises, Syntax};
use crate::engine::Daemon;
use crate::expect::{parse_policy, Expectation};
use crate::report::{holds, LayerVerdict, Outcome, Status};
use crate::{promised_runtime, RunCommand};

const HARDENED: &str =
    "docker run --user 1000:1000 --cap-drop ALL --security-opt no-new-privileges \
                        --read-only --tmpfs /tmp -e DB_PASSWORD=x img";

fn fixture(name: &str) -> ProbeReport {
    let path = format!("{}/tests/fixtures/{name}.json", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).expect("fixture");
    serde_json::from_str(&text).expect("a probe report")
}

fn judged(line: &str, probe: &str, daemon: &str, expect: &[Expectation]) -> Vec<LayerVerdict> {
    judged_probe(line, &fixture(probe), daemon, expect)
}

fn judged_probe(
    line: &str,
    probe: &ProbeReport,
    daemon: &str,
    expect: &[Expectation],
) -> Vec<LayerVerdict> {
    let argv: Vec<String> = line.split_whitespace().map(str::to_owned).collect();
    let runtime = promised_runtime(&RunCommand::parse(&argv).expect("parses"));
    let daemon = Daemon::parse(daemon);
    let promises = Promises {
        runtime: &runtime,
        syntax: Syntax::DockerRun,
        image_user: None,
        daemon: &daemon,
        expect,
    };
    judge(&promises, probe)
}

const SECCOMP_DAEMON: &str = r#"["name=seccomp,profile=default"]"#;

fn statuses(verdicts: &[LayerVerdict]) -> Vec<(&str, &str)> {
    verdicts
        .iter()
        .map(|verdict| (verdict.layer.as_str(), verdict.status.as_str()))
        .collect()
}

fn layer<'a>(verdicts: &'a [LayerVerdict], name: &str) -> &'a LayerVerdict {
    verdicts
        .iter()
        .find(|verdict| verdict.layer == name)
        .expect("every layer is judged")
}

/// The failing evidence of a layer.
fn failures(verdict: &LayerVerdict) -> &[String] {
    &verdict.evidence[..verdict.failures]
}

/// The rules cited by a layer's failing checks.
fn failing_rules(verdict: &LayerVerdict) -> Vec<&str> {
    verdict
        .checks
        .iter()
        .filter(|check| check.outcome == Outcome::Fail)
        .filter_map(|check| check.rule.as_deref())
        .collect()
}

#[test]
fn docker_defaults_fail_every_layer_they_leave_open() {
    // The insecure default: root, Docker's 14 capabilities, a writable root, no no_new_privs,
    // container root as host root. The issue's first complaint: this used to be all `ok`/`n/a`.
    let verdicts = judged("docker run --rm img", "default", SECCOMP_DAEMON, &[]);
    assert_eq!(
        statuses(&verdicts),
        vec![
            ("escape", "pass"),
            ("user", "fail"),
            ("capabilities", "fail"),
            ("confinement", "pass"),
            ("filesystem", "fail"),
            ("secrets", "pass"),
            ("daemon", "fail"),
        ]
    );
    assert!(!holds(&verdicts));
    assert!(verdicts.iter().all(|verdict| verdict.required));
    assert!(verdicts.iter().all(|verdict| !verdict.promise_broken));
    assert_eq!(failing_rules(layer(&verdicts, "user")), ["LP201"]);
    assert_eq!(
        failures(layer(&verdicts, "user")),
        [
            "LP201 [high] the process runs as root (uid 0, gid 0; no --user and no USER in the \
          image: its default user)"
        ]
    );
    let capabilities = layer(&verdicts, "capabilities");
    assert_eq!(failing_rules(capabilities), ["LP311"]);
    assert!(
        failures(capabilities)[0].starts_with(
            "LP311 [medium] capabilities not dropped: the process keeps Docker's default set of \
             14 (CAP_AUDIT_WRITE, CAP_CHOWN, "
        ),
        "{:?}",
        capabilities.evidence
    );
    assert_eq!(
        failing_rules(layer(&verdicts, "filesystem")),
        ["LP502", "LP501"]
    );
    assert_eq!(failing_rules(layer(&verdicts, "daemon")), ["LP702"]);
    assert_eq!(
        failures(layer(&verdicts, "daemon")),
        [
            "LP702 [medium] container root is host root (uid_map 0 0 4294967295): no userns-remap \
          or rootless daemon; this process runs as that root"
        ]
    );
    // The confinement layer holds: Docker's default profile, and no LSM on this host to judge.
    assert_eq!(
        layer(&verdicts, "confinement").evidence,
        [
            "the default seccomp profile is loaded: blocks 22 of the probed syscalls (mount, \
             umount2, unshare, clone, clone3, setns)",
            "kernel control files and /sys read-only",
            "the host has no AppArmor or SELinux: no LSM confines any container here (label none)",
        ]
    );
}

#[test]
fn hardened_flags_hold_and_expect_chooses_the_layers() {
    let policy = parse_policy(&[
        "non-root",
        "cap-drop-all",
        "no-new-privileges",
        "read-only",
        "seccomp",
        "no-engine-socket",
    ])
    .expect("a policy");
    let verdicts = judged(HARDENED, "hardened", SECCOMP_DAEMON, &policy);
    assert_eq!(
        statuses(&verdicts),
        vec![
            ("escape", "pass"),
            ("user", "pass"),
            ("capabilities", "pass"),
            ("confinement", "pass"),
            ("filesystem", "pass"),
            ("secrets", "fail"),
            ("daemon", "fail"),
        ]
    );
    // The policy names require their layers: secrets and daemon fail, but are not required.
    let required: Vec<bool> = verdicts.iter().map(|verdict| verdict.required).collect();
    assert_eq!(required, [true, true, true, true, true, false, false]);
    assert!(holds(&verdicts));
    assert!(layer(&verdicts, "user")
        .evidence
        .contains(&"runs as uid 1000, gid 1000, as --user 1000:1000 promised".to_owned()));
    assert!(layer(&verdicts, "filesystem")
        .evidence
        .contains(&"root filesystem read-only, as --read-only promised".to_owned()));
    assert!(layer(&verdicts, "filesystem")
        .evidence
        .contains(&"expect no-new-privileges: on".to_owned()));
    assert_eq!(
        failures(layer(&verdicts, "secrets")),
        ["LP620 [medium] secrets in the environment, where child processes, crash dumps and logs \
          see them: DB_PASSWORD (names only; values are never read)"]
    );

    // Without --expect every layer is required.
    let all = judged(HARDENED, "hardened", SECCOMP_DAEMON, &[]);
    assert!(!holds(&all));
    // A layer name requires just that layer; `all` every one.
    let secrets = judged(
        HARDENED,
        "hardened",
        SECCOMP_DAEMON,
        &parse_policy(&["user", "filesystem"]).expect("a policy"),
    );
    assert!(holds(&secrets));
    let strict = judged(
        HARDENED,
        "hardened",
        SECCOMP_DAEMON,
        &parse_policy(&["user", "no-secret-env"]).expect("a policy"),
    );
    assert!(!holds(&strict));
    assert!(layer(&strict, "secrets").promise_broken);
}

#[test]
fn a_configuration_that_lies_breaks_its_promises() {
    // The hardened flags, but the container got Docker's defaults (an orchestrator dropped them).
    let verdicts = judged(HARDENED, "default", SECCOMP_DAEMON, &[]);
    assert_eq!(
        statuses(&verdicts),
        vec![
            ("escape", "pass"),
            ("user", "fail"),
            ("capabilities", "fail"),
            ("confinement", "pass"),
            ("filesystem", "fail"),
            ("secrets", "pass"),
            ("daemon", "fail"),
        ]
    );
    let broken: Vec<&str> = verdicts
        .iter()
        .filter(|verdict| verdict.promise_broken)
        .map(|verdict| verdict.layer.as_str())
        .collect();
    assert_eq!(broken, ["user", "capabilities", "filesystem"]);
    let user = layer(&verdicts, "user");
    assert_eq!(
        failures(user),
        [
            "broken promise: --user 1000:1000 promised uid 1000, but the process runs as uid 0, \
             gid 0",
            "broken promise: --user 1000:1000 promised gid 1000, but the process has gid 0",
            "LP201 [high] the process runs as root (uid 0, gid 0; as configured)",
        ]
    );
    let capabilities = layer(&verdicts, "capabilities");
    assert!(failures(capabilities)[0]
        .starts_with("broken promise: dropped, but the process still has CAP_AUDIT_WRITE, "));
    let filesystem = layer(&verdicts, "filesystem");
    assert_eq!(
        failures(filesystem),
        [
            "broken promise: --read-only promised a read-only root filesystem, but it is writable \
             (LP502)",
            "broken promise: writable mounts nobody configured: /etc/resolv.conf, /etc/hostname, \
             /etc/hosts",
            "broken promise: --security-opt no-new-privileges promised no_new_privs, but it is off \
             (LP501)",
            "broken promise: --tmpfs /tmp was configured, but is not a tmpfs",
        ]
    );
    // A broken promise fails the verdict even in a layer --expect does not require.
    let lenient = judged(
        HARDENED,
        "default",
        SECCOMP_DAEMON,
        &parse_policy(&["escape"]).expect("a policy"),
    );
    assert!(!layer(&lenient, "filesystem").required);
    assert!(!holds(&lenient));
}

#[test]
fn compose_promises_are_named_by_their_compose_keys() {
    // The same lie, told by a Compose service.
    let db = SourceDb::new();
    let file = db.add(
        "compose.yaml",
        "services:\n  web:\n    image: img\n    user: \"1000:1000\"\n    read_only: true\n    \
         tmpfs: [/tmp]\n    security_opt: [\"no-new-privileges:true\"]\n",
    );
    let lowered = leastpriv_frontend::compose::lower(&db, file, &Default::default());
    let runtime = lowered.containers[0].runtime.clone().expect("a runtime");
    let daemon = Daemon::parse(SECCOMP_DAEMON);
    let promises = Promises {
        runtime: &runtime,
        syntax: Syntax::Compose,
        image_user: None,
        daemon: &daemon,
        expect: &[],
    };
    let verdicts = judge(&promises, &fixture("default"));
    assert_eq!(
        layer(&verdicts, "user").evidence[0],
        "broken promise: user: 1000:1000 promised uid 1000, but the process runs as uid 0, gid 0"
    );
    assert_eq!(
        failures(layer(&verdicts, "filesystem")),
        [
            "broken promise: read_only: true promised a read-only root filesystem, but it is \
             writable (LP502)",
            "broken promise: writable mounts nobody configured: /etc/resolv.conf, /etc/hostname, \
             /etc/hosts",
            "broken promise: security_opt: [no-new-privileges:true] promised no_new_privs, but it \
             is off (LP501)",
            "broken promise: tmpfs /tmp was configured, but is not a tmpfs",
        ]
    );
}

#[test]
fn host_namespaces_and_engine_sockets_fail_the_escape_layer_configured_or_not() {
    let verdicts = judged("docker run img", "host-socket", SECCOMP_DAEMON, &[]);
    let escape = layer(&verdicts, "escape");
    assert_eq!(escape.status, Status::Fail);
    assert!(escape.promise_broken);
    assert_eq!(failing_rules(escape), ["LP115", "LP116", "LP111"]);
    assert!(failures(escape)[0]
        .starts_with("broken promise: the host's PID namespace, although not configured: "));
    assert_eq!(
        failures(escape)[2],
        "broken promise: engine socket /var/run/docker.sock (it answers): whoever reaches it \
         controls the engine and its host, although not mounted (LP111)"
    );

    // Configured, the layer still fails — least privilege — but no promise is broken. A socket
    // mounted read-only fails all the same.
    for socket in [
        "/var/run/docker.sock:/var/run/docker.sock",
        "/var/run/docker.sock:/var/run/docker.sock:ro",
    ] {
        let configured = format!("docker run --pid host --network host -v {socket} img");
        let verdicts = judged(&configured, "host-socket", SECCOMP_DAEMON, &[]);
        let escape = layer(&verdicts, "escape");
        assert_eq!(escape.status, Status::Fail);
        assert!(!escape.promise_broken, "{:?}", escape.evidence);
        assert_eq!(failing_rules(escape), ["LP115", "LP116", "LP111"]);
        assert_eq!(
            failures(escape)[2],
            "LP111 [critical] engine socket /var/run/docker.sock (it answers): whoever reaches it \
             controls the engine and its host"
        );
    }

    let strict = judged(
        "docker run --pid host --network host -v /var/run/docker.sock:/var/run/docker.sock img",
        "host-socket",
        SECCOMP_DAEMON,
        &[Expectation::NoEngineSocket, Expectation::NoHostNamespaces],
    );
    let escape = layer(&strict, "escape");
    assert!(escape.promise_broken);
    assert_eq!(
        &failures(escape)[..2],
        [
            "broken promise: expect no-engine-socket: /var/run/docker.sock reachable",
            "broken promise: expect no-host-namespaces: the container shares a host namespace",
        ]
    );
}

#[test]
fn namespaces_the_probe_cannot_see_are_judged_as_configured() {
    // Host IPC breaks the escape layer (LP117 is medium); host UTS and cgroup are notes (low).
    let verdicts = judged(
        "docker run --ipc host --uts host --cgroupns host img",
        "default",
        SECCOMP_DAEMON,
        &[],
    );
    let escape = layer(&verdicts, "escape");
    assert_eq!(escape.status, Status::Fail);
    assert_eq!(
        failures(escape),
        [
            "LP117 [medium] the host's IPC namespace (configured; not visible from inside this \
          kernel)"
        ]
    );
    assert!(escape.evidence.contains(
        &"LP118 [low] the host's UTS namespace (configured; not visible from inside this kernel)"
            .to_owned()
    ));
    // Seen from inside, as the probe sees it on a kernel whose initial namespaces it knows.
    let mut probe = fixture("default");
    probe.escape.host_ipc_namespace.likely = true;
    probe.escape.host_ipc_namespace.signs =
        vec!["/proc/self/ns/ipc is ipc:[4026531839]: the kernel's initial ipc namespace".into()];
    let verdicts = judged_probe("docker run img", &probe, SECCOMP_DAEMON, &[]);
    let escape = layer(&verdicts, "escape");
    assert!(escape.promise_broken);
    assert_eq!(failing_rules(escape), ["LP117"]);
}

#[test]
fn host_paths_and_devices_are_graded_by_the_rules_tables() {
    let mut probe = fixture("default");
    probe.host_bind_mounts.push(leastpriv_probe::HostBindMount {
        target: "/etc-host".into(),
        host_path: "/etc".into(),
        source: "/dev/vda".into(),
        fstype: "ext4".into(),
        read_only: true,
        nosuid: false,
    });
    probe.host_bind_mounts.push(leastpriv_probe::HostBindMount {
        target: "/data".into(),
        host_path: "/srv/data".into(),
        source: "/dev/vda".into(),
        fstype: "ext4".into(),
        read_only: false,
        nosuid: false,
    });
    probe
        .escape
        .extra_devices
        .push(leastpriv_probe::DeviceNode {
            path: "/dev/fuse".into(),
            kind: "char".into(),
            major: 10,
            minor: 229,
        });
    let verdicts = judged_probe(
        "docker run -v /etc:/etc-host:ro -v /srv/data:/data --device /dev/fuse img",
        &probe,
        SECCOMP_DAEMON,
        &[],
    );
    let escape = layer(&verdicts, "escape");
    assert_eq!(
        failures(escape),
        [
            "LP112 [high] host path `/etc` is mounted read-only: the host's configuration (users, \
          sudoers, cron, services) at /etc-host"
        ]
    );
    assert!(escape.evidence.contains(
        &"LP121 [low] host device `/dev/fuse` is mapped: its kernel driver is exposed to the \
          container (char 10:229)"
            .to_owned()
    ));
    // Nobody mapped it: a broken promise.
    let verdicts = judged_probe(
        "docker run -v /etc:/etc-host:ro img",
        &probe,
        SECCOMP_DAEMON,
        &[],
    );
    assert!(layer(&verdicts, "escape").promise_broken);
}

#[test]
fn capabilities_added_on_purpose_are_graded_by_capability_added() {
    let mut probe = fixture("hardened");
    probe.capabilities.bounding = vec!["CAP_NET_BIND_SERVICE".into()];
    let verdicts = judged_probe(
        "docker run --cap-drop ALL --cap-add NET_BIND_SERVICE img",
        &probe,
        SECCOMP_DAEMON,
        &[],
    );
    assert_eq!(layer(&verdicts, "capabilities").status, Status::Pass);

    probe.capabilities.bounding = vec!["CAP_SYS_ADMIN".into()];
    let verdicts = judged_probe(
        "docker run --cap-drop ALL --cap-add SYS_ADMIN img",
        &probe,
        SECCOMP_DAEMON,
        &[],
    );
    let capabilities = layer(&verdicts, "capabilities");
    assert_eq!(capabilities.status, Status::Fail);
    assert!(!capabilities.promise_broken);
    assert_eq!(
        failures(capabilities),
        ["LP310 [critical] CAP_SYS_ADMIN added: mount, namespaces, BPF and most of root, a known \
          escape by itself"]
    );
    // A non-root user does not make a full bounding set hold: setuid binaries get it back.
    let user_only = judged("docker run --user 1000 img", "default", SECCOMP_DAEMON, &[]);
    assert_eq!(layer(&user_only, "capabilities").status, Status::Fail);
}

#[test]
fn daemon_promises() {
    // An AppArmor profile asked for on a daemon without AppArmor is silently not applied.
    let verdicts = judged(
        "docker run --security-opt apparmor=web img",
        "default",
        SECCOMP_DAEMON,
        &[],
    );
    let confinement = layer(&verdicts, "confinement");
    assert_eq!(confinement.status, Status::Fail);
    assert_eq!(
        confinement.evidence[0],
        "broken promise: apparmor=web was requested, but the daemon has no AppArmor: the profile \
         is not applied"
    );
    // apparmor=unconfined changes nothing on a host without AppArmor: said, not failed.
    let unconfined = judged(
        "docker run --security-opt apparmor=unconfined img",
        "default",
        SECCOMP_DAEMON,
        &[],
    );
    assert_eq!(layer(&unconfined, "confinement").status, Status::Pass);
    // On an AppArmor daemon the default profile is expected; unconfined fails LP404.
    let apparmor = judged(
        "docker run img",
        "default",
        r#"["name=apparmor","name=seccomp,profile=default"]"#,
        &[],
    );
    assert_eq!(
        failures(layer(&apparmor, "confinement")),
        [
            "broken promise: AppArmor profile docker-default expected, but the label is none",
            "LP404 [medium] AppArmor does not confine the process (label none)",
        ]
    );
    // userns-remap promises that container root is not host root.
    let userns = judged("docker run img", "default", r#"["name=userns"]"#, &[]);
    assert!(layer(&userns, "daemon").promise_broken);
    let opted_out = judged(
        "docker run --userns host img",
        "default",
        r#"["name=userns"]"#,
        &[],
    );
    let daemon = layer(&opted_out, "daemon");
    assert_eq!(daemon.status, Status::Fail);
    assert!(!daemon.promise_broken);
    // A remapped root holds.
    let mut probe = fixture("default");
    probe.user_namespace.uid_map = vec![[0, 100_000, 65536]];
    let remapped = judged_probe("docker run img", &probe, r#"["name=userns"]"#, &[]);
    assert_eq!(layer(&remapped, "daemon").status, Status::Pass);
}

#[test]
fn seccomp_unconfined_fails_confinement_and_a_missing_filter_is_a_broken_promise() {
    let mut probe = fixture("default");
    probe.seccomp.mode = "disabled".to_owned();
    let unconfined = judged_probe(
        "docker run --security-opt seccomp=unconfined img",
        &probe,
        SECCOMP_DAEMON,
        &[],
    );
    let confinement = layer(&unconfined, "confinement");
    assert_eq!(confinement.status, Status::Fail);
    assert!(!confinement.promise_broken);
    assert_eq!(
        failures(confinement),
        ["LP401 [high] no seccomp filter (mode disabled): --security-opt seccomp=unconfined lets \
          every syscall reach the kernel"]
    );

    let runtime = promised_runtime(
        &RunCommand::parse(&["docker".into(), "run".into(), "img".into()]).expect("parses"),
    );
    let daemon = Daemon::parse(SECCOMP_DAEMON);
    let promises = Promises {
        runtime: &runtime,
        syntax: Syntax::DockerRun,
        image_user: Some("app"),
        daemon: &daemon,
        expect: &[Expectation::Seccomp],
    };
    let verdicts = judge(&promises, &probe);
    let confinement = layer(&verdicts, "confinement");
    assert!(confinement.promise_broken);
    assert_eq!(
        confinement.evidence[0],
        "broken promise: no seccomp filter (mode disabled), although the engine's default profile \
         applies (LP401)"
    );
    // The image's USER is a promise too; this image has no /etc/passwd to resolve `app`.
    assert!(layer(&verdicts, "user")
        .evidence
        .iter()
        .any(|line| line.starts_with("the image's USER app: the image has no /etc/passwd")));
}

/// What `audit` says of a `docker run` line, per layer: the rules at medium or above.
fn audited(line: &str) -> std::collections::BTreeMap<String, Vec<&'static str>> {
    use leastpriv_rules::judgement::LAYER_MISSING;
    let db = SourceDb::new();
    let file = db.add("run.sh", format!("{line}\n"));
    let lowered = leastpriv_frontend::docker_run::lower(&db, file, &Default::default());
    let findings = leastpriv_rules::check(
        &db,
        lowered.containers.as_slice(),
        &leastpriv_rules::RuleSelection::all(),
    );
    let mut layers = std::collections::BTreeMap::new();
    for finding in findings {
        if finding.severity >= LAYER_MISSING {
            layers
                .entry(finding.rule.meta.layer.as_str().to_owned())
                .or_insert_with(Vec::new)
                .push(finding.rule.code);
        }
    }
    layers
}

/// A probe report as `--privileged` gives it on Docker 20.10: every capability, no seccomp filter,
/// `/sys` read-write, the host's devices.
fn privileged_probe() -> ProbeReport {
    let mut probe = fixture("default");
    probe.capabilities.bounding = leastpriv_model::ALL_CAPABILITIES
        .iter()
        .map(|name| format!("CAP_{name}"))
        .collect();
    probe.capabilities.effective = probe.capabilities.bounding.clone();
    probe.capabilities.permitted = probe.capabilities.bounding.clone();
    probe.seccomp.mode = "disabled".into();
    probe.seccomp.blocked.clear();
    probe.escape.privileged.likely = true;
    probe.escape.privileged.signs = vec!["41 of 41 capabilities in the bounding set".into()];
    probe.escape.sysfs_writable = true;
    probe
        .escape
        .extra_devices
        .push(leastpriv_probe::DeviceNode {
            path: "/dev/sda".into(),
            kind: "block".into(),
            major: 8,
            minor: 0,
        });
    probe
}

#[test]
fn audit_and_verify_tell_one_truth_on_canned_containers() {
    // The engine test (`crates/leastpriv/tests/one_truth.rs`) compares real runs; this one runs
    // everywhere, and covers `--privileged`, which not every engine can start. The daemon layer
    // needs the daemon's configuration, which a `docker run` line does not hold.
    let cases: Vec<(&str, ProbeReport)> = vec![
        ("docker run img", fixture("default")),
        (HARDENED, fixture("hardened")),
        (
            "docker run --pid host --network host -v /var/run/docker.sock:/var/run/docker.sock img",
            fixture("host-socket"),
        ),
        ("docker run --privileged img", privileged_probe()),
    ];
    for (line, probe) in cases {
        let verdicts = judged_probe(line, &probe, SECCOMP_DAEMON, &[]);
        let audit = audited(line);
        for verdict in verdicts.iter().filter(|verdict| verdict.layer != "daemon") {
            let audit_holds = !audit.contains_key(&verdict.layer);
            assert_eq!(
                verdict.status == Status::Pass,
                audit_holds,
                "{line}: {}: verify {:?}, audit {:?}",
                verdict.layer,
                verdict.evidence,
                audit.get(&verdict.layer)
            );
        }
    }
}
