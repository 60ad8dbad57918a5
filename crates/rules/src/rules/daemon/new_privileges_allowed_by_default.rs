use leastpriv_model::Daemon;

use super::setting_left_at;
use crate::engine::Checker;
use crate::rule::Check;

crate::declare_rule! {
    /// ## What it does
    /// Flags a Docker daemon that does not set `no-new-privileges` for every container: the setting
    /// unset (it defaults to `false`) or `false`.
    ///
    /// ## Why is this bad?
    /// Without `no_new_privs`, a process in a container can gain privileges by executing a setuid or
    /// file-capability binary (`su`, `sudo`, `ping`, a planted `chmod u+s` shell): an attacker who
    /// lands as the application's non-root user climbs back to container root, the step before most
    /// escapes. Set daemon-wide, it holds for every container that does not opt out, including the
    /// ones whose Compose file or `docker run` line forgot `--security-opt no-new-privileges`.
    ///
    /// ## Example
    /// ```json
    /// {
    ///   "live-restore": true
    /// }
    /// ```
    ///
    /// Use instead:
    /// ```json
    /// {
    ///   "live-restore": true,
    ///   "no-new-privileges": true
    /// }
    /// ```
    ///
    /// ## Known problems
    /// Containers that rely on setuid programs (`sudo` in a development image, some entrypoints that
    /// switch user with `su`) stop working and must opt out with
    /// `--security-opt no-new-privileges=false`; prefer fixing them (`gosu`/`setpriv` as root, or
    /// the right `USER`). A flag on the daemon's command line is seen only with `--engine`.
    ///
    /// ## Equivalents
    /// CIS Docker Benchmark 2.14 · docker-bench-security `check_2_14` · (per container: CIS 5.26,
    /// trivy KSV-0001, checkov CKV_K8S_20, KICS compose 27fcc7d6)
    pub(crate) static META = {
        name: "new-privileges-allowed-by-default",
        layer: Daemon,
        severity: Low,
        fix: "Set `\"no-new-privileges\": true` in daemon.json",
    };
}

pub(crate) const CHECK: Check = Check::Daemon(check);

fn check(checker: &mut Checker<'_>, daemon: &Daemon) {
    let Some(config) = &daemon.config else {
        return;
    };
    if let Some((span, set)) = setting_left_at(config, config.no_new_privileges.as_ref(), false) {
        let message = if set {
            "containers may gain privileges through setuid binaries by default (`no-new-privileges: false`)"
        } else {
            "containers may gain privileges through setuid binaries by default (`no-new-privileges` is not set)"
        };
        checker.report(span, message);
    }
}
