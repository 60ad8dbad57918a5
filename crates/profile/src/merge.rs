//! `--merge A.json B.json …`: one profile that allows what any of the runs needed.
//!
//! Syscalls, capabilities, paths and ports are united; the runs' facts are kept where they agree
//! (command, image, service, arch) and summed where they add up (duration, runs). What any run could
//! not observe stays unobserved in the union. Profiles of different architectures cannot be merged:
//! their syscall names come from different tables.

use std::collections::BTreeSet;

use leastpriv_model::{ProfileRun, WorkloadProfile, PROFILE_SCHEMA};

use crate::ProfileError;

/// Unites `profiles` (at least one).
pub fn merge(profiles: &[WorkloadProfile]) -> Result<WorkloadProfile, ProfileError> {
    let first = profiles
        .first()
        .ok_or_else(|| ProfileError::Usage("--merge needs at least one profile".into()))?;
    if let Some(other) = profiles
        .iter()
        .find(|profile| profile.run.arch != first.run.arch)
    {
        return Err(ProfileError::Usage(format!(
            "cannot merge profiles of different architectures ({} and {})",
            first.run.arch, other.run.arch
        )));
    }
    let union = |field: fn(&WorkloadProfile) -> &Vec<String>| -> Vec<String> {
        profiles
            .iter()
            .flat_map(|profile| field(profile).iter().cloned())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect()
    };
    let agreed = |field: fn(&ProfileRun) -> Option<&String>| -> Option<String> {
        let values: BTreeSet<Option<&String>> =
            profiles.iter().map(|profile| field(&profile.run)).collect();
        (values.len() == 1)
            .then(|| values.into_iter().next().flatten().cloned())
            .flatten()
    };
    let recorders: BTreeSet<&str> = profiles
        .iter()
        .flat_map(|profile| profile.run.recorder.split(','))
        .filter(|name| !name.is_empty())
        .collect();
    let commands: BTreeSet<&Vec<String>> = profiles
        .iter()
        .map(|profile| &profile.run.command)
        .collect();
    Ok(WorkloadProfile {
        schema: PROFILE_SCHEMA,
        syscalls: union(|profile| &profile.syscalls),
        capabilities: union(|profile| &profile.capabilities),
        written_paths: union(|profile| &profile.written_paths),
        ports: profiles
            .iter()
            .flat_map(|profile| profile.ports.iter().cloned())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect(),
        seccomp_profile: None,
        run: ProfileRun {
            command: if commands.len() == 1 {
                first.run.command.clone()
            } else {
                Vec::new()
            },
            image: agreed(|run| run.image.as_ref()),
            service: agreed(|run| run.service.as_ref()),
            duration_ms: profiles.iter().map(|profile| profile.run.duration_ms).sum(),
            arch: first.run.arch.clone(),
            recorder: recorders.into_iter().collect::<Vec<_>>().join(","),
            runs: profiles.iter().map(|profile| profile.run.runs.max(1)).sum(),
            not_observed: union(|profile| &profile.run.not_observed),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use leastpriv_model::ProfilePort;

    fn profile(syscalls: &[&str], recorder: &str, image: &str) -> WorkloadProfile {
        WorkloadProfile {
            schema: 1,
            syscalls: syscalls.iter().map(|name| (*name).to_owned()).collect(),
            capabilities: vec!["CAP_CHOWN".into()],
            ports: vec![ProfilePort {
                port: 80,
                protocol: "tcp".into(),
            }],
            run: ProfileRun {
                command: vec!["docker".into(), "run".into(), image.into()],
                image: Some(image.into()),
                arch: "x86_64".into(),
                recorder: recorder.into(),
                runs: 1,
                duration_ms: 10,
                ..ProfileRun::default()
            },
            ..WorkloadProfile::default()
        }
    }

    #[test]
    fn unites_runs() {
        let merged = merge(&[
            profile(&["read", "write"], "ebpf", "app:1"),
            profile(&["read", "openat"], "seccomp-notify", "app:1"),
        ])
        .expect("merges");
        assert_eq!(merged.syscalls, ["openat", "read", "write"]);
        assert_eq!(merged.capabilities, ["CAP_CHOWN"]);
        assert_eq!(merged.ports.len(), 1);
        assert_eq!(merged.run.runs, 2);
        assert_eq!(merged.run.duration_ms, 20);
        assert_eq!(merged.run.recorder, "ebpf,seccomp-notify");
        assert_eq!(merged.run.image.as_deref(), Some("app:1"));

        let other = merge(&[profile(&[], "ebpf", "a"), profile(&[], "ebpf", "b")]).expect("merges");
        assert_eq!(other.run.image, None);
        assert!(other.run.command.is_empty());
    }

    #[test]
    fn refuses_mixed_architectures() {
        let mut arm = profile(&["read"], "ebpf", "a");
        arm.run.arch = "aarch64".into();
        assert!(merge(&[profile(&["read"], "ebpf", "a"), arm]).is_err());
        assert!(merge(&[]).is_err());
    }
}
