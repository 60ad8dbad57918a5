use leastpriv_model::Daemon;

use crate::engine::Checker;
use crate::rule::Check;

crate::declare_rule! {
    /// ## What it does
    /// Flags a running Docker daemon that confines containers with neither AppArmor nor SELinux:
    /// `docker info` lists no `name=apparmor` and no `name=selinux` security option.
    ///
    /// It judges only what the engine reports: whether a host has an LSM is not in a `daemon.json`.
    ///
    /// ## Why is this bad?
    /// AppArmor's `docker-default` profile and SELinux's `container_t` type are the mandatory access
    /// control layer: they deny writes to `/proc` and `/sys` files, mounts, and access to host files
    /// a container was never given, even to container root with capabilities. Without either, a
    /// container's confinement is only its capabilities and seccomp, and several escapes (writable
    /// `/proc/sys` or `release_agent` with an added capability, access through a leaked file
    /// descriptor) are stopped by nothing else.
    ///
    /// ## Example
    /// ```text
    /// $ docker info --format '{{json .SecurityOptions}}'
    /// ["name=seccomp,profile=default"]
    /// ```
    ///
    /// Use instead: enable the host's LSM (`apparmor=1 security=apparmor` on the kernel command line
    /// with the `apparmor` package on Debian and Ubuntu; `"selinux-enabled": true` in daemon.json on
    /// Fedora, RHEL and derivatives), then restart the daemon:
    /// ```text
    /// $ docker info --format '{{json .SecurityOptions}}'
    /// ["name=apparmor","name=seccomp,profile=default"]
    /// ```
    ///
    /// ## Known problems
    /// Rootless daemons do not apply AppArmor; there the user namespace is the stronger layer.
    ///
    /// ## Equivalents
    /// No static tool checks it at the daemon. Per container: CIS Docker Benchmark 5.2 (AppArmor),
    /// 5.3 (SELinux) · docker-bench-security `check_5_2`, `check_5_3` · trivy KSV-0002, KSV-0025
    pub(crate) static META = {
        name: "daemon-without-lsm",
        layer: Daemon,
        severity: Low,
        fix: "Enable AppArmor or SELinux on the host (and `\"selinux-enabled\": true` for SELinux)",
    };
}

pub(crate) const CHECK: Check = Check::Daemon(check);

fn check(checker: &mut Checker<'_>, daemon: &Daemon) {
    let Some(state) = &daemon.state else {
        return;
    };
    if state.apparmor.is_some() || state.selinux.is_some() {
        return;
    }
    let diagnostic = checker.report(
        state.security_options,
        "the daemon applies neither AppArmor nor SELinux: containers run without mandatory access control",
    );
    if let Some(selinux) = daemon
        .config
        .as_ref()
        .and_then(|config| config.selinux_enabled.as_ref())
        .filter(|enabled| !enabled.value)
    {
        diagnostic.related(selinux.span, "SELinux support is turned off here");
    }
}
