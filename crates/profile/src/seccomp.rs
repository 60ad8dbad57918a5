//! The seccomp profile in Docker's JSON format, written from a [`WorkloadProfile`]; the allow-all
//! profile a container is recorded under; `--compare` against Docker's default; and reading a
//! names-only profile back for `--enforce`.
//!
//! The written profile: `defaultAction: SCMP_ACT_ERRNO` with `defaultErrnoRet: 1` (EPERM), the
//! architecture with its sub-architectures (as Docker's default lists them), one `SCMP_ACT_ALLOW`
//! rule with the recorded names, and one rule that answers `clone3` with ENOSYS. That last rule is
//! Docker's own choice (moby#42680): seccomp cannot look into clone3's argument structure, so a
//! profile that wants namespace creation filtered must refuse it, and it must refuse it with ENOSYS,
//! which makes glibc and musl fall back to `clone`; EPERM would make thread creation fail. When the
//! workload was seen calling clone3, `clone` is allowed in its place, as the fallback it will take.
//! The way out ([`WAY_OUT`]) is allowed whether or not it was seen.

use std::collections::BTreeSet;

use leastpriv_model::WorkloadProfile;
use serde::{Deserialize, Serialize};

use crate::docker_default;
use crate::syscalls::Arch;
use crate::ProfileError;

/// ENOSYS, for clone3.
const ENOSYS: u16 = 38;

/// Allowed in every written filter, seen or not: the workload's way out. A recording usually ends
/// before the workload does, so its `exit_group` is not seen, yet without it a process cannot end
/// (glibc then loops on `exit`, which ends one thread); and a signal handler cannot return without
/// `rt_sigreturn`, though no recorded run may have been signalled (a `docker stop` of a service
/// that handles SIGTERM is). None of them gives the process anything.
pub const WAY_OUT: [&str; 3] = ["exit", "exit_group", "rt_sigreturn"];

/// A profile in Docker's format (the subset leastpriv writes and reads).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DockerSeccomp {
    /// `SCMP_ACT_ERRNO` (or `SCMP_ACT_ALLOW` for the recording profile).
    pub default_action: String,
    /// The errno of the default action.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_errno_ret: Option<u16>,
    /// `SCMP_ARCH_*`.
    #[serde(default)]
    pub architectures: Vec<String>,
    /// The rules.
    #[serde(default)]
    pub syscalls: Vec<Rule>,
}

/// One rule: names and an action (argument filters and conditions are not written).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Rule {
    /// Syscall names.
    #[serde(default)]
    pub names: Vec<String>,
    /// `SCMP_ACT_ALLOW`, `SCMP_ACT_ERRNO` …
    pub action: String,
    /// The errno of an `SCMP_ACT_ERRNO` rule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errno_ret: Option<u16>,
    /// Argument filters: a rule that has them is not read by `--enforce`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<serde_json::Value>,
}

/// The seccomp profile that allows exactly what the workload was seen to need.
pub fn from_profile(profile: &WorkloadProfile) -> Result<DockerSeccomp, ProfileError> {
    let arch = Arch::from_name(&profile.run.arch).ok_or_else(|| {
        ProfileError::Usage(format!(
            "the profile's architecture `{}` has no syscall table here (x86_64, aarch64)",
            profile.run.arch
        ))
    })?;
    // Names the table does not know (`syscall_N`, a number newer than leastpriv's table) cannot be
    // written: Docker would refuse the profile. runc answers syscalls newer than any in the profile
    // with ENOSYS, so libc falls back as it would on an older kernel.
    let known: BTreeSet<&str> = (0..1024).filter_map(|nr| arch.syscall_name(nr)).collect();
    let mut allowed: BTreeSet<String> = profile
        .syscalls
        .iter()
        .filter(|name| known.contains(name.as_str()))
        .cloned()
        .collect();
    if allowed.remove("clone3") {
        allowed.insert("clone".to_owned());
    }
    allowed.extend(
        WAY_OUT
            .iter()
            .filter(|name| known.contains(*name))
            .map(|name| (*name).to_owned()),
    );
    Ok(DockerSeccomp {
        default_action: "SCMP_ACT_ERRNO".to_owned(),
        default_errno_ret: Some(1),
        architectures: arch
            .seccomp_architectures()
            .iter()
            .map(|name| (*name).to_owned())
            .collect(),
        syscalls: vec![
            Rule {
                names: allowed.into_iter().collect(),
                action: "SCMP_ACT_ALLOW".to_owned(),
                errno_ret: None,
                args: Vec::new(),
            },
            Rule {
                names: vec!["clone3".to_owned()],
                action: "SCMP_ACT_ERRNO".to_owned(),
                errno_ret: Some(ENOSYS),
                args: Vec::new(),
            },
        ],
    })
}

/// The profile a container is recorded under: it blocks nothing, but it makes runc load a filter,
/// which is the moment the eBPF recorder starts counting.
pub fn allow_all(arch: Arch) -> DockerSeccomp {
    DockerSeccomp {
        default_action: "SCMP_ACT_ALLOW".to_owned(),
        default_errno_ret: None,
        architectures: arch
            .seccomp_architectures()
            .iter()
            .map(|name| (*name).to_owned())
            .collect(),
        syscalls: Vec::new(),
    }
}

/// The syscalls a profile lets through, against Docker's default profile.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Comparison {
    /// Allowed here, blocked by Docker's default (for a container with the default capabilities).
    pub allowed_beyond_default: Vec<String>,
    /// Allowed here where Docker's default filters the arguments (socket, personality, clone).
    pub argument_filters_dropped: Vec<String>,
    /// How many syscalls of the architecture's table Docker's default allows.
    pub default_allows: usize,
    /// How many of those this profile removes.
    pub removed_from_default: usize,
    /// How many this profile allows.
    pub profile_allows: usize,
}

/// Compares the allowed set of `profile` (`--compare`).
pub fn compare(profile: &WorkloadProfile) -> Result<Comparison, ProfileError> {
    let seccomp = from_profile(profile)?;
    let arch = Arch::from_name(&profile.run.arch).unwrap_or(Arch::X86_64);
    let allowed: BTreeSet<&str> = seccomp
        .syscalls
        .iter()
        .filter(|rule| rule.action == "SCMP_ACT_ALLOW")
        .flat_map(|rule| rule.names.iter().map(String::as_str))
        .collect();
    let table: BTreeSet<&str> = (0..1024).filter_map(|nr| arch.syscall_name(nr)).collect();
    let default: BTreeSet<&str> = table
        .iter()
        .copied()
        .filter(|name| docker_default::allows(arch, name))
        .collect();
    Ok(Comparison {
        allowed_beyond_default: allowed
            .iter()
            .filter(|name| !docker_default::allows(arch, name))
            .map(|name| (*name).to_owned())
            .collect(),
        argument_filters_dropped: allowed
            .iter()
            .filter(|name| docker_default::filters_arguments(name))
            .map(|name| (*name).to_owned())
            .collect(),
        default_allows: default.len(),
        removed_from_default: default.difference(&allowed).count(),
        profile_allows: allowed.len(),
    })
}

/// Reads a profile for `--enforce`: each rule's names and action; a rule with argument filters is
/// an error (enforcing it without them would allow more than it says).
pub fn parse(text: &str) -> Result<DockerSeccomp, ProfileError> {
    let profile: DockerSeccomp = serde_json::from_str(text)
        .map_err(|error| ProfileError::Usage(format!("not a Docker seccomp profile: {error}")))?;
    if profile.syscalls.iter().any(|rule| !rule.args.is_empty()) {
        return Err(ProfileError::Usage(
            "--enforce reads names-only profiles (as leastpriv writes them); this one filters arguments"
                .into(),
        ));
    }
    Ok(profile)
}

/// A Docker action as a seccomp return value.
pub(crate) fn action_value(action: &str, errno: Option<u16>) -> Result<u32, ProfileError> {
    match action {
        "SCMP_ACT_ALLOW" => Ok(crate::filter::RET_ALLOW),
        "SCMP_ACT_ERRNO" => Ok(crate::filter::ret_errno(errno.unwrap_or(1))),
        "SCMP_ACT_KILL" | "SCMP_ACT_KILL_THREAD" => Ok(0),
        "SCMP_ACT_KILL_PROCESS" => Ok(0x8000_0000),
        "SCMP_ACT_LOG" => Ok(0x7ffc_0000),
        other => Err(ProfileError::Usage(format!(
            "--enforce does not know the action `{other}`"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use leastpriv_model::ProfileRun;

    fn profile(syscalls: &[&str]) -> WorkloadProfile {
        WorkloadProfile {
            schema: 1,
            syscalls: syscalls.iter().map(|name| (*name).to_owned()).collect(),
            run: ProfileRun {
                arch: "x86_64".into(),
                ..ProfileRun::default()
            },
            ..WorkloadProfile::default()
        }
    }

    #[test]
    fn writes_dockers_format_with_clone3_as_enosys() {
        let seccomp =
            from_profile(&profile(&["read", "clone3", "execve", "syscall_999"])).expect("writes");
        let json = serde_json::to_value(&seccomp).expect("serializes");
        assert_eq!(json["defaultAction"], "SCMP_ACT_ERRNO");
        assert_eq!(json["defaultErrnoRet"], 1);
        assert_eq!(
            json["architectures"],
            serde_json::json!(["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"])
        );
        assert_eq!(
            json["syscalls"][0]["names"],
            serde_json::json!([
                "clone",
                "execve",
                "exit",
                "exit_group",
                "read",
                "rt_sigreturn"
            ])
        );
        assert_eq!(json["syscalls"][1]["names"], serde_json::json!(["clone3"]));
        assert_eq!(json["syscalls"][1]["errnoRet"], 38);
        let back = parse(&serde_json::to_string(&seccomp).expect("text")).expect("reads");
        assert_eq!(back, seccomp);
    }

    #[test]
    fn compares_with_dockers_default() {
        let comparison =
            compare(&profile(&["read", "write", "mount", "socket"])).expect("compares");
        assert_eq!(comparison.allowed_beyond_default, ["mount"]);
        assert_eq!(comparison.argument_filters_dropped, ["socket"]);
        // The four seen and the way out, which Docker's default allows too.
        assert_eq!(comparison.profile_allows, 4 + WAY_OUT.len());
        assert_eq!(
            comparison.removed_from_default,
            comparison.default_allows - 3 - WAY_OUT.len()
        );
        assert!(comparison.default_allows > 250, "{comparison:?}");
    }

    #[test]
    fn refuses_argument_filters_for_enforce() {
        let text = r#"{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["socket"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":1,"op":"SCMP_CMP_EQ"}]}]}"#;
        assert!(parse(text).is_err());
        assert!(parse("{").is_err());
    }
}
