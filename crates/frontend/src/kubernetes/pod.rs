//! One pod spec into one container per `containers`, `initContainers` and `ephemeralContainers` entry.
//!
//! The pod level gives each container what Kubernetes gives it: the `PodSecurityContext` fields a
//! container inherits unless its own `securityContext` sets them (`runAsUser`, `runAsGroup`,
//! `runAsNonRoot`, `seccompProfile`, `appArmorProfile`, `seLinuxOptions`, `windowsOptions`), the
//! pod-only ones (`sysctls`, `supplementalGroups`, `fsGroup`), the host namespaces, the volumes its
//! `volumeMounts` name, and the legacy seccomp and AppArmor annotations, which count below the fields
//! (a container's annotation over the pod's field, as the API server synchronised them). Every value
//! keeps the span where it is written, at the pod level when inherited.

use leastpriv_model::{
    Capability, Container, EnvVar, LsmProfile, Mount, MountKind, NamespaceMode, PortMapping,
    Runtime, SeccompProfile, SecretMount, SelinuxLabel, Sensitive, SourceKind, Span, Spanned,
    Sysctl, User,
};

use super::PodTemplate;
use crate::docker_run::syntax;
use crate::yaml::Node;

/// The object a pod belongs to, for container names.
pub(crate) struct Owner<'a> {
    /// `Deployment/web`.
    pub(crate) label: String,
    pub(crate) namespace: Option<&'a str>,
}

/// Which list of the pod spec a container is in.
#[derive(Clone, Copy)]
enum Role {
    Init,
    App,
    Ephemeral,
}

impl Role {
    fn noun(self) -> &'static str {
        match self {
            Role::Init => "init container",
            Role::App => "container",
            Role::Ephemeral => "ephemeral container",
        }
    }
}

const SECCOMP_POD_ANNOTATION: &str = "seccomp.security.alpha.kubernetes.io/pod";
const SECCOMP_CONTAINER_ANNOTATION: &str = "container.seccomp.security.alpha.kubernetes.io/";
const APPARMOR_CONTAINER_ANNOTATION: &str = "container.apparmor.security.beta.kubernetes.io/";

/// The pod-level settings every container of the pod starts from.
struct Pod<'a> {
    spec: &'a Node,
    security: Option<&'a Node>,
    annotations: Option<&'a Node>,
}

/// Lowers every container of the pod `template` into `containers`, in file order.
pub(crate) fn lower_pod(owner: &Owner<'_>, template: &PodTemplate<'_>, out: &mut Vec<Container>) {
    let pod = Pod {
        spec: template.spec,
        security: template.spec.get("securityContext"),
        annotations: template
            .metadata
            .and_then(|metadata| metadata.get("annotations")),
    };
    for entry in template.spec.as_map().unwrap_or_default() {
        let role = match entry.key.as_str() {
            Some("initContainers") => Role::Init,
            Some("containers") => Role::App,
            Some("ephemeralContainers") => Role::Ephemeral,
            _ => continue,
        };
        for container in entry.value.as_seq().unwrap_or_default() {
            if container.as_map().is_some() {
                out.push(lower_container(owner, &pod, role, container));
            }
        }
    }
}

fn spanned<T>(value: T, node: &Node) -> Spanned<T> {
    Spanned::new(value, node.span)
}

/// The span from an entry's key to the end of its value.
fn entry_span(node: &Node, key: &str) -> Option<Span> {
    let entry = node.entry(key)?;
    Some(Span::new(
        entry.key.span.file,
        entry.key.span.range.cover(entry.value.span.range),
    ))
}

/// A field of a container's security context, else of the pod's.
fn inherited<'a>(own: Option<&'a Node>, pod: Option<&'a Node>, key: &str) -> Option<&'a Node> {
    own.and_then(|context| context.get(key))
        .filter(|node| !node.is_null())
        .or_else(|| {
            pod.and_then(|context| context.get(key))
                .filter(|node| !node.is_null())
        })
}

fn lower_container(owner: &Owner<'_>, pod: &Pod<'_>, role: Role, container: &Node) -> Container {
    let name = container
        .get("name")
        .and_then(Node::as_str)
        .unwrap_or("<unnamed>");
    let origin = entry_span(container, "name").unwrap_or(container.span);
    let label = match owner.namespace {
        Some(namespace) => format!(
            "{} (namespace {namespace}, {} {name})",
            owner.label,
            role.noun()
        ),
        None => format!("{} ({} {name})", owner.label, role.noun()),
    };
    let security = container
        .get("securityContext")
        .filter(|node| !node.is_null());
    let own = |key: &str| security.and_then(|context| context.get(key));
    let mut runtime = Runtime {
        image: container
            .get("image")
            .and_then(|image| Some(spanned(image.as_str()?.to_owned(), image))),
        capabilities_anchor: Some(
            container
                .entry("securityContext")
                .map_or(origin, |entry| entry.key.span),
        ),
        ..Runtime::default()
    };

    lower_identity(&mut runtime, security, pod.security);
    if let Some(privileged) = own("privileged") {
        runtime.privileged = privileged.as_bool().map(|on| spanned(on, privileged));
    }
    if let Some(escalation) = own("allowPrivilegeEscalation") {
        runtime.no_new_privileges = escalation.as_bool().map(|on| spanned(!on, escalation));
    }
    if let Some(read_only) = own("readOnlyRootFilesystem") {
        runtime.read_only_root = read_only.as_bool().map(|on| spanned(on, read_only));
    }
    if let Some(proc_mount) = own("procMount").filter(|node| node.as_str() == Some("Unmasked")) {
        runtime.unmasked_paths = Some(proc_mount.span);
    }
    if let Some(capabilities) = own("capabilities") {
        runtime.cap_add = capability_list(capabilities.get("add"));
        runtime.cap_drop = capability_list(capabilities.get("drop"));
    }
    let host_process =
        windows_host_process(security).or_else(|| windows_host_process(pod.security));
    runtime.host_process = host_process.and_then(|node| Some(spanned(node.as_bool()?, node)));

    runtime.seccomp = seccomp(pod, security, name);
    runtime.apparmor = apparmor(pod, security, name);
    if let Some(options) = inherited(security, pod.security, "seLinuxOptions") {
        runtime.selinux = selinux(options);
    }

    lower_pod_only(&mut runtime, pod);
    lower_mounts(&mut runtime, pod.spec, container);
    lower_ports(&mut runtime, container);
    lower_environment(&mut runtime, container);
    // `command` replaces the image's entrypoint, `args` its command.
    let words = |key: &str| -> Vec<Spanned<String>> {
        container
            .get(key)
            .and_then(Node::as_seq)
            .unwrap_or_default()
            .iter()
            .filter_map(|word| Some(spanned(word.as_str()?.to_owned(), word)))
            .collect()
    };
    if container.get("command").is_some_and(|node| !node.is_null()) {
        runtime.entrypoint = Some(words("command"));
    }
    runtime.command = words("args");

    let mut lowered = Container::new(label, SourceKind::Kubernetes, origin);
    lowered.runtime = Some(runtime);
    lowered
}

/// `windowsOptions.hostProcess` of a security context.
fn windows_host_process(context: Option<&Node>) -> Option<&Node> {
    context?
        .get("windowsOptions")?
        .get("hostProcess")
        .filter(|node| !node.is_null())
}

/// `runAsUser`, `runAsGroup`, `runAsNonRoot`, container over pod.
fn lower_identity(runtime: &mut Runtime, own: Option<&Node>, pod: Option<&Node>) {
    let group = inherited(own, pod, "runAsGroup");
    runtime.run_as_group = group.and_then(|node| Some(spanned(node.as_str()?.to_owned(), node)));
    if let Some(user) = inherited(own, pod, "runAsUser") {
        let group_id = group.and_then(Node::as_i64);
        let value = match user.as_i64() {
            Some(uid) => User::from_ids(uid, group_id),
            // Not a number: not valid Kubernetes, and nothing can be said of it.
            None => User {
                unresolved: true,
                ..User::parse(user.as_str().unwrap_or_default())
            },
        };
        runtime.user = Some(spanned(value, user));
    }
    if let Some(non_root) = inherited(own, pod, "runAsNonRoot") {
        runtime.run_as_non_root = non_root.as_bool().map(|on| spanned(on, non_root));
    }
}

/// The pod-only settings: host namespaces, sysctls and groups.
fn lower_pod_only(runtime: &mut Runtime, pod: &Pod<'_>) {
    let host = |key: &str| {
        let node = pod.spec.get(key)?;
        let on = node.as_bool()?;
        Some(spanned(
            if on {
                NamespaceMode::Host
            } else {
                NamespaceMode::Private
            },
            node,
        ))
    };
    let namespaces = &mut runtime.namespaces;
    namespaces.pid = host("hostPID");
    namespaces.network = host("hostNetwork");
    namespaces.ipc = host("hostIPC");
    if namespaces
        .pid
        .as_ref()
        .is_none_or(|pid| pid.value != NamespaceMode::Host)
    {
        if let Some(shared) = pod
            .spec
            .get("shareProcessNamespace")
            .filter(|node| node.as_bool() == Some(true))
        {
            namespaces.pid = Some(spanned(NamespaceMode::Shared("pod".to_owned()), shared));
        }
    }
    // `hostUsers: false` gives the pod a user namespace; true (the default) shares the host's.
    namespaces.user = pod.spec.get("hostUsers").and_then(|node| {
        let shares_host = node.as_bool()?;
        Some(spanned(
            if shares_host {
                NamespaceMode::Host
            } else {
                NamespaceMode::Private
            },
            node,
        ))
    });

    let Some(security) = pod.security else {
        return;
    };
    for sysctl in security
        .get("sysctls")
        .and_then(Node::as_seq)
        .unwrap_or_default()
    {
        let Some(name) = sysctl.get("name").and_then(Node::as_str) else {
            continue;
        };
        let value = sysctl
            .get("value")
            .and_then(Node::as_str)
            .unwrap_or_default();
        runtime.sysctls.push(spanned(
            Sysctl {
                name: name.to_owned(),
                value: value.to_owned(),
            },
            sysctl,
        ));
    }
    for group in security
        .get("supplementalGroups")
        .and_then(Node::as_seq)
        .unwrap_or_default()
        .iter()
        .chain(security.get("fsGroup"))
    {
        if let Some(id) = group.as_str() {
            runtime.group_add.push(spanned(id.to_owned(), group));
        }
    }
}

fn capability_list(list: Option<&Node>) -> Vec<Spanned<Capability>> {
    list.and_then(Node::as_seq)
        .unwrap_or_default()
        .iter()
        .filter_map(|item| Some(spanned(Capability::parse(item.as_str()?), item)))
        .collect()
}

/// A `seccompProfile` or `appArmorProfile` field: its `type`, and `localhostProfile` for `Localhost`.
/// The span is the `type` value's.
fn profile_field(profile: &Node) -> Option<(&str, Option<&str>, Span)> {
    let kind = profile.get("type")?;
    let localhost = profile.get("localhostProfile").and_then(Node::as_str);
    Some((kind.as_str()?, localhost, kind.span))
}

/// The value of annotation `key`, spanned.
fn annotation<'a>(pod: &Pod<'a>, key: &str) -> Option<&'a Node> {
    pod.annotations?
        .get(key)
        .filter(|node| node.as_str().is_some())
}

fn seccomp(pod: &Pod<'_>, own: Option<&Node>, name: &str) -> Option<Spanned<SeccompProfile>> {
    let from_field = |context: Option<&Node>| {
        let (kind, localhost, span) = profile_field(context?.get("seccompProfile")?)?;
        let profile = match kind {
            "RuntimeDefault" => SeccompProfile::RuntimeDefault,
            "Unconfined" => SeccompProfile::Unconfined,
            "Localhost" => SeccompProfile::File(localhost.unwrap_or_default().to_owned()),
            _ => return None,
        };
        Some(Spanned::new(profile, span))
    };
    let from_annotation = |key: &str| {
        let node = annotation(pod, key)?;
        let profile = match node.as_str()? {
            "runtime/default" | "docker/default" => SeccompProfile::RuntimeDefault,
            "unconfined" => SeccompProfile::Unconfined,
            other => SeccompProfile::File(other.strip_prefix("localhost/")?.to_owned()),
        };
        Some(spanned(profile, node))
    };
    from_field(own)
        .or_else(|| from_annotation(&format!("{SECCOMP_CONTAINER_ANNOTATION}{name}")))
        .or_else(|| from_field(pod.security))
        .or_else(|| from_annotation(SECCOMP_POD_ANNOTATION))
}

fn apparmor(pod: &Pod<'_>, own: Option<&Node>, name: &str) -> Option<Spanned<LsmProfile>> {
    let from_field = |context: Option<&Node>| {
        let (kind, localhost, span) = profile_field(context?.get("appArmorProfile")?)?;
        let profile = match kind {
            "RuntimeDefault" => LsmProfile::RuntimeDefault,
            "Unconfined" => LsmProfile::Unconfined,
            "Localhost" => LsmProfile::Named(localhost.unwrap_or_default().to_owned()),
            _ => return None,
        };
        Some(Spanned::new(profile, span))
    };
    let from_annotation = || {
        let node = annotation(pod, &format!("{APPARMOR_CONTAINER_ANNOTATION}{name}"))?;
        Some(spanned(syntax::lsm_profile(node.as_str()?), node))
    };
    from_field(own)
        .or_else(from_annotation)
        .or_else(|| from_field(pod.security))
}

fn selinux(options: &Node) -> Vec<Spanned<SelinuxLabel>> {
    let mut labels = Vec::new();
    for entry in options.as_map().unwrap_or_default() {
        let Some(value) = entry.value.as_str() else {
            continue;
        };
        let label = match entry.key.as_str() {
            Some("type") => SelinuxLabel::Type(value.to_owned()),
            Some("user") => SelinuxLabel::User(value.to_owned()),
            Some("role") => SelinuxLabel::Role(value.to_owned()),
            Some("level") => SelinuxLabel::Level(value.to_owned()),
            _ => continue,
        };
        labels.push(spanned(label, &entry.value));
    }
    labels
}

/// The pod's volumes, as each `volumeMounts` entry of the container names them.
fn lower_mounts(runtime: &mut Runtime, spec: &Node, container: &Node) {
    let volumes = spec
        .get("volumes")
        .and_then(Node::as_seq)
        .unwrap_or_default();
    for volume_mount in container
        .get("volumeMounts")
        .and_then(Node::as_seq)
        .unwrap_or_default()
    {
        let (Some(volume_name), Some(target)) = (
            volume_mount.get("name").and_then(Node::as_str),
            volume_mount.get("mountPath"),
        ) else {
            continue;
        };
        let Some(volume) = volumes
            .iter()
            .find(|volume| volume.get("name").and_then(Node::as_str) == Some(volume_name))
        else {
            continue;
        };
        let Some(source) = volume
            .as_map()
            .unwrap_or_default()
            .iter()
            .find(|entry| entry.key.as_str() != Some("name"))
        else {
            continue;
        };
        let source_kind = source.key.as_str().unwrap_or_default();
        let target_path = target.as_str().unwrap_or_default().to_owned();
        let read_only = volume_mount
            .get("readOnly")
            .and_then(Node::as_bool)
            .unwrap_or(false);
        let propagation = match volume_mount.get("mountPropagation").and_then(Node::as_str) {
            Some("HostToContainer") => Some("rslave".to_owned()),
            Some("Bidirectional") => Some("rshared".to_owned()),
            _ => None,
        };
        let (kind, span) = match source_kind {
            "hostPath" => {
                let path = source.value.get("path");
                (
                    MountKind::Bind {
                        source: path.and_then(Node::as_str).unwrap_or_default().to_owned(),
                    },
                    path.map_or(source.value.span, |path| path.span),
                )
            }
            other => (
                MountKind::Other {
                    kind: other.to_owned(),
                },
                target.span,
            ),
        };
        runtime.mounts.push(Spanned::new(
            Mount {
                kind,
                target: target_path.clone(),
                read_only,
                propagation,
            },
            span,
        ));
        for secret in secret_sources(source_kind, &source.value) {
            let name = secret.as_str().unwrap_or_default().to_owned();
            runtime.secrets.push(spanned(
                SecretMount {
                    name,
                    target: Some(target_path.clone()),
                },
                secret,
            ));
        }
    }
}

/// The secret names a volume source projects: `secret.secretName`, or each
/// `projected.sources[].secret.name`.
fn secret_sources<'a>(kind: &str, source: &'a Node) -> Vec<&'a Node> {
    match kind {
        "secret" => source.get("secretName").into_iter().collect(),
        "projected" => source
            .get("sources")
            .and_then(Node::as_seq)
            .unwrap_or_default()
            .iter()
            .filter_map(|item| item.get("secret")?.get("name"))
            .collect(),
        _ => Vec::new(),
    }
    .into_iter()
    .filter(|name| name.as_str().is_some())
    .collect()
}

/// `ports[]` entries that publish a `hostPort`.
fn lower_ports(runtime: &mut Runtime, container: &Node) {
    for port in container
        .get("ports")
        .and_then(Node::as_seq)
        .unwrap_or_default()
    {
        let Some(host_port) = port.get("hostPort") else {
            continue;
        };
        let number = |key: &str| {
            port.get(key)
                .and_then(Node::as_i64)
                .and_then(|n| u16::try_from(n).ok())
        };
        runtime.ports.push(spanned(
            PortMapping {
                host_ip: port.get("hostIP").and_then(Node::as_str).map(str::to_owned),
                host_port: number("hostPort"),
                container_port: number("containerPort"),
                protocol: syntax::protocol(
                    port.get("protocol").and_then(Node::as_str).unwrap_or("TCP"),
                ),
            },
            host_port,
        ));
    }
}

/// `env` (literal values kept, `valueFrom` without one) and `envFrom` (named as `secret/<name>` or
/// `configMap/<name>`: their contents are not in view). Variables filled from a Secret
/// (`secretKeyRef`, `envFrom.secretRef`) are also listed in `secret_env`.
fn lower_environment(runtime: &mut Runtime, container: &Node) {
    for var in container
        .get("env")
        .and_then(Node::as_seq)
        .unwrap_or_default()
    {
        let Some(name) = var.get("name") else {
            continue;
        };
        let from_secret = var
            .get("valueFrom")
            .and_then(|from| from.get("secretKeyRef"))
            .is_some();
        if from_secret {
            let text = name.as_str().unwrap_or_default().to_owned();
            runtime.secret_env.push(spanned(text, name));
        }
        runtime.environment.push(EnvVar {
            name: spanned(name.as_str().unwrap_or_default().to_owned(), name),
            value: var
                .get("value")
                .and_then(|value| Some(spanned(Sensitive::new(value.as_str()?), value))),
        });
    }
    for source in container
        .get("envFrom")
        .and_then(Node::as_seq)
        .unwrap_or_default()
    {
        for (key, kind) in [("secretRef", "secret"), ("configMapRef", "configMap")] {
            if let Some(name) = source.get(key).and_then(|reference| reference.get("name")) {
                let text = name.as_str().unwrap_or_default();
                if kind == "secret" {
                    runtime.secret_env.push(spanned(text.to_owned(), name));
                }
                runtime
                    .env_files
                    .push(spanned(format!("{kind}/{text}"), name));
            }
        }
    }
}
