use leastpriv_model::{is_root_group, Certainty, Container, Span, Spanned, User};

use crate::engine::Checker;
use crate::helpers::runtime::fix_for;
use crate::rule::Check;
use crate::Diagnostic;

crate::declare_rule! {
    /// ## What it does
    /// Flags a process that is not known to be root but runs in group root: Compose `user:
    /// "1000:0"`, `docker run --user 1000:root`, Kubernetes `runAsGroup: 0`; and supplementary group 0
    /// (Compose `group_add`, `docker run --group-add`, Kubernetes `supplementalGroups` or `fsGroup`);
    /// and a built image whose configured user is in group root, by number (`0`, `+0`) or by a
    /// name the image's own `/etc/group` gives gid 0. A root user is `root-user`'s finding; a group setting of its own beside it (`runAsGroup: 0`,
    /// `group_add: ["0"]`) is still reported, because it stays when the user changes.
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
        image_group(checker, container);
        return;
    };
    let user = runtime.user.as_ref();
    let root_user = user.filter(|user| user.value.is_root() == Certainty::Yes);
    let primary: Option<(Span, String)> = match user {
        Some(user) if user.value.group_is_root() == Certainty::Yes => {
            // Kubernetes folds `runAsGroup` into the user: point at `runAsGroup` itself.
            let group = runtime
                .run_as_group
                .as_ref()
                .filter(|group| is_root_group(&group.value))
                .map(|group| group.span);
            let message = format!("container runs in group root (`{}`)", user.value);
            match group {
                Some(span) => Some((span, message)),
                // `user: "0:0"` is one setting: `root-user`'s finding.
                None if root_user.is_some() => None,
                None => Some((user.span, message)),
            }
        }
        Some(_) => None,
        None => runtime
            .run_as_group
            .as_ref()
            .filter(|group| is_root_group(&group.value))
            .map(|group| {
                (
                    group.span,
                    "container runs in group root (`runAsGroup: 0`)".to_owned(),
                )
            }),
    };
    if let Some((span, message)) = primary {
        let fix = fix_for(
            container,
            "set a non-root group: `user: \"10001:10001\"`",
            "set `runAsGroup` to a non-zero gid (and `fsGroup` if volumes need it)",
            "use `--user 10001:10001`",
        );
        let diagnostic = checker
            .report(
                span,
                format!("{message}: it reads and writes files owned by group 0"),
            )
            .fix(fix);
        relate_root_user(diagnostic, root_user);
    }
    for group in runtime
        .group_add
        .iter()
        .filter(|group| is_root_group(&group.value))
    {
        let fix = fix_for(
            container,
            "remove `0` from `group_add`",
            "remove `0` from `supplementalGroups` / `fsGroup`",
            "remove `--group-add 0`",
        );
        let diagnostic = checker
            .report(
                group.span,
                "container gets root as a supplementary group: it reads and writes files owned by group 0",
            )
            .fix(fix);
        relate_root_user(diagnostic, root_user);
    }
}

/// A built image whose configured user is not root but whose group is: by number or by a name the
/// image's own `/etc/group` gives gid 0.
fn image_group(checker: &mut Checker<'_>, container: &Container) {
    let Some(image) = &container.image else {
        return;
    };
    let Some(user) = &image.user else {
        return;
    };
    if image.is_root(&user.value) != Certainty::No
        || image.group_is_root(&user.value) != Certainty::Yes
    {
        return;
    }
    checker
        .report(
            user.span,
            format!(
                "image runs in group root (`{}`): it reads and writes files owned by group 0",
                user.value
            ),
        )
        .fix("Set a non-root group in the image: `USER 10001:10001`");
}

/// Relates a group finding to the root user that covers it today.
fn relate_root_user(diagnostic: &mut Diagnostic, root_user: Option<&Spanned<User>>) {
    if let Some(user) = root_user {
        diagnostic.related(
            user.span,
            "the user is root too (`root-user`); the group stays when the user changes",
        );
    }
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

    #[test]
    fn points_at_run_as_group_and_supplementary_groups() {
        let source = Source::new();
        let folded = Runtime {
            user: Some(source.at(2, User::from_ids(1000, Some(0)))),
            run_as_group: Some(source.at(3, "0".to_owned())),
            group_add: vec![
                source.at(4, "0".to_owned()),
                source.at(5, "2000".to_owned()),
            ],
            ..Runtime::default()
        };
        assert_eq!(
            source.lines("LP223", SourceKind::Kubernetes, folded),
            [3, 4]
        );
        let group_only = Runtime {
            run_as_group: Some(source.at(3, "0".to_owned())),
            ..Runtime::default()
        };
        assert_eq!(
            source.lines("LP223", SourceKind::Kubernetes, group_only),
            [3]
        );
    }

    #[test]
    fn group_settings_of_their_own_stand_beside_a_root_user() {
        let source = Source::new();
        let root = Runtime {
            user: Some(source.at(2, User::from_ids(0, Some(0)))),
            run_as_group: Some(source.at(3, "0".to_owned())),
            group_add: vec![source.at(4, "0".to_owned())],
            ..Runtime::default()
        };
        let found = source.run("LP223", &[source.container(SourceKind::Kubernetes, root)]);
        let got: Vec<_> = found.iter().map(|f| (f.line, f.related.clone())).collect();
        assert_eq!(got, [(3, vec![2]), (4, vec![2])]);
    }
}
