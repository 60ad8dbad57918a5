//! The capabilities layer: the process holds no capability but those added on purpose, and none of
//! those is dangerous (LP311 and LP310 judge the same in a configuration). Also: every dropped
//! capability is really gone, and the bounding set is what the flags grant (Docker's default 14,
//! minus `--cap-drop`, plus `--cap-add`).

use std::collections::BTreeSet;

use leastpriv_model::{Capability, ALL_CAPABILITIES, DOCKER_DEFAULT_CAPABILITIES};
use leastpriv_probe::ProbeReport;
use leastpriv_rules::judgement::added_capability;

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
    let grant = Grant::of(promises);

    if !promises.privileged() {
        promised_sets(promises, &grant, &bounding, &held, checks);
    }
    least_privilege(promises, probe, &grant, &held, checks);

    if probe.uid != 0 && !bounding.is_empty() {
        let effective = bare(&caps.effective);
        checks.note(if effective.is_empty() {
            "non-root: no effective capabilities after exec (Docker sets no ambient set); the \
             bounding set stays for setuid binaries and file capabilities"
                .to_owned()
        } else {
            format!("non-root, yet effective capabilities {}", listed(effective))
        });
    }
    if promises.expects(Expectation::CapDropAll) {
        checks.promise(
            held.is_empty(),
            "expect cap-drop-all: no capability in any set",
            format!(
                "expect cap-drop-all: the process holds {}",
                listed(held.iter().map(|name| format!("CAP_{name}")))
            ),
        );
    }
}

/// What the flags grant: Docker's default set minus `--cap-drop`, plus `--cap-add` (applied after
/// `--cap-drop ALL`).
struct Grant {
    added: BTreeSet<String>,
    adds_all: bool,
    dropped: BTreeSet<String>,
    granted: BTreeSet<String>,
}

impl Grant {
    fn of(promises: &Promises<'_>) -> Self {
        let runtime = promises.runtime;
        let known = |caps: &[leastpriv_model::Spanned<Capability>]| -> BTreeSet<String> {
            caps.iter()
                .filter_map(|cap| match &cap.value {
                    Capability::Known(name) => Some((*name).to_owned()),
                    _ => None,
                })
                .collect()
        };
        let drops_all = runtime
            .cap_drop
            .iter()
            .any(|cap| cap.value == Capability::All);
        let adds_all = runtime
            .cap_add
            .iter()
            .any(|cap| cap.value == Capability::All);
        let added = known(&runtime.cap_add);
        let mut dropped = if drops_all {
            ALL_CAPABILITIES
                .iter()
                .map(|&name| name.to_owned())
                .collect()
        } else {
            known(&runtime.cap_drop)
        };
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
        Self {
            added,
            adds_all,
            dropped,
            granted,
        }
    }
}

/// Every dropped capability is gone, and nothing beyond the grant is held: broken promises.
fn promised_sets(
    promises: &Promises<'_>,
    grant: &Grant,
    bounding: &BTreeSet<String>,
    held: &BTreeSet<String>,
    checks: &mut Checks,
) {
    let leaked: Vec<&String> = grant
        .dropped
        .iter()
        .filter(|name| held.contains(*name))
        .collect();
    if !leaked.is_empty() {
        checks.broken(
            None,
            format!(
                "dropped, but the process still has {}",
                listed(leaked.iter().map(|name| format!("CAP_{name}")))
            ),
        );
    }
    // Beyond the grant and not already reported as a dropped one that leaked.
    let extra: Vec<&String> = bounding
        .difference(&grant.granted)
        .filter(|name| !grant.dropped.contains(*name))
        .collect();
    if !extra.is_empty() {
        checks.broken(
            None,
            format!(
                "the bounding set holds {} beyond what the flags grant",
                listed(extra.iter().map(|name| format!("CAP_{name}")))
            ),
        );
    }
    if leaked.is_empty() && extra.is_empty() {
        let runtime = promises.runtime;
        let what = if runtime.cap_add.is_empty() && runtime.cap_drop.is_empty() {
            "Docker's default set: nothing was dropped".to_owned()
        } else {
            format!("as {} asked", promises.name(Setting::CapDropAdd))
        };
        checks.pass(format!(
            "the bounding set is what the flags grant: {} ({what})",
            if bounding.is_empty() {
                "empty".to_owned()
            } else {
                format!("{} capabilities", bounding.len())
            }
        ));
    }
    let ineffective: Vec<&String> = grant.added.difference(bounding).collect();
    if !ineffective.is_empty() {
        checks.note(format!(
            "{} {} had no effect: not known to this engine or kernel",
            promises.name(Setting::CapAdd),
            listed(ineffective)
        ));
    }
}

/// Least privilege: every capability held was added on purpose (LP311), and none added is
/// dangerous (LP310, graded by the rule's own table).
fn least_privilege(
    promises: &Promises<'_>,
    probe: &ProbeReport,
    grant: &Grant,
    held: &BTreeSet<String>,
    checks: &mut Checks,
) {
    if held.is_empty() {
        checks.pass("no capability in any set");
        return;
    }
    if promises.privileged() {
        checks.finding(
            "LP311",
            format!(
                "{} grants every capability: {} in the bounding set",
                promises.name(Setting::Privileged),
                probe.capabilities.bounding.len()
            ),
        );
        return;
    }
    if grant.adds_all {
        if let Some((severity, gives)) = added_capability("ALL") {
            checks.finding_at(
                "LP310",
                severity,
                format!("{} ALL: {gives}", promises.name(Setting::CapAdd)),
            );
        }
    }
    let kept: Vec<&String> = held
        .iter()
        .filter(|name| !grant.added.contains(*name) && !grant.adds_all)
        .collect();
    if !kept.is_empty() {
        let default_set = kept.len() == DOCKER_DEFAULT_CAPABILITIES.len()
            && DOCKER_DEFAULT_CAPABILITIES
                .iter()
                .all(|name| kept.iter().any(|kept| kept.as_str() == *name));
        let which = if default_set {
            "Docker's default set of 14".to_owned()
        } else {
            format!("{} never dropped", kept.len())
        };
        checks.finding(
            "LP311",
            format!(
                "capabilities not dropped: the process keeps {which} ({})",
                listed(kept.iter().map(|name| format!("CAP_{name}")))
            ),
        );
    }
    if !grant.adds_all {
        for name in held.iter().filter(|name| grant.added.contains(*name)) {
            match added_capability(name) {
                Some((severity, gives)) => {
                    checks.finding_at("LP310", severity, format!("CAP_{name} added: {gives}"))
                }
                None => checks.note(format!("CAP_{name} added")),
            }
        }
    }
    if probe.escape.cgroup.release_agent_escape {
        checks.finding(
            "LP310",
            "with CAP_SYS_ADMIN, mount allowed and cgroup v1, the cgroup release_agent escape is \
             open",
        );
    }
}
