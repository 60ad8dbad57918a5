use leastpriv_model::{Container, Remedy};

use crate::engine::Checker;
use crate::helpers::host_path::{engine_socket, normalize, sensitive};
use crate::helpers::runtime::fix_for;
use crate::rule::Check;
use crate::Severity;

crate::declare_rule! {
    /// ## What it does
    /// Flags a host mount of a sensitive host path, graded by what it holds and whether it is
    /// writable:
    ///
    /// | host path | writable | read-only |
    /// |---|---|---|
    /// | `/` (the host's root) | critical | critical (engine sockets stay usable) |
    /// | `/etc`, `/root` (and root's `.ssh`, `.kube` …) | critical | high (password hashes, cluster and SSH credentials) |
    /// | `/proc` | critical | medium |
    /// | `/boot`, `/sys`, `/lib`, `/bin`, `/sbin`, `/usr/bin`, `/usr/lib`, `/usr/local/bin` … and below | critical | low (the directory itself) |
    /// | `/usr` and data below it (`/usr/share/…`, `/usr/src`) | medium | low (`/usr` itself) |
    /// | `/var/lib/docker`, `/var/lib/containerd`, `/var/lib/kubelet`, `/var/lib/etcd` and below | critical | high |
    /// | files under `/etc` that run as root (`sudoers`, `cron.d`, `systemd`, `ld.so.preload` …) | critical | — |
    /// | `/etc/shadow`, `/etc/kubernetes`, `/etc/docker`, `/etc/ssh` | critical | high or medium |
    /// | `/home`, a home directory (`~`, `/home/<user>`), its `.ssh`, `.aws`, `.kube`, `.docker` … | high | medium |
    /// | `/dev` | high | medium |
    /// | `/var/log` | high | — |
    ///
    /// An ancestor counts as what it holds (`/var/lib` is judged as `/var/lib/docker`); a directory
    /// below a home that is not a credential store (`/root/app-data`, `/home/me/project`) does not
    /// count. Harmless neighbours stay quiet: `/etc/localtime`, `/etc/hosts`, `/usr/share/zoneinfo`, `/lib/modules:ro`,
    /// `/sys/fs/cgroup:ro`. Engine sockets and the directories that hold them (`/var/run`) are
    /// `engine-socket-mounted`.
    ///
    /// ## Why is this bad?
    /// A writable host path under root's control is host root: write `/etc/cron.d`, `/root/.ssh/
    /// authorized_keys`, a binary in `/usr/bin`, a kernel in `/boot`, `core_pattern` in `/proc/sys`, a
    /// cgroup `release_agent` in `/sys`, or another container's files in `/var/lib/docker`. Read-only
    /// mounts still leak what they hold: password hashes, kubelet credentials, every pod's
    /// service-account tokens, SSH and cloud keys.
    ///
    /// ## Example
    /// ```yaml
    /// services:
    ///   agent:
    ///     image: example/agent
    ///     volumes:
    ///       - /etc:/host/etc
    /// ```
    ///
    /// Use instead: mount only the file the program reads, read-only:
    /// ```yaml
    /// services:
    ///   agent:
    ///     image: example/agent
    ///     volumes:
    ///       - /etc/localtime:/etc/localtime:ro
    /// ```
    ///
    /// ## Known problems
    /// Node agents (monitoring, log shippers, CNI and CSI plugins) need some of these paths; keep them
    /// read-only and suppress the finding with a reason. Paths are judged as written: a symlink on the
    /// host that leads to a sensitive path is not followed.
    ///
    /// ## Equivalents
    /// trivy KSV-0121 (`/ /boot /dev /etc /lib /proc /sys /usr /var/lib/docker`), KSV-0023 · KICS
    /// compose 1c1325ff (ignores `:ro`) · CIS Docker Benchmark 5.6 (writable only) · Pod Security
    /// Standards baseline "HostPath Volumes"
    pub(crate) static META = {
        name: "sensitive-host-path-mounted",
        layer: Escape,
        severity: High,
        fix: "Remove the host mount, or mount only the file the program needs, read-only",
        pss: Baseline,
        also: [Critical, Medium, Low],
    };
}

pub(crate) const CHECK: Check = Check::Container(check);

fn check(checker: &mut Checker<'_>, container: &Container) {
    let Some(runtime) = &container.runtime else {
        return;
    };
    for mount in &runtime.mounts {
        let Some(written) = mount.value.host_path() else {
            continue;
        };
        let read_only = mount.value.read_only;
        let Some((severity, message)) = judge(written, read_only) else {
            continue;
        };
        let target = mount.value.target.clone();
        let fix = if read_only {
            fix_for(
                container,
                &format!("remove the volume mounted at `{target}`, or mount only the file the program reads"),
                &format!("remove the `hostPath` volume mounted at `{target}`, or mount only the file the program reads"),
                &format!("remove the `-v`/`--mount` for `{target}`, or mount only the file the program reads"),
            )
        } else {
            fix_for(
                container,
                &format!("remove the volume mounted at `{target}`, or mount only what the program needs with `:ro`"),
                &format!("remove the `hostPath` volume mounted at `{target}`, or mount only what the program needs with `readOnly: true`"),
                &format!("remove the `-v`/`--mount` for `{target}`, or mount only what the program needs with `:ro`"),
            )
        };
        checker
            .report(mount.span, message)
            .severity(severity)
            .fix(fix)
            .remedy(Remedy::RemoveMount { target });
    }
}

/// How bad mounting the host path `written` is, and why; `None` when it is not sensitive (or is an
/// engine socket, `engine-socket-mounted`'s). Also what `verify` asks of a host path it sees bind
/// mounted in a running container.
pub(crate) fn judge(written: &str, read_only: bool) -> Option<(Severity, String)> {
    let path = normalize(written)?;
    let written = written.trim();
    if path == "/" {
        let message = if read_only {
            "the host's root filesystem is mounted read-only: every host secret is readable and the container engine socket under `/run` stays usable"
        } else {
            "the host's root filesystem is mounted writable: every host file is in reach, so root in the container is root on the host"
        };
        return Some((Severity::Critical, message.to_owned()));
    }
    if engine_socket(&path).is_some() {
        return None;
    }
    let exposure = sensitive(&path, read_only)?;
    let access = if read_only { "read-only" } else { "writable" };
    let place = if exposure.path == path {
        format!("`{written}`")
    } else if exposure.path.starts_with(&path) {
        format!("`{written}`, which holds `{}`,", exposure.path)
    } else {
        format!("`{written}`, under `{}`,", exposure.path)
    };
    Some((
        exposure.severity,
        format!("host path {place} is mounted {access}: {}", exposure.what),
    ))
}

#[cfg(test)]
mod tests {
    use leastpriv_model::{Mount, MountKind, Runtime, SourceKind};

    use crate::testing::Source;
    use crate::Severity;

    fn bind(source: &str, read_only: bool) -> Mount {
        Mount {
            kind: MountKind::Bind {
                source: source.into(),
            },
            target: "/mnt".into(),
            read_only,
            propagation: None,
        }
    }

    #[test]
    fn grades_by_path_and_write_access() {
        let source = Source::new();
        let mounts = [
            ("/", true, Some(Severity::Critical)),
            ("/", false, Some(Severity::Critical)),
            ("/etc", false, Some(Severity::Critical)),
            ("/etc/", true, Some(Severity::High)),
            ("/etc/localtime", true, None),
            ("/etc/timezone", false, None),
            ("/var/lib/docker", true, Some(Severity::High)),
            ("/var/lib", false, Some(Severity::Critical)),
            ("/var/run", false, None),
            ("/var/run/docker.sock", true, None),
            ("/proc", true, Some(Severity::Medium)),
            ("/sys", true, Some(Severity::Low)),
            ("/sys/fs/cgroup", true, None),
            ("/dev", false, Some(Severity::High)),
            ("~/.ssh", true, Some(Severity::Medium)),
            ("./data", false, None),
            ("/srv/app", false, None),
        ];
        let runtime = Runtime {
            mounts: mounts
                .iter()
                .enumerate()
                .map(|(index, (path, read_only, _))| {
                    source.at(index as u32 + 2, bind(path, *read_only))
                })
                .collect(),
            ..Runtime::default()
        };
        let found = source.run("LP112", &[source.container(SourceKind::Compose, runtime)]);
        let expected: Vec<_> = mounts
            .iter()
            .enumerate()
            .filter_map(|(index, (_, _, severity))| severity.map(|s| (index as u32 + 2, s)))
            .collect();
        let got: Vec<_> = found.iter().map(|f| (f.line, f.severity)).collect();
        assert_eq!(got, expected);
        let messages: Vec<_> = found.iter().map(|f| f.message.as_str()).collect();
        assert!(
            messages.contains(&"host path `/var/lib`, which holds `/var/lib/docker`, is mounted writable: every container's filesystem, configuration and secrets"),
            "{messages:#?}"
        );
    }
}
