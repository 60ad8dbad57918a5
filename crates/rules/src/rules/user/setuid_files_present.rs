use leastpriv_model::{quote_path, Container, Remedy};

use crate::engine::Checker;
use crate::rule::Check;
use crate::rules::user::unexpected_setuid_file::is_allowed;

crate::declare_rule! {
    /// ## What it does
    /// Lists, in one informational finding per image, the allowlisted setuid and setgid executables
    /// of a built image's final filesystem (`passwd`, `su`, `mount` …; see LP250, which flags every
    /// other one). It points at the image config.
    ///
    /// ## Why is this bad?
    /// Each of them is a way to become root that a container rarely needs. They are hardened, so this
    /// is information, not a weakness: it tells what `no-new-privileges` or removing the bits would
    /// take away, and it is the inventory an auditor asks for.
    ///
    /// ## Example
    /// An image built `FROM debian:12-slim` ships `chfn`, `chsh`, `gpasswd`, `mount`, `newgrp`,
    /// `passwd`, `su`, `umount` and `unix_chkpwd` with the bits set.
    ///
    /// Use instead:
    /// ```dockerfile
    /// FROM debian:12-slim
    /// RUN find / -xdev -perm /6000 -type f -exec chmod a-s {} +
    /// ```
    /// or run the container with `no-new-privileges`.
    ///
    /// ## Equivalents
    /// dockle CIS-DI-0008 (INFO) · CIS Docker Benchmark 4.8
    pub(crate) static META = {
        name: "setuid-files-present",
        layer: User,
        severity: Info,
        fix: "Remove the bits (`find / -xdev -perm /6000 -type f -exec chmod a-s {} +`) or run with no-new-privileges",
    };
}

/// The most paths one finding lists; a hostile image may hold 100,000.
const MAX_LISTED: usize = 50;

pub(crate) const CHECK: Check = Check::Container(check);

fn check(checker: &mut Checker<'_>, container: &Container) {
    let Some(image) = &container.image else {
        return;
    };
    let mut paths: Vec<&str> = image
        .files
        .iter()
        .filter(|file| !file.deleted && file.is_setuid_or_setgid() && is_allowed(file))
        .map(|file| file.path.as_str())
        .collect();
    if paths.is_empty() {
        return;
    }
    paths.sort_unstable();
    let mut listed: Vec<String> = paths
        .iter()
        .take(MAX_LISTED)
        .map(|path| quote_path(path).into_owned())
        .collect();
    if paths.len() > MAX_LISTED {
        listed.push(format!("and {} more", paths.len() - MAX_LISTED));
    }
    checker
        .report(
            container.origin,
            format!(
                "image has {} allowlisted setuid/setgid executable{}: {}",
                paths.len(),
                if paths.len() == 1 { "" } else { "s" },
                listed.join(", ")
            ),
        )
        .remedy(Remedy::SetNoNewPrivileges);
}
