//! The container engine itself: what every container on a host inherits from its daemon.
//!
//! Two kinds of source describe a daemon, kept apart because they answer different questions:
//!
//! - [`DaemonConfig`]: what its configuration asks for: `daemon.json` and the `dockerd` command line.
//!   It alone knows `icc`, `no-new-privileges`, `userland-proxy` and default ulimits, which the
//!   engine does not report.
//! - [`DaemonState`]: what the running engine reports: `docker info`, its socket file, its process.
//!   Where it speaks it is authoritative: it includes flags from a unit file, the defaults of this
//!   version, and options that failed to apply.
//!
//! Rules prefer the state where it speaks and fall back to the configuration.

use leastpriv_source::{Span, Spanned};

/// One Docker daemon: a `daemon.json` on its own, a saved `docker info`, or a running engine.
#[derive(Clone, Debug)]
pub struct Daemon {
    /// A human name: the `daemon.json` path, or the engine's endpoint.
    pub name: String,
    /// What the configuration sets, when it was read.
    pub config: Option<DaemonConfig>,
    /// What the running engine reports, when it was asked.
    pub state: Option<DaemonState>,
}

/// What the daemon's configuration sets. A field is `None` (or empty) when not set; whether that
/// means dockerd's default or "not known" is [`DaemonConfig::complete`]'s to say.
#[derive(Clone, Debug)]
pub struct DaemonConfig {
    /// Where findings about a missing setting point: the `daemon.json` object's `{`, or the start of
    /// the daemon's command line when it has no `daemon.json`.
    pub anchor: Span,
    /// Whether every place the settings come from was read (the `daemon.json`, and the command line
    /// of a running daemon), so that an unset option is at dockerd's default. A `daemon.json` audited
    /// on its own counts as complete: flags in a unit file are out of view (a documented limit).
    pub complete: bool,
    /// The file sits where a rootless daemon reads its configuration
    /// (`~/.config/docker/daemon.json`): user-namespace remapping does not apply.
    pub rootless_location: bool,
    /// The daemon runs inside a container (Docker-in-Docker), configured by that container's command
    /// line and environment in a Compose file, a Kubernetes manifest or a `docker run` line.
    pub in_container: bool,
    /// `userns-remap` (`default`, `user`, `user:group`); an empty string disables it.
    pub userns_remap: Option<Spanned<String>>,
    /// `hosts` / `-H`: the API's listeners (`unix://…`, `fd://`, `tcp://0.0.0.0:2376`).
    pub hosts: Vec<Spanned<String>>,
    /// `tls`.
    pub tls: Option<Spanned<bool>>,
    /// `tlsverify`: TLS with client certificates checked against `tlscacert`.
    pub tls_verify: Option<Spanned<bool>>,
    /// `icc`: inter-container communication on the default bridge.
    pub icc: Option<Spanned<bool>>,
    /// `iptables`: whether dockerd writes the firewall rules that enforce `icc`.
    pub iptables: Option<Spanned<bool>>,
    /// `bridge`: the default bridge; `none` disables it.
    pub bridge: Option<Spanned<String>>,
    /// `no-new-privileges`: the default for every container.
    pub no_new_privileges: Option<Spanned<bool>>,
    /// `live-restore`.
    pub live_restore: Option<Spanned<bool>>,
    /// `userland-proxy`.
    pub userland_proxy: Option<Spanned<bool>>,
    /// `default-ulimits` / `--default-ulimit`: the names of the limits set (`nofile`, `nproc`).
    pub default_ulimits: Vec<Spanned<String>>,
    /// `seccomp-profile`: `unconfined`, `builtin` or a profile file.
    pub seccomp_profile: Option<Spanned<String>>,
    /// `selinux-enabled`.
    pub selinux_enabled: Option<Spanned<bool>>,
    /// `default-cgroupns-mode`: `host` or `private`.
    pub default_cgroupns_mode: Option<Spanned<String>>,
    /// `insecure-registries`: registries reached over plain HTTP or unverified TLS.
    pub insecure_registries: Vec<Spanned<String>>,
}

impl DaemonConfig {
    /// An empty configuration anchored at `anchor`.
    pub fn new(anchor: Span, complete: bool) -> Self {
        Self {
            anchor,
            complete,
            rootless_location: false,
            in_container: false,
            userns_remap: None,
            hosts: Vec::new(),
            tls: None,
            tls_verify: None,
            icc: None,
            iptables: None,
            bridge: None,
            no_new_privileges: None,
            live_restore: None,
            userland_proxy: None,
            default_ulimits: Vec::new(),
            seccomp_profile: None,
            selinux_enabled: None,
            default_cgroupns_mode: None,
            insecure_registries: Vec::new(),
        }
    }

    /// Fills every setting `self` leaves unset from `other` (a daemon's command line under its
    /// `daemon.json`: dockerd refuses to start when both set the same option, so nothing conflicts).
    pub fn fill_from(&mut self, other: DaemonConfig) {
        fn fill<T>(slot: &mut Option<T>, other: Option<T>) {
            if slot.is_none() {
                *slot = other;
            }
        }
        fn extend<T>(list: &mut Vec<T>, other: Vec<T>) {
            if list.is_empty() {
                *list = other;
            }
        }
        self.rootless_location |= other.rootless_location;
        self.in_container |= other.in_container;
        fill(&mut self.userns_remap, other.userns_remap);
        extend(&mut self.hosts, other.hosts);
        fill(&mut self.tls, other.tls);
        fill(&mut self.tls_verify, other.tls_verify);
        fill(&mut self.icc, other.icc);
        fill(&mut self.iptables, other.iptables);
        fill(&mut self.bridge, other.bridge);
        fill(&mut self.no_new_privileges, other.no_new_privileges);
        fill(&mut self.live_restore, other.live_restore);
        fill(&mut self.userland_proxy, other.userland_proxy);
        extend(&mut self.default_ulimits, other.default_ulimits);
        fill(&mut self.seccomp_profile, other.seccomp_profile);
        fill(&mut self.selinux_enabled, other.selinux_enabled);
        fill(&mut self.default_cgroupns_mode, other.default_cgroupns_mode);
        extend(&mut self.insecure_registries, other.insecure_registries);
    }
}

/// What the running engine reports. The security options are spans of their entries in the
/// `SecurityOptions` list of `docker info`; `None` when the entry is absent.
#[derive(Clone, Debug)]
pub struct DaemonState {
    /// The `SecurityOptions` list, where findings about a missing option point.
    pub security_options: Span,
    /// `name=rootless`: the daemon runs as an unprivileged user.
    pub rootless: Option<Span>,
    /// `name=userns`: containers' users are remapped (`userns-remap`).
    pub userns: Option<Span>,
    /// `name=seccomp,profile=…`: the default profile's name (`default`, `builtin`, `unconfined` or a
    /// custom profile). `None` when the daemon cannot apply seccomp at all.
    pub seccomp: Option<Spanned<String>>,
    /// `name=apparmor`.
    pub apparmor: Option<Span>,
    /// `name=selinux`.
    pub selinux: Option<Span>,
    /// `name=cgroupns`: containers get a private cgroup namespace by default.
    pub cgroupns: Option<Span>,
    /// `LiveRestoreEnabled`.
    pub live_restore: Option<Spanned<bool>>,
    /// Whether the node is in an active swarm (`Swarm.LocalNodeState`), where live restore is
    /// unsupported.
    pub swarm_active: bool,
    /// Insecure registries beyond Docker's built-in `127.0.0.0/8` (`RegistryConfig`).
    pub insecure_registries: Vec<Spanned<String>>,
    /// API listeners the engine itself warns about (`Warnings`).
    pub insecure_api: Vec<Spanned<InsecureApi>>,
    /// The API socket file, when the engine is local.
    pub socket: Option<SocketFile>,
    /// The daemon process's real user id (`Uid:` of `/proc/<pid>/status`), when visible.
    pub process_user: Option<Spanned<u32>>,
}

/// A TCP listener of the API that the engine reports as unprotected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InsecureApi {
    /// `host:port`.
    pub address: String,
    /// Whether it uses TLS (then it is missing client verification; otherwise encryption too).
    pub tls: bool,
}

/// The engine's API socket file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SocketFile {
    /// Its path.
    pub path: String,
    /// Permission bits (`0o660`).
    pub mode: Spanned<u32>,
    /// The owning user.
    pub owner: Spanned<Account>,
    /// The owning group.
    pub group: Spanned<Account>,
}

/// A user or group: its id and, when it resolves, its name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    /// The numeric id.
    pub id: u32,
    /// The name from `/etc/passwd` or `/etc/group`.
    pub name: Option<String>,
}

impl std::fmt::Display for Account {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.name {
            Some(name) => write!(f, "{name} ({})", self.id),
            None => write!(f, "{}", self.id),
        }
    }
}
