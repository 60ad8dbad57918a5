//! Host paths mounted into a container: normalised once, then matched against the places that lead
//! out of the container (engine sockets) or into the host's secrets and configuration.
//!
//! Matching is by resolved path, never by one literal string: `/var/run/docker.sock`,
//! `/run/docker.sock`, `/var/run/../run//docker.sock/` and a mount of `/var/run` that holds the socket
//! are the same exposure. `/var/run` is a symlink to `/run` on every current distribution, so paths
//! are compared in their `/run` spelling.

use crate::Severity;

/// A host path in a canonical spelling: absolute (or `~`-relative), `.` and `..` resolved, no
/// repeated or trailing `/`, `/var/run` spelled `/run`, Windows separators as `/`. `None` for a
/// relative path (relative to the project directory, which is not a system path) or a volume name.
pub(crate) fn normalize(path: &str) -> Option<String> {
    let path = path.trim().replace('\\', "/");
    let (root, rest) = if let Some(rest) = path.strip_prefix('~') {
        ("~", rest)
    } else if let Some(rest) = path
        .strip_prefix("${HOME}")
        .or_else(|| path.strip_prefix("$HOME"))
    {
        ("~", rest)
    } else if path.starts_with('/') {
        ("", path.as_str())
    } else {
        return None;
    };
    if root == "~" && !(rest.is_empty() || rest.starts_with('/')) {
        // `~user/…` names another user's home: still a home directory.
        return Some(format!("~/{}", rest.trim_start_matches('/')));
    }
    let mut parts: Vec<&str> = Vec::new();
    for part in rest.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            part => parts.push(part),
        }
    }
    if root.is_empty() && parts.first() == Some(&"var") && parts.get(1) == Some(&"run") {
        parts.remove(0);
    }
    let joined = parts.join("/");
    Some(match (root, joined.is_empty()) {
        ("~", true) => "~".to_owned(),
        ("~", false) => format!("~/{joined}"),
        (_, _) => format!("/{joined}"),
    })
}

/// Whether `path` is `ancestor` or lies below it (both normalised).
pub(crate) fn is_within(path: &str, ancestor: &str) -> bool {
    path == ancestor
        || ancestor == "/"
        || path
            .strip_prefix(ancestor)
            .is_some_and(|rest| rest.starts_with('/'))
}

/// File names of container engine API sockets (and Docker's Windows named pipe).
const SOCKET_NAMES: [&str; 8] = [
    "docker.sock",
    "containerd.sock",
    "crio.sock",
    "podman.sock",
    "buildkitd.sock",
    "cri-dockerd.sock",
    "dockershim.sock",
    "docker_engine",
];

/// Where engines put their sockets, normalised (`/var/run` → `/run`). A mount of a directory that holds
/// one exposes it. (A mount of `/var` does not: its `run` is a symlink that resolves inside the
/// container, while a mount of `/var/run` itself is resolved on the host.)
const SOCKET_PATHS: [&str; 10] = [
    "/run/docker.sock",
    "/run/containerd/containerd.sock",
    "/run/docker/containerd/containerd.sock",
    "/run/crio/crio.sock",
    "/run/podman/podman.sock",
    "/run/buildkit/buildkitd.sock",
    "/run/cri-dockerd.sock",
    "/run/dockershim.sock",
    "/run/k3s/containerd/containerd.sock",
    "~/.docker/run/docker.sock",
];

/// How a mount exposes an engine socket.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum SocketExposure {
    /// The mount is the socket itself.
    Socket,
    /// The mount is a directory that holds this socket.
    Directory(String),
}

/// The engine socket a mount of the (normalised) host path `path` exposes. The host root `/` is not
/// reported here: mounting it is judged as a whole by the sensitive-path rule.
pub(crate) fn engine_socket(path: &str) -> Option<SocketExposure> {
    if path == "/" {
        return None;
    }
    let name = path.rsplit('/').next().unwrap_or(path);
    if SOCKET_NAMES.contains(&name) {
        return Some(SocketExposure::Socket);
    }
    if let Some(socket) = SOCKET_PATHS.iter().find(|socket| is_within(socket, path)) {
        return Some(SocketExposure::Directory((*socket).to_owned()));
    }
    // Rootless engines listen in the user's runtime directory: /run/user/<uid>/docker.sock.
    let rootless = path == "/run/user"
        || path
            .strip_prefix("/run/user/")
            .is_some_and(|uid| !uid.is_empty() && uid.bytes().all(|b| b.is_ascii_digit()));
    rootless.then(|| {
        let uid = path.strip_prefix("/run/user/").unwrap_or("<uid>");
        SocketExposure::Directory(format!("/run/user/{uid}/docker.sock"))
    })
}

/// What mounting a sensitive host path exposes, and how badly.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Exposure {
    /// The sensitive path matched (the mount itself, a path under it, or a path it lies under).
    pub(crate) path: String,
    /// What that path holds.
    pub(crate) what: &'static str,
    /// How bad this mount is, given its read-only flag.
    pub(crate) severity: Severity,
}

/// One sensitive host location. `subtree`: paths below it count too (with `read_only_below` when
/// mounted read-only); otherwise only the path itself and its ancestors do.
struct Sensitive {
    path: &'static str,
    subtree: bool,
    writable: Severity,
    read_only: Option<Severity>,
    read_only_below: Option<Severity>,
    what: &'static str,
}

const fn entry(
    path: &'static str,
    subtree: bool,
    writable: Severity,
    read_only: Option<Severity>,
    read_only_below: Option<Severity>,
    what: &'static str,
) -> Sensitive {
    Sensitive {
        path,
        subtree,
        writable,
        read_only,
        read_only_below,
        what,
    }
}

use Severity::{Critical, High, Low, Medium};

const RUNS_AS_ROOT: &str = "a host file that runs commands as root";
const HOST_BINARIES: &str = "programs and libraries the host runs as root";
const CONTAINER_STATE: &str = "every container's filesystem, configuration and secrets";

/// The host's sensitive locations (CIS Docker 5.6, trivy KSV-0121, KICS 1c1325ff, and the kubelet's
/// and engines' state directories they miss). Normalised spelling.
#[rustfmt::skip]
const SENSITIVE: &[Sensitive] = &[
    entry("/etc", false, Critical, Some(High), None, "the host's configuration (users, sudoers, cron, services)"),
    entry("/etc/shadow", false, Critical, Some(High), None, "the host's password hashes"),
    entry("/etc/gshadow", false, Critical, Some(High), None, "the host's group password hashes"),
    entry("/etc/passwd", false, Critical, None, None, "the host's user database"),
    entry("/etc/group", false, Critical, None, None, "the host's group database"),
    entry("/etc/sudoers", false, Critical, None, None, RUNS_AS_ROOT),
    entry("/etc/sudoers.d", true, Critical, None, None, RUNS_AS_ROOT),
    entry("/etc/crontab", false, Critical, None, None, RUNS_AS_ROOT),
    entry("/etc/cron.d", true, Critical, None, None, RUNS_AS_ROOT),
    entry("/etc/cron.hourly", true, Critical, None, None, RUNS_AS_ROOT),
    entry("/etc/cron.daily", true, Critical, None, None, RUNS_AS_ROOT),
    entry("/etc/systemd", true, Critical, None, None, RUNS_AS_ROOT),
    entry("/etc/init.d", true, Critical, None, None, RUNS_AS_ROOT),
    entry("/etc/profile.d", true, Critical, None, None, RUNS_AS_ROOT),
    entry("/etc/ld.so.preload", false, Critical, None, None, RUNS_AS_ROOT),
    entry("/etc/pam.d", true, Critical, None, None, RUNS_AS_ROOT),
    entry("/etc/ssh", true, Critical, Some(Medium), Some(Medium), "the host's SSH server keys and configuration"),
    entry("/etc/kubernetes", true, Critical, Some(High), Some(High), "kubelet and control-plane credentials"),
    entry("/etc/docker", true, Critical, Some(Medium), Some(Medium), "the engine's configuration and TLS keys"),
    entry("/etc/containerd", true, Critical, None, None, "the container runtime's configuration"),
    entry("/etc/crio", true, Critical, None, None, "the container runtime's configuration"),
    entry("/home", false, High, Some(Medium), None, "every user's home directory"),
    entry("/boot", true, Critical, Some(Low), None, "the host's kernel and boot loader"),
    entry("/dev", false, High, Some(Medium), None, "the host's device nodes"),
    entry("/proc", true, Critical, Some(Medium), None, "the host's processes and kernel settings"),
    entry("/sys", true, Critical, Some(Low), None, "the host's kernel interfaces (cgroups, devices, kernel settings)"),
    // Below /usr, data (`/usr/share/…`, `/usr/src`) is less than code, which the next entries cover.
    entry("/usr", true, Medium, Some(Low), None, "the host's programs and their data"),
    entry("/usr/bin", true, Critical, None, None, HOST_BINARIES),
    entry("/usr/sbin", true, Critical, None, None, HOST_BINARIES),
    entry("/usr/lib", true, Critical, None, None, HOST_BINARIES),
    entry("/usr/lib32", true, Critical, None, None, HOST_BINARIES),
    entry("/usr/lib64", true, Critical, None, None, HOST_BINARIES),
    entry("/usr/libexec", true, Critical, None, None, HOST_BINARIES),
    entry("/usr/local/bin", true, Critical, None, None, HOST_BINARIES),
    entry("/usr/local/sbin", true, Critical, None, None, HOST_BINARIES),
    entry("/usr/local/lib", true, Critical, None, None, HOST_BINARIES),
    entry("/lib", true, Critical, Some(Low), None, HOST_BINARIES),
    entry("/lib32", true, Critical, Some(Low), None, HOST_BINARIES),
    entry("/lib64", true, Critical, Some(Low), None, HOST_BINARIES),
    entry("/bin", true, Critical, Some(Low), None, HOST_BINARIES),
    entry("/sbin", true, Critical, Some(Low), None, HOST_BINARIES),
    entry("/var/lib/docker", true, Critical, Some(High), Some(High), CONTAINER_STATE),
    entry("/var/lib/containerd", true, Critical, Some(High), Some(High), CONTAINER_STATE),
    entry("/var/lib/containers", true, Critical, Some(High), Some(High), CONTAINER_STATE),
    entry("/var/lib/kubelet", true, Critical, Some(High), Some(High), "every pod's volumes and service-account tokens on the node"),
    entry("/var/lib/etcd", true, Critical, Some(High), Some(High), "the cluster's etcd data, every Secret included"),
    entry("/var/log", true, High, None, None, "the host's logs (the kubelet follows symlinks written there)"),
];

/// Credential directories and files in a home directory.
const HOME_CREDENTIALS: [&str; 11] = [
    ".ssh",
    ".aws",
    ".kube",
    ".docker",
    ".gnupg",
    ".azure",
    ".config/gcloud",
    ".netrc",
    ".git-credentials",
    ".npmrc",
    ".pypirc",
];

/// What mounting the (normalised) host path `path` exposes, when it is sensitive. The host root, the
/// engine sockets and the directories that hold them are judged by their own checks, not here.
pub(crate) fn sensitive(path: &str, read_only: bool) -> Option<Exposure> {
    let mut worst: Option<Exposure> = None;
    let mut consider = |exposure: Exposure| {
        if worst
            .as_ref()
            .is_none_or(|current| exposure.severity > current.severity)
        {
            worst = Some(exposure);
        }
    };
    for entry in SENSITIVE {
        let exact = path == entry.path;
        let below = entry.subtree && is_within(path, entry.path) && !exact;
        let above = is_within(entry.path, path) && !exact;
        let severity = match (read_only, exact || above, below) {
            (false, true, _) | (false, _, true) => Some(entry.writable),
            (true, true, _) => entry.read_only,
            (true, false, true) => entry.read_only_below,
            (_, false, false) => None,
        };
        if let Some(severity) = severity {
            consider(Exposure {
                path: entry.path.to_owned(),
                what: entry.what,
                severity,
            });
        }
    }
    if let Some(exposure) = home_exposure(path, read_only) {
        consider(exposure);
    }
    worst
}

/// A home directory (`~`, `/home/<user>`, `/Users/<user>`, root's `/root`) or a credential store or
/// start-up file inside one; other directories below a home (a project, a data directory) are not.
fn home_exposure(path: &str, read_only: bool) -> Option<Exposure> {
    let root_home = path == "/root" || path.starts_with("/root/");
    let rest = if path == "~" || path == "/root" {
        ""
    } else if let Some(rest) = path
        .strip_prefix("~/")
        .or_else(|| path.strip_prefix("/root/"))
    {
        rest
    } else {
        let under = path
            .strip_prefix("/home/")
            .or_else(|| path.strip_prefix("/Users/"))?;
        match under.split_once('/') {
            Some((_user, rest)) => rest,
            None => "",
        }
    };
    let what = match (rest.is_empty(), root_home) {
        (true, true) => "root's home (SSH keys, shell start-up files, credentials)",
        (true, false) => "a user's home directory (SSH keys, shell start-up files, credentials)",
        (false, _) if HOME_CREDENTIALS.iter().any(|store| is_within(rest, store)) => {
            if root_home {
                "root's credentials (SSH, cloud, cluster or registry)"
            } else {
                "a user's credentials (SSH, cloud, cluster or registry)"
            }
        }
        (false, _) => return None,
    };
    // Root's keys and start-up files are the host's root; a user's are that user's.
    let severity = match (read_only, root_home) {
        (false, true) => Critical,
        (true, true) | (false, false) => High,
        (true, false) => Medium,
    };
    Some(Exposure {
        path: path.to_owned(),
        what,
        severity,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_spellings() {
        for (raw, normal) in [
            ("/var/run/docker.sock", "/run/docker.sock"),
            ("/var/run/", "/run"),
            ("//var//lib/../run/./docker.sock/", "/run/docker.sock"),
            ("/", "/"),
            ("/..", "/"),
            ("~", "~"),
            ("~/.ssh/", "~/.ssh"),
            ("$HOME/.kube", "~/.kube"),
            ("${HOME}", "~"),
            (r"\\.\pipe\docker_engine", "/pipe/docker_engine"),
        ] {
            assert_eq!(normalize(raw).as_deref(), Some(normal), "{raw}");
        }
        for relative in ["./data", "data", "../etc", "named_volume", ""] {
            assert_eq!(normalize(relative), None, "{relative}");
        }
    }

    #[test]
    fn finds_sockets_and_the_directories_that_hold_them() {
        let exposure = |raw: &str| normalize(raw).and_then(|path| engine_socket(&path));
        assert_eq!(
            exposure("/var/run/docker.sock"),
            Some(SocketExposure::Socket)
        );
        assert_eq!(
            exposure("/run/podman/podman.sock"),
            Some(SocketExposure::Socket)
        );
        assert_eq!(
            exposure("~/.docker/run/docker.sock"),
            Some(SocketExposure::Socket)
        );
        assert_eq!(
            exposure(r"\\.\pipe\docker_engine"),
            Some(SocketExposure::Socket)
        );
        assert_eq!(
            exposure("/var/run"),
            Some(SocketExposure::Directory("/run/docker.sock".into()))
        );
        assert_eq!(
            exposure("/run/containerd"),
            Some(SocketExposure::Directory(
                "/run/containerd/containerd.sock".into()
            ))
        );
        assert_eq!(
            exposure("/run/user/1000"),
            Some(SocketExposure::Directory(
                "/run/user/1000/docker.sock".into()
            ))
        );
        for quiet in [
            "/",
            "/var",
            "/run/secrets",
            "/var/lib/docker",
            "/srv/data",
            "/run/user/1000/app",
        ] {
            assert_eq!(exposure(quiet), None, "{quiet}");
        }
    }

    #[test]
    fn grades_sensitive_paths_by_write_access() {
        let grade = |raw: &str, read_only: bool| {
            normalize(raw)
                .and_then(|path| sensitive(&path, read_only))
                .map(|exposure| exposure.severity)
        };
        assert_eq!(grade("/etc", false), Some(Critical));
        assert_eq!(grade("/etc", true), Some(High));
        assert_eq!(grade("/var", true), Some(High));
        assert_eq!(grade("/etc/localtime", true), None);
        assert_eq!(grade("/etc/localtime", false), None);
        assert_eq!(grade("/etc/cron.d/job", false), Some(Critical));
        assert_eq!(grade("/var/lib/docker/containers", true), Some(High));
        assert_eq!(grade("/var/lib", false), Some(Critical));
        assert_eq!(grade("/sys/fs/cgroup", true), None);
        assert_eq!(grade("/sys/fs/cgroup", false), Some(Critical));
        assert_eq!(grade("/proc", true), Some(Medium));
        assert_eq!(grade("/usr/share/zoneinfo", true), None);
        assert_eq!(grade("/lib/modules", true), None);
        assert_eq!(grade("/home/me/.ssh", true), Some(Medium));
        assert_eq!(grade("~/.aws", false), Some(High));
        assert_eq!(grade("/home/me/projects/app", false), None);
        assert_eq!(grade("/root/.ssh", true), Some(High));
        assert_eq!(grade("/root", false), Some(Critical));
        assert_eq!(grade("/root/minecraft_data", false), None);
        assert_eq!(grade("/usr/share/appdata/wireguard", false), Some(Medium));
        assert_eq!(grade("/usr/local/bin", false), Some(Critical));
        assert_eq!(grade("/lib/modules", false), Some(Critical));
        assert_eq!(grade("/srv/www", false), None);
        assert_eq!(grade("/var/log", true), None);
    }
}
