//! The Compose fixer: each service's findings written as Compose keys.
//!
//! | remedy | written |
//! |---|---|
//! | non-root user | `user:` the Dockerfile's non-root `USER` when its build is audited, a known image's own user, else `"10001:10001"` |
//! | drop capabilities | `cap_drop: [ALL]`, and `cap_add` of what the profile needed (else `NET_BIND_SERVICE` for a port below 1024) |
//! | no new privileges | `security_opt: [no-new-privileges:true]` |
//! | read-only root | `read_only: true` and `tmpfs:` (`noexec,nosuid,size=`) for `/tmp`, a known image's paths or the profile's |
//! | confinement | `seccomp:unconfined`, `apparmor:unconfined`, `label:disable`, `systempaths=unconfined` removed; the profile's `seccomp=FILE` |
//! | literal secret in `environment` | a Compose secret (`secrets:` with `file:`), `NAME_FILE=/run/secrets/…` where the image reads one |
//! | `--remove-dangerous` | `privileged`, host namespaces, engine sockets and host paths in `volumes`/`devices`, dangerous `cap_add` removed |
//!
//! A setting that comes from an anchor (`<<: *defaults`) is overridden by the service's own key,
//! which keeps the merged items that stay; a service that *is* an alias, or whose key is an aliased
//! anchor, is left with the reason. With `--override` only additions and scalar replacements are
//! planned: removals are left as needing `--in-place`.

use std::collections::{BTreeMap, BTreeSet};

use leastpriv_frontend::yaml::{self, Entry, Node, Value};
use leastpriv_model::{Confinement, Container, Namespace, Remedy};
use leastpriv_rules::{Diagnostic, Layer};
use leastpriv_source::{FileId, Span};

use crate::dockerfile::NON_ROOT_ID;
use crate::edit::Edit;
use crate::known_images;
use crate::plan::{Change, FilePlan, Fix, LeftReason};
use crate::profile::{needed_capabilities, profile_for, Profile};
use crate::yaml_edit::{NewValue, Placement, Yaml};
use crate::{FixInput, Fixer, Output, Subject};

/// The uid and gid a service runs as when nothing better is known: the one the Dockerfile fixer
/// gives an image, high so that it owns no file of the image or the host.
fn default_user() -> String {
    format!("{NON_ROOT_ID}:{NON_ROOT_ID}")
}

/// The size of each tmpfs harden adds: small, since it is memory.
const TMPFS_OPTIONS: &str = "size=64m,noexec,nosuid";

/// Writes Compose services' remedies.
pub struct ComposeFixer;

impl Fixer for ComposeFixer {
    fn plan(&self, input: &FixInput<'_>) -> FilePlan {
        let source = input.db.get(input.file);
        let text = source.text();
        // The front-end's parse when it kept it: the text is parsed once per pass.
        let documents = input.yaml_documents();
        let documents = documents.as_ref();
        let yaml = Yaml::new(text, documents);
        let mut plan = FilePlan::default();
        let mut secrets = SecretMoves::default();
        // Relative paths resolve against the project directory: the first file's.
        let first = input.project.first().map_or(input.file, |first| first.file);
        let first = input.db.get(first);
        let dir = std::path::Path::new(first.path())
            .parent()
            .unwrap_or(std::path::Path::new(""));
        let names = project_names(input);
        for document in documents {
            let Some(services) = document.get("services") else {
                continue;
            };
            for entry in services.as_map().unwrap_or_default() {
                let subject = if input.project.is_empty() {
                    input.subjects.iter().find(|subject| {
                        subject.container.origin == Span::new(input.file, entry.key.span.range)
                    })
                } else {
                    // Merged by name: the service is the one the first file defining it started.
                    names
                        .iter()
                        .find(|(name, _)| Some(*name) == entry.key.as_str())
                        .map(|(_, subject)| *subject)
                };
                let Some(subject) = subject else {
                    continue;
                };
                let siblings = match entry.key.as_str() {
                    Some(name) if !input.project.is_empty() => service_nodes(input, name),
                    _ => Vec::new(),
                };
                let service = Service {
                    yaml: &yaml,
                    entry,
                    node: &entry.value,
                    subject,
                    siblings,
                    input,
                    profile: profile_for(
                        &input.options.profiles,
                        subject.container,
                        image(subject.container).as_deref(),
                    ),
                    dir,
                };
                service.plan(&mut plan, &mut secrets);
            }
            if !secrets.moves.is_empty() {
                secrets.finish(&yaml, document, &mut plan);
                secrets = SecretMoves::default();
            }
        }
        plan
    }
}

/// Each subject of a project given as several files with the name of its service, read where the
/// service is first defined (its origin).
fn project_names<'a>(input: &FixInput<'a>) -> Vec<(&'a str, &'a Subject<'a>)> {
    let mut names = Vec::new();
    for subject in input.subjects {
        let origin = subject.container.origin;
        let Some(file) = input.project.iter().find(|file| file.file == origin.file) else {
            continue;
        };
        let entries = file
            .documents
            .iter()
            .filter_map(|document| document.get("services")?.as_map())
            .flatten();
        for entry in entries {
            if entry.key.span.range == origin.range {
                if let Some(name) = entry.key.as_str() {
                    names.push((name, subject));
                }
            }
        }
    }
    names
}

/// The service `name` as each file of the project writes it, in merge order.
fn service_nodes<'a>(input: &FixInput<'a>, name: &str) -> Vec<(FileId, &'a Node)> {
    let mut nodes = Vec::new();
    for file in input.project {
        for document in file.documents {
            if let Some(service) = document
                .get("services")
                .and_then(|services| services.get(name))
            {
                nodes.push((file.file, service));
            }
        }
    }
    nodes
}

/// The image a container runs, as written.
fn image(container: &Container) -> Option<String> {
    container
        .runtime
        .as_ref()
        .and_then(|runtime| runtime.image.as_ref())
        .map(|image| image.value.clone())
}

struct Service<'a> {
    yaml: &'a Yaml<'a>,
    entry: &'a Entry,
    node: &'a Node,
    subject: &'a Subject<'a>,
    /// In a project given as several files: the service as each file writes it, in merge order
    /// (this file's included). Empty for a file hardened on its own.
    siblings: Vec<(FileId, &'a Node)>,
    input: &'a FixInput<'a>,
    profile: Option<&'a Profile>,
    dir: &'a std::path::Path,
}

/// What one service's findings ask for, each setting once with every finding that asks for it.
#[derive(Default)]
struct Wanted<'d> {
    user: Vec<&'d Diagnostic>,
    drop_all: Vec<&'d Diagnostic>,
    no_new_privileges: Vec<&'d Diagnostic>,
    read_only: Vec<&'d Diagnostic>,
    confinement: Vec<(&'d Diagnostic, Confinement)>,
    dangerous: Vec<&'d Diagnostic>,
    secrets: Vec<(&'d Diagnostic, String)>,
}

impl<'a> Service<'a> {
    fn name(&self) -> &str {
        &self.subject.container.name
    }

    /// The file where the setting a finding asks for is written, in a project given as several
    /// files (see docs/harden.md): a scalar (`user`, `read_only`) in the last file that writes it,
    /// since that one wins, else where the service is first defined; additions to a sequence
    /// (`cap_drop`, `cap_add`) where the service is first defined, since Compose appends the
    /// files' sequences; anything else (a value to take out or change) in the file the finding
    /// points at.
    fn responsible(&self, finding: &Diagnostic) -> FileId {
        let origin = self.subject.container.origin.file;
        let writer = |key: &str| {
            self.siblings
                .iter()
                .rev()
                .find(|(_, node)| node.get(key).is_some())
                .map(|(file, _)| *file)
        };
        match &finding.remedy {
            Some(Remedy::SetNonRootUser) => writer("user").unwrap_or(origin),
            Some(Remedy::SetReadOnlyRoot) => writer("read_only").unwrap_or(origin),
            Some(Remedy::DropAllCapabilities) => origin,
            _ if self
                .siblings
                .iter()
                .any(|(file, _)| *file == finding.span.file) =>
            {
                finding.span.file
            }
            _ => origin,
        }
    }

    /// The service's findings this file fixes or leaves: all of them, or in a project given as
    /// several files those whose setting is written here.
    fn findings(&self) -> impl Iterator<Item = &'a Diagnostic> + '_ {
        let subject: &'a Subject<'a> = self.subject;
        subject.findings.iter().filter(move |finding| {
            self.siblings.is_empty() || self.responsible(finding) == self.input.file
        })
    }

    /// Whether this file gets what the service needs apart from its findings (the profile's
    /// seccomp file): the file the service is first defined in.
    fn is_first_definition(&self) -> bool {
        self.siblings.is_empty() || self.subject.container.origin.file == self.input.file
    }

    /// The items of the sequence `key` as the merged service has them: this file's, or every
    /// file's in a project given as several files (Compose appends them).
    fn merged_items(&self, key: &str) -> Vec<&'a Node> {
        if self.siblings.is_empty() {
            return self.items(key);
        }
        self.siblings
            .iter()
            .filter_map(|(_, node)| node.get(key))
            .flat_map(|value| match &value.value {
                Value::Seq(items) => items.iter().collect(),
                Value::Scalar(_) => vec![value],
                _ => Vec::new(),
            })
            .collect()
    }

    fn plan(&self, plan: &mut FilePlan, secrets: &mut SecretMoves<'a>) {
        let mut wanted = Wanted::default();
        for finding in self.findings() {
            let here = finding.span.file == self.input.file;
            match &finding.remedy {
                Some(Remedy::SetNonRootUser) => wanted.user.push(finding),
                Some(Remedy::DropAllCapabilities) => wanted.drop_all.push(finding),
                Some(Remedy::SetNoNewPrivileges) => wanted.no_new_privileges.push(finding),
                Some(Remedy::SetReadOnlyRoot) => wanted.read_only.push(finding),
                Some(Remedy::RestoreConfinement(kind)) => {
                    wanted.confinement.push((finding, *kind));
                }
                Some(
                    Remedy::RemovePrivileged
                    | Remedy::RemoveAddedCapability(_)
                    | Remedy::RemoveMount { .. }
                    | Remedy::UsePrivateNamespace(_),
                ) => wanted.dangerous.push(finding),
                Some(Remedy::MoveToSecret { name }) if here => {
                    wanted.secrets.push((finding, name.clone()));
                }
                // About the image or its Dockerfile: that file's fixer writes it.
                _ if !here => {}
                Some(_) | None => plan.leave(
                    self.name(),
                    finding,
                    LeftReason::NotExpressible,
                    "Compose has no setting for this; see the fix",
                ),
            }
        }
        let placement = self.yaml.placement(self.entry);
        if placement != Placement::Own || self.node.as_map().is_none() {
            let detail = match placement {
                Placement::AliasedAnchor(anchor) => format!(
                    "the service is the anchor `&{anchor}` that other nodes alias: an edit would change them too"
                ),
                _ => "the service is written as an alias of another node".to_owned(),
            };
            for finding in self.findings().filter(|f| {
                f.remedy.is_some()
                    && (f.span.file == self.input.file
                        || !matches!(f.remedy, Some(Remedy::MoveToSecret { .. })))
            }) {
                plan.leave(self.name(), finding, LeftReason::Anchored, detail.clone());
            }
            return;
        }
        self.user(plan, &wanted.user);
        self.capabilities(plan, &wanted.drop_all);
        self.security_opt(plan, &wanted);
        self.read_only(plan, &wanted.read_only);
        for finding in &wanted.dangerous {
            self.dangerous(plan, finding);
        }
        for (finding, name) in &wanted.secrets {
            self.secret(plan, secrets, finding, name);
        }
    }

    /// The service's own entry of `key`.
    fn own(&self, key: &str) -> Option<&'a Entry> {
        self.node
            .as_map()?
            .iter()
            .find(|entry| entry.key.as_str() == Some(key) && self.yaml.is_own(self.node, entry))
    }

    /// The entry of `key` merged in from an anchor, when the service has no own one.
    fn merged(&self, key: &str) -> Option<&'a Entry> {
        self.node
            .as_map()?
            .iter()
            .find(|entry| entry.key.as_str() == Some(key) && !self.yaml.is_own(self.node, entry))
    }

    fn fix(&self, plan: &mut FilePlan, change: Change, edit: Edit) {
        plan.fixes.push(Fix {
            changes: vec![change],
            edits: vec![edit],
        });
    }

    fn change(&self, findings: &[&Diagnostic], layer: Layer, summary: String) -> Change {
        let rules: BTreeSet<&'static str> = findings.iter().map(|f| f.rule.code).collect();
        Change {
            container: self.name().to_owned(),
            rules: rules.into_iter().collect(),
            layer,
            summary,
            may_break: None,
            follow_up: None,
        }
    }

    fn leave_all(
        &self,
        plan: &mut FilePlan,
        findings: &[&Diagnostic],
        reason: LeftReason,
        detail: &str,
    ) {
        for finding in findings {
            plan.leave(self.name(), finding, reason, detail);
        }
    }

    /// Sets a scalar key; `Err` with the reason when it cannot be written here.
    fn set_scalar(&self, key: &str, value: &NewValue) -> Result<Option<Edit>, LeftReason> {
        match self.own(key) {
            Some(entry) => {
                if self.yaml.placement(entry) != Placement::Own {
                    return Err(LeftReason::Anchored);
                }
                if self.yaml.source(&entry.value) == self.yaml.render_flow(value) {
                    return Ok(None);
                }
                self.yaml
                    .replace_value(entry, value)
                    .map(Some)
                    .ok_or(LeftReason::UnusualSyntax)
            }
            None => self
                .yaml
                .insert(self.node, key, value)
                .map(Some)
                .ok_or(LeftReason::UnusualSyntax),
        }
    }

    /// Adds `add` to the sequence `key` and takes away the items `remove` matches: in place when the
    /// service writes it, as an own key that keeps the other merged items when it comes from an
    /// anchor. `Ok(None)` when nothing changes.
    fn update_list(
        &self,
        key: &str,
        add: &[NewValue],
        remove: &dyn Fn(&Node) -> bool,
    ) -> Result<Option<Edit>, LeftReason> {
        let override_only = self.input.options.output == Output::Override;
        if let Some(entry) = self.own(key) {
            if self.yaml.placement(entry) != Placement::Own {
                return Err(LeftReason::Anchored);
            }
            let items: Vec<&Node> = match &entry.value.value {
                Value::Seq(items) => items.iter().collect(),
                Value::Null => Vec::new(),
                Value::Scalar(_) => vec![&entry.value],
                Value::Map(_) => return Err(LeftReason::UnusualSyntax),
            };
            let removed: Vec<&Node> = items.iter().copied().filter(|item| remove(item)).collect();
            if removed.is_empty() && add.is_empty() {
                return Ok(None);
            }
            if !removed.is_empty() && override_only {
                return Err(LeftReason::NeedsInPlace);
            }
            let kept: Vec<&Node> = items.iter().copied().filter(|item| !remove(item)).collect();
            return match (&entry.value.value, removed.is_empty()) {
                (Value::Seq(_), true) => self.yaml.append(&entry.value, add),
                (Value::Seq(_), false)
                    if add.is_empty() && !kept.is_empty() && removed.len() == 1 =>
                {
                    self.yaml.remove_item(&entry.value, removed[0])
                }
                _ if kept.is_empty() && add.is_empty() => self.yaml.remove_entry(self.node, entry),
                _ => {
                    let mut all: Vec<NewValue> = kept
                        .iter()
                        .map(|item| NewValue::Raw(self.yaml.source(item).to_owned()))
                        .collect();
                    all.extend(add.iter().cloned());
                    self.yaml.replace_value(entry, &NewValue::Seq(all))
                }
            }
            .map(Some)
            .ok_or(LeftReason::UnusualSyntax);
        }
        let mut all = Vec::new();
        if let Some(merged) = self.merged(key) {
            let items: Vec<&Node> = match &merged.value.value {
                Value::Seq(items) => items.iter().collect(),
                Value::Scalar(_) => vec![&merged.value],
                _ => Vec::new(),
            };
            if !items.iter().any(|item| remove(item)) && add.is_empty() {
                return Ok(None);
            }
            if override_only && items.iter().any(|item| remove(item)) {
                return Err(LeftReason::NeedsInPlace);
            }
            all.extend(
                items
                    .iter()
                    .filter(|item| !remove(item))
                    .map(|item| NewValue::Raw(self.yaml.source(item).to_owned())),
            );
        }
        if add.is_empty() && all.is_empty() {
            return Ok(None);
        }
        all.extend(add.iter().cloned());
        self.yaml
            .insert(self.node, key, &NewValue::Seq(all))
            .map(Some)
            .ok_or(LeftReason::UnusualSyntax)
    }

    /// The items of the sequence `key` as the service has them (own or merged).
    fn items(&self, key: &str) -> Vec<&'a Node> {
        let Some(entry) = self.own(key).or_else(|| self.merged(key)) else {
            return Vec::new();
        };
        match &entry.value.value {
            Value::Seq(items) => items.iter().collect(),
            Value::Scalar(_) => vec![&entry.value],
            _ => Vec::new(),
        }
    }

    fn user(&self, plan: &mut FilePlan, findings: &[&Diagnostic]) {
        if findings.is_empty() {
            return;
        }
        let container = self.subject.container;
        let built_user = container
            .build
            .as_ref()
            .and_then(|build| build.final_user())
            .filter(|user| user.value.is_root() == leastpriv_model::Certainty::No)
            .map(|user| user.value.to_string());
        let image = image(container);
        let known = image.as_deref().and_then(known_images::user);
        // A Dockerfile that was read but sets no non-root USER gets `USER 10001:10001` from the
        // Dockerfile fixer: the same uid, so the two agree whichever is hardened first.
        let builds_audited_dockerfile = container.build.is_some();
        let (user, note) = match (built_user, known) {
            (Some(user), _) => (user, "the Dockerfile's own USER".to_owned()),
            (None, Some(user)) => (
                user.to_owned(),
                "the user the image is built to run as".to_owned(),
            ),
            (None, None) if builds_audited_dockerfile => (
                default_user(),
                "the uid harden gives the image when it hardens its Dockerfile".to_owned(),
            ),
            (None, None) => (
                default_user(),
                "a high uid that owns no file of the image".to_owned(),
            ),
        };
        match self.set_scalar("user", &NewValue::str(&user)) {
            Ok(Some(edit)) => {
                let mut change =
                    self.change(findings, Layer::User, format!("user: {user} ({note})"));
                change.may_break = Some(format!(
                    "the process runs as {user}: files it writes in volumes and bind mounts must be writable by it"
                ));
                if user == default_user() {
                    change.follow_up = Some(if builds_audited_dockerfile {
                        format!("harden its Dockerfile too (`USER {user}`), and give uid {NON_ROOT_ID} ownership of the volumes the service writes")
                    } else {
                        format!("give uid {NON_ROOT_ID} ownership of the volumes the service writes, or set the image's own non-root user")
                    });
                }
                self.fix(plan, change, edit);
            }
            Ok(None) => {}
            Err(reason) => self.leave_all(
                plan,
                findings,
                reason,
                "`user:` is written in an anchor or an unusual form",
            ),
        }
    }

    /// The capabilities the service needs, and why.
    fn needed_capabilities(&self) -> (Vec<String>, String) {
        needed_capabilities(self.profile, self.subject.container.runtime.as_ref())
    }

    fn capabilities(&self, plan: &mut FilePlan, findings: &[&Diagnostic]) {
        if findings.is_empty() {
            return;
        }
        let has = |key: &str, name: &str| {
            self.merged_items(key).iter().any(|item| {
                item.as_str()
                    .is_some_and(|text| text.trim_start_matches("CAP_").eq_ignore_ascii_case(name))
            })
        };
        let (needed, why) = self.needed_capabilities();
        let mut edits = Vec::new();
        let mut summary = vec!["cap_drop: [ALL]".to_owned()];
        if !has("cap_drop", "ALL") {
            match self.update_list("cap_drop", &[NewValue::str("ALL")], &|_| false) {
                Ok(edit) => edits.extend(edit),
                Err(reason) => {
                    return self.leave_all(
                        plan,
                        findings,
                        reason,
                        "`cap_drop` is written in an anchor or an unusual form",
                    )
                }
            }
        }
        let missing: Vec<NewValue> = needed
            .iter()
            .filter(|cap| !has("cap_add", cap))
            .map(NewValue::str)
            .collect();
        if !needed.is_empty() {
            summary.push(format!("cap_add: [{}] ({why})", needed.join(", ")));
        }
        if !missing.is_empty() {
            match self.update_list("cap_add", &missing, &|_| false) {
                Ok(edit) => edits.extend(edit),
                Err(reason) => {
                    return self.leave_all(
                        plan,
                        findings,
                        reason,
                        "`cap_add` is written in an anchor or an unusual form",
                    )
                }
            }
        }
        if edits.is_empty() {
            return;
        }
        let mut change = self.change(findings, Layer::Capabilities, summary.join(", "));
        change.may_break = Some(if needed.is_empty() {
            "the process keeps no capability: chown, setuid/setgid, binding ports below 1024 and raw sockets fail".to_owned()
        } else {
            format!("the process keeps only {}", needed.join(", "))
        });
        plan.fixes.push(Fix {
            changes: vec![change],
            edits,
        });
    }

    /// `security_opt`: no-new-privileges, confinement restored, the profile's seccomp file. One
    /// edit of the list for all of them.
    fn security_opt(&self, plan: &mut FilePlan, wanted: &Wanted<'_>) {
        let mut add = Vec::new();
        let mut changes = Vec::new();
        let mut kinds: Vec<Confinement> =
            wanted.confinement.iter().map(|(_, kind)| *kind).collect();
        kinds.dedup();
        let confinement: Vec<&Diagnostic> = wanted.confinement.iter().map(|(f, _)| *f).collect();
        if self.input.options.output == Output::Override && !confinement.is_empty() {
            // An override file can add to `security_opt` but not take the weakening out of it.
            self.leave_all(
                plan,
                &confinement,
                LeftReason::NeedsInPlace,
                "an override file cannot take an entry out of `security_opt`; run with --in-place",
            );
            kinds.clear();
        }
        let weakens = |item: &Node| {
            let Some(text) = item.as_str() else {
                return false;
            };
            let option = text.replace('=', ":").to_ascii_lowercase();
            let option = option.trim();
            kinds.iter().any(|kind| match kind {
                Confinement::Seccomp => option == "seccomp:unconfined",
                Confinement::AppArmor => option == "apparmor:unconfined",
                Confinement::SeLinux => {
                    option == "label:disable" || option.starts_with("label:type:spc_t")
                }
                Confinement::ProcPaths => option == "systempaths:unconfined",
            }) || (!wanted.no_new_privileges.is_empty()
                && matches!(option, "no-new-privileges:false"))
        };
        if !wanted.no_new_privileges.is_empty() {
            add.push(NewValue::str("no-new-privileges:true"));
            let mut change = self.change(
                &wanted.no_new_privileges,
                Layer::Filesystem,
                "security_opt: no-new-privileges:true".to_owned(),
            );
            change.may_break = Some(
                "setuid and file-capability programs (sudo, su, ping on old images) no longer gain privileges".to_owned(),
            );
            changes.push(change);
        }
        let removed: Vec<String> = self
            .items("security_opt")
            .into_iter()
            .filter(|item| weakens(item))
            .map(|item| self.yaml.source(item).to_owned())
            .collect();
        if !kinds.is_empty() {
            if removed.is_empty() {
                // The weakening is not in `security_opt` (a permissive profile file, `privileged`):
                // nothing this list can undo.
                self.leave_all(plan, &confinement, LeftReason::NotExpressible, "the confinement is weakened by something harden does not rewrite (a permissive profile file)");
            } else {
                let mut change = self.change(
                    &confinement,
                    Layer::Confinement,
                    format!("security_opt: removed {}", removed.join(", ")),
                );
                change.may_break = Some(
                    "the runtime's default seccomp/AppArmor/SELinux confinement applies again: syscalls and files it forbids fail".to_owned(),
                );
                changes.push(change);
            }
        }
        if let Some(file) = self
            .profile
            .filter(|_| self.input.profile_seccomp && self.is_first_definition())
            .and_then(|profile| profile.seccomp_file_from(self.dir))
        {
            let option = format!("seccomp={file}");
            let present = self.merged_items("security_opt").iter().any(|item| {
                item.as_str()
                    .is_some_and(|text| text.replace(':', "=") == option.replace(':', "="))
            });
            if !present {
                add.push(NewValue::str(&option));
                let mut change = self.change(
                    &[],
                    Layer::Confinement,
                    format!("security_opt: {option} (the profile's)"),
                );
                change.may_break = Some(
                    "only the syscalls the profile recorded are allowed: a code path not exercised while profiling fails with EPERM".to_owned(),
                );
                changes.push(change);
            }
        }
        if changes.is_empty() {
            return;
        }
        match self.update_list("security_opt", &add, &weakens) {
            Ok(Some(edit)) => plan.fixes.push(Fix {
                changes,
                edits: vec![edit],
            }),
            Ok(None) => {}
            Err(reason) => {
                let mut findings = wanted.no_new_privileges.clone();
                if !kinds.is_empty() {
                    findings.extend(confinement.iter().copied());
                }
                let detail = if reason == LeftReason::NeedsInPlace {
                    "an override file cannot take an entry out of `security_opt`; run with --in-place"
                } else {
                    "`security_opt` is written in an anchor or an unusual form"
                };
                self.leave_all(plan, &findings, reason, detail);
            }
        }
    }

    /// The directories that get a tmpfs under a read-only root.
    fn written_paths(&self) -> (Vec<String>, String) {
        if let Some(profile) = self.profile.filter(|p| p.observed("written_paths")) {
            let mut paths: Vec<String> = vec!["/tmp".to_owned()];
            paths.extend(
                profile
                    .profile
                    .written_paths
                    .iter()
                    .map(|path| directory_of(path)),
            );
            return (
                minimal_prefixes(paths),
                format!("/tmp and the paths {} recorded", profile.path.display()),
            );
        }
        let mut paths = vec!["/tmp".to_owned()];
        let image = image(self.subject.container);
        let known = image
            .as_deref()
            .map(known_images::written_paths)
            .unwrap_or_default();
        paths.extend(known.iter().map(|path| (*path).to_owned()));
        let why = if known.is_empty() {
            "/tmp only: profile the service (leastpriv profile) to learn the paths it writes"
                .to_owned()
        } else {
            format!("/tmp and the paths {} writes", image.unwrap_or_default())
        };
        (minimal_prefixes(paths), why)
    }

    fn read_only(&self, plan: &mut FilePlan, findings: &[&Diagnostic]) {
        if findings.is_empty() {
            return;
        }
        let mut edits = Vec::new();
        match self.set_scalar("read_only", &NewValue::Plain("true".to_owned())) {
            Ok(edit) => edits.extend(edit),
            Err(reason) => {
                return self.leave_all(
                    plan,
                    findings,
                    reason,
                    "`read_only` is written in an anchor or an unusual form",
                )
            }
        }
        let runtime = self.subject.container.runtime.as_ref();
        let mounted: Vec<&str> = runtime
            .map(|runtime| {
                let tmpfs = runtime.tmpfs.iter().map(|t| t.value.target.as_str());
                tmpfs
                    .chain(runtime.mounts.iter().map(|m| m.value.target.as_str()))
                    .collect()
            })
            .unwrap_or_default();
        let (paths, why) = self.written_paths();
        let missing: Vec<NewValue> = paths
            .iter()
            .filter(|path| {
                !mounted
                    .iter()
                    .any(|target| target.trim_end_matches('/') == path.as_str())
            })
            .map(|path| NewValue::str(format!("{path}:{TMPFS_OPTIONS}")))
            .collect();
        if !missing.is_empty() {
            match self.update_list("tmpfs", &missing, &|_| false) {
                Ok(edit) => edits.extend(edit),
                Err(reason) => {
                    return self.leave_all(
                        plan,
                        findings,
                        reason,
                        "`tmpfs` is written in an anchor or an unusual form",
                    )
                }
            }
        }
        if edits.is_empty() {
            return;
        }
        let mut change = self.change(
            findings,
            Layer::Filesystem,
            format!("read_only: true, tmpfs: {} ({why})", paths.join(", ")),
        );
        change.may_break = Some(format!(
            "read_only: the service must not write outside its volumes and {}",
            paths.join(", ")
        ));
        plan.fixes.push(Fix {
            changes: vec![change],
            edits,
        });
    }

    /// Removes what changes behaviour on purpose, with `--remove-dangerous`.
    fn dangerous(&self, plan: &mut FilePlan, finding: &Diagnostic) {
        if !self.input.options.remove_dangerous {
            return plan.leave(
                self.name(),
                finding,
                LeftReason::NeedsRemoveDangerous,
                "the service may rely on it; run with --remove-dangerous to remove it",
            );
        }
        let override_only = self.input.options.output == Output::Override;
        let (result, summary, may_break) = match &finding.remedy {
            Some(Remedy::RemovePrivileged) => {
                let edit = self.remove_key("privileged", override_only);
                (
                    edit,
                    "privileged removed".to_owned(),
                    "the service loses every device and capability of the host".to_owned(),
                )
            }
            Some(Remedy::UsePrivateNamespace(namespace)) => {
                let key = match namespace {
                    Namespace::Pid => "pid",
                    Namespace::Network => "network_mode",
                    Namespace::Ipc => "ipc",
                    Namespace::Uts => "uts",
                    Namespace::User => "userns_mode",
                    Namespace::Cgroup => "cgroup",
                };
                let edit = self.remove_key(key, override_only);
                (
                    edit,
                    format!("{key} removed (the container's own namespace)"),
                    format!("the service no longer sees the host's {key} namespace"),
                )
            }
            Some(Remedy::RemoveAddedCapability(capability)) => {
                let name = capability.to_string();
                let bare = name.trim_start_matches("CAP_").to_owned();
                let edit = self.update_list("cap_add", &[], &|item| {
                    item.as_str().is_some_and(|text| {
                        text.trim_start_matches("CAP_").eq_ignore_ascii_case(&bare)
                    })
                });
                (
                    edit.and_then(|e| e.ok_or(LeftReason::UnusualSyntax)),
                    format!("cap_add: {bare} removed"),
                    format!("the process can no longer use {bare}"),
                )
            }
            Some(Remedy::RemoveMount { target }) => {
                let matches = |item: &Node| {
                    mount_target(item)
                        .is_some_and(|t| t.trim_end_matches('/') == target.trim_end_matches('/'))
                };
                let in_volumes = self.items("volumes").iter().any(|item| matches(item));
                let key = if in_volumes { "volumes" } else { "devices" };
                let edit = self.update_list(key, &[], &matches);
                (
                    edit.and_then(|e| e.ok_or(LeftReason::UnusualSyntax)),
                    format!("{key}: {target} removed"),
                    format!("the service no longer has {target}"),
                )
            }
            _ => return,
        };
        match result {
            Ok(edit) => {
                let layer = finding.rule.meta.layer;
                let mut change = self.change(&[finding], layer, summary);
                change.may_break = Some(may_break);
                self.fix(plan, change, edit);
            }
            Err(reason) => {
                let detail = match reason {
                    LeftReason::NeedsInPlace => {
                        "an override file cannot take a setting away; run with --in-place"
                    }
                    LeftReason::Anchored => "it is written in an anchor that other services share",
                    _ => "it is written in a form harden does not rewrite",
                };
                plan.leave(self.name(), finding, reason, detail);
            }
        }
    }

    fn remove_key(&self, key: &str, override_only: bool) -> Result<Edit, LeftReason> {
        if override_only {
            return Err(LeftReason::NeedsInPlace);
        }
        match self.own(key) {
            Some(entry) => self
                .yaml
                .remove_entry(self.node, entry)
                .ok_or(LeftReason::UnusualSyntax),
            None if self.merged(key).is_some() => Err(LeftReason::Anchored),
            None => Err(LeftReason::InAnotherFile),
        }
    }

    fn secret(
        &self,
        plan: &mut FilePlan,
        secrets: &mut SecretMoves<'a>,
        finding: &'a Diagnostic,
        name: &str,
    ) {
        if self.input.options.output == Output::Override {
            return plan.leave(self.name(), finding, LeftReason::NeedsInPlace, "an override file cannot take the variable out of `environment`; run with --in-place");
        }
        let Some(environment) = self.own("environment") else {
            return plan.leave(
                self.name(),
                finding,
                LeftReason::Anchored,
                "the variable is set in an anchor that other services share",
            );
        };
        let Some(variable) = find_variable(&environment.value, name) else {
            return plan.leave(
                self.name(),
                finding,
                LeftReason::UnusualSyntax,
                "the variable is not written literally in `environment`",
            );
        };
        if variable.value.contains('$') {
            return plan.leave(
                self.name(),
                finding,
                LeftReason::UnusualSyntax,
                "the value is interpolated; set it from a secret store instead",
            );
        }
        let image = image(self.subject.container).unwrap_or_default();
        let conventions = &self.input.options.secret_files;
        let Some(file_variable) = conventions.file_variable(Some(self.name()), &image, name) else {
            return plan.leave(
                self.name(),
                finding,
                LeftReason::NoFileConvention,
                format!("no known `{name}_FILE` convention for this image: make the application read /run/secrets/… and declare it in leastpriv.toml (`[harden.secret-files]`)"),
            );
        };
        secrets.moves.push(SecretMove {
            service: self.name().to_owned(),
            service_node: self.node,
            environment,
            item: variable.item,
            list_form: variable.list_form,
            variable: name.to_owned(),
            file_variable,
            value: variable.value,
            finding,
            existing_service_secrets: self.own("secrets"),
        });
    }
}

/// A variable of `environment`, written literally.
struct Variable<'a> {
    item: &'a Node,
    list_form: bool,
    value: String,
}

fn find_variable<'a>(environment: &'a Node, name: &str) -> Option<Variable<'a>> {
    match &environment.value {
        Value::Map(entries) => entries
            .iter()
            .find(|e| e.key.as_str() == Some(name))
            .map(|entry| Variable {
                item: &entry.key,
                list_form: false,
                value: entry.value.as_str().unwrap_or_default().to_owned(),
            }),
        Value::Seq(items) => items.iter().find_map(|item| {
            let text = item.as_str()?;
            let (key, value) = text.split_once('=')?;
            (key.trim() == name).then(|| Variable {
                item,
                list_form: true,
                value: value.to_owned(),
            })
        }),
        _ => None,
    }
}

/// The target of a `volumes` or `devices` item: `src:dst[:mode]` or the long form's `target`.
fn mount_target(item: &Node) -> Option<String> {
    if let Some(target) = item.get("target") {
        return target.as_str().map(str::to_owned);
    }
    let text = item.as_str()?;
    let parts: Vec<&str> = text.split(':').collect();
    match parts.len() {
        1 => Some(parts[0].to_owned()),
        _ => Some(parts[1].to_owned()),
    }
}

/// The directory a recorded path needs as a tmpfs: the path itself for a directory-like name, its
/// parent for a file-like one (`/var/run/nginx.pid` → `/var/run`).
fn directory_of(path: &str) -> String {
    let last = path.rsplit('/').next().unwrap_or(path);
    if last.contains('.') {
        match path.rfind('/') {
            Some(0) | None => "/".to_owned(),
            Some(at) => path[..at].to_owned(),
        }
    } else {
        path.trim_end_matches('/').to_owned()
    }
}

/// Paths without those under another of them, sorted; the root is never a tmpfs.
fn minimal_prefixes(mut paths: Vec<String>) -> Vec<String> {
    paths.retain(|path| path != "/" && path.starts_with('/'));
    paths.sort();
    paths.dedup();
    let mut kept: Vec<String> = Vec::new();
    for path in paths {
        if !kept.iter().any(|k| path.starts_with(&format!("{k}/"))) {
            kept.push(path);
        }
    }
    kept
}

/// One literal secret moved out of `environment`.
struct SecretMove<'a> {
    service: String,
    service_node: &'a Node,
    environment: &'a Entry,
    /// The map key or the list item of the variable.
    item: &'a Node,
    list_form: bool,
    variable: String,
    file_variable: String,
    /// Compared with the others' (never written or printed): one secret for one value.
    value: String,
    finding: &'a Diagnostic,
    existing_service_secrets: Option<&'a Entry>,
}

/// Every secret moved out of one document, written as one fix: the top-level `secrets:` is one
/// section, and variables holding the same value share one secret.
#[derive(Default)]
struct SecretMoves<'a> {
    moves: Vec<SecretMove<'a>>,
}

impl SecretMoves<'_> {
    fn finish(&self, yaml: &Yaml<'_>, document: &Node, plan: &mut FilePlan) {
        let mut names: BTreeMap<&str, String> = BTreeMap::new();
        let existing_top: BTreeSet<String> = document
            .get("secrets")
            .and_then(Node::as_map)
            .unwrap_or_default()
            .iter()
            .filter_map(|entry| entry.key.as_str().map(str::to_owned))
            .collect();
        let mut new_secrets: Vec<String> = Vec::new();
        let mut edits = Vec::new();
        let mut changes = Vec::new();
        let mut per_service: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for secret in &self.moves {
            let name = names
                .entry(secret.value.as_str())
                .or_insert_with(|| {
                    let base = secret.variable.to_ascii_lowercase();
                    let mut name = base.clone();
                    let mut n = 2;
                    while existing_top.contains(&name) || new_secrets.contains(&name) {
                        name = format!("{base}_{n}");
                        n += 1;
                    }
                    new_secrets.push(name.clone());
                    name
                })
                .clone();
            let path = format!("/run/secrets/{name}");
            let edit = if secret.list_form {
                Edit::replace(
                    secret.item.span.range.to_range(),
                    yaml.render_flow(&NewValue::str(format!("{}={path}", secret.file_variable))),
                )
            } else {
                let entry =
                    secret.environment.value.as_map().and_then(|entries| {
                        entries.iter().find(|e| std::ptr::eq(&e.key, secret.item))
                    });
                let Some(entry) = entry else { continue };
                let range =
                    entry.key.span.range.start as usize..entry.value.span.range.end as usize;
                Edit::replace(
                    range,
                    format!(
                        "{}: {}",
                        yaml.render_flow(&NewValue::str(&secret.file_variable)),
                        yaml.render_flow(&NewValue::str(&path))
                    ),
                )
            };
            edits.push(edit);
            per_service
                .entry(secret.service.as_str())
                .or_default()
                .push(name.clone());
            changes.push(Change {
                container: secret.service.clone(),
                rules: vec![secret.finding.rule.code],
                layer: Layer::Secrets,
                summary: format!(
                    "environment: {} moved to the Compose secret `{name}`, read from {}={path}",
                    secret.variable, secret.file_variable
                ),
                may_break: Some(format!("the image must read {}", secret.file_variable)),
                follow_up: Some(format!(
                    "write the value into ./secrets/{name}.txt (keep it out of version control) and rotate it: it was committed in this file"
                )),
            });
        }
        for secret in &self.moves {
            let Some(names) = per_service.remove(secret.service.as_str()) else {
                continue;
            };
            let mut names = names;
            names.sort();
            names.dedup();
            let items: Vec<NewValue> = names.into_iter().map(NewValue::Str).collect();
            let edit = match secret.existing_service_secrets {
                Some(entry) => yaml.append(&entry.value, &items),
                None => yaml.insert(secret.service_node, "secrets", &NewValue::Seq(items)),
            };
            match edit {
                Some(edit) => edits.push(edit),
                None => return,
            }
        }
        if !new_secrets.is_empty() {
            let entries: Vec<(String, NewValue)> = new_secrets
                .iter()
                .map(|name| {
                    (
                        name.clone(),
                        NewValue::Map(vec![(
                            "file".to_owned(),
                            NewValue::str(format!("./secrets/{name}.txt")),
                        )]),
                    )
                })
                .collect();
            let edit = match document.entry("secrets") {
                Some(top) if top.value.as_map().is_some() => entries
                    .iter()
                    .try_fold(Vec::new(), |mut all, (name, value)| {
                        all.push(yaml.insert(&top.value, name, value)?);
                        Some(all)
                    })
                    .and_then(merge_insertions),
                Some(_) => None,
                None => yaml.insert(document, "secrets", &NewValue::Map(entries)),
            };
            match edit {
                Some(edit) => edits.push(edit),
                None => return,
            }
        }
        plan.fixes.push(Fix { changes, edits });
    }
}

/// Whether two nodes hold the same values, wherever they are written.
fn same_tree(a: &Node, b: &Node) -> bool {
    match (&a.value, &b.value) {
        (Value::Null, Value::Null) => true,
        (Value::Scalar(x), Value::Scalar(y)) => x == y,
        (Value::Seq(x), Value::Seq(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same_tree(a, b))
        }
        (Value::Map(x), Value::Map(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|(a, b)| same_tree(&a.key, &b.key) && same_tree(&a.value, &b.value))
        }
        _ => false,
    }
}

/// Insertions at one offset, made one.
fn merge_insertions(edits: Vec<Edit>) -> Option<Edit> {
    let first = edits.first()?.range.clone();
    if edits.iter().any(|edit| edit.range != first) {
        return None;
    }
    Some(Edit::insert(
        first.start,
        edits.into_iter().map(|edit| edit.text).collect::<String>(),
    ))
}

/// The keys an override file may carry: additions and scalar replacements, which Compose merges
/// over the original (sequences by union).
const OVERRIDE_KEYS: [&str; 6] = [
    "user",
    "read_only",
    "cap_drop",
    "cap_add",
    "security_opt",
    "tmpfs",
];

/// The Compose override file that carries what harden added to each file's services: for each
/// `(original, hardened)` text pair, every service key of [`OVERRIDE_KEYS`] whose hardened value
/// differs, copied as written. `None` when nothing differs.
pub fn override_document(files: &[(&str, &str)]) -> Option<String> {
    let db = leastpriv_source::SourceDb::new();
    let mut services: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (original, hardened) in files {
        let before = yaml::parse(original, db.add("original", *original)).documents;
        let after = yaml::parse(hardened, db.add("hardened", *hardened)).documents;
        let after_yaml = Yaml::new(hardened, &after);
        for (old, new) in before.iter().zip(&after) {
            let (Some(old), Some(new)) = (old.get("services"), new.get("services")) else {
                continue;
            };
            for entry in new.as_map().unwrap_or_default() {
                let Some(name) = entry.key.as_str() else {
                    continue;
                };
                let old_service = old.get(name);
                for key in OVERRIDE_KEYS {
                    let Some(value) = entry.value.get(key) else {
                        continue;
                    };
                    let old_value = old_service.and_then(|service| service.get(key));
                    if old_value.is_some_and(|old_value| same_tree(old_value, value)) {
                        continue;
                    }
                    let rendered = match value.as_seq() {
                        Some(items) if !after_yaml.is_flow(value) => {
                            let mut text = format!("    {key}:");
                            for item in items {
                                text.push_str(&format!("\n      - {}", after_yaml.source(item)));
                            }
                            text
                        }
                        _ => format!("    {key}: {}", after_yaml.source(value)),
                    };
                    services.entry(name.to_owned()).or_default().push(rendered);
                }
            }
        }
    }
    if services.is_empty() {
        return None;
    }
    let mut text = String::from(
        "# Written by `leastpriv harden --override`: what hardening adds to the services.\n\
         # Use it after the project's own files: docker-compose -f compose.yaml -f THIS_FILE up\n\
         services:\n",
    );
    for (name, keys) in services {
        text.push_str(&format!("  {}:\n", crate::yaml_edit::render_string(&name)));
        for key in keys {
            text.push_str(&key);
            text.push('\n');
        }
    }
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recorded_paths_become_the_fewest_directories() {
        let paths = [
            "/tmp",
            "/var/run/nginx.pid",
            "/var/cache/nginx/client_temp",
            "/var/cache/nginx",
            "/",
        ]
        .map(directory_of);
        assert_eq!(
            minimal_prefixes(paths.to_vec()),
            vec!["/tmp", "/var/cache/nginx", "/var/run"]
        );
    }

    #[test]
    fn mount_targets_in_short_and_long_forms() {
        let db = leastpriv_source::SourceDb::new();
        let text = "- /var/run/docker.sock:/var/run/docker.sock:ro\n- data\n- {type: bind, source: /, target: /host}\n";
        let file = db.add("t", text);
        let doc = &yaml::parse(text, file).documents[0];
        let targets: Vec<Option<String>> = doc
            .as_seq()
            .unwrap_or_default()
            .iter()
            .map(mount_target)
            .collect();
        assert_eq!(
            targets,
            vec![
                Some("/var/run/docker.sock".into()),
                Some("data".into()),
                Some("/host".into())
            ]
        );
    }
}
