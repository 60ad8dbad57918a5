use leastpriv_model::{Container, MountKind, SourceKind};

use crate::engine::Checker;
use crate::rule::Check;
use crate::Severity;

crate::declare_rule! {
    /// ## What it does
    /// Flags a Kubernetes volume of a type outside the Pod Security Standards `restricted` list
    /// (`configMap`, `csi`, `downwardAPI`, `emptyDir`, `ephemeral`, `persistentVolumeClaim`,
    /// `projected`, `secret`): `nfs`, `iscsi`, `rbd`, `cephfs`, `glusterfs`, `flexVolume`, cloud
    /// disks … and `gitRepo`, which is high: it runs `git` on the node as root with the pod's
    /// arguments (CVE-2024-10220) and is deprecated. `hostPath` is reported by the escape rules.
    ///
    /// ## Why is this bad?
    /// In-tree volume types mount storage with the node's credentials and kernel drivers, outside
    /// the `PersistentVolume` access control an administrator reviews; the pod author chooses the
    /// server and the path.
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
    ///         - {name: data, mountPath: /data}
    ///   volumes:
    ///     - name: data
    ///       nfs:
    ///         server: nfs.example.com
    ///         path: /exports/data
    /// ```
    ///
    /// Use instead: a `persistentVolumeClaim` bound to a `PersistentVolume` (or a CSI driver) that an
    /// administrator provisions.
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
    ///         - {name: data, mountPath: /data}
    ///   volumes:
    ///     - name: data
    ///       persistentVolumeClaim:
    ///         claimName: data
    /// ```
    ///
    /// ## Equivalents
    /// trivy KSV-0028 · Pod Security Standards restricted "Volume Types"
    pub(crate) static META = {
        name: "non-core-volume-type",
        layer: Escape,
        severity: Low,
        fix: "Use a `persistentVolumeClaim`, `emptyDir`, `configMap`, `secret` or `projected` volume",
        pss: Restricted,
        also: [High],
    };
}

pub(crate) const CHECK: Check = Check::Container(check);

/// Volume types `restricted` allows (case-insensitive).
const ALLOWED: [&str; 8] = [
    "configmap",
    "csi",
    "downwardapi",
    "emptydir",
    "ephemeral",
    "persistentvolumeclaim",
    "projected",
    "secret",
];

fn check(checker: &mut Checker<'_>, container: &Container) {
    if container.kind != SourceKind::Kubernetes {
        return;
    }
    let Some(runtime) = &container.runtime else {
        return;
    };
    for mount in &runtime.mounts {
        let MountKind::Other { kind } = &mount.value.kind else {
            continue;
        };
        let lower = kind.to_ascii_lowercase();
        if ALLOWED.contains(&lower.as_str()) {
            continue;
        }
        let target = &mount.value.target;
        if lower == "gitrepo" {
            checker
                .report(
                    mount.span,
                    format!("`gitRepo` volume mounted at `{target}`: the node runs `git` as root with the pod's arguments (CVE-2024-10220)"),
                )
                .severity(Severity::High)
                .fix("Clone the repository in an init container into an `emptyDir` volume");
        } else {
            checker.report(
                mount.span,
                format!("`{kind}` volume mounted at `{target}`: storage the pod reaches with the node's drivers and credentials"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use leastpriv_model::{Mount, MountKind, Runtime, SourceKind};

    use crate::testing::Source;
    use crate::Severity;

    #[test]
    fn flags_volume_types_outside_the_restricted_list() {
        let source = Source::new();
        let volume = |line, kind: &str| {
            source.at(
                line,
                Mount {
                    kind: MountKind::Other { kind: kind.into() },
                    target: "/data".into(),
                    read_only: false,
                    propagation: None,
                },
            )
        };
        let runtime = Runtime {
            mounts: vec![
                volume(2, "nfs"),
                volume(3, "gitRepo"),
                volume(4, "emptyDir"),
                volume(5, "persistentVolumeClaim"),
                volume(6, "projected"),
            ],
            ..Runtime::default()
        };
        let found = source.run(
            "LP125",
            &[source.container(SourceKind::Kubernetes, runtime)],
        );
        let got: Vec<_> = found.iter().map(|f| (f.line, f.severity)).collect();
        assert_eq!(got, [(2, Severity::Low), (3, Severity::High)]);
    }
}
