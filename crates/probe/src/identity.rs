//! Who the process is: ids, groups, its name in `/etc/passwd`, and what the ids are outside the user
//! namespace (`/proc/self/uid_map`, `gid_map`, `setgroups`).

use crate::host::{read_text, Host};
use crate::report::{ProbeReport, UserNamespace};
use crate::status::Status;

/// The identity map of the initial user namespace: `0 0 4294967295`.
const IDENTITY: [u32; 3] = [0, 0, u32::MAX];

/// Fills the identity fields of `report`.
pub(crate) fn probe(host: &dyn Host, status: &Status, report: &mut ProbeReport) {
    report.uid = status.uid[0];
    report.euid = status.uid[1];
    report.gid = status.gid[0];
    report.egid = status.gid[1];
    report.groups = status.groups.clone();
    report.user_name =
        read_text(host, "/etc/passwd").and_then(|passwd| user_name(&passwd, report.uid));

    let uid_map = read_text(host, "/proc/self/uid_map").map(|text| parse_map(&text));
    let gid_map = read_text(host, "/proc/self/gid_map").map(|text| parse_map(&text));
    report.host_uid = match &uid_map {
        Some(map) => map_id(map, report.uid),
        // No map file: a kernel without user namespaces, where every id is the host's.
        None => Some(report.uid),
    };
    report.host_gid = match &gid_map {
        Some(map) => map_id(map, report.gid),
        None => Some(report.gid),
    };
    let uid_map = uid_map.unwrap_or_default();
    let gid_map = gid_map.unwrap_or_default();
    report.user_namespace = UserNamespace {
        private: !(uid_map.is_empty() || uid_map == [IDENTITY]),
        uid_map,
        gid_map,
        setgroups: read_text(host, "/proc/self/setgroups").map(|text| text.trim().to_owned()),
    };
}

/// Whether the process is in the initial user namespace, where `capable()` checks succeed.
pub(crate) fn in_initial_user_namespace(report: &ProbeReport) -> bool {
    !report.user_namespace.private
}

/// Parses `uid_map`/`gid_map` lines: `inside outside count`.
pub(crate) fn parse_map(text: &str) -> Vec<[u32; 3]> {
    text.lines()
        .filter_map(|line| {
            let mut numbers = line.split_whitespace().map(|n| n.parse::<u32>().ok());
            Some([numbers.next()??, numbers.next()??, numbers.next()??])
        })
        .collect()
}

/// The outside id of `id`, `None` when no line maps it.
pub(crate) fn map_id(map: &[[u32; 3]], id: u32) -> Option<u32> {
    map.iter().find_map(|&[inside, outside, count]| {
        let offset = id.checked_sub(inside)?;
        (offset < count).then(|| outside.checked_add(offset))?
    })
}

/// The name of `uid` in a passwd file.
fn user_name(passwd: &str, uid: u32) -> Option<String> {
    passwd.lines().find_map(|line| {
        let mut fields = line.split(':');
        let name = fields.next()?;
        let id: u32 = fields.nth(1)?.parse().ok()?;
        (id == uid && !name.is_empty()).then(|| name.to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_ids_through_user_namespaces() {
        let identity = parse_map("         0          0 4294967295\n");
        assert_eq!(identity, vec![IDENTITY]);
        assert_eq!(map_id(&identity, 1000), Some(1000));

        // userns-remap: container root is host 100000, 65536 ids.
        let remapped = parse_map("0 100000 65536\n");
        assert_eq!(map_id(&remapped, 0), Some(100_000));
        assert_eq!(map_id(&remapped, 1000), Some(101_000));
        assert_eq!(map_id(&remapped, 65536), None);

        // rootless: container root is the user, the rest a subordinate range.
        let rootless = parse_map("0 1000 1\n1 100000 65536\n");
        assert_eq!(map_id(&rootless, 0), Some(1000));
        assert_eq!(map_id(&rootless, 1), Some(100_000));
    }

    #[test]
    fn finds_user_names() {
        let passwd = "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534::/:/sbin/nologin\nbad\n";
        assert_eq!(user_name(passwd, 65534).as_deref(), Some("nobody"));
        assert_eq!(user_name(passwd, 0).as_deref(), Some("root"));
        assert_eq!(user_name(passwd, 1000), None);
    }
}
