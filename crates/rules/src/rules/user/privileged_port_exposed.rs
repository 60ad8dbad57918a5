use leastpriv_model::{Capability, Certainty, Container, PortSpec};
use leastpriv_source::Spanned;

use crate::engine::Checker;
use crate::helpers::shell::run_invocations;
use crate::rule::Check;

crate::declare_rule! {
    /// ## What it does
    /// Flags a port below 1024 that an image exposes (`EXPOSE 80`, or `ExposedPorts` in an image
    /// config) when the container runs as a non-root user. It stays silent when the process runs
    /// as root (LP201 reports that), when the runtime lowers
    /// `net.ipv4.ip_unprivileged_port_start`, adds `NET_BIND_SERVICE`, or the image gives its
    /// program that capability with `setcap` (LP301 reports that).
    ///
    /// ## Why is this bad?
    /// Binding a port below 1024 needs `CAP_NET_BIND_SERVICE` unless the network namespace sets
    /// `net.ipv4.ip_unprivileged_port_start` lower. Docker 20.10 and later set it to `0` in every
    /// container, so the image works under `docker run`; Kubernetes (containerd, CRI-O) and
    /// Podman do not by default. There the non-root process fails to start, and the usual "fix"
    /// is to add a capability or to run as root: the opposite of least privilege. Listening on a
    /// high port costs nothing, because `EXPOSE` only documents the port and publishing can map
    /// any host port to it.
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM python:3.12-slim
    /// USER 10001
    /// EXPOSE 80
    /// CMD ["gunicorn", "--bind", "0.0.0.0:80", "driftwood:app"]
    /// ```
    ///
    /// Use instead:
    /// ```dockerfile
    /// FROM python:3.12-slim
    /// USER 10001
    /// EXPOSE 8000
    /// CMD ["gunicorn", "--bind", "0.0.0.0:8000", "driftwood:app"]
    /// ```
    /// Driftwood listens on 8000 behind its proxy; publish `80:8000` (Compose) or point a Service's
    /// `port: 80` at `targetPort: 8000` (Kubernetes).
    ///
    /// ## Equivalents
    /// hadolint: none · trivy: none (KSV-0024 flags `hostPort`) · checkov: none · KICS Privileged
    /// Ports Mapped bc2908f3 (Compose host ports) · CIS Docker Benchmark 5.8 (privileged ports)
    pub(crate) static META = {
        name: "privileged-port-exposed",
        layer: User,
        severity: Low,
        fix: "Listen on a port at or above 1024 (Driftwood uses 8000 behind its proxy) and map the low port when publishing",
    };
}

pub(crate) const CHECK: Check = Check::Container(check);

fn check(checker: &mut Checker<'_>, container: &Container) {
    let Some(user) = container.effective_user() else {
        return;
    };
    if user.value.is_root() != Certainty::No || can_bind_low_ports(container) {
        return;
    }
    let mut exposed: Vec<&Spanned<PortSpec>> = Vec::new();
    if let Some(build) = &container.build {
        exposed.extend(build.image_stages().flat_map(|stage| stage.exposed.iter()));
    }
    if let Some(image) = &container.image {
        exposed.extend(image.exposed.iter());
    }
    for port in exposed {
        let Some(number) = port
            .value
            .port
            .filter(|&number| (1..1024).contains(&number))
        else {
            continue;
        };
        checker
            .report(
                port.span,
                format!(
                    "port {number} is below 1024 but the container runs as non-root `{}`: Docker 20.10+ allows the bind, Kubernetes and Podman need `NET_BIND_SERVICE`",
                    user.value
                ),
            )
            .related(user.span, "the non-root user is set here");
    }
}

/// Whether something in view already lets the non-root process bind low ports.
fn can_bind_low_ports(container: &Container) -> bool {
    if let Some(runtime) = &container.runtime {
        let sysctl = runtime
            .sysctls
            .iter()
            .any(|sysctl| sysctl.value.name == "net.ipv4.ip_unprivileged_port_start");
        let capability = runtime.cap_add.iter().any(|capability| {
            matches!(
                capability.value,
                Capability::All | Capability::Known("NET_BIND_SERVICE")
            )
        });
        if sysctl || capability {
            return true;
        }
    }
    container.build.as_ref().is_some_and(|build| {
        build
            .image_stages()
            .flat_map(|stage| stage.runs.iter())
            .flat_map(run_invocations)
            .any(|invocation| {
                invocation.name() == "setcap"
                    && invocation
                        .args
                        .iter()
                        .any(|arg| arg.value.to_ascii_lowercase().contains("net_bind_service"))
            })
    })
}

#[cfg(test)]
mod tests {
    use super::META;
    use crate::dockerfile_testing::findings;

    #[test]
    fn fires_for_a_non_root_user() {
        // Modelled on the Driftwood web service that listens on 80 as a non-root user.
        let found = findings(
            &META,
            "FROM python:3.12-slim\n\
             EXPOSE 80 443/tcp 8000\n\
             USER 10001\n",
        );
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found[0].starts_with(
            "2: low port 80 is below 1024 but the container runs as non-root `10001`"
        ));
        assert!(found[1].starts_with("2: low port 443 "));
    }

    #[test]
    fn stays_silent_for_root_unknown_users_high_ports_and_setcap() {
        for dockerfile in [
            "FROM nginx\nEXPOSE 80\n",
            "FROM nginx\nUSER root\nEXPOSE 80\n",
            "FROM nginx\nUSER $APP_USER\nEXPOSE 80\n",
            "FROM nginx\nUSER app\nEXPOSE 8080 1024\n",
            // Modelled on microsoft__mssql-docker/linux/preview/examples/mssql-server-linux-non-root.
            "FROM ubuntu\nRUN setcap 'cap_net_bind_service+ep' /opt/app/server\nUSER app\nEXPOSE 443\n",
        ] {
            let found = findings(&META, dockerfile);
            assert!(found.is_empty(), "{dockerfile}: {found:?}");
        }
    }
}
