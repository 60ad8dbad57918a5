//! The capabilities layer: is the bounding set exactly what the flags grant (Docker's default 14,
//! minus `--cap-drop`, plus `--cap-add`), and is every dropped capability really gone?

use std::collections::BTreeSet;

use leastpriv_model::{Capability, ALL_CAPABILITIES, DOCKER_DEFAULT_CAPABILITIES};
use leastpriv_probe::ProbeReport;

use super::{bare, listed, Checks, Promises, Setting};
use crate::expect::Expectation;

pub(super) fn judge(promises: &Promises<'_>, probe: &ProbeReport, checks: &mut Checks) {
    let caps = &probe.capabilities;
    let bounding = bare(&caps.bounding);
    let held: BTreeSet<String> = [
        &caps.effective,
        &caps.permitted,
        &caps.ambient,
        &caps.bounding,
    ]
    .into_iter()
    .flat_map(|set| bare(set))
    .collect();

    if promises.privileged() {
        checks.note(format!(
            "{}: the bounding set holds {} capabilities",
            promises.name(Setting::Privileged),
            bounding.len()
        ));
    } else {
        judge_sets(promises, probe, &bounding, &held, checks);
    }

    if promises.expects(Expectation::CapDropAll) {
        checks.check(
            held.is_empty(),
            "expect cap-drop-all: no capability in any set",
            format!(
                "expect cap-drop-all: the process holds {}",
                listed(held.iter().map(|name| format!("CAP_{name}")))
            ),
        );
    }
}

fn judge_sets(
    promises: &Promises<'_>,
    probe: &ProbeReport,
    bounding: &BTreeSet<String>,
    held: &BTreeSet<String>,
    checks: &mut Checks,
) {
    let runtime = promises.runtime;
    let drops_all = runtime
        .cap_drop
        .iter()
        .any(|cap| cap.value == Capability::All);
    let adds_all = runtime
        .cap_add
        .iter()
        .any(|cap| cap.value == Capability::All);
    let added: BTreeSet<String> = runtime
        .cap_add
        .iter()
        .filter_map(|cap| match &cap.value {
            Capability::Known(name) => Some((*name).to_owned()),
            _ => None,
        })
        .collect();
    let mut dropped: BTreeSet<String> = if drops_all {
        ALL_CAPABILITIES
            .iter()
            .map(|&name| name.to_owned())
            .collect()
    } else {
        runtime
            .cap_drop
            .iter()
            .filter_map(|cap| match &cap.value {
                Capability::Known(name) => Some((*name).to_owned()),
                _ => None,
            })
            .collect()
    };
    // Docker applies --cap-add after --cap-drop ALL.
    dropped.retain(|name| !added.contains(name) && !adds_all);

    let mut granted: BTreeSet<String> = if drops_all {
        BTreeSet::new()
    } else {
        DOCKER_DEFAULT_CAPABILITIES
            .iter()
            .map(|&name| name.to_owned())
            .collect()
    };
    granted.retain(|name| !dropped.contains(name));
    granted.extend(added.iter().cloned());
    if adds_all {
        granted.extend(ALL_CAPABILITIES.iter().map(|&name| name.to_owned()));
    }

    let leaked: Vec<&String> = dropped.iter().filter(|name| held.contains(*name)).collect();
    if !leaked.is_empty() {
        checks.fail(format!(
            "dropped, but the process still has {}",
            listed(leaked.iter().map(|name| format!("CAP_{name}")))
        ));
    }
    // Beyond the grant and not already reported as a dropped one that leaked.
    let extra: Vec<&String> = bounding
        .difference(&granted)
        .filter(|name| !dropped.contains(*name))
        .collect();
    if !extra.is_empty() {
        checks.fail(format!(
            "the bounding set holds {} beyond what the flags grant",
            listed(extra.iter().map(|name| format!("CAP_{name}")))
        ));
    }
    if leaked.is_empty() && extra.is_empty() {
        let what = if runtime.cap_add.is_empty() && runtime.cap_drop.is_empty() {
            "Docker's default set".to_owned()
        } else {
            format!("as {} promised", promises.name(Setting::CapDropAdd))
        };
        checks.pass(format!(
            "bounding set: {} ({what})",
            if bounding.is_empty() {
                "empty".to_owned()
            } else {
                format!("{} capabilities", bounding.len())
            }
        ));
    }
    let ineffective: Vec<&String> = added.difference(bounding).collect();
    if !ineffective.is_empty() {
        checks.note(format!(
            "{} {} had no effect: not known to this engine or kernel",
            promises.name(Setting::CapAdd),
            listed(ineffective)
        ));
    }
    if probe.uid != 0 && !bounding.is_empty() {
        let effective = bare(&probe.capabilities.effective);
        checks.note(if effective.is_empty() {
            "non-root: no effective capabilities after exec (Docker sets no ambient set)".to_owned()
        } else {
            format!("non-root, yet effective capabilities {}", listed(effective))
        });
    }
}
