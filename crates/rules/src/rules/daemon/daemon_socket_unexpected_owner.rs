use leastpriv_model::Daemon;

use crate::engine::Checker;
use crate::rule::Check;

crate::declare_rule! {
    /// ## What it does
    /// Flags the API socket file of a rootful Docker daemon (as found by `leastpriv audit
    /// --engine`) that someone besides root and the `docker` group can use: a socket owned by a
    /// user other than root, or group-writable by a group other than `docker` or `root` (such as
    /// `users`, `staff`, `wheel`, a service's group).
    ///
    /// A rootless daemon's socket belongs to its user and is not judged; a world-writable socket is
    /// LP710's.
    ///
    /// ## Why is this bad?
    /// Whoever can connect to the socket controls a daemon that runs as root: one `docker run
    /// --privileged -v /:/host` away from root on the host. That is why the socket is
    /// `root:docker` and `0660`, and why membership of `docker` is handed out like `sudo`. A broader
    /// group (every interactive user is in `users`) or a service account as owner quietly makes all
    /// of them root.
    ///
    /// ## Example
    /// ```text
    /// /var/run/docker.sock: socket, mode 0660, owner root (0), group users (100)
    /// ```
    ///
    /// Use instead:
    /// ```text
    /// /var/run/docker.sock: socket, mode 0660, owner root (0), group docker (999)
    /// ```
    /// Set it in the `docker.socket` unit (`SocketUser=root`, `SocketGroup=docker`) or dockerd's
    /// `group` setting, not with a `chown` that the next restart undoes.
    ///
    /// ## Known problems
    /// A deliberately named group other than `docker` (for example `docker-users` managed by a
    /// configuration tool) is flagged; suppress with that reason.
    ///
    /// ## Equivalents
    /// CIS Docker Benchmark 3.15 · docker-bench-security `check_3_15`
    pub(crate) static META = {
        name: "daemon-socket-unexpected-owner",
        layer: Daemon,
        severity: High,
        fix: "Make the socket `root:docker` (`SocketUser=root`, `SocketGroup=docker` in docker.socket)",
    };
}

pub(crate) const CHECK: Check = Check::Daemon(check);

/// Groups that may hold a rootful daemon's socket.
const EXPECTED_GROUPS: [&str; 2] = ["docker", "root"];

fn check(checker: &mut Checker<'_>, daemon: &Daemon) {
    let Some(state) = &daemon.state else {
        return;
    };
    let Some(socket) = &state.socket else {
        return;
    };
    if state.rootless.is_some() {
        return;
    }
    let owner = &socket.owner;
    if owner.value.id != 0 && socket.mode.value & 0o200 != 0 {
        checker.report(
            owner.span,
            format!(
                "`{}` is owned by `{}`, not root: that user controls a daemon that runs as root",
                socket.path, owner.value
            ),
        );
    }
    let group = &socket.group;
    let expected = group.value.id == 0
        || group
            .value
            .name
            .as_deref()
            .is_some_and(|name| EXPECTED_GROUPS.contains(&name));
    if !expected && socket.mode.value & 0o020 != 0 {
        checker.report(
            group.span,
            format!(
                "`{}` is writable by group `{}`: its members control a daemon that runs as root",
                socket.path, group.value
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::daemon::tests::{engine_with_socket, findings};

    #[test]
    fn flags_foreign_owners_and_groups_of_a_rootful_socket() {
        assert!(findings("LP711", |db| engine_with_socket(db, 0o660, 0, 999, false)).is_empty());
        assert_eq!(
            findings("LP711", |db| engine_with_socket(db, 0o660, 1000, 100, false)),
            [
                (
                    "alice (1000)".to_owned(),
                    "`/var/run/docker.sock` is owned by `alice (1000)`, not root: that user controls a daemon that runs as root".to_owned()
                ),
                (
                    "users (100)".to_owned(),
                    "`/var/run/docker.sock` is writable by group `users (100)`: its members control a daemon that runs as root".to_owned()
                ),
            ]
        );
        // A group that may read but not write cannot connect.
        assert!(findings("LP711", |db| engine_with_socket(db, 0o640, 0, 100, false)).is_empty());
        // A rootless daemon's socket is its user's.
        assert!(findings("LP711", |db| engine_with_socket(db, 0o660, 1000, 100, true)).is_empty());
    }
}
