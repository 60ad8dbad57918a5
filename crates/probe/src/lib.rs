//! The in-container probe: what would an attacker in this process have?
//!
//! [`probe`] reads the process's situation layer by layer — identity and user namespace,
//! capabilities, `no_new_privs`, seccomp (with real syscall probes), the LSM label, the filesystem,
//! escape paths and secrets — and returns a [`ProbeReport`], whose JSON is a stable contract read by
//! `leastpriv verify` and CI. Everything goes through the [`Host`] trait: [`RealHost`] reads `/proc`
//! and `/sys` and calls the kernel; tests feed canned files captured from real containers.
//!
//! The probe never changes anything outside its own temporary file (created in `/` with `O_EXCL` and
//! removed at once, to test whether the root filesystem is writable), needs no privilege, takes a few
//! milliseconds, and has no dependency that needs libc at run time beyond the raw syscalls, so the
//! `leastpriv` binary can be built static and run in a `FROM scratch` image.
//!
//! The order below follows the kernel's: who the process is decides what its capabilities mean, and
//! the capabilities decide how a refused syscall is read (see [`seccomp`](crate::seccomp)).

mod capabilities;
mod container;
mod escape;
mod filesystem;
mod host;
mod human;
mod identity;
mod lsm;
mod mounts;
mod report;
mod seccomp;
mod secrets;
mod status;

use std::path::Path;

pub use host::{
    FileInfo, FileKind, Host, RawOutcome, RealHost, Returns, SocketAnswer, SyscallCall,
};
pub use human::write_human;
pub use report::{
    Capabilities, CapabilityMasks, Cgroup, DeviceNode, EngineSocket, Escape, Finding,
    HostBindMount, ProbeReport, Seccomp, SecretFile, Sign, SyscallResult, SyscallStatus,
    TmpfsMount, UserNamespace, SCHEMA_VERSION,
};

use crate::host::{read_text, read_text_limited};
use crate::seccomp::KernelFacts;
use crate::status::Status;

/// mountinfo of a container with thousands of mounts stays far below this.
const MOUNTINFO_LIMIT: usize = 4 << 20;

/// Probes the process's situation through `host`.
pub fn probe(host: &dyn Host) -> ProbeReport {
    let start = host.now_us();
    let mut report = ProbeReport {
        schema_version: SCHEMA_VERSION,
        probe_version: env!("CARGO_PKG_VERSION").to_owned(),
        kernel: read_text(host, "/proc/sys/kernel/osrelease").map(|text| text.trim().to_owned()),
        ..ProbeReport::default()
    };
    let status = read_text(host, "/proc/self/status")
        .map(|text| Status::parse(&text))
        .unwrap_or_default();

    identity::probe(host, &status, &mut report);
    report.capabilities = capabilities::probe(host, &status);
    report.no_new_privs = status.no_new_privs.unwrap_or(false);
    (report.lsm, report.lsm_kind) = lsm::probe(host);

    let facts = KernelFacts::read(
        host,
        &status,
        identity::in_initial_user_namespace(&report),
        report.kernel.as_deref(),
    );
    report.seccomp = seccomp::probe_syscalls(host, &facts);
    report.seccomp.filters = status.seccomp_filters;

    let all_mounts = read_text_limited(host, "/proc/self/mountinfo", MOUNTINFO_LIMIT)
        .map(|text| mounts::parse(&text))
        .unwrap_or_default();
    let visible = mounts::visible(&all_mounts);
    let probe_path = host.read_link(Path::new("/proc/self/exe")).ok();
    filesystem::probe(host, &visible, probe_path.as_deref(), &mut report);
    escape::probe(host, &visible, &mut report);
    escape::conclude(host, &status, &visible, &mut report);
    secrets::probe(host, &mut report);
    report.container = container::detect(host);

    report.duration_us = host.now_us().saturating_sub(start);
    report
}

#[cfg(test)]
mod tests {
    //! Whole probes over files captured from real containers (Docker 20.10, kernel 6.18, cgroup v1;
    //! `tests/fixtures/capture.sh` recaptures them).

    use super::*;
    use crate::host::fixture::FixtureHost;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|name| (*name).to_owned()).collect()
    }

    const DOCKER_DEFAULT_CAPS: [&str; 14] = [
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

    /// What Docker's default profile blocks among the probes, as seen with the default capabilities.
    const DOCKER_BLOCKED: [&str; 22] = [
        "mount",
        "umount2",
        "unshare",
        "clone",
        "clone3",
        "setns",
        "open_tree",
        "mount_setattr",
        "keyctl",
        "add_key",
        "request_key",
        "bpf",
        "perf_event_open",
        "kcmp",
        "pidfd_getfd",
        "userfaultfd",
        "open_by_handle_at",
        "clock_settime",
        "settimeofday",
        "swapon",
        "iopl",
        "ioperm",
    ];

    /// Refused by the kernel's own capability check (or dmesg_restrict) before the filter shows.
    const KERNEL_DENIED: [&str; 8] = [
        "pivot_root",
        "fsopen",
        "init_module",
        "finit_module",
        "kexec_load",
        "kexec_file_load",
        "reboot",
        "syslog",
    ];

    #[test]
    fn docker_default() {
        let report = probe(&FixtureHost::load("docker-default"));
        assert_eq!((report.uid, report.gid, report.host_uid), (0, 0, Some(0)));
        assert!(!report.user_namespace.private);
        assert_eq!(report.capabilities.effective, names(&DOCKER_DEFAULT_CAPS));
        assert_eq!(report.capabilities.bounding, names(&DOCKER_DEFAULT_CAPS));
        assert!(report.capabilities.docker_default);
        assert!(report.capabilities.dangerous.is_empty());
        assert_eq!(report.capabilities.masks.effective, "00000000a80425fb");
        assert!(!report.no_new_privs);
        assert_eq!(report.seccomp.mode, "filter");
        assert_eq!(report.seccomp.filters, Some(1));
        assert_eq!(report.seccomp.blocked, names(&DOCKER_BLOCKED));
        assert_eq!(report.seccomp.allowed, names(&["ptrace", "io_uring_setup"]));
        assert_eq!(report.seccomp.denied, names(&KERNEL_DENIED));
        assert!(report.seccomp.differs_from_docker_default.is_empty());
        assert_eq!(report.lsm, None);
        assert!(!report.rootfs_read_only);
        assert!(report.rootfs_writable_by_process);
        assert_eq!(
            report.writable_mounts,
            names(&[
                "/",
                "/dev",
                "/dev/shm",
                "/etc/resolv.conf",
                "/etc/hostname",
                "/etc/hosts"
            ])
        );
        assert!(report.host_bind_mounts.is_empty());
        let tmpfs: Vec<&str> = report
            .tmpfs_mounts
            .iter()
            .map(|t| t.target.as_str())
            .collect();
        assert_eq!(tmpfs, vec!["/dev", "/dev/shm"]);
        assert!(report.engine_sockets.is_empty());
        let escape = &report.escape;
        assert!(!escape.privileged.likely);
        assert!(!escape.host_pid_namespace.likely);
        assert!(!escape.host_network_namespace.likely);
        assert!(!escape.host_ipc_namespace.likely && !escape.host_uts_namespace.likely);
        // Docker 20.10 on cgroup v1 leaves containers in the host's cgroup namespace.
        assert!(escape.host_cgroup_namespace.likely);
        assert!(escape.writable_kernel_files.is_empty());
        assert!(!escape.sysfs_writable);
        assert_eq!(escape.cgroup.version, Some(1));
        assert!(!escape.cgroup.writable);
        assert!(!escape.cgroup.release_agent_escape);
        assert!(escape.extra_devices.is_empty());
        assert!(escape.host_root_mounts.is_empty());
        assert!(report.secret_env_names.is_empty());
        assert_eq!(report.container.detected.as_deref(), Some("docker"));
    }

    #[test]
    fn hardened() {
        let report = probe(&FixtureHost::load("hardened"));
        assert_eq!(
            (report.uid, report.gid, report.host_uid),
            (1000, 1000, Some(1000))
        );
        let caps = &report.capabilities;
        for set in [
            &caps.effective,
            &caps.permitted,
            &caps.bounding,
            &caps.ambient,
        ] {
            assert!(set.is_empty());
        }
        assert!(report.no_new_privs);
        assert_eq!(report.seccomp.mode, "filter");
        assert!(report.seccomp.blocked.contains(&"mount".to_owned()));
        assert!(report.rootfs_read_only);
        assert!(!report.rootfs_writable_by_process);
        assert_eq!(report.writable_mounts, names(&["/dev", "/dev/shm", "/tmp"]));
        let tmp = report
            .tmpfs_mounts
            .iter()
            .find(|tmpfs| tmpfs.target == "/tmp")
            .expect("/tmp is a tmpfs");
        assert_eq!(tmp.options, names(&["nosuid", "nodev", "noexec"]));
        assert_eq!(report.secret_env_names, names(&["DB_PASSWORD"]));
        let files: Vec<(&str, &str, bool)> = report
            .secret_files
            .iter()
            .map(|file| (file.path.as_str(), file.mode.as_str(), file.readable))
            .collect();
        assert_eq!(
            files,
            vec![
                ("/run/secrets/db_password", "0400", false),
                ("/run/secrets/api_token", "0440", true)
            ]
        );
    }

    #[test]
    fn host_namespaces_and_the_engine_socket() {
        let report = probe(&FixtureHost::load("host-escape"));
        assert!(report.escape.host_pid_namespace.likely);
        assert_eq!(
            report.escape.host_pid_namespace.signs[0],
            "/proc/self/ns/pid is pid:[4026531836]: the kernel's initial pid namespace"
        );
        assert!(report.escape.host_network_namespace.likely);
        assert!(!report.escape.host_ipc_namespace.likely);
        assert!(report.escape.host_network_namespace.signs[0].contains("docker0"));
        assert_eq!(report.engine_sockets, names(&["/var/run/docker.sock"]));
        let socket = &report.escape.engine_sockets[0];
        assert_eq!(socket.kind, "docker");
        assert!(socket.connectable && socket.answers);
        assert_eq!(socket.api_version.as_deref(), Some("1.41"));
        let bind = &report.host_bind_mounts[0];
        assert_eq!(
            (
                bind.target.as_str(),
                bind.host_path.as_str(),
                bind.read_only
            ),
            ("/var/run/docker.sock", "/run/docker.sock", false)
        );
        assert!(!report.escape.privileged.likely);
    }

    #[test]
    fn privileged_signs_on_a_41_capability_kernel() {
        // All capabilities Docker 20.10 knows (no PERFMON, BPF, CHECKPOINT_RESTORE) minus
        // SYS_RESOURCE, no seccomp, systempaths=unconfined: CDK's `3fffffffff` test misses this.
        let report = probe(&FixtureHost::load("unconfined-all-caps"));
        assert_eq!(report.capabilities.masks.effective, "0000003ffeffffff");
        assert!(
            report.escape.privileged.likely,
            "{:?}",
            report.escape.privileged
        );
        assert_eq!(report.seccomp.mode, "disabled");
        assert!(report.seccomp.blocked.is_empty());
        assert!(report.seccomp.denied.is_empty());
        let unimplemented: Vec<&str> = report
            .seccomp
            .syscalls
            .iter()
            .filter(|result| result.status == SyscallStatus::Unimplemented)
            .map(|result| result.name.as_str())
            .collect();
        assert_eq!(
            unimplemented,
            vec![
                "init_module",
                "finit_module",
                "kexec_load",
                "kexec_file_load",
                "iopl",
                "ioperm"
            ]
        );
        assert!(report.escape.proc_sys_writable);
        assert!(report.escape.cgroup.release_agent_escape);
        assert!(report
            .capabilities
            .dangerous
            .contains(&"CAP_SYS_ADMIN".to_owned()));
    }

    #[test]
    fn the_json_round_trips() {
        let report = probe(&FixtureHost::load("docker-default"));
        let json = serde_json::to_string(&report).expect("serializes");
        let back: ProbeReport = serde_json::from_str(&json).expect("deserializes");
        assert_eq!(back, report);
        let value: serde_json::Value = serde_json::from_str(&json).expect("json");
        for key in [
            "uid",
            "gid",
            "host_uid",
            "capabilities",
            "no_new_privs",
            "seccomp",
            "lsm",
            "rootfs_read_only",
            "writable_mounts",
            "engine_sockets",
            "secret_env_names",
        ] {
            assert!(value.get(key).is_some(), "contract field {key}");
        }
        assert_eq!(value["seccomp"]["syscalls"][0]["status"], "blocked");
    }

    #[test]
    fn human_output_marks_what_an_attacker_can_use() {
        let report = probe(&FixtureHost::load("host-escape"));
        let mut out = Vec::new();
        write_human(&report, &mut out).expect("writes");
        let text = String::from_utf8(out).expect("utf-8");
        assert!(text.contains("! engine socket /var/run/docker.sock (docker): answers (API 1.41)"));
        assert!(text.contains("! host PID namespace: likely"));
        assert!(text.contains("! uid 0"));
    }
}
