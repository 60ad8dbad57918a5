//! The `dockerd` command line into [`DaemonConfig`]: the settings a unit file passes as flags.
//!
//! The text is a process's `/proc/<pid>/cmdline` with one argument per line (its NUL separators
//! turned into newlines), so each argument keeps a span. Flags are parsed as dockerd's flag library
//! (pflag) does: `--name=value`, `--name value`, `-H value`, `-Hvalue`, and booleans as `--icc` or
//! `--icc=false` (pflag never takes a boolean's value from the next argument). dockerd accepts no
//! positional arguments, so an argument that is not a flag is always the value of the flag before it;
//! that keeps unknown flags from shifting the parse.

use leastpriv_model::{DaemonConfig, Span, Spanned, TextRange};
use leastpriv_source::{FileId, SourceDb};

/// What a daemon's command line sets.
#[derive(Debug)]
pub struct Flags {
    /// The settings, anchored at the program name; never [`complete`](DaemonConfig::complete) on
    /// its own (the `daemon.json` holds the rest).
    pub config: DaemonConfig,
    /// `--config-file`: where this daemon reads its `daemon.json`.
    pub config_file: Option<String>,
}

/// Flags whose value is never in the next argument.
const BOOLEAN_FLAGS: [&str; 15] = [
    "tls",
    "tlsverify",
    "icc",
    "iptables",
    "ip6tables",
    "ip-forward",
    "ip-masq",
    "no-new-privileges",
    "live-restore",
    "userland-proxy",
    "selinux-enabled",
    "debug",
    "experimental",
    "rootless",
    "ipv6",
];

/// Reads a daemon's command line, one argument per line.
pub fn read(db: &SourceDb, file: FileId) -> Flags {
    let source = db.get(file);
    let arguments = arguments(source.text(), file);
    let anchor = arguments.first().map_or_else(
        || Span::new(file, TextRange::empty(0)),
        |program| program.span,
    );
    parse(arguments.get(1..).unwrap_or_default(), anchor)
}

/// The settings among `arguments` (the program's name left out), anchored at `anchor`: a
/// `dockerd` command line written in a Compose `command:`, a Kubernetes `args:` or after a `docker
/// run` image reads as the one of a running daemon.
pub fn parse(arguments: &[Spanned<String>], anchor: Span) -> Flags {
    let mut config = DaemonConfig::new(anchor, false);
    let mut config_file = None;
    let mut rest = arguments.iter().peekable();
    while let Some(argument) = rest.next() {
        let Some((name, inline)) = split_flag(argument) else {
            continue;
        };
        let boolean = BOOLEAN_FLAGS.contains(&name);
        let value = match inline {
            Some(value) => Some(value),
            None if boolean => None,
            None => rest
                .next_if(|next| !next.value.starts_with('-'))
                .map(|next| next.as_ref().map(|text| text.as_str())),
        };
        let flag = argument.as_ref().map(|text| text.as_str());
        if boolean {
            let Some(parsed) = value
                .as_ref()
                .map_or(Some(true), |value| parse_bool(value.value))
            else {
                continue;
            };
            let spanned = Spanned::new(parsed, value.map_or(flag.span, |value| value.span));
            let slot = match name {
                "tls" => &mut config.tls,
                "tlsverify" => &mut config.tls_verify,
                "icc" => &mut config.icc,
                "iptables" => &mut config.iptables,
                "no-new-privileges" => &mut config.no_new_privileges,
                "live-restore" => &mut config.live_restore,
                "userland-proxy" => &mut config.userland_proxy,
                "selinux-enabled" => &mut config.selinux_enabled,
                _ => continue,
            };
            *slot = Some(spanned);
            continue;
        }
        let Some(value) = value else {
            continue;
        };
        let owned = || Spanned::new(value.value.to_owned(), value.span);
        match name {
            "H" | "host" => config.hosts.push(owned()),
            "b" | "bridge" => config.bridge = Some(owned()),
            "userns-remap" => config.userns_remap = Some(owned()),
            "seccomp-profile" => config.seccomp_profile = Some(owned()),
            "default-cgroupns-mode" => config.default_cgroupns_mode = Some(owned()),
            "insecure-registry" => config.insecure_registries.push(owned()),
            "default-ulimit" => {
                let limit = value.value.split('=').next().unwrap_or_default();
                config
                    .default_ulimits
                    .push(Spanned::new(limit.to_owned(), value.span));
            }
            "config-file" => config_file = Some(value.value.to_owned()),
            _ => {}
        }
    }
    Flags {
        config,
        config_file,
    }
}

/// The lines of `text`, each spanned.
fn arguments(text: &str, file: FileId) -> Vec<Spanned<String>> {
    let mut offset = 0;
    let mut arguments = Vec::new();
    for line in text.split('\n') {
        if !line.is_empty() {
            let range = TextRange::new(offset, offset + line.len());
            arguments.push(Spanned::new(line.to_owned(), Span::new(file, range)));
        }
        offset += line.len() + 1;
    }
    arguments
}

/// A flag's name and its `=value`, if inline: `--icc=false` → (`icc`, `false`), `-Hfd://` →
/// (`H`, `fd://`). `None` for an argument that is not a flag.
fn split_flag(argument: &Spanned<String>) -> Option<(&str, Option<Spanned<&str>>)> {
    let text = argument.value.as_str();
    let value_at = |offset: usize| {
        let range = TextRange::new(offset, text.len()).shifted(argument.span.range.start as usize);
        Spanned::new(&text[offset..], Span::new(argument.span.file, range))
    };
    if let Some(long) = text.strip_prefix("--") {
        return Some(match long.split_once('=') {
            Some((name, _)) => (name, Some(value_at(2 + name.len() + 1))),
            None => (long, None),
        });
    }
    let short = text.strip_prefix('-')?;
    let name = short.get(..1)?;
    let rest = &short[1..];
    Some(match rest.strip_prefix('=') {
        Some(_) => (name, Some(value_at(3))),
        None if rest.is_empty() => (name, None),
        None => (name, Some(value_at(2))),
    })
}

/// A boolean as Go's `strconv.ParseBool` reads it.
fn parse_bool(text: &str) -> Option<bool> {
    match text {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Some(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flags(arguments: &[&str]) -> (Flags, SourceDb) {
        let db = SourceDb::new();
        let file = db.add("/proc/1/cmdline", arguments.join("\n") + "\n");
        (read(&db, file), db)
    }

    #[test]
    fn reads_every_flag_form_with_spans() {
        let (flags, db) = flags(&[
            "/usr/bin/dockerd",
            "-H",
            "fd://",
            "-Htcp://0.0.0.0:2375",
            "--host=unix:///run/docker.sock",
            "--icc=false",
            "--no-new-privileges",
            "--userns-remap",
            "default",
            "--default-ulimit",
            "nofile=1024:2048",
            "--insecure-registry=10.0.0.5:5000",
            "--config-file",
            "/srv/docker.json",
            "--tlsverify=0",
        ]);
        let config = &flags.config;
        let hosts: Vec<_> = config.hosts.iter().map(|h| db.slice(h.span)).collect();
        assert_eq!(
            hosts,
            ["fd://", "tcp://0.0.0.0:2375", "unix:///run/docker.sock"]
        );
        let icc = config.icc.as_ref().expect("icc");
        assert_eq!((icc.value, db.slice(icc.span).as_str()), (false, "false"));
        let nnp = config
            .no_new_privileges
            .as_ref()
            .expect("no-new-privileges");
        assert_eq!(
            (nnp.value, db.slice(nnp.span).as_str()),
            (true, "--no-new-privileges")
        );
        assert_eq!(
            config.userns_remap.as_ref().map(|u| u.value.as_str()),
            Some("default")
        );
        assert_eq!(config.default_ulimits[0].value, "nofile");
        assert_eq!(
            db.slice(config.insecure_registries[0].span),
            "10.0.0.5:5000"
        );
        assert_eq!(config.tls_verify.as_ref().map(|t| t.value), Some(false));
        assert_eq!(flags.config_file.as_deref(), Some("/srv/docker.json"));
        assert!(!config.complete);
        assert_eq!(db.slice(config.anchor), "/usr/bin/dockerd");
    }

    #[test]
    fn unknown_flags_take_their_value_without_shifting_the_parse() {
        let (flags, _) = flags(&[
            "dockerd",
            "--containerd",
            "/run/containerd/containerd.sock",
            "--log-level=warn",
            "-D",
            "--icc",
            "false",
            "-b",
            "none",
        ]);
        // `--icc false` sets icc (pflag reads no boolean from the next argument; dockerd then
        // refuses the stray `false`, so the configuration never runs with it).
        assert_eq!(flags.config.icc.as_ref().map(|i| i.value), Some(true));
        assert_eq!(
            flags.config.bridge.as_ref().map(|b| b.value.as_str()),
            Some("none")
        );
        assert!(flags.config.hosts.is_empty());
    }

    #[test]
    fn empty_and_odd_command_lines_do_not_panic() {
        for arguments in [
            &[][..],
            &["-"],
            &["dockerd", "--"],
            &["dockerd", "-", "--="],
        ] {
            let (flags, _) = flags(arguments);
            assert!(flags.config.hosts.is_empty());
        }
    }
}
