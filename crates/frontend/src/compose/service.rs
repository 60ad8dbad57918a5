//! Lowering each service of a loaded project into a [`Container`]: its runtime settings, and the
//! build of its Dockerfile when it has `build:`.
//!
//! Values are read after interpolation, as Compose reads them; each keeps the span of the line that
//! holds it. Relative host paths resolve against the directory of the file that wrote them (the
//! project directory for override files) and `~` against `HOME`, so rules see the path Docker
//! mounts. Unknown keys are ignored; a known key with a value of the wrong shape is a located error,
//! and whatever else the service sets is still lowered.

use leastpriv_secrets::{message, Quoted};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use leastpriv_model::{
    Build, Capability, Container, Device, EnvVar, LsmProfile, Mount, MountKind, NamespaceMode,
    PortMapping, Runtime, SeccompProfile, SecretMount, SelinuxLabel, Sensitive, SourceKind,
    Spanned, Sysctl, Tmpfs, User,
};
use leastpriv_source::{FileId, InputError, SourceDb, Span};

use super::dotenv;
use super::load::{is_remote, join, located_variables, normalize, read_text, string_list, Project};
use super::merge::{key_values, Setting};
use super::syntax::{
    is_host_path, parse_compose_bool, parse_device, parse_go_bool, parse_port, parse_protocol,
    parse_range, parse_tmpfs, parse_volume, split_security_opt,
};
use crate::budget::ExpansionBudget;
use crate::yaml::{Entry, Node, Value};
use crate::{Lowered, Options};
use leastpriv_source::read::ReadError;

/// Ports one project may publish, ranges expanded: a hostile `1-65535:1-65535` on every line must
/// not turn into billions of mappings.
const MAX_PORTS: usize = 100_000;

/// Services lowered in one project: far above any real project, and each service is judged by every
/// rule, so a file of a million one-line services must not make millions of findings.
const MAX_SERVICES: usize = 10_000;

/// Lowers the services of `model`, the project's merged tree, one at a time: each service's subtree
/// is dropped once it is lowered, so the tree and the model it becomes are never both whole in
/// memory.
pub(super) fn lower_services(
    db: &SourceDb,
    project: &Project,
    model: Option<Node>,
    options: &Options,
) -> Lowered {
    let mut lowering = Lowering {
        db,
        project,
        options,
        errors: Vec::new(),
        bind_volumes: HashMap::new(),
        ports_left: MAX_PORTS,
        dockerfiles: HashMap::new(),
        builds: HashMap::new(),
        cwd: std::env::current_dir().ok(),
    };
    let mut containers = Vec::new();
    if let Some(mut model) = model {
        lowering.bind_volumes = lowering.bind_volumes(&model);
        let services = model
            .as_map_mut()
            .and_then(|entries| {
                entries
                    .iter_mut()
                    .find(|entry| entry.key.as_str() == Some("services"))
            })
            .map(|entry| {
                let span = entry.value.span;
                std::mem::replace(&mut entry.value, Node::null(span))
            });
        drop(model);
        match services {
            Some(Node {
                value: Value::Map(services),
                ..
            }) => {
                for entry in services {
                    if containers.len() == MAX_SERVICES {
                        lowering.error(
                            entry.key.span,
                            format!("more than {MAX_SERVICES} services; from here on they are not audited"),
                        );
                        break;
                    }
                    if let Some(container) = lowering.service(&entry) {
                        containers.push(container);
                    }
                }
            }
            Some(Node {
                value: Value::Null, ..
            })
            | None => {}
            Some(services) => lowering.error(services.span, "`services` must be a mapping"),
        }
    }
    // The project's `.env` is committed with it: its literal secrets are reported once, with the
    // first service.
    if let Some(first) = containers.first_mut() {
        first
            .committed_env
            .extend(project.dotenv_variables.iter().cloned());
    }
    Lowered {
        containers,
        errors: lowering.errors,
        ..Lowered::default()
    }
}

/// A Dockerfile with the target and arguments it is built with.
type BuildKey = (FileId, Option<String>, BTreeMap<String, String>);

struct Lowering<'a> {
    db: &'a SourceDb,
    project: &'a Project,
    options: &'a Options,
    errors: Vec<InputError>,
    /// Top-level volumes that are host directories (`driver_opts: {o: bind, device: …}`).
    bind_volumes: HashMap<String, String>,
    ports_left: usize,
    /// Dockerfiles read, by path (`None` when unreadable).
    dockerfiles: HashMap<PathBuf, Option<FileId>>,
    /// Builds lowered, by Dockerfile, target and arguments.
    builds: HashMap<BuildKey, Option<Build>>,
    cwd: Option<PathBuf>,
}

impl Lowering<'_> {
    /// Reports a malformed value. A value that names an unset variable is not reported: the variable
    /// is set where the project runs (a CI secret, a deploy-time `.env`), and an audit without it
    /// cannot know the value, so the value is skipped rather than failing the audit.
    fn error(&mut self, span: Span, message: impl Into<String>) {
        if self.project.unresolved.contains(&span) {
            return;
        }
        let path = self.db.get(span.file).path().to_owned();
        self.errors.push(InputError::at(path, span, message));
    }

    fn service(&mut self, entry: &Entry) -> Option<Container> {
        let name = entry.key.as_str()?;
        if name.starts_with("x-") {
            return None;
        }
        let empty = Vec::new();
        let fields = match &entry.value.value {
            Value::Map(fields) => fields,
            Value::Null => &empty,
            Value::Scalar(_) | Value::Seq(_) => {
                self.error(
                    entry.value.span,
                    format!("service `{name}` must be a mapping"),
                );
                return None;
            }
        };
        let mut runtime = Runtime {
            capabilities_anchor: Some(entry.key.span),
            ..Runtime::default()
        };
        let mut build = None;
        let mut profiles = Vec::new();
        for field in fields {
            let Some(key) = field.key.as_str() else {
                continue;
            };
            let value = &field.value;
            match key {
                "image" => runtime.image = self.text(value, key),
                "user" => runtime.user = self.user(value),
                "privileged" => runtime.privileged = self.flag(value, key),
                "read_only" => runtime.read_only_root = self.flag(value, key),
                "cap_add" => runtime.cap_add = self.capabilities(value, key),
                "cap_drop" => runtime.cap_drop = self.capabilities(value, key),
                "security_opt" => self.security_opts(value, &mut runtime),
                "tmpfs" => self.tmpfs(value, &mut runtime),
                "volumes" => self.volumes(value, &mut runtime),
                "ports" => self.ports(value, &mut runtime),
                "secrets" => runtime.secrets = self.secrets(value),
                "environment" => runtime.environment = self.environment(value),
                "env_file" => runtime.env_files = self.env_files(value),
                "pid" => runtime.namespaces.pid = self.namespace(value, key),
                "ipc" => runtime.namespaces.ipc = self.namespace(value, key),
                "uts" => runtime.namespaces.uts = self.namespace(value, key),
                "userns_mode" => runtime.namespaces.user = self.namespace(value, key),
                "network_mode" => runtime.namespaces.network = self.namespace(value, key),
                "cgroup" => runtime.namespaces.cgroup = self.namespace(value, key),
                "devices" => runtime.devices = self.devices(value),
                "device_cgroup_rules" => {
                    runtime.device_cgroup_rules = self
                        .list(value, key)
                        .into_iter()
                        .filter_map(|item| self.text(item, key))
                        .collect();
                }
                "sysctls" => runtime.sysctls = self.sysctls(value),
                "command" => runtime.command = self.command_words(value, key),
                "entrypoint" => runtime.entrypoint = Some(self.command_words(value, key)),
                "group_add" => {
                    runtime.group_add = self
                        .list(value, key)
                        .into_iter()
                        .filter_map(|item| self.text(item, key))
                        .collect();
                }
                "build" => build = self.build(value, name),
                "profiles" => profiles = string_list(value),
                _ => {}
            }
        }
        // Profile paths are already resolved against the project directory.
        if let Err((span, message)) =
            crate::seccomp::attach_facts(&mut runtime, None, &self.project.scope)
        {
            self.error(span, message);
        }
        runtime.mounts = unique_by(runtime.mounts, |mount| Some(mount.value.target.clone()));
        runtime.tmpfs = unique_by(runtime.tmpfs, |tmpfs| Some(tmpfs.value.target.clone()));
        let display_name = if profiles.is_empty() {
            name.to_owned()
        } else {
            let names: Vec<&str> = profiles.iter().map(|(name, _)| name.as_str()).collect();
            format!("{name} (profiles: {})", names.join(", "))
        };
        let from_files = self.env_file_variables(&runtime.env_files);
        // `environment:` wins over `env_file:` for the same name, as in Compose; the file still
        // holds the value, committed.
        let (overridden, received): (Vec<EnvVar>, Vec<EnvVar>) =
            from_files.into_iter().partition(|variable| {
                runtime
                    .environment
                    .iter()
                    .any(|set| set.name.value == variable.name.value)
            });
        runtime.environment.extend(received);
        let mut container = Container::new(display_name, SourceKind::Compose, entry.key.span);
        container.committed_env = overridden
            .into_iter()
            .filter(|variable| leastpriv_secrets::is_secret_name(&variable.name.value))
            .collect();
        container.runtime = Some(runtime);
        container.build = build;
        Some(container)
    }

    /// A scalar as text; null as absent; a collection is an error.
    fn text(&mut self, node: &Node, field: &str) -> Option<Spanned<String>> {
        match &node.value {
            Value::Scalar(scalar) => Some(Spanned::new(scalar.text.to_string(), node.span)),
            Value::Null => None,
            Value::Seq(_) | Value::Map(_) => {
                self.error(node.span, format!("`{field}` must be a string"));
                None
            }
        }
    }

    /// A boolean as Compose reads one (`true`, `"true"`, `yes`, `on` …).
    fn flag(&mut self, node: &Node, field: &str) -> Option<Spanned<bool>> {
        let text = self.text(node, field)?;
        match parse_compose_bool(&text.value) {
            Some(flag) => Some(Spanned::new(flag, text.span)),
            None => {
                self.error(
                    text.span,
                    message!(
                        "`{}` must be a boolean, not `{}`",
                        Quoted(field),
                        Quoted(&text.value)
                    )
                    .to_string(),
                );
                None
            }
        }
    }

    /// The items of a list; a single value counts as a one-item list but is an error where Compose
    /// requires a list.
    fn list<'n>(&mut self, node: &'n Node, field: &str) -> Vec<&'n Node> {
        match &node.value {
            Value::Seq(items) => items.iter().filter(|item| !item.is_null()).collect(),
            Value::Null => Vec::new(),
            Value::Scalar(_) => {
                self.error(node.span, format!("`{field}` must be a list"));
                vec![node]
            }
            Value::Map(_) => {
                self.error(node.span, format!("`{field}` must be a list"));
                Vec::new()
            }
        }
    }

    /// `command` or `entrypoint`: a list of arguments, or a string Compose splits as a shell would
    /// (quotes removed). Each word keeps its own span where the string is written as read.
    fn command_words(&mut self, node: &Node, field: &str) -> Vec<Spanned<String>> {
        match &node.value {
            Value::Scalar(scalar) => {
                let raw = self.db.slice(node.span);
                // Where the scalar's text starts in the file: plain (`raw == text`) or quoted on one
                // line without escapes; otherwise every word points at the whole value.
                let inner = if raw == scalar.text {
                    Some(node.span.range.start as usize)
                } else if raw.len() == scalar.text.len() + 2
                    && raw.get(1..raw.len() - 1) == Some(scalar.text.as_str())
                {
                    Some(node.span.range.start as usize + 1)
                } else {
                    None
                };
                crate::engine_in_container::split_words(&scalar.text)
                    .into_iter()
                    .map(|(word, range)| {
                        let span = inner.map_or(node.span, |start| {
                            Span::new(node.span.file, range.shifted(start))
                        });
                        Spanned::new(word, span)
                    })
                    .collect()
            }
            _ => self
                .list(node, field)
                .into_iter()
                .filter_map(|item| self.text(item, field))
                .collect(),
        }
    }

    /// A string or a list of strings (`tmpfs`, `env_file`).
    fn one_or_many<'n>(&mut self, node: &'n Node, field: &str) -> Vec<&'n Node> {
        match &node.value {
            Value::Scalar(_) => vec![node],
            _ => self.list(node, field),
        }
    }

    fn user(&mut self, node: &Node) -> Option<Spanned<User>> {
        let text = self.text(node, "user")?;
        if text.value.trim().is_empty() && !self.project.unresolved.contains(&text.span) {
            return None;
        }
        let mut user = User::parse(&text.value);
        user.unresolved = self.project.unresolved.contains(&text.span);
        Some(Spanned::new(user, text.span))
    }

    fn capabilities(&mut self, node: &Node, field: &str) -> Vec<Spanned<Capability>> {
        let mut capabilities = Vec::new();
        for item in self.list(node, field) {
            if let Some(text) = self.text(item, field) {
                capabilities.push(Spanned::new(Capability::parse(&text.value), text.span));
            }
        }
        unique_by(capabilities, |capability| Some(capability.value.clone()))
    }

    fn security_opts(&mut self, node: &Node, runtime: &mut Runtime) {
        for item in self.list(node, "security_opt") {
            let Some(text) = self.text(item, "security_opt") else {
                continue;
            };
            let span = text.span;
            let (key, value) = split_security_opt(&text.value);
            match (key, value) {
                ("seccomp", Some(profile)) => {
                    let profile = match profile {
                        "unconfined" => SeccompProfile::Unconfined,
                        "builtin" | "default" | "runtime/default" | "docker/default" => {
                            SeccompProfile::RuntimeDefault
                        }
                        path => SeccompProfile::File(self.host_path(path, span)),
                    };
                    runtime.seccomp = Some(Spanned::new(profile, span));
                }
                ("apparmor", Some(profile)) => {
                    let profile = match profile {
                        "unconfined" => LsmProfile::Unconfined,
                        "docker-default" | "runtime/default" => LsmProfile::RuntimeDefault,
                        name => LsmProfile::Named(name.to_owned()),
                    };
                    runtime.apparmor = Some(Spanned::new(profile, span));
                }
                ("label", Some(option)) => {
                    let label = match option.split_once(':') {
                        _ if option == "disable" => Some(SelinuxLabel::Disable),
                        Some(("type", value)) => Some(SelinuxLabel::Type(value.to_owned())),
                        Some(("user", value)) => Some(SelinuxLabel::User(value.to_owned())),
                        Some(("role", value)) => Some(SelinuxLabel::Role(value.to_owned())),
                        Some(("level", value)) => Some(SelinuxLabel::Level(value.to_owned())),
                        _ => None,
                    };
                    match label {
                        Some(label) => runtime.selinux.push(Spanned::new(label, span)),
                        None => self.error(
                            span,
                            message!("unknown SELinux label option `{}`", Quoted(option))
                                .to_string(),
                        ),
                    }
                }
                ("systempaths", Some("unconfined")) => runtime.unmasked_paths = Some(span),
                ("no-new-privileges", value) => {
                    let flag = match value {
                        None => Some(true),
                        Some(value) => parse_go_bool(value),
                    };
                    match flag {
                        Some(flag) => runtime.no_new_privileges = Some(Spanned::new(flag, span)),
                        None => self.error(span, "`no-new-privileges` takes `true` or `false`"),
                    }
                }
                _ => {}
            }
        }
    }

    fn tmpfs(&mut self, node: &Node, runtime: &mut Runtime) {
        for item in self.one_or_many(node, "tmpfs") {
            let Some(text) = self.text(item, "tmpfs") else {
                continue;
            };
            let (target, options) = parse_tmpfs(&text.value);
            runtime
                .tmpfs
                .push(Spanned::new(Tmpfs { target, options }, text.span));
        }
    }

    fn volumes(&mut self, node: &Node, runtime: &mut Runtime) {
        for item in self.list(node, "volumes") {
            match &item.value {
                Value::Scalar(scalar) => match parse_volume(&scalar.text) {
                    Ok(volume) => {
                        let kind = match volume.source {
                            None => MountKind::Volume { name: None },
                            Some(source) if is_host_path(&source) => MountKind::Bind {
                                source: self.host_path(&source, item.span),
                            },
                            Some(name) => self.named_volume(name),
                        };
                        let mount = Mount {
                            kind,
                            target: volume.target,
                            read_only: volume.read_only,
                            propagation: volume.propagation,
                        };
                        runtime.mounts.push(Spanned::new(mount, item.span));
                    }
                    Err(message) => self.error(item.span, message),
                },
                Value::Map(_) => self.long_volume(item, runtime),
                Value::Null | Value::Seq(_) => {
                    self.error(item.span, "a volume must be a string or a mapping");
                }
            }
        }
    }

    /// A volume in long syntax (`type`, `source`, `target`, `read_only`, `bind`, `tmpfs` …).
    fn long_volume(&mut self, item: &Node, runtime: &mut Runtime) {
        let Some(target) = item
            .get("target")
            .and_then(|node| self.text(node, "target"))
        else {
            self.error(item.span, "a volume needs a `target`");
            return;
        };
        let source = item
            .get("source")
            .and_then(|node| self.text(node, "source"));
        let kind_text = item
            .get("type")
            .and_then(|node| self.text(node, "type"))
            .map(|kind| kind.value);
        let kind_text = kind_text.unwrap_or_else(|| match &source {
            Some(source) if is_host_path(&source.value) => "bind".to_owned(),
            _ => "volume".to_owned(),
        });
        let read_only = item
            .get("read_only")
            .and_then(|node| self.flag(node, "read_only"))
            .is_some_and(|flag| flag.value);
        let propagation = item
            .get("bind")
            .and_then(|bind| bind.get("propagation"))
            .and_then(Node::as_str)
            .map(str::to_owned);
        let kind = match kind_text.as_str() {
            "bind" => {
                let Some(source) = source else {
                    self.error(item.span, "a bind mount needs a `source`");
                    return;
                };
                MountKind::Bind {
                    source: self.host_path(&source.value, source.span),
                }
            }
            "npipe" => {
                let Some(source) = source else {
                    self.error(item.span, "a named pipe mount needs a `source`");
                    return;
                };
                MountKind::Bind {
                    source: source.value,
                }
            }
            "volume" => match source {
                Some(source) => self.named_volume(source.value),
                None => MountKind::Volume { name: None },
            },
            "tmpfs" => {
                let mut options = Vec::new();
                if let Some(tmpfs) = item.get("tmpfs") {
                    if let Some(size) = tmpfs.get("size").and_then(Node::as_str) {
                        options.push(format!("size={size}"));
                    }
                    if let Some(mode) = tmpfs
                        .get("mode")
                        .and_then(Node::as_str)
                        .and_then(parse_mode)
                    {
                        options.push(format!("mode={mode:o}"));
                    }
                }
                let tmpfs = Tmpfs {
                    target: target.value,
                    options,
                };
                runtime.tmpfs.push(Spanned::new(tmpfs, item.span));
                return;
            }
            other => MountKind::Other {
                kind: other.to_owned(),
            },
        };
        let mount = Mount {
            kind,
            target: target.value,
            read_only,
            propagation,
        };
        runtime.mounts.push(Spanned::new(mount, item.span));
    }

    /// A named volume, or the host directory it stands for when the project defines it as one.
    fn named_volume(&self, name: String) -> MountKind {
        match self.bind_volumes.get(&name) {
            Some(device) => MountKind::Bind {
                source: device.clone(),
            },
            None => MountKind::Volume { name: Some(name) },
        }
    }

    /// Top-level volumes of the local driver with `o: bind` and a `device`: bind mounts in disguise.
    fn bind_volumes(&self, model: &Node) -> HashMap<String, String> {
        let mut volumes = HashMap::new();
        for entry in model
            .get("volumes")
            .and_then(Node::as_map)
            .unwrap_or_default()
        {
            let (Some(name), Some(options)) = (entry.key.as_str(), entry.value.get("driver_opts"))
            else {
                continue;
            };
            let is_bind = options.get("o").and_then(Node::as_str).is_some_and(|o| {
                o.split(',')
                    .any(|option| matches!(option.trim(), "bind" | "rbind"))
            });
            if let (true, Some(device)) = (is_bind, options.get("device")) {
                if let Some(path) = device.as_str() {
                    volumes.insert(name.to_owned(), self.host_path(path, device.span));
                }
            }
        }
        volumes
    }

    fn ports(&mut self, node: &Node, runtime: &mut Runtime) {
        for item in self.list(node, "ports") {
            let span = item.span;
            let parsed = match &item.value {
                Value::Scalar(scalar) => parse_port(&scalar.text),
                Value::Map(_) => self.long_port(item),
                Value::Null | Value::Seq(_) => {
                    Err("a port must be a string, a number or a mapping".to_owned())
                }
            };
            let spec = match parsed {
                Ok(spec) => spec,
                Err(message) => {
                    self.error(span, message);
                    continue;
                }
            };
            let (container_start, container_end) = spec.container;
            let container_count = usize::from(container_end - container_start) + 1;
            let pairs: Vec<(Option<u16>, u16)> = match spec.host {
                None => (container_start..=container_end)
                    .map(|port| (None, port))
                    .collect(),
                Some((host_start, host_end)) => {
                    let host_count = usize::from(host_end - host_start) + 1;
                    if host_count == container_count {
                        (host_start..=host_end)
                            .zip(container_start..=container_end)
                            .map(|(host, container)| (Some(host), container))
                            .collect()
                    } else if container_count == 1 {
                        // Docker picks one free host port of the range.
                        vec![(Some(host_start), container_start)]
                    } else {
                        self.error(span, "host and container port ranges differ in size");
                        continue;
                    }
                }
            };
            if pairs.len() > self.ports_left {
                self.error(
                    span,
                    format!(
                        "the project publishes more than {MAX_PORTS} ports; the rest are not read"
                    ),
                );
                self.ports_left = 0;
                return;
            }
            self.ports_left -= pairs.len();
            for (host_port, container_port) in pairs {
                runtime.ports.push(Spanned::new(
                    PortMapping {
                        host_ip: spec.host_ip.clone(),
                        host_port,
                        container_port: Some(container_port),
                        protocol: spec.protocol,
                    },
                    span,
                ));
            }
        }
    }

    /// A port in long syntax (`target`, `published`, `host_ip`, `protocol`).
    fn long_port(&mut self, item: &Node) -> Result<super::syntax::PortSpec, String> {
        let target = item
            .get("target")
            .and_then(Node::as_str)
            .and_then(parse_range)
            .ok_or("a port needs a numeric `target`")?;
        let host = match item.get("published").and_then(Node::as_str) {
            Some(published) if !published.is_empty() => {
                Some(parse_range(published).ok_or_else(|| {
                    message!("invalid published port `{}`", Quoted(published)).to_string()
                })?)
            }
            _ => None,
        };
        let protocol = match item.get("protocol").and_then(Node::as_str) {
            Some(protocol) => parse_protocol(protocol)
                .ok_or_else(|| message!("unknown protocol `{}`", Quoted(protocol)).to_string())?,
            None => leastpriv_model::Protocol::Tcp,
        };
        Ok(super::syntax::PortSpec {
            host_ip: item
                .get("host_ip")
                .and_then(Node::as_str)
                .filter(|ip| !ip.is_empty())
                .map(str::to_owned),
            host,
            container: target,
            protocol,
        })
    }

    fn secrets(&mut self, node: &Node) -> Vec<Spanned<SecretMount>> {
        let mut secrets = Vec::new();
        for item in self.list(node, "secrets") {
            let (name, target) = match &item.value {
                Value::Scalar(scalar) => (scalar.text.to_string(), None),
                Value::Map(_) => {
                    let Some(source) = item.get("source").and_then(Node::as_str) else {
                        self.error(item.span, "a secret needs a `source`");
                        continue;
                    };
                    let target = item.get("target").and_then(Node::as_str).map(str::to_owned);
                    (source.to_owned(), target)
                }
                Value::Null | Value::Seq(_) => {
                    self.error(item.span, "a secret must be a name or a mapping");
                    continue;
                }
            };
            let target = match target {
                Some(target) if target.starts_with('/') => target,
                Some(target) => format!("/run/secrets/{target}"),
                None => format!("/run/secrets/{name}"),
            };
            secrets.push(Spanned::new(
                SecretMount {
                    name,
                    target: Some(target),
                },
                item.span,
            ));
        }
        unique_by(secrets, |secret| secret.value.target.clone())
    }

    fn environment(&mut self, node: &Node) -> Vec<EnvVar> {
        if !matches!(node.value, Value::Map(_) | Value::Seq(_) | Value::Null) {
            self.error(node.span, "`environment` must be a list or a mapping");
            return Vec::new();
        }
        let mut variables = Vec::new();
        for entry in key_values(node) {
            let value = match entry.value {
                Setting::Unset => None,
                Setting::Text(text) if !self.project.substituted.contains(&entry.value_span) => {
                    Some(Spanned::new(Sensitive::new(text), entry.value_span))
                }
                // The value comes from the environment or `.env`: it is not written here.
                Setting::Text(_) => None,
                Setting::Collection => {
                    self.error(
                        entry.value_span,
                        format!("the value of `{}` must be a string", entry.key),
                    );
                    continue;
                }
            };
            variables.push(EnvVar {
                name: Spanned::new(entry.key.to_owned(), entry.key_span),
                value,
            });
        }
        unique_by(variables, |variable| Some(variable.name.value.clone()))
    }

    /// The variables the `env_file:` files set to written values, located in those files: they
    /// are the container's environment, and committed files audited for literal secrets. A file
    /// that exists in the project but cannot be read (a FIFO, too large, binary) is an error at its
    /// entry.
    fn env_file_variables(&mut self, files: &[Spanned<String>]) -> Vec<EnvVar> {
        let mut variables = Vec::new();
        for file in files {
            let path = Path::new(&file.value);
            let text = match read_text(path, &self.project.scope) {
                Ok(text) => text,
                // Not committed (`.env` files are usually ignored by git) or outside the project
                // (a path on the deploying host): nothing here to audit.
                Err(ReadError::NotFound | ReadError::OutsideScope) => continue,
                Err(error) => {
                    self.error(
                        file.span,
                        format!("cannot read the `env_file` `{}`: {error}", path.display()),
                    );
                    continue;
                }
            };
            // Shown as the user would write it: relative to the current directory when inside it.
            let shown = self
                .cwd
                .as_deref()
                .and_then(|cwd| path.strip_prefix(cwd).ok())
                .unwrap_or(path);
            let id = self.db.add(shown.display().to_string(), text.as_str());
            let budget = ExpansionBudget::for_input(text.len());
            let parsed = dotenv::parse(&text, &self.project.environment, &budget);
            variables.extend(located_variables(id, &parsed.literals));
        }
        variables
    }

    fn env_files(&mut self, node: &Node) -> Vec<Spanned<String>> {
        let mut files = Vec::new();
        for item in self.one_or_many(node, "env_file") {
            let path = match &item.value {
                Value::Map(_) => item.get("path").and_then(Node::as_str),
                _ => item.as_str(),
            };
            match path {
                Some(path) => files.push(Spanned::new(self.host_path(path, item.span), item.span)),
                None => self.error(item.span, "an `env_file` entry needs a path"),
            }
        }
        files
    }

    fn namespace(&mut self, node: &Node, field: &str) -> Option<Spanned<NamespaceMode>> {
        let text = self.text(node, field)?;
        let value = text.value.trim();
        if value.is_empty() {
            return None;
        }
        let mode = if value == "host" {
            NamespaceMode::Host
        } else if let Some(other) = value
            .strip_prefix("service:")
            .or_else(|| value.strip_prefix("container:"))
        {
            NamespaceMode::Shared(other.to_owned())
        } else {
            NamespaceMode::Private
        };
        Some(Spanned::new(mode, text.span))
    }

    fn devices(&mut self, node: &Node) -> Vec<Spanned<Device>> {
        let mut devices = Vec::new();
        for item in self.list(node, "devices") {
            let device = match &item.value {
                Value::Scalar(scalar) => match parse_device(&scalar.text) {
                    Ok(spec) => Device {
                        host: spec.host,
                        container: spec.container,
                        permissions: spec.permissions,
                    },
                    Err(message) => {
                        self.error(item.span, message);
                        continue;
                    }
                },
                Value::Map(_) => {
                    let Some(source) = item.get("source").and_then(Node::as_str) else {
                        self.error(item.span, "a device needs a `source`");
                        continue;
                    };
                    Device {
                        host: source.to_owned(),
                        container: item
                            .get("target")
                            .and_then(Node::as_str)
                            .unwrap_or(source)
                            .to_owned(),
                        permissions: item
                            .get("permissions")
                            .and_then(Node::as_str)
                            .unwrap_or("rwm")
                            .to_owned(),
                    }
                }
                Value::Null | Value::Seq(_) => {
                    self.error(item.span, "a device must be a string or a mapping");
                    continue;
                }
            };
            devices.push(Spanned::new(device, item.span));
        }
        unique_by(devices, |device| {
            (!device.value.container.is_empty()).then(|| device.value.container.clone())
        })
    }

    fn sysctls(&mut self, node: &Node) -> Vec<Spanned<Sysctl>> {
        if !matches!(node.value, Value::Map(_) | Value::Seq(_) | Value::Null) {
            self.error(node.span, "`sysctls` must be a list or a mapping");
            return Vec::new();
        }
        let mut sysctls = Vec::new();
        for entry in key_values(node) {
            let value = match entry.value {
                Setting::Text(text) => text,
                Setting::Unset | Setting::Collection => "",
            };
            sysctls.push(Spanned::new(
                Sysctl {
                    name: entry.key.trim().to_owned(),
                    value: value.trim().to_owned(),
                },
                cover(entry.key_span, entry.value_span),
            ));
        }
        unique_by(sysctls, |sysctl| Some(sysctl.value.name.clone()))
    }

    /// The build of the service's Dockerfile (or `dockerfile_inline`), with the service's `args` and
    /// `target`. A remote context (a Git or HTTP URL) is not fetched.
    fn build(&mut self, node: &Node, service: &str) -> Option<Build> {
        let (context, dockerfile, inline, target, args) = match &node.value {
            Value::Scalar(_) => (Some(node), None, None, None, None),
            Value::Map(_) => (
                node.get("context"),
                node.get("dockerfile"),
                node.get("dockerfile_inline"),
                node.get("target").and_then(Node::as_str),
                node.get("args"),
            ),
            Value::Null => return None,
            Value::Seq(_) => {
                self.error(node.span, "`build` must be a path or a mapping");
                return None;
            }
        };
        let context_text = context.and_then(Node::as_str).unwrap_or(".");
        if is_remote(context_text) {
            return None;
        }
        let context_span = context.map_or(node.span, |context| context.span);
        let context_dir = join(&self.dir_of(context_span.file), context_text);
        let file = match inline.and_then(|inline| Some((inline.as_str()?, inline.span))) {
            Some((text, span)) => {
                let path = format!(
                    "{}#services.{service}.build.dockerfile_inline",
                    self.db.get(span.file).path()
                );
                self.db.add(path, text)
            }
            None => {
                let name = dockerfile.and_then(Node::as_str).unwrap_or("Dockerfile");
                let named_at = dockerfile.map_or(context_span, |dockerfile| dockerfile.span);
                self.dockerfile(join(&context_dir, name), named_at)?
            }
        };
        let mut build_args = BTreeMap::new();
        if let Some(args) = args {
            for entry in key_values(args) {
                let name = entry.key;
                let value = match entry.value {
                    Setting::Text(value) => Some(value.to_owned()),
                    // `- NAME` or `NAME:` passes the variable from the environment.
                    Setting::Unset | Setting::Collection => {
                        self.project.variables.get(name).map(str::to_owned)
                    }
                };
                if let Some(value) = value {
                    build_args.insert(name.to_owned(), value);
                }
            }
        }
        build_args.extend(self.options.build_args.clone());
        let target = target.map(str::to_owned);
        let key = (file, target.clone(), build_args.clone());
        if let Some(build) = self.builds.get(&key) {
            return build.clone();
        }
        let options = Options {
            target,
            build_args,
            env: None,
            scope: self.project.scope.clone(),
            build_context: crate::dockerfile::ContextDir::Directory(context_dir),
        };
        let lowered = crate::dockerfile::lower(self.db, file, &options);
        self.errors.extend(lowered.errors);
        let build = lowered
            .containers
            .into_iter()
            .next()
            .and_then(|container| container.build);
        self.builds.insert(key, build.clone());
        build
    }

    /// The Dockerfile at `path`, read once. One that is not there is no error: `docker compose
    /// config` accepts the file, only the build would fail, and a Compose file audited without its
    /// build context (copied alone, or in a repository whose Dockerfiles are generated) must not
    /// fail the audit. The service then has no build facts. One that is there but cannot be read
    /// (outside the audited paths, not a regular file, binary) is an error at `named_at`.
    fn dockerfile(&mut self, path: PathBuf, named_at: Span) -> Option<FileId> {
        if let Some(file) = self.dockerfiles.get(&path) {
            return *file;
        }
        let file = match read_text(&path, &self.project.scope) {
            Ok(text) => Some(self.db.add(path.display().to_string(), text)),
            Err(ReadError::NotFound) => None,
            Err(error) => {
                self.error(
                    named_at,
                    format!("cannot read the Dockerfile `{}`: {error}", path.display()),
                );
                None
            }
        };
        self.dockerfiles.insert(path, file);
        file
    }

    /// The directory relative paths in `file` resolve against, as displayed.
    fn dir_of(&self, file: FileId) -> PathBuf {
        self.project.dirs.get(&file).cloned().unwrap_or_else(|| {
            Path::new(self.db.get(file).path())
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_default()
        })
    }

    /// A host path as Docker will mount it: `~` expanded, relative paths made absolute against the
    /// directory of the file that wrote them. Windows paths and named pipes are kept as written.
    fn host_path(&self, path: &str, span: Span) -> String {
        if let Some(rest) = path.strip_prefix('~') {
            if rest.is_empty() || rest.starts_with('/') {
                if let Some((_, home)) = self
                    .project
                    .environment
                    .iter()
                    .find(|(name, _)| name == "HOME")
                {
                    return format!("{home}{rest}");
                }
            }
            return path.to_owned();
        }
        let is_windows = path.starts_with("\\\\") || path.chars().nth(1) == Some(':');
        if path.starts_with('/') || is_windows {
            return normalize(Path::new(path)).display().to_string();
        }
        let dir = self.dir_of(span.file);
        let relative = join(&dir, path);
        let absolute = match &self.cwd {
            Some(cwd) if !relative.is_absolute() => normalize(&cwd.join(relative)),
            _ => relative,
        };
        absolute.display().to_string()
    }
}

/// A file mode as Compose reads one: octal with a leading `0` or `0o` (`01777`), else decimal.
fn parse_mode(text: &str) -> Option<u32> {
    let text = text.trim();
    match text
        .strip_prefix("0o")
        .or_else(|| text.strip_prefix('0').filter(|rest| !rest.is_empty()))
    {
        Some(octal) => u32::from_str_radix(octal, 8).ok(),
        None => text.parse().ok(),
    }
}

/// Removes earlier duplicates: an item whose key an earlier one has replaces it in its place, as
/// compose-go's `EnforceUnicity` does after merging (two volumes at one target, a variable set
/// twice). Items without a key are kept.
fn unique_by<T, K: std::hash::Hash + Eq>(items: Vec<T>, key: impl Fn(&T) -> Option<K>) -> Vec<T> {
    let mut positions: HashMap<K, usize> = HashMap::new();
    let mut unique: Vec<T> = Vec::with_capacity(items.len());
    for item in items {
        match key(&item) {
            Some(key) => match positions.get(&key) {
                Some(&index) => unique[index] = item,
                None => {
                    positions.insert(key, unique.len());
                    unique.push(item);
                }
            },
            None => unique.push(item),
        }
    }
    unique
}

/// The span from the start of `first` to the end of `second` when both are in one file.
fn cover(first: Span, second: Span) -> Span {
    if first.file == second.file {
        Span::new(first.file, first.range.cover(second.range))
    } else {
        first
    }
}
