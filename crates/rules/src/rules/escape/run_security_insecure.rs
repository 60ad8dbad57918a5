use leastpriv_model::{Container, Remedy};

use crate::engine::Checker;
use crate::helpers::build::runs_with_trigger;
use crate::rule::Check;

crate::declare_rule! {
    /// ## What it does
    /// Flags `RUN --security=insecure`, in any stage and in `ONBUILD RUN` triggers.
    ///
    /// ## Why is this bad?
    /// `--security=insecure` runs the build step as a privileged container: every capability, no
    /// seccomp or AppArmor profile, and the host's devices. A build step can then mount the build
    /// host's disks, load kernel modules or reach the container engine: a direct path from the
    /// Dockerfile (and everything it downloads) to root on the machine that builds it, often a CI
    /// runner holding credentials for production. BuildKit refuses it unless the daemon allows the
    /// `security.insecure` entitlement and the build passes `--allow security.insecure`; a
    /// Dockerfile that asks for it makes people turn both on.
    ///
    /// ## Example
    /// ```dockerfile
    /// # syntax=docker/dockerfile:1-labs
    /// RUN --security=insecure mount -t tmpfs none /mnt && make test
    /// ```
    ///
    /// Use instead:
    /// ```dockerfile
    /// RUN --mount=type=tmpfs,target=/mnt make test
    /// ```
    /// Use `--mount=type=tmpfs|cache|bind` for what the step needs, and run tests that need
    /// privileges in a disposable VM rather than in the image build.
    ///
    /// ## Equivalents
    /// hadolint: none (its parser reads the flag, no rule uses it) · trivy: none · checkov: none ·
    /// dockle: none · CIS Docker Benchmark 5.4 (privileged containers) by analogy
    pub(crate) static META = {
        name: "run-security-insecure",
        layer: Escape,
        severity: Critical,
        fix: "Remove `--security=insecure`: use `--mount=type=tmpfs|cache|bind` for what the step needs",
    };
}

pub(crate) const CHECK: Check = Check::Container(check);

fn check(checker: &mut Checker<'_>, container: &Container) {
    let Some(build) = &container.build else {
        return;
    };
    for stage in &build.stages {
        for (run, trigger) in runs_with_trigger(stage) {
            let Some(security) = &run.flags.security else {
                continue;
            };
            if !security.value.eq_ignore_ascii_case("insecure") {
                continue;
            }
            checker
                .report(
                    security.span,
                    format!("`{trigger}RUN --security=insecure` runs the build step as a privileged container with root on the build host"),
                )
                .remedy(Remedy::RemoveInstruction);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::META;
    use crate::dockerfile_testing::findings;

    #[test]
    fn fires_in_every_stage() {
        let found = findings(
            &META,
            "FROM alpine AS test\n\
             RUN --security=insecure mount -t tmpfs none /mnt\n\
             FROM alpine\n\
             RUN --mount=type=cache,target=/root/.cache --security=insecure make\n",
        );
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(
            found[0].starts_with("2: critical `RUN --security=insecure`"),
            "{found:?}"
        );
    }

    #[test]
    fn stays_silent_on_the_sandbox() {
        let found = findings(
            &META,
            "FROM alpine\nRUN --security=sandbox make\nRUN echo --security=insecure\n",
        );
        assert!(found.is_empty(), "{found:?}");
    }
}
