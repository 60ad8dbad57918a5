use leastpriv_model::{Confinement, Container, LsmProfile, Remedy};

use crate::engine::Checker;
use crate::helpers::runtime::fix_for;
use crate::rule::Check;

crate::declare_rule! {
    /// ## What it does
    /// Flags a container whose AppArmor profile is turned off: Compose `security_opt:
    /// [apparmor:unconfined]` (or `apparmor=unconfined`), `docker run --security-opt
    /// apparmor=unconfined`, Kubernetes `appArmorProfile.type: Unconfined` or the legacy annotation
    /// `container.apparmor.security.beta.kubernetes.io/<name>: unconfined`.
    ///
    /// ## Why is this bad?
    /// On AppArmor hosts (Ubuntu, Debian, SUSE), Docker's `docker-default` profile denies `mount`,
    /// writes to `/proc/sys`, `/proc/sysrq-trigger` and most of `/sys`, and reads of `/proc/kcore`:
    /// the steps most container escapes need once a capability or a kernel bug opens the door.
    /// Unconfined removes that second line.
    ///
    /// ## Example
    /// ```yaml
    /// services:
    ///   app:
    ///     image: example/app
    ///     security_opt: ["apparmor:unconfined"]
    /// ```
    ///
    /// Use instead: remove the option (`docker-default` applies), or load a profile of your own and
    /// name it: `security_opt: ["apparmor:app-profile"]`.
    ///
    /// ## Equivalents
    /// trivy KSV-0002 (legacy annotation only) · CIS Docker Benchmark 5.2 · Pod Security Standards
    /// baseline "AppArmor" · checkov has no AppArmor check
    pub(crate) static META = {
        name: "apparmor-unconfined",
        layer: Confinement,
        severity: Medium,
        fix: "Remove `apparmor=unconfined`; use the runtime's default AppArmor profile or a named one",
        pss: Baseline,
    };
}

pub(crate) const CHECK: Check = Check::Container(check);

fn check(checker: &mut Checker<'_>, container: &Container) {
    let Some(runtime) = &container.runtime else {
        return;
    };
    let Some(profile) = runtime
        .apparmor
        .as_ref()
        .filter(|profile| profile.value == LsmProfile::Unconfined)
    else {
        return;
    };
    let fix = fix_for(
        container,
        "remove `apparmor:unconfined` from `security_opt` (`docker-default` then applies)",
        "set `securityContext.appArmorProfile.type: RuntimeDefault`",
        "remove `--security-opt apparmor=unconfined` (`docker-default` then applies)",
    );
    checker
        .report(
            profile.span,
            "AppArmor is unconfined: nothing stops `mount`, writes to `/proc/sys` and `/sys`, the usual next steps of an escape",
        )
        .fix(fix)
        .remedy(Remedy::RestoreConfinement(Confinement::AppArmor));
}

#[cfg(test)]
mod tests {
    use leastpriv_model::{LsmProfile, Runtime, SourceKind};

    use crate::testing::Source;

    #[test]
    fn fires_on_unconfined_only() {
        let source = Source::new();
        let runtime = |profile| Runtime {
            apparmor: Some(source.at(2, profile)),
            ..Runtime::default()
        };
        assert_eq!(
            source.lines(
                "LP404",
                SourceKind::Kubernetes,
                runtime(LsmProfile::Unconfined)
            ),
            [2]
        );
        for quiet in [
            LsmProfile::RuntimeDefault,
            LsmProfile::Named("custom".into()),
        ] {
            assert!(source
                .lines("LP404", SourceKind::Kubernetes, runtime(quiet))
                .is_empty());
        }
    }
}
