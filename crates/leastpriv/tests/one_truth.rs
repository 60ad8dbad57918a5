//! One truth: for the same `docker run` line, a layer `verify` says holds has no `audit` finding at
//! medium or above in that layer, and a layer it says fails has one — on the real engine, over a
//! matrix of lines: Docker's insecure defaults, each hardening flag alone, all of them together,
//! `seccomp=unconfined`, engine sockets (also read-only), host namespaces and paths, root spelled
//! every way, capabilities added, secrets in the environment.
//!
//! `audit` reads the line as a script, with the engine's `docker info` beside it, so that its daemon
//! layer judges the same daemon `verify` runs on. Where one side cannot know what the other knows,
//! the comparison says so ([`stated_difference`]) and checks that the difference is exactly the one
//! stated: the image's `USER` is known only at run time, an AppArmor setting means nothing on a host
//! without AppArmor, the daemon's own process cannot be seen from inside a container.
//!
//! Needs the engine and `/bin/busybox` (static); skips (and fails under `CI=true`) without them.
//! The images it builds and every container are removed afterwards.
#![allow(clippy::print_stderr)]

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

use leastpriv_verify::engine;
use support::{skip, static_leastpriv, NO_STATIC_BINARY};

mod support;

/// The layers, in report order.
const LAYERS: [&str; 7] = [
    "escape",
    "user",
    "capabilities",
    "confinement",
    "filesystem",
    "secrets",
    "daemon",
];

/// The image a line runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Image {
    /// No `USER`: root.
    Root,
    /// `USER app` (uid 1000).
    App,
}

struct Case {
    flags: Vec<String>,
    image: Image,
    /// Environment of the `docker` CLI (for `-e NAME` passed through).
    env: Vec<(&'static str, &'static str)>,
}

fn case(flags: &[&str]) -> Case {
    Case {
        flags: flags.iter().map(|flag| (*flag).to_owned()).collect(),
        image: Image::Root,
        env: Vec::new(),
    }
}

impl Case {
    fn on(mut self, image: Image) -> Self {
        self.image = image;
        self
    }

    fn with_env(mut self, name: &'static str, value: &'static str) -> Self {
        self.env.push((name, value));
        self
    }
}

const HARDENED: &[&str] = &[
    "--user",
    "10001:10001",
    "--cap-drop",
    "ALL",
    "--read-only",
    "--tmpfs",
    "/tmp",
    "--security-opt",
    "no-new-privileges",
];

fn matrix() -> Vec<Case> {
    vec![
        // Docker's insecure defaults.
        case(&["--rm"]),
        // Each hardening flag alone, then all together.
        case(&["--user", "10001"]),
        case(&["--cap-drop", "ALL"]),
        case(&["--read-only", "--tmpfs", "/tmp"]),
        case(&["--security-opt", "no-new-privileges"]),
        case(HARDENED),
        // Confinement.
        case(&["--security-opt", "seccomp=unconfined"]),
        case(&["--security-opt", "apparmor=unconfined"]),
        case(&["--security-opt", "systempaths=unconfined"]),
        // Engine sockets, also read-only and through their directory.
        case(&["-v", "/var/run/docker.sock:/var/run/docker.sock"]),
        case(&["-v", "/var/run/docker.sock:/var/run/docker.sock:ro"]),
        case(&["-v", "/var/run:/host-run"]),
        // Host namespaces.
        case(&["--pid", "host"]),
        case(&["--network", "host"]),
        case(&["--ipc", "host"]),
        case(&["--uts", "host"]),
        case(&["--cgroupns", "host"]),
        case(&["--userns", "host"]),
        // Host paths.
        case(&["-v", "/etc:/etc-host:ro"]),
        case(&["-v", "/:/host:ro"]),
        // Root, spelled every way the runtime reads it.
        case(&["--user", "0"]),
        case(&["--user", "+0"]),
        case(&["--user", "0:0"]),
        case(&["--user", "root"]),
        case(&[]).on(Image::App),
        case(&["--user", "0"]).on(Image::App),
        // Capabilities.
        case(&["--cap-drop", "ALL", "--cap-add", "NET_BIND_SERVICE"]),
        case(&["--cap-drop", "ALL", "--cap-add", "SYS_ADMIN"]),
        case(&["--cap-add", "SYS_PTRACE"]),
        case(&["--cap-drop", "NET_RAW"]),
        // Secrets in the environment: a literal, and one passed through from the shell.
        case(&["-e", "DB_PASSWORD=leastpriv-test-not-a-secret"]),
        case(&["-e", "API_TOKEN"]).with_env("API_TOKEN", "leastpriv-test-not-a-secret"),
        // Everything hardened, and a socket on top.
        case(&[
            "--user",
            "10001:10001",
            "--cap-drop",
            "ALL",
            "--read-only",
            "--security-opt",
            "no-new-privileges",
            "-v",
            "/var/run/docker.sock:/var/run/docker.sock:ro",
        ]),
    ]
}

/// What one side says of each layer: `Ok(())` holds, `Err(why)` does not.
type Verdicts = BTreeMap<&'static str, Result<(), Vec<String>>>;

struct Engine {
    binary: String,
    busybox_dir: tempfile::TempDir,
    daemon: engine::Daemon,
    info: tempfile::TempDir,
    tags: BTreeMap<&'static str, String>,
}

impl Drop for Engine {
    fn drop(&mut self) {
        for tag in self.tags.values() {
            let _ = docker(&["rmi", "--force", tag]);
        }
    }
}

fn docker(args: &[&str]) -> engine::Output {
    let mut argv = vec!["docker".to_owned()];
    argv.extend(args.iter().map(|arg| (*arg).to_owned()));
    engine::run(&argv, std::time::Duration::from_secs(120)).expect("the docker CLI runs")
}

fn setup(test: &str) -> Option<Engine> {
    let daemon = match engine::daemon("docker", &[]) {
        Ok(daemon) => daemon,
        Err(error) => return skip(test, &format!("no container engine ({error})")),
    };
    if !Path::new("/bin/busybox").is_file() {
        return skip(
            test,
            "/bin/busybox is missing (apt-get install busybox-static)",
        );
    }
    let Some(binary) = static_leastpriv() else {
        return skip(test, NO_STATIC_BINARY);
    };
    let info = tempfile::tempdir().expect("a temporary directory");
    let output = docker(&["info", "--format", "{{json .}}"]);
    assert_eq!(output.code, Some(0), "docker info: {}", output.stderr);
    std::fs::write(info.path().join("docker-info.json"), output.stdout).expect("writes");
    let mut engine = Engine {
        binary: binary.to_string_lossy().into_owned(),
        busybox_dir: tempfile::tempdir().expect("a temporary directory"),
        daemon,
        info,
        tags: BTreeMap::new(),
    };
    let context = engine.busybox_dir.path();
    std::fs::copy("/bin/busybox", context.join("busybox")).expect("copy busybox");
    std::fs::write(
        context.join("passwd"),
        "root:x:0:0:root:/:/bin/sh\napp:x:1000:1000:app:/:/bin/sh\n",
    )
    .expect("passwd");
    for (name, user) in [("root", ""), ("app", "USER app\n")] {
        static BUILT: AtomicU32 = AtomicU32::new(0);
        let tag = format!(
            "leastpriv-test-truth-{}-{}-{name}",
            std::process::id(),
            BUILT.fetch_add(1, Ordering::Relaxed)
        );
        std::fs::write(
            context.join("Dockerfile"),
            format!(
                "FROM scratch\nCOPY busybox /bin/busybox\nCOPY passwd /etc/passwd\n{user}\
                 CMD [\"/bin/busybox\", \"true\"]\n"
            ),
        )
        .expect("Dockerfile");
        let output = Command::new("docker")
            .args(["build", "--no-cache", "--quiet", "--tag", &tag])
            .arg(context)
            .env("DOCKER_BUILDKIT", "0")
            .output()
            .expect("docker build runs");
        assert!(
            output.status.success(),
            "docker build: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        engine.tags.insert(name, tag);
    }
    Some(engine)
}

impl Engine {
    fn image(&self, image: Image) -> &str {
        &self.tags[match image {
            Image::Root => "root",
            Image::App => "app",
        }]
    }

    /// `leastpriv verify --format json -- docker run FLAGS IMAGE`: per layer, and the report.
    fn verify(&self, case: &Case) -> Result<(Verdicts, serde_json::Value), String> {
        let output = Command::new(env!("CARGO_BIN_EXE_leastpriv"))
            .args([
                "verify",
                "--format",
                "json",
                "--probe-binary",
                &self.binary,
                "--",
            ])
            .args(["docker", "run"])
            .args(&case.flags)
            .arg(self.image(case.image))
            .envs(case.env.iter().copied())
            .output()
            .expect("leastpriv runs");
        let stdout = String::from_utf8_lossy(&output.stdout);
        let report: serde_json::Value = serde_json::from_str(&stdout)
            .map_err(|_| String::from_utf8_lossy(&output.stderr).into_owned())?;
        let mut verdicts = Verdicts::new();
        for layer in report["layers"].as_array().expect("layers") {
            let name = LAYERS
                .iter()
                .find(|name| layer["layer"] == **name)
                .expect("a known layer");
            let failing: Vec<String> = layer["checks"]
                .as_array()
                .expect("checks")
                .iter()
                .filter(|check| check["outcome"] == "fail")
                .map(|check| check["text"].as_str().unwrap_or_default().to_owned())
                .collect();
            let holds = layer["status"] == "pass";
            assert_eq!(holds, failing.is_empty(), "{layer:#}");
            verdicts.insert(name, if holds { Ok(()) } else { Err(failing) });
        }
        let exit = output.status.code();
        let required_fail = verdicts.values().any(Result::is_err);
        assert_eq!(exit, Some(i32::from(required_fail)), "{report:#}");
        Ok((verdicts, report))
    }

    /// `leastpriv audit` of the same line as a script, beside the engine's `docker info`: per layer,
    /// the rules at medium or above.
    fn audit(&self, case: &Case) -> Verdicts {
        let script = self.info.path().join("run.sh");
        let line = format!(
            "docker run {} {}\n",
            case.flags.join(" "),
            self.image(case.image)
        );
        std::fs::write(&script, line).expect("writes");
        let output = Command::new(env!("CARGO_BIN_EXE_leastpriv"))
            .args([
                "audit",
                "--isolated",
                "--format",
                "json",
                "--fail-on",
                "never",
            ])
            .arg(&script)
            .arg(self.info.path().join("docker-info.json"))
            .output()
            .expect("leastpriv runs");
        let report: serde_json::Value =
            serde_json::from_slice(&output.stdout).expect("an audit report");
        assert_eq!(report["errors"], serde_json::json!([]), "{report:#}");
        let mut verdicts: Verdicts = LAYERS.iter().map(|layer| (*layer, Ok(()))).collect();
        for finding in report["findings"].as_array().expect("findings") {
            let severity = finding["severity"].as_str().unwrap_or_default();
            if !matches!(severity, "medium" | "high" | "critical") {
                continue;
            }
            let layer = LAYERS
                .iter()
                .find(|name| finding["layer"] == **name)
                .expect("a known layer");
            let rule = finding["rule"].as_str().unwrap_or_default().to_owned();
            match verdicts.get_mut(layer).expect("every layer") {
                Err(rules) => rules.push(rule),
                holds => *holds = Err(vec![rule]),
            }
        }
        verdicts
    }
}

/// Why `audit` and `verify` may disagree on `layer` for `case`, when one cannot know what the
/// other knows; and the audit rules that are then the whole disagreement.
fn stated_difference(
    case: &Case,
    layer: &str,
    daemon: &engine::Daemon,
) -> Option<(&'static str, &'static [&'static str])> {
    let has = |flag: &str| case.flags.iter().any(|word| word.contains(flag));
    match layer {
        "user" if case.image == Image::App && !has("--user") => Some((
            "the image's USER is known only when it runs: audit reads the line, not the image \
             (LP220 says the image is not in view); verify sees uid 1000",
            &["LP220"],
        )),
        "confinement" if has("apparmor=unconfined") && !daemon.has("apparmor") => Some((
            "this host has no AppArmor: `apparmor=unconfined` changes nothing here (verify), and \
             runs unconfined on a host that has it (audit, LP404)",
            &["LP404"],
        )),
        "daemon" => Some((
            "verify sees from inside only whether container root is host root (LP702); the \
             daemon's own exposure (LP701 runs as root, LP703 …) is audit's alone",
            &["LP701", "LP703", "LP708", "LP709", "LP710", "LP711"],
        )),
        _ => None,
    }
}

#[test]
fn verify_and_audit_tell_one_truth_on_the_engine() {
    let test = "verify_and_audit_tell_one_truth_on_the_engine";
    let Some(engine) = setup(test) else {
        return;
    };
    let mut disagreements = Vec::new();
    let mut stated = Vec::new();
    for case in matrix() {
        let mut words = vec!["docker".to_owned(), "run".to_owned()];
        words.extend(case.flags.iter().cloned());
        words.push(format!("<{:?} image>", case.image));
        let line = words.join(" ");
        let (verified, _) = match engine.verify(&case) {
            Ok(verified) => verified,
            Err(error) => panic!("{line}: verify gave no report: {error}"),
        };
        let audited = engine.audit(&case);
        let mut row = Vec::new();
        for layer in LAYERS {
            let (verify, audit) = (&verified[layer], &audited[layer]);
            row.push(format!(
                "{layer} {}/{}",
                if verify.is_ok() { "ok" } else { "FAIL" },
                if audit.is_ok() { "ok" } else { "FAIL" }
            ));
            if verify.is_ok() == audit.is_ok() {
                continue;
            }
            match (stated_difference(&case, layer, &engine.daemon), audit) {
                // The difference is the one stated: audit's only reasons are the rules named.
                (Some((why, rules)), Err(found))
                    if verify.is_ok()
                        && found.iter().all(|rule| rules.contains(&rule.as_str())) =>
                {
                    stated.push(format!("{line}: {layer}: {why}"));
                }
                _ => disagreements.push(format!(
                    "{line}: {layer}: verify {verify:?}, audit {audit:?}"
                )),
            }
        }
        eprintln!("{line}\n    {}", row.join("  "));
    }
    for difference in &stated {
        eprintln!("stated: {difference}");
    }
    assert!(
        disagreements.is_empty(),
        "verify and audit disagree:\n{}",
        disagreements.join("\n")
    );
    // The stated differences happen here as stated (an AppArmor host has one fewer).
    assert!(
        stated
            .iter()
            .any(|line| line.contains("<App image>: user:")),
        "{stated:#?}"
    );
}

#[test]
fn verify_and_audit_agree_on_privileged_mode() {
    let test = "verify_and_audit_agree_on_privileged_mode";
    let Some(engine) = setup(test) else {
        return;
    };
    let privileged = case(&["--privileged"]);
    let mut cases = Vec::new();
    match engine.verify(&privileged) {
        Ok(_) => cases.push(privileged),
        Err(error) if error.contains("unable to apply caps") => {
            eprintln!(
                "--privileged cannot start on this engine (its host lacks a capability runc \
                 would grant); its closest equivalent is compared instead"
            );
        }
        Err(error) => panic!("--privileged: {error}"),
    }
    // Privileged in all but name: every capability the host can give, no seccomp, no masks.
    let missing = host_missing_capabilities();
    let mut stand_in = case(&[
        "--cap-add=ALL",
        "--security-opt=seccomp=unconfined",
        "--security-opt=systempaths=unconfined",
    ]);
    stand_in
        .flags
        .extend(missing.iter().map(|cap| format!("--cap-drop={cap}")));
    cases.push(stand_in);
    for case in cases {
        let (verified, report) = engine.verify(&case).expect("a report");
        let audited = engine.audit(&case);
        for layer in LAYERS {
            if verified[layer].is_ok() == audited[layer].is_ok() {
                continue;
            }
            assert!(
                stated_difference(&case, layer, &engine.daemon).is_some(),
                "{:?}: {layer}: verify {:?}, audit {:?}\n{report:#}",
                case.flags,
                verified[layer],
                audited[layer]
            );
        }
        for layer in ["capabilities", "confinement"] {
            assert!(verified[layer].is_err(), "{:?}: {layer}", case.flags);
        }
    }
}

/// Capabilities this host's own bounding set lacks (runc cannot grant them).
fn host_missing_capabilities() -> Vec<String> {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let bounding = status
        .lines()
        .find_map(|line| line.strip_prefix("CapBnd:"))
        .and_then(|mask| u64::from_str_radix(mask.trim(), 16).ok())
        .unwrap_or(u64::MAX);
    let last_cap: u32 = std::fs::read_to_string("/proc/sys/kernel/cap_last_cap")
        .ok()
        .and_then(|text| text.trim().parse().ok())
        .unwrap_or(40);
    (0..=last_cap.min(40))
        .filter(|bit| bounding & (1 << bit) == 0)
        .filter_map(|bit| leastpriv_model::ALL_CAPABILITIES.get(bit as usize))
        .map(|name| (*name).to_owned())
        .collect()
}
