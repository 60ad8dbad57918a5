//! What the front-ends' unit tests share: lowering a text with one front-end, reading a fixture, and
//! rendering lowered containers for snapshot tests (every runtime value with the line, column and
//! source text its span covers, so a snapshot shows both what was read and exactly where).

use std::fmt::{Debug, Write};

use leastpriv_model::{Container, Runtime, Spanned};
use leastpriv_source::{FileId, SourceDb, Span};

use crate::{Lowered, Options};

/// Lowers `text`, added as the file `path`, with a front-end's `lower` and default options; the
/// database comes back so that spans can be rendered.
pub(crate) fn lower_text(
    lower: fn(&SourceDb, FileId, &Options) -> Lowered,
    path: &str,
    text: &str,
) -> (SourceDb, Lowered) {
    let db = SourceDb::new();
    let file = db.add(path, text);
    let lowered = lower(&db, file, &Options::default());
    (db, lowered)
}

/// The text of `tests/fixtures/<path>` of this crate.
pub(crate) fn fixture(path: &str) -> String {
    let path = format!("{}/tests/fixtures/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{path}: {error}"))
}

/// One block per container, one line per value.
pub(crate) fn render(db: &SourceDb, containers: &[Container]) -> String {
    let mut out = String::new();
    for container in containers {
        let _ = writeln!(
            out,
            "== {} [{:?}] origin {}",
            container.name,
            container.kind,
            place(db, container.origin)
        );
        if let Some(runtime) = &container.runtime {
            render_runtime(db, runtime, &mut out);
        }
        if let Some(image) = &container.image {
            let _ = writeln!(out, "image facts: {}", image.reference);
            line(db, &mut out, "  user", image.user.as_ref());
            for var in &image.env {
                line(db, &mut out, "  env", Some(&var.name));
                line(db, &mut out, "    value", var.value.as_ref());
            }
            for port in &image.exposed {
                line(db, &mut out, "  exposed", Some(port));
            }
        }
    }
    out
}

fn render_runtime(db: &SourceDb, runtime: &Runtime, out: &mut String) {
    line(db, out, "image", runtime.image.as_ref());
    line(db, out, "user", runtime.user.as_ref());
    line(db, out, "run_as_group", runtime.run_as_group.as_ref());
    line(db, out, "run_as_non_root", runtime.run_as_non_root.as_ref());
    line(db, out, "privileged", runtime.privileged.as_ref());
    line(db, out, "host_process", runtime.host_process.as_ref());
    many(db, out, "cap_add", &runtime.cap_add);
    many(db, out, "cap_drop", &runtime.cap_drop);
    if let Some(anchor) = runtime.capabilities_anchor {
        let _ = writeln!(out, "capabilities_anchor: {}", place(db, anchor));
    }
    line(
        db,
        out,
        "no_new_privileges",
        runtime.no_new_privileges.as_ref(),
    );
    line(db, out, "seccomp", runtime.seccomp.as_ref());
    line(db, out, "apparmor", runtime.apparmor.as_ref());
    many(db, out, "selinux", &runtime.selinux);
    if let Some(unmasked) = runtime.unmasked_paths {
        let _ = writeln!(out, "unmasked_paths: {}", place(db, unmasked));
    }
    line(db, out, "read_only_root", runtime.read_only_root.as_ref());
    many(db, out, "tmpfs", &runtime.tmpfs);
    many(db, out, "mount", &runtime.mounts);
    let namespaces = &runtime.namespaces;
    line(db, out, "pid", namespaces.pid.as_ref());
    line(db, out, "network", namespaces.network.as_ref());
    line(db, out, "ipc", namespaces.ipc.as_ref());
    line(db, out, "uts", namespaces.uts.as_ref());
    line(db, out, "userns", namespaces.user.as_ref());
    line(db, out, "cgroupns", namespaces.cgroup.as_ref());
    many(db, out, "device", &runtime.devices);
    many(db, out, "device_cgroup_rule", &runtime.device_cgroup_rules);
    many(db, out, "sysctl", &runtime.sysctls);
    for var in &runtime.environment {
        line(db, out, "env", Some(&var.name));
        line(db, out, "  value", var.value.as_ref());
    }
    many(db, out, "env_file", &runtime.env_files);
    many(db, out, "secret", &runtime.secrets);
    many(db, out, "port", &runtime.ports);
    many(db, out, "group_add", &runtime.group_add);
}

fn many<T: Debug>(db: &SourceDb, out: &mut String, label: &str, values: &[Spanned<T>]) {
    for value in values {
        line(db, out, label, Some(value));
    }
}

fn line<T: Debug>(db: &SourceDb, out: &mut String, label: &str, value: Option<&Spanned<T>>) {
    if let Some(value) = value {
        let _ = writeln!(
            out,
            "{label}: {:?} @ {}",
            value.value,
            place(db, value.span)
        );
    }
}

/// `line:column `text``, the text cut at its first line.
fn place(db: &SourceDb, span: Span) -> String {
    let file = db.get(span.file);
    let position = file.line_column(span.range.start);
    let text = file.slice(span.range);
    let first = text.lines().next().unwrap_or_default();
    let more = if first.len() < text.len() { "…" } else { "" };
    format!("{}:{} `{first}{more}`", position.line, position.column)
}
