//! The user layer: does the process run as the configured user (`--user`, or the image's `USER`)?

use leastpriv_model::{Id, User};
use leastpriv_probe::ProbeReport;

use super::{who, Checks, Promises, Setting};
use crate::expect::Expectation;

pub(super) fn judge(promises: &Promises<'_>, probe: &ProbeReport, checks: &mut Checks) {
    let configured = match &promises.runtime.user {
        Some(user) => Some((user.value.clone(), promises.name(Setting::User))),
        None => promises
            .image_user
            .filter(|user| !user.trim().is_empty())
            .map(|user| (User::parse(user), "the image's USER")),
    };
    let actual = who(probe);
    match configured {
        Some((user, source)) => {
            let written = match &user.group {
                Some(group) => format!("{}:{group}", user.user),
                None => user.user.clone(),
            };
            match expected_id(&user.user) {
                Some(uid) => checks.check(
                    probe.uid == uid,
                    format!("runs as {actual}, as {source} {written} promised"),
                    format!(
                        "{source} {written} promised uid {uid}, but the process runs as {actual}"
                    ),
                ),
                None if probe.user_name.as_deref() == Some(user.user.as_str()) => {
                    checks.pass(format!("runs as {actual}, as {source} {written} promised"));
                }
                None if probe.user_name.is_none() => checks.note(format!(
                    "{source} {written}: the image has no /etc/passwd entry to check the name \
                     against; runs as {actual}"
                )),
                None => checks.fail(format!(
                    "{source} {written} promised user {}, but the process runs as {actual}",
                    user.user
                )),
            }
            if let Some(gid) = user.group.as_deref().and_then(expected_id) {
                checks.check(
                    probe.gid == gid,
                    format!("primary group {gid}, as promised"),
                    format!(
                        "{source} {written} promised gid {gid}, but the process has gid {}",
                        probe.gid
                    ),
                );
            }
        }
        None => checks.note(format!("no user configured: runs as {actual}")),
    }
    for group in &promises.runtime.group_add {
        if let Some(gid) = expected_id(&group.value) {
            checks.check(
                probe.groups.contains(&gid),
                format!(
                    "supplementary group {gid} present, as {} promised",
                    promises.name(Setting::GroupAdd)
                ),
                format!(
                    "{} {gid} promised, but the groups are {:?}",
                    promises.name(Setting::GroupAdd),
                    probe.groups
                ),
            );
        }
    }
    if promises.expects(Expectation::NonRoot) {
        checks.check(
            probe.uid != 0 && probe.euid != 0,
            format!("expect non-root: runs as {actual}"),
            format!("expect non-root: the process runs as root ({actual})"),
        );
    }
}

/// The numeric id a user or group name stands for, when it is a number (as the runtime reads it:
/// `+0`, `00`) or `root`.
fn expected_id(name: &str) -> Option<u32> {
    match Id::parse(name.trim()) {
        Id::Name("root") => Some(0),
        Id::Number(number) => Some(Id::truncated(number)),
        Id::Default | Id::Name(_) => None,
    }
}
