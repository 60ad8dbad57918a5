//! The daemon layer as seen from inside: when the daemon remaps users (userns-remap, rootless),
//! container root must not be host root.

use leastpriv_model::NamespaceMode;
use leastpriv_probe::ProbeReport;

use super::{Checks, Promises, Setting};
use crate::expect::Expectation;

pub(super) fn judge(promises: &Promises<'_>, probe: &ProbeReport, checks: &mut Checks) {
    let host_uid = probe
        .host_uid
        .map_or_else(|| "unmapped".to_owned(), |uid| uid.to_string());
    let remaps = promises.daemon.has("userns") || promises.daemon.has("rootless");
    let opted_out = promises
        .runtime
        .namespaces
        .user
        .as_ref()
        .is_some_and(|mode| mode.value == NamespaceMode::Host);
    if remaps && !opted_out {
        checks.check(
            probe.user_namespace.private && probe.host_uid != Some(0),
            format!("user namespace: uid {} is host uid {host_uid}", probe.uid),
            format!(
                "the daemon remaps users, but uid {} is host uid {host_uid}",
                probe.uid
            ),
        );
    } else if remaps {
        checks.note(format!(
            "{}: uid {} is host uid {host_uid}",
            promises.name(Setting::UsernsHost),
            probe.uid
        ));
    } else {
        checks.note(format!(
            "no userns-remap or rootless daemon: uid {} is host uid {host_uid}",
            probe.uid
        ));
    }
    if promises.expects(Expectation::Userns) {
        checks.check(
            probe.user_namespace.private && probe.host_uid != Some(0),
            format!("expect userns: host uid {host_uid}"),
            format!("expect userns: uid {} is host uid {host_uid}", probe.uid),
        );
    }
}
