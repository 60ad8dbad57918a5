use leastpriv_model::{Container, Remedy};

use crate::engine::Checker;
use crate::helpers::runtime::fix_for;
use crate::rule::Check;

crate::declare_rule! {
    /// ## What it does
    /// Flags a container whose root filesystem is writable: no Compose `read_only: true`, `docker run
    /// --read-only` or Kubernetes `readOnlyRootFilesystem: true`, or one set to `false`.
    ///
    /// Only the service-level setting counts: `read_only: true` on a *volume* (a trap in many Compose
    /// files) makes that volume read-only, not the container.
    ///
    /// ## Why is this bad?
    /// An intruder who gets code execution writes where the process can: replaces the application's
    /// code or configuration, drops tools and persistence, edits `/etc/passwd` inside the container. A
    /// read-only root with writable scratch space only where the program needs it (`tmpfs: [/tmp]`, a
    /// volume for data) removes all of that, and makes the image the whole truth about what runs.
    ///
    /// ## Example
    /// ```yaml
    /// services:
    ///   api:
    ///     image: example/api
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// services:
    ///   api:
    ///     image: example/api
    ///     read_only: true
    ///     tmpfs: ["/tmp:size=64m"]
    /// ```
    ///
    /// ## Known problems
    /// Programs that write into their own directories need a volume or tmpfs there first; find the
    /// paths with `docker diff <container>` after a run.
    ///
    /// ## Equivalents
    /// trivy KSV-0014 · checkov CKV_K8S_22 · CIS Docker Benchmark 5.13 · polaris
    /// notReadOnlyRootFilesystem · kube-score container-security-context-readonlyrootfilesystem · KICS
    /// has no Compose `read_only` check (not a Pod Security Standards control)
    pub(crate) static META = {
        name: "writable-root-filesystem",
        layer: Filesystem,
        severity: Medium,
        fix: "Make the root filesystem read-only and mount tmpfs or volumes where the program writes",
    };
}

pub(crate) const CHECK: Check = Check::Container(check);

fn check(checker: &mut Checker<'_>, container: &Container) {
    let Some(runtime) = &container.runtime else {
        return;
    };
    let (span, message) = match &runtime.read_only_root {
        Some(flag) if flag.value => return,
        Some(flag) => (flag.span, "root filesystem is explicitly writable: an intruder can change the application and plant tools"),
        None => (container.origin, "root filesystem is writable: an intruder can change the application and plant tools"),
    };
    let fix = fix_for(
        container,
        "set `read_only: true` and add `tmpfs: [\"/tmp\"]` (and volumes) for the paths the program writes",
        "set `securityContext.readOnlyRootFilesystem: true` and mount `emptyDir` volumes where the program writes",
        "add `--read-only --tmpfs /tmp` (and volumes for the paths the program writes)",
    );
    checker
        .report(span, message)
        .fix(fix)
        .remedy(Remedy::SetReadOnlyRoot);
}

#[cfg(test)]
mod tests {
    use leastpriv_model::{Runtime, SourceKind};

    use crate::testing::Source;

    #[test]
    fn fires_unless_read_only() {
        let source = Source::new();
        assert_eq!(
            source.lines("LP502", SourceKind::Compose, Runtime::default()),
            [1]
        );
        let off = Runtime {
            read_only_root: Some(source.at(3, false)),
            ..Runtime::default()
        };
        assert_eq!(source.lines("LP502", SourceKind::Kubernetes, off), [3]);
        let on = Runtime {
            read_only_root: Some(source.at(3, true)),
            ..Runtime::default()
        };
        assert!(source.lines("LP502", SourceKind::DockerRun, on).is_empty());
    }
}
