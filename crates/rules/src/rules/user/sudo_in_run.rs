use leastpriv_model::{Certainty, Container, Remedy};

use crate::engine::Checker;
use crate::helpers::build::user_at;
use crate::helpers::shell::{base_name, run_invocations};
use crate::rule::Check;

crate::declare_rule! {
    /// ## What it does
    /// Flags `sudo` (or `doas`) used in a `RUN` of a stage that reaches the image while the build
    /// runs as root (no `USER` yet, or `USER root`). After a non-root `USER`, the same command
    /// proves a passwordless grant and is reported by LP203 instead.
    ///
    /// ## Why is this bad?
    /// As root, `sudo` adds nothing but a dependency: it means a set-user-ID root program ships in
    /// the image for whoever runs there later, and it hides which user a step really runs as. Build
    /// steps that need root run before `USER`; steps that must not run as root run after it.
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM ubuntu:24.04
    /// RUN sudo apt-get update && sudo apt-get install -y curl
    /// ```
    ///
    /// Use instead:
    /// ```dockerfile
    /// FROM ubuntu:24.04
    /// RUN apt-get update && apt-get install -y curl
    /// ```
    ///
    /// ## Equivalents
    /// hadolint DL3004 · trivy DS-0010 · checkov CKV2_DOCKER_1 · KICS Run Using Sudo 8ada6e80 ·
    /// CIS Docker Benchmark 4.3 (unnecessary packages)
    pub(crate) static META = {
        name: "sudo-in-run",
        layer: User,
        severity: Low,
        fix: "Drop `sudo` from the `RUN`: steps before `USER` already run as root",
    };
}

pub(crate) const CHECK: Check = Check::Container(check);

fn check(checker: &mut Checker<'_>, container: &Container) {
    let Some(build) = &container.build else {
        return;
    };
    for stage in build.image_stages() {
        for run in &stage.runs {
            let as_root = user_at(build, stage, run.span.range.start)
                .is_none_or(|user| user.value.is_root() == Certainty::Yes);
            if !as_root {
                continue;
            }
            let found = run_invocations(run)
                .find_map(|invocation| invocation.sudo.map(|sudo| (sudo, invocation)));
            if let Some((sudo, invocation)) = found {
                let program = base_name(&sudo.value);
                let message = match target_user(&invocation) {
                    Some(target) => format!(
                        "`{program} -u {target}` drops from root to run `{}`: a `USER {target}` instruction (or `setpriv`, `gosu`) does it without shipping a setuid-root program",
                        invocation.name()
                    ),
                    None => format!(
                        "`{program}` runs `{}` while the build is already root: it only ships a setuid-root program in the image",
                        invocation.name()
                    ),
                };
                checker
                    .report(sudo.span, message)
                    .remedy(Remedy::RemoveInstruction);
            }
        }
    }
}

/// The user `sudo -u USER` switches to, when it is not root.
fn target_user<'a>(invocation: &crate::helpers::shell::Invocation<'a>) -> Option<&'a str> {
    let argv = &invocation.command.argv;
    let at = argv
        .iter()
        .position(|word| invocation.sudo.is_some_and(|sudo| std::ptr::eq(word, sudo)))?;
    argv[at + 1..]
        .windows(2)
        .take_while(|pair| !std::ptr::eq(&pair[0], invocation.program))
        .find_map(|pair| match pair[0].value.as_str() {
            "-u" | "--user" => Some(pair[1].value.as_str()),
            _ => None,
        })
        .filter(|user| !matches!(*user, "root" | "0" | "#0"))
}

#[cfg(test)]
mod tests {
    use super::META;
    use crate::dockerfile_testing::findings;

    #[test]
    fn fires_on_sudo_as_root() {
        // Modelled on aquasecurity__trivy-checks/extracted-examples/docker/DS-0010_run_using_sudo.
        let found = findings(
            &META,
            "FROM alpine:3.20\n\
             RUN sudo apk add bash\n\
             USER root\n\
             RUN apk update && /usr/bin/sudo -E apk add curl\n",
        );
        assert_eq!(
            found,
            [
                "2: low `sudo` runs `apk` while the build is already root: it only ships a setuid-root program in the image",
                "4: low `sudo` runs `apk` while the build is already root: it only ships a setuid-root program in the image",
            ]
        );
    }

    #[test]
    fn says_when_sudo_drops_privileges() {
        // Modelled on microsoft__vscode-dev-containers/containers/reasonml/.devcontainer/Dockerfile.
        let found = findings(&META, "FROM node:20\nRUN sudo -u node npm install -g esy\n");
        assert_eq!(
            found,
            ["2: low `sudo -u node` drops from root to run `npm`: a `USER node` instruction (or `setpriv`, `gosu`) does it without shipping a setuid-root program"]
        );
    }

    #[test]
    fn stays_silent_after_a_non_root_user_and_in_builder_stages() {
        let found = findings(
            &META,
            "FROM alpine AS build\n\
             RUN sudo apk add bash\n\
             FROM alpine\n\
             USER app\n\
             RUN sudo apk add bash\n\
             RUN echo sudo\n",
        );
        assert!(found.is_empty(), "{found:?}");
    }
}
