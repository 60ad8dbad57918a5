//! Kubernetes front-end: every container of every workload in a stream of manifests (YAML or JSON, one
//! or many documents, `List`s as `kubectl get -o yaml|json` prints them) becomes one container with a
//! [`Runtime`](leastpriv_model::Runtime).
//!
//! This module finds the pod template of each object by its `kind` ([`pod_template`]); [`pod`] lowers a
//! pod spec, resolving what the pod level gives its containers (security context, namespaces,
//! volumes, the legacy seccomp and AppArmor annotations). Objects of other kinds are skipped quietly,
//! and so are fields this front-end does not read: a manifest may hold any resource.

mod pod;

use leastpriv_model::Container;
use leastpriv_source::{FileId, InputError, SourceDb, Span};

use crate::yaml::{self, Node};
use crate::{Lowered, Options};

/// Objects are lowered until a file has given this many containers: what each keeps for the report
/// (its model and findings, a few kilobytes) adds up per container, and a file of 8 MiB can write a
/// hundred thousand minimal pods. Past it, the rest is a located error; Compose projects have the
/// same bound on services.
const MAX_CONTAINERS: usize = 10_000;

/// Whether `text` reads as Kubernetes manifests: YAML with top-level `apiVersion:` and `kind:` keys
/// (in any document), or JSON or flow-style YAML (as kubernetes.io writes its examples) that names
/// both. A cheap line scan, not a parse. Helm chart templates (`{{ .Values… }}`) are not manifests
/// until rendered and are left out.
pub fn looks_like_manifest(text: &str) -> bool {
    if is_helm_template(text) {
        return false;
    }
    let first = text
        .lines()
        .map(|line| line.trim_start_matches('\u{feff}').trim())
        .find(|line| !line.is_empty() && !line.starts_with('#') && *line != "---");
    if first.is_some_and(|line| line.starts_with(['{', '['])) {
        return text.contains("apiVersion") && text.contains("kind");
    }
    let (mut api_version, mut kind) = (false, false);
    for line in text.lines() {
        api_version |= line.starts_with("apiVersion:");
        kind |= line.starts_with("kind:");
        if api_version && kind {
            return true;
        }
    }
    false
}

/// Whether `text` is a Helm (Go) template rather than YAML.
fn is_helm_template(text: &str) -> bool {
    text.contains("{{")
        && ([
            "{{ .Values",
            "{{- .Values",
            ".Release.",
            ".Chart.",
            "{{ include",
            "{{- include",
        ]
        .iter()
        .any(|marker| text.contains(marker))
            || text.lines().any(|line| line.trim_start().starts_with("{{")))
}

/// Lowers Kubernetes manifests into one container per container of each workload. Each document
/// is dropped once lowered, so a manifest's tree and its model are never held whole together.
pub fn lower(db: &SourceDb, file: FileId, _options: &Options) -> Lowered {
    lower_with(db, file, |_| {})
}

/// [`lower`], handing back the parsed documents too: for a fixer that edits the spans the
/// containers were lowered from, so that one parse serves both.
pub fn lower_keeping_documents(
    db: &SourceDb,
    file: FileId,
    _options: &Options,
) -> (Lowered, Vec<Node>) {
    let mut documents = Vec::new();
    let lowered = lower_with(db, file, |document| documents.push(document));
    (lowered, documents)
}

/// Lowers each document of `file`, then hands it to `keep`.
fn lower_with(db: &SourceDb, file: FileId, mut keep: impl FnMut(Node)) -> Lowered {
    let source = db.get(file);
    let mut cut_at = None;
    let mut lowered = yaml::lower_each(&source, file, |document, lowered| {
        if cut_at.is_none() {
            cut_at = lower_object(&document, &mut lowered.containers).err();
        }
        keep(document);
    });
    if let Some(span) = cut_at {
        lowered.errors.push(InputError::at(
            source.path(),
            span,
            format!("more than {MAX_CONTAINERS} containers in one file; from here on they are not audited"),
        ));
    }
    lowered.daemons = crate::engine_in_container::daemons(&lowered.containers);
    lowered
}

/// Where an object keeps its pod: the template's metadata (for annotations) and spec.
pub(crate) struct PodTemplate<'a> {
    pub(crate) metadata: Option<&'a Node>,
    pub(crate) spec: &'a Node,
}

/// The pod template of a workload object, by its kind; `None` for kinds that run no pod.
fn pod_template<'a>(kind: &str, object: &'a Node) -> Option<PodTemplate<'a>> {
    let template = match kind {
        "Pod" => object,
        "PodTemplate" => object.get("template")?,
        "Deployment"
        | "StatefulSet"
        | "DaemonSet"
        | "ReplicaSet"
        | "ReplicationController"
        | "Job"
        | "DeploymentConfig" => object.get("spec")?.get("template")?,
        "CronJob" => object
            .get("spec")?
            .get("jobTemplate")?
            .get("spec")?
            .get("template")?,
        _ => return None,
    };
    Some(PodTemplate {
        metadata: template.get("metadata"),
        spec: template.get("spec")?,
    })
}

/// The pod specs of one document, in file order: its workload's, or those of a `List`'s items. For
/// fixers, which edit the containers this front-end lowers.
pub fn pod_specs(object: &Node) -> Vec<&Node> {
    let mut specs = Vec::new();
    collect_pod_specs(object, &mut specs);
    specs
}

fn collect_pod_specs<'a>(object: &'a Node, specs: &mut Vec<&'a Node>) {
    let Some(kind) = object.get("kind").and_then(Node::as_str) else {
        return;
    };
    if kind.ends_with("List") {
        for item in object
            .get("items")
            .and_then(Node::as_seq)
            .unwrap_or_default()
        {
            collect_pod_specs(item, specs);
        }
    } else if let Some(template) = pod_template(kind, object) {
        specs.push(template.spec);
    }
}

/// Lowers one object: a workload, a `List` (or `PodList`, `DeploymentList` …) of objects, or nothing.
/// Past [`MAX_CONTAINERS`], where the first object not lowered is.
fn lower_object(object: &Node, containers: &mut Vec<Container>) -> Result<(), Span> {
    let Some(kind) = object.get("kind").and_then(Node::as_str) else {
        return Ok(());
    };
    if kind.ends_with("List") {
        // The tree's depth is bounded by the YAML layer, so nested lists cannot recurse without end.
        for item in object
            .get("items")
            .and_then(Node::as_seq)
            .unwrap_or_default()
        {
            lower_object(item, containers)?;
        }
        return Ok(());
    }
    let Some(template) = pod_template(kind, object) else {
        return Ok(());
    };
    if containers.len() >= MAX_CONTAINERS {
        return Err(object.span);
    }
    let metadata = object.get("metadata");
    let name = metadata
        .and_then(|metadata| {
            metadata
                .get("name")
                .or_else(|| metadata.get("generateName"))
        })
        .and_then(Node::as_str)
        .unwrap_or("<unnamed>");
    let namespace = metadata
        .and_then(|metadata| metadata.get("namespace"))
        .and_then(Node::as_str);
    let owner = pod::Owner {
        label: format!("{kind}/{name}"),
        namespace,
    };
    pod::lower_pod(&owner, &template, containers);
    Ok(())
}

#[cfg(test)]
mod tests;
