use leastpriv_model::{Daemon, Spanned};

use super::is_loopback;
use crate::engine::Checker;
use crate::rule::Check;

crate::declare_rule! {
    /// ## What it does
    /// Flags each registry the Docker daemon reaches without verified TLS: an entry of
    /// `insecure-registries` (`--insecure-registry`), or in `docker info` an `InsecureRegistryCIDRs`
    /// range or an index not marked `Secure`. Loopback registries (`localhost:5000`, `127.0.0.0/8`,
    /// `::1`) are not flagged: Docker always treats them so, and no network sits between.
    ///
    /// ## Why is this bad?
    /// For an insecure registry the daemon accepts plain HTTP and any certificate. Anyone on the
    /// network path (a compromised router, ARP or DNS spoofing on the LAN, a hostile Wi-Fi) can
    /// answer a pull with an image of their own, which then runs with whatever privileges its
    /// containers are given. Credentials sent to the registry travel in clear text too.
    ///
    /// ## Example
    /// ```json
    /// {
    ///   "insecure-registries": ["registry.lan:5000", "10.0.0.0/8"]
    /// }
    /// ```
    ///
    /// Use instead: a certificate from the company CA, trusted by the daemon alone:
    /// ```text
    /// /etc/docker/certs.d/registry.lan:5000/ca.crt
    /// ```
    /// and no `insecure-registries` entry.
    ///
    /// ## Known problems
    /// A registry reached over a VPN or a host-only network is less exposed than the finding says;
    /// suppress it with that reason. Image signatures (Docker Content Trust, cosign with a verifying
    /// admission policy) protect pulls even over an insecure transport.
    ///
    /// ## Equivalents
    /// CIS Docker Benchmark 2.5 · docker-bench-security `check_2_5`
    pub(crate) static META = {
        name: "insecure-registry",
        layer: Daemon,
        severity: Medium,
        fix: "Give the registry a trusted certificate (`/etc/docker/certs.d/<registry>/ca.crt`) and remove it from `insecure-registries`",
    };
}

pub(crate) const CHECK: Check = Check::Daemon(check);

fn check(checker: &mut Checker<'_>, daemon: &Daemon) {
    let configured = daemon
        .config
        .as_ref()
        .map(|config| config.insecure_registries.as_slice())
        .unwrap_or_default();
    // The engine's list includes flags and `daemon.json` alike; the configuration's spans point
    // where the fix goes, so the engine's list is used only when the configuration names none.
    let registries = match &daemon.state {
        Some(state) if configured.is_empty() => state.insecure_registries.as_slice(),
        _ => configured,
    };
    for registry in registries.iter().filter(|r| !is_loopback(&r.value)) {
        report(checker, registry);
    }
}

fn report(checker: &mut Checker<'_>, registry: &Spanned<String>) {
    checker.report(
        registry.span,
        format!(
            "the daemon pulls from `{}` without verified TLS: anyone on the network path can swap the images it runs",
            registry.value
        ),
    );
}
