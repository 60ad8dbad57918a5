use leastpriv_model::Container;

use crate::engine::Checker;
use crate::helpers::image::{owner, report_in_layer};
use crate::rule::Check;

crate::declare_rule! {
    /// ## What it does
    /// Flags a world-writable directory without the sticky bit in a built image's final filesystem
    /// (mode `o+w` without `+t`, such as `0777`). `/tmp`-style directories (`1777`) are fine: the
    /// sticky bit stops users from deleting or replacing each other's files. The finding points at the
    /// history entry of the layer that set the mode. `world-writable-mode-set` finds the `chmod` in
    /// the Dockerfile itself.
    ///
    /// ## Why is this bad?
    /// Anyone in the container, whatever the user, can create, delete and replace files there. If a
    /// process running as another user (root at start-up, a cron job, the application) reads scripts,
    /// configuration or libraries from it, writing there is a way to run code as that user. It is
    /// almost always a `chmod -R 777` meant to fix a permission error.
    ///
    /// ## Example
    /// ```dockerfile
    /// RUN mkdir /app/cache && chmod 777 /app/cache
    /// ```
    ///
    /// Use instead:
    /// ```dockerfile
    /// RUN mkdir /app/cache && chown 10001:10001 /app/cache && chmod 700 /app/cache
    /// ```
    ///
    /// ## Equivalents
    /// CIS Docker Benchmark 4.8 (file permissions) · trivy, dockle, hadolint and checkov do not check
    /// directory modes in layers
    pub(crate) static META = {
        name: "world-writable-directory",
        layer: Filesystem,
        severity: Medium,
        fix: "Give the directory to the user that writes it (`chown`) with mode 0700/0750, or add the sticky bit (`chmod +t`)",
    };
}

pub(crate) const CHECK: Check = Check::Container(check);

fn check(checker: &mut Checker<'_>, container: &Container) {
    let Some(image) = &container.image else {
        return;
    };
    for file in &image.files {
        if file.deleted || !file.is_dir || file.mode & 0o002 == 0 || file.mode & 0o1000 != 0 {
            continue;
        }
        report_in_layer(checker, container, image, file.layer, format!(
                "directory `{}` is world-writable without the sticky bit (mode {:04o}, {}), set by layer {}",
                file.quoted_path(),
                file.mode,
                owner(file),
                image.layer_digest(file.layer)
            ));
    }
}
