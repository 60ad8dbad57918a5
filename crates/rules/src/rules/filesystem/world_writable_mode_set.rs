use leastpriv_model::{Container, Remedy};
use leastpriv_source::Spanned;

use crate::engine::Checker;
use crate::helpers::shell::{
    base_name, mode_change, mode_value, others_write, run_invocations, Invocation,
};
use crate::rule::Check;
use crate::Severity;

crate::declare_rule! {
    /// ## What it does
    /// Flags a build step that makes a path writable by every user: `chmod 777`, `chmod -R 777 DIR`,
    /// `chmod a+w`, `chmod o+rwx`, `chmod 0666`, `install -m 777`, `install -d -m 0777`,
    /// `mkdir -m 777`, and `COPY --chmod=777` / `ADD --chmod=777`, in `RUN` lines and heredoc
    /// scripts of every stage that reaches the image. It is the Dockerfile side of
    /// `world-writable-directory`, which finds the same modes in a built image.
    ///
    /// A mode with the sticky bit (`1777`, `a+rwxt`) is taken as meant for a `/tmp`-style scratch
    /// directory, which is fine: users cannot remove or replace each other's files there. A path
    /// the same `RUN` deletes afterwards (`chmod 777 "$tmp" … rm -rf "$tmp"`) never reaches the
    /// image. Making `/` or a system directory (`/etc`, `/usr/bin`, `/lib` …) writable, or anything
    /// under one, is high.
    ///
    /// ## Why is this bad?
    /// Anyone in the container, whatever the user, can then change or replace what is there. When a
    /// process running as another user (root at start-up, the application, a cron job) runs scripts,
    /// reads configuration or loads libraries from that path, writing there is a way to run code as
    /// that user; `chmod 777 /` lets any user swap `/etc` or `/bin` and become root. It is almost
    /// always a quick fix for a permission error that `chown` to the runtime user fixes properly.
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM debian:12-slim
    /// RUN mkdir /app && chmod -R 777 /app
    /// USER 10001
    /// ```
    ///
    /// Use instead:
    /// ```dockerfile
    /// FROM debian:12-slim
    /// RUN mkdir /app && chown 10001:10001 /app && chmod 700 /app
    /// USER 10001
    /// ```
    ///
    /// ## Known problems
    /// Whether a `chmod` target is a file or a directory is not known from the Dockerfile: a sticky
    /// mode is taken as meant for directories, also with `chmod -R 1777`, which makes the files
    /// already below writable by all (the official `golang` image runs it on directories it has just
    /// created). A mode in a variable whose value is unknown is not judged; audit the built image
    /// (`world-writable-directory`) to see every mode.
    ///
    /// ## Equivalents
    /// hadolint: none · trivy: none for Dockerfiles · checkov: none · CIS Docker Benchmark 4.8 (file
    /// permissions) · KICS "Chmod 777" (Dockerfile)
    pub(crate) static META = {
        name: "world-writable-mode-set",
        layer: Filesystem,
        severity: Medium,
        fix: "Give the path to the user that writes it (`chown`) with mode 0700/0750, or use a sticky mode (`1777`) for shared scratch directories",
        also: [High],
    };
}

pub(crate) const CHECK: Check = Check::Container(check);

/// Directories whose contents decide what root runs or trusts: a user who can write them can
/// become root.
const SYSTEM_DIRECTORIES: &[&str] = &[
    "/etc",
    "/bin",
    "/sbin",
    "/lib",
    "/lib32",
    "/lib64",
    "/libx32",
    "/usr/bin",
    "/usr/sbin",
    "/usr/lib",
    "/usr/lib32",
    "/usr/lib64",
    "/usr/libexec",
    "/usr/local/bin",
    "/usr/local/sbin",
    "/usr/local/lib",
    "/root",
    "/boot",
    "/var/spool/cron",
];

fn check(checker: &mut Checker<'_>, container: &Container) {
    let Some(build) = &container.build else {
        return;
    };
    for stage in build.image_stages() {
        for run in &stage.runs {
            let invocations: Vec<_> = run_invocations(run).collect();
            for (index, invocation) in invocations.iter().enumerate() {
                let Some(mut change) = mode_change(invocation) else {
                    continue;
                };
                // A path removed later in the same `RUN` is never in a layer.
                change
                    .targets
                    .retain(|target| !removed_later(&invocations[index + 1..], &target.value));
                if change.targets.is_empty() {
                    continue;
                }
                let tool = base_name(&invocation.program.value);
                let mode = mode_value(&change.mode.value);
                let command = match tool {
                    "chmod" if change.recursive => format!("chmod -R {mode}"),
                    "chmod" => format!("chmod {mode}"),
                    _ => format!("{tool} -m {mode}"),
                };
                let what = if change.recursive {
                    Target::Tree
                } else if change.directories {
                    Target::Directory
                } else {
                    Target::Path
                };
                report(checker, &command, change.mode, &change.targets, what);
            }
        }
        for copy in &stage.copies {
            if let Some(mode) = &copy.chmod {
                let keyword = if copy.is_add { "ADD" } else { "COPY" };
                let command = format!("{keyword} --chmod={}", mode.value);
                report(checker, &command, mode, &[&copy.destination], Target::Path);
            }
        }
    }
}

/// What a mode change applies to, as far as the command says.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Target {
    /// Files or directories (`chmod`, `COPY --chmod`).
    Path,
    /// Directories (`mkdir -m`, `install -d -m`).
    Directory,
    /// Everything below (`chmod -R`).
    Tree,
}

fn report(
    checker: &mut Checker<'_>,
    command: &str,
    mode: &Spanned<String>,
    targets: &[&Spanned<String>],
    what: Target,
) {
    let grant = others_write(mode_value(&mode.value));
    // A sticky directory is shared scratch space.
    if !grant.writable || grant.sticky {
        return;
    }
    let shown: Vec<&str> = targets.iter().map(|target| target.value.as_str()).collect();
    let system = shown.iter().any(|target| is_system_path(target));
    let place = format!("`{}`", shown.join(" "));
    let message = match what {
        Target::Tree => format!("`{command}` makes everything under {place} writable by every user: any process in the container can change or replace it"),
        Target::Directory => format!("`{command}` makes directory {place} writable by every user, without the sticky bit: any process in the container can change or replace what is there"),
        Target::Path => format!("`{command}` makes {place} writable by every user: any process in the container can change or replace it"),
    };
    let diagnostic = checker
        .report(mode.span, message)
        .remedy(Remedy::RemoveInstruction);
    if system {
        diagnostic.severity(Severity::High);
    }
}

/// Whether one of `later` removes `path` recursively (`rm -rf "$tmp"`).
fn removed_later(later: &[Invocation<'_>], path: &str) -> bool {
    later.iter().any(|invocation| {
        invocation.name() == "rm"
            && invocation
                .args
                .iter()
                .any(|arg| arg.value.starts_with('-') && arg.value.contains(['r', 'R']))
            && invocation.operands().any(|operand| operand.value == path)
    })
}

/// Whether `path` is `/`, a system directory or a path under one.
fn is_system_path(path: &str) -> bool {
    let path = path.trim();
    let trimmed = path.trim_end_matches('/');
    if path.starts_with('/') && (trimmed.is_empty() || trimmed == "/.") {
        return true;
    }
    if trimmed == "/usr" || trimmed == "/usr/local" {
        return true;
    }
    SYSTEM_DIRECTORIES.iter().any(|dir| {
        trimmed == *dir
            || trimmed
                .strip_prefix(dir)
                .is_some_and(|rest| rest.starts_with('/'))
    })
}

#[cfg(test)]
mod tests {
    use super::is_system_path;
    use crate::dockerfile_testing::findings;

    #[test]
    fn system_paths() {
        for path in [
            "/",
            "//",
            "/etc",
            "/etc/passwd",
            "/usr",
            "/usr/local/bin",
            "/bin/",
        ] {
            assert!(is_system_path(path), "{path}");
        }
        for path in [
            "/app",
            "/tmp",
            "/var/www",
            "/usrx",
            "etc",
            "/opt/etc",
            "/usr/src/app",
            "/usr/share/nginx/html",
        ] {
            assert!(!is_system_path(path), "{path}");
        }
    }

    #[test]
    fn fires_on_every_form_that_lets_all_users_write() {
        let found = findings(
            &super::META,
            "FROM alpine\n\
             RUN chmod 777 /app\n\
             RUN chmod -R a+w /srv/data\n\
             RUN chmod 1777 /scratch && chmod 755 /app\n\
             RUN chmod -R 1777 /shared\n\
             RUN install -d -m 0777 /var/cache/app\n\
             RUN mkdir -p -m 777 /run/app\n\
             COPY --chmod=0666 app.conf /etc/app.conf\n\
             RUN chmod 777 /\n\
             RUN chmod +w /app && chmod g+w /app\n\
             RUN tmp=\"$(mktemp -d)\" && chmod 777 \"$tmp\" && make -C \"$tmp\" && rm -rf \"$tmp\"\n",
        );
        let got: Vec<_> = found
            .iter()
            .map(|line| line.split(' ').take(2).collect::<Vec<_>>().join(" "))
            .collect();
        assert_eq!(
            got,
            [
                "2: medium",
                "3: medium",
                "6: medium",
                "7: medium",
                "8: high",
                "9: high"
            ]
        );
        assert!(
            found[0].contains("makes `/app` writable by every user"),
            "{}",
            found[0]
        );
        assert!(
            found[2].contains("directory `/var/cache/app`") && found[2].contains("sticky"),
            "{}",
            found[2]
        );
        assert!(
            found[1].contains("everything under `/srv/data`"),
            "{}",
            found[1]
        );
    }
}
