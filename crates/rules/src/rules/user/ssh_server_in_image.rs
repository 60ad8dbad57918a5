use leastpriv_model::{Container, PortSpec, Remedy};
use leastpriv_source::Spanned;

use crate::engine::Checker;
use crate::helpers::shell::{package_action, run_invocations, PackageAction};
use crate::rule::Check;

crate::declare_rule! {
    /// ## What it does
    /// Flags an SSH server in the image: a package manager command of a stage that reaches the
    /// image that installs `openssh-server` (or `openssh` on Alpine and Arch, `dropbear`), and
    /// `EXPOSE 22` (or `ExposedPorts` `22/tcp` in an image config).
    ///
    /// ## Why is this bad?
    /// An SSH daemon turns the container into a machine to log in to: it needs host keys (baked
    /// into the image when generated at build time, see LP606), accounts with passwords or keys,
    /// and it usually runs as root to switch users. Each of those is a way in that the application
    /// does not need. `docker exec` and `kubectl exec` reach a running container with the
    /// engine's authentication and audit instead, and `docker cp` or a volume moves files.
    ///
    /// ## Example
    /// ```dockerfile
    /// RUN apt-get update && apt-get install -y openssh-server
    /// EXPOSE 22
    /// CMD ["/usr/sbin/sshd", "-D"]
    /// ```
    ///
    /// Use instead:
    /// ```dockerfile
    /// CMD ["gunicorn", "--bind", "0.0.0.0:8000", "driftwood:app"]
    /// ```
    /// and `docker exec -it driftwood-web sh` (or `kubectl exec`) when a shell is needed.
    ///
    /// ## Known problems
    /// Images whose purpose is an SSH endpoint (a git server, a bastion) install it on purpose;
    /// suppress the finding there with `# leastpriv: ignore[LP209] git over ssh`. `openssh-client`
    /// is not reported.
    ///
    /// ## Equivalents
    /// hadolint: none · trivy DS-0004 (`EXPOSE 22`) · checkov CKV_DOCKER_1 (`EXPOSE 22`) · KICS
    /// Exposing Port 22 (SSH) · CIS Docker Benchmark 5.7 (sshd run within containers)
    pub(crate) static META = {
        name: "ssh-server-in-image",
        layer: User,
        severity: Low,
        fix: "Remove the SSH server: reach the container with `docker exec` or `kubectl exec`",
    };
}

pub(crate) const CHECK: Check = Check::Container(check);

const SSH_SERVERS: &[&str] = &["openssh-server", "openssh", "dropbear"];

fn check(checker: &mut Checker<'_>, container: &Container) {
    let mut exposed: Vec<&Spanned<PortSpec>> = Vec::new();
    if let Some(build) = &container.build {
        for stage in build.image_stages() {
            exposed.extend(stage.exposed.iter());
            for invocation in stage.runs.iter().flat_map(run_invocations) {
                let Some((PackageAction::Install, packages)) = package_action(&invocation) else {
                    continue;
                };
                for (name, word) in packages {
                    if SSH_SERVERS.contains(&name) {
                        checker
                            .report(
                                word.span,
                                format!("`{}` installs the SSH server `{name}`: a login path into the container", invocation.name()),
                            )
                            .remedy(Remedy::RemoveInstruction);
                    }
                }
            }
        }
    }
    if let Some(image) = &container.image {
        exposed.extend(image.exposed.iter());
    }
    for port in exposed {
        let covers_22 = port.value.port.is_some_and(|first| {
            first == 22 || (first < 22 && port.value.range_end.is_some_and(|last| last >= 22))
        });
        if covers_22 && port.value.protocol == leastpriv_model::Protocol::Tcp {
            checker
                .report(
                    port.span,
                    "port 22 is exposed: an SSH server is a login path into the container",
                )
                .remedy(Remedy::RemoveInstruction);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::META;
    use crate::dockerfile_testing::findings;

    #[test]
    fn fires_on_an_ssh_server() {
        // Modelled on aquasecurity__trivy-checks/extracted-examples/docker/DS-0004_port22/bad-1.
        let found = findings(
            &META,
            "FROM ubuntu:24.04\n\
             RUN apt-get update && apt-get install -y openssh-server\n\
             EXPOSE 22 8080\n",
        );
        assert_eq!(
            found,
            [
                "2: low `apt-get` installs the SSH server `openssh-server`: a login path into the container",
                "3: low port 22 is exposed: an SSH server is a login path into the container",
            ]
        );
    }

    #[test]
    fn stays_silent_on_clients_and_builders() {
        let found = findings(
            &META,
            "FROM alpine AS build\n\
             RUN apk add openssh\n\
             EXPOSE 22\n\
             FROM alpine\n\
             RUN apk add --no-cache openssh-client git\n\
             EXPOSE 2222 22/udp\n",
        );
        assert!(found.is_empty(), "{found:?}");
    }
}
