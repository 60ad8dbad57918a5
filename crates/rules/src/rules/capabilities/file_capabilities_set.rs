use leastpriv_model::{Capability, Container, Remedy};
use leastpriv_source::Spanned;

use crate::engine::Checker;
use crate::helpers::shell::{base_name, run_invocations, Invocation};
use crate::rule::Check;
use crate::Severity;

crate::declare_rule! {
    /// ## What it does
    /// Flags `setcap` in a `RUN` of a stage that reaches the image when it *grants* file
    /// capabilities (`cap_net_raw+ep`, `cap_sys_ptrace=eip`, `=ep` for all). The severity follows the
    /// capability: high for those that lead to root or out of the container (`SYS_ADMIN`,
    /// `SYS_PTRACE`, `SYS_MODULE`, `DAC_READ_SEARCH`, `DAC_OVERRIDE`, `SETUID`, `SETFCAP`, `ALL` …),
    /// low for `NET_BIND_SERVICE` alone, medium otherwise. `setcap -r` (remove) is not reported.
    ///
    /// ## Why is this bad?
    /// A file capability is a setuid bit for one privilege: any user who runs the program gets the
    /// capability, so a non-root `USER` can hold `SYS_PTRACE` or `DAC_OVERRIDE` through it. It
    /// also ties the image to a runtime that keeps the capability in its bounding set: outside
    /// Docker's default set (`SYS_PTRACE`, `NET_ADMIN` …) the container needs a matching `cap_add`,
    /// and the program fails to start under `no-new-privileges` or `cap_drop: [ALL]`. Grant
    /// capabilities at run time, where they are visible and can be dropped.
    ///
    /// ## Example
    /// ```dockerfile
    /// RUN setcap 'cap_sys_ptrace+ep' /usr/bin/gdb
    /// USER app
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// # compose.yaml, only where debugging is needed
    /// services:
    ///   debug:
    ///     cap_drop: [ALL]
    ///     cap_add: [SYS_PTRACE]
    /// ```
    /// For a low port, listen on a port at or above 1024 instead of `cap_net_bind_service`.
    ///
    /// ## Known problems
    /// Capabilities are read from the `setcap` text as written; one built from a variable whose
    /// value is unknown is reported as medium.
    ///
    /// ## Equivalents
    /// hadolint: none · trivy: none for Dockerfiles (KSV-0022 flags added capabilities in
    /// Kubernetes) · checkov: none · dockle: none · CIS Docker Benchmark 5.4 (added capabilities)
    pub(crate) static META = {
        name: "file-capabilities-set",
        layer: Capabilities,
        severity: Medium,
        fix: "Do not set file capabilities: grant the capability to the container at run time (`cap_add`) only where it is needed",
        also: [High, Low],
    };
}

pub(crate) const CHECK: Check = Check::Container(check);

/// Capabilities that lead to root in the container or out of it.
const DANGEROUS: &[&str] = &[
    "SYS_ADMIN",
    "SYS_PTRACE",
    "SYS_MODULE",
    "SYS_RAWIO",
    "SYS_BOOT",
    "SYS_TIME",
    "DAC_READ_SEARCH",
    "DAC_OVERRIDE",
    "CHOWN",
    "FOWNER",
    "SETUID",
    "SETGID",
    "SETFCAP",
    "SETPCAP",
    "NET_ADMIN",
    "BPF",
    "PERFMON",
    "MAC_ADMIN",
    "MAC_OVERRIDE",
    "LINUX_IMMUTABLE",
    "MKNOD",
    "SYSLOG",
];

fn check(checker: &mut Checker<'_>, container: &Container) {
    let Some(build) = &container.build else {
        return;
    };
    for run in build.image_stages().flat_map(|stage| stage.runs.iter()) {
        for invocation in run_invocations(run) {
            if invocation.name() != "setcap" {
                continue;
            }
            for (caps, file) in grants(&invocation) {
                let severity = if caps
                    .iter()
                    .any(|cap| matches!(cap, Capability::All) || DANGEROUS.contains(&cap.name()))
                {
                    Severity::High
                } else if !caps.is_empty()
                    && caps.iter().all(|cap| cap.name() == "NET_BIND_SERVICE")
                {
                    Severity::Low
                } else {
                    Severity::Medium
                };
                let names: Vec<&str> = caps.iter().map(Capability::name).collect();
                let names = if names.is_empty() {
                    "capabilities".to_owned()
                } else {
                    format!("`{}`", names.join("`, `"))
                };
                checker
                    .report(
                        file.span,
                        format!(
                            "`setcap` gives {names} to every user who runs `{}`",
                            base_name(&file.value)
                        ),
                    )
                    .severity(severity)
                    .remedy(Remedy::RemoveInstruction);
            }
        }
    }
}

/// The capabilities each `setcap CAPS FILE…` pair grants (empty when the text cannot be read),
/// skipping removals (`-r`, `cap_x-ep`, `cap_x=`).
fn grants<'a>(invocation: &Invocation<'a>) -> Vec<(Vec<Capability>, &'a Spanned<String>)> {
    let mut operands = Vec::new();
    let mut args = invocation.args.iter();
    while let Some(arg) = args.next() {
        match arg.value.as_str() {
            "-r" => return Vec::new(),
            "-n" => {
                args.next();
            }
            value if value.starts_with('-') => {}
            _ => operands.push(arg),
        }
    }
    operands
        .chunks(2)
        .filter_map(|pair| match pair {
            [caps, file] => parse_grant(&caps.value).map(|caps| (caps, *file)),
            _ => None,
        })
        .collect()
}

/// The capabilities a `cap_to_text(3)` string raises into the permitted or effective set; `None`
/// when it grants nothing.
fn parse_grant(text: &str) -> Option<Vec<Capability>> {
    let mut granted = Vec::new();
    let mut any = false;
    for clause in text.split_whitespace() {
        let Some(op_at) = clause.find(['+', '=', '-']) else {
            continue;
        };
        let (list, ops) = clause.split_at(op_at);
        // `+ep`, `=eip`, `+p-i`: a raise is `+` or `=` with `p` or `e`.
        let mut raises = false;
        let mut rest = ops;
        while let Some(op) = rest.chars().next() {
            let end = rest[1..]
                .find(['+', '=', '-'])
                .map_or(rest.len(), |end| end + 1);
            let flags = &rest[1..end];
            raises |= op != '-' && (flags.contains('p') || flags.contains('e'));
            rest = &rest[end..];
        }
        if !raises {
            continue;
        }
        any = true;
        if list.is_empty() || list.eq_ignore_ascii_case("all") {
            granted.push(Capability::All);
        } else {
            granted.extend(
                list.split(',')
                    .filter(|name| !name.contains('$'))
                    .map(Capability::parse),
            );
        }
    }
    any.then_some(granted)
}

#[cfg(test)]
mod tests {
    use super::{parse_grant, META};
    use crate::dockerfile_testing::findings;
    use leastpriv_model::Capability;

    #[test]
    fn reads_capability_text() {
        assert_eq!(
            parse_grant("cap_net_raw,cap_net_admin+eip"),
            Some(vec![
                Capability::Known("NET_RAW"),
                Capability::Known("NET_ADMIN")
            ])
        );
        assert_eq!(parse_grant("=ep"), Some(vec![Capability::All]));
        assert_eq!(
            parse_grant("cap_sys_ptrace=eip"),
            Some(vec![Capability::Known("SYS_PTRACE")])
        );
        assert_eq!(parse_grant("cap_net_raw-ep"), None);
        assert_eq!(parse_grant("cap_net_raw="), None);
    }

    #[test]
    fn fires_with_severity_by_capability() {
        // Modelled on microsoft__mssql-docker/linux/preview/examples/mssql-server-linux-non-root/
        // Dockerfile (lines 15, 19) and jessfraz__dockerfiles/wireshark/Dockerfile (line 28).
        let found = findings(
            &META,
            "FROM ubuntu\n\
             RUN setcap cap_net_bind_service+ep /opt/mssql/bin/sqlservr\n\
             RUN setcap cap_sys_ptrace+ep /usr/bin/gdb\n\
             RUN apt-get install -y wireshark && setcap cap_net_raw+eip /usr/bin/dumpcap\n",
        );
        assert_eq!(
            found,
            [
                "2: low `setcap` gives `NET_BIND_SERVICE` to every user who runs `sqlservr`",
                "3: high `setcap` gives `SYS_PTRACE` to every user who runs `gdb`",
                "4: medium `setcap` gives `NET_RAW` to every user who runs `dumpcap`",
            ]
        );
    }

    #[test]
    fn stays_silent_on_removal_and_builder_stages() {
        let found = findings(
            &META,
            "FROM ubuntu AS build\n\
             RUN setcap cap_sys_admin+ep /usr/bin/tool\n\
             FROM ubuntu\n\
             RUN setcap -r /usr/bin/ping\n\
             RUN getcap -r / && echo setcap cap_sys_admin+ep\n",
        );
        assert!(found.is_empty(), "{found:?}");
    }
}
