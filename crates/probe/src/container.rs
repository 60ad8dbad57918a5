//! Which container runtime the probe runs in, from the marks runtimes leave.

use std::path::Path;

use crate::host::{read_text, Host};
use crate::report::Finding;

/// The runtime, and the marks that tell.
pub(crate) fn detect(host: &dyn Host) -> Finding {
    let mut finding = Finding::default();
    let note = |runtime: &str, sign: String, finding: &mut Finding| {
        if finding.detected.is_none() {
            finding.detected = Some(runtime.to_owned());
        }
        finding.signs.push(sign);
    };
    if host.stat(Path::new("/.dockerenv")).is_ok() {
        note("docker", "/.dockerenv exists".to_owned(), &mut finding);
    }
    if host.stat(Path::new("/run/.containerenv")).is_ok() {
        note(
            "podman",
            "/run/.containerenv exists".to_owned(),
            &mut finding,
        );
    }
    if host
        .env_names()
        .iter()
        .any(|name| name == "KUBERNETES_SERVICE_HOST")
    {
        note(
            "kubernetes",
            "KUBERNETES_SERVICE_HOST is set".to_owned(),
            &mut finding,
        );
    }
    if let Some(cgroup) = read_text(host, "/proc/self/cgroup") {
        for (marker, runtime) in [
            ("kubepods", "kubernetes"),
            ("/docker", "docker"),
            ("libpod", "podman"),
            ("containerd", "containerd"),
            ("/lxc", "lxc"),
        ] {
            if cgroup.contains(marker) {
                note(
                    runtime,
                    format!(
                        "/proc/self/cgroup mentions {}",
                        marker.trim_start_matches('/')
                    ),
                    &mut finding,
                );
                break;
            }
        }
    }
    finding
}
