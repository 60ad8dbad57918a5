use leastpriv_model::Container;

use crate::engine::Checker;
use crate::helpers::runtime::fix_for;
use crate::rule::Check;

crate::declare_rule! {
    /// ## What it does
    /// Flags a mount whose propagation is shared both ways: Compose `bind.propagation: shared` or
    /// `rshared`, `docker run -v /src:/dst:rshared`, Kubernetes `mountPropagation: Bidirectional`.
    /// One-way propagation from the host (`slave`, `rslave`, `HostToContainer`) stays quiet.
    ///
    /// ## Why is this bad?
    /// Mounts made inside the container under a shared mount appear on the host, so a container that
    /// can mount (a capability or a privileged mode away) can place a filesystem over a host path
    /// that host processes then use. Kubernetes allows `Bidirectional` only in privileged containers
    /// for this reason.
    ///
    /// ## Example
    /// ```yaml
    /// services:
    ///   app:
    ///     image: example/app
    ///     volumes:
    ///       - type: bind
    ///         source: /mnt/data
    ///         target: /data
    ///         bind:
    ///           propagation: rshared
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// services:
    ///   app:
    ///     image: example/app
    ///     volumes:
    ///       - type: bind
    ///         source: /mnt/data
    ///         target: /data
    ///         bind:
    ///           propagation: rslave   # host mounts still show up inside, nothing goes back
    /// ```
    ///
    /// ## Equivalents
    /// KICS compose baa452f0 (also flags `slave`) · CIS Docker Benchmark 5.20
    pub(crate) static META = {
        name: "shared-mount-propagation",
        layer: Escape,
        severity: Medium,
        fix: "Use private or one-way (`rslave`) mount propagation",
    };
}

pub(crate) const CHECK: Check = Check::Container(check);

fn check(checker: &mut Checker<'_>, container: &Container) {
    let Some(runtime) = &container.runtime else {
        return;
    };
    for mount in &runtime.mounts {
        let Some(propagation) = &mount.value.propagation else {
            continue;
        };
        let shared = ["shared", "rshared", "bidirectional"]
            .iter()
            .any(|mode| propagation.trim().eq_ignore_ascii_case(mode));
        if !shared {
            continue;
        }
        let target = &mount.value.target;
        let fix = fix_for(
            container,
            "set `bind.propagation: rslave` (or remove it: `rprivate` is the default)",
            "set `mountPropagation: HostToContainer` (or remove it: `None` is the default)",
            "use `:rslave` (or no propagation option: `rprivate` is the default)",
        );
        checker
            .report(
                mount.span,
                format!("mount at `{target}` propagates `{propagation}`: mounts made in the container appear on the host"),
            )
            .fix(fix);
    }
}

#[cfg(test)]
mod tests {
    use leastpriv_model::{Mount, MountKind, Runtime, SourceKind};

    use crate::testing::Source;

    #[test]
    fn fires_on_two_way_propagation_only() {
        let source = Source::new();
        let mount = |line, propagation: Option<&str>| {
            source.at(
                line,
                Mount {
                    kind: MountKind::Bind {
                        source: "/mnt".into(),
                    },
                    target: "/data".into(),
                    read_only: false,
                    propagation: propagation.map(str::to_owned),
                },
            )
        };
        let runtime = Runtime {
            mounts: vec![
                mount(2, Some("rshared")),
                mount(3, Some("Bidirectional")),
                mount(4, Some("rslave")),
                mount(5, Some("HostToContainer")),
                mount(6, None),
            ],
            ..Runtime::default()
        };
        assert_eq!(source.lines("LP114", SourceKind::Compose, runtime), [2, 3]);
    }
}
