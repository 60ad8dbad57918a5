use leastpriv_model::{Daemon, DaemonConfig, Span};

use super::is_loopback;
use crate::engine::Checker;
use crate::rule::Check;
use crate::{Diagnostic, Severity};

crate::declare_rule! {
    /// ## What it does
    /// Flags a Docker daemon whose API listens on TCP without TLS client verification: a `tcp://`
    /// (or scheme-less `host:port`) entry in `hosts` or `-H` without `tlsverify`, or a listener the
    /// engine itself warns about in `docker info` (`API is accessible on http://… without
    /// encryption`, `… without TLS client verification`).
    ///
    /// A daemon run in a container (Docker-in-Docker) is judged where the container configures it:
    /// `dockerd --host=tcp://0.0.0.0:2375` as a Compose `command:`/`entrypoint:`, Kubernetes
    /// `command`/`args` or after a `docker run` image, and the official `docker:dind` image with
    /// `DOCKER_TLS_CERTDIR` set empty (its entrypoint then listens on `tcp://0.0.0.0:2375`
    /// without TLS; before 19.03 it always did).
    ///
    /// `tls` without `tlsverify` is flagged too: it encrypts, but lets any client in. A listener on
    /// the loopback interface (`127.0.0.1`, `localhost`, `[::1]`, or `tcp://:2375`, which dockerd
    /// binds to localhost) is `high` rather than `critical`: only local users and processes reach it.
    ///
    /// ## Why is this bad?
    /// The Docker API has no authentication of its own: whoever connects can start a privileged
    /// container with the host's `/` mounted, which is root on the host. Unauthenticated port 2375
    /// is scanned for constantly and taken over within hours of exposure (cryptominers, botnets).
    /// Only client certificates checked against a CA (`tlsverify`) decide who may connect.
    ///
    /// ## Example
    /// ```json
    /// {
    ///   "hosts": ["unix:///var/run/docker.sock", "tcp://0.0.0.0:2375"]
    /// }
    /// ```
    ///
    /// Use instead:
    /// ```json
    /// {
    ///   "hosts": ["unix:///var/run/docker.sock", "tcp://0.0.0.0:2376"],
    ///   "tlsverify": true,
    ///   "tlscacert": "/etc/docker/tls/ca.pem",
    ///   "tlscert": "/etc/docker/tls/server-cert.pem",
    ///   "tlskey": "/etc/docker/tls/server-key.pem"
    /// }
    /// ```
    /// Or reach a remote engine over SSH (`DOCKER_HOST=ssh://user@host`) and keep it off TCP.
    ///
    /// ## Known problems
    /// dockerd also reads `DOCKER_TLS_VERIFY` from its environment, which a `daemon.json` does not
    /// show; `--engine` sees it through the engine's own warning. Listeners on the command line of a
    /// unit file are seen only with `--engine`.
    ///
    /// ## Equivalents
    /// CIS Docker Benchmark 2.7 · docker-bench-security `check_2_7`
    pub(crate) static META = {
        name: "daemon-tcp-without-tls",
        layer: Daemon,
        severity: Critical,
        fix: "Protect TCP listeners with `\"tlsverify\": true` and client certificates, or remove them",
        also: [High],
    };
}

pub(crate) const CHECK: Check = Check::Daemon(check);

fn check(checker: &mut Checker<'_>, daemon: &Daemon) {
    let from_config = daemon
        .config
        .as_ref()
        .is_some_and(|config| check_config(checker, config));
    if from_config {
        return;
    }
    let Some(state) = &daemon.state else {
        return;
    };
    for api in &state.insecure_api {
        report(checker, api.span, &api.value.address, api.value.tls);
    }
}

/// Reports the configured TCP listeners without `tlsverify`; whether there were any.
fn check_config(checker: &mut Checker<'_>, config: &DaemonConfig) -> bool {
    if config
        .tls_verify
        .as_ref()
        .is_some_and(|verify| verify.value)
    {
        return false;
    }
    let tls = config.tls.as_ref().is_some_and(|tls| tls.value);
    let mut reported = false;
    for host in &config.hosts {
        if let Some(address) = tcp_address(&host.value) {
            let diagnostic = report(checker, host.span, address, tls);
            if config.in_container {
                diagnostic.fix(
                    "Keep `DOCKER_TLS_CERTDIR` set (the `docker:dind` image's `/certs`) so the engine serves TLS with client certificates on port 2376, or give `dockerd` `--tlsverify` and certificates; or share its Unix socket through a volume instead of TCP",
                );
            }
            reported = true;
        }
    }
    reported
}

/// The `host:port` of a TCP listener: `tcp://…`, or an address without a scheme (dockerd reads it
/// as TCP).
fn tcp_address(host: &str) -> Option<&str> {
    match host.split_once("://") {
        Some(("tcp", address)) => Some(address),
        Some(_) => None,
        None => (!host.is_empty()).then_some(host),
    }
}

fn report<'c>(
    checker: &'c mut Checker<'_>,
    span: Span,
    address: &str,
    tls: bool,
) -> &'c mut Diagnostic {
    let address = address.trim_end_matches('/');
    // `tcp://:2375` binds dockerd's default host, localhost.
    let local = address.starts_with(':') || is_loopback(address);
    let problem = if tls {
        "with TLS but without client verification (`tlsverify`)"
    } else {
        "without TLS"
    };
    let who = if local {
        "any local user or process that connects"
    } else {
        "anyone who can reach the port"
    };
    let diagnostic = checker.report(
        span,
        format!("the daemon's API listens on `tcp://{address}` {problem}: {who} controls the daemon, which is root on the host"),
    );
    if local {
        diagnostic.severity(Severity::High);
    }
    diagnostic
}

#[cfg(test)]
mod tests {
    use super::tcp_address;

    #[test]
    fn finds_tcp_listeners() {
        assert_eq!(tcp_address("tcp://0.0.0.0:2375"), Some("0.0.0.0:2375"));
        assert_eq!(tcp_address("0.0.0.0:2375"), Some("0.0.0.0:2375"));
        assert_eq!(tcp_address("unix:///var/run/docker.sock"), None);
        assert_eq!(tcp_address("fd://"), None);
        assert_eq!(tcp_address(""), None);
    }
}
