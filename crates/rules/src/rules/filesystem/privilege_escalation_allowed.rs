use leastpriv_model::{Capability, Container, Remedy, SourceKind};

use crate::engine::Checker;
use crate::helpers::runtime::{fix_for, privileged_at, COVERED_BY_PRIVILEGED};
use crate::rule::Check;

crate::declare_rule! {
    /// ## What it does
    /// Flags a container that allows its processes to gain privileges through `execve`: no
    /// `no-new-privileges` (Compose `security_opt: [no-new-privileges:true]`, `docker run
    /// --security-opt no-new-privileges`), or `no-new-privileges:false`; in Kubernetes,
    /// `allowPrivilegeEscalation` unset (it defaults to `true`) or `true`.
    ///
    /// A privileged container, or a Kubernetes container that adds `SYS_ADMIN`, is still reported,
    /// related to that setting: it stays when that setting goes. The Kubernetes API rejects
    /// `allowPrivilegeEscalation: false` beside `privileged: true` or an added `SYS_ADMIN`, so the fix
    /// there removes that first.
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
    // The settings that cover the finding today, and that the Kubernetes API refuses beside
    // `allowPrivilegeEscalation: false`.
    let sys_admin = runtime
        .cap_add
        .iter()
        .find(|cap| cap.value == Capability::All || cap.value.name() == "SYS_ADMIN");
    let blocker = match (privileged_at(runtime), sys_admin) {
        (Some(span), _) => Some((span, "`privileged: true`")),
        (None, Some(cap)) if kubernetes => Some((cap.span, "the added `SYS_ADMIN`")),
        (None, _) => None,
    };
    let kubernetes_fix = match blocker {
        Some((_, setting)) => format!(
            "remove {setting} (the API refuses `allowPrivilegeEscalation: false` beside it), then set `securityContext.allowPrivilegeEscalation: false`"
        ),
        None => "set `securityContext.allowPrivilegeEscalation: false`".to_owned(),
    };
    let fix = fix_for(
        container,
        "add `security_opt: [\"no-new-privileges:true\"]`",
        &kubernetes_fix,
        "add `--security-opt no-new-privileges`",
    );
    let diagnostic = checker
        .report(span, message)
        .fix(fix)
        .remedy(Remedy::SetNoNewPrivileges);
    if let Some((span, setting)) = blocker {
        let note = if privileged_at(runtime).is_some() {
            COVERED_BY_PRIVILEGED.to_owned()
        } else {
            format!("{setting} keeps the flag off; removing it leaves this finding")
        };
        diagnostic.related(span, note);
    }
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
    fn stands_on_its_own_beside_privileged_and_sys_admin() {
        let source = Source::new();
        let privileged = Runtime {
            privileged: Some(source.at(2, true)),
            no_new_privileges: Some(source.at(5, false)),
            ..Runtime::default()
        };
        let found = source.run(
            "LP501",
            &[source.container(SourceKind::Kubernetes, privileged)],
        );
        assert_eq!((found[0].line, found[0].related.as_slice()), (5, &[2][..]));
        assert!(
            found[0].fix.starts_with("Remove `privileged: true`"),
            "{}",
            found[0].fix
        );
        let sys_admin = Runtime {
            cap_add: vec![source.at(2, Capability::parse("SYS_ADMIN"))],
            ..Runtime::default()
        };
        let found = source.run(
            "LP501",
            &[source.container(SourceKind::Kubernetes, sys_admin.clone())],
        );
        assert_eq!((found[0].line, found[0].related.as_slice()), (1, &[2][..]));
        assert!(found[0].fix.contains("`SYS_ADMIN`"), "{}", found[0].fix);
        // Docker accepts `no-new-privileges` beside `SYS_ADMIN`: nothing to relate.
        let found = source.run("LP501", &[source.container(SourceKind::Compose, sys_admin)]);
        assert_eq!((found[0].line, found[0].related.len()), (1, 0));
    }
}
