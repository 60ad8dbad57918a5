//! Capability sets: decoded from the masks of `/proc/self/status` into `CAP_*` names, with the
//! dangerous ones marked.
//!
//! Which capabilities count as dangerous: those that alone let a process leave the container or
//! control the host, none of which Docker grants by default.

use leastpriv_model::{ALL_CAPABILITIES, DOCKER_DEFAULT_CAPABILITIES};

use crate::host::{read_number, Host};
use crate::report::{Capabilities, CapabilityMasks};
use crate::status::Status;

/// Dangerous capabilities, each with the reason.
pub(crate) const DANGEROUS: [(&str, &str); 16] = [
    (
        "SYS_ADMIN",
        "mount, cgroup release_agent, namespaces: the classic escape",
    ),
    (
        "SYS_MODULE",
        "loads kernel modules: code in the host kernel",
    ),
    (
        "SYS_PTRACE",
        "traces processes; with the host PID namespace, any host process",
    ),
    ("SYS_RAWIO", "raw I/O ports and /dev/mem"),
    ("SYS_BOOT", "reboots the host, kexec loads a new kernel"),
    ("SYS_TIME", "sets the host clock"),
    (
        "DAC_READ_SEARCH",
        "open_by_handle_at reads any host file (the shocker exploit)",
    ),
    (
        "NET_ADMIN",
        "reconfigures interfaces, routes and firewall rules",
    ),
    ("BPF", "loads BPF programs"),
    ("PERFMON", "perf events: kernel addresses and side channels"),
    ("MAC_ADMIN", "changes the LSM policy"),
    ("MAC_OVERRIDE", "overrides the LSM policy"),
    (
        "SYSLOG",
        "reads and clears the kernel log, kernel addresses",
    ),
    ("AUDIT_CONTROL", "changes the audit rules"),
    ("SYS_RESOURCE", "bypasses resource limits and quotas"),
    (
        "LINUX_IMMUTABLE",
        "changes immutable and append-only file attributes",
    ),
];

/// The mask of Docker's default capability set (`0xa80425fb`).
pub(crate) fn docker_default_mask() -> u64 {
    DOCKER_DEFAULT_CAPABILITIES
        .iter()
        .filter_map(|name| bit_of(name))
        .fold(0, |mask, bit| mask | (1 << bit))
}

/// The bit number of a capability name without `CAP_`.
pub(crate) fn bit_of(name: &str) -> Option<u32> {
    ALL_CAPABILITIES
        .iter()
        .position(|&known| known == name)
        .and_then(|bit| u32::try_from(bit).ok())
}

/// Whether `mask` holds the capability `name` (without `CAP_`).
pub(crate) fn has(mask: u64, name: &str) -> bool {
    bit_of(name).is_some_and(|bit| mask & (1 << bit) != 0)
}

/// The `CAP_*` names of the bits set in `mask`, in bit order; unknown bits as `CAP_<n>`.
pub(crate) fn names(mask: u64) -> Vec<String> {
    (0..64)
        .filter(|bit| mask & (1 << bit) != 0)
        .map(|bit| match ALL_CAPABILITIES.get(bit) {
            Some(name) => format!("CAP_{name}"),
            None => format!("CAP_{bit}"),
        })
        .collect()
}

/// Decodes the five sets.
pub(crate) fn probe(host: &dyn Host, status: &Status) -> Capabilities {
    let last_cap = read_number(host, "/proc/sys/kernel/cap_last_cap")
        .and_then(|last| u32::try_from(last).ok());
    // What the process can gain: everything it holds, plus the bounding set when it can still
    // execve into setuid-root or file-capability programs (it is root, or no_new_privs is off).
    let holds = status.cap_effective | status.cap_permitted | status.cap_ambient;
    let can_gain_bounding = status.uid[1] == 0 || status.no_new_privs != Some(true);
    let reachable = if can_gain_bounding {
        holds | status.cap_bounding
    } else {
        holds
    };
    let dangerous = DANGEROUS
        .iter()
        .filter(|(name, _)| has(reachable, name))
        .map(|(name, _)| format!("CAP_{name}"))
        .collect();
    Capabilities {
        effective: names(status.cap_effective),
        permitted: names(status.cap_permitted),
        inheritable: names(status.cap_inheritable),
        bounding: names(status.cap_bounding),
        ambient: names(status.cap_ambient),
        dangerous,
        masks: CapabilityMasks {
            effective: format!("{:016x}", status.cap_effective),
            permitted: format!("{:016x}", status.cap_permitted),
            inheritable: format!("{:016x}", status.cap_inheritable),
            bounding: format!("{:016x}", status.cap_bounding),
            ambient: format!("{:016x}", status.cap_ambient),
        },
        last_cap,
        docker_default: status.cap_bounding == docker_default_mask(),
    }
}

/// Every capability this kernel knows, as a mask (`cap_last_cap` + 1 bits).
pub(crate) fn full_mask(last_cap: u32) -> u64 {
    if last_cap >= 63 {
        u64::MAX
    } else {
        (1 << (last_cap + 1)) - 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_default_mask_is_the_documented_one() {
        assert_eq!(docker_default_mask(), 0xa804_25fb);
        assert_eq!(names(0xa804_25fb).len(), 14);
        assert_eq!(names(0x1).first().map(String::as_str), Some("CAP_CHOWN"));
        assert_eq!(names(1 << 21), vec!["CAP_SYS_ADMIN"]);
        assert_eq!(names(1 << 45), vec!["CAP_45"]);
    }

    #[test]
    fn full_mask_follows_the_kernel() {
        // Kernels before 5.8 had 38 capabilities; CDK's `3fffffffff` test only matches those.
        assert_eq!(full_mask(37), 0x3f_ffff_ffff);
        assert_eq!(full_mask(40), 0x1ff_ffff_ffff);
        assert_eq!(full_mask(63), u64::MAX);
    }
}
