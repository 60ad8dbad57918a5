use leastpriv_model::Container;

use crate::engine::Checker;
use crate::helpers::runtime::fix_for;
use crate::rule::Check;
use crate::Severity;

crate::declare_rule! {
    /// ## What it does
    /// Flags a device cgroup rule (Compose `device_cgroup_rules:`, `docker run
    /// --device-cgroup-rule`), graded by what it allows: every device (`a *:* rwm`, a `*` major) or the
    /// memory devices (`c 1:*`) are critical, block devices (`b …`) high, misc devices (`c 10:*`)
    /// medium, any other character device low.
    ///
    /// ## Why is this bad?
    /// A rule allows the container to open device numbers that the default device cgroup denies.
    /// Combined with `MKNOD` (in Docker's default set) the container creates the node itself:
    /// `mknod /tmp/disk b 8 1` and the host's first disk is readable and writable.
    ///
    /// ## Example
    /// ```yaml
    /// services:
    ///   app:
    ///     image: example/app
    ///     device_cgroup_rules:
    ///       - "a *:* rwm"
    /// ```
    ///
    /// Use instead: allow the one device the program needs (`c 189:* rmw` for USB serial adapters),
    /// or map it with `devices:`.
    ///
    /// ## Equivalents
    /// None of trivy, checkov, KICS or docker-bench checks it.
    pub(crate) static META = {
        name: "device-cgroup-rule-added",
        layer: Escape,
        severity: Medium,
        fix: "Remove the device cgroup rule, or narrow it to the one device the program needs",
        also: [Critical, High, Low],
    };
}

pub(crate) const CHECK: Check = Check::Container(check);

fn check(checker: &mut Checker<'_>, container: &Container) {
    let Some(runtime) = &container.runtime else {
        return;
    };
    for rule in &runtime.device_cgroup_rules {
        let text = rule.value.trim();
        let mut fields = text.split_whitespace();
        let kind = fields.next().unwrap_or("");
        let major = fields
            .next()
            .and_then(|numbers| numbers.split(':').next())
            .unwrap_or("*");
        let (severity, reach) = match (kind, major) {
            ("a", _) | (_, "*") => (
                Severity::Critical,
                "every device of its type, disks included",
            ),
            ("c", "1") => (
                Severity::Critical,
                "the memory devices (`/dev/mem`, `/dev/kmem`, `/dev/port`)",
            ),
            ("b", _) => (Severity::High, "block devices: the host's disks"),
            ("c", "10") => (Severity::Medium, "misc devices"),
            _ => (Severity::Low, "host character devices"),
        };
        let fix = fix_for(
            container,
            &format!("remove `{text}` from `device_cgroup_rules:`, or map the one device with `devices:`"),
            "remove the device cgroup rule",
            &format!("remove `--device-cgroup-rule '{text}'`, or map the one device with `--device`"),
        );
        checker
            .report(
                rule.span,
                format!("device cgroup rule `{text}` lets the container open {reach}"),
            )
            .severity(severity)
            .fix(fix);
    }
}

#[cfg(test)]
mod tests {
    use leastpriv_model::{Runtime, SourceKind};

    use crate::testing::Source;
    use crate::Severity;

    #[test]
    fn grades_rules_by_reach() {
        let source = Source::new();
        let cases = [
            ("a *:* rwm", Severity::Critical),
            ("c *:* rmw", Severity::Critical),
            ("c 1:1 rw", Severity::Critical),
            ("b 8:* rmw", Severity::High),
            ("c 10:200 rwm", Severity::Medium),
            ("c 189:* rmw", Severity::Low),
        ];
        let runtime = Runtime {
            device_cgroup_rules: cases
                .iter()
                .enumerate()
                .map(|(index, (rule, _))| source.at(index as u32 + 2, (*rule).to_owned()))
                .collect(),
            ..Runtime::default()
        };
        let found = source.run("LP122", &[source.container(SourceKind::Compose, runtime)]);
        let got: Vec<_> = found.iter().map(|f| f.severity).collect();
        let expected: Vec<_> = cases.iter().map(|case| case.1).collect();
        assert_eq!(got, expected);
    }
}
