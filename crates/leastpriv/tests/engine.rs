//! `leastpriv probe` and `leastpriv verify` on the real engine, no registry.
//!
//! A `FROM scratch` image holding busybox (Debian's `busybox-static`) and the *static* leastpriv binary
//! is built for each test and removed afterwards, also when the test fails; every container runs with
//! `--rm` and a unique name and is force-removed after its run. Needs:
//! - a reachable engine (`docker info`); without one the tests print why and pass, unless `CI=true`;
//! - `/bin/busybox` (static) and a static leastpriv: `$LEASTPRIV_PROBE_BINARY`, or the binary under
//!   test, which the default build makes static on Linux.
#![allow(clippy::print_stderr)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use leastpriv_probe::ProbeReport;
use leastpriv_verify::engine;
use support::{compose_tool, skip, static_leastpriv, NO_STATIC_BINARY};

mod support;

const TIMEOUT: Duration = Duration::from_secs(120);

/// The 14 capabilities Docker grants by default, in bit order.
const DOCKER_DEFAULT: [&str; 14] = [
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_RAW",
    "CAP_SYS_CHROOT",
    "CAP_MKNOD",
    "CAP_AUDIT_WRITE",
    "CAP_SETFCAP",
];

/// Syscalls Docker's default profile blocks on every version and kernel the probe knows, and whose
/// probe arguments fail before any permission check (so EPERM is the filter's).
const ALWAYS_BLOCKED: [&str; 14] = [
    "mount",
    "umount2",
    "unshare",
    "clone",
    "setns",
    "keyctl",
    "add_key",
    "request_key",
    "bpf",
    "perf_event_open",
    "userfaultfd",
    "clock_settime",
    "settimeofday",
    "swapon",
];

/// What the tests need; `None` (after saying why) when they cannot run here.
struct Setup {
    static_binary: PathBuf,
    busybox: PathBuf,
    daemon: engine::Daemon,
}

fn setup(test: &str) -> Option<Setup> {
    let daemon = match engine::daemon("docker", &[]) {
        Ok(daemon) => daemon,
        Err(error) => return skip(test, &format!("no container engine ({error})")),
    };
    let busybox = PathBuf::from("/bin/busybox");
    if !busybox.is_file() {
        return skip(
            test,
            "/bin/busybox is missing (apt-get install busybox-static)",
        );
    }
    let Some(static_binary) = static_leastpriv() else {
        return skip(test, NO_STATIC_BINARY);
    };
    eprintln!("{test}: probing with {}", static_binary.display());
    Some(Setup {
        static_binary,
        busybox,
        daemon,
    })
}

fn unique(what: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    format!(
        "leastpriv-test-{what}-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

fn docker(args: &[&str]) -> engine::Output {
    let mut argv = vec!["docker".to_owned()];
    argv.extend(args.iter().map(|arg| (*arg).to_owned()));
    engine::run(&argv, TIMEOUT).expect("the docker CLI runs")
}

/// A test image, removed when dropped (also while a failed assertion unwinds).
struct Image {
    tag: String,
}

impl Image {
    /// `FROM scratch` with busybox, leastpriv at /leastpriv, an /etc/passwd with `app` (1000), and
    /// `extra` Dockerfile lines.
    fn build(setup: &Setup, extra: &str) -> Self {
        let context = tempfile::tempdir().expect("temporary directory");
        let dir = context.path();
        std::fs::copy(&setup.busybox, dir.join("busybox")).expect("copy busybox");
        std::fs::copy(&setup.static_binary, dir.join("leastpriv")).expect("copy leastpriv");
        std::fs::write(
            dir.join("passwd"),
            "root:x:0:0:root:/:/bin/sh\napp:x:1000:1000:app:/:/bin/sh\n",
        )
        .expect("passwd");
        std::fs::write(
            dir.join("Dockerfile"),
            format!(
                "FROM scratch\nCOPY busybox /bin/busybox\nCOPY leastpriv /leastpriv\n\
                 COPY passwd /etc/passwd\n{extra}\nCMD [\"/bin/busybox\", \"sleep\", \"5\"]\n"
            ),
        )
        .expect("Dockerfile");
        let image = Self {
            tag: unique("image"),
        };
        // The classic builder needs no registry and no buildx plugin.
        let output = Command::new("docker")
            .args(["build", "--no-cache", "--quiet", "--tag", &image.tag])
            .arg(dir)
            .env("DOCKER_BUILDKIT", "0")
            .output()
            .expect("docker build runs");
        assert!(
            output.status.success(),
            "docker build failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        image
    }

    /// Runs `/leastpriv probe --format json` with `flags`; the report, or the CLI's error output.
    fn probe(&self, flags: &[&str]) -> Result<ProbeReport, String> {
        let name = unique("probe");
        let name_flag = format!("--name={name}");
        let mut args = vec!["run", "--rm", name_flag.as_str()];
        args.extend(flags);
        args.extend([self.tag.as_str(), "/leastpriv", "probe", "--format", "json"]);
        let output = docker(&args);
        let _ = docker(&["rm", "--force", &name]);
        if output.code != Some(0) {
            return Err(output.stderr);
        }
        Ok(serde_json::from_str(&output.stdout).expect("the probe prints a report"))
    }
}

impl Drop for Image {
    fn drop(&mut self) {
        let _ = docker(&["rmi", "--force", &self.tag]);
    }
}

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|name| (*name).to_owned()).collect()
}

fn status_of<'a>(report: &'a ProbeReport, syscall: &str) -> &'a str {
    report
        .seccomp
        .syscalls
        .iter()
        .find(|result| result.name == syscall)
        .map_or("missing", |result| result.status.as_str())
}

#[test]
fn probe_reports_each_hardening_flag() {
    let Some(setup) = setup("probe_reports_each_hardening_flag") else {
        return;
    };
    let image = Image::build(&setup, "");
    let confining_lsm = setup.daemon.has("apparmor") || setup.daemon.has("selinux");

    // Docker's defaults.
    let default = image.probe(&[]).expect("default run");
    assert_eq!(
        (default.uid, default.gid, default.host_uid),
        (0, 0, Some(0))
    );
    assert_eq!(default.user_name.as_deref(), Some("root"));
    assert_eq!(default.capabilities.effective, names(&DOCKER_DEFAULT));
    assert_eq!(default.capabilities.bounding, names(&DOCKER_DEFAULT));
    assert!(default.capabilities.ambient.is_empty());
    assert!(default.capabilities.dangerous.is_empty());
    assert!(!default.no_new_privs);
    assert_eq!(default.seccomp.mode, "filter");
    for syscall in ALWAYS_BLOCKED {
        assert_eq!(status_of(&default, syscall), "blocked", "{syscall}");
    }
    assert_eq!(status_of(&default, "ptrace"), "allowed");
    assert!(default.seccomp.differs_from_docker_default.is_empty());
    if !confining_lsm {
        assert_eq!(default.lsm, None);
    }
    assert!(!default.rootfs_read_only && default.rootfs_writable_by_process);
    assert!(default.writable_mounts.contains(&"/".to_owned()));
    assert!(default.host_bind_mounts.is_empty());
    assert!(default.engine_sockets.is_empty());
    assert!(!default.escape.privileged.likely);
    assert!(!default.escape.host_pid_namespace.likely);
    assert!(!default.escape.host_network_namespace.likely);
    assert!(default.escape.writable_kernel_files.is_empty());
    assert!(default.escape.extra_devices.is_empty());
    assert!(!default.escape.cgroup.release_agent_escape);
    assert_eq!(default.container.detected.as_deref(), Some("docker"));
    assert!(
        default.duration_us < 1_000_000,
        "the probe took {} µs",
        default.duration_us
    );

    // --user: non-root loses every effective capability at exec; the bounding set stays.
    let user = image.probe(&["--user", "1000:1000"]).expect("--user run");
    assert_eq!((user.uid, user.gid), (1000, 1000));
    assert_eq!(user.user_name.as_deref(), Some("app"));
    assert!(user.capabilities.effective.is_empty());
    assert!(user.capabilities.permitted.is_empty());
    assert_eq!(user.capabilities.bounding, names(&DOCKER_DEFAULT));
    assert!(!user.rootfs_writable_by_process, "/ belongs to root");

    // --cap-drop ALL: every set empty.
    let dropped = image.probe(&["--cap-drop", "ALL"]).expect("--cap-drop run");
    let caps = &dropped.capabilities;
    for set in [
        &caps.effective,
        &caps.permitted,
        &caps.bounding,
        &caps.ambient,
        &caps.inheritable,
    ] {
        assert!(set.is_empty());
    }
    assert_eq!(caps.masks.bounding, "0000000000000000");

    // --security-opt no-new-privileges.
    let nnp = image
        .probe(&["--security-opt", "no-new-privileges"])
        .expect("no-new-privileges run");
    assert!(nnp.no_new_privs);
    assert!(!default.no_new_privs);

    // --read-only with a tmpfs.
    let read_only = image
        .probe(&["--read-only", "--tmpfs", "/tmp"])
        .expect("--read-only run");
    assert!(read_only.rootfs_read_only);
    assert!(!read_only.rootfs_writable_by_process);
    assert!(!read_only.writable_mounts.contains(&"/".to_owned()));
    assert!(read_only.writable_mounts.contains(&"/tmp".to_owned()));
    let tmp = read_only
        .tmpfs_mounts
        .iter()
        .find(|tmpfs| tmpfs.target == "/tmp")
        .expect("/tmp is a tmpfs");
    assert_eq!(tmp.options, names(&["nosuid", "nodev", "noexec"]));

    // seccomp=unconfined: no filter, and every argument-checked probe reaches the kernel.
    let unconfined = image
        .probe(&["--security-opt", "seccomp=unconfined"])
        .expect("unconfined run");
    assert_eq!(unconfined.seccomp.mode, "disabled");
    assert!(unconfined.seccomp.blocked.is_empty());
    for syscall in ALWAYS_BLOCKED {
        assert_eq!(status_of(&unconfined, syscall), "allowed", "{syscall}");
    }

    // The engine socket.
    let socket = image
        .probe(&["--volume", "/var/run/docker.sock:/var/run/docker.sock"])
        .expect("socket run");
    assert_eq!(socket.engine_sockets, names(&["/var/run/docker.sock"]));
    let engine_socket = &socket.escape.engine_sockets[0];
    assert_eq!(engine_socket.kind, "docker");
    assert!(engine_socket.connectable && engine_socket.answers);
    assert!(engine_socket.api_version.is_some());
    assert!(socket
        .host_bind_mounts
        .iter()
        .any(|bind| bind.target == "/var/run/docker.sock" && !bind.read_only));
}

#[test]
fn probe_recognises_privileged_mode() {
    let Some(setup) = setup("probe_recognises_privileged_mode") else {
        return;
    };
    let image = Image::build(&setup, "");
    match image.probe(&["--privileged"]) {
        Ok(privileged) => {
            assert!(
                privileged.escape.privileged.likely,
                "{:?}",
                privileged.escape.privileged
            );
            assert_eq!(privileged.seccomp.mode, "disabled");
            assert!(privileged.escape.sysfs_writable);
            assert!(!privileged.escape.extra_devices.is_empty());
            assert!(privileged
                .capabilities
                .dangerous
                .contains(&"CAP_SYS_ADMIN".to_owned()));
        }
        Err(error) if error.contains("unable to apply caps") => {
            // The host itself lacks a capability (a VM sandbox), so runc cannot grant "all".
            eprintln!(
                "--privileged cannot start on this engine ({}); checking its closest equivalent",
                engine::first_line(&error)
            );
        }
        Err(error) => panic!("--privileged run failed: {error}"),
    }
    // Every capability the host can give, no seccomp, no masked paths: privileged in all but name.
    let missing = host_missing_capabilities();
    let mut flags = vec![
        "--cap-add=ALL".to_owned(),
        "--security-opt=seccomp=unconfined".to_owned(),
        "--security-opt=systempaths=unconfined".to_owned(),
    ];
    flags.extend(missing.iter().map(|cap| format!("--cap-drop={cap}")));
    let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
    let report = image.probe(&flags).expect("all-capabilities run");
    assert!(
        report.escape.privileged.likely,
        "{:?}",
        report.escape.privileged
    );
    assert_eq!(report.seccomp.mode, "disabled");
    assert!(report.seccomp.blocked.is_empty() && report.seccomp.denied.is_empty());
    assert!(report.escape.proc_sys_writable);
    assert!(report.escape.cgroup.release_agent_escape);
    assert!(report
        .capabilities
        .dangerous
        .contains(&"CAP_SYS_ADMIN".to_owned()));
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

/// Runs `leastpriv verify --format json` on the host with the static probe.
fn verify(setup: &Setup, expect: &str, command: &[&str]) -> (Option<i32>, serde_json::Value) {
    let output = Command::new(env!("CARGO_BIN_EXE_leastpriv"))
        .args(["verify", "--format", "json", "--probe-binary"])
        .arg(&setup.static_binary)
        .args(["--expect", expect, "--"])
        .args(command)
        .output()
        .expect("leastpriv runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let report = serde_json::from_str(&stdout).unwrap_or_else(|error| {
        panic!(
            "verify printed no report ({error}): {}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    (output.status.code(), report)
}

fn layer_statuses(report: &serde_json::Value) -> Vec<(String, String)> {
    report["layers"]
        .as_array()
        .expect("layers")
        .iter()
        .map(|layer| {
            (
                layer["layer"].as_str().unwrap_or_default().to_owned(),
                layer["status"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

fn expected(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(layer, status)| ((*layer).to_owned(), (*status).to_owned()))
        .collect()
}

#[test]
fn verify_passes_hardened_flags_and_fails_broken_promises() {
    let Some(setup) = setup("verify_passes_hardened_flags_and_fails_broken_promises") else {
        return;
    };
    let image = Image::build(&setup, "");
    let policy = "non-root,cap-drop-all,no-new-privileges,read-only,seccomp,no-engine-socket";

    let hardened = [
        "docker",
        "run",
        "-d",
        "--name",
        "web",
        "-p",
        "127.0.0.1:18080:80",
        "--user",
        "1000:1000",
        "--cap-drop",
        "ALL",
        "--security-opt",
        "no-new-privileges",
        "--read-only",
        "--tmpfs",
        "/tmp",
        &image.tag,
    ];
    let (code, report) = verify(&setup, policy, &hardened);
    assert_eq!(code, Some(0), "{report:#}");
    // The daemon layer fails (container root is host root on an engine without userns-remap),
    // but the policy does not require it.
    let daemon = if setup.daemon.has("userns") || setup.daemon.has("rootless") {
        "pass"
    } else {
        "fail"
    };
    assert_eq!(
        layer_statuses(&report),
        expected(&[
            ("escape", "pass"),
            ("user", "pass"),
            ("capabilities", "pass"),
            ("confinement", "pass"),
            ("filesystem", "pass"),
            ("secrets", "pass"),
            ("daemon", daemon),
        ])
    );
    assert_eq!(report["holds"], true);
    assert_eq!(
        report["required"],
        serde_json::json!([
            "escape",
            "user",
            "capabilities",
            "confinement",
            "filesystem"
        ])
    );
    assert_eq!(report["probe"]["uid"], 1000);
    assert_eq!(
        report["dropped_flags"],
        serde_json::json!(["--detach", "--name", "--publish"])
    );

    // Docker's defaults against the same policy: root, the default capabilities, a writable root
    // and no no_new_privs fail; Docker's seccomp profile holds the confinement layer.
    let (code, report) = verify(&setup, policy, &["docker", "run", &image.tag]);
    assert_eq!(code, Some(1), "{report:#}");
    assert_eq!(
        layer_statuses(&report),
        expected(&[
            ("escape", "pass"),
            ("user", "fail"),
            ("capabilities", "fail"),
            ("confinement", "pass"),
            ("filesystem", "fail"),
            ("secrets", "pass"),
            ("daemon", daemon),
        ])
    );
    // Without --expect, every layer must hold: the insecure defaults fail, with the audit rules
    // that judge the same.
    let output = Command::new(env!("CARGO_BIN_EXE_leastpriv"))
        .args([
            "verify", "--format", "json", "--", "docker", "run", &image.tag,
        ])
        .env("LEASTPRIV_PROBE_BINARY", &setup.static_binary)
        .output()
        .expect("leastpriv runs");
    assert_eq!(output.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("a report");
    assert_eq!(report["holds"], false);
    let user = &report["layers"][1];
    assert_eq!(user["checks"][0]["rule"], "LP201");
    assert_eq!(user["checks"][0]["promise_broken"], false);
}

#[test]
fn verify_holds_the_image_user_and_the_mounted_socket_to_account() {
    let Some(setup) = setup("verify_holds_the_image_user_and_the_mounted_socket_to_account") else {
        return;
    };
    let image = Image::build(&setup, "USER app");
    let (code, report) = verify(
        &setup,
        "non-root",
        &["docker", "run", "-e", "API_TOKEN=abc123", &image.tag],
    );
    assert_eq!(code, Some(0), "{report:#}");
    let user = &report["layers"][1];
    assert_eq!(user["status"], "pass");
    assert_eq!(
        user["evidence"][0],
        "runs as uid 1000 (app), gid 1000, as the image's USER app promised"
    );
    assert_eq!(
        report["probe"]["secret_env_names"],
        serde_json::json!(["API_TOKEN"])
    );
    let text = report.to_string();
    assert!(
        !text.contains("abc123"),
        "a secret value leaked into the report"
    );

    let (code, report) = verify(
        &setup,
        "no-engine-socket",
        &[
            "docker",
            "run",
            "-v",
            "/var/run/docker.sock:/var/run/docker.sock",
            &image.tag,
        ],
    );
    assert_eq!(code, Some(1), "{report:#}");
    assert_eq!(report["layers"][0]["status"], "fail");
    assert_eq!(
        report["layers"][0]["evidence"][0],
        "broken promise: expect no-engine-socket: /var/run/docker.sock reachable"
    );
    assert_eq!(report["layers"][0]["promise_broken"], true);
}

#[test]
fn verify_without_an_engine_is_a_one_line_error() {
    if !Path::new("/bin/busybox").exists()
        || Command::new("docker").arg("--version").output().is_err()
    {
        eprintln!(
            "skipping verify_without_an_engine_is_a_one_line_error: no docker CLI or busybox"
        );
        return;
    }
    // busybox-static stands in for the static probe: the engine is asked first.
    let output = Command::new(env!("CARGO_BIN_EXE_leastpriv"))
        .args([
            "verify",
            "--probe-binary",
            "/bin/busybox",
            "--",
            "docker",
            "run",
            "img",
        ])
        .env("DOCKER_HOST", "unix:///nonexistent/leastpriv-test.sock")
        .output()
        .expect("leastpriv runs");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("leastpriv: error: the container engine is not reachable: "),
        "{stderr}"
    );
}

#[test]
fn verify_compose_reports_a_failing_build_without_its_output() {
    let test = "verify_compose_reports_a_failing_build_without_its_output";
    let Some(setup) = setup(test) else {
        return;
    };
    if compose_tool().is_none() {
        skip::<()>(test, "neither `docker compose` nor `docker-compose` runs");
        return;
    }
    let dir = tempfile::tempdir().expect("a temporary directory");
    // No shell in scratch: the RUN fails, and the builder's message quotes its command.
    std::fs::write(
        dir.path().join("Dockerfile"),
        "FROM scratch\nRUN [\"/bin/false\", \"ghp_FAKE0leastpriv0test0token00000000000\"]\n",
    )
    .expect("writes");
    let compose = dir.path().join("compose.yaml");
    std::fs::write(&compose, "services:\n  app:\n    build: .\n").expect("writes");
    let output = Command::new(env!("CARGO_BIN_EXE_leastpriv"))
        .args(["verify", "--probe-binary"])
        .arg(&setup.static_binary)
        .arg("--compose")
        .arg(&compose)
        .output()
        .expect("leastpriv runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.starts_with("leastpriv: error: building the service's image failed (exit "),
        "{stderr}"
    );
    assert!(
        stderr.contains(" build --force-rm app` shows why"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("ghp_FAKE0"),
        "the build's output leaked: {stderr}"
    );
    let containers = docker(&["ps", "--all", "--no-trunc", "--format", "{{.Command}}"]);
    assert!(
        !containers.stdout.contains("ghp_FAKE0leastpriv"),
        "the failed step's container was left behind: {}",
        containers.stdout
    );
}

#[test]
fn leastpriv_image_builds_from_scratch_and_runs_as_non_root() {
    let test = "leastpriv_image_builds_from_scratch_and_runs_as_non_root";
    let Some(setup) = setup(test) else {
        return;
    };
    // The repository's Dockerfile and .dockerignore, with the binary under test as README's `cp`
    // puts the release binary.
    let repository = Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("the repository root");
    let context = tempfile::tempdir().expect("a temporary directory");
    for file in ["Dockerfile", ".dockerignore"] {
        std::fs::copy(repository.join(file), context.path().join(file)).expect("copies");
    }
    std::fs::copy(&setup.static_binary, context.path().join("leastpriv")).expect("copies");
    std::fs::write(context.path().join("unrelated.txt"), "not sent").expect("writes");
    let image = Image {
        tag: unique("self"),
    };
    let output = Command::new("docker")
        .args(["build", "--no-cache", "--quiet", "--tag", &image.tag])
        .arg(context.path())
        .env("DOCKER_BUILDKIT", "0")
        .output()
        .expect("docker build runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let user = docker(&[
        "image",
        "inspect",
        "--format",
        "{{.Config.User}}",
        &image.tag,
    ]);
    assert_eq!(user.stdout.trim(), "65532:65532");
    // The binary and the empty working directory: nothing else was sent or copied.
    let size = docker(&["image", "inspect", "--format", "{{.Size}}", &image.tag]);
    let size: u64 = size.stdout.trim().parse().expect("a size");
    let binary = setup.static_binary.metadata().expect("the binary").len();
    assert!(
        size < binary + 64 * 1024,
        "{size} bytes for a {binary}-byte binary"
    );

    // It audits a mounted project, as README says, as a user who can read only what others can.
    let project = tempfile::tempdir().expect("a temporary directory");
    std::fs::write(
        project.path().join("Dockerfile"),
        "FROM scratch\nCOPY app /app\nUSER root\n",
    )
    .expect("writes");
    std::fs::set_permissions(project.path(), std::fs::Permissions::from_mode(0o755))
        .expect("chmod");
    std::fs::set_permissions(
        project.path().join("Dockerfile"),
        std::fs::Permissions::from_mode(0o644),
    )
    .expect("chmod");
    let mount = format!("{}:/src:ro", project.path().display());
    let name = unique("self-run");
    let audit = docker(&[
        "run", "--rm", "--name", &name, "-v", &mount, &image.tag, "audit", ".",
    ]);
    let _ = docker(&["rm", "--force", &name]);
    assert_eq!(audit.code, Some(1), "{}", audit.stderr);
    assert!(audit.stdout.contains("LP201"), "{}", audit.stdout);

    // Run hardened, every layer a container can hold does.
    let (code, report) = verify(
        &setup,
        "escape,user,capabilities,confinement,filesystem,secrets",
        &[
            "docker",
            "run",
            "--cap-drop",
            "ALL",
            "--read-only",
            "--security-opt",
            "no-new-privileges",
            &image.tag,
        ],
    );
    assert_eq!(code, Some(0), "{report:#}");
    assert_eq!(report["probe"]["uid"], 65532);
}
