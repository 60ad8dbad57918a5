//! Layer `daemon`: the engine every container inherits from.
//!
//! A daemon that runs as root, listens on TCP without TLS or hands its socket to a broad group is a
//! way to host root that no container setting can close; its defaults (`userns-remap`, `icc`,
//! `no-new-privileges`, seccomp) are the floor every container starts from. These rules judge a
//! `daemon.json`, a saved `docker info`, or the live engine (`leastpriv audit --engine`), preferring
//! what the running engine reports over what its configuration asks for.

pub(crate) mod daemon_runs_as_root;
pub(crate) mod daemon_socket_unexpected_owner;
pub(crate) mod daemon_socket_world_writable;
pub(crate) mod daemon_tcp_without_tls;
pub(crate) mod daemon_without_lsm;
pub(crate) mod default_ulimits_unset;
pub(crate) mod host_cgroup_namespace_by_default;
pub(crate) mod insecure_registry;
pub(crate) mod inter_container_communication_enabled;
pub(crate) mod live_restore_disabled;
pub(crate) mod new_privileges_allowed_by_default;
pub(crate) mod seccomp_unconfined_by_default;
pub(crate) mod userland_proxy_enabled;
pub(crate) mod userns_remap_disabled;

use leastpriv_model::{DaemonConfig, Span, Spanned};

/// Where a finding about a boolean setting points when it is not what a rule wants: its value when
/// set to `bad`, the configuration's anchor when unset and the configuration is complete (so the
/// default, `bad`, applies); `None` when it is fine or unknown.
fn setting_left_at(
    config: &DaemonConfig,
    setting: Option<&Spanned<bool>>,
    bad: bool,
) -> Option<(Span, bool)> {
    match setting {
        Some(value) if value.value == bad => Some((value.span, true)),
        Some(_) => None,
        None => config.complete.then_some((config.anchor, false)),
    }
}

/// Whether a registry or listener address (`host:port`, `[v6]:port`, a CIDR) is on the loopback
/// interface.
fn is_loopback(address: &str) -> bool {
    let address = address.split('/').next().unwrap_or_default();
    let host = match address.strip_prefix('[') {
        Some(bracketed) => bracketed.split(']').next().unwrap_or_default(),
        // A bare IPv6 address has more than one colon and no port.
        None if address.matches(':').count() > 1 => address,
        None => address.rsplit_once(':').map_or(address, |(host, _)| host),
    };
    host == "localhost" || host == "::1" || host.starts_with("127.")
}

#[cfg(test)]
mod tests;
