use leastpriv_model::Container;

use crate::engine::Checker;
use crate::rule::Check;
use crate::Severity;

crate::declare_rule! {
    /// ## What it does
    /// Flags a tmpfs mount (Compose `tmpfs:`, `docker run --tmpfs`, `--mount type=tmpfs`) whose
    /// options allow executing files (`exec`) or honouring setuid bits (`suid`) — low — or that has no
    /// `size=` — info. Docker mounts tmpfs `noexec,nosuid,nodev` unless an option says otherwise, so
    /// only options written in the configuration are judged.
    ///
    /// ## Why is this bad?
    /// A tmpfs is where an intruder drops a payload when the root is read-only; `exec` lets it run.
    /// `suid` honours setuid binaries placed there. Without `size=` a tmpfs may fill up to half the
    /// host's memory.
    ///
    /// ## Example
    /// ```yaml
    /// services:
    ///   api:
    ///     image: example/api
    ///     tmpfs: ["/tmp:exec"]
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// services:
    ///   api:
    ///     image: example/api
    ///     tmpfs: ["/tmp:size=64m"]
    /// ```
    ///
    /// ## Equivalents
    /// CIS Linux benchmarks' `noexec`/`nosuid` on `/tmp` (1.1.x); no container anchor checks it.
    pub(crate) static META = {
        name: "permissive-tmpfs-mount",
        layer: Filesystem,
        severity: Low,
        fix: "Mount tmpfs without `exec`/`suid` and with a `size=` limit",
        also: [Info],
    };
}

pub(crate) const CHECK: Check = Check::Container(check);

/// Whether `option` is set, the later of `option` and `no{option}` winning (as Docker merges them).
fn enabled(options: &[String], option: &str) -> bool {
    let negated = format!("no{option}");
    options
        .iter()
        .rev()
        .find_map(|written| {
            let written = written.trim();
            if written == option {
                Some(true)
            } else if written == negated {
                Some(false)
            } else {
                None
            }
        })
        .unwrap_or(false)
}

fn check(checker: &mut Checker<'_>, container: &Container) {
    let Some(runtime) = &container.runtime else {
        return;
    };
    for tmpfs in &runtime.tmpfs {
        let options = &tmpfs.value.options;
        let target = &tmpfs.value.target;
        let mut allowed: Vec<&str> = Vec::new();
        if enabled(options, "exec") {
            allowed.push("`exec`: files written there can be run");
        }
        if enabled(options, "suid") {
            allowed.push("`suid`: setuid binaries placed there raise privileges");
        }
        let sized = options.iter().any(|option| {
            let option = option.trim();
            option.starts_with("size=") || option.starts_with("tmpfs-size=")
        });
        let (severity, message) = if !allowed.is_empty() {
            (
                Severity::Low,
                format!(
                    "tmpfs at `{target}` is mounted with {}",
                    allowed.join(" and ")
                ),
            )
        } else if !sized {
            (
                Severity::Info,
                format!(
                    "tmpfs at `{target}` has no `size=`: it can grow to half of the host's memory"
                ),
            )
        } else {
            continue;
        };
        checker.report(tmpfs.span, message).severity(severity);
    }
}

#[cfg(test)]
mod tests {
    use leastpriv_model::{Runtime, SourceKind, Tmpfs};

    use crate::testing::Source;
    use crate::Severity;

    #[test]
    fn judges_written_options() {
        let source = Source::new();
        let tmpfs = |line, options: &[&str]| {
            source.at(
                line,
                Tmpfs {
                    target: "/tmp".into(),
                    options: options.iter().map(|o| (*o).to_owned()).collect(),
                },
            )
        };
        let runtime = Runtime {
            tmpfs: vec![
                tmpfs(2, &["exec", "size=64m"]),
                tmpfs(3, &["size=64m", "suid"]),
                tmpfs(4, &[]),
                tmpfs(5, &["size=1g"]),
                tmpfs(6, &["exec", "noexec", "size=1m"]),
            ],
            ..Runtime::default()
        };
        let found = source.run("LP504", &[source.container(SourceKind::Compose, runtime)]);
        let got: Vec<_> = found.iter().map(|f| (f.line, f.severity)).collect();
        assert_eq!(
            got,
            [(2, Severity::Low), (3, Severity::Low), (4, Severity::Info)]
        );
    }
}
