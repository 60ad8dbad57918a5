//! seccomp profile files (the Docker/OCI JSON format), read into the facts rules judge.
//!
//! Rules never open files: a front-end that meets `seccomp=<file>` (Compose `security_opt`, `docker
//! run --security-opt`) reads the file with [`read_profile`], or parses the inline profile of `docker
//! inspect` with [`parse_profile`], and stores the result in `Runtime::seccomp_facts`. A profile that
//! is there but cannot be read or parsed becomes a located error at the reference, and the rest of
//! the input is still audited; one that is not there is left unjudged.
//!
//! What is kept is what decides how much the profile allows: the default action, and the syscalls
//! that entries allow or refuse *unconditionally*. An entry with argument filters, or one that applies
//! only when the container holds a capability (`includes.caps`), restricts rather than grants, so it
//! counts as neither.

use std::path::Path;

use leastpriv_source::read::{self, ReadError, ReadScope};

use leastpriv_model::{Runtime, SeccompFacts, SeccompProfile, Span};
use serde::Deserialize;

/// The largest profile read (Docker's default profile is about 20 KiB).
pub const MAX_PROFILE_BYTES: u64 = 4 * 1024 * 1024;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Profile {
    default_action: Option<String>,
    #[serde(default)]
    syscalls: Option<Vec<Entry>>,
}

#[derive(Deserialize)]
struct Entry {
    #[serde(default)]
    names: Option<Vec<String>>,
    /// The legacy single-name form.
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    action: Option<String>,
    #[serde(default)]
    args: Option<Vec<serde::de::IgnoredAny>>,
    #[serde(default)]
    includes: Option<Condition>,
}

#[derive(Deserialize)]
struct Condition {
    #[serde(default)]
    caps: Option<Vec<String>>,
}

/// Parses a profile's JSON text into its facts.
pub fn parse_profile(text: &str) -> Result<SeccompFacts, String> {
    let profile: Profile = serde_json::from_str(text)
        .map_err(|error| format!("seccomp profile is not valid JSON: {error}"))?;
    let default_action = profile
        .default_action
        .ok_or_else(|| "seccomp profile has no `defaultAction`".to_owned())?;
    let mut facts = SeccompFacts {
        default_action,
        ..SeccompFacts::default()
    };
    for entry in profile.syscalls.unwrap_or_default() {
        let conditional = entry.args.as_ref().is_some_and(|args| !args.is_empty())
            || entry
                .includes
                .as_ref()
                .and_then(|condition| condition.caps.as_ref())
                .is_some_and(|caps| !caps.is_empty());
        let Some(action) = entry.action.filter(|_| !conditional) else {
            continue;
        };
        let list = if SeccompFacts::is_allow_action(&action) {
            &mut facts.allowed
        } else {
            &mut facts.refused
        };
        list.extend(entry.names.unwrap_or_default());
        list.extend(entry.name);
    }
    for list in [&mut facts.allowed, &mut facts.refused] {
        list.sort_unstable();
        list.dedup();
    }
    Ok(facts)
}

/// Reads and parses the profile file at `path`, refusing files larger than [`MAX_PROFILE_BYTES`].
/// Only a regular file inside `scope` is read.
pub fn read_profile(path: &Path, scope: &ReadScope) -> Result<SeccompFacts, String> {
    let text = read::read_text(path, scope, MAX_PROFILE_BYTES)
        .map_err(|error| format!("cannot read seccomp profile `{}`: {error}", path.display()))?;
    parse_profile(&text).map_err(|error| format!("{error} (in `{}`)", path.display()))
}

/// Fills `runtime.seccomp_facts` from the profile `runtime.seccomp` names: a file, relative to
/// `base` when it is relative, or an inline JSON profile as `docker inspect` shows it. On failure
/// returns the message, located at the setting, for the front-end's errors. A file is read only
/// inside `scope`.
pub fn attach_facts(
    runtime: &mut Runtime,
    base: Option<&Path>,
    scope: &ReadScope,
) -> Result<(), (Span, String)> {
    let Some(setting) = &runtime.seccomp else {
        return Ok(());
    };
    let SeccompProfile::File(reference) = &setting.value else {
        return Ok(());
    };
    let reference = reference.trim();
    let facts = if reference.starts_with('{') {
        parse_profile(reference)
    } else if reference.is_empty() {
        return Ok(());
    } else {
        let path = Path::new(reference);
        let path = match base {
            Some(base) if path.is_relative() => base.join(path),
            _ => path.to_path_buf(),
        };
        // A profile that is not beside the configuration (audited alone, or kept elsewhere) leaves
        // the profile unjudged rather than the input unaudited.
        if matches!(scope.resolve(&path), Err(ReadError::NotFound)) {
            return Ok(());
        }
        read_profile(&path, scope)
    };
    match facts {
        Ok(facts) => {
            runtime.seccomp_facts = Some(facts);
            Ok(())
        }
        Err(message) => Err((setting.span, message)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_unconditional_entries_only() {
        let facts = parse_profile(
            r#"{
              "defaultAction": "SCMP_ACT_ERRNO",
              "defaultErrnoRet": 1,
              "archMap": [{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86"]}],
              "syscalls": [
                {"names": ["read", "write", "ptrace"], "action": "SCMP_ACT_ALLOW", "args": [],
                 "includes": {"minKernel": "4.8"}},
                {"names": ["personality"], "action": "SCMP_ACT_ALLOW",
                 "args": [{"index": 0, "value": 0, "op": "SCMP_CMP_EQ"}]},
                {"names": ["mount", "unshare"], "action": "SCMP_ACT_ALLOW",
                 "includes": {"caps": ["CAP_SYS_ADMIN"]}},
                {"name": "keyctl", "action": "SCMP_ACT_LOG"},
                {"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38}
              ]
            }"#,
        )
        .unwrap();
        assert_eq!(facts.default_action, "SCMP_ACT_ERRNO");
        assert_eq!(facts.allowed, ["keyctl", "ptrace", "read", "write"]);
        assert_eq!(facts.refused, ["clone3"]);
        assert!(!facts.allows("mount"));
        assert!(!facts.allows("personality"));
    }

    #[test]
    fn reads_a_denylist() {
        let facts = parse_profile(
            r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["reboot"], "action": "SCMP_ACT_KILL_PROCESS"}]}"#,
        )
        .unwrap();
        assert!(facts.default_allows());
        assert!(facts.allows("unshare"));
        assert!(!facts.allows("reboot"));
    }

    #[test]
    fn explains_what_is_wrong() {
        assert_eq!(
            parse_profile(r#"{"syscalls": []}"#).unwrap_err(),
            "seccomp profile has no `defaultAction`"
        );
        assert!(parse_profile("{")
            .unwrap_err()
            .starts_with("seccomp profile is not valid JSON"));
        let missing = read_profile(
            Path::new("/nonexistent/profile.json"),
            &ReadScope::anywhere(),
        )
        .unwrap_err();
        assert!(missing.starts_with("cannot read seccomp profile `/nonexistent/profile.json`"));
    }

    #[test]
    fn attaches_facts_from_a_file_or_inline_json() {
        use leastpriv_model::{Spanned, TextRange};
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("p.json"),
            r#"{"defaultAction": "SCMP_ACT_ALLOW"}"#,
        )
        .unwrap();
        let db = leastpriv_source::SourceDb::new();
        let span = Span::new(db.add("compose.yaml", "x"), TextRange::new(0, 1));
        let mut runtime = Runtime {
            seccomp: Some(Spanned::new(SeccompProfile::File("p.json".into()), span)),
            ..Runtime::default()
        };
        attach_facts(&mut runtime, Some(dir.path()), &ReadScope::anywhere()).unwrap();
        assert!(runtime.seccomp_facts.unwrap().default_allows());

        let mut inline = Runtime {
            seccomp: Some(Spanned::new(
                SeccompProfile::File(r#"{"defaultAction":"SCMP_ACT_ERRNO"}"#.into()),
                span,
            )),
            ..Runtime::default()
        };
        attach_facts(&mut inline, None, &ReadScope::default()).unwrap();
        assert_eq!(
            inline.seccomp_facts.unwrap().default_action,
            "SCMP_ACT_ERRNO"
        );

        let mut missing = Runtime {
            seccomp: Some(Spanned::new(
                SeccompProfile::File("absent.json".into()),
                span,
            )),
            ..Runtime::default()
        };
        attach_facts(&mut missing, Some(dir.path()), &ReadScope::anywhere()).unwrap();
        assert!(missing.seccomp_facts.is_none());

        std::fs::write(dir.path().join("broken.json"), "{").unwrap();
        let mut broken = Runtime {
            seccomp: Some(Spanned::new(
                SeccompProfile::File("broken.json".into()),
                span,
            )),
            ..Runtime::default()
        };
        let (at, message) =
            attach_facts(&mut broken, Some(dir.path()), &ReadScope::anywhere()).unwrap_err();
        assert_eq!(at, span);
        assert!(
            message.starts_with("seccomp profile is not valid JSON"),
            "{message}"
        );
    }

    #[test]
    fn refuses_oversized_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("huge.json");
        let padding = " ".repeat(usize::try_from(MAX_PROFILE_BYTES).unwrap() + 1);
        std::fs::write(
            &path,
            format!("{{\"defaultAction\": \"SCMP_ACT_ALLOW\"}}{padding}"),
        )
        .unwrap();
        let scope = ReadScope::anywhere();
        assert!(read_profile(&path, &scope)
            .unwrap_err()
            .contains("larger than 4 MiB"));
        let small = dir.path().join("small.json");
        std::fs::write(&small, r#"{"defaultAction": "SCMP_ACT_ERRNO"}"#).unwrap();
        assert_eq!(
            read_profile(&small, &scope).unwrap().default_action,
            "SCMP_ACT_ERRNO"
        );
    }
}
