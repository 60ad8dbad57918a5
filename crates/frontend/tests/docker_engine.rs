//! Real `docker inspect` output, from containers the engine creates with the flags of a `docker run`
//! line: the inspect front-end reads what the engine reports, and agrees with the `docker run`
//! front-end on the same flags. Skipped, with a message, when no Docker engine answers.

// The skip message is this test's output.
#![allow(clippy::print_stderr)]

use std::io::Write;
use std::process::{Command, Stdio};

use leastpriv_frontend::{lower, InputKind, Options};
use leastpriv_model::{
    Capability, Certainty, Container, MountKind, NamespaceMode, Runtime, SeccompProfile,
};
use leastpriv_source::SourceDb;

fn docker(args: &[&str]) -> Option<String> {
    let output = Command::new("docker").args(args).output().ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).into_owned())
}

/// Removes what the test created, also when it fails.
struct Cleanup {
    container: String,
    image: String,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        let _ = docker(&["rm", "-f", &self.container]);
        let _ = docker(&["rmi", "-f", &self.image]);
    }
}

/// An image with no files, made with `docker import` (no registry needed).
fn import_empty_image(tag: &str) -> Option<()> {
    let mut child = Command::new("docker")
        .args(["import", "-", tag])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .ok()?;
    // Two zero blocks: an empty tar archive.
    child.stdin.take()?.write_all(&[0u8; 1024]).ok()?;
    child.wait().ok()?.success().then_some(())
}

fn lowered_runtime(path: &str, text: &str, kind: InputKind) -> Runtime {
    let db = SourceDb::new();
    let file = db.add(path, text);
    let lowered = lower(&db, file, kind, &Options::default());
    assert!(lowered.errors.is_empty(), "{:?}", lowered.errors);
    let [container]: [Container; 1] = lowered.containers.try_into().expect("one container");
    container.runtime.expect("a runtime")
}

const FLAGS: &str = "--privileged --cap-add SYS_ADMIN --cap-drop ALL \
    --security-opt no-new-privileges --security-opt seccomp=unconfined --read-only \
    --tmpfs /run:noexec,nosuid -v /etc:/host/etc:ro --pid host --ipc host -u 0:0 \
    -e TOKEN=not-a-real-token -p 127.0.0.1:18080:80/tcp --group-add 0";

#[test]
fn inspect_reads_what_the_engine_reports_for_docker_run_flags() {
    if docker(&["version", "--format", "{{.Server.Version}}"]).is_none() {
        eprintln!("skipped: no Docker engine");
        return;
    }
    let id = std::process::id();
    let cleanup = Cleanup {
        container: format!("leastpriv-inspect-test-{id}"),
        image: format!("leastpriv-test/empty:{id}"),
    };
    import_empty_image(&cleanup.image).expect("docker import");
    let mut create = vec!["create", "--name", &cleanup.container];
    create.extend(FLAGS.split_whitespace());
    create.extend([cleanup.image.as_str(), "/true"]);
    docker(&create).expect("docker create");
    let inspect = docker(&["inspect", &cleanup.container]).expect("docker inspect");

    let engine = lowered_runtime("inspect.json", &inspect, InputKind::DockerInspect);
    let script = format!("docker create {FLAGS} {} /true\n", cleanup.image);
    let written = lowered_runtime("create.sh", &script, InputKind::ShellScript);

    for runtime in [&engine, &written] {
        assert_eq!(runtime.privileged.as_ref().map(|p| p.value), Some(true));
        assert_eq!(
            runtime.cap_add.iter().map(|c| &c.value).collect::<Vec<_>>(),
            [&Capability::Known("SYS_ADMIN")]
        );
        assert_eq!(
            runtime
                .cap_drop
                .iter()
                .map(|c| &c.value)
                .collect::<Vec<_>>(),
            [&Capability::All]
        );
        assert_eq!(
            runtime.no_new_privileges.as_ref().map(|n| n.value),
            Some(true)
        );
        assert_eq!(
            runtime.seccomp.as_ref().map(|s| &s.value),
            Some(&SeccompProfile::Unconfined)
        );
        assert_eq!(runtime.read_only_root.as_ref().map(|r| r.value), Some(true));
        assert_eq!(runtime.tmpfs.len(), 1);
        assert_eq!(runtime.tmpfs[0].value.target, "/run");
        let [mount] = runtime.mounts.as_slice() else {
            panic!("{:?}", runtime.mounts);
        };
        assert_eq!(
            mount.value.kind,
            MountKind::Bind {
                source: "/etc".into()
            }
        );
        assert!(mount.value.read_only);
        assert_eq!(mount.value.target, "/host/etc");
        assert_eq!(
            runtime.namespaces.pid.as_ref().map(|p| &p.value),
            Some(&NamespaceMode::Host)
        );
        assert_eq!(
            runtime.namespaces.ipc.as_ref().map(|p| &p.value),
            Some(&NamespaceMode::Host)
        );
        assert_eq!(
            runtime.user.as_ref().map(|u| u.value.is_root()),
            Some(Certainty::Yes)
        );
        let token = runtime
            .environment
            .iter()
            .find(|var| var.name.value == "TOKEN")
            .and_then(|var| var.value.as_ref())
            .expect("TOKEN");
        assert_eq!(token.value.expose(), "not-a-real-token");
        let [port] = runtime.ports.as_slice() else {
            panic!("{:?}", runtime.ports);
        };
        assert_eq!(port.value.host_ip.as_deref(), Some("127.0.0.1"));
        assert_eq!(port.value.host_port, Some(18080));
        assert_eq!(port.value.container_port, Some(80));
        assert_eq!(
            runtime
                .group_add
                .iter()
                .map(|g| g.value.as_str())
                .collect::<Vec<_>>(),
            ["0"]
        );
    }
    // What only the engine reports: the image as the container was created from it.
    assert_eq!(
        engine.image.as_ref().map(|i| i.value.as_str()),
        Some(cleanup.image.as_str())
    );
}
