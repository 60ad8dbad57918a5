//! `/proc/self/status`: ids, groups, capability masks, `NoNewPrivs` and seccomp, read once.

/// The fields of `/proc/self/status` the probe uses.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Status {
    /// `Uid:` real, effective, saved, filesystem.
    pub(crate) uid: [u32; 4],
    /// `Gid:` real, effective, saved, filesystem.
    pub(crate) gid: [u32; 4],
    /// `Groups:`.
    pub(crate) groups: Vec<u32>,
    pub(crate) cap_inheritable: u64,
    pub(crate) cap_permitted: u64,
    pub(crate) cap_effective: u64,
    pub(crate) cap_bounding: u64,
    /// `CapAmb:` (kernels ≥ 4.3; 0 before).
    pub(crate) cap_ambient: u64,
    /// `NoNewPrivs:` (kernels ≥ 4.10).
    pub(crate) no_new_privs: Option<bool>,
    /// `Seccomp:` 0, 1 or 2.
    pub(crate) seccomp: Option<u8>,
    /// `Seccomp_filters:` (kernels ≥ 5.9).
    pub(crate) seccomp_filters: Option<u32>,
}

impl Status {
    /// Parses the file; unknown and malformed lines are skipped.
    pub(crate) fn parse(text: &str) -> Self {
        let mut status = Self::default();
        for line in text.lines() {
            let Some((key, value)) = line.split_once(':') else {
                continue;
            };
            let value = value.trim();
            match key {
                "Uid" => status.uid = four_ids(value),
                "Gid" => status.gid = four_ids(value),
                "Groups" => {
                    status.groups = value
                        .split_whitespace()
                        .filter_map(|id| id.parse().ok())
                        .collect();
                }
                "CapInh" => status.cap_inheritable = hex(value),
                "CapPrm" => status.cap_permitted = hex(value),
                "CapEff" => status.cap_effective = hex(value),
                "CapBnd" => status.cap_bounding = hex(value),
                "CapAmb" => status.cap_ambient = hex(value),
                "NoNewPrivs" => status.no_new_privs = value.parse::<u8>().ok().map(|v| v != 0),
                "Seccomp" => status.seccomp = value.parse().ok(),
                "Seccomp_filters" => status.seccomp_filters = value.parse().ok(),
                _ => {}
            }
        }
        status
    }
}

fn four_ids(value: &str) -> [u32; 4] {
    let mut ids = [0; 4];
    for (slot, id) in ids.iter_mut().zip(value.split_whitespace()) {
        *slot = id.parse().unwrap_or(0);
    }
    ids
}

fn hex(value: &str) -> u64 {
    u64::from_str_radix(value, 16).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_docker_default_status() {
        let status = Status::parse(
            "Name:\tcat\nUid:\t1000\t1000\t1000\t1000\nGid:\t50\t50\t50\t50\nGroups:\t50 100 \n\
             CapInh:\t0000000000000000\nCapPrm:\t0000000000000000\nCapEff:\t0000000000000000\n\
             CapBnd:\t00000000a80425fb\nCapAmb:\t0000000000000000\nNoNewPrivs:\t1\nSeccomp:\t2\n\
             Seccomp_filters:\t1\n",
        );
        assert_eq!(status.uid, [1000; 4]);
        assert_eq!(status.gid, [50; 4]);
        assert_eq!(status.groups, vec![50, 100]);
        assert_eq!(status.cap_bounding, 0xa804_25fb);
        assert_eq!(status.cap_effective, 0);
        assert_eq!(status.no_new_privs, Some(true));
        assert_eq!(status.seccomp, Some(2));
        assert_eq!(status.seccomp_filters, Some(1));
    }

    #[test]
    fn old_kernels_lack_fields() {
        let status = Status::parse("Uid:\t0\t0\t0\t0\nCapEff:\tzz\n");
        assert_eq!(status.no_new_privs, None);
        assert_eq!(status.seccomp, None);
        assert_eq!(status.cap_effective, 0);
    }
}
