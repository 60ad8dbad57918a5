use leastpriv_model::{Container, Remedy, SourceKind};

use crate::engine::Checker;
use crate::helpers::host_path::{engine_socket, normalize, sensitive};
use crate::rule::Check;

crate::declare_rule! {
    /// ## What it does
    /// Flags a Kubernetes `hostPath` volume that no more specific rule reports (an engine socket or a
    /// sensitive path are `engine-socket-mounted` and `sensitive-host-path-mounted`). Compose and
    /// `docker run` bind mounts of project directories are the normal way to work and stay quiet.
    ///
    /// ## Why is this bad?
    /// A `hostPath` ties the pod to one node's filesystem and lets it read or write there outside any
    /// storage quota or access control; a symlink or a later change of the path turns it into access
    /// to the node. The Pod Security Standards forbid every `hostPath` at `baseline`.
    ///
    /// ## Example
    /// ```yaml
    /// apiVersion: v1
    /// kind: Pod
    /// metadata:
    ///   name: app
    /// spec:
    ///   containers:
    ///     - name: app
    ///       image: example/app
    ///       volumeMounts:
    ///         - {name: cache, mountPath: /cache}
    ///   volumes:
    ///     - name: cache
    ///       hostPath:
    ///         path: /srv/cache
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// apiVersion: v1
    /// kind: Pod
    /// metadata:
    ///   name: app
    /// spec:
    ///   containers:
    ///     - name: app
    ///       image: example/app
    ///       volumeMounts:
    ///         - {name: cache, mountPath: /cache}
    ///   volumes:
    ///     - name: cache
    ///       emptyDir: {}
    /// ```
    ///
    /// ## Known problems
    /// Node agents (CNI, CSI, log shippers) need `hostPath`; run them in a namespace whose Pod Security
    /// level is `privileged` and suppress the finding with a reason.
    ///
    /// ## Equivalents
    /// trivy KSV-0023 · Pod Security Standards baseline "HostPath Volumes" · kubesec
    /// HostPathVolume (hostPath)
    pub(crate) static META = {
        name: "host-path-volume",
        layer: Escape,
        severity: Low,
        fix: "Use an `emptyDir`, a `PersistentVolumeClaim` or a `configMap` instead of `hostPath`",
        pss: Baseline,
    };
}

pub(crate) const CHECK: Check = Check::Container(check);

fn check(checker: &mut Checker<'_>, container: &Container) {
    if container.kind != SourceKind::Kubernetes {
        return;
    }
    let Some(runtime) = &container.runtime else {
        return;
    };
    for mount in &runtime.mounts {
        let Some(source) = mount.value.host_path() else {
            continue;
        };
        let reported_elsewhere = normalize(source).is_some_and(|path| {
            path == "/"
                || engine_socket(&path).is_some()
                || sensitive(&path, mount.value.read_only).is_some()
        });
        if reported_elsewhere {
            continue;
        }
        let target = mount.value.target.clone();
        checker
            .report(
                mount.span,
                format!("`hostPath` volume `{source}` is mounted at `{target}`: the pod reads and writes the node's filesystem"),
            )
            .remedy(Remedy::RemoveMount { target });
    }
}

#[cfg(test)]
mod tests {
    use leastpriv_model::{Mount, MountKind, Runtime, SourceKind};

    use crate::testing::Source;

    #[test]
    fn fires_for_kubernetes_host_paths_not_reported_elsewhere() {
        let source = Source::new();
        let bind = |line, path: &str| {
            source.at(
                line,
                Mount {
                    kind: MountKind::Bind {
                        source: path.into(),
                    },
                    target: "/data".into(),
                    read_only: false,
                    propagation: None,
                },
            )
        };
        let runtime = Runtime {
            mounts: vec![
                bind(2, "/srv/cache"),
                bind(3, "/var/run/docker.sock"),
                bind(4, "/etc"),
                bind(5, "/"),
            ],
            ..Runtime::default()
        };
        assert_eq!(
            source.lines("LP113", SourceKind::Kubernetes, runtime.clone()),
            [2]
        );
        assert!(source
            .lines("LP113", SourceKind::Compose, runtime)
            .is_empty());
    }
}
