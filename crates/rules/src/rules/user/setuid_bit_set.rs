use leastpriv_model::{Container, Remedy};
use leastpriv_source::Spanned;

use crate::engine::Checker;
use crate::helpers::shell::{
    added_special_bits, base_name, mode_change, mode_value, run_invocations, SpecialBits,
};
use crate::rule::Check;
use crate::Severity;

crate::declare_rule! {
    /// ## What it does
    /// Flags a build step that sets the set-user-ID or set-group-ID bit on a file of the image:
    /// `chmod u+s`, `chmod +s`, `chmod 4755`, `chmod 6755`, `chmod g+s` / `2755` on a program,
    /// `install -m 4755`, and `COPY --chmod=4755` / `ADD --chmod=4755`, in `RUN` lines and in
    /// heredoc scripts, in every stage that reaches the image. Setting the bit on a shell or an
    /// interpreter (`bash`, `python3`, `find`, `vim` …) is reported as high.
    ///
    /// A set-group-ID bit on a directory only makes new files inherit its group, which grants
    /// nothing; so `g+s` and `2xxx` are reported only when the target is a program (under a `bin`,
    /// `sbin` or `libexec` directory), never for `chmod -R g+s` or `find -type d … chmod g+s`.
    ///
    /// ## Why is this bad?
    /// A set-user-ID root program runs as root whoever starts it. It is the classic way from an
    /// unprivileged user to root: through a bug in the program, through its environment
    /// (`LD_PRELOAD` is ignored, but `PATH`, locale and config files are not), or by design when it
    /// is a shell or interpreter. A non-root `USER` protects nothing while the image hands out root
    /// this way. `no-new-privileges` neutralises the bit at run time, but only where it is set.
    ///
    /// ## Example
    /// ```dockerfile
    /// RUN chmod u+s /usr/local/bin/backup
    /// USER app
    /// ```
    ///
    /// Use instead:
    /// ```dockerfile
    /// RUN chown app /var/backups
    /// USER app
    /// ```
    /// Give the user ownership of what it must write, or grant one capability at run time
    /// (`cap_add`), instead of running a program as root. Remove the bits the base image ships
    /// with `find / -xdev -perm /6000 -type f -exec chmod a-s {} +`.
    ///
    /// ## Known problems
    /// A bit set in a builder stage and carried over with `COPY --from` (which keeps modes) is not
    /// traced; audit the built image to see every setuid file. A target named by a variable whose
    /// value is unknown is judged by the name as written.
    ///
    /// ## Equivalents
    /// hadolint: none · trivy: none for Dockerfiles · checkov: none · dockle CIS-DI-0008 (setuid
    /// files in the built image, info) · CIS Docker Benchmark 4.8 (setuid and setgid permissions)
    pub(crate) static META = {
        name: "setuid-bit-set",
        layer: User,
        severity: Medium,
        fix: "Do not set setuid/setgid bits: give the user ownership of what it needs, or grant one capability at run time",
        also: [High],
    };
}

pub(crate) const CHECK: Check = Check::Container(check);

/// Programs that hand out a root shell when setuid root (GTFOBins' "SUID" list, the usual ones).
const SHELL_LIKE: &[&str] = &[
    "sh", "bash", "dash", "zsh", "ash", "ksh", "csh", "tcsh", "fish", "busybox", "python",
    "python2", "python3", "perl", "ruby", "node", "php", "lua", "env", "find", "vim", "vi", "nano",
    "less", "more", "cp", "mv", "tar", "awk", "gawk", "nmap", "tee", "dd", "chmod", "chown",
    "docker", "socat", "nc", "ncat", "git", "make", "gdb", "strace", "rsync", "zip", "unzip",
];

fn check(checker: &mut Checker<'_>, container: &Container) {
    let Some(build) = &container.build else {
        return;
    };
    for stage in build.image_stages() {
        for run in &stage.runs {
            for invocation in run_invocations(run) {
                if let Some(change) = mode_change(&invocation) {
                    report(
                        checker,
                        &invocation.program.value,
                        change.mode,
                        &change.targets,
                        change.recursive,
                    );
                }
            }
        }
        for copy in &stage.copies {
            if let Some(mode) = &copy.chmod {
                let keyword = if copy.is_add {
                    "ADD --chmod"
                } else {
                    "COPY --chmod"
                };
                report(checker, keyword, mode, &[&copy.destination], false);
            }
        }
    }
}

fn report(
    checker: &mut Checker<'_>,
    what: &str,
    mode: &Spanned<String>,
    targets: &[&Spanned<String>],
    recursive: bool,
) {
    let bits = added_special_bits(mode_value(&mode.value));
    if !bits.any() {
        return;
    }
    let programs: Vec<&str> = targets
        .iter()
        .map(|target| target.value.as_str())
        .filter(|target| is_program_path(target))
        .collect();
    // Set-group-ID alone grants something only on a program; on a directory it sets group
    // inheritance.
    if !bits.setuid && (recursive || programs.is_empty()) {
        return;
    }
    let which = match bits {
        SpecialBits {
            setuid: true,
            setgid: true,
        } => "setuid and setgid bits",
        SpecialBits { setuid: true, .. } => "setuid bit",
        _ => "setgid bit",
    };
    let shown: Vec<&str> = targets.iter().map(|target| target.value.as_str()).collect();
    let shown = if shown.is_empty() {
        "its target".to_owned()
    } else {
        format!("`{}`", shown.join(" "))
    };
    let shell_like = targets
        .iter()
        .any(|target| SHELL_LIKE.contains(&base_name(&target.value)));
    let consequence = if shell_like {
        "a shell or interpreter that gives its owner's privileges (root) to anyone who runs it"
    } else if bits.setuid {
        "it runs as its owner (root) for every user"
    } else {
        "it runs with its group's privileges for every user"
    };
    let diagnostic = checker.report(
        mode.span,
        format!(
            "`{} {}` sets the {which} on {shown}: {consequence}",
            base_name(what),
            mode.value
        ),
    );
    diagnostic.remedy(Remedy::RemoveInstruction);
    if shell_like && bits.setuid {
        diagnostic.severity(Severity::High);
    }
}

/// Whether a path names a program rather than a data directory: under a `bin`, `sbin` or
/// `libexec` directory.
fn is_program_path(path: &str) -> bool {
    path.split('/')
        .rev()
        .skip(1)
        .any(|component| matches!(component, "bin" | "sbin" | "libexec"))
}

#[cfg(test)]
mod tests {
    use super::META;
    use crate::dockerfile_testing::findings;

    #[test]
    fn fires_on_every_way_to_set_the_bits() {
        // Modelled on goodwithtech__dockle/pkg/scanner/testdata/Dockerfile.base (line 7) and
        // jessfraz__dockerfiles/no_new_privs/Dockerfile (line 4).
        let found = findings(
            &META,
            "FROM debian\n\
             RUN chmod u+s /app/suid.txt\n\
             RUN chmod +s /usr/local/bin/nnp\n\
             RUN chmod 4755 /bin/bash\n\
             RUN chmod g+s /usr/bin/wall\n\
             RUN install -m 4755 tool /usr/local/bin/tool\n\
             COPY --chmod=6755 helper /usr/local/bin/helper\n",
        );
        assert_eq!(
            found,
            [
                "2: medium `chmod u+s` sets the setuid bit on `/app/suid.txt`: it runs as its owner (root) for every user",
                "3: medium `chmod +s` sets the setuid and setgid bits on `/usr/local/bin/nnp`: it runs as its owner (root) for every user",
                "4: high `chmod 4755` sets the setuid bit on `/bin/bash`: a shell or interpreter that gives its owner's privileges (root) to anyone who runs it",
                "5: medium `chmod g+s` sets the setgid bit on `/usr/bin/wall`: it runs with its group's privileges for every user",
                "6: medium `install 4755` sets the setuid bit on `/usr/local/bin/tool`: it runs as its owner (root) for every user",
                "7: medium `COPY --chmod 6755` sets the setuid and setgid bits on `/usr/local/bin/helper`: it runs as its owner (root) for every user",
            ]
        );
    }

    #[test]
    fn stays_silent_on_directories_removals_and_plain_modes() {
        // Modelled on microsoft__vscode-dev-containers/containers/javascript-node/.devcontainer/
        // base.Dockerfile (`chmod g+s ${NPM_GLOBAL}`) and python-3-miniconda (`find … | xargs chmod g+s`).
        let found = findings(
            &META,
            "FROM debian AS build\n\
             RUN chmod u+s /usr/bin/tool\n\
             FROM debian\n\
             RUN chmod g+s /usr/local/share/npm-global\n\
             RUN find /opt -type d | xargs -n 1 chmod g+s\n\
             RUN chmod -R 2775 /var/www\n\
             RUN find / -xdev -perm /6000 -type f -exec chmod a-s {} +\n\
             RUN chmod 0755 /usr/local/bin/app && chmod 1777 /tmp\n\
             COPY --chmod=755 app /usr/local/bin/app\n",
        );
        assert!(found.is_empty(), "{found:?}");
    }
}
