//! `docker run` front-end: every `docker run`, `docker create`, `docker container run|create` and
//! `podman run|create` command of a shell script becomes one container with a [`Runtime`].
//!
//! [`shell`] splits the script into simple commands and words with exact positions, [`command`]
//! recognises the container commands (behind `sudo`, `exec`, `env`, assignments and global options) and
//! separates flags from the image, [`syntax`] reads the value forms shared with `docker inspect`, and
//! this module maps each flag into the model. Values the shell would expand (`$HOME/x:/x`,
//! `-u $(id -u)`) are kept as written; a user that depends on one is marked unresolved.
//!
//! Scripts that run no container command give nothing and no error, so a directory walk can hand every
//! `*.sh` here: [`mentions_engine`] rejects most of them without tokenizing.

mod command;
mod shell;
pub(crate) mod syntax;

pub use command::{flag_takes_value, global_option_takes_value, shorthand};

use leastpriv_model::{
    Capability, Container, EnvVar, Mount, MountKind, Runtime, SecretMount, Sensitive, SourceKind,
    Spanned, User,
};
use leastpriv_source::{FileId, InputError, SourceDb, Span, TextRange};

use crate::{Lowered, Options};
use command::{Flag, FlagValue, Invocation};
use syntax::{MountSpec, SecurityOpt};

/// Where `--use-api-socket` mounts the engine's API socket.
const API_SOCKET: &str = "/var/run/docker.sock";

/// Whether `text` can hold a container command at all: the cheap test done before tokenizing.
pub fn mentions_engine(text: &str) -> bool {
    text.contains("docker") || text.contains("podman")
}

/// Whether `text` names a container command in its usual spelling (`docker run`, `podman create`,
/// `docker container run` …): a script whose reading fails is reported only then.
fn mentions_container_command(text: &str) -> bool {
    ["docker", "podman"].iter().any(|engine| {
        ["run", "create", "container"]
            .iter()
            .any(|subcommand| text.contains(&format!("{engine} {subcommand}")))
    })
}

/// Whether `text` reads as a shell script that runs containers, for a file named explicitly: a shell
/// `#!` line, or a line that starts with a container command.
pub fn looks_like_script(text: &str) -> bool {
    let first = text.lines().next().unwrap_or_default();
    let shebang = first.starts_with("#!")
        && ["sh", "bash", "zsh", "ksh", "dash", "ash"]
            .iter()
            .any(|shell| first.split(['/', ' ']).any(|part| part == *shell));
    shebang || text.lines().any(starts_container_command)
}

fn starts_container_command(line: &str) -> bool {
    let mut words = line.split_whitespace().peekable();
    while words
        .peek()
        .is_some_and(|word| matches!(*word, "sudo" | "exec" | "command"))
    {
        words.next();
    }
    let (Some(program), Some(mut subcommand)) = (words.next(), words.next()) else {
        return false;
    };
    if subcommand == "container" {
        subcommand = words.next().unwrap_or_default();
    }
    matches!(program.rsplit('/').next(), Some("docker" | "podman"))
        && matches!(subcommand, "run" | "create")
}

/// Lowers each `docker run` / `docker create` / `podman run` command of a shell script.
pub fn lower(db: &SourceDb, file: FileId, options: &Options) -> Lowered {
    let source = db.get(file);
    let mut lowered = Lowered::default();
    if !mentions_engine(source.text()) {
        return lowered;
    }
    let errors = shell::scan_commands(source.text(), &mut |command| {
        if let Some(invocation) = command::recognise(&command.words) {
            if let Some(container) = lower_invocation(file, &invocation) {
                lowered.containers.push(container);
            }
        }
    });
    lowered.containers.sort_by_key(|container| container.origin);
    lowered.daemons = crate::engine_in_container::daemons(&lowered.containers);
    // A script that runs no container is not ours to judge, even if our reading of it stumbles.
    if lowered.containers.is_empty() && !mentions_container_command(source.text()) {
        return lowered;
    }
    lowered.errors = errors
        .into_iter()
        .map(|error| InputError::at(source.path(), Span::new(file, error.range), error.message))
        .collect();
    // A relative `seccomp=profile.json` is read next to the script (where it is usually run from).
    let script_dir = std::path::Path::new(source.path()).parent();
    let scope = options
        .scope
        .with_root(script_dir.unwrap_or(std::path::Path::new(".")));
    for container in &mut lowered.containers {
        if let Some(runtime) = &mut container.runtime {
            if let Err((span, message)) = crate::seccomp::attach_facts(runtime, script_dir, &scope)
            {
                lowered
                    .errors
                    .push(InputError::at(source.path(), span, message));
            }
        }
    }
    lowered
}

/// Where one container command of a script is written, for fixers that rewrite it in place. Read by
/// the same tokenizer and flag table as [`lower`], so the fixer's flags are the findings' flags.
#[derive(Clone, Debug)]
pub struct CommandLayout {
    /// From the program to the subcommand (`docker container run`): the container's origin.
    pub head: TextRange,
    /// Every flag before the image, in order.
    pub flags: Vec<FlagLayout>,
    /// The image argument, quotes included, when there is one.
    pub image: Option<TextRange>,
}

/// Where one flag of a container command is written.
#[derive(Clone, Debug)]
pub struct FlagLayout {
    /// The canonical long name (`-u` is `user`, `--net` is `network`).
    pub name: &'static str,
    /// The value after quote removal, expansions kept as written.
    pub value: Option<String>,
    /// Where the value is written, quotes excluded (the span the model gives it).
    pub value_range: Option<TextRange>,
    /// The whole words the flag and its value occupy, quotes included; `None` when the flag shares a
    /// word with other flags (`-itv x`), so it cannot be removed alone.
    pub words: Option<TextRange>,
}

/// The container commands of a script and where their parts are written.
pub fn command_layouts(text: &str) -> Vec<CommandLayout> {
    let mut layouts = Vec::new();
    if !mentions_engine(text) {
        return layouts;
    }
    // Errors are the front-end's to report; a fixer only edits what was read.
    let _ = shell::scan_commands(text, &mut |command| {
        let Some(invocation) = command::recognise(&command.words) else {
            return;
        };
        let flags = invocation
            .flags
            .iter()
            .map(|flag| {
                let flag_word = command.words.iter().find(|word| {
                    word.range().start <= flag.range.start && flag.range.end <= word.range().end
                });
                // `--flag`, `-v x`, `-v=x`, `-vx`: the word holds this flag only; `-it` holds two.
                let alone = flag_word.is_some_and(|word| {
                    let text = word.text();
                    let value_inline = flag
                        .value
                        .is_some_and(|value| std::ptr::eq(value.word, word));
                    text.starts_with("--")
                        || (word.source_range(0..2) == flag.range
                            && (text.len() == 2 || value_inline))
                });
                let words = flag_word.filter(|_| alone).map(|word| match flag.value {
                    Some(value) => word.range().cover(value.word.range()),
                    None => word.range(),
                });
                FlagLayout {
                    name: flag.name,
                    value: flag.value.map(|value| value.text().to_owned()),
                    value_range: flag.value.map(|value| value.range()),
                    words,
                }
            })
            .collect();
        layouts.push(CommandLayout {
            head: invocation.head,
            flags,
            image: invocation.image.map(shell::Word::range),
        });
    });
    layouts.sort_by_key(|layout| layout.head);
    layouts
}

/// One container from one command; `None` when the command names no image (`docker run --help`).
fn lower_invocation(file: FileId, invocation: &Invocation<'_>) -> Option<Container> {
    let image = invocation.image?;
    let span = |range: TextRange| Span::new(file, range);
    let mut runtime = Runtime {
        image: Some(Spanned::new(
            image.text().to_owned(),
            span(image.source_range(0..image.text().len())),
        )),
        capabilities_anchor: Some(span(invocation.head)),
        ..Runtime::default()
    };
    let mut name = None;
    for flag in &invocation.flags {
        match flag.value {
            Some(value) if !is_bool_flag(flag.name) => {
                apply_value(&mut runtime, &mut name, flag.name, value, file);
            }
            value => apply_switch(&mut runtime, flag, value, file),
        }
    }
    runtime.command = invocation
        .command
        .iter()
        .map(|word| {
            Spanned::new(
                word.text().to_owned(),
                span(word.source_range(0..word.text().len())),
            )
        })
        .collect();
    let label = name.unwrap_or_else(|| image.text().to_owned());
    let mut container = Container::new(
        format!(
            "{} {} {label}",
            invocation.engine.name(),
            invocation.subcommand
        ),
        SourceKind::DockerRun,
        span(invocation.head),
    );
    container.runtime = Some(runtime);
    Some(container)
}

fn is_bool_flag(name: &str) -> bool {
    matches!(name, "privileged" | "read-only" | "use-api-socket")
}

/// A boolean flag, bare or as `--flag=false`.
fn apply_switch(
    runtime: &mut Runtime,
    flag: &Flag<'_>,
    value: Option<FlagValue<'_>>,
    file: FileId,
) {
    let on = value.is_none_or(|value| !matches!(value.text(), "false" | "0" | "False" | "FALSE"));
    let range = value.map_or(flag.range, |value| flag.range.cover(value.range()));
    let at = Spanned::new(on, Span::new(file, range));
    match flag.name {
        "privileged" => runtime.privileged = Some(at),
        "read-only" => runtime.read_only_root = Some(at),
        "use-api-socket" if on => runtime.mounts.push(Spanned::new(
            Mount {
                kind: MountKind::Bind {
                    source: API_SOCKET.to_owned(),
                },
                target: API_SOCKET.to_owned(),
                read_only: false,
                propagation: None,
            },
            at.span,
        )),
        _ => {}
    }
}

/// A flag that takes a value.
fn apply_value(
    runtime: &mut Runtime,
    name: &mut Option<String>,
    flag: &str,
    value: FlagValue<'_>,
    file: FileId,
) {
    let text = value.text();
    let at = Span::new(file, value.range());
    let namespaces = &mut runtime.namespaces;
    match flag {
        "name" => *name = Some(text.to_owned()),
        "entrypoint" => runtime.entrypoint = Some(vec![Spanned::new(text.to_owned(), at)]),
        "user" => {
            let user = User {
                unresolved: value.expands(),
                ..User::parse(text)
            };
            runtime.user = Some(Spanned::new(user, at));
        }
        "cap-add" => runtime.cap_add.extend(capabilities(value, file)),
        "cap-drop" => runtime.cap_drop.extend(capabilities(value, file)),
        "security-opt" => match syntax::security_opt(text) {
            SecurityOpt::NoNewPrivileges(on) => {
                runtime.no_new_privileges = Some(Spanned::new(on, at));
            }
            SecurityOpt::Seccomp(profile) => runtime.seccomp = Some(Spanned::new(profile, at)),
            SecurityOpt::AppArmor(profile) => runtime.apparmor = Some(Spanned::new(profile, at)),
            SecurityOpt::Label(label) => runtime.selinux.push(Spanned::new(label, at)),
            SecurityOpt::Unmask => runtime.unmasked_paths = Some(at),
            SecurityOpt::Other => {}
        },
        "tmpfs" => runtime.tmpfs.push(Spanned::new(syntax::tmpfs(text), at)),
        "volume" => runtime.mounts.push(Spanned::new(syntax::volume(text), at)),
        "mount" => match syntax::mount(text) {
            MountSpec::Mount(mount) => runtime.mounts.push(Spanned::new(mount, at)),
            MountSpec::Tmpfs(tmpfs) => runtime.tmpfs.push(Spanned::new(tmpfs, at)),
        },
        "pid" => namespaces.pid = syntax::namespace(text).map(|mode| Spanned::new(mode, at)),
        "ipc" => namespaces.ipc = syntax::namespace(text).map(|mode| Spanned::new(mode, at)),
        "uts" => namespaces.uts = syntax::namespace(text).map(|mode| Spanned::new(mode, at)),
        "userns" => namespaces.user = syntax::namespace(text).map(|mode| Spanned::new(mode, at)),
        "cgroupns" => {
            namespaces.cgroup = syntax::namespace(text).map(|mode| Spanned::new(mode, at));
        }
        "network" => {
            // Several `--network` flags attach several networks; the host's, if any, is the one that
            // matters.
            let joins_host = namespaces
                .network
                .as_ref()
                .is_some_and(|mode| mode.value == leastpriv_model::NamespaceMode::Host);
            if !joins_host {
                namespaces.network = syntax::namespace(text).map(|mode| Spanned::new(mode, at));
            }
        }
        "device" => runtime.devices.push(Spanned::new(syntax::device(text), at)),
        "device-cgroup-rule" => runtime
            .device_cgroup_rules
            .push(Spanned::new(text.to_owned(), at)),
        "sysctl" => runtime.sysctls.push(Spanned::new(syntax::sysctl(text), at)),
        "env" => runtime.environment.push(env_var(value, file)),
        "env-file" => runtime.env_files.push(Spanned::new(text.to_owned(), at)),
        "secret" => podman_secret(runtime, value, file),
        "publish" => runtime.ports.push(Spanned::new(syntax::publish(text), at)),
        "group-add" => runtime.group_add.push(Spanned::new(text.to_owned(), at)),
        _ => {}
    }
}

/// `--cap-add A,B`: each capability spanned on its own.
fn capabilities(value: FlagValue<'_>, file: FileId) -> Vec<Spanned<Capability>> {
    let mut found = Vec::new();
    let mut start = 0;
    for part in value.text().split(',') {
        let trimmed = part.trim();
        if !trimmed.is_empty() {
            let offset = start + (part.len() - part.trim_start().len());
            found.push(Spanned::new(
                Capability::parse(trimmed),
                Span::new(file, value.sub_range(offset..offset + trimmed.len())),
            ));
        }
        start += part.len() + 1;
    }
    found
}

/// `-e NAME=value` or `-e NAME` (passed through from the caller's environment).
fn env_var(value: FlagValue<'_>, file: FileId) -> EnvVar {
    let text = value.text();
    match text.split_once('=') {
        Some((name, literal)) => EnvVar {
            name: Spanned::new(
                name.to_owned(),
                Span::new(file, value.sub_range(0..name.len())),
            ),
            value: Some(Spanned::new(
                Sensitive::new(literal),
                Span::new(file, value.sub_range(name.len() + 1..text.len())),
            )),
        },
        None => EnvVar {
            name: Spanned::new(text.to_owned(), Span::new(file, value.range())),
            value: None,
        },
    }
}

/// Podman's `--secret name[,type=mount|env][,target=…]`: a file under `/run/secrets`, or a variable.
fn podman_secret(runtime: &mut Runtime, value: FlagValue<'_>, file: FileId) {
    let at = Span::new(file, value.range());
    let mut fields = value.text().split(',');
    let name = fields.next().unwrap_or_default().trim().to_owned();
    let mut is_env = false;
    let mut target = None;
    for field in fields {
        match field.split_once('=') {
            Some(("type", kind)) => is_env = kind == "env",
            Some(("target", path)) => target = Some(path.to_owned()),
            _ => {}
        }
    }
    if is_env {
        let variable = target.unwrap_or(name);
        runtime.secret_env.push(Spanned::new(variable.clone(), at));
        runtime.environment.push(EnvVar {
            name: Spanned::new(variable, at),
            value: None,
        });
    } else {
        let target = target.map(|path| {
            if path.starts_with('/') {
                path
            } else {
                format!("/run/secrets/{path}")
            }
        });
        runtime.secrets.push(Spanned::new(
            SecretMount {
                target: Some(target.unwrap_or_else(|| format!("/run/secrets/{name}"))),
                name,
            },
            at,
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{lower_text, render};

    #[test]
    fn layouts_give_each_flag_its_words() {
        let text = "sudo docker run -it --cap-add=SYS_ADMIN -v \"/a b:/c\" \\\n  -itv /d:/e --privileged img cmd\n";
        let layouts = command_layouts(text);
        assert_eq!(layouts.len(), 1);
        let layout = &layouts[0];
        assert_eq!(&text[layout.head.to_range()], "docker run");
        assert_eq!(&text[layout.image.unwrap().to_range()], "img");
        let shown: Vec<(&str, Option<&str>, Option<&str>)> = layout
            .flags
            .iter()
            .map(|flag| {
                (
                    flag.name,
                    flag.value.as_deref(),
                    flag.words.map(|words| &text[words.to_range()]),
                )
            })
            .collect();
        assert_eq!(
            shown,
            [
                ("interactive", None, None),
                ("tty", None, None),
                ("cap-add", Some("SYS_ADMIN"), Some("--cap-add=SYS_ADMIN")),
                ("volume", Some("/a b:/c"), Some("-v \"/a b:/c\"")),
                ("interactive", None, None),
                ("tty", None, None),
                ("volume", Some("/d:/e"), None),
                ("privileged", None, Some("--privileged")),
            ]
        );
    }

    #[test]
    fn lowers_every_flag_form() {
        let text = include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/docker_run/every_flag.sh"
        ));
        let (db, lowered) = lower_text(lower, "every_flag.sh", text);
        assert!(lowered.errors.is_empty(), "{:?}", lowered.errors);
        assert_eq!(lowered.containers.len(), 4);
        insta::assert_snapshot!(render(&db, &lowered.containers));
    }

    #[test]
    fn never_prints_an_environment_value() {
        let (db, lowered) = lower_text(lower, "s.sh", "docker run -e TOKEN=hunter2hunter2 app\n");
        let rendered = render(&db, &lowered.containers);
        assert!(!rendered.contains("hunter2hunter2\""), "{rendered}");
        assert!(rendered.contains("<redacted, 14 chars>"));
    }

    #[test]
    fn scripts_without_container_commands_give_nothing() {
        for text in [
            "#!/bin/sh\necho 'unterminated\n",
            "docker ps\ndocker build -t x .\n",
            "",
        ] {
            let (_, lowered) = lower_text(lower, "build.sh", text);
            assert!(lowered.containers.is_empty(), "{text}");
        }
        for text in ["#!/bin/sh\necho 'unterminated\n", "docker build -t \"x .\n"] {
            let (_, lowered) = lower_text(lower, "build.sh", text);
            assert!(lowered.errors.is_empty(), "{text}");
        }
    }

    #[test]
    fn broken_quoting_is_a_located_error_and_earlier_commands_still_count() {
        let text = "docker run --privileged a\ndocker run -e 'X=1 b\n";
        let (db, lowered) = lower_text(lower, "run.sh", text);
        // The second command's quote runs to the end: it has no image left, so only the first counts.
        assert_eq!(lowered.containers.len(), 1);
        let [error] = lowered.errors.as_slice() else {
            panic!("{:?}", lowered.errors);
        };
        let span = error.span.unwrap();
        let position = db.get(span.file).line_column(span.range.start);
        assert_eq!((position.line, position.column), (2, 15));
        assert_eq!(error.message, "unterminated single quote");
    }

    #[test]
    fn an_expanded_user_is_unresolved() {
        let (_, lowered) = lower_text(
            lower,
            "s.sh",
            "docker run -u \"$UID\" a\ndocker run -u 0 b\n",
        );
        let users: Vec<_> = lowered
            .containers
            .iter()
            .map(|c| {
                c.runtime
                    .as_ref()
                    .unwrap()
                    .user
                    .as_ref()
                    .unwrap()
                    .value
                    .is_root()
            })
            .collect();
        assert_eq!(
            users,
            [
                leastpriv_model::Certainty::Unknown,
                leastpriv_model::Certainty::Yes
            ]
        );
    }

    #[test]
    fn recognises_scripts_by_content() {
        assert!(looks_like_script("#!/bin/bash\nset -e\n"));
        assert!(looks_like_script("#!/usr/bin/env sh\n"));
        assert!(looks_like_script("sudo docker run -it alpine\n"));
        assert!(looks_like_script("podman container create x\n"));
        assert!(!looks_like_script(
            "#!/usr/bin/env python3\nprint('docker')\n"
        ));
        assert!(!looks_like_script("docker ps\n"));
    }
}
