//! Verdicts over probe reports captured from real containers (Docker 20.10, kernel 6.18,
//! `tests/fixtures/*.json`) against the flags that produced them — and against flags they do not
//! match, as when configuration lies.

use leastpriv_probe::ProbeReport;

use leastpriv_source::SourceDb;

use super::{judge, Promises, Syntax};
use crate::engine::Daemon;
use crate::expect::Expectation;
use crate::report::{LayerVerdict, Status};
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
    judge(&promises, &fixture(probe))
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

#[test]
fn docker_defaults_hold() {
    let verdicts = judged("docker run img", "default", SECCOMP_DAEMON, &[]);
    assert_eq!(
        statuses(&verdicts),
        vec![
            ("escape", "pass"),
            ("user", "not-applicable"),
            ("capabilities", "pass"),
            ("confinement", "pass"),
            ("filesystem", "not-applicable"),
            ("secrets", "not-applicable"),
            ("daemon", "not-applicable"),
        ]
    );
    let capabilities = layer(&verdicts, "capabilities");
    assert_eq!(
        capabilities.evidence[0],
        "bounding set: 14 capabilities (Docker's default set)"
    );
    assert_eq!(
        layer(&verdicts, "user").evidence,
        vec!["no user configured: runs as uid 0, gid 0"]
    );
}

#[test]
fn hardened_flags_hold() {
    let all = [
        Expectation::NonRoot,
        Expectation::CapDropAll,
        Expectation::NoNewPrivileges,
        Expectation::ReadOnly,
        Expectation::Seccomp,
        Expectation::NoEngineSocket,
    ];
    let verdicts = judged(HARDENED, "hardened", SECCOMP_DAEMON, &all);
    assert_eq!(
        statuses(&verdicts),
        vec![
            ("escape", "pass"),
            ("user", "pass"),
            ("capabilities", "pass"),
            ("confinement", "pass"),
            ("filesystem", "pass"),
            ("secrets", "not-applicable"),
            ("daemon", "not-applicable"),
        ]
    );
    assert!(layer(&verdicts, "user")
        .evidence
        .contains(&"runs as uid 1000, gid 1000, as --user 1000:1000 promised".to_owned()));
    assert!(layer(&verdicts, "filesystem")
        .evidence
        .contains(&"root filesystem read-only, as --read-only promised".to_owned()));
    assert_eq!(
        layer(&verdicts, "secrets").evidence,
        vec!["secret-looking environment variables: DB_PASSWORD"]
    );
    let strict = judged(
        HARDENED,
        "hardened",
        SECCOMP_DAEMON,
        &[Expectation::NoSecretEnv],
    );
    assert_eq!(layer(&strict, "secrets").status, Status::Fail);
}

#[test]
fn a_configuration_that_lies_fails_on_the_right_layers() {
    // The hardened flags, but the container got Docker's defaults (an orchestrator dropped them).
    let verdicts = judged(HARDENED, "default", SECCOMP_DAEMON, &[]);
    assert_eq!(
        statuses(&verdicts),
        vec![
            ("escape", "pass"),
            ("user", "fail"),
            ("capabilities", "fail"),
            ("confinement", "fail"),
            ("filesystem", "fail"),
            ("secrets", "not-applicable"),
            ("daemon", "not-applicable"),
        ]
    );
    let user = layer(&verdicts, "user");
    assert_eq!(
        user.evidence[0],
        "--user 1000:1000 promised uid 1000, but the process runs as uid 0, gid 0"
    );
    assert_eq!(user.failures, 2);
    let capabilities = layer(&verdicts, "capabilities");
    assert_eq!(capabilities.failures, 1, "{:?}", capabilities.evidence);
    assert!(capabilities.evidence[0]
        .starts_with("dropped, but the process still has CAP_AUDIT_WRITE, CAP_CHOWN, "));
    assert!(layer(&verdicts, "confinement")
        .evidence
        .contains(&"no-new-privileges promised no_new_privs, but it is off".to_owned()));
    let filesystem = layer(&verdicts, "filesystem");
    assert_eq!(
        &filesystem.evidence[..filesystem.failures],
        [
            "--read-only promised a read-only root filesystem, but it is writable",
            "writable mounts nobody configured: /etc/resolv.conf, /etc/hostname, /etc/hosts",
            "--tmpfs /tmp was configured, but is not a tmpfs",
        ]
    );
}

#[test]
fn compose_promises_are_named_by_their_compose_keys() {
    // The same lie, told by a Compose service.
    let db = SourceDb::new();
    let file = db.add(
        "compose.yaml",
        "services:\n  web:\n    image: img\n    user: \"1000:1000\"\n    read_only: true\n    \
         tmpfs: [/tmp]\n",
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
        "user: 1000:1000 promised uid 1000, but the process runs as uid 0, gid 0"
    );
    let filesystem = layer(&verdicts, "filesystem");
    assert_eq!(
        &filesystem.evidence[..filesystem.failures],
        [
            "read_only: true promised a read-only root filesystem, but it is writable",
            "writable mounts nobody configured: /etc/resolv.conf, /etc/hostname, /etc/hosts",
            "tmpfs /tmp was configured, but is not a tmpfs",
        ]
    );
}

#[test]
fn unconfigured_host_namespaces_and_sockets_fail_the_escape_layer() {
    let verdicts = judged("docker run img", "host-socket", SECCOMP_DAEMON, &[]);
    let escape = layer(&verdicts, "escape");
    assert_eq!(escape.status, Status::Fail);
    assert_eq!(escape.failures, 3, "{:?}", escape.evidence);
    assert!(escape.evidence[0].starts_with("the host's PID namespace, although not configured"));
    assert!(escape.evidence[1].starts_with("the host's network namespace, although not configured"));
    assert_eq!(
        escape.evidence[2],
        "engine socket /var/run/docker.sock reachable although not mounted, and it answers"
    );

    // Configured: the layer holds what was asked, and --expect still refuses the socket.
    let configured = "docker run --pid host --network host \
                      -v /var/run/docker.sock:/var/run/docker.sock img";
    let verdicts = judged(configured, "host-socket", SECCOMP_DAEMON, &[]);
    assert_eq!(layer(&verdicts, "escape").status, Status::Pass);
    let strict = verdicts_with(
        configured,
        &[Expectation::NoEngineSocket, Expectation::NoHostNamespaces],
    );
    let escape = layer(&strict, "escape");
    assert_eq!(escape.status, Status::Fail);
    assert_eq!(
        &escape.evidence[..escape.failures],
        [
            "expect no-engine-socket: /var/run/docker.sock reachable",
            "expect no-host-namespaces: the container shares a host namespace",
        ]
    );
}

fn verdicts_with(line: &str, expect: &[Expectation]) -> Vec<LayerVerdict> {
    judged(line, "host-socket", SECCOMP_DAEMON, expect)
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
        "apparmor=web was requested, but the daemon has no AppArmor: the profile is not applied"
    );
    // On an AppArmor daemon the default profile is expected.
    let apparmor = judged(
        "docker run img",
        "default",
        r#"["name=apparmor","name=seccomp,profile=default"]"#,
        &[],
    );
    assert_eq!(
        layer(&apparmor, "confinement").evidence[0],
        "AppArmor profile docker-default expected, but the label is none"
    );
    // userns-remap promises that container root is not host root.
    let userns = judged("docker run img", "default", r#"["name=userns"]"#, &[]);
    assert_eq!(layer(&userns, "daemon").status, Status::Fail);
    let opted_out = judged(
        "docker run --userns host img",
        "default",
        r#"["name=userns"]"#,
        &[],
    );
    assert_eq!(layer(&opted_out, "daemon").status, Status::NotApplicable);
}

#[test]
fn seccomp_unconfined_promises_nothing_and_a_missing_filter_fails() {
    let unconfined = judged(
        "docker run --security-opt seccomp=unconfined img",
        "default",
        SECCOMP_DAEMON,
        &[],
    );
    assert_eq!(
        layer(&unconfined, "confinement").status,
        Status::NotApplicable
    );

    let mut probe = fixture("default");
    probe.seccomp.mode = "disabled".to_owned();
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
    assert_eq!(confinement.status, Status::Fail);
    assert_eq!(
        confinement.evidence[0],
        "no seccomp filter (mode disabled), although the engine's default profile applies"
    );
    // The image's USER is a promise too; this image has no /etc/passwd to resolve `app`.
    assert_eq!(layer(&verdicts, "user").status, Status::NotApplicable);
}
