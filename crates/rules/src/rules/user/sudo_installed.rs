use leastpriv_model::{Container, Remedy};

use crate::engine::Checker;
use crate::helpers::shell::{package_action, run_invocations, PackageAction};
use crate::rule::Check;

crate::declare_rule! {
    /// ## What it does
    /// Flags a package manager command that installs `sudo` (or `doas`) in a stage that reaches
    /// the image: `apt-get install sudo`, `apk add sudo`, `yum|dnf|microdnf install sudo`,
    /// `zypper install sudo`, `pacman -S sudo`. A later `RUN` that removes the package again
    /// (`apt-get purge sudo`, `apk del sudo`) clears it; a builder stage that does not reach the
    /// image is not reported.
    ///
    /// ## Why is this bad?
    /// `sudo` is a set-user-ID root program: whoever runs it talks to code running as root. With a
    /// sudoers grant it is a direct path from the container's user to root (see LP203); even
    /// without one, its parser is reachable by any local user, which is how CVE-2021-3156 (Baron
    /// Samedit) gave root to every user of an unpatched system. A container needs no privilege
    /// switching at run time: do the root work in `RUN` before `USER`, and start the process as its
    /// final user.
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM debian:bookworm
    /// RUN apt-get update && apt-get install -y --no-install-recommends sudo curl
    /// USER app
    /// ```
    ///
    /// Use instead:
    /// ```dockerfile
    /// FROM debian:bookworm
    /// RUN apt-get update && apt-get install -y --no-install-recommends curl
    /// USER 10001:10001
    /// ```
    /// An entrypoint that must start as root and step down uses `setpriv`, `gosu` or `su-exec`,
    /// which drop privileges and never raise them.
    ///
    /// ## Known problems
    /// Development images (VS Code dev containers, CI runners) install sudo on purpose; suppress
    /// the finding there with `# leastpriv: ignore[LP202] dev container`. A `sudo` brought by the
    /// base image is not in view of a Dockerfile; audit the built image for it.
    ///
    /// ## Equivalents
    /// hadolint DL3004 (flags `sudo` used in `RUN`, not installed) · trivy DS-0010 (same) ·
    /// checkov CKV2_DOCKER_1 (same) · KICS Run Using Sudo 8ada6e80 · dockle CIS-DI-0008 (setuid
    /// files, info) · CIS Docker Benchmark 4.3 (unnecessary packages) and 4.8 (setuid and setgid
    /// permissions)
    pub(crate) static META = {
        name: "sudo-installed",
        layer: User,
        severity: Medium,
        fix: "Do not install sudo: run root steps before `USER` and start the process as its final user",
    };
}

pub(crate) const CHECK: Check = Check::Container(check);

const PRIVILEGE_PROGRAMS: &[&str] = &["sudo", "doas", "opendoas", "sudo-ldap"];

fn check(checker: &mut Checker<'_>, container: &Container) {
    let Some(build) = &container.build else {
        return;
    };
    // Image stages, base first, so that a removal can be matched against an earlier install.
    let mut stages: Vec<_> = build.image_stages().collect();
    stages.reverse();
    let mut installs = Vec::new();
    for stage in stages {
        for run in &stage.runs {
            for invocation in run_invocations(run) {
                let Some((action, packages)) = package_action(&invocation) else {
                    continue;
                };
                for (name, word) in packages {
                    if !PRIVILEGE_PROGRAMS.contains(&name) {
                        continue;
                    }
                    match action {
                        PackageAction::Install => {
                            installs.push((name, word, invocation.name().to_owned()));
                        }
                        PackageAction::Remove => {
                            installs.retain(|(installed, _, _)| *installed != name);
                        }
                    }
                }
            }
        }
    }
    for (name, word, manager) in installs {
        checker
            .report(
                word.span,
                format!("`{name}` is installed in the image by `{manager}`: a setuid-root program that every user of the container can reach"),
            )
            .remedy(Remedy::RemoveInstruction);
    }
}

#[cfg(test)]
mod tests {
    use super::META;
    use crate::dockerfile_testing::findings;

    #[test]
    fn fires_on_every_package_manager() {
        // Modelled on datajoint__element-facemap/.devcontainer/Dockerfile and
        // jessfraz__dockerfiles/mpd/Dockerfile.
        let found = findings(
            &META,
            "FROM debian\n\
             RUN apt-get update && apt-get install -y --no-install-recommends curl sudo\n\
             RUN apk add --no-cache sudo=1.9.15-r0\n\
             RUN dnf install -y sudo-1.9.5\n\
             USER app\n",
        );
        assert_eq!(found.len(), 3, "{found:?}");
        assert!(
            found[0].starts_with("2: medium `sudo` is installed"),
            "{found:?}"
        );
    }

    #[test]
    fn stays_silent_on_builder_stages_removals_and_other_packages() {
        let found = findings(
            &META,
            "FROM debian AS build\n\
             RUN apt-get install -y sudo\n\
             FROM debian\n\
             RUN apt-get install -y sudoku pseudo && apt-get install -y sudo\n\
             RUN apt-get purge -y sudo\n\
             RUN echo sudo apt-get install sudo\n",
        );
        assert!(found.is_empty(), "{found:?}");
    }
}
