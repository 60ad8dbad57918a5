use leastpriv_model::{Capability, Container, Remedy, DOCKER_DEFAULT_CAPABILITIES};

use crate::engine::Checker;
use crate::helpers::runtime::{
    drops_all_capabilities, fix_for, privileged_at, COVERED_BY_PRIVILEGED,
};
use crate::rule::Check;

crate::declare_rule! {
    /// ## What it does
    /// Flags a container that does not drop every capability (no `cap_drop: [ALL]`, `--cap-drop ALL`
    /// or `capabilities.drop: [ALL]`), so it keeps the engine's default set: `CHOWN`,
    /// `DAC_OVERRIDE`, `FOWNER`, `FSETID`, `KILL`, `MKNOD`, `NET_RAW`, `SETGID`, `SETUID`, `SETFCAP`,
    /// `SETPCAP`, `NET_BIND_SERVICE`, `SYS_CHROOT`, `AUDIT_WRITE` (Docker and containerd alike).
    ///
    /// Medium whatever the user: a non-root process loses its effective capabilities at its first
    /// `execve`, but the bounding set stays, and a setuid-root binary, a file capability or a root
    /// `docker exec` gets them back. Each layer is judged as if the one before it had failed, as
    /// `leastpriv verify` judges the running container. A privileged container has every capability
    /// whatever it drops; it is still reported, related to the `privileged` setting, because
    /// removing `privileged` leaves the default set in place.
    ///
    /// ## Why is this bad?
    /// Root with the default set bypasses file permissions (`DAC_OVERRIDE`), changes any file's owner
    /// (`CHOWN`), creates device nodes (`MKNOD`), spoofs and sniffs traffic (`NET_RAW`) and switches to
    /// any user (`SETUID`). Most programs need none of them; dropping all and adding back the one or two
    /// a program needs removes them from every later escape.
    ///
    /// ## Example
    /// ```yaml
    /// services:
    ///   web:
    ///     image: example/web
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// services:
    ///   web:
    ///     image: example/web
    ///     cap_drop: [ALL]
    ///     cap_add: [NET_BIND_SERVICE]   # only if it binds a port below 1024
    /// ```
    ///
    /// ## Equivalents
    /// trivy KSV-0003, KSV-0004 · checkov CKV_K8S_37, CKV_K8S_28 (NET_RAW) · KICS compose ce76b7d0 ·
    /// CIS Docker Benchmark 5.3 · Pod Security Standards restricted "Capabilities" · polaris
    /// insecureCapabilities
    pub(crate) static META = {
        name: "capabilities-not-dropped",
        layer: Capabilities,
        severity: Medium,
        fix: "Drop all capabilities and add back only the ones the program needs",
        pss: Restricted,
    };
}

pub(crate) const CHECK: Check = Check::Container(check);

fn check(checker: &mut Checker<'_>, container: &Container) {
    let Some(runtime) = &container.runtime else {
        return;
    };
    if drops_all_capabilities(runtime) {
        return;
    }
    let kept: Vec<&str> = DOCKER_DEFAULT_CAPABILITIES
        .iter()
        .copied()
        .filter(|name| {
            !runtime
                .cap_drop
                .iter()
                .any(|cap| cap.value == Capability::Known(name))
        })
        .collect();
    let message = if runtime.cap_drop.is_empty() {
        "capabilities are not dropped: the process keeps the default set (`DAC_OVERRIDE`, `CHOWN`, `SETUID`, `NET_RAW` …)".to_owned()
    } else {
        format!(
            "not every capability is dropped: the process keeps {} of the default set ({})",
            kept.len(),
            kept.iter()
                .map(|name| format!("`{name}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    let span = runtime
        .cap_drop
        .first()
        .map(|cap| cap.span)
        .or(runtime.capabilities_anchor)
        .unwrap_or(container.origin);
    let fix = fix_for(
        container,
        "add `cap_drop: [ALL]` and list in `cap_add` only the capabilities the program needs",
        "set `securityContext.capabilities.drop: [ALL]` and add back only what the program needs",
        "add `--cap-drop ALL` and a `--cap-add` for each capability the program needs",
    );
    let diagnostic = checker
        .report(span, message)
        .fix(fix)
        .remedy(Remedy::DropAllCapabilities);
    if let Some(privileged) = privileged_at(runtime) {
        diagnostic.related(privileged, COVERED_BY_PRIVILEGED);
    }
}

#[cfg(test)]
mod tests {
    use leastpriv_model::{Capability, Runtime, SourceKind, User};

    use crate::testing::Source;
    use crate::{PssLevel, Severity};

    #[test]
    fn fires_unless_all_are_dropped() {
        let source = Source::new();
        let found = source.run(
            "LP311",
            &[source.container(SourceKind::Compose, Runtime::default())],
        );
        assert_eq!((found[0].line, found[0].severity), (1, Severity::Medium));
        assert_eq!(found[0].pss, Some(PssLevel::Restricted));

        let partial = Runtime {
            cap_drop: vec![source.at(3, Capability::parse("NET_RAW"))],
            ..Runtime::default()
        };
        let found = source.run("LP311", &[source.container(SourceKind::Compose, partial)]);
        assert_eq!(found[0].line, 3);
        assert!(
            found[0].message.contains("13 of the default set"),
            "{}",
            found[0].message
        );

        let all = Runtime {
            cap_drop: vec![source.at(3, Capability::parse("all"))],
            ..Runtime::default()
        };
        assert!(source.lines("LP311", SourceKind::Compose, all).is_empty());
        let privileged = Runtime {
            privileged: Some(source.at(2, true)),
            ..Runtime::default()
        };
        let found = source.run(
            "LP311",
            &[source.container(SourceKind::Compose, privileged)],
        );
        assert_eq!((found[0].line, found[0].related.as_slice()), (1, &[2][..]));
    }

    #[test]
    fn is_medium_for_a_non_root_user_too() {
        let source = Source::new();
        let runtime = Runtime {
            user: Some(source.at(2, User::parse("1000"))),
            capabilities_anchor: Some(source.span(5)),
            ..Runtime::default()
        };
        let found = source.run(
            "LP311",
            &[source.container(SourceKind::Kubernetes, runtime)],
        );
        // The bounding set stays: a setuid binary or a root `docker exec` gets it back.
        assert_eq!((found[0].line, found[0].severity), (5, Severity::Medium));
    }
}
