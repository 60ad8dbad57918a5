use leastpriv_model::{Container, ImageFile, Remedy};

use crate::engine::Checker;
use crate::helpers::image::{owner, report_in_layer};
use crate::rule::Check;
use crate::Severity;

crate::declare_rule! {
    /// ## What it does
    /// Flags a setuid or setgid executable in the final filesystem of a built image (an image archive
    /// or an image in the engine) that is not one of the few a base system ships for its own tools:
    /// `passwd`, `su`, `mount`, `umount`, `chsh`, `chfn`, `newgrp`, `gpasswd`, `chage`, `expiry`,
    /// `unix_chkpwd`, `ping`, `ping6`, `wall`, `write`, `crontab` and `ssh-agent`. Each file is
    /// reported at the history entry of the layer that added it, naming the layer digest. Severity is
    /// medium for a packaged helper (`ssh-keysign`, `dbus-daemon-launch-helper`, `fusermount3`), high
    /// for `sudo` and `pkexec` (general-purpose ways to root, with a history of local-root bugs) and
    /// critical for a setuid-root shell or interpreter.
    ///
    /// Files that a later layer deleted or replaced are not reported: they are not in the filesystem
    /// the container sees. `sudo` is not allowlisted.
    ///
    /// ## Why is this bad?
    /// A setuid-root executable runs as root whoever starts it, so a non-root `USER` stops at the first
    /// one that can be talked into running a command: a setuid shell (`chmod u+s /bin/bash`) is root
    /// for anyone, and `find`, `vim`, `python` or `env` with the bit are as good (GTFOBins). The
    /// allowlisted tools are hardened for the bit and usually unused in a container.
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM debian:12-slim
    /// RUN chmod u+s /bin/bash
    /// USER 10001
    /// ```
    ///
    /// Use instead:
    /// ```dockerfile
    /// FROM debian:12-slim
    /// RUN find / -xdev -perm /6000 -type f -exec chmod a-s {} +
    /// USER 10001
    /// ```
    /// and run with `no-new-privileges` (`--security-opt no-new-privileges`,
    /// `allowPrivilegeEscalation: false`), which makes the kernel ignore the bits.
    ///
    /// ## Equivalents
    /// dockle CIS-DI-0008 (every setuid/setgid file, at INFO) · CIS Docker Benchmark 4.8 ·
    /// trivy, hadolint and checkov do not look at file modes in layers
    pub(crate) static META = {
        name: "unexpected-setuid-file",
        layer: User,
        severity: Medium,
        fix: "Remove the setuid/setgid bit (`chmod a-s`) in the layer that adds the file, and run with no-new-privileges",
        also: [Critical, High],
    };
}

pub(crate) const CHECK: Check = Check::Container(check);

/// Setuid/setgid tools of a base system, hardened for the bit.
pub(crate) const ALLOWED: &[&str] = &[
    "passwd",
    "su",
    "mount",
    "umount",
    "chsh",
    "chfn",
    "newgrp",
    "gpasswd",
    "chage",
    "expiry",
    "unix_chkpwd",
    "ping",
    "ping6",
    "wall",
    "write",
    "crontab",
    "ssh-agent",
];

/// Programs that hand out a shell or run arbitrary code: setuid on these is root for anyone.
const SHELLS: &[&str] = &[
    "sh", "bash", "dash", "ash", "zsh", "ksh", "mksh", "csh", "tcsh", "fish", "busybox", "env",
    "python", "python2", "python3", "perl", "ruby", "node", "php", "lua", "find", "vi", "vim",
    "less", "more", "awk", "gawk", "cp", "chmod", "chown", "tar", "bbsuid",
];

pub(crate) fn is_allowed(file: &ImageFile) -> bool {
    ALLOWED.contains(&base_name(&file.path))
}

fn base_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

fn is_shell(name: &str) -> bool {
    SHELLS.contains(&name)
        || name
            .strip_prefix("python")
            .is_some_and(|version| version.bytes().all(|b| b.is_ascii_digit() || b == b'.'))
}

fn check(checker: &mut Checker<'_>, container: &Container) {
    let Some(image) = &container.image else {
        return;
    };
    for file in &image.files {
        if file.deleted || !file.is_setuid_or_setgid() || is_allowed(file) {
            continue;
        }
        let bits = match (file.mode & 0o4000 != 0, file.mode & 0o2000 != 0) {
            (true, true) => "setuid and setgid",
            (true, false) => "setuid",
            _ => "setgid",
        };
        let name = base_name(&file.path);
        let diagnostic = report_in_layer(
            checker,
            container,
            image,
            file.layer,
            format!(
                "`{}` is {bits} ({}, mode {:04o}), added by layer {}",
                file.quoted_path(),
                owner(file),
                file.mode,
                image.layer_digest(file.layer)
            ),
        )
        .remedy(Remedy::SetNoNewPrivileges);
        if is_shell(name) && file.mode & 0o4000 != 0 && file.uid == 0 {
            diagnostic.severity(Severity::Critical);
        } else if matches!(name, "sudo" | "pkexec" | "doas" | "su-exec" | "gosu") {
            diagnostic.severity(Severity::High);
        }
    }
}
