use leastpriv_model::Daemon;

use crate::engine::Checker;
use crate::rule::Check;

crate::declare_rule! {
    /// ## What it does
    /// Flags a Docker daemon whose default seccomp profile filters nothing: `"seccomp-profile":
    /// "unconfined"` in `daemon.json` (`--seccomp-profile unconfined`), `docker info` reporting
    /// `name=seccomp,profile=unconfined`, or no `name=seccomp` option at all (a kernel or build
    /// without seccomp, where no container can be filtered).
    ///
    /// A custom profile file is not judged here: audit the file itself.
    ///
    /// ## Why is this bad?
    /// Docker's default profile blocks the system calls behind most container escapes and kernel
    /// exploits: `unshare` and `clone` of new namespaces, `mount`, `keyctl`, `bpf`,
    /// `perf_event_open`, `userfaultfd`, `open_by_handle_at` (the "shocker" escape), kernel module
    /// loading. Made `unconfined` at the daemon, every container that does not name a profile of its
    /// own loses that layer at once, and nothing in its Compose file or manifest shows it.
    ///
    /// ## Example
    /// ```json
    /// {
    ///   "seccomp-profile": "unconfined"
    /// }
    /// ```
    ///
    /// Use instead: remove the setting, and give the one container that needs a blocked call a
    /// profile of its own, Docker's default plus that call:
    /// ```text
    /// docker run --security-opt seccomp=/etc/docker/seccomp/ntpd.json example/ntpd
    /// ```
    ///
    /// ## Known problems
    /// A daemon built without seccomp support may be intentional on a host dedicated to one trusted
    /// workload; suppress with that reason.
    ///
    /// ## Equivalents
    /// CIS Docker Benchmark 2.17 · docker-bench-security `check_2_17` · (per container: CIS 5.22,
    /// trivy KSV-0104, checkov CKV_K8S_31)
    pub(crate) static META = {
        name: "seccomp-unconfined-by-default",
        layer: Daemon,
        severity: High,
        fix: "Remove `\"seccomp-profile\": \"unconfined\"` so containers get Docker's default profile",
    };
}

pub(crate) const CHECK: Check = Check::Daemon(check);

const UNCONFINED: &str =
    "the daemon's default seccomp profile is `unconfined`: containers that name no profile can make every system call";

fn check(checker: &mut Checker<'_>, daemon: &Daemon) {
    if let Some(state) = &daemon.state {
        match &state.seccomp {
            None => {
                checker
                    .report(
                        state.security_options,
                        "the daemon cannot apply seccomp (no `name=seccomp` security option): every container can make every system call",
                    )
                    .fix("Run the daemon on a kernel with `CONFIG_SECCOMP_FILTER` and a dockerd built with seccomp support");
            }
            Some(profile) if profile.value == "unconfined" => {
                let diagnostic = checker.report(profile.span, UNCONFINED);
                if let Some(setting) = daemon
                    .config
                    .as_ref()
                    .and_then(|config| config.seccomp_profile.as_ref())
                {
                    diagnostic.related(setting.span, "the profile is set here");
                }
            }
            Some(_) => {}
        }
        return;
    }
    let Some(config) = &daemon.config else {
        return;
    };
    if let Some(profile) = config
        .seccomp_profile
        .as_ref()
        .filter(|profile| profile.value == "unconfined")
    {
        checker.report(profile.span, UNCONFINED);
    }
}
