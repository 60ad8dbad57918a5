use leastpriv_model::{Certainty, Container, Remedy, SourceKind};

use crate::engine::Checker;
use crate::rule::Check;

crate::declare_rule! {
    /// ## What it does
    /// Flags a Dockerfile whose final `USER` is a non-root *name* (`USER app`) rather than a
    /// numeric uid (`USER 10001`). Root is LP201's finding; a user that expands to nothing known is
    /// not reported.
    ///
    /// ## Why is this bad?
    /// Kubernetes checks `runAsNonRoot: true` before it starts the container, from the image's
    /// `Config.User` alone: it cannot read `/etc/passwd`, so a name cannot be verified and the pod
    /// fails with "image has non-numeric user (app), cannot verify user is non-root". The common
    /// reaction is to drop `runAsNonRoot`, which removes the one guard that stops a later image
    /// from running as root. A numeric uid (and gid) also works without an `/etc/passwd` entry
    /// (distroless, scratch) and keeps file ownership the same on every host.
    ///
    /// ## Example
    /// ```dockerfile
    /// RUN useradd --system app
    /// USER app
    /// ```
    ///
    /// Use instead:
    /// ```dockerfile
    /// RUN useradd --system --uid 10001 app
    /// USER 10001:10001
    /// ```
    ///
    /// ## Equivalents
    /// hadolint DL3066 · trivy: none (KSV-0020/0021 check the uid's value in Kubernetes) ·
    /// checkov: none · CIS Docker Benchmark 4.1 · Kubernetes Pod Security Standards (restricted)
    /// `runAsNonRoot`
    pub(crate) static META = {
        name: "user-not-numeric",
        layer: User,
        severity: Info,
        fix: "Use a numeric uid:gid in `USER` (`USER 10001:10001`) so Kubernetes can verify `runAsNonRoot`",
    };
}

pub(crate) const CHECK: Check = Check::Container(check);

fn check(checker: &mut Checker<'_>, container: &Container) {
    if container.kind != SourceKind::Dockerfile {
        return;
    }
    let Some(user) = container
        .build
        .as_ref()
        .and_then(|build| build.final_user())
    else {
        return;
    };
    if user.value.is_root() != Certainty::No || user.value.is_numeric() {
        return;
    }
    // Windows accounts: Kubernetes sets them with `runAsUserName`, where names are the rule.
    let name = user.value.user.as_str();
    if name.eq_ignore_ascii_case("ContainerUser")
        || name.eq_ignore_ascii_case("ContainerAdministrator")
        || name.contains('\\')
    {
        return;
    }
    checker
        .report(
            user.span,
            format!(
                "`USER {}` is a name: Kubernetes cannot verify `runAsNonRoot` for it",
                user.value
            ),
        )
        .remedy(Remedy::SetNonRootUser);
}

#[cfg(test)]
mod tests {
    use super::META;
    use crate::dockerfile_testing::findings;

    #[test]
    fn fires_on_a_named_final_user() {
        let found = findings(&META, "FROM node:20\nUSER node\n");
        assert_eq!(
            found,
            ["2: info `USER node` is a name: Kubernetes cannot verify `runAsNonRoot` for it"]
        );
    }

    #[test]
    fn stays_silent_on_numeric_root_unknown_and_builder_users() {
        for dockerfile in [
            "FROM node:20\nUSER 1000\n",
            "FROM node:20\nUSER 1000:1000\n",
            "FROM node:20\nUSER root\n",
            "FROM node:20\nUSER $APP_UID\n",
            "FROM node:20 AS build\nUSER node\nFROM node:20\n",
            "FROM mcr.microsoft.com/windows/nanoserver:ltsc2022\nUSER ContainerUser\n",
        ] {
            let found = findings(&META, dockerfile);
            assert!(found.is_empty(), "{dockerfile}: {found:?}");
        }
    }
}
