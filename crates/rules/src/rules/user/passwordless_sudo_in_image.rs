use leastpriv_model::{Container, Remedy};

use crate::engine::Checker;
use crate::helpers::image::report_in_layer;
use crate::rule::Check;

crate::declare_rule! {
    /// ## What it does
    /// Flags a sudoers file (`/etc/sudoers`, `/etc/sudoers.d/*`) in a built image's final
    /// filesystem with a rule that needs no password: `NOPASSWD` or `Defaults !authenticate`. The
    /// finding points at the history entry of the layer that wrote the file and quotes the rule.
    ///
    /// LP203 finds the `RUN` that writes such a rule in a Dockerfile; this rule finds it in the image,
    /// however it got there (a base image, a `COPY`, a package's post-install script).
    ///
    /// ## Why is this bad?
    /// `sudo` without a password turns the image's non-root user into root with one command: every
    /// bug that gives an attacker a shell as that user gives root, and the non-root `USER` protects
    /// nothing.
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM debian:12-slim
    /// RUN apt-get update && apt-get install -y sudo \
    ///  && echo 'app ALL=(ALL) NOPASSWD: ALL' > /etc/sudoers.d/app
    /// USER app
    /// ```
    ///
    /// Use instead: do the root work at build time, before `USER app`, and leave `sudo` out of the
    /// image.
    ///
    /// ## Known problems
    /// Files are judged by the path they are stored at: a sudoers rule reached only through a
    /// symlinked directory (`/etc/sudoers.d` pointing elsewhere) or an `#include` of another path is
    /// not seen.
    ///
    /// ## Equivalents
    /// hadolint DL3004 (`sudo` in `RUN`, not the sudoers file) · dockle and trivy have no check of
    /// sudoers files in layers · CIS Docker Benchmark 4.1 (non-root user)
    pub(crate) static META = {
        name: "passwordless-sudo-in-image",
        layer: User,
        severity: High,
        fix: "Remove the `NOPASSWD` rule (and `sudo`) from the image; do root work at build time",
    };
}

pub(crate) const CHECK: Check = Check::Container(check);

fn check(checker: &mut Checker<'_>, container: &Container) {
    let Some(image) = &container.image else {
        return;
    };
    for file in image.files.iter().filter(|file| !file.deleted) {
        for rule in &file.sudo_nopasswd {
            report_in_layer(
                checker,
                container,
                image,
                file.layer,
                format!(
                    "`{}` grants sudo without a password (`{rule}`), added by layer {}",
                    file.quoted_path(),
                    image.layer_digest(file.layer)
                ),
            )
            .remedy(Remedy::RemoveInstruction);
        }
    }
}
