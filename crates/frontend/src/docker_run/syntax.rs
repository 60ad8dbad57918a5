//! The value syntaxes the Docker CLI and Engine API share: `--security-opt`, `-v`/`Binds`, `--mount`,
//! `--tmpfs`, `-p`, `--device`, namespace modes and `--sysctl`. `docker run` flags and `docker
//! inspect` fields both use them; each function reads one value as the Docker CLI does
//! (`docker/cli/opts`, `moby/moby/volume/mounts/linux_parser.go`) and never fails: what it cannot
//! read it keeps as written.

use leastpriv_model::{
    Device, LsmProfile, Mount, MountKind, NamespaceMode, PortMapping, Protocol, SeccompProfile,
    SelinuxLabel, Sysctl, Tmpfs,
};

/// One `--security-opt` / `SecurityOpt` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum SecurityOpt {
    NoNewPrivileges(bool),
    Seccomp(SeccompProfile),
    AppArmor(LsmProfile),
    Label(SelinuxLabel),
    /// `systempaths=unconfined`, or Podman's `unmask=…`: `/proc` and `/sys` paths left unmasked.
    Unmask,
    /// Anything else (`label=nested`, `mask=…`, `proc-opts=…`): no bearing on the model.
    Other,
}

/// Reads `key=value`, or the deprecated `key:value`, as `docker run` does.
pub(crate) fn security_opt(text: &str) -> SecurityOpt {
    let text = text.trim();
    let (key, value) = match text.split_once('=') {
        Some(pair) => pair,
        None => text.split_once(':').unwrap_or((text, "")),
    };
    match key {
        "no-new-privileges" => match value {
            "" | "true" | "1" => SecurityOpt::NoNewPrivileges(true),
            "false" | "0" => SecurityOpt::NoNewPrivileges(false),
            _ => SecurityOpt::Other,
        },
        "seccomp" => SecurityOpt::Seccomp(match value {
            "unconfined" => SeccompProfile::Unconfined,
            "" | "builtin" | "default" | "runtime/default" | "docker/default" => {
                SeccompProfile::RuntimeDefault
            }
            path => SeccompProfile::File(path.to_owned()),
        }),
        "apparmor" => SecurityOpt::AppArmor(lsm_profile(value)),
        "label" => match value.split_once(':') {
            None if value == "disable" => SecurityOpt::Label(SelinuxLabel::Disable),
            Some(("type", level)) => SecurityOpt::Label(SelinuxLabel::Type(level.to_owned())),
            Some(("user", user)) => SecurityOpt::Label(SelinuxLabel::User(user.to_owned())),
            Some(("role", role)) => SecurityOpt::Label(SelinuxLabel::Role(role.to_owned())),
            Some(("level", level)) => SecurityOpt::Label(SelinuxLabel::Level(level.to_owned())),
            _ => SecurityOpt::Other,
        },
        "systempaths" if value == "unconfined" => SecurityOpt::Unmask,
        "unmask" if !value.is_empty() => SecurityOpt::Unmask,
        _ => SecurityOpt::Other,
    }
}

/// An AppArmor profile name as Docker and the Kubernetes annotations write it.
pub(crate) fn lsm_profile(value: &str) -> LsmProfile {
    match value {
        "unconfined" => LsmProfile::Unconfined,
        "" | "runtime/default" | "docker-default" | "docker/default" => LsmProfile::RuntimeDefault,
        name => LsmProfile::Named(name.strip_prefix("localhost/").unwrap_or(name).to_owned()),
    }
}

/// Splits at `:` except after a Windows drive letter (`C:\data:/data`).
fn split_colons(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    let bytes = text.as_bytes();
    for (index, &byte) in bytes.iter().enumerate() {
        let is_drive = index == start + 1
            && bytes[start].is_ascii_alphabetic()
            && matches!(bytes.get(index + 1), Some(b'\\' | b'/'));
        if byte == b':' && !is_drive {
            parts.push(&text[start..index]);
            start = index + 1;
        }
    }
    parts.push(&text[start..]);
    parts
}

/// Whether a `-v` source is a host path rather than a volume name (names match
/// `[a-zA-Z0-9][a-zA-Z0-9_.-]*`; a path or an unresolved variable is taken as a host path).
fn is_host_path(source: &str) -> bool {
    source.starts_with(['/', '.', '~', '$', '\\'])
        || source.contains(['/', '\\'])
        || source.as_bytes().get(1) == Some(&b':')
}

const PROPAGATIONS: [&str; 6] = [
    "shared", "rshared", "slave", "rslave", "private", "rprivate",
];

/// A `-v`/`--volume`/`Binds` entry: `[source:]target[:options]`.
pub(crate) fn volume(text: &str) -> Mount {
    let parts = split_colons(text.trim());
    let (source, target, options) = match parts.as_slice() {
        [target] => (None, *target, ""),
        [source, target] => (Some(*source), *target, ""),
        [source, target, options, ..] => (Some(*source), *target, *options),
        [] => (None, "", ""),
    };
    let options: Vec<&str> = options.split(',').map(str::trim).collect();
    let kind = match source {
        Some(source) if is_host_path(source) => MountKind::Bind {
            source: source.to_owned(),
        },
        Some(name) => MountKind::Volume {
            name: Some(name.to_owned()),
        },
        None => MountKind::Volume { name: None },
    };
    Mount {
        kind,
        target: target.to_owned(),
        read_only: options
            .iter()
            .any(|option| matches!(*option, "ro" | "readonly")),
        propagation: options
            .iter()
            .find(|option| PROPAGATIONS.contains(option))
            .map(|option| (*option).to_owned()),
    }
}

/// What a `--mount` entry mounts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum MountSpec {
    Mount(Mount),
    Tmpfs(Tmpfs),
}

/// Splits a `--mount` value into its CSV fields (a field may be double-quoted to hold a comma).
fn csv_fields(text: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    for c in text.chars() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => fields.push(std::mem::take(&mut field)),
            _ => field.push(c),
        }
    }
    fields.push(field);
    fields
}

fn truthy(value: &str) -> bool {
    matches!(value, "" | "1" | "true" | "True" | "TRUE")
}

/// A `--mount type=…,source=…,target=…,readonly` value.
pub(crate) fn mount(text: &str) -> MountSpec {
    let mut kind = "volume".to_owned();
    let mut source = None;
    let mut target = String::new();
    let mut read_only = false;
    let mut propagation = None;
    let mut tmpfs_options = Vec::new();
    for field in csv_fields(text.trim()) {
        let (key, value) = field.split_once('=').unwrap_or((field.as_str(), ""));
        match key.trim().to_ascii_lowercase().as_str() {
            "type" => kind = value.to_owned(),
            "source" | "src" => source = Some(value.to_owned()),
            "target" | "destination" | "dst" => target = value.to_owned(),
            "readonly" | "ro" => read_only = truthy(value),
            "bind-propagation" => propagation = Some(value.to_owned()),
            "tmpfs-size" => tmpfs_options.push(format!("size={value}")),
            "tmpfs-mode" => tmpfs_options.push(format!("mode={value}")),
            _ if kind == "tmpfs" && !field.is_empty() => tmpfs_options.push(field.clone()),
            _ => {}
        }
    }
    let kind = match kind.as_str() {
        "tmpfs" | "ramfs" => {
            return MountSpec::Tmpfs(Tmpfs {
                target,
                options: tmpfs_options,
            })
        }
        "bind" => MountKind::Bind {
            source: source.unwrap_or_default(),
        },
        "volume" => MountKind::Volume { name: source },
        other => MountKind::Other {
            kind: other.to_owned(),
        },
    };
    MountSpec::Mount(Mount {
        kind,
        target,
        read_only,
        propagation,
    })
}

/// A `--tmpfs /path[:options]` value.
pub(crate) fn tmpfs(text: &str) -> Tmpfs {
    let (target, options) = text.trim().split_once(':').unwrap_or((text.trim(), ""));
    Tmpfs {
        target: target.to_owned(),
        options: split_options(options),
    }
}

/// Comma-separated mount options, empty ones dropped.
pub(crate) fn split_options(options: &str) -> Vec<String> {
    options
        .split(',')
        .map(str::trim)
        .filter(|option| !option.is_empty())
        .map(str::to_owned)
        .collect()
}

/// A protocol name; TCP when absent or unknown.
pub(crate) fn protocol(text: &str) -> Protocol {
    match text.to_ascii_lowercase().as_str() {
        "udp" => Protocol::Udp,
        "sctp" => Protocol::Sctp,
        _ => Protocol::Tcp,
    }
}

/// The first port of `80` or `8000-8010`.
pub(crate) fn port_number(text: &str) -> Option<u16> {
    text.split('-').next()?.trim().parse().ok()
}

/// A `-p [ip:][hostPort:]containerPort[/protocol]` value. A range keeps its first port.
pub(crate) fn publish(text: &str) -> PortMapping {
    let text = text.trim();
    let (address, protocol_name) = text.rsplit_once('/').unwrap_or((text, "tcp"));
    // A bracketed IPv6 address holds colons of its own.
    let (host_ip, rest) = match address.strip_prefix('[') {
        Some(bracketed) => match bracketed.split_once(']') {
            Some((ip, rest)) => (Some(ip.to_owned()), rest.strip_prefix(':').unwrap_or(rest)),
            None => (None, address),
        },
        None => (None, address),
    };
    let parts: Vec<&str> = rest.split(':').collect();
    let (ip, host, container) = match parts.as_slice() {
        [container] => (None, None, *container),
        [host, container] if host_ip.is_some() => (None, Some(*host), *container),
        [host, container] => (None, Some(*host), *container),
        [ip, host, container] => (Some(*ip), Some(*host), *container),
        _ => (None, None, parts.last().copied().unwrap_or_default()),
    };
    PortMapping {
        host_ip: host_ip.or_else(|| ip.filter(|ip| !ip.is_empty()).map(str::to_owned)),
        host_port: host.and_then(port_number),
        container_port: port_number(container),
        protocol: protocol(protocol_name),
    }
}

/// A `--device host[:container][:permissions]` value.
pub(crate) fn device(text: &str) -> Device {
    let parts: Vec<&str> = text.trim().split(':').collect();
    let host = parts.first().copied().unwrap_or_default();
    let (container, permissions) = match parts.as_slice() {
        [_, second] if !second.starts_with('/') => (host, *second),
        [_, container] => (*container, "rwm"),
        [_, container, permissions, ..] => (*container, *permissions),
        _ => (host, "rwm"),
    };
    Device {
        host: host.to_owned(),
        container: container.to_owned(),
        permissions: permissions.to_owned(),
    }
}

/// A namespace mode (`host`, `container:<name>`, `service:<name>`, `ns:<path>`, `private` …); `None`
/// for an empty value, which means the default.
pub(crate) fn namespace(text: &str) -> Option<NamespaceMode> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    Some(if text == "host" {
        NamespaceMode::Host
    } else if ["container:", "service:", "ns:"]
        .iter()
        .any(|prefix| text.starts_with(prefix))
    {
        NamespaceMode::Shared(text.to_owned())
    } else {
        NamespaceMode::Private
    })
}

/// A `name=value` kernel parameter.
pub(crate) fn sysctl(text: &str) -> Sysctl {
    let (name, value) = text.split_once('=').unwrap_or((text, ""));
    Sysctl {
        name: name.trim().to_owned(),
        value: value.trim().to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_security_opt_form() {
        use SecurityOpt as S;
        let cases = [
            ("no-new-privileges", S::NoNewPrivileges(true)),
            ("no-new-privileges:true", S::NoNewPrivileges(true)),
            ("no-new-privileges=false", S::NoNewPrivileges(false)),
            ("no-new-privileges:false", S::NoNewPrivileges(false)),
            ("seccomp=unconfined", S::Seccomp(SeccompProfile::Unconfined)),
            ("seccomp:unconfined", S::Seccomp(SeccompProfile::Unconfined)),
            (
                "seccomp=builtin",
                S::Seccomp(SeccompProfile::RuntimeDefault),
            ),
            (
                "seccomp=/etc/p.json",
                S::Seccomp(SeccompProfile::File("/etc/p.json".into())),
            ),
            ("apparmor=unconfined", S::AppArmor(LsmProfile::Unconfined)),
            (
                "apparmor:docker-default",
                S::AppArmor(LsmProfile::RuntimeDefault),
            ),
            (
                "apparmor=mine",
                S::AppArmor(LsmProfile::Named("mine".into())),
            ),
            ("label=disable", S::Label(SelinuxLabel::Disable)),
            ("label:disable", S::Label(SelinuxLabel::Disable)),
            (
                "label=type:spc_t",
                S::Label(SelinuxLabel::Type("spc_t".into())),
            ),
            (
                "label:level:s0:c1",
                S::Label(SelinuxLabel::Level("s0:c1".into())),
            ),
            ("systempaths=unconfined", S::Unmask),
            ("unmask=ALL", S::Unmask),
            ("label=nested", S::Other),
        ];
        for (text, expected) in cases {
            assert_eq!(security_opt(text), expected, "{text}");
        }
    }

    #[test]
    fn reads_volume_forms() {
        let bind = volume("/var/run/docker.sock:/var/run/docker.sock:ro,z");
        assert_eq!(bind.host_path(), Some("/var/run/docker.sock"));
        assert!(bind.read_only);
        assert_eq!(volume("$HOME/x:/x").host_path(), Some("$HOME/x"));
        assert_eq!(
            volume("./data:/data:rshared").propagation.as_deref(),
            Some("rshared")
        );
        assert_eq!(
            volume("data:/data").kind,
            MountKind::Volume {
                name: Some("data".into())
            }
        );
        assert_eq!(volume("/data").kind, MountKind::Volume { name: None });
        assert_eq!(volume("/data").target, "/data");
        assert_eq!(volume(r"C:\data:/data").host_path(), Some(r"C:\data"));
    }

    #[test]
    fn reads_mount_forms() {
        let MountSpec::Mount(bind) =
            mount("type=bind,source=/run/docker.sock,target=/run/docker.sock,readonly")
        else {
            panic!("not a mount");
        };
        assert_eq!(bind.host_path(), Some("/run/docker.sock"));
        assert!(bind.read_only);
        let MountSpec::Mount(volume) = mount("src=v,dst=/v,ro=false") else {
            panic!("not a mount");
        };
        assert_eq!(
            volume.kind,
            MountKind::Volume {
                name: Some("v".into())
            }
        );
        assert!(!volume.read_only);
        assert_eq!(
            mount("type=tmpfs,destination=/tmp,tmpfs-size=64m,tmpfs-mode=1770"),
            MountSpec::Tmpfs(Tmpfs {
                target: "/tmp".into(),
                options: vec!["size=64m".into(), "mode=1770".into()]
            })
        );
        let MountSpec::Mount(quoted) = mount("type=bind,\"source=/a,b\",target=/c") else {
            panic!("not a mount");
        };
        assert_eq!(quoted.host_path(), Some("/a,b"));
    }

    #[test]
    fn reads_port_forms() {
        let port = |text| {
            let p = publish(text);
            (p.host_ip, p.host_port, p.container_port, p.protocol)
        };
        assert_eq!(port("80"), (None, None, Some(80), Protocol::Tcp));
        assert_eq!(
            port("8080:80/udp"),
            (None, Some(8080), Some(80), Protocol::Udp)
        );
        assert_eq!(
            port("127.0.0.1:8080:80"),
            (
                Some("127.0.0.1".into()),
                Some(8080),
                Some(80),
                Protocol::Tcp
            )
        );
        assert_eq!(
            port("127.0.0.1::80"),
            (Some("127.0.0.1".into()), None, Some(80), Protocol::Tcp)
        );
        assert_eq!(
            port("[::1]:53:53/sctp"),
            (Some("::1".into()), Some(53), Some(53), Protocol::Sctp)
        );
        assert_eq!(
            port("8000-8010:80-90"),
            (None, Some(8000), Some(80), Protocol::Tcp)
        );
    }

    #[test]
    fn reads_devices_namespaces_and_sysctls() {
        assert_eq!(
            device("/dev/sda:/dev/xvda:r"),
            Device {
                host: "/dev/sda".into(),
                container: "/dev/xvda".into(),
                permissions: "r".into()
            }
        );
        assert_eq!(device("/dev/fuse:rw").container, "/dev/fuse");
        assert_eq!(device("/dev/kvm").permissions, "rwm");
        assert_eq!(namespace("host"), Some(NamespaceMode::Host));
        assert_eq!(
            namespace("container:db"),
            Some(NamespaceMode::Shared("container:db".into()))
        );
        assert_eq!(namespace("bridge"), Some(NamespaceMode::Private));
        assert_eq!(namespace(""), None);
        assert_eq!(sysctl("net.ipv4.ip_forward=1").value, "1");
        assert_eq!(
            tmpfs("/run:rw,noexec,,size=1m").options,
            ["rw", "noexec", "size=1m"]
        );
    }
}
