use leastpriv_model::{Certainty, Container, Remedy, RunInstruction};
use leastpriv_source::Span;

use crate::engine::Checker;
use crate::helpers::build::user_at;
use crate::helpers::shell::run_invocations;
use crate::rule::Check;
use crate::Severity;

crate::declare_rule! {
    /// ## What it does
    /// Flags a passwordless privilege grant in a stage that reaches the image:
    ///
    /// - a `RUN` that writes a `NOPASSWD` rule into `/etc/sudoers` or `/etc/sudoers.d/` (with
    ///   `echo`, `printf`, `tee`, `sed` or a heredoc), or a `permit nopass` rule into
    ///   `/etc/doas.conf`;
    /// - a `RUN` that calls `sudo` after a non-root `USER`: a build has no terminal to type a
    ///   password into, so that user can become root without one;
    /// - a `COPY` or `ADD` into `/etc/sudoers` or `/etc/sudoers.d/` (reported at medium: the rules
    ///   it copies are not in view).
    ///
    /// ## Why is this bad?
    /// A non-root `USER` is only a boundary if the user cannot become root. `NOPASSWD:ALL` turns
    /// `sudo -s` into root for anyone who controls the process: an attacker who gets code execution
    /// in the application is root one command later, with every file, secret and capability root has.
    ///
    /// ## Example
    /// ```dockerfile
    /// RUN useradd -m app && echo 'app ALL=(ALL) NOPASSWD:ALL' >> /etc/sudoers
    /// USER app
    /// ```
    ///
    /// Use instead:
    /// ```dockerfile
    /// RUN useradd -m -u 10001 app
    /// USER 10001
    /// ```
    /// Do what needs root in `RUN` before `USER`; a process that must start as root and step down
    /// uses `setpriv`, `gosu` or `su-exec` in its entrypoint.
    ///
    /// ## Known problems
    /// Development images grant sudo on purpose; suppress the finding there with
    /// `# leastpriv: ignore[LP203] dev container`. A text match: a `RUN` that *removes* a
    /// `NOPASSWD` line with `sed` is reported too.
    ///
    /// ## Equivalents
    /// hadolint DL3004 (sudo in `RUN`, no sudoers check) · trivy DS-0010 (same) · checkov
    /// CKV2_DOCKER_1 (same) · KICS Run Using Sudo 8ada6e80 · dockle: none · CIS Docker Benchmark 4.1
    /// (a non-root user that can become root is not one)
    pub(crate) static META = {
        name: "passwordless-sudo",
        layer: User,
        severity: High,
        fix: "Remove the NOPASSWD grant: do root work in `RUN` before `USER` and never give the runtime user sudo",
        also: [Medium],
    };
}

pub(crate) const CHECK: Check = Check::Container(check);

fn check(checker: &mut Checker<'_>, container: &Container) {
    let Some(build) = &container.build else {
        return;
    };
    for stage in build.image_stages() {
        for run in &stage.runs {
            if let Some(span) = nopasswd_rule(run) {
                checker
                    .report(span, "`RUN` writes a passwordless sudo rule: the image's user can become root without a password")
                    .remedy(Remedy::RemoveInstruction);
                continue;
            }
            let user = user_at(build, stage, run.span.range.start);
            let Some(user) = user.filter(|user| user.value.is_root() == Certainty::No) else {
                continue;
            };
            if let Some(sudo) = run_invocations(run).find_map(|invocation| invocation.sudo) {
                checker
                    .report(
                        sudo.span,
                        format!(
                            "`USER {}` runs `sudo` here without a password, so it can become root in the image too",
                            user.value
                        ),
                    )
                    .related(user.span, "the non-root user is set here")
                    .remedy(Remedy::RemoveInstruction);
            }
        }
        for copy in &stage.copies {
            let destination = copy.destination.value.as_str();
            if destination == "/etc/sudoers" || destination.starts_with("/etc/sudoers.d") {
                checker
                    .report(
                        copy.destination.span,
                        format!("`{}` copies sudo rules into `{destination}`; if they grant `NOPASSWD`, the image's user can become root", if copy.is_add { "ADD" } else { "COPY" }),
                    )
                    .severity(Severity::Medium)
                    .remedy(Remedy::RemoveInstruction);
            }
        }
    }
}

/// Where a `RUN` writes a `NOPASSWD` sudoers rule or a `nopass` doas rule, if it does.
fn nopasswd_rule(run: &RunInstruction) -> Option<Span> {
    let script = run.script.value.as_str();
    let sudo = script.contains("NOPASSWD") && script.contains("/etc/sudoers");
    let doas = script.contains("nopass") && script.contains("doas.conf");
    if !sudo && !doas {
        return None;
    }
    let marker = if sudo { "NOPASSWD" } else { "nopass" };
    // Point at the command that carries the rule; heredoc bodies and redirections may hold it instead.
    let span = run
        .commands
        .iter()
        .find(|command| command.argv.iter().any(|word| word.value.contains(marker)))
        .map_or(run.span, |command| command.span);
    Some(span)
}

#[cfg(test)]
mod tests {
    use super::META;
    use crate::dockerfile_testing::findings;

    #[test]
    fn fires_on_nopasswd_rules() {
        // Modelled on datajoint__element-facemap/.devcontainer/Dockerfile (line 24) and
        // jessfraz__dockerfiles/mpd/Dockerfile (line 31).
        let found = findings(
            &META,
            "FROM debian\n\
             RUN useradd app && echo '%sudo ALL=(ALL) NOPASSWD:ALL' >> /etc/sudoers\n\
             RUN echo 'mpd ALL=NOPASSWD: /usr/bin/mount' >> /etc/sudoers.d/mpd\n\
             COPY sudoers /etc/sudoers.d/app\n",
        );
        assert_eq!(
            found,
            [
                "2: high `RUN` writes a passwordless sudo rule: the image's user can become root without a password",
                "3: high `RUN` writes a passwordless sudo rule: the image's user can become root without a password",
                "4: medium `COPY` copies sudo rules into `/etc/sudoers.d/app`; if they grant `NOPASSWD`, the image's user can become root",
            ]
        );
    }

    #[test]
    fn fires_on_sudo_run_by_a_non_root_user() {
        let found = findings(
            &META,
            "FROM node:20\n\
             USER node\n\
             RUN sudo apt-get install -y git\n",
        );
        assert_eq!(
            found,
            ["3: high `USER node` runs `sudo` here without a password, so it can become root in the image too"]
        );
    }

    #[test]
    fn stays_silent_on_builder_stages_root_sudo_and_password_rules() {
        let found = findings(
            &META,
            "FROM debian AS build\n\
             RUN echo 'app ALL=(ALL) NOPASSWD:ALL' >> /etc/sudoers\n\
             USER app\n\
             RUN sudo make install\n\
             FROM debian\n\
             RUN sudo apt-get update\n\
             RUN echo 'app ALL=(ALL) ALL' >> /etc/sudoers\n\
             RUN echo NOPASSWD\n",
        );
        assert!(found.is_empty(), "{found:?}");
    }
}
