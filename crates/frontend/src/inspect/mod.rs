//! `docker inspect` front-end: each container of `docker inspect` output (a JSON array, or one object)
//! becomes a container whose [`Runtime`] is read from `HostConfig`, `Config` and `Mounts`; each image
//! of `docker image inspect` output becomes [`ImageFacts`].
//!
//! The engine reports its settings in full, so unlike a Compose file or a `docker run` line, a missing
//! setting here is the engine's default, and an empty `Config.User` means root. The value syntaxes
//! (`SecurityOpt`, `Binds`, namespace modes) are the CLI's, read by [`crate::docker_run::syntax`].
//! `.Mounts` lists what is actually mounted (bind sources resolved, image volumes included), so it is
//! preferred to `HostConfig.Binds`/`HostConfig.Mounts` when present.

use leastpriv_model::{
    Capability, Container, Device, EnvVar, ImageFacts, Mount, MountKind, PortMapping, PortSpec,
    Runtime, Sensitive, SourceKind, Span, Spanned, TextRange, Tmpfs, User,
};
use leastpriv_source::{FileId, SourceDb, SourceFile};

use crate::docker_run::syntax::{self, MountSpec, SecurityOpt};
use crate::yaml::{self, Node};
use crate::{Lowered, Options};

/// Whether `text` reads as `docker inspect` output: a JSON array (or one object) of containers, which
/// have `HostConfig`, or of images, which have `Id` and `Config` but no `apiVersion`.
pub fn looks_like_inspect(text: &str) -> bool {
    text.trim_start().starts_with(['[', '{'])
        && (text.contains("\"HostConfig\"")
            || (text.contains("\"Id\"")
                && text.contains("\"Config\"")
                && !text.contains("\"apiVersion\"")))
}

/// Lowers `docker inspect` output into one container per inspected container or image.
pub fn lower(db: &SourceDb, file: FileId, _options: &Options) -> Lowered {
    let source = db.get(file);
    let mut lowered = yaml::lower_each(&source, file, |document, lowered| {
        let objects = match document.as_seq() {
            Some(items) => items,
            None => std::slice::from_ref(&document),
        };
        for object in objects {
            let reader = Reader { source: &source };
            if object.get("HostConfig").is_some() {
                lowered.containers.push(reader.container(object));
            } else if object.get("Config").is_some() && object.get("Id").is_some() {
                lowered.containers.push(reader.image(object));
            }
        }
    });
    // The engine keeps a custom seccomp profile inline (`seccomp={"defaultAction": …}`); a path
    // would name a file on the daemon's host, which is not read.
    for runtime in lowered
        .containers
        .iter_mut()
        .filter_map(|c| c.runtime.as_mut())
    {
        let inline = runtime.seccomp.as_ref().is_some_and(|setting| {
            matches!(&setting.value, leastpriv_model::SeccompProfile::File(text) if text.trim_start().starts_with('{'))
        });
        if inline {
            if let Err((span, message)) = crate::seccomp::attach_facts(
                runtime,
                None,
                &leastpriv_source::read::ReadScope::default(),
            ) {
                lowered.errors.push(leastpriv_source::InputError::at(
                    source.path(),
                    span,
                    message,
                ));
            }
        }
    }
    lowered.daemons = crate::engine_in_container::daemons(&lowered.containers);
    lowered
}

/// Reads inspect objects of one file; knows the text to place values inside JSON strings.
struct Reader<'a> {
    source: &'a SourceFile,
}

fn spanned<T>(value: T, node: &Node) -> Spanned<T> {
    Spanned::new(value, node.span)
}

/// The strings of a JSON array (`null` and absent give none).
fn strings(node: Option<&Node>) -> impl Iterator<Item = (&str, &Node)> {
    node.and_then(Node::as_seq)
        .unwrap_or_default()
        .iter()
        .filter_map(|item| Some((item.as_str()?, item)))
}

/// The strings of a JSON array, each with its span.
fn words(node: Option<&Node>) -> Vec<Spanned<String>> {
    strings(node)
        .map(|(text, node)| spanned(text.to_owned(), node))
        .collect()
}

/// The entries of a JSON object whose values are strings.
fn string_map(node: Option<&Node>) -> impl Iterator<Item = (&str, &str, &Node)> {
    node.and_then(Node::as_map)
        .unwrap_or_default()
        .iter()
        .filter_map(|entry| {
            Some((
                entry.key.as_str()?,
                entry.value.as_str().unwrap_or_default(),
                &entry.key,
            ))
        })
}

/// Where an object's value is best pointed at: its first non-empty string field of `keys`, else the
/// object.
fn place<const N: usize>(object: &Node, keys: [&str; N]) -> Span {
    keys.iter()
        .filter_map(|key| object.get(key))
        .find(|node| node.as_str().is_some_and(|text| !text.is_empty()))
        .map_or(object.span, |node| node.span)
}

fn text<'a>(object: &'a Node, key: &str) -> Option<&'a str> {
    object.get(key).and_then(Node::as_str)
}

impl Reader<'_> {
    /// The span of `value[range]` inside the JSON string `node`: exact when the string has no escape
    /// sequences, the whole string otherwise.
    fn inner(&self, node: &Node, range: std::ops::Range<usize>) -> Span {
        let raw = self.source.slice(node.span.range);
        let value = node.as_str().unwrap_or_default();
        let plain = raw.len() == value.len() + 2
            && raw.starts_with('"')
            && raw.get(1..raw.len() - 1) == Some(value);
        if !plain {
            return node.span;
        }
        let start = node.span.range.start as usize + 1;
        Span::new(
            node.span.file,
            TextRange::new(start + range.start, start + range.end),
        )
    }

    /// `K=V` entries of `Config.Env`.
    fn environment(&self, env: Option<&Node>) -> Vec<EnvVar> {
        strings(env)
            .map(|(entry, node)| match entry.split_once('=') {
                Some((name, value)) => EnvVar {
                    name: Spanned::new(name.to_owned(), self.inner(node, 0..name.len())),
                    value: Some(Spanned::new(
                        Sensitive::new(value),
                        self.inner(node, name.len() + 1..entry.len()),
                    )),
                },
                None => EnvVar {
                    name: spanned(entry.to_owned(), node),
                    value: None,
                },
            })
            .collect()
    }

    fn container(&self, object: &Node) -> Container {
        let empty = Node {
            value: yaml::Value::Null,
            span: object.span,
            tag: None,
        };
        let host = object.get("HostConfig").unwrap_or(&empty);
        let config = object.get("Config").unwrap_or(&empty);
        let name = text(object, "Name")
            .map(|name| name.trim_start_matches('/').to_owned())
            .filter(|name| !name.is_empty())
            .or_else(|| text(object, "Id").map(|id| id.chars().take(12).collect()))
            .unwrap_or_else(|| "<unnamed>".to_owned());
        let origin = object
            .get("Name")
            .or_else(|| object.get("Id"))
            .map_or(object.span, |node| node.span);
        let mut runtime = Runtime {
            image: config
                .get("Image")
                .and_then(|image| Some(spanned(image.as_str()?.to_owned(), image))),
            // The engine reports the user it runs: empty is root.
            user: config
                .get("User")
                .map(|user| spanned(User::parse(user.as_str().unwrap_or("")), user)),
            capabilities_anchor: Some(object.entry("HostConfig").map_or(origin, |e| e.key.span)),
            environment: self.environment(config.get("Env")),
            // What the engine runs: the image's entrypoint and command as the container kept them.
            entrypoint: config
                .get("Entrypoint")
                .and_then(Node::as_seq)
                .map(|_| words(config.get("Entrypoint"))),
            command: words(config.get("Cmd")),
            ..Runtime::default()
        };
        let flag = |key: &str| {
            let node = host.get(key)?;
            Some(spanned(node.as_bool()?, node))
        };
        runtime.privileged = flag("Privileged");
        runtime.read_only_root = flag("ReadonlyRootfs");
        runtime.cap_add = capabilities(host.get("CapAdd"));
        runtime.cap_drop = capabilities(host.get("CapDrop"));
        for (option, node) in strings(host.get("SecurityOpt")) {
            match syntax::security_opt(option) {
                SecurityOpt::NoNewPrivileges(on) => {
                    runtime.no_new_privileges = Some(spanned(on, node));
                }
                SecurityOpt::Seccomp(profile) => runtime.seccomp = Some(spanned(profile, node)),
                SecurityOpt::AppArmor(profile) => runtime.apparmor = Some(spanned(profile, node)),
                SecurityOpt::Label(label) => runtime.selinux.push(spanned(label, node)),
                SecurityOpt::Unmask => runtime.unmasked_paths = Some(node.span),
                SecurityOpt::Other => {}
            }
        }
        if runtime.apparmor.is_none() {
            // The profile the engine applied; empty when the host has no AppArmor.
            runtime.apparmor = object
                .get("AppArmorProfile")
                .filter(|node| node.as_str().is_some_and(|name| !name.is_empty()))
                .map(|node| spanned(syntax::lsm_profile(node.as_str().unwrap_or("")), node));
        }
        // `MaskedPaths: []` is what `--privileged` and `systempaths=unconfined` leave.
        if let Some(masked) = host.get("MaskedPaths") {
            if masked.as_seq().is_some_and(<[Node]>::is_empty) {
                runtime.unmasked_paths.get_or_insert(masked.span);
            }
        }
        for (target, options, node) in string_map(host.get("Tmpfs")) {
            runtime.tmpfs.push(spanned(
                Tmpfs {
                    target: target.to_owned(),
                    options: syntax::split_options(options),
                },
                node,
            ));
        }
        self.mounts(&mut runtime, object, host);
        let namespaces = &mut runtime.namespaces;
        let mode = |key: &str| {
            let node = host.get(key)?;
            Some(spanned(syntax::namespace(node.as_str()?)?, node))
        };
        namespaces.pid = mode("PidMode");
        namespaces.network = mode("NetworkMode");
        namespaces.ipc = mode("IpcMode");
        namespaces.uts = mode("UTSMode");
        namespaces.user = mode("UsernsMode");
        namespaces.cgroup = mode("CgroupnsMode");
        for device in host
            .get("Devices")
            .and_then(Node::as_seq)
            .unwrap_or_default()
        {
            let field = |key: &str| text(device, key).unwrap_or_default().to_owned();
            runtime.devices.push(Spanned::new(
                Device {
                    host: field("PathOnHost"),
                    container: field("PathInContainer"),
                    permissions: field("CgroupPermissions"),
                },
                place(device, ["PathOnHost"]),
            ));
        }
        runtime.device_cgroup_rules = strings(host.get("DeviceCgroupRules"))
            .map(|(rule, node)| spanned(rule.to_owned(), node))
            .collect();
        for (name, value, node) in string_map(host.get("Sysctls")) {
            runtime.sysctls.push(spanned(
                leastpriv_model::Sysctl {
                    name: name.to_owned(),
                    value: value.to_owned(),
                },
                node,
            ));
        }
        runtime.group_add = strings(host.get("GroupAdd"))
            .map(|(group, node)| spanned(group.to_owned(), node))
            .collect();
        runtime.ports = port_bindings(host.get("PortBindings"));

        let mut container = Container::new(name, SourceKind::DockerInspect, origin);
        container.runtime = Some(runtime);
        container
    }

    /// `.Mounts` when present (what is mounted), else `HostConfig.Binds` and `HostConfig.Mounts`.
    fn mounts(&self, runtime: &mut Runtime, object: &Node, host: &Node) {
        if let Some(mounts) = object.get("Mounts").and_then(Node::as_seq) {
            for mount in mounts {
                let kind = text(mount, "Type").unwrap_or("volume");
                let target = text(mount, "Destination").unwrap_or_default().to_owned();
                let at = place(mount, ["Source", "Destination"]);
                if kind == "tmpfs" {
                    runtime.tmpfs.push(Spanned::new(
                        Tmpfs {
                            target,
                            options: Vec::new(),
                        },
                        place(mount, ["Destination"]),
                    ));
                    continue;
                }
                let source = text(mount, "Source").unwrap_or_default().to_owned();
                runtime.mounts.push(Spanned::new(
                    Mount {
                        kind: match kind {
                            "bind" => MountKind::Bind { source },
                            "volume" => MountKind::Volume {
                                name: text(mount, "Name").map(str::to_owned),
                            },
                            other => MountKind::Other {
                                kind: other.to_owned(),
                            },
                        },
                        target,
                        read_only: mount.get("RW").and_then(Node::as_bool) == Some(false),
                        propagation: text(mount, "Propagation")
                            .filter(|propagation| !propagation.is_empty())
                            .map(str::to_owned),
                    },
                    at,
                ));
            }
            return;
        }
        for (bind, node) in strings(host.get("Binds")) {
            runtime.mounts.push(spanned(syntax::volume(bind), node));
        }
        for mount in host
            .get("Mounts")
            .and_then(Node::as_seq)
            .unwrap_or_default()
        {
            let kind = text(mount, "Type").unwrap_or("volume");
            let target = text(mount, "Target").unwrap_or_default();
            let source = text(mount, "Source").unwrap_or_default();
            let mut spec = format!("type={kind},target={target}");
            if !source.is_empty() {
                spec.push_str(&format!(",source={source}"));
            }
            if mount.get("ReadOnly").and_then(Node::as_bool) == Some(true) {
                spec.push_str(",readonly");
            }
            if let Some(propagation) = mount
                .get("BindOptions")
                .and_then(|options| text(options, "Propagation"))
            {
                spec.push_str(&format!(",bind-propagation={propagation}"));
            }
            if let Some(size) = mount
                .get("TmpfsOptions")
                .and_then(|options| options.get("SizeBytes"))
                .and_then(Node::as_i64)
            {
                spec.push_str(&format!(",tmpfs-size={size}"));
            }
            let at = place(mount, ["Source", "Target"]);
            match syntax::mount(&spec) {
                MountSpec::Mount(parsed) => runtime.mounts.push(Spanned::new(parsed, at)),
                MountSpec::Tmpfs(tmpfs) => runtime.tmpfs.push(Spanned::new(tmpfs, at)),
            }
        }
    }

    /// `docker image inspect` output: the image's configured user, environment and exposed ports.
    fn image(&self, object: &Node) -> Container {
        let reference = object
            .get("RepoTags")
            .and_then(Node::as_seq)
            .and_then(|tags| tags.first())
            .and_then(Node::as_str)
            .or_else(|| text(object, "Id"))
            .unwrap_or("<unnamed>")
            .to_owned();
        let origin = object
            .get("RepoTags")
            .and_then(Node::as_seq)
            .and_then(|tags| tags.first())
            .or_else(|| object.get("Id"))
            .map_or(object.span, |node| node.span);
        let config = object.get("Config");
        let facts = ImageFacts {
            reference: reference.clone(),
            user: config
                .and_then(|config| config.get("User"))
                .filter(|user| user.as_str().is_some_and(|user| !user.is_empty()))
                .map(|user| spanned(User::parse(user.as_str().unwrap_or("")), user)),
            env: self.environment(config.and_then(|config| config.get("Env"))),
            exposed: config
                .and_then(|config| config.get("ExposedPorts"))
                .and_then(Node::as_map)
                .unwrap_or_default()
                .iter()
                .filter_map(|entry| {
                    let (port, protocol) = entry
                        .key
                        .as_str()?
                        .split_once('/')
                        .unwrap_or((entry.key.as_str()?, "tcp"));
                    Some(spanned(
                        PortSpec {
                            port: port.parse().ok(),
                            range_end: None,
                            protocol: syntax::protocol(protocol),
                        },
                        &entry.key,
                    ))
                })
                .collect(),
            ..ImageFacts::default()
        };
        let mut container = Container::new(reference, SourceKind::Image, origin);
        container.image = Some(facts);
        container
    }
}

fn capabilities(list: Option<&Node>) -> Vec<Spanned<Capability>> {
    strings(list)
        .map(|(name, node)| spanned(Capability::parse(name), node))
        .collect()
}

/// `HostConfig.PortBindings`: `{"80/tcp": [{"HostIp": "", "HostPort": "8080"}]}`.
fn port_bindings(bindings: Option<&Node>) -> Vec<Spanned<PortMapping>> {
    let mut ports = Vec::new();
    for entry in bindings.and_then(Node::as_map).unwrap_or_default() {
        let Some(key) = entry.key.as_str() else {
            continue;
        };
        let (port, protocol) = key.split_once('/').unwrap_or((key, "tcp"));
        for binding in entry.value.as_seq().unwrap_or_default() {
            let host_port = binding.get("HostPort");
            ports.push(spanned(
                PortMapping {
                    host_ip: text(binding, "HostIp")
                        .filter(|ip| !ip.is_empty())
                        .map(str::to_owned),
                    host_port: host_port
                        .and_then(Node::as_str)
                        .and_then(syntax::port_number),
                    container_port: syntax::port_number(port),
                    protocol: syntax::protocol(protocol),
                },
                host_port.unwrap_or(binding),
            ));
        }
    }
    ports
}

#[cfg(test)]
mod tests;
