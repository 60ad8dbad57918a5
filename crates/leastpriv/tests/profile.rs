//! `leastpriv profile` on real programs and the real engine.
//!
//! Local: busybox applets recorded with eBPF, then run under the generated filter (`--enforce`) with
//! no EPERM; a non-root run (setpriv, ambient CAP_NET_BIND_SERVICE) that binds port 80 reports the
//! capability, observed in the kernel by eBPF (and confirmed by trials) and found by trials with the
//! seccomp-notify fallback; a write under /var/cache is reported; daemons the workload forks are
//! stopped, also when leastpriv is killed with SIGKILL (the watchdog).
//! Container: a busybox image built FROM scratch, profiled with an exercise; the generated profile
//! starts the container and passes the exercise, refuses a syscall outside it (EPERM), and
//! `--cap-drop ALL --cap-add` of exactly the reported (observed) set works where one fewer fails; a
//! Compose service reports the capability it used of those it held. Clean-up: the
//! container is removed after Ctrl-C, after a crash, and by the watchdog after SIGKILL.
//!
//! Needs root (eBPF), busybox-static at /bin/busybox, setpriv, and for the container tests a
//! reachable engine. Without them each test says why and passes, unless `CI=true`.
#![allow(clippy::print_stderr)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::skip;

mod support;

const BUSYBOX: &str = "/bin/busybox";

fn leastpriv() -> Command {
    Command::new(env!("CARGO_BIN_EXE_leastpriv"))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|output| text(&output.stdout).trim() == "0")
}

/// Root and busybox, or why not.
fn local_ready(test: &str) -> bool {
    if !is_root() {
        return skip::<()>(test, "the eBPF recorder needs root").is_some();
    }
    if !Path::new(BUSYBOX).exists() {
        return skip::<()>(test, "no /bin/busybox (Debian's busybox-static)").is_some();
    }
    true
}

fn engine_ready(test: &str) -> bool {
    if !local_ready(test) {
        return false;
    }
    let answers = Command::new("docker")
        .args(["info", "--format", "{{.ServerVersion}}"])
        .output()
        .is_ok_and(|output| output.status.success());
    answers || skip::<()>(test, "no reachable Docker engine").is_some()
}

fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).expect("profile written")).expect("JSON")
}

fn strings(value: &serde_json::Value) -> Vec<String> {
    value
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|item| item.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.subsec_nanos());
    format!("profile-{prefix}-{}-{nanos}", std::process::id())
}

#[test]
fn a_local_run_passes_under_its_own_profile() {
    if !local_ready("a_local_run_passes_under_its_own_profile") {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let cache = PathBuf::from("/var/cache").join(unique("cache"));
    let script = format!(
        "set -e; mkdir -p {cache}; cd {cache}; echo hello > greeting; cat greeting | tr a-z A-Z; \
         ls / >/dev/null; sort -r greeting >/dev/null; busybox sh -c 'echo child' >/dev/null; \
         /bin/true; rm -r {cache}",
        cache = cache.display()
    );
    let profile = dir.path().join("profile.json");
    let seccomp = dir.path().join("seccomp.json");
    let output = leastpriv()
        .args(["profile", "--output"])
        .arg(&profile)
        .arg("--seccomp")
        .arg(&seccomp)
        .args(["--", BUSYBOX, "sh", "-c", &script])
        .output()
        .expect("runs");
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(
        text(&output.stdout).contains("HELLO"),
        "{}",
        text(&output.stdout)
    );
    let json = read_json(&profile);
    assert_eq!(json["run"]["recorder"], "ebpf");
    let syscalls = strings(&json["syscalls"]);
    for expected in ["execve", "openat", "write", "mkdir", "clone"] {
        assert!(
            syscalls.iter().any(|name| name == expected),
            "{expected}: {syscalls:?}"
        );
    }
    assert!(!syscalls
        .iter()
        .any(|name| name == "unshare" || name == "seccomp"));
    let written = strings(&json["written_paths"]);
    assert!(
        written.contains(&cache.join("greeting").display().to_string()),
        "{written:?}"
    );
    assert_eq!(json["seccomp_profile"], "seccomp.json");
    // Root needed no capability: the kernel's checks here only ask (a dynamic program's private
    // mappings make the overcommit check CAP_SYS_ADMIN without audit).
    assert_eq!(json["capabilities"], serde_json::json!([]));

    let docker_format = read_json(&seccomp);
    assert_eq!(docker_format["defaultAction"], "SCMP_ACT_ERRNO");
    assert_eq!(docker_format["defaultErrnoRet"], 1);

    // The same run under the generated filter: no EPERM anywhere.
    let enforced = leastpriv()
        .args(["profile", "--enforce"])
        .arg(&seccomp)
        .args(["--", BUSYBOX, "sh", "-c", &script])
        .output()
        .expect("runs");
    assert!(
        enforced.status.success() && !text(&enforced.stderr).contains("not permitted"),
        "{}",
        text(&enforced.stderr)
    );
    assert!(text(&enforced.stdout).contains("HELLO"));
    // And the filter holds: a syscall the run never made is refused.
    let refused = leastpriv()
        .args(["profile", "--enforce"])
        .arg(&seccomp)
        .args(["--", BUSYBOX, "sh", "-c", "mkfifo /tmp/never-made"])
        .output()
        .expect("runs");
    assert!(!refused.status.success());
    assert!(
        text(&refused.stderr).contains("Operation not permitted"),
        "{}",
        text(&refused.stderr)
    );
    assert!(!Path::new("/tmp/never-made").exists());
}

#[test]
fn a_non_root_bind_below_1024_needs_net_bind_service() {
    if !local_ready("a_non_root_bind_below_1024_needs_net_bind_service") {
        return;
    }
    if Command::new("setpriv").arg("--help").output().is_err() {
        skip::<()>(
            "a_non_root_bind_below_1024_needs_net_bind_service",
            "no setpriv",
        );
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::set_permissions(
        dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o777),
    )
    .expect("chmod");
    let profile = dir.path().join("profile.json");
    // leastpriv itself runs as nobody with the capability in its ambient set: no BPF, so the
    // seccomp-notify fallback records; the trials find the capability the bind needs.
    let output = Command::new("setpriv")
        .args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "--inh-caps=+net_bind_service",
            "--ambient-caps=+net_bind_service",
        ])
        .arg(env!("CARGO_BIN_EXE_leastpriv"))
        .args(["profile", "--output"])
        .arg(&profile)
        .args([
            "--", BUSYBOX, "timeout", "1", BUSYBOX, "nc", "-l", "-p", "80",
        ])
        .output()
        .expect("runs");
    assert!(output.status.success(), "{}", text(&output.stderr));
    let json = read_json(&profile);
    assert_eq!(json["run"]["recorder"], "seccomp-notify");
    assert_eq!(
        strings(&json["capabilities"]),
        ["CAP_NET_BIND_SERVICE"],
        "{}",
        text(&output.stderr)
    );
    assert_eq!(
        strings(&json["run"]["not_observed"]),
        ["written_paths", "ports"]
    );
    assert!(strings(&json["syscalls"]).contains(&"bind".to_owned()));
}

#[test]
fn an_observed_non_root_bind_below_1024_reports_net_bind_service() {
    let test = "an_observed_non_root_bind_below_1024_reports_net_bind_service";
    if !local_ready(test) {
        return;
    }
    if Command::new("setpriv").arg("--help").output().is_err() {
        skip::<()>(test, "no setpriv");
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let profile = dir.path().join("profile.json");
    // leastpriv runs as root (eBPF); the workload becomes nobody with the capability in its
    // ambient set and binds port 83 (not 80, which the fallback's test binds at the same time). The
    // kernel's checks show what it needed: setpriv's own
    // (SETUID, SETGID) and the bind's. The kernel also checks SETPCAP when setpriv sets the
    // inheritable set, but only to ask whether the set is capped (cap_inh_is_capped, an audited
    // check): the confirming trials find it is not needed and drop it.
    let output = leastpriv()
        .args(["profile", "--capabilities", "confirm", "--output"])
        .arg(&profile)
        .args([
            "--",
            "setpriv",
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "--inh-caps=+net_bind_service",
            "--ambient-caps=+net_bind_service",
            BUSYBOX,
            "timeout",
            "1",
            BUSYBOX,
            "nc",
            "-l",
            "-p",
            "83",
        ])
        .output()
        .expect("runs");
    let summary = text(&output.stdout) + &text(&output.stderr);
    assert!(output.status.success(), "{summary}");
    let json = read_json(&profile);
    assert_eq!(json["run"]["recorder"], "ebpf");
    assert!(json["run"].get("not_observed").is_none(), "{summary}");
    // In the order of the capability numbers.
    assert_eq!(
        strings(&json["capabilities"]),
        ["CAP_SETGID", "CAP_SETUID", "CAP_NET_BIND_SERVICE"],
        "{summary}"
    );
    // __inet_bind or __inet6_bind, as nc binds.
    assert!(
        summary.contains("CAP_NET_BIND_SERVICE (__inet"),
        "{summary}"
    );
    assert!(
        summary.contains(
            "checked but not needed (the workload behaved as recorded without them): CAP_SETPCAP"
        ),
        "{summary}"
    );
}

/// A 100-byte static i386 ELF: `getuid32()` (199) then `exit(0)` (1), by `int 0x80`.
#[cfg(target_arch = "x86_64")]
const GETUID32_I386: &str = "7f454c46010101000000000000000000020003000100000054800408340000000000\
     000000000000340020000100000000000000010000000000000000800408008004086400000064000000050000\
     0000100000b8c7000000cd80b80100000031dbcd80";

#[cfg(target_arch = "x86_64")]
#[test]
fn a_32_bit_program_is_named_from_the_i386_table() {
    let test = "a_32_bit_program_is_named_from_the_i386_table";
    if !local_ready(test) {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let program = dir.path().join("getuid32");
    let bytes: Vec<u8> = (0..GETUID32_I386.len())
        .step_by(2)
        .map(|at| u8::from_str_radix(&GETUID32_I386[at..at + 2], 16).expect("hex"))
        .collect();
    std::fs::write(&program, bytes).expect("writes");
    std::fs::set_permissions(
        &program,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .expect("chmod");
    if !Command::new(&program)
        .status()
        .is_ok_and(|status| status.success())
    {
        skip::<()>(
            test,
            "this kernel runs no 32-bit program (IA32 emulation off)",
        );
        return;
    }
    let profile = dir.path().join("profile.json");
    let output = leastpriv()
        .args(["profile", "--capabilities", "skip", "-o"])
        .arg(&profile)
        .arg("--")
        .arg(&program)
        .output()
        .expect("runs");
    assert!(output.status.success(), "{}", text(&output.stderr));
    let syscalls = strings(&read_json(&profile)["syscalls"]);
    // execve is the 64-bit exec into it; getuid32 and exit come from the i386 table. 199 in the
    // x86_64 table would be fremovexattr.
    for name in ["execve", "getuid32", "exit"] {
        assert!(syscalls.contains(&name.to_owned()), "{name}: {syscalls:?}");
    }
    assert!(
        !syscalls.contains(&"fremovexattr".to_owned()),
        "{syscalls:?}"
    );
}

#[test]
fn forced_fallback_and_ebpf_see_the_same_syscalls() {
    if !local_ready("forced_fallback_and_ebpf_see_the_same_syscalls") {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let record = |recorder: &str| {
        let path = dir.path().join(format!("{recorder}.json"));
        let output = leastpriv()
            .args([
                "profile",
                "--capabilities",
                "skip",
                "--recorder",
                recorder,
                "-o",
            ])
            .arg(&path)
            .args([
                "--",
                BUSYBOX,
                "sh",
                "-c",
                "ls -l / | wc -l > /dev/null; cat /etc/hostname",
            ])
            .output()
            .expect("runs");
        assert!(output.status.success(), "{}", text(&output.stderr));
        read_json(&path)
    };
    let ebpf = record("ebpf");
    let notify = record("seccomp-notify");
    assert_eq!(notify["run"]["recorder"], "seccomp-notify");
    // The fallback also sees the child's own syscalls between its filter and its exec; the rest is
    // the same workload.
    let ebpf_calls = strings(&ebpf["syscalls"]);
    let notify_calls = strings(&notify["syscalls"]);
    for name in &ebpf_calls {
        assert!(
            notify_calls.contains(name),
            "{name} missing from {notify_calls:?}"
        );
    }
    assert!(strings(&ebpf["run"]["not_observed"]).contains(&"capabilities".to_owned()));
}

/// A `sleep` duration no other process uses (busybox sleep takes fractions), to find the process by.
fn unique_sleep() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.subsec_nanos());
    format!("300.{}{:09}", std::process::id(), nanos)
}

/// The processes whose command line contains `sleep <duration>`.
fn sleeping(duration: &str) -> Vec<String> {
    let output = Command::new("pgrep")
        .args(["-f", &format!("sleep {duration}")])
        .output()
        .expect("pgrep");
    text(&output.stdout).lines().map(str::to_owned).collect()
}

#[test]
fn daemons_the_workload_forks_are_stopped() {
    if !local_ready("daemons_the_workload_forks_are_stopped") {
        return;
    }
    let duration = unique_sleep();
    let output = leastpriv()
        .args(["profile", "--capabilities", "skip", "-o", "/dev/null"])
        .args([
            "--",
            BUSYBOX,
            "sh",
            "-c",
            &format!("({BUSYBOX} setsid {BUSYBOX} sleep {duration} &); echo forked"),
        ])
        .output()
        .expect("runs");
    assert!(output.status.success(), "{}", text(&output.stderr));
    // `-o /dev/null` writes into the device; a rename over it would have replaced the node itself.
    assert!(
        std::os::unix::fs::FileTypeExt::is_char_device(
            &std::fs::metadata("/dev/null")
                .expect("/dev/null")
                .file_type()
        ),
        "/dev/null is no longer a device"
    );
    let left = sleeping(&duration);
    assert!(left.is_empty(), "left running: {left:?}");
}

#[test]
fn sigkill_of_leastpriv_stops_the_local_workload_and_its_daemons() {
    if !local_ready("sigkill_of_leastpriv_stops_the_local_workload_and_its_daemons") {
        return;
    }
    let duration = unique_sleep();
    // The workload and a daemon it forks into a session of its own (re-parented to init when
    // leastpriv dies, out of reach of PR_SET_PDEATHSIG).
    let mut child = leastpriv()
        .args(["profile", "--capabilities", "skip", "-o", "/dev/null"])
        .args([
            "--",
            BUSYBOX,
            "sh",
            "-c",
            &format!("({BUSYBOX} setsid {BUSYBOX} sleep {duration} &); {BUSYBOX} sleep {duration}"),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("starts");
    // leastpriv, the daemon and the shell or its last command, sleep.
    let deadline = Instant::now() + Duration::from_secs(30);
    while sleeping(&duration).len() < 3 {
        assert!(Instant::now() < deadline, "the workload never started");
        std::thread::sleep(Duration::from_millis(100));
    }
    child.kill().expect("SIGKILL");
    let _ = child.wait();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !sleeping(&duration).is_empty() {
        assert!(
            Instant::now() < deadline,
            "left running after leastpriv was killed: {:?}",
            sleeping(&duration)
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// A busybox image FROM scratch, removed when dropped.
struct Image {
    name: String,
}

impl Image {
    fn build() -> Self {
        let context = tempfile::tempdir().expect("temp dir");
        std::fs::copy(BUSYBOX, context.path().join("busybox")).expect("copies busybox");
        let name = format!("{}:1", unique("image"));
        // The label gives each test's image its own ID: `docker ps --filter ancestor=` matches by
        // ID, so identical builds would let one test see the containers another test is running.
        std::fs::write(
            context.path().join("Dockerfile"),
            format!(
                "FROM scratch\nCOPY busybox /bin/busybox\n\
                 RUN [\"/bin/busybox\", \"--install\", \"-s\", \"/bin\"]\nCMD [\"sh\"]\n\
                 LABEL org.leastpriv.test=\"{name}\"\n"
            ),
        )
        .expect("writes");
        let output = Command::new("docker")
            .args(["build", "--force-rm", "-q", "-t", &name])
            .arg(context.path())
            .output()
            .expect("docker build");
        assert!(output.status.success(), "{}", text(&output.stderr));
        Self { name }
    }
}

impl Drop for Image {
    fn drop(&mut self) {
        let _ = Command::new("docker")
            .args(["rmi", "--force", &self.name])
            .output();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free port")
}

/// Every container of `image`.
fn containers_of(image: &Image) -> Vec<String> {
    let output = Command::new("docker")
        .args([
            "ps",
            "-a",
            "--filter",
            &format!("ancestor={}", image.name),
            "-q",
        ])
        .output()
        .expect("docker ps");
    text(&output.stdout).lines().map(str::to_owned).collect()
}

/// Containers whose name starts with `leastpriv-profile-<pid of leastpriv>`; any leastpriv.
fn leftover_containers(label_value_prefix: &str) -> Vec<String> {
    containers_named(label_value_prefix, "-a")
}

/// The running ones of those.
fn running_containers(label_value_prefix: &str) -> Vec<String> {
    containers_named(label_value_prefix, "--filter=status=running")
}

fn containers_named(label_value_prefix: &str, filter: &str) -> Vec<String> {
    let output = Command::new("docker")
        .args([
            "ps",
            filter,
            "--filter",
            "label=leastpriv.profile",
            "--format",
            "{{.Names}}",
        ])
        .output()
        .expect("docker ps");
    text(&output.stdout)
        .lines()
        .filter(|name| name.starts_with(label_value_prefix))
        .map(str::to_owned)
        .collect()
}

/// The server the container test profiles: chowns its page (CAP_CHOWN) and serves it.
const SERVER: &str = "set -e; mkdir -p /www /var/cache/app; echo served > /www/index.html; \
     echo started > /var/cache/app/state; chown 1000:1000 /www/index.html; \
     exec httpd -f -p 8080 -h /www";

fn exercise(port: u16) -> String {
    format!(
        "for i in $(seq 50); do {BUSYBOX} wget -q -O - http://127.0.0.1:{port}/index.html \
         2>/dev/null | grep -q served && exit 0; sleep 0.1; done; exit 1"
    )
}

fn docker_run(image: &Image, port: u16, extra: &[&str]) -> Vec<String> {
    let mut argv: Vec<String> = vec!["docker".into(), "run".into(), "--rm".into()];
    argv.extend(["-p".to_owned(), format!("127.0.0.1:{port}:8080")]);
    argv.extend(extra.iter().map(|word| (*word).to_owned()));
    argv.extend([image.name.clone(), "sh".into(), "-c".into(), SERVER.into()]);
    argv
}

/// Runs the server detached with `extra` flags and the exercise against it; whether it passed.
fn serves_with(image: &Image, extra: &[&str]) -> bool {
    let port = free_port();
    let name = unique("check");
    let mut argv = docker_run(image, port, extra);
    argv.splice(2..3, ["-d".to_owned(), format!("--name={name}")]);
    let started = Command::new(&argv[0])
        .args(&argv[1..])
        .output()
        .expect("docker run");
    let passed = started.status.success()
        && Command::new("sh")
            .args(["-c", &exercise(port)])
            .status()
            .is_ok_and(|status| status.success());
    let _ = Command::new("docker").args(["rm", "-f", &name]).output();
    passed
}

#[test]
fn a_container_profile_starts_serves_and_refuses_the_rest() {
    let test = "a_container_profile_starts_serves_and_refuses_the_rest";
    if !engine_ready(test) {
        return;
    }
    let image = Image::build();
    let dir = tempfile::tempdir().expect("temp dir");
    let profile = dir.path().join("profile.json");
    let seccomp = dir.path().join("seccomp.json");
    let port = free_port();
    let output = leastpriv()
        .args(["profile", "-o"])
        .arg(&profile)
        .arg("--seccomp")
        .arg(&seccomp)
        .args(["--compare", "--exercise", &exercise(port), "--"])
        .args(docker_run(&image, port, &[]))
        .output()
        .expect("runs");
    assert!(output.status.success(), "{}", text(&output.stderr));
    let summary = text(&output.stdout);
    assert!(
        summary.contains("compared with Docker's default"),
        "{summary}"
    );
    let json = read_json(&profile);
    assert_eq!(json["run"]["recorder"], "ebpf");
    assert_eq!(json["run"]["image"], image.name.as_str());
    assert_eq!(strings(&json["capabilities"]), ["CAP_CHOWN"], "{summary}");
    let written = strings(&json["written_paths"]);
    assert!(
        written.contains(&"/var/cache/app/state".to_owned()),
        "{written:?}"
    );
    assert_eq!(
        json["ports"],
        serde_json::json!([{"port": 8080, "protocol": "tcp"}])
    );
    assert!(containers_of(&image).is_empty());

    let seccomp_opt = format!("seccomp={}", seccomp.display());
    // The generated profile: the container starts (runc's path to execve is in it) and serves.
    assert!(serves_with(&image, &["--security-opt", &seccomp_opt]));
    // A syscall outside the profile is refused with EPERM.
    let refused = Command::new("docker")
        .args(["run", "--rm", "--security-opt", &seccomp_opt, &image.name])
        .args(["sh", "-c", "mkfifo /never-made"])
        .output()
        .expect("docker run");
    assert!(!refused.status.success());
    assert!(
        text(&refused.stderr).contains("Operation not permitted"),
        "{}",
        text(&refused.stderr)
    );
    // Exactly the reported capabilities work; one fewer fails.
    assert!(serves_with(
        &image,
        &[
            "--cap-drop",
            "ALL",
            "--cap-add",
            "CHOWN",
            "--security-opt",
            &seccomp_opt
        ]
    ));
    assert!(!serves_with(
        &image,
        &["--cap-drop", "ALL", "--security-opt", &seccomp_opt]
    ));
}

#[test]
fn a_compose_service_reports_the_capabilities_it_used() {
    let test = "a_compose_service_reports_the_capabilities_it_used";
    if !engine_ready(test) {
        return;
    }
    if support::compose_tool().is_none() {
        skip::<()>(test, "neither `docker compose` nor `docker-compose` runs");
        return;
    }
    let image = Image::build();
    let dir = tempfile::tempdir().expect("temp dir");
    let port = free_port();
    // The service holds CHOWN and DAC_OVERRIDE and uses CHOWN only.
    let quote = |text: &str| serde_json::to_string(text).expect("a string");
    std::fs::write(
        dir.path().join("compose.yaml"),
        format!(
            "version: \"3.8\"\nservices:\n  app:\n    image: {}\n    command: [\"sh\", \"-c\", {}]\n    \
             ports: [\"127.0.0.1:{port}:8080\"]\n    cap_drop: [ALL]\n    cap_add: [CHOWN, DAC_OVERRIDE]\n",
            quote(&image.name),
            quote(SERVER)
        ),
    )
    .expect("writes");
    let profile = dir.path().join("profile.json");
    let output = leastpriv()
        .args(["profile", "--compose"])
        .arg(dir.path().join("compose.yaml"))
        .args(["--service", "app", "--exercise", &exercise(port), "-o"])
        .arg(&profile)
        .output()
        .expect("runs");
    let summary = text(&output.stdout) + &text(&output.stderr);
    assert!(output.status.success(), "{summary}");
    let json = read_json(&profile);
    assert_eq!(json["run"]["service"], "app");
    assert_eq!(strings(&json["capabilities"]), ["CAP_CHOWN"], "{summary}");
    assert!(json["run"].get("not_observed").is_none(), "{summary}");
    assert!(containers_of(&image).is_empty());
}

/// Starts `leastpriv profile` on a long-running container and waits until its container runs.
fn start_long_recording(image: &Image) -> (std::process::Child, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let child = leastpriv()
        .args(["profile", "--capabilities", "skip", "-o"])
        .arg(dir.path().join("profile.json"))
        .args(["--duration", "120s", "--", "docker", "run", &image.name])
        .args([
            "sh",
            "-c",
            "trap 'exit 0' TERM; while true; do sleep 1; done",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starts");
    let prefix = format!("leastpriv-profile-{}-", child.id());
    let deadline = Instant::now() + Duration::from_secs(60);
    // Running, not only created: a signal between `docker create` and `docker start` ends the
    // recording before the container made a syscall.
    while running_containers(&prefix).is_empty() {
        assert!(Instant::now() < deadline, "the container never started");
        std::thread::sleep(Duration::from_millis(200));
    }
    (child, dir)
}

fn wait_until_gone(prefix: &str) -> bool {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if leftover_containers(prefix).is_empty() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(300));
    }
    false
}

#[test]
fn ctrl_c_and_sigkill_leave_no_container_and_no_bpf_program() {
    let test = "ctrl_c_and_sigkill_leave_no_container_and_no_bpf_program";
    if !engine_ready(test) {
        return;
    }
    let image = Image::build();

    // Ctrl-C: the recording stops, the container is removed, the profile is written.
    let (child, dir) = start_long_recording(&image);
    let prefix = format!("leastpriv-profile-{}-", child.id());
    Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill");
    let output = child.wait_with_output().expect("waits");
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(wait_until_gone(&prefix));
    assert!(read_json(&dir.path().join("profile.json"))["syscalls"]
        .as_array()
        .is_some_and(|calls| !calls.is_empty()));

    // SIGKILL: nothing of leastpriv runs any more; its watchdog removes the container and the
    // kernel drops the BPF program with leastpriv's file descriptors.
    let (mut child, _dir) = start_long_recording(&image);
    let prefix = format!("leastpriv-profile-{}-", child.id());
    child.kill().expect("SIGKILL");
    let _ = child.wait();
    assert!(
        wait_until_gone(&prefix),
        "the watchdog did not remove the container"
    );
    if let Ok(programs) = Command::new("bpftool").args(["prog", "list"]).output() {
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut listing = text(&programs.stdout);
        while listing.contains("sys_enter") && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(200));
            listing = Command::new("bpftool")
                .args(["prog", "list"])
                .output()
                .map(|output| text(&output.stdout))
                .unwrap_or_default();
        }
        assert!(!listing.contains("name sys_enter"), "{listing}");
    }
}

#[test]
fn a_crashing_container_is_removed_and_profiled() {
    let test = "a_crashing_container_is_removed_and_profiled";
    if !engine_ready(test) {
        return;
    }
    let image = Image::build();
    let dir = tempfile::tempdir().expect("temp dir");
    let output = leastpriv()
        .args(["profile", "--capabilities", "skip", "-o"])
        .arg(dir.path().join("profile.json"))
        .args([
            "--",
            "docker",
            "run",
            &image.name,
            "sh",
            "-c",
            // The inner shell dies of SIGSEGV; the outer one (PID 1, which would ignore it) exits 139.
            "sh -c 'kill -SEGV $$' || exit $?",
        ])
        .output()
        .expect("runs");
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(
        text(&output.stdout).contains("exited with status 139"),
        "{}",
        text(&output.stdout)
    );
    let json = read_json(&dir.path().join("profile.json"));
    assert!(strings(&json["syscalls"]).contains(&"kill".to_owned()));
    assert!(containers_of(&image).is_empty());
}

#[test]
fn a_baseline_lets_known_syscalls_through_and_keeps_them() {
    if !local_ready("a_baseline_lets_known_syscalls_through_and_keeps_them") {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let first = dir.path().join("first.json");
    let second = dir.path().join("second.json");
    let record = |extra: &[&str], out: &Path, script: &str| {
        let output = leastpriv()
            .args([
                "profile",
                "--recorder",
                "seccomp-notify",
                "--capabilities",
                "skip",
            ])
            .args(extra)
            .arg("-o")
            .arg(out)
            .args(["--", BUSYBOX, "sh", "-c", script])
            .output()
            .expect("runs");
        assert!(output.status.success(), "{}", text(&output.stderr));
        read_json(out)
    };
    let before = record(&[], &first, "cat /etc/hostname");
    let baseline = first.display().to_string();
    let after = record(
        &["--baseline", &baseline],
        &second,
        "cat /etc/hostname; mkdir -p /tmp/.lp-baseline; rmdir /tmp/.lp-baseline",
    );
    let (before, after) = (strings(&before["syscalls"]), strings(&after["syscalls"]));
    for name in &before {
        assert!(after.contains(name), "{name} from the baseline is kept");
    }
    assert!(after.contains(&"rmdir".to_owned()), "{after:?}");
}
