//! Layer `escape`: paths out of the container to the host.
//!
//! Privileged mode, engine sockets, sensitive host mounts, host namespaces, devices and kernel
//! parameters each hand the container a piece of the host; these rules find them in every runtime
//! source.

pub(crate) mod device_cgroup_rule_added;
pub(crate) mod engine_socket_mounted;
pub(crate) mod host_cgroup_namespace;
pub(crate) mod host_device_mapped;
pub(crate) mod host_ipc_namespace;
pub(crate) mod host_network_namespace;
pub(crate) mod host_path_volume;
pub(crate) mod host_pid_namespace;
pub(crate) mod host_port_bound;
pub(crate) mod host_user_namespace;
pub(crate) mod host_uts_namespace;
pub(crate) mod non_core_volume_type;
pub(crate) mod privileged_container;
pub(crate) mod run_network_host;
pub(crate) mod run_security_insecure;
pub(crate) mod sensitive_host_path_mounted;
pub(crate) mod shared_mount_propagation;
pub(crate) mod unsafe_sysctl;
