//! The Kubernetes fixer: each container's findings (init and ephemeral containers too) written as
//! its `securityContext` and volumes, to meet the Pod Security Standards' restricted level.
//!
//! | remedy | written in the container |
//! |---|---|
//! | non-root user | `runAsNonRoot: true`, `runAsUser: 10001` (a known image's own uid is not known by number) |
//! | drop capabilities | `capabilities: {drop: [ALL]}`, `add` of what the profile needed (else `NET_BIND_SERVICE` below port 1024) |
//! | no new privileges | `allowPrivilegeEscalation: false` |
//! | read-only root | `readOnlyRootFilesystem: true`, an `emptyDir` volume mounted at `/tmp`, a known image's or the profile's paths |
//! | seccomp | `seccompProfile: {type: RuntimeDefault}`, or `Localhost` with the profile's file |
//! | literal secret in `env` | `valueFrom: {secretKeyRef: …}` to a Secret named in the summary (never written with the value) |
//! | `--remove-dangerous` | `privileged`, `hostPID`/`hostNetwork`/`hostIPC`, host path mounts, dangerous `capabilities.add` removed |
//!
//! Settings are edited where the container writes them; a container written as an alias or inside an
//! aliased anchor is left with the reason.

use std::collections::BTreeSet;

use leastpriv_frontend::kubernetes::pod_specs;
use leastpriv_frontend::yaml::{Entry, Node, Value};
use leastpriv_model::{Confinement, Namespace, Remedy};
use leastpriv_rules::{Diagnostic, Layer};

use crate::edit::Edit;
use crate::known_images;
use crate::plan::{Change, FilePlan, Fix, LeftReason};
use crate::profile::{needed_capabilities, profile_for, Profile};
use crate::yaml_edit::{NewValue, Placement, Yaml};
use crate::{FixInput, Fixer, Subject};

/// The uid a container runs as when nothing better is known.
pub const DEFAULT_UID: &str = "10001";

/// The container lists of a pod spec.
const CONTAINER_LISTS: [&str; 3] = ["initContainers", "containers", "ephemeralContainers"];

/// Writes Kubernetes containers' remedies.
pub struct KubernetesFixer;

impl Fixer for KubernetesFixer {
    fn plan(&self, input: &FixInput<'_>) -> FilePlan {
        let text = input.db.get(input.file);
        let text = text.text();
        // The front-end's parse when it kept it: the text is parsed once per pass.
        let documents = input.yaml_documents();
        let documents = documents.as_ref();
        let yaml = Yaml::new(text, documents);
        let mut plan = FilePlan::default();
        for document in documents {
            for spec in pod_specs(document) {
                let mut volumes_planned = false;
                for list in CONTAINER_LISTS {
                    let Some(list_entry) = spec.entry(list) else {
                        continue;
                    };
                    for node in list_entry.value.as_seq().unwrap_or_default() {
                        let Some(subject) = input.subjects.iter().find(|subject| {
                            let origin = subject.container.origin;
                            origin.file == input.file
                                && node.span.range.start <= origin.range.start
                                && origin.range.end <= node.span.range.end
                        }) else {
                            continue;
                        };
                        let container = ContainerNode {
                            yaml: &yaml,
                            spec,
                            node,
                            aliased: yaml.placement(list_entry) != Placement::Own,
                            subject,
                            input,
                            profile: profile_for(
                                &input.options.profiles,
                                subject.container,
                                image(node),
                            ),
                        };
                        container.plan(&mut plan, &mut volumes_planned);
                    }
                }
            }
        }
        plan
    }
}

fn image(container: &Node) -> Option<&str> {
    container.get("image").and_then(Node::as_str)
}

struct ContainerNode<'a> {
    yaml: &'a Yaml<'a>,
    spec: &'a Node,
    node: &'a Node,
    /// The container list is an alias or an aliased anchor.
    aliased: bool,
    subject: &'a Subject<'a>,
    input: &'a FixInput<'a>,
    profile: Option<&'a Profile>,
}

/// A setting of a `securityContext`: a path of keys and what it must hold.
enum Want {
    /// The value, replacing what is there.
    Set(NewValue),
    /// These strings among the sequence's items.
    Include(Vec<String>),
}

impl<'a> ContainerNode<'a> {
    fn name(&self) -> &str {
        &self.subject.container.name
    }

    fn plan(&self, plan: &mut FilePlan, volumes_planned: &mut bool) {
        let findings: Vec<&Diagnostic> = self
            .subject
            .findings
            .iter()
            .filter(|finding| finding.span.file == self.input.file)
            .collect();
        if self.aliased {
            for finding in findings.iter().filter(|f| f.remedy.is_some()) {
                plan.leave(self.name(), finding, LeftReason::Anchored, "the container list is an alias or an anchor other nodes alias: an edit would change them too");
            }
            return;
        }
        let mut wants: Vec<(Vec<&'static str>, Want)> = Vec::new();
        let mut changes: Vec<Change> = Vec::new();
        let mut group =
            |codes: Vec<&Diagnostic>, layer: Layer, summary: String, may_break: &str| {
                if codes.is_empty() {
                    return;
                }
                let rules: BTreeSet<&'static str> = codes.iter().map(|f| f.rule.code).collect();
                changes.push(Change {
                    container: self.name().to_owned(),
                    rules: rules.into_iter().collect(),
                    layer,
                    summary,
                    may_break: Some(may_break.to_owned()),
                    follow_up: None,
                });
            };
        let by = |remedy: fn(&Remedy) -> bool| -> Vec<&Diagnostic> {
            findings
                .iter()
                .copied()
                .filter(|f| f.remedy.as_ref().is_some_and(remedy))
                .collect()
        };
        let user = by(|r| matches!(r, Remedy::SetNonRootUser));
        if !user.is_empty() {
            wants.push((
                vec!["runAsNonRoot"],
                Want::Set(NewValue::Plain("true".into())),
            ));
            let set_uid = self
                .security("runAsUser")
                .and_then(Node::as_i64)
                .is_none_or(|uid| uid == 0);
            if set_uid {
                wants.push((
                    vec!["runAsUser"],
                    Want::Set(NewValue::Plain(DEFAULT_UID.into())),
                ));
            }
            group(user, Layer::User, format!("securityContext: runAsNonRoot: true{}", if set_uid { ", runAsUser: 10001" } else { "" }), "the process runs as uid 10001: files it writes in volumes must be writable by it (set fsGroup if needed)");
        }
        let drop = by(|r| matches!(r, Remedy::DropAllCapabilities));
        if !drop.is_empty() {
            wants.push((
                vec!["capabilities", "drop"],
                Want::Include(vec!["ALL".into()]),
            ));
            let needed = self.needed_capabilities();
            if !needed.is_empty() {
                wants.push((vec!["capabilities", "add"], Want::Include(needed.clone())));
            }
            let summary = if needed.is_empty() {
                "securityContext: capabilities: {drop: [ALL]}".to_owned()
            } else {
                format!(
                    "securityContext: capabilities: {{drop: [ALL], add: [{}]}}",
                    needed.join(", ")
                )
            };
            group(drop, Layer::Capabilities, summary, "the process keeps no capability beyond those added back: chown, setuid and raw sockets fail");
        }
        let escalation = by(|r| matches!(r, Remedy::SetNoNewPrivileges));
        if !escalation.is_empty() {
            wants.push((
                vec!["allowPrivilegeEscalation"],
                Want::Set(NewValue::Plain("false".into())),
            ));
            group(
                escalation,
                Layer::Filesystem,
                "securityContext: allowPrivilegeEscalation: false".into(),
                "setuid programs (sudo, su) no longer gain privileges",
            );
        }
        let seccomp = by(|r| matches!(r, Remedy::RestoreConfinement(Confinement::Seccomp)));
        let localhost = self
            .profile
            .filter(|_| self.input.profile_seccomp)
            .and_then(|p| p.profile.seccomp_profile.clone());
        // A container already under the runtime's default filter has no finding, yet the profile
        // tightens it: as in Compose and `docker run`, its filter is written all the same.
        let mut tightened = None;
        if seccomp.is_empty() {
            if let Some(file) = localhost.as_ref().filter(|file| !self.has_localhost(file)) {
                wants.push((
                    vec!["seccompProfile"],
                    Want::Set(NewValue::Map(vec![
                        ("type".into(), NewValue::str("Localhost")),
                        ("localhostProfile".into(), NewValue::str(file)),
                    ])),
                ));
                tightened = Some(Change {
                    container: self.name().to_owned(),
                    rules: Vec::new(),
                    layer: Layer::Confinement,
                    summary: format!("securityContext: seccompProfile: Localhost {file} (the profile's; install it in the kubelet's seccomp directory)"),
                    may_break: Some("only the syscalls the profile recorded are allowed: a code path not exercised while profiling fails with EPERM".to_owned()),
                    follow_up: None,
                });
            }
        }
        if !seccomp.is_empty() {
            let value = match &localhost {
                Some(file) => NewValue::Map(vec![
                    ("type".into(), NewValue::str("Localhost")),
                    ("localhostProfile".into(), NewValue::str(file)),
                ]),
                None => NewValue::Map(vec![("type".into(), NewValue::str("RuntimeDefault"))]),
            };
            let summary = match &localhost {
                Some(file) => format!("securityContext: seccompProfile: Localhost {file} (the profile's; install it in the kubelet's seccomp directory)"),
                None => "securityContext: seccompProfile: {type: RuntimeDefault}".to_owned(),
            };
            wants.push((vec!["seccompProfile"], Want::Set(value)));
            group(
                seccomp,
                Layer::Confinement,
                summary,
                "syscalls outside the profile fail with EPERM",
            );
        }
        let apparmor = by(|r| matches!(r, Remedy::RestoreConfinement(Confinement::AppArmor)));
        if !apparmor.is_empty() && self.security("appArmorProfile").is_some() {
            wants.push((
                vec!["appArmorProfile"],
                Want::Set(NewValue::Map(vec![(
                    "type".into(),
                    NewValue::str("RuntimeDefault"),
                )])),
            ));
            group(
                apparmor,
                Layer::Confinement,
                "securityContext: appArmorProfile: {type: RuntimeDefault}".into(),
                "files and operations the runtime's AppArmor profile denies fail",
            );
        } else {
            for finding in apparmor {
                plan.leave(self.name(), finding, LeftReason::NotExpressible, "AppArmor is weakened outside the container's securityContext (an annotation); remove it there");
            }
        }
        let proc_mount = by(|r| matches!(r, Remedy::RestoreConfinement(Confinement::ProcPaths)));
        if !proc_mount.is_empty() {
            wants.push((vec!["procMount"], Want::Set(NewValue::str("Default"))));
            group(
                proc_mount,
                Layer::Confinement,
                "securityContext: procMount: Default".into(),
                "the container no longer sees the host's /proc paths unmasked",
            );
        }
        let read_only = by(|r| matches!(r, Remedy::SetReadOnlyRoot));
        let mut volume_paths = Vec::new();
        if !read_only.is_empty() {
            wants.push((
                vec!["readOnlyRootFilesystem"],
                Want::Set(NewValue::Plain("true".into())),
            ));
            volume_paths = self.written_paths();
            group(
                read_only,
                Layer::Filesystem,
                format!(
                    "securityContext: readOnlyRootFilesystem: true, emptyDir at {}",
                    volume_paths.join(", ")
                ),
                &format!(
                    "the container must not write outside its volumes and {}",
                    volume_paths.join(", ")
                ),
            );
        }
        changes.extend(tightened);
        for finding in by(|r| matches!(r, Remedy::RestoreConfinement(Confinement::SeLinux))) {
            plan.leave(
                self.name(),
                finding,
                LeftReason::NotExpressible,
                "a weakened SELinux label must be chosen by hand",
            );
        }

        let mut edits = Vec::new();
        let mut left_out = false;
        if !wants.is_empty() {
            match self.security_context_edits(&wants) {
                Some(mut found) => edits.append(&mut found),
                None => left_out = true,
            }
        }
        let mut later = false;
        if !volume_paths.is_empty() && !left_out {
            match self.volume_edits(&volume_paths, volumes_planned) {
                Some(Some(mut found)) => edits.append(&mut found),
                Some(None) => later = true,
                None => left_out = true,
            }
        }
        if left_out {
            for finding in findings.iter().filter(|f| f.remedy.is_some()) {
                if changes.iter().any(|c| c.rules.contains(&finding.rule.code)) {
                    plan.leave(self.name(), finding, LeftReason::UnusualSyntax, "the container's securityContext or volumes are written in a form harden does not edit");
                }
            }
        } else if !edits.is_empty() && !later {
            plan.fixes.push(Fix { changes, edits });
        }

        for finding in &findings {
            match &finding.remedy {
                Some(
                    Remedy::RemovePrivileged
                    | Remedy::RemoveAddedCapability(_)
                    | Remedy::RemoveMount { .. }
                    | Remedy::UsePrivateNamespace(_),
                ) => self.dangerous(plan, finding),
                Some(Remedy::MoveToSecret { name }) => self.secret(plan, finding, name),
                Some(
                    Remedy::SetNonRootUser
                    | Remedy::DropAllCapabilities
                    | Remedy::SetNoNewPrivileges
                    | Remedy::SetReadOnlyRoot
                    | Remedy::RestoreConfinement(_),
                ) => {}
                Some(Remedy::RemoveInstruction | Remedy::ExcludeFromBuildContext { .. }) | None => {
                    plan.leave(
                        self.name(),
                        finding,
                        LeftReason::NotExpressible,
                        "no container setting expresses this; see the fix",
                    )
                }
            }
        }
    }

    /// The container's own `securityContext` setting `key`.
    fn security(&self, key: &str) -> Option<&'a Node> {
        self.node.get("securityContext")?.get(key)
    }

    /// Whether the container's own `securityContext` already names `file` as its Localhost
    /// seccomp profile.
    fn has_localhost(&self, file: &str) -> bool {
        self.security("seccompProfile").is_some_and(|profile| {
            profile.get("type").and_then(Node::as_str) == Some("Localhost")
                && profile.get("localhostProfile").and_then(Node::as_str) == Some(file)
        })
    }

    /// The capabilities the container needs.
    fn needed_capabilities(&self) -> Vec<String> {
        needed_capabilities(self.profile, self.subject.container.runtime.as_ref()).0
    }

    fn written_paths(&self) -> Vec<String> {
        let mut paths = vec!["/tmp".to_owned()];
        if let Some(profile) = self.profile.filter(|p| p.observed("written_paths")) {
            paths.extend(profile.profile.written_paths.iter().cloned());
        } else if let Some(image) = image(self.node) {
            paths.extend(
                known_images::written_paths(image)
                    .iter()
                    .map(|p| (*p).to_owned()),
            );
        }
        let mounted: Vec<&str> = self
            .node
            .get("volumeMounts")
            .and_then(Node::as_seq)
            .unwrap_or_default()
            .iter()
            .filter_map(|mount| mount.get("mountPath")?.as_str())
            .collect();
        let mut paths: Vec<String> = paths
            .into_iter()
            .filter(|path| !mounted.iter().any(|m| m.trim_end_matches('/') == path))
            .collect();
        paths.sort();
        paths.dedup();
        paths
    }

    /// The edits that give the container's `securityContext` every wanted setting.
    fn security_context_edits(&self, wants: &[(Vec<&'static str>, Want)]) -> Option<Vec<Edit>> {
        match self.node.entry("securityContext") {
            Some(entry) if entry.value.as_map().is_some() => {
                if self.yaml.placement(entry) != Placement::Own {
                    return None;
                }
                self.map_edits(&entry.value, wants)
            }
            Some(entry) => self
                .yaml
                .replace_value(entry, &new_map(wants))
                .map(|edit| vec![edit]),
            None => self
                .yaml
                .insert(self.node, "securityContext", &new_map(wants))
                .map(|edit| vec![edit]),
        }
    }

    /// Edits of an existing mapping: replacements in place, insertions made one edit.
    fn map_edits(&self, map: &Node, wants: &[(Vec<&'static str>, Want)]) -> Option<Vec<Edit>> {
        let mut edits = Vec::new();
        let mut inserts: Vec<(String, NewValue)> = Vec::new();
        let mut keys: Vec<&str> = wants
            .iter()
            .filter_map(|(path, _)| path.first().copied())
            .collect();
        keys.dedup();
        for key in keys {
            let under: Vec<(Vec<&'static str>, &Want)> = wants
                .iter()
                .filter(|(path, _)| path.first() == Some(&key))
                .map(|(path, want)| (path[1..].to_vec(), want))
                .collect();
            let own = map
                .as_map()?
                .iter()
                .find(|e| e.key.as_str() == Some(key) && self.yaml.is_own(map, e));
            match (own, under.as_slice()) {
                (Some(entry), [(rest, want)]) if rest.is_empty() => {
                    edits.extend(self.leaf_edit(entry, want)?);
                }
                (Some(entry), _) if entry.value.as_map().is_some() => {
                    if self.yaml.placement(entry) != Placement::Own {
                        return None;
                    }
                    let nested: Vec<(Vec<&'static str>, Want)> = under
                        .iter()
                        .map(|(rest, want)| (rest.clone(), clone_want(want)))
                        .collect();
                    edits.extend(self.map_edits(&entry.value, &nested)?);
                }
                (Some(entry), _) => {
                    let nested: Vec<(Vec<&'static str>, Want)> = under
                        .iter()
                        .map(|(rest, want)| (rest.clone(), clone_want(want)))
                        .collect();
                    edits.push(self.yaml.replace_value(entry, &new_map(&nested))?);
                }
                (None, [(rest, want)]) if rest.is_empty() => {
                    inserts.push((key.to_owned(), want_value(want)));
                }
                (None, _) => {
                    let nested: Vec<(Vec<&'static str>, Want)> = under
                        .iter()
                        .map(|(rest, want)| (rest.clone(), clone_want(want)))
                        .collect();
                    inserts.push((key.to_owned(), new_map(&nested)));
                }
            }
        }
        if !inserts.is_empty() {
            edits.push(self.yaml.insert_many(map, &inserts)?);
        }
        Some(edits)
    }

    fn leaf_edit(&self, entry: &Entry, want: &Want) -> Option<Vec<Edit>> {
        match want {
            Want::Set(value) => {
                if self.yaml.source(&entry.value) == self.yaml.render_flow(value)
                    || same_value(&entry.value, value)
                {
                    return Some(Vec::new());
                }
                Some(vec![self.yaml.replace_value(entry, value)?])
            }
            Want::Include(items) => {
                let present: Vec<&str> = entry
                    .value
                    .as_seq()
                    .unwrap_or_default()
                    .iter()
                    .filter_map(Node::as_str)
                    .collect();
                let missing: Vec<NewValue> = items
                    .iter()
                    .filter(|item| {
                        !present
                            .iter()
                            .any(|p| p.trim_start_matches("CAP_").eq_ignore_ascii_case(item))
                    })
                    .map(NewValue::str)
                    .collect();
                if missing.is_empty() {
                    return Some(Vec::new());
                }
                match &entry.value.value {
                    Value::Seq(existing)
                        if !existing.is_empty() || self.yaml.is_flow(&entry.value) =>
                    {
                        Some(vec![self.yaml.append(&entry.value, &missing)?])
                    }
                    _ => Some(vec![self
                        .yaml
                        .replace_value(entry, &NewValue::Seq(missing))?]),
                }
            }
        }
    }

    /// `emptyDir` volumes for `paths`: mounts in the container, volumes in the pod (once per pod per
    /// pass, as their insertions would collide).
    /// `Some(None)`: not in this pass.
    fn volume_edits(
        &self,
        paths: &[String],
        volumes_planned: &mut bool,
    ) -> Option<Option<Vec<Edit>>> {
        let existing: Vec<(&str, bool)> = self
            .spec
            .get("volumes")
            .and_then(Node::as_seq)
            .unwrap_or_default()
            .iter()
            .filter_map(|volume| {
                Some((
                    volume.get("name")?.as_str()?,
                    volume.get("emptyDir").is_some(),
                ))
            })
            .collect();
        let mut mounts = Vec::new();
        let mut volumes = Vec::new();
        for path in paths {
            let base = volume_name(path);
            let name = if existing.iter().any(|(name, empty)| *name == base && *empty) {
                base
            } else {
                let mut name = base.clone();
                let mut n = 2;
                while existing.iter().any(|(existing, _)| *existing == name) {
                    name = format!("{base}-{n}");
                    n += 1;
                }
                volumes.push(NewValue::Map(vec![
                    ("name".into(), NewValue::str(&name)),
                    (
                        "emptyDir".into(),
                        NewValue::Map(vec![("sizeLimit".into(), NewValue::str("64Mi"))]),
                    ),
                ]));
                name
            };
            mounts.push(NewValue::Map(vec![
                ("name".into(), NewValue::str(&name)),
                ("mountPath".into(), NewValue::str(path)),
            ]));
        }
        if !volumes.is_empty() && *volumes_planned {
            // Another container of this pod adds volumes in this pass: the next pass does this one.
            return Some(None);
        }
        let mut edits = Vec::new();
        edits.push(self.append_or_insert(self.node, "volumeMounts", mounts)?);
        if !volumes.is_empty() {
            *volumes_planned = true;
            edits.push(self.append_or_insert(self.spec, "volumes", volumes)?);
        }
        Some(Some(edits))
    }

    fn append_or_insert(&self, map: &Node, key: &str, items: Vec<NewValue>) -> Option<Edit> {
        match map.entry(key) {
            Some(entry) if self.yaml.placement(entry) != Placement::Own => None,
            Some(entry) if matches!(&entry.value.value, Value::Seq(items) if !items.is_empty()) => {
                self.yaml.append(&entry.value, &items)
            }
            Some(entry) => self.yaml.replace_value(entry, &NewValue::Seq(items)),
            None => self.yaml.insert(map, key, &NewValue::Seq(items)),
        }
    }

    fn dangerous(&self, plan: &mut FilePlan, finding: &Diagnostic) {
        if !self.input.options.remove_dangerous {
            return plan.leave(
                self.name(),
                finding,
                LeftReason::NeedsRemoveDangerous,
                "the workload may rely on it; run with --remove-dangerous to remove it",
            );
        }
        let security = self.node.entry("securityContext").map(|e| &e.value);
        let (edit, summary) = match &finding.remedy {
            Some(Remedy::RemovePrivileged) => (
                security
                    .and_then(|s| Some((s, s.entry("privileged")?)))
                    .and_then(|(s, e)| self.yaml.remove_entry(s, e)),
                "securityContext: privileged removed".to_owned(),
            ),
            Some(Remedy::UsePrivateNamespace(namespace)) => {
                let key = match namespace {
                    Namespace::Pid => "hostPID",
                    Namespace::Network => "hostNetwork",
                    Namespace::Ipc => "hostIPC",
                    Namespace::Uts | Namespace::User | Namespace::Cgroup => {
                        return plan.leave(self.name(), finding, LeftReason::NotExpressible, "removing the setting would not give the pod its own namespace (hostUsers defaults to true)");
                    }
                };
                (
                    self.spec
                        .entry(key)
                        .and_then(|e| self.yaml.remove_entry(self.spec, e)),
                    format!("{key} removed from the pod"),
                )
            }
            Some(Remedy::RemoveAddedCapability(capability)) => {
                let bare = capability.to_string().trim_start_matches("CAP_").to_owned();
                let add = security
                    .and_then(|s| s.get("capabilities"))
                    .and_then(|c| c.get("add"));
                let item = add.and_then(|add| {
                    add.as_seq()?.iter().find(|item| {
                        item.as_str().is_some_and(|t| {
                            t.trim_start_matches("CAP_").eq_ignore_ascii_case(&bare)
                        })
                    })
                });
                (
                    add.zip(item)
                        .and_then(|(add, item)| self.yaml.remove_item(add, item)),
                    format!("securityContext: capabilities.add {bare} removed"),
                )
            }
            Some(Remedy::RemoveMount { target }) => {
                let mounts = self.node.get("volumeMounts");
                let item = mounts.and_then(|mounts| {
                    mounts.as_seq()?.iter().find(|m| {
                        m.get("mountPath").and_then(Node::as_str).is_some_and(|p| {
                            p.trim_end_matches('/') == target.trim_end_matches('/')
                        })
                    })
                });
                (
                    mounts
                        .zip(item)
                        .and_then(|(mounts, item)| self.yaml.remove_item(mounts, item)),
                    format!("volumeMounts: {target} removed"),
                )
            }
            _ => return,
        };
        match edit {
            Some(edit) => plan.fixes.push(Fix {
                changes: vec![Change {
                    container: self.name().to_owned(),
                    rules: vec![finding.rule.code],
                    layer: finding.rule.meta.layer,
                    summary,
                    may_break: Some("the workload loses access it was given on purpose".to_owned()),
                    follow_up: None,
                }],
                edits: vec![edit],
            }),
            None => plan.leave(self.name(), finding, LeftReason::UnusualSyntax, "the setting is not written where harden can remove it (another object, an anchor, a shared line)"),
        }
    }

    fn secret(&self, plan: &mut FilePlan, finding: &Diagnostic, name: &str) {
        let env = self
            .node
            .get("env")
            .and_then(Node::as_seq)
            .unwrap_or_default();
        let variable = env
            .iter()
            .find(|item| item.get("name").and_then(Node::as_str) == Some(name));
        let Some(variable) = variable else {
            return plan.leave(
                self.name(),
                finding,
                LeftReason::UnusualSyntax,
                "the variable is not a literal `env` entry of this container",
            );
        };
        let Some(value_entry) = variable.entry("value") else {
            let (reason, detail) = if variable.get("valueFrom").is_some() {
                (
                    LeftReason::NoFileConvention,
                    "the application must read the secret from a file (a `secret` volume) instead of the variable",
                )
            } else {
                (
                    LeftReason::UnusualSyntax,
                    "the variable has no literal value here",
                )
            };
            return plan.leave(self.name(), finding, reason, detail);
        };
        let workload = self
            .subject
            .container
            .name
            .split(['/', ' '])
            .nth(1)
            .unwrap_or("workload")
            .to_ascii_lowercase();
        let secret = format!("{}-secrets", sanitize(&workload));
        let key = name.to_ascii_lowercase().replace('_', "-");
        let value = NewValue::Map(vec![(
            "secretKeyRef".into(),
            NewValue::Map(vec![
                ("name".into(), NewValue::str(&secret)),
                ("key".into(), NewValue::str(&key)),
            ]),
        )]);
        match self.yaml.replace_entry(variable, value_entry, "valueFrom", &value) {
            Some(edit) => plan.fixes.push(Fix {
                changes: vec![Change {
                    container: self.name().to_owned(),
                    rules: vec![finding.rule.code],
                    layer: Layer::Secrets,
                    summary: format!("env: {name} read from the Secret `{secret}`, key `{key}`"),
                    may_break: Some(format!("the pod does not start until the Secret {secret} exists")),
                    follow_up: Some(format!(
                        "create it: kubectl create secret generic {secret} --from-file={key}=FILE, and rotate the value: it was committed in this file"
                    )),
                }],
                edits: vec![edit],
            }),
            None => plan.leave(self.name(), finding, LeftReason::Anchored, "the value is written in an anchor or an alias"),
        }
    }
}

/// A DNS-1123 name: lowercase letters, digits and `-`.
fn sanitize(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let trimmed = cleaned.trim_matches('-');
    if trimmed.is_empty() {
        "workload".to_owned()
    } else {
        trimmed.chars().take(50).collect()
    }
}

/// The volume name of an `emptyDir` for `path` (`/var/cache/nginx` → `var-cache-nginx`).
fn volume_name(path: &str) -> String {
    sanitize(path)
}

fn clone_want(want: &Want) -> Want {
    match want {
        Want::Set(value) => Want::Set(value.clone()),
        Want::Include(items) => Want::Include(items.clone()),
    }
}

fn want_value(want: &Want) -> NewValue {
    match want {
        Want::Set(value) => value.clone(),
        Want::Include(items) => NewValue::strings(items.iter().cloned()),
    }
}

/// A new mapping holding every wanted setting, nested by path.
fn new_map(wants: &[(Vec<&'static str>, Want)]) -> NewValue {
    let mut entries: Vec<(String, NewValue)> = Vec::new();
    let mut keys: Vec<&str> = wants
        .iter()
        .filter_map(|(path, _)| path.first().copied())
        .collect();
    keys.dedup();
    for key in keys {
        let under: Vec<(Vec<&'static str>, Want)> = wants
            .iter()
            .filter(|(path, _)| path.first() == Some(&key))
            .map(|(path, want)| (path[1..].to_vec(), clone_want(want)))
            .collect();
        let value = match under.as_slice() {
            [(rest, want)] if rest.is_empty() => want_value(want),
            _ => new_map(&under),
        };
        entries.push((key.to_owned(), value));
    }
    NewValue::Map(entries)
}

/// Whether a node already holds `value` (`true` and `True`, a mapping with the same scalars).
fn same_value(node: &Node, value: &NewValue) -> bool {
    match (value, &node.value) {
        (NewValue::Plain(text), _) => {
            node.as_str() == Some(text.as_str())
                || (node.as_bool().is_some() && node.as_bool() == text.parse().ok())
        }
        (NewValue::Str(text), Value::Scalar(scalar)) => scalar.text == *text,
        (NewValue::Map(entries), Value::Map(_)) => entries
            .iter()
            .all(|(key, value)| node.get(key).is_some_and(|child| same_value(child, value))),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_dns_labels() {
        assert_eq!(volume_name("/var/cache/nginx"), "var-cache-nginx");
        assert_eq!(sanitize("Web_App"), "web-app");
        assert_eq!(sanitize("///"), "workload");
    }
}
