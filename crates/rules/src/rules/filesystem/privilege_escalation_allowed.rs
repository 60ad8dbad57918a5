use leastpriv_model::{Container, Remedy, SourceKind};

use crate::engine::Checker;
use crate::helpers::runtime::{adds_capability, fix_for, is_privileged};
use crate::rule::Check;

crate::declare_rule! {
    /// ## What it does
    /// Flags a container that allows its processes to gain privileges through `execve`: no
    /// `no-new-privileges` (Compose `security_opt: [no-new-privileges:true]`, `docker run
    /// --security-opt no-new-privileges`), or `no-new-privileges:false`; in Kubernetes,
    /// `allowPrivilegeEscalation` unset (it defaults to `true`) or `true`.
    ///
    /// Privileged containers, and Kubernetes containers that add `SYS_ADMIN` (where the API rejects
    /// `allowPrivilegeEscalation: false`), are left to the rules that flag those.
    ///
    /// ## Why is this bad?
    /// Without the kernel's `no_new_privs` flag, running a setuid-root binary (`su`, `sudo`, `mount`,
    /// `passwd`, or one an intruder managed to plant) or a binary with file capabilities gives a
    /// non-root process root or capabilities. With it, `execve` never adds privilege: the user the
    /// container starts as is the most it can be.
    ///
    /// ## Example
    /// ```yaml
    /// services:
    ///   app:
    ///     image: example/app
    ///     user: "10001"
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// services:
    ///   app:
    ///     image: example/app
    ///     user: "10001"
    ///     security_opt: ["no-new-privileges:true"]
    /// ```
    ///
    /// ## Known problems
    /// A daemon started with `--no-new-privileges` (or `"no-new-privileges": true` in `daemon.json`)
    /// sets it for every container; leastpriv does not see the daemon's configuration here.
    /// Entrypoints that switch user with `gosu`/`su-exec` still work: they start as root and drop.
    ///
    /// ## Equivalents
    /// trivy KSV-0001 · checkov CKV_K8S_20, CKV_K8S_5 · KICS compose 27fcc7d6 · CIS Docker Benchmark
    /// 5.26 (and 2.14 for the daemon) · Pod Security Standards restricted "Privilege Escalation" ·
    /// polaris privilegeEscalationAllowed
    pub(crate) static META = {
        name: "privilege-escalation-allowed",
        layer: Filesystem,
        severity: Medium,
        fix: "Set `no-new-privileges` (`allowPrivilegeEscalation: false` in Kubernetes)",
        pss: Restricted,
    };
}

pub(crate) const CHECK: Check = Check::Container(check);

fn check(checker: &mut Checker<'_>, container: &Container) {
    let Some(runtime) = &container.runtime else {
        return;
    };
    let kubernetes = container.kind == SourceKind::Kubernetes;
    if is_privileged(runtime) || (kubernetes && adds_capability(runtime, "SYS_ADMIN")) {
        return;
    }
    let (span, message) = match &runtime.no_new_privileges {
        Some(flag) if flag.value => return,
        Some(flag) if kubernetes => (
            flag.span,
            "`allowPrivilegeEscalation` is `true`: setuid binaries and file capabilities can raise the process's privileges",
        ),
        Some(flag) => (
            flag.span,
            "`no-new-privileges` is `false`: setuid binaries and file capabilities can raise the process's privileges",
        ),
        None if kubernetes => (
            container.origin,
            "`allowPrivilegeEscalation` is not `false` (it defaults to `true`): setuid binaries and file capabilities can raise the process's privileges",
        ),
        None => (
            container.origin,
            "`no-new-privileges` is not set: setuid binaries and file capabilities can raise the process's privileges",
        ),
    };
    let fix = fix_for(
        container,
        "add `security_opt: [\"no-new-privileges:true\"]`",
        "set `securityContext.allowPrivilegeEscalation: false`",
        "add `--security-opt no-new-privileges`",
    );
    checker
        .report(span, message)
        .fix(fix)
        .remedy(Remedy::SetNoNewPrivileges);
}

#[cfg(test)]
mod tests {
    use leastpriv_model::{Capability, Runtime, SourceKind};

    use crate::testing::Source;
    use crate::PssLevel;

    #[test]
    fn fires_unless_set_true() {
        let source = Source::new();
        let found = source.run(
            "LP501",
            &[source.container(SourceKind::Compose, Runtime::default())],
        );
        assert_eq!(found[0].line, 1);
        assert_eq!(found[0].pss, Some(PssLevel::Restricted));
        assert!(found[0].fix.contains("no-new-privileges:true"));

        let explicit_false = Runtime {
            no_new_privileges: Some(source.at(4, false)),
            ..Runtime::default()
        };
        assert_eq!(
            source.lines("LP501", SourceKind::Compose, explicit_false),
            [4]
        );
        let set = Runtime {
            no_new_privileges: Some(source.at(4, true)),
            ..Runtime::default()
        };
        assert!(source
            .lines("LP501", SourceKind::Kubernetes, set)
            .is_empty());
    }

    #[test]
    fn leaves_privileged_and_sys_admin_pods_to_their_rules() {
        let source = Source::new();
        let privileged = Runtime {
            privileged: Some(source.at(2, true)),
            ..Runtime::default()
        };
        assert!(source
            .lines("LP501", SourceKind::Compose, privileged)
            .is_empty());
        let sys_admin = Runtime {
            cap_add: vec![source.at(2, Capability::parse("SYS_ADMIN"))],
            ..Runtime::default()
        };
        assert!(source
            .lines("LP501", SourceKind::Kubernetes, sys_admin.clone())
            .is_empty());
        assert_eq!(source.lines("LP501", SourceKind::Compose, sys_admin), [1]);
    }
}
