use leastpriv_model::Daemon;

use crate::engine::Checker;
use crate::rule::Check;

crate::declare_rule! {
    /// ## What it does
    /// Flags a Docker API socket file that every local user may write to (mode `o+w`, such as
    /// `0666`), as the live engine's socket is found on the host (`leastpriv audit --engine`).
    ///
    /// ## Why is this bad?
    /// Connecting to a Unix socket needs write permission on it, and the Docker API has no
    /// authentication of its own. A world-writable socket lets every local account, service user and
    /// compromised web process run `docker run --privileged -v /:/host …`: root on the host (for a
    /// rootless daemon, that user's account). It is often left behind by a `chmod 666` meant to
    /// "fix" a permission error.
    ///
    /// ## Example
    /// ```text
    /// /var/run/docker.sock: socket, mode 0666, owner root (0), group docker (999)
    /// ```
    ///
    /// Use instead:
    /// ```text
    /// /var/run/docker.sock: socket, mode 0660, owner root (0), group docker (999)
    /// ```
    /// (`chmod 660 /var/run/docker.sock`, and find what set it: a `SocketMode=` in `docker.socket`,
    /// a provisioning script). Add the users who need the engine to the `docker` group, knowing that
    /// this group is root-equivalent, or give them rootless daemons of their own.
    ///
    /// ## Equivalents
    /// CIS Docker Benchmark 3.16 · docker-bench-security `check_3_16`
    pub(crate) static META = {
        name: "daemon-socket-world-writable",
        layer: Daemon,
        severity: Critical,
        fix: "Restrict the socket to its owner and group: `chmod 660` (and fix what set the mode)",
    };
}

pub(crate) const CHECK: Check = Check::Daemon(check);

fn check(checker: &mut Checker<'_>, daemon: &Daemon) {
    let Some(socket) = daemon
        .state
        .as_ref()
        .and_then(|state| state.socket.as_ref())
    else {
        return;
    };
    if socket.mode.value & 0o002 != 0 {
        checker.report(
            socket.mode.span,
            format!(
                "`{}` is writable by every local user (mode {:04o}): any account can control the daemon",
                socket.path, socket.mode.value
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::daemon::tests::{engine_with_socket, findings};

    #[test]
    fn flags_only_world_writable_sockets() {
        let found = findings("LP710", |db| engine_with_socket(db, 0o666, 0, 999, false));
        assert_eq!(
            found,
            [(
                "0666".to_owned(),
                "`/var/run/docker.sock` is writable by every local user (mode 0666): any account can control the daemon".to_owned()
            )]
        );
        for mode in [0o660, 0o664, 0o600] {
            assert!(findings("LP710", |db| engine_with_socket(db, mode, 0, 999, false)).is_empty());
        }
    }
}
