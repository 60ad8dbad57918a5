use leastpriv_model::{Certainty, Container};

use crate::engine::Checker;
use crate::helpers::runtime::fix_for;
use crate::rule::Check;

crate::declare_rule! {
    /// ## What it does
    /// Flags a runtime user that is not root but whose group is: Compose `user: "1000:0"`, `docker
    /// run --user 1000:root`, Kubernetes `runAsGroup: 0` with a non-zero `runAsUser`. (A root user is
    /// `root-user`'s finding.)
    ///
    /// ## Why is this bad?
    /// Group 0 owns much of a typical filesystem with group read and sometimes write access; a process
    /// in group root reads and writes those files, and on a host mount it acts with gid 0 on the host.
    ///
    /// ## Example
    /// ```yaml
    /// services:
    ///   app:
    ///     image: example/app
    ///     user: "1000:0"
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// services:
    ///   app:
    ///     image: example/app
    ///     user: "10001:10001"
    /// ```
    ///
    /// ## Known problems
    /// OpenShift-style images are built for an arbitrary uid in group 0 (`chgrp -R 0 /app && chmod -R
    /// g=u /app`); there the group is deliberate. Suppress the finding with that reason.
    ///
    /// ## Equivalents
    /// trivy KSV-0116, KSV-0021 · kube-score container-security-context-user-group-id
    pub(crate) static META = {
        name: "root-group",
        layer: User,
        severity: Low,
        fix: "Run with a non-root group as well (`10001:10001`)",
    };
}

pub(crate) const CHECK: Check = Check::Container(check);

fn check(checker: &mut Checker<'_>, container: &Container) {
    let Some(runtime) = &container.runtime else {
        return;
    };
    let Some(user) = &runtime.user else {
        return;
    };
    if user.value.is_root() != Certainty::No || user.value.group_is_root() != Certainty::Yes {
        return;
    }
    let fix = fix_for(
        container,
        &format!(
            "set a non-root group: `user: \"{}:10001\"`",
            user.value.user
        ),
        "set `runAsGroup` to a non-zero gid (and `fsGroup` if volumes need it)",
        &format!("use `--user {}:10001`", user.value.user),
    );
    checker
        .report(
            user.span,
            format!(
                "container runs in group root (`{}`): it reads and writes files owned by group 0",
                user.value
            ),
        )
        .fix(fix);
}

#[cfg(test)]
mod tests {
    use leastpriv_model::{Runtime, SourceKind, User};

    use crate::testing::Source;

    #[test]
    fn fires_for_a_non_root_user_in_group_root() {
        let source = Source::new();
        let runtime = |user: User| Runtime {
            user: Some(source.at(2, user)),
            ..Runtime::default()
        };
        assert_eq!(
            source.lines("LP223", SourceKind::Compose, runtime(User::parse("1000:0"))),
            [2]
        );
        assert_eq!(
            source.lines(
                "LP223",
                SourceKind::Kubernetes,
                runtime(User::from_ids(1000, Some(0)))
            ),
            [2]
        );
        for quiet in [
            User::parse("1000:1000"),
            User::parse("0:0"),
            User::parse("1000"),
        ] {
            assert!(source
                .lines("LP223", SourceKind::Compose, runtime(quiet))
                .is_empty());
        }
    }
}
