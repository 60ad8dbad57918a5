//! The keys dockerd accepts in `daemon.json`, for Docker Engine 20.10 and later.
//!
//! dockerd refuses to start on a key it does not know ("the following directives don't match any
//! configuration option"): moby's `findConfigurationConflicts` looks every key up among its flags,
//! after turning the plural name of a repeatable flag (`hosts`, `labels`) into the flag's own
//! (`host`, `label`), and skips only `features` and `builder` (moby `daemon/config/config.go`).
//! The keys are therefore dockerd's flag names and those plurals, as its reference lists them
//! (`dockerd --help` and "Daemon configuration file" in docker/cli
//! `docs/reference/commandline/dockerd.md`). The list is the union over 20.10 to 28: a key one of
//! those versions accepts is never reported, so a file written for a newer engine is not called
//! wrong.

/// Every key some dockerd from 20.10 on accepts, sorted.
const KEYS: &[&str] = &[
    "add-runtime",
    "allow-direct-routing",
    "allow-nondistributable-artifacts",
    "api-cors-header",
    "authorization-plugin",
    "authorization-plugins",
    "bip",
    "bip6",
    "bridge",
    "bridge-accept-fwmark",
    "builder",
    "cdi-spec-dir",
    "cdi-spec-dirs",
    "cgroup-parent",
    "cluster-advertise",
    "cluster-store",
    "cluster-store-opt",
    "cluster-store-opts",
    "config-file",
    "containerd",
    "containerd-namespace",
    "containerd-plugins-namespace",
    "cpu-rt-period",
    "cpu-rt-runtime",
    "cri-containerd",
    "data-root",
    "debug",
    "default-address-pool",
    "default-address-pools",
    "default-cgroupns-mode",
    "default-gateway",
    "default-gateway-v6",
    "default-ipc-mode",
    "default-network-opt",
    "default-network-opts",
    "default-runtime",
    "default-shm-size",
    "default-ulimit",
    "default-ulimits",
    "dns",
    "dns-opt",
    "dns-opts",
    "dns-search",
    "exec-opt",
    "exec-opts",
    "exec-root",
    "experimental",
    "feature",
    "features",
    "firewall-backend",
    "fixed-cidr",
    "fixed-cidr-v6",
    "graph",
    "group",
    "host",
    "host-gateway-ip",
    "host-gateway-ips",
    "hosts",
    "http-proxy",
    "https-proxy",
    "icc",
    "init",
    "init-path",
    "insecure-registries",
    "insecure-registry",
    "ip",
    "ip-forward",
    "ip-forward-no-drop",
    "ip-masq",
    "ip6tables",
    "iptables",
    "ipv6",
    "label",
    "labels",
    "live-restore",
    "log-driver",
    "log-format",
    "log-level",
    "log-opt",
    "log-opts",
    "max-concurrent-downloads",
    "max-concurrent-uploads",
    "max-download-attempts",
    "metrics-addr",
    "min-api-version",
    "mtu",
    "network-control-plane-mtu",
    "network-diagnostic-port",
    "no-new-privileges",
    "no-proxy",
    "node-generic-resource",
    "node-generic-resources",
    "oom-score-adjust",
    "pidfile",
    "proxies",
    "raw-logs",
    "registry-mirror",
    "registry-mirrors",
    "rootless",
    "runtimes",
    "seccomp-profile",
    "selinux-enabled",
    "shutdown-timeout",
    "storage-driver",
    "storage-opt",
    "storage-opts",
    "swarm-default-advertise-addr",
    "tls",
    "tlscacert",
    "tlscert",
    "tlskey",
    "tlsverify",
    "userland-proxy",
    "userland-proxy-path",
    "userns-remap",
];

/// Whether dockerd accepts `key` at the top level of `daemon.json`.
pub(super) fn is_known(key: &str) -> bool {
    KEYS.binary_search(&key).is_ok()
}

/// The known key closest to a mistyped one, when one is close enough to be what was meant
/// (`no-new-privilege` → `no-new-privileges`, `insecure-registry` is itself known).
pub(super) fn closest(key: &str) -> Option<&'static str> {
    KEYS.iter()
        .map(|known| (strsim::levenshtein(key, known), *known))
        .filter(|(distance, known)| *distance <= 2.max(known.len() / 6))
        .min()
        .map(|(_, known)| known)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_is_sorted_so_lookups_find_every_key() {
        assert!(KEYS.windows(2).all(|pair| pair[0] < pair[1]));
        for key in KEYS {
            assert!(is_known(key), "{key}");
        }
    }

    #[test]
    fn suggests_the_key_a_typo_meant() {
        assert_eq!(closest("no-new-privilege"), Some("no-new-privileges"));
        assert_eq!(closest("userns-remapping"), None);
        assert_eq!(closest("live_restore"), Some("live-restore"));
        assert_eq!(closest("selinux"), None);
    }
}
