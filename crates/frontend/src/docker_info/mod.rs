//! `docker info` front-end: the running engine's own report into [`DaemonState`], and the live
//! engine's daemon assembled from every source in view.
//!
//! `docker info --format '{{json .}}'` says what the engine really applies: its `SecurityOptions`
//! (`name=rootless`, `name=userns`, `name=seccomp,profile=default`, `name=apparmor`,
//! `name=selinux`, `name=cgroupns`), live restore, swarm state, insecure registries, and warnings
//! about API listeners without TLS. A saved report is an input of its own ([`lower`]); for the live
//! engine, [`lower_engine`] adds its `daemon.json`, its command line, its socket file and its
//! process ([`host`]).

pub mod host;

use leastpriv_model::{Daemon, DaemonConfig, DaemonState, InsecureApi, SocketFile, Span, Spanned};
use leastpriv_source::{FileId, InputError, SourceDb, TextRange};

use crate::daemon_json::{self, flags};
use crate::yaml::{self, Node};
use crate::{Lowered, Options};

/// Whether `text` reads as `docker info` JSON output.
pub fn looks_like_info(text: &str) -> bool {
    text.trim_start().starts_with('{')
        && text.contains("\"ServerVersion\"")
        && text.contains("\"SecurityOptions\"")
}

/// Lowers a saved `docker info` report into one daemon.
pub fn lower(db: &SourceDb, file: FileId, _options: &Options) -> Lowered {
    let (state, errors) = read_state(db, file);
    Lowered {
        daemons: state
            .map(|state| Daemon {
                name: db.get(file).path().to_owned(),
                config: None,
                state: Some(state),
            })
            .into_iter()
            .collect(),
        errors,
        ..Lowered::default()
    }
}

/// Reads a `docker info` JSON object. `None` (with an error) when it is not one.
pub fn read_state(db: &SourceDb, file: FileId) -> (Option<DaemonState>, Vec<InputError>) {
    let source = db.get(file);
    let path = source.path();
    let stream = yaml::parse(source.text(), file);
    let mut errors: Vec<InputError> = stream
        .errors
        .into_iter()
        .map(|error| error.into_input_error(path))
        .collect();
    let document = stream.documents.first();
    let Some(options) = document.and_then(|info| info.get("SecurityOptions")) else {
        let span = document.map_or(Span::new(file, TextRange::empty(0)), |node| node.span);
        errors.push(InputError::at(
            path,
            span,
            "not `docker info` JSON: no `SecurityOptions` list",
        ));
        return (None, errors);
    };
    let Some(info) = document else {
        return (None, errors);
    };
    let mut state = DaemonState {
        security_options: options.span,
        rootless: None,
        userns: None,
        seccomp: None,
        apparmor: None,
        selinux: None,
        cgroupns: None,
        live_restore: info
            .get("LiveRestoreEnabled")
            .and_then(|node| node.as_bool().map(|value| Spanned::new(value, node.span))),
        swarm_active: info
            .get("Swarm")
            .and_then(|swarm| swarm.get("LocalNodeState"))
            .and_then(Node::as_str)
            == Some("active"),
        insecure_registries: insecure_registries(info),
        insecure_api: insecure_api(info),
        socket: None,
        process_user: None,
    };
    for option in options.as_seq().unwrap_or_default() {
        let Some(text) = option.as_str() else {
            continue;
        };
        // `name=seccomp,profile=default`: comma-separated `key=value` pairs, `name` first.
        let mut pairs = text.split(',').filter_map(|pair| pair.split_once('='));
        let Some(("name", name)) = pairs.next() else {
            continue;
        };
        let span = option.span;
        match name {
            "rootless" => state.rootless = Some(span),
            "userns" => state.userns = Some(span),
            "apparmor" => state.apparmor = Some(span),
            "selinux" => state.selinux = Some(span),
            "cgroupns" => state.cgroupns = Some(span),
            "seccomp" => {
                let profile = pairs
                    .find(|(key, _)| *key == "profile")
                    .map_or("default", |(_, profile)| profile);
                state.seccomp = Some(Spanned::new(profile.to_owned(), span));
            }
            _ => {}
        }
    }
    (Some(state), errors)
}

/// Registries the engine reaches over plain HTTP or unverified TLS: `InsecureRegistryCIDRs` and
/// `IndexConfigs` marked not `Secure`, less the loopback range Docker always trusts.
fn insecure_registries(info: &Node) -> Vec<Spanned<String>> {
    let Some(registry) = info.get("RegistryConfig") else {
        return Vec::new();
    };
    let cidrs = registry
        .get("InsecureRegistryCIDRs")
        .and_then(Node::as_seq)
        .unwrap_or_default()
        .iter()
        .filter_map(|node| {
            node.as_str()
                .map(|cidr| Spanned::new(cidr.to_owned(), node.span))
        })
        .filter(|cidr| cidr.value != "127.0.0.0/8" && cidr.value != "::1/128");
    let indexes = registry
        .get("IndexConfigs")
        .and_then(Node::as_map)
        .unwrap_or_default()
        .iter()
        .filter(|entry| entry.value.get("Secure").and_then(Node::as_bool) == Some(false))
        .filter_map(|entry| {
            entry
                .key
                .as_str()
                .map(|name| Spanned::new(name.to_owned(), entry.key.span))
        });
    cidrs.chain(indexes).collect()
}

/// TCP listeners the engine warns about: `WARNING: API is accessible on http://ADDR without
/// encryption.` and `… on https://ADDR without TLS client verification.` (Docker 20.10 and later).
fn insecure_api(info: &Node) -> Vec<Spanned<InsecureApi>> {
    const MARKER: &str = "API is accessible on ";
    info.get("Warnings")
        .and_then(Node::as_seq)
        .unwrap_or_default()
        .iter()
        .filter_map(|node| {
            let text = node.as_str()?;
            let rest = &text[text.find(MARKER)? + MARKER.len()..];
            let (tls, rest) = match rest.strip_prefix("https://") {
                Some(rest) => (true, rest),
                None => (false, rest.strip_prefix("http://")?),
            };
            let address = rest.split_whitespace().next()?.to_owned();
            Some(Spanned::new(InsecureApi { address, tls }, node.span))
        })
        .collect()
}

/// Where the live engine's configuration was found.
#[derive(Debug, Clone, Copy)]
pub enum ConfigSource {
    /// The `daemon.json` the daemon reads, added to the database.
    Read(FileId),
    /// The daemon has no `daemon.json`: every option not on its command line is at its default.
    Absent,
    /// Not in view: a remote engine, or a file this user cannot read.
    Unknown,
}

/// Everything read about the live engine.
#[derive(Debug)]
pub struct EngineSources {
    /// The endpoint (`unix:///var/run/docker.sock`), naming the daemon.
    pub endpoint: String,
    /// `docker info` JSON.
    pub info: FileId,
    /// Its `daemon.json`.
    pub config: ConfigSource,
    /// The daemon's `/proc/<pid>/cmdline`, one argument per line, when visible.
    pub command_line: Option<FileId>,
    /// The daemon's `/proc/<pid>/status`, when visible.
    pub status: Option<FileId>,
    /// The API socket file, when local ([`host::socket_file`]).
    pub socket: Option<SocketFile>,
}

/// The live engine's daemon: its reported state, and its configuration where the `daemon.json` and
/// the command line are in view. The configuration is [`complete`](DaemonConfig::complete) only
/// when both are.
pub fn lower_engine(db: &SourceDb, sources: EngineSources) -> Lowered {
    let (state, mut errors) = read_state(db, sources.info);
    let state = state.map(|mut state| {
        state.socket = sources.socket;
        state.process_user = sources
            .status
            .and_then(|status| host::process_user(db, status));
        state
    });
    let flags = sources
        .command_line
        .map(|command_line| flags::read(db, command_line).config);
    let config = match (sources.config, flags) {
        (ConfigSource::Read(file), flags) => {
            let (config, file_errors) = daemon_json::read_config(db, file);
            errors.extend(file_errors);
            config.map(|mut config| {
                config.complete = flags.is_some();
                if let Some(flags) = flags {
                    config.fill_from(flags);
                }
                config
            })
        }
        (ConfigSource::Absent, Some(flags)) => Some(DaemonConfig {
            complete: true,
            ..flags
        }),
        (ConfigSource::Unknown, flags) => flags,
        (ConfigSource::Absent, None) => None,
    };
    Lowered {
        daemons: vec![Daemon {
            name: format!("docker engine ({})", sources.endpoint),
            config,
            state,
        }],
        errors,
        ..Lowered::default()
    }
}

#[cfg(test)]
mod tests;
