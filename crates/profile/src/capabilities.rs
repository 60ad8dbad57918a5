//! Which capabilities the workload needs, learned by taking them away.
//!
//! The kernel decides capability checks in `cap_capable()`; a recorder would hook it (fexit, the BPF
//! LSM `capable` hook, a kprobe). The kernels leastpriv must run on include ones that allow none of
//! those (this project's machine: no kprobes, and trampoline and LSM programs refused with EPERM), and
//! a check is not a need anyway (programs probe and fall back; root passes DAC checks the mode bits
//! would have passed). So the recorded run is repeated with capabilities removed, and a capability is
//! needed when the workload does not behave as recorded without it — the same test a user makes with
//! `--cap-drop`:
//! 1. one trial with every capability the workload held removed: most hardened workloads need none,
//!    and that one extra run proves it;
//! 2. otherwise one trial per held capability, each removing only that one.
//!
//! "Behaves as recorded" is the same outcome: the exercise succeeds, and the workload ends as it did
//! (the same exit code, or still running when it was stopped). Trials run without recording. The
//! workload must be repeatable for this; `--capabilities skip` turns trials off (the profile then says
//! capabilities were not observed).

use leastpriv_model::ALL_CAPABILITIES;

use crate::ProfileError;

/// How a run of the workload ended, to compare trials with the recorded run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// The exercise passed (true when there was none).
    pub exercise_passed: bool,
    /// The exit code, or `None` when the workload was still running when it was stopped.
    pub exit_code: Option<i32>,
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
    mut trial: impl FnMut(u64) -> Result<Outcome, ProfileError>,
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
        let (needed, trials) = needed(0b1011, OK, |_| Ok(OK)).expect("runs");
        assert_eq!((needed, trials), (0, 1));
        assert_eq!(super::needed(0, OK, |_| Ok(FAILED)).expect("runs"), (0, 0));
    }

    #[test]
    fn finds_each_needed_capability() {
        // Bits 0 (CHOWN) and 10 (NET_BIND_SERVICE) are needed; 3 is not.
        let held = 1 | 1 << 3 | 1 << 10;
        let (found, trials) = needed(held, OK, |removed| {
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
}
