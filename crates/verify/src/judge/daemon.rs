//! The daemon layer as seen from inside: container root is not host root (user-namespace
//! remapping, or a rootless daemon). LP702 judges the same from the daemon's configuration; the
//! daemon's own exposure (LP701, LP703, LP710 …) cannot be seen from inside a container.

use leastpriv_model::NamespaceMode;
use leastpriv_probe::ProbeReport;

use super::{Checks, Promises, Setting};
use crate::expect::Expectation;

pub(super) fn judge(promises: &Promises<'_>, probe: &ProbeReport, checks: &mut Checks) {
    let map = &probe.user_namespace.uid_map;
    let Some(root) = host_uid_of_root(map) else {
        checks.note(if map.is_empty() {
            "the uid map could not be read".to_owned()
        } else {
            "container root (uid 0) is not mapped to any host uid".to_owned()
        });
        if !map.is_empty() {
            checks.pass("container root is not host root");
        }
        expectation(promises, probe, None, checks);
        return;
    };
    let remaps = promises.daemon.has("userns") || promises.daemon.has("rootless");
    let opted_out = promises
        .runtime
        .namespaces
        .user
        .as_ref()
        .is_some_and(|mode| mode.value == NamespaceMode::Host);
    let mapping = map
        .iter()
        .map(|[inside, outside, count]| format!("{inside} {outside} {count}"))
        .collect::<Vec<_>>()
        .join(", ");
    if root != 0 {
        checks.pass(format!(
            "container root is host uid {root} (uid_map {mapping}): a user namespace"
        ));
    } else {
        let process = if probe.uid == 0 {
            "; this process runs as that root"
        } else {
            ""
        };
        let why = if remaps && opted_out {
            format!(
                "{} opts out of the daemon's remapping",
                promises.name(Setting::UsernsHost)
            )
        } else {
            "no userns-remap or rootless daemon".to_owned()
        };
        let text = format!("container root is host root (uid_map {mapping}): {why}{process}");
        if remaps && !opted_out {
            checks.broken(
                Some("LP702"),
                format!("the daemon remaps users, but {text}"),
            );
        } else {
            checks.finding("LP702", text);
        }
    }
    expectation(promises, probe, Some(root), checks);
}

fn expectation(
    promises: &Promises<'_>,
    probe: &ProbeReport,
    root: Option<u32>,
    checks: &mut Checks,
) {
    if promises.expects(Expectation::Userns) {
        let host_uid = probe
            .host_uid
            .map_or_else(|| "unmapped".to_owned(), |uid| uid.to_string());
        checks.promise(
            probe.user_namespace.private && root != Some(0),
            format!("expect userns: host uid {host_uid}"),
            format!("expect userns: uid {} is host uid {host_uid}", probe.uid),
        );
    }
}

/// The host uid container uid 0 maps to, from `/proc/self/uid_map` (`inside outside count`).
fn host_uid_of_root(map: &[[u32; 3]]) -> Option<u32> {
    map.iter()
        .find(|[inside, _, count]| *inside == 0 && *count > 0)
        .map(|[_, outside, _]| *outside)
}
