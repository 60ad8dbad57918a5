//! The short string syntaxes of Compose: volumes, ports, devices, tmpfs and `security_opt` entries.
//!
//! Each parser follows the code `docker compose` runs (compose-go's `format.ParseVolume`, Docker's
//! `nat.ParsePortSpec` and device and security-option parsing), so that an entry means here what it
//! means to the engine. Errors are messages for the entry's location.

use leastpriv_model::Protocol;
use leastpriv_secrets::{message, Quoted};

/// A volume in short syntax: `[SOURCE:]TARGET[:MODE]`.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct ShortVolume {
    /// The host path or volume name; `None` for an anonymous volume.
    pub(crate) source: Option<String>,
    /// The path in the container.
    pub(crate) target: String,
    /// `ro`.
    pub(crate) read_only: bool,
    /// Bind propagation (`shared`, `rslave` …).
    pub(crate) propagation: Option<String>,
}

/// Parses a short-syntax volume as compose-go does: colons split the parts, except the one after a
/// Windows drive letter (`C:\data:/data`).
pub(crate) fn parse_volume(spec: &str) -> Result<ShortVolume, String> {
    if spec.is_empty() {
        return Err("empty volume".to_owned());
    }
    let mut parts: Vec<&str> = Vec::new();
    let mut start = 0;
    for (index, ch) in spec.char_indices() {
        if ch != ':' {
            continue;
        }
        let part = &spec[start..index];
        let is_drive =
            part.chars().count() == 1 && part.chars().all(|letter| letter.is_alphabetic());
        if is_drive {
            continue;
        }
        parts.push(part);
        start = index + 1;
    }
    parts.push(&spec[start..]);
    if parts.iter().any(|part| part.is_empty()) {
        return Err(format!(
            "invalid volume `{spec}`: empty section between colons"
        ));
    }
    let (source, target, mode) = match parts.as_slice() {
        [target] => (None, *target, None),
        [source, target] => (Some(*source), *target, None),
        [source, target, mode] => (Some(*source), *target, Some(*mode)),
        _ => {
            return Err(message!("invalid volume `{}`: too many colons", Quoted(spec)).to_string())
        }
    };
    let mut volume = ShortVolume {
        source: source.map(str::to_owned),
        target: target.to_owned(),
        read_only: false,
        propagation: None,
    };
    for option in mode.unwrap_or_default().split(',') {
        match option {
            "ro" => volume.read_only = true,
            "rw" => volume.read_only = false,
            "shared" | "rshared" | "slave" | "rslave" | "private" | "rprivate" => {
                volume.propagation = Some(option.to_owned());
            }
            // `z`, `Z`, `nocopy` and unknown options change nothing the model holds.
            _ => {}
        }
    }
    Ok(volume)
}

/// Whether a short-syntax volume source is a host path rather than a volume name (compose-go's
/// `isFilePath`): `.`, `/`, `~`, a Windows drive or a `\\` named pipe.
pub(crate) fn is_host_path(source: &str) -> bool {
    if source.starts_with(['.', '/', '~']) || source.starts_with("\\\\") {
        return true;
    }
    let mut chars = source.chars();
    matches!(
        (chars.next(), chars.next()),
        (Some(letter), Some(':')) if letter.is_alphabetic()
    )
}

/// One published port range: `[[HOST_IP:]HOST_PORTS:]CONTAINER_PORTS[/PROTOCOL]`.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct PortSpec {
    /// The host IP, brackets removed.
    pub(crate) host_ip: Option<String>,
    /// The host port range, when published on a chosen port.
    pub(crate) host: Option<(u16, u16)>,
    /// The container port range.
    pub(crate) container: (u16, u16),
    /// The protocol.
    pub(crate) protocol: Protocol,
}

/// Parses a short-syntax port as Docker's `nat.ParsePortSpec` does.
pub(crate) fn parse_port(spec: &str) -> Result<PortSpec, String> {
    let invalid =
        |why: &'static str| message!("invalid port `{}`: {}", Quoted(spec), why).to_string();
    let (rest, protocol) = match spec.rsplit_once('/') {
        Some((rest, protocol)) => (
            rest,
            parse_protocol(protocol).ok_or_else(|| invalid("unknown protocol"))?,
        ),
        None => (spec, Protocol::Tcp),
    };
    let parts: Vec<&str> = rest.split(':').collect();
    let (host_ip, host_ports, container_ports) = match parts.as_slice() {
        [container] => (None, "", *container),
        [host, container] => (None, *host, *container),
        [ip, host, container] => (Some((*ip).to_owned()), *host, *container),
        [.., host, container] => {
            // An IPv6 address without brackets: everything before the last two parts.
            let ip = parts[..parts.len() - 2].join(":");
            (Some(ip), *host, *container)
        }
        [] => return Err(invalid("empty")),
    };
    let host_ip = host_ip
        .map(|ip| ip.trim_start_matches('[').trim_end_matches(']').to_owned())
        .filter(|ip| !ip.is_empty());
    let container = parse_range(container_ports).ok_or_else(|| invalid("bad container port"))?;
    let host = if host_ports.is_empty() {
        None
    } else {
        Some(parse_range(host_ports).ok_or_else(|| invalid("bad host port"))?)
    };
    Ok(PortSpec {
        host_ip,
        host,
        container,
        protocol,
    })
}

/// `tcp`, `udp` or `sctp`, any case.
pub(crate) fn parse_protocol(text: &str) -> Option<Protocol> {
    match text.to_ascii_lowercase().as_str() {
        "tcp" => Some(Protocol::Tcp),
        "udp" => Some(Protocol::Udp),
        "sctp" => Some(Protocol::Sctp),
        _ => None,
    }
}

/// `80` or `8000-8010`.
pub(crate) fn parse_range(text: &str) -> Option<(u16, u16)> {
    let text = text.trim();
    match text.split_once('-') {
        Some((start, end)) => {
            let (start, end) = (start.parse().ok()?, end.parse().ok()?);
            (start <= end).then_some((start, end))
        }
        None => text.parse().ok().map(|port| (port, port)),
    }
}

/// A device in short syntax: `HOST[:CONTAINER][:PERMISSIONS]`.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct DeviceSpec {
    pub(crate) host: String,
    pub(crate) container: String,
    pub(crate) permissions: String,
}

/// Parses a device as Docker's `parseDevice` does; a CDI name (`vendor.com/class=name`) is kept
/// whole as the host side.
pub(crate) fn parse_device(spec: &str) -> Result<DeviceSpec, String> {
    if spec.contains('=') && !spec.starts_with('/') {
        return Ok(DeviceSpec {
            host: spec.to_owned(),
            container: String::new(),
            permissions: String::new(),
        });
    }
    let parts: Vec<&str> = spec.split(':').collect();
    let (host, container, permissions) = match parts.as_slice() {
        [host] => (*host, *host, "rwm"),
        [host, second] if is_device_mode(second) => (*host, *host, *second),
        [host, container] => (*host, *container, "rwm"),
        [host, container, permissions] if is_device_mode(permissions) => {
            (*host, *container, *permissions)
        }
        _ => return Err(message!("invalid device `{}`", Quoted(spec)).to_string()),
    };
    if host.is_empty() {
        return Err(message!("invalid device `{}`: no host path", Quoted(spec)).to_string());
    }
    Ok(DeviceSpec {
        host: host.to_owned(),
        container: container.to_owned(),
        permissions: permissions.to_owned(),
    })
}

fn is_device_mode(text: &str) -> bool {
    !text.is_empty() && text.chars().all(|ch| matches!(ch, 'r' | 'w' | 'm'))
}

/// A tmpfs entry `PATH[:OPTIONS]`: the path and its comma-separated options.
pub(crate) fn parse_tmpfs(spec: &str) -> (String, Vec<String>) {
    match spec.split_once(':') {
        Some((path, options)) => (
            path.to_owned(),
            options
                .split(',')
                .filter(|option| !option.is_empty())
                .map(str::to_owned)
                .collect(),
        ),
        None => (spec.to_owned(), Vec::new()),
    }
}

/// A `security_opt` entry split into its key and value: `key=value` or the legacy `key:value`, or a
/// bare key (`no-new-privileges`).
pub(crate) fn split_security_opt(spec: &str) -> (&str, Option<&str>) {
    let spec = spec.trim();
    spec.split_once('=')
        .or_else(|| spec.split_once(':'))
        .map_or((spec, None), |(key, value)| {
            (key.trim(), Some(value.trim()))
        })
}

/// A boolean as Go's `strconv.ParseBool` reads it (Docker parses `no-new-privileges=VALUE` so).
pub(crate) fn parse_go_bool(text: &str) -> Option<bool> {
    match text {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// A boolean as Compose reads one after interpolation (compose-go's `toBoolean`: YAML 1.1 words).
pub(crate) fn parse_compose_bool(text: &str) -> Option<bool> {
    match text.to_ascii_lowercase().as_str() {
        "y" | "yes" | "true" | "on" => Some(true),
        "n" | "no" | "false" | "off" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn volume(source: Option<&str>, target: &str, read_only: bool) -> ShortVolume {
        ShortVolume {
            source: source.map(str::to_owned),
            target: target.to_owned(),
            read_only,
            propagation: None,
        }
    }

    #[test]
    fn volumes_in_every_short_form() {
        assert_eq!(parse_volume("/data"), Ok(volume(None, "/data", false)));
        assert_eq!(
            parse_volume("/var/run/docker.sock:/var/run/docker.sock:ro"),
            Ok(volume(
                Some("/var/run/docker.sock"),
                "/var/run/docker.sock",
                true
            ))
        );
        assert_eq!(
            parse_volume("db-data:/var/lib/db"),
            Ok(volume(Some("db-data"), "/var/lib/db", false))
        );
        assert_eq!(
            parse_volume("C:\\data:/data:ro,z"),
            Ok(volume(Some("C:\\data"), "/data", true))
        );
        let shared = parse_volume("/:/host:rshared").expect("valid");
        assert_eq!(shared.propagation.as_deref(), Some("rshared"));
        assert!(parse_volume("/x::/b").is_err());
        assert!(parse_volume("/a:/b:ro:x").is_err());
        assert!(parse_volume("").is_err());
    }

    #[test]
    fn host_paths_and_volume_names() {
        for path in [
            "./data",
            "../x",
            "/etc",
            "~/x",
            "C:\\x",
            "\\\\.\\pipe\\docker_engine",
        ] {
            assert!(is_host_path(path), "{path}");
        }
        for name in ["data", "db-data", "my.volume"] {
            assert!(!is_host_path(name), "{name}");
        }
    }

    fn port(
        ip: Option<&str>,
        host: Option<(u16, u16)>,
        container: (u16, u16),
        protocol: Protocol,
    ) -> PortSpec {
        PortSpec {
            host_ip: ip.map(str::to_owned),
            host,
            container,
            protocol,
        }
    }

    #[test]
    fn ports_in_every_short_form() {
        let tcp = Protocol::Tcp;
        let cases = [
            ("80", port(None, None, (80, 80), tcp)),
            ("80/udp", port(None, None, (80, 80), Protocol::Udp)),
            ("8080:80", port(None, Some((8080, 8080)), (80, 80), tcp)),
            (
                "127.0.0.1:8080:80",
                port(Some("127.0.0.1"), Some((8080, 8080)), (80, 80), tcp),
            ),
            (
                "127.0.0.1::80",
                port(Some("127.0.0.1"), None, (80, 80), tcp),
            ),
            (
                "[::1]:8080:80",
                port(Some("::1"), Some((8080, 8080)), (80, 80), tcp),
            ),
            (
                "::1:8080:80",
                port(Some("::1"), Some((8080, 8080)), (80, 80), tcp),
            ),
            (
                "8000-8010:8000-8010",
                port(None, Some((8000, 8010)), (8000, 8010), tcp),
            ),
            ("3000-3005", port(None, None, (3000, 3005), tcp)),
            (
                "6060:6060/SCTP",
                port(None, Some((6060, 6060)), (6060, 6060), Protocol::Sctp),
            ),
        ];
        for (spec, expected) in cases {
            assert_eq!(parse_port(spec), Ok(expected), "{spec}");
        }
        for spec in ["x", "80/xyz", "99999", "90-80", "a:80"] {
            assert!(parse_port(spec).is_err(), "{spec}");
        }
    }

    #[test]
    fn devices_in_every_short_form() {
        let device = |host: &str, container: &str, permissions: &str| DeviceSpec {
            host: host.into(),
            container: container.into(),
            permissions: permissions.into(),
        };
        assert_eq!(
            parse_device("/dev/fuse"),
            Ok(device("/dev/fuse", "/dev/fuse", "rwm"))
        );
        assert_eq!(
            parse_device("/dev/sda:/dev/xvda"),
            Ok(device("/dev/sda", "/dev/xvda", "rwm"))
        );
        assert_eq!(
            parse_device("/dev/sda:r"),
            Ok(device("/dev/sda", "/dev/sda", "r"))
        );
        assert_eq!(
            parse_device("/dev/sda:/dev/sda:rw"),
            Ok(device("/dev/sda", "/dev/sda", "rw"))
        );
        assert_eq!(
            parse_device("nvidia.com/gpu=all"),
            Ok(device("nvidia.com/gpu=all", "", ""))
        );
        assert!(parse_device("/a:/b:xyz").is_err());
    }

    #[test]
    fn tmpfs_and_security_options() {
        assert_eq!(
            parse_tmpfs("/run:rw,noexec,size=64m"),
            (
                "/run".to_owned(),
                vec!["rw".to_owned(), "noexec".to_owned(), "size=64m".to_owned()]
            )
        );
        assert_eq!(parse_tmpfs("/tmp"), ("/tmp".to_owned(), Vec::new()));
        assert_eq!(
            split_security_opt("seccomp:unconfined"),
            ("seccomp", Some("unconfined"))
        );
        assert_eq!(
            split_security_opt("label=type:spc_t"),
            ("label", Some("type:spc_t"))
        );
        assert_eq!(
            split_security_opt("label:type:spc_t"),
            ("label", Some("type:spc_t"))
        );
        assert_eq!(
            split_security_opt("no-new-privileges"),
            ("no-new-privileges", None)
        );
        assert_eq!(
            split_security_opt("no-new-privileges:true"),
            ("no-new-privileges", Some("true"))
        );
    }

    #[test]
    fn booleans() {
        assert_eq!(parse_compose_bool("Yes"), Some(true));
        assert_eq!(parse_compose_bool("off"), Some(false));
        assert_eq!(parse_compose_bool("1"), None);
        assert_eq!(parse_go_bool("1"), Some(true));
        assert_eq!(parse_go_bool("yes"), None);
    }
}
