use leastpriv_model::{Container, Remedy};

use crate::engine::Checker;
use crate::helpers::host_path::{engine_socket, normalize, SocketExposure};
use crate::helpers::runtime::fix_for;
use crate::rule::Check;
use crate::Severity;

crate::declare_rule! {
    /// ## What it does
    /// Flags a container that can reach a container engine's API: a host mount of an engine socket
    /// (`docker.sock`, `containerd.sock`, `crio.sock`, `podman.sock`, `buildkitd.sock`,
    /// `cri-dockerd.sock`, Docker's Windows pipe `docker_engine`), or of a directory that holds one
    /// (`/var/run`, `/run`, `/run/containerd`, `/run/user/<uid>`), **read-only or not**; and an
    /// environment that points a client at an engine over the network (`DOCKER_HOST=tcp://…` or
    /// `ssh://…`, `CONTAINER_HOST`).
    ///
    /// Paths are compared after resolving `.`, `..`, repeated and trailing `/`, `~`, and `/var/run`
    /// as `/run`, so `/run/docker.sock`, `/var/run/docker.sock` and a mount of `/var/run` are the same
    /// exposure. trivy and checkov compare one literal string.
    ///
    /// ## Why is this bad?
    /// Whoever talks to the engine's API can start a privileged container that mounts the host's root
    /// filesystem: `docker run --privileged -v /:/host alpine chroot /host`. That is root on the host.
    /// A read-only mount does not help: `:ro` stops writes to the socket *file*, not `connect()` on it.
    ///
    /// ## Example
    /// ```yaml
    /// services:
    ///   dashboard:
    ///     image: example/dashboard
    ///     volumes:
    ///       - /var/run/docker.sock:/var/run/docker.sock:ro
    /// ```
    ///
    /// Use instead: a filtering proxy that allows only the API calls the tool needs, on a private
    /// network. Nothing in the Compose file shows what the proxy allows, so its socket mount and the
    /// dashboard's `DOCKER_HOST` are still reported: suppress them with the reason.
    /// ```yaml
    /// services:
    ///   socket-proxy:
    ///     image: wollomatic/socket-proxy:1
    ///     command: ["-allowGET=/v1\\..{1,2}/(containers|events)/.*"]
    ///     volumes:
    ///       # leastpriv: ignore[LP111] the proxy forwards only the GET calls it allows
    ///       - /var/run/docker.sock:/var/run/docker.sock:ro
    ///   dashboard:
    ///     image: example/dashboard
    ///     environment:
    ///       # leastpriv: ignore[LP111] socket-proxy allows GET on containers and events only
    ///       DOCKER_HOST: tcp://socket-proxy:2375
    /// ```
    ///
    /// ## Known problems
    /// An engine reached over `tcp://` may be a Docker-in-Docker sidecar rather than the host's
    /// engine; that finding is `high`, not `critical`. Sockets at paths no engine uses by default are
    /// matched by file name only.
    ///
    /// ## Equivalents
    /// trivy KSV-0006 (exact `/var/run/docker.sock` only) · checkov CKV_K8S_27 (exact path) · KICS
    /// compose d6355c88 · CIS Docker Benchmark 5.32 · Pod Security Standards baseline "HostPath
    /// Volumes"
    pub(crate) static META = {
        name: "engine-socket-mounted",
        layer: Escape,
        severity: Critical,
        fix: "Remove the engine socket mount; give tools a filtering socket proxy instead",
        pss: Baseline,
        also: [High],
    };
}

pub(crate) const CHECK: Check = Check::Container(check);

/// Variables that point an engine client at its API.
const ENGINE_HOST_VARIABLES: [&str; 2] = ["DOCKER_HOST", "CONTAINER_HOST"];

fn check(checker: &mut Checker<'_>, container: &Container) {
    let Some(runtime) = &container.runtime else {
        return;
    };
    for mount in &runtime.mounts {
        let Some(written) = mount.value.host_path() else {
            continue;
        };
        let Some(exposure) = normalize(written).and_then(|path| engine_socket(&path)) else {
            continue;
        };
        let written = written.trim();
        let read_only = if mount.value.read_only {
            " read-only (which does not stop API calls)"
        } else {
            ""
        };
        let message = match exposure {
            SocketExposure::Socket => format!(
                "container engine socket `{written}` is mounted{read_only}: the container can start a privileged container on the host"
            ),
            SocketExposure::Directory(socket) => format!(
                "host directory `{written}` is mounted{read_only} and holds the container engine socket `{socket}`: the container can start a privileged container on the host"
            ),
        };
        let target = mount.value.target.clone();
        let fix = fix_for(
            container,
            &format!("remove the volume mounted at `{target}`; if a tool needs the API, give it a filtering socket proxy"),
            &format!("remove the `hostPath` volume mounted at `{target}`; if a tool needs the API, give it a filtering socket proxy"),
            &format!("remove the `-v`/`--mount` for `{target}`; if a tool needs the API, give it a filtering socket proxy"),
        );
        checker
            .report(mount.span, message)
            .fix(fix)
            .remedy(Remedy::RemoveMount { target });
    }
    for variable in &runtime.environment {
        if !ENGINE_HOST_VARIABLES.contains(&variable.name.value.as_str()) {
            continue;
        }
        let Some(value) = &variable.value else {
            continue;
        };
        let scheme = value
            .value
            .expose()
            .trim()
            .split_once("://")
            .map(|(scheme, _)| scheme.to_ascii_lowercase());
        let Some(scheme) =
            scheme.filter(|scheme| matches!(scheme.as_str(), "tcp" | "ssh" | "http" | "https"))
        else {
            continue;
        };
        let name = &variable.name.value;
        checker
            .report(
                variable.name.span,
                format!("`{name}` points the container at a container engine API over `{scheme}`: whoever controls that engine controls its host"),
            )
            .severity(Severity::High)
            .pss(None)
            .fix(format!(
                "Remove `{name}`, or point it at a socket proxy that allows only the API calls the tool needs"
            ));
    }
}

#[cfg(test)]
mod tests {
    use leastpriv_model::{EnvVar, Mount, MountKind, Runtime, Sensitive, SourceKind};

    use crate::testing::Source;
    use crate::{PssLevel, Severity};

    fn bind(source: &str, target: &str, read_only: bool) -> Mount {
        Mount {
            kind: MountKind::Bind {
                source: source.into(),
            },
            target: target.into(),
            read_only,
            propagation: None,
        }
    }

    #[test]
    fn matches_sockets_by_resolved_path() {
        let source = Source::new();
        let runtime = Runtime {
            mounts: vec![
                source.at(
                    2,
                    bind("/var/run/docker.sock", "/var/run/docker.sock", true),
                ),
                source.at(3, bind("/run/docker.sock", "/sock", false)),
                source.at(4, bind("/var/run", "/host/run", false)),
                source.at(5, bind("/run/containerd/", "/c", true)),
                source.at(6, bind("~/.docker/run/docker.sock", "/d", false)),
                source.at(7, bind("/var/lib/../run//podman/podman.sock", "/p", false)),
                // Silent: a relative path, a volume, the host root (judged as a whole elsewhere),
                // /var (its `run` is a symlink resolved inside the container), secrets.
                source.at(8, bind("./docker.sock.d", "/x", false)),
                source.at(
                    9,
                    Mount {
                        kind: MountKind::Volume {
                            name: Some("docker.sock".into()),
                        },
                        ..bind("", "/v", false)
                    },
                ),
                source.at(10, bind("/", "/host", true)),
                source.at(11, bind("/var", "/host/var", true)),
                source.at(12, bind("/run/secrets", "/s", true)),
            ],
            ..Runtime::default()
        };
        let found = source.run("LP111", &[source.container(SourceKind::Compose, runtime)]);
        let lines: Vec<_> = found.iter().map(|f| f.line).collect();
        assert_eq!(lines, [2, 3, 4, 5, 6, 7]);
        assert!(found[0]
            .message
            .contains("read-only (which does not stop API calls)"));
        assert!(found[2]
            .message
            .contains("holds the container engine socket `/run/docker.sock`"));
        assert!(found.iter().all(|f| f.severity == Severity::Critical));
    }

    #[test]
    fn flags_engine_hosts_over_the_network_without_printing_the_value() {
        let source = Source::new();
        let env = |line, name: &str, value: &str| EnvVar {
            name: source.at(line, name.to_owned()),
            value: Some(source.at(line, Sensitive::new(value))),
        };
        let runtime = Runtime {
            environment: vec![
                env(2, "DOCKER_HOST", "tcp://user:hunter2@docker:2376"),
                env(3, "DOCKER_HOST", "unix:///var/run/docker.sock"),
                env(4, "OTHER_HOST", "tcp://x:1"),
            ],
            ..Runtime::default()
        };
        let found = source.run("LP111", &[source.container(SourceKind::Compose, runtime)]);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].line, 2);
        assert_eq!(found[0].severity, Severity::High);
        assert_eq!(found[0].pss, None);
        assert!(!found[0].message.contains("hunter2"));
    }

    #[test]
    fn reports_the_pss_level_only_for_mounts() {
        let source = Source::new();
        let runtime = Runtime {
            mounts: vec![source.at(2, bind("/var/run/docker.sock", "/s", false))],
            ..Runtime::default()
        };
        let found = source.run(
            "LP111",
            &[source.container(SourceKind::Kubernetes, runtime)],
        );
        assert_eq!(found[0].pss, Some(PssLevel::Baseline));
        assert!(found[0].fix.contains("hostPath"));
    }
}
