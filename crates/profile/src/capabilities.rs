//! Which capabilities the workload needs: observed where the kernel checks them, and confirmed by
//! trials where the user asks.
//!
//! **Observed** (the eBPF recorder, the default): the `capability:cap_capable` tracepoint fires at the
//! end of every capability decision (`cap_capable()`), with the credentials, the capability and the
//! verdict, but not the check's options; so the recorder keeps the kernel stack of each check, and
//! [`CapabilityChecks::judge`] names its frames from `/proc/kallsyms` to leave out the checks the
//! kernel makes only to ask (`CAP_OPT_NOAUDIT`: `ns_capable_noaudit`, `has_capability_noaudit`,
//! `has_ns_capability_noaudit`, `cap_vm_enough_memory`, and ptrace-mode checks from `/proc/<pid>/stat`
//! and `wchan`). A capability is needed when an audited check of it was granted; an audited check
//! that was refused is reported beside it (the workload went on without it). What the kernel cannot
//! say this way is listed in docs/profile.md (an `_noaudit` caller inlined into a function of another
//! name is taken for an audited check: the profile then holds one capability too many, which
//! `--capabilities confirm` finds).
//!
//! **Trials** (`--capabilities confirm`, and `trial` where nothing can observe: the seccomp-notify
//! fallback) rerun the workload with capabilities removed, the test a user makes with `--cap-drop`.
//! A run "behaves as recorded" when the exercise succeeds and the workload ends as it did (the same
//! exit code, or still running when it was stopped). Trials run without recording; the workload must
//! be repeatable for them.
//! - [`confirm`]: one run with exactly the observed set (it must behave as recorded), then one per
//!   observed capability without it (each must not): what passes is kept, what is not needed is
//!   dropped, and an observed set that is not enough falls back to [`needed`];
//! - [`needed`]: one run without every capability held (most hardened workloads need none), then one
//!   per held capability, each removing only that one.

use std::collections::{BTreeMap, BTreeSet};

use leastpriv_model::ALL_CAPABILITIES;

use crate::{CapabilityMode, ProfileError};

/// How a run of the workload ended, to compare trials with the recorded run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// The exercise passed (true when there was none).
    pub exercise_passed: bool,
    /// The exit code, or `None` when the workload was still running when it was stopped.
    pub exit_code: Option<i32>,
}

/// What [`learn`] found: the needed mask (`None`: not observed) and what to tell the user.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Learned {
    pub(crate) needed: Option<u64>,
    pub(crate) notes: Vec<String>,
}

/// Learns the needed capabilities as `mode` says: from the recorder's `checks` (`None` when the
/// recorder cannot see them), confirmed or found by trials of `held` (`None`: unknown, no trials).
/// `trials_allowed` is false after Ctrl-C.
pub(crate) fn learn(
    mode: CapabilityMode,
    checks: Option<&CapabilityChecks>,
    held: Option<u64>,
    recorded: Outcome,
    trials_allowed: bool,
    mut trial: impl FnMut(u64) -> Result<Outcome, ProfileError>,
) -> Result<Learned, ProfileError> {
    let mut notes = Vec::new();
    let observed = match (mode, checks) {
        (CapabilityMode::Skip, _) => return Ok(Learned::default()),
        (CapabilityMode::Observe | CapabilityMode::Confirm, Some(checks)) => {
            notes.extend(checks.notes());
            Some(checks.needed_mask())
        }
        _ => None,
    };
    let held = held.filter(|_| trials_allowed);
    let needed = match (mode, observed, held) {
        (CapabilityMode::Observe, Some(observed), _) => Some(observed),
        (CapabilityMode::Confirm, Some(observed), None) => {
            notes.push(
                "the observed capabilities were not confirmed by trials (interrupted, or the \
                 capabilities the workload held are unknown)"
                    .to_owned(),
            );
            Some(observed)
        }
        (CapabilityMode::Confirm, Some(observed), Some(held)) => {
            let confirmation = confirm(held, observed, recorded, &mut trial)?;
            notes.push(confirmation_note(&confirmation, observed & held));
            Some(confirmation.needed)
        }
        (_, _, Some(held)) => {
            let (needed, trials) = needed(held, recorded, &mut trial)?;
            if trials > 0 {
                notes.push(format!(
                    "capabilities learned by {trials} trial run(s) without them{}",
                    if mode == CapabilityMode::Trial {
                        ""
                    } else {
                        " (this recorder cannot see capability checks)"
                    }
                ));
            }
            Some(needed)
        }
        (_, _, None) => None,
    };
    Ok(Learned { needed, notes })
}

/// What confirming an observed set found, for the output.
fn confirmation_note(confirmation: &Confirmation, observed: u64) -> String {
    let trials = confirmation.trials;
    if confirmation.observed_insufficient {
        return format!(
            "the observed capabilities ({}) were not enough to run as recorded: {trials} trial \
             run(s) found {} (a check the kernel could not show, or a run that does not repeat)",
            names(observed),
            names(confirmation.needed)
        );
    }
    if confirmation.not_needed == 0 {
        return format!("capabilities confirmed by {trials} trial run(s): each one is needed");
    }
    format!(
        "{trials} trial run(s) confirmed the observed capabilities; checked but not needed (the \
         workload behaved as recorded without them): {}",
        names(confirmation.not_needed)
    )
}

/// `CAP_A, CAP_B`, or `none`.
fn names(mask: u64) -> String {
    let listed: Vec<String> = bits(mask)
        .into_iter()
        .map(|bit| name(bit).map_or_else(|| format!("cap {bit}"), |name| format!("CAP_{name}")))
        .collect();
    if listed.is_empty() {
        "none".to_owned()
    } else {
        listed.join(", ")
    }
}

/// The bits of `mask`, as capability numbers.
pub(crate) fn bits(mask: u64) -> Vec<u32> {
    (0..64).filter(|bit| mask & (1 << bit) != 0).collect()
}

/// A capability's name without `CAP_` (`NET_BIND_SERVICE`).
pub(crate) fn name(bit: u32) -> Option<&'static str> {
    ALL_CAPABILITIES.get(bit as usize).copied()
}

/// Finds the needed subset of `held`: `trial(removed)` runs the workload without the capabilities
/// in `removed` and returns its outcome. Returns the needed mask and the number of trials run.
pub(crate) fn needed(
    held: u64,
    recorded: Outcome,
    trial: &mut impl FnMut(u64) -> Result<Outcome, ProfileError>,
) -> Result<(u64, u32), ProfileError> {
    if held == 0 {
        return Ok((0, 0));
    }
    let mut trials = 1;
    if trial(held)? == recorded {
        return Ok((0, trials));
    }
    let mut needed = 0;
    for bit in bits(held) {
        trials += 1;
        if trial(1 << bit)? != recorded {
            needed |= 1 << bit;
        }
    }
    Ok((needed, trials))
}

/// What trials made of an observed set ([`confirm`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Confirmation {
    /// The capabilities found needed.
    pub(crate) needed: u64,
    /// Observed capabilities the workload behaved as recorded without (checked, not needed).
    pub(crate) not_needed: u64,
    /// The observed set alone did not behave as recorded: `needed` comes from [`needed`] instead.
    pub(crate) observed_insufficient: bool,
    /// Trial runs made.
    pub(crate) trials: u32,
}

/// Confirms the `observed` capabilities of `held` by trials (`trial(removed)` as for [`needed`]):
/// exactly the observed set must behave as recorded, and each one fewer must not.
pub(crate) fn confirm(
    held: u64,
    observed: u64,
    recorded: Outcome,
    mut trial: impl FnMut(u64) -> Result<Outcome, ProfileError>,
) -> Result<Confirmation, ProfileError> {
    let observed = observed & held;
    let mut trials = 1;
    if trial(held & !observed)? != recorded {
        let (needed, more) = needed(held, recorded, &mut trial)?;
        return Ok(Confirmation {
            needed,
            not_needed: 0,
            observed_insufficient: true,
            trials: trials + more,
        });
    }
    let mut needed = 0;
    for bit in bits(observed) {
        trials += 1;
        if trial(held & !(observed & !(1 << bit)))? == recorded {
            continue;
        }
        needed |= 1 << bit;
    }
    Ok(Confirmation {
        needed,
        not_needed: observed & !needed,
        observed_insufficient: false,
        trials,
    })
}

/// The capability checks of a recording, judged.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CapabilityChecks {
    /// Capabilities granted by an audited check: needed. With the kernel functions that checked.
    pub needed: BTreeMap<u32, BTreeSet<String>>,
    /// Capabilities an audited check refused (the workload went on without them).
    pub refused: BTreeMap<u32, BTreeSet<String>>,
    /// Capabilities only asked about (no-audit checks), left out.
    pub asked: BTreeSet<u32>,
    /// Whether `/proc/kallsyms` named the callers; without it no check can be told apart as a
    /// no-audit one, and every check counts.
    pub callers_named: bool,
}

/// Kernel functions on the path of every check, below the caller that matters.
const CHECK_PLUMBING: &[&str] = &[
    "cap_capable",
    "cap_capable_helper",
    "security_capable",
    "ns_capable_common",
    "bpf_trace_run5",
];

/// The capability API's audited entry points: the function to name is the one that called them.
const CHECK_WRAPPERS: &[&str] = &[
    "capable",
    "ns_capable",
    "ns_capable_setid",
    "file_ns_capable",
    "has_capability",
    "has_ns_capability",
    "capable_wrt_inode_uidgid",
    "privileged_wrt_inode_uidgid",
];

/// Callers that check with `CAP_OPT_NOAUDIT` (besides every `*_noaudit` function).
const NOAUDIT_CALLERS: &[&str] = &[
    "cap_vm_enough_memory",
    "security_vm_enough_memory_mm",
    "__vm_enough_memory",
];

/// The ptrace access check: audited or not as its caller's mode says.
const PTRACE_CHECKS: &[&str] = &[
    "cap_ptrace_access_check",
    "security_ptrace_access_check",
    "__ptrace_may_access",
    "ptrace_may_access",
    "ptrace_has_cap",
];

/// Callers of `ptrace_may_access` with `PTRACE_MODE_NOAUDIT` (fs/proc: `stat`'s eip/esp, `wchan`).
const PTRACE_NOAUDIT_CALLERS: &[&str] = &["do_task_stat", "proc_pid_wchan", "proc_pid_stat"];

impl CapabilityChecks {
    /// Adds one check: `frames` are the kernel stack's function names, innermost first (empty when
    /// they could not be named).
    pub fn add(&mut self, cap: u32, granted: bool, frames: &[&str]) {
        let (audited, caller) = Self::judge(frames);
        if !audited {
            self.asked.insert(cap);
            return;
        }
        let target = if granted {
            &mut self.needed
        } else {
            &mut self.refused
        };
        let callers = target.entry(cap).or_default();
        if let Some(caller) = caller {
            callers.insert(caller.to_owned());
        }
    }

    /// Whether the check whose stack is `frames` was audited, and the function that made it (past
    /// the capability API's own wrappers).
    pub fn judge<'a>(frames: &[&'a str]) -> (bool, Option<&'a str>) {
        let is_plumbing = |name: &str| {
            CHECK_PLUMBING.contains(&name)
                || name.starts_with("bpf_prog_")
                || name.starts_with("__bpf_trace_")
                || name.starts_with("__traceiter_")
        };
        let mut callers = frames.iter().copied().skip_while(|name| is_plumbing(name));
        let Some(caller) = callers.next() else {
            return (true, None);
        };
        if caller.ends_with("_noaudit") || NOAUDIT_CALLERS.contains(&caller) {
            return (false, Some(caller));
        }
        // A ptrace access check (the LSM hook's or the core's): asked or audited as the mode its
        // caller passes says.
        let ptrace = std::iter::once(caller)
            .chain(callers.clone())
            .skip_while(|name| !PTRACE_CHECKS.contains(name))
            .find(|name| !PTRACE_CHECKS.contains(name));
        if ptrace.is_some_and(|name| PTRACE_NOAUDIT_CALLERS.contains(&name)) {
            return (false, Some(caller));
        }
        let named = std::iter::once(caller)
            .chain(callers)
            .find(|name| !CHECK_WRAPPERS.contains(name))
            .unwrap_or(caller);
        (true, Some(named))
    }

    /// What to tell the user about these checks.
    pub(crate) fn notes(&self) -> Vec<String> {
        let listed = |checks: &BTreeMap<u32, BTreeSet<String>>| -> String {
            checks
                .iter()
                .map(|(&cap, callers)| {
                    let cap = names(1u64.checked_shl(cap).unwrap_or(0));
                    if callers.is_empty() {
                        cap
                    } else {
                        let callers: Vec<&str> = callers.iter().map(String::as_str).collect();
                        format!("{cap} ({})", callers.join(", "))
                    }
                })
                .collect::<Vec<_>>()
                .join("; ")
        };
        let mut notes = Vec::new();
        if !self.needed.is_empty() {
            notes.push(format!(
                "capabilities observed where the kernel granted them: {}",
                listed(&self.needed)
            ));
        }
        let refused: BTreeMap<u32, BTreeSet<String>> = self
            .refused
            .iter()
            .filter(|(cap, _)| !self.needed.contains_key(cap))
            .map(|(cap, callers)| (*cap, callers.clone()))
            .collect();
        if !refused.is_empty() {
            notes.push(format!(
                "capability checks the kernel refused (the workload went on without them, so they \
                 are not in the profile): {}",
                listed(&refused)
            ));
        }
        if !self.callers_named {
            notes.push(
                "/proc/kallsyms hides kernel addresses here: checks made only to ask (no-audit) \
                 cannot be told apart and all count; --capabilities confirm tests the set"
                    .to_owned(),
            );
        }
        notes
    }

    /// The needed capabilities as a mask.
    pub fn needed_mask(&self) -> u64 {
        self.needed
            .keys()
            .filter(|&&cap| cap < 64)
            .fold(0, |mask, cap| mask | 1 << cap)
    }
}

/// No kernel function is this large: a return address farther from the symbol below it is not in it.
const MAX_FUNCTION_SIZE: u64 = 256 * 1024;

/// Kernel symbols from `/proc/kallsyms`, to name the return addresses of a check's stack.
#[derive(Debug, Default)]
pub(crate) struct Kallsyms {
    /// Function start addresses and names, sorted by address.
    functions: Vec<(u64, String)>,
}

impl Kallsyms {
    /// Reads `/proc/kallsyms`; empty when the addresses are hidden (`kptr_restrict`, not root).
    pub(crate) fn read() -> Self {
        let text = std::fs::read_to_string("/proc/kallsyms").unwrap_or_default();
        Self::parse(&text)
    }

    fn parse(text: &str) -> Self {
        let mut functions: Vec<(u64, String)> = text
            .lines()
            .filter_map(|line| {
                let mut fields = line.split_whitespace();
                let address = u64::from_str_radix(fields.next()?, 16).ok()?;
                let kind = fields.next()?;
                let name = fields.next()?;
                (address != 0 && matches!(kind, "t" | "T")).then(|| (address, name.to_owned()))
            })
            .collect();
        functions.sort_unstable();
        Self { functions }
    }

    /// Whether any address could be named.
    pub(crate) fn is_empty(&self) -> bool {
        self.functions.is_empty()
    }

    /// The function a return address lies in; `None` beyond [`MAX_FUNCTION_SIZE`] from the nearest
    /// symbol below it (an address of the BPF JIT or a module region, which would otherwise be
    /// named after the last symbol of the kernel's text).
    pub(crate) fn name(&self, address: u64) -> Option<&str> {
        let index = self
            .functions
            .partition_point(|(start, _)| *start <= address)
            .checked_sub(1)?;
        let (start, name) = &self.functions[index];
        (address - start < MAX_FUNCTION_SIZE).then_some(name.as_str())
    }
}

/// The capability mask of `/proc/<pid>/status`'s `CapBnd`: what the process and its children can
/// ever hold (setuid to a non-root user does not shrink it, unlike `CapEff`).
pub(crate) fn bounding_of(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("CapBnd:"))
        .and_then(|hex| u64::from_str_radix(hex.trim(), 16).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    const OK: Outcome = Outcome {
        exercise_passed: true,
        exit_code: Some(0),
    };
    const FAILED: Outcome = Outcome {
        exercise_passed: false,
        exit_code: Some(1),
    };

    #[test]
    fn one_trial_when_none_is_needed() {
        let (needed, trials) = needed(0b1011, OK, &mut |_| Ok(OK)).expect("runs");
        assert_eq!((needed, trials), (0, 1));
        assert_eq!(
            super::needed(0, OK, &mut |_| Ok(FAILED)).expect("runs"),
            (0, 0)
        );
    }

    #[test]
    fn finds_each_needed_capability() {
        // Bits 0 (CHOWN) and 10 (NET_BIND_SERVICE) are needed; 3 is not.
        let held = 1 | 1 << 3 | 1 << 10;
        let (found, trials) = needed(held, OK, &mut |removed| {
            Ok(if removed & (1 | 1 << 10) != 0 {
                FAILED
            } else {
                OK
            })
        })
        .expect("runs");
        assert_eq!(found, 1 | 1 << 10);
        assert_eq!(trials, 4);
        assert_eq!(name(10), Some("NET_BIND_SERVICE"));
        assert_eq!(bits(found), [0, 10]);
    }

    #[test]
    fn confirms_the_observed_set() {
        // Held: CHOWN, DAC_OVERRIDE, NET_BIND_SERVICE; observed CHOWN and DAC_OVERRIDE, of which
        // only CHOWN is needed.
        let held = 1 | 1 << 1 | 1 << 10;
        let behaves = |removed: u64| Ok(if removed & 1 != 0 { FAILED } else { OK });
        let confirmed = confirm(held, 1 | 1 << 1, OK, behaves).expect("runs");
        assert_eq!(
            confirmed,
            Confirmation {
                needed: 1,
                not_needed: 1 << 1,
                observed_insufficient: false,
                trials: 3,
            }
        );
        // NET_BIND_SERVICE was needed but not observed: the observed set fails, trials find it.
        let confirmed = confirm(held, 1, OK, |removed| {
            Ok(if removed & (1 | 1 << 10) != 0 {
                FAILED
            } else {
                OK
            })
        })
        .expect("runs");
        assert!(confirmed.observed_insufficient);
        assert_eq!(confirmed.needed, 1 | 1 << 10);
    }

    #[test]
    fn leaves_out_the_checks_made_only_to_ask() {
        let plumbing = [
            "bpf_prog_1234_cap_capable",
            "bpf_trace_run5",
            "cap_capable",
            "security_capable",
        ];
        let with = |callers: &[&'static str]| -> Vec<&'static str> {
            plumbing.iter().chain(callers).copied().collect()
        };
        assert_eq!(
            CapabilityChecks::judge(&with(&["capable_wrt_inode_uidgid", "chown_ok"])),
            (true, Some("chown_ok"))
        );
        assert!(!CapabilityChecks::judge(&with(&["ns_capable_noaudit", "x"])).0);
        assert!(!CapabilityChecks::judge(&with(&["has_capability_noaudit"])).0);
        assert!(!CapabilityChecks::judge(&with(&["cap_vm_enough_memory", "mmap_region"])).0);
        assert!(
            !CapabilityChecks::judge(&with(&[
                "__ptrace_may_access",
                "ptrace_may_access",
                "do_task_stat"
            ]))
            .0
        );
        assert!(CapabilityChecks::judge(&with(&["__ptrace_may_access", "ptrace_attach"])).0);
        assert_eq!(
            CapabilityChecks::judge(&with(&["ns_capable"])),
            (true, Some("ns_capable"))
        );
        // Unnamed frames: every check counts.
        assert_eq!(CapabilityChecks::judge(&[]), (true, None));

        let mut checks = CapabilityChecks::default();
        checks.add(0, true, &with(&["chown_ok"]));
        checks.add(21, true, &with(&["ns_capable_noaudit"]));
        checks.add(12, false, &with(&["ns_capable", "sock_setsockopt"]));
        assert_eq!(checks.needed_mask(), 1);
        assert_eq!(checks.asked, BTreeSet::from([21]));
        assert_eq!(checks.refused.keys().copied().collect::<Vec<_>>(), [12]);
    }

    #[test]
    fn names_return_addresses() {
        let symbols = Kallsyms::parse(
            "ffffffff81000000 T _stext\nffffffff81370070 T ns_capable_noaudit\n\
             ffffffff81370180 T has_ns_capability\nffffffff81400000 D some_data\n0000000000000000 T hidden\n",
        );
        assert_eq!(symbols.name(0xffffffff81370075), Some("ns_capable_noaudit"));
        assert_eq!(symbols.name(0xffffffff81370180), Some("has_ns_capability"));
        assert_eq!(symbols.name(0xffffffff81370200), Some("has_ns_capability"));
        // Far past the last symbol (the BPF JIT region): not named after it.
        assert_eq!(symbols.name(0xffffffffc0028304), None);
        assert_eq!(symbols.name(0x10), None);
        assert!(Kallsyms::parse("0000000000000000 T hidden\n").is_empty());
    }
}
