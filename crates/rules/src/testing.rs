//! Test support: run one rule over a Dockerfile written inline in a unit test.
//!
//! The real Dockerfile front-end lives in `leastpriv-frontend`; until it is merged this module holds
//! a deliberately tiny lowering (one instruction per line, words split at blanks, `RUN` split at
//! `&&`, `||`, `;` and `|`) that is just enough to put spans on the model values the rules read.

use leastpriv_model::{
    Build, BuildArg, Container, CopyInstruction, EnvVar, PortSpec, Protocol, RunFlags,
    RunInstruction, Sensitive, ShellCommand, SourceKind, Stage, StageBase, User,
};
use leastpriv_source::{FileId, SourceDb, Span, Spanned, TextRange};

use crate::{check, RuleMeta, RuleSelection};

/// Runs the rule `meta` over `dockerfile` and returns each finding as `line: severity message`.
pub(crate) fn findings(meta: &RuleMeta, dockerfile: &str) -> Vec<String> {
    let db = SourceDb::new();
    let file = db.add("Dockerfile", dockerfile);
    let container = lower(file, dockerfile);
    findings_in(meta, &db, &[container])
}

/// Runs the rule `meta` over already-built containers.
pub(crate) fn findings_in(meta: &RuleMeta, db: &SourceDb, containers: &[Container]) -> Vec<String> {
    let mut selection = RuleSelection::all();
    selection
        .select([meta.name])
        .expect("the rule is registered");
    check(db, containers, &selection)
        .iter()
        .map(|diagnostic| {
            let source = db.get(diagnostic.span.file);
            let position = source.line_column(diagnostic.span.range.start);
            format!(
                "{}: {} {}",
                position.line, diagnostic.severity, diagnostic.message
            )
        })
        .collect()
}

fn span(file: FileId, start: usize, end: usize) -> Span {
    Span::new(file, TextRange::new(start, end))
}

/// Words of `text` (which starts at byte `offset` of the file), quotes removed, each spanned.
fn words(file: FileId, text: &str, offset: usize) -> Vec<Spanned<String>> {
    let mut found = Vec::new();
    let mut start = None;
    for (index, c) in text
        .char_indices()
        .chain(std::iter::once((text.len(), ' ')))
    {
        match (c.is_whitespace(), start) {
            (true, Some(begin)) => {
                let word = text[begin..index].replace(['"', '\''], "");
                found.push(Spanned::new(
                    word,
                    span(file, offset + begin, offset + index),
                ));
                start = None;
            }
            (false, None) => start = Some(index),
            _ => {}
        }
    }
    found
}

/// Lowers the tiny Dockerfile subset described in the module doc.
pub(crate) fn lower(file: FileId, text: &str) -> Container {
    let mut build = Build::default();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let start = offset;
        offset += line.len();
        let content = line.trim_end();
        let trimmed = content.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let indent = content.len() - trimmed.len();
        let (keyword, rest) = trimmed.split_once(' ').unwrap_or((trimmed, ""));
        let rest_offset = start + indent + keyword.len() + 1;
        let whole = span(file, start + indent, start + content.len());
        let args = words(file, rest, rest_offset);
        let keyword = keyword.to_ascii_uppercase();
        if keyword == "FROM" {
            let index = build.stages.len();
            let image = args
                .first()
                .cloned()
                .unwrap_or_else(|| Spanned::new(String::new(), whole));
            let name = (args.len() >= 3).then(|| args[2].clone());
            let base = if image.value == "scratch" {
                StageBase::Scratch
            } else if let Some(parent) = build
                .stages
                .iter()
                .position(|stage| stage.name.as_ref().is_some_and(|n| n.value == image.value))
            {
                StageBase::Stage(parent)
            } else {
                StageBase::Image(image)
            };
            build.stages.push(Stage {
                index,
                name,
                from: whole,
                base,
                platform: None,
                users: Vec::new(),
                env: Vec::new(),
                args: Vec::new(),
                runs: Vec::new(),
                copies: Vec::new(),
                exposed: Vec::new(),
                volumes: Vec::new(),
                workdir: None,
                onbuild_runs: Vec::new(),
            });
            build.target = index;
            continue;
        }
        let Some(stage) = build.stages.last_mut() else {
            if keyword == "ARG" {
                build.global_args.extend(build_args(&args));
            }
            continue;
        };
        match keyword.as_str() {
            "USER" => {
                if let Some(word) = args.first() {
                    let unresolved = word.value.starts_with('$');
                    let user = User {
                        unresolved,
                        ..User::parse(&word.value)
                    };
                    stage.users.push(Spanned::new(user, word.span));
                }
            }
            "ENV" => stage.env.extend(args.iter().filter_map(|word| {
                let (name, value) = word.value.split_once('=')?;
                let name_end = word.span.range.start as usize + name.len();
                Some(EnvVar {
                    name: Spanned::new(
                        name.to_owned(),
                        span(file, word.span.range.start as usize, name_end),
                    ),
                    value: Some(Spanned::new(
                        Sensitive::new(value),
                        span(file, name_end + 1, word.span.range.end as usize),
                    )),
                })
            })),
            "ARG" => stage.args.extend(build_args(&args)),
            "EXPOSE" => stage.exposed.extend(args.iter().map(|word| {
                let (port, protocol) = word.value.split_once('/').unwrap_or((&word.value, "tcp"));
                Spanned::new(
                    PortSpec {
                        port: port.parse().ok(),
                        protocol: if protocol == "udp" {
                            Protocol::Udp
                        } else {
                            Protocol::Tcp
                        },
                    },
                    word.span,
                )
            })),
            "COPY" | "ADD" => {
                let flag = |name: &str| {
                    args.iter().find_map(|word| {
                        word.value
                            .strip_prefix(name)
                            .map(|value| Spanned::new(value.to_owned(), word.span))
                    })
                };
                let operands: Vec<_> = args
                    .iter()
                    .filter(|word| !word.value.starts_with("--"))
                    .cloned()
                    .collect();
                if let Some((destination, sources)) = operands.split_last() {
                    stage.copies.push(CopyInstruction {
                        span: whole,
                        is_add: keyword == "ADD",
                        sources: sources.to_vec(),
                        destination: destination.clone(),
                        from: flag("--from="),
                        chmod: flag("--chmod="),
                        chown: flag("--chown="),
                    });
                }
            }
            "RUN" => {
                let mut flags = RunFlags::default();
                let mut script_start = 0;
                for word in &args {
                    if let Some(mount) = word.value.strip_prefix("--mount=") {
                        flags.mounts.push(Spanned::new(mount.to_owned(), word.span));
                    } else if let Some(network) = word.value.strip_prefix("--network=") {
                        flags.network = Some(Spanned::new(network.to_owned(), word.span));
                    } else if let Some(security) = word.value.strip_prefix("--security=") {
                        flags.security = Some(Spanned::new(security.to_owned(), word.span));
                    } else {
                        break;
                    }
                    script_start = word.span.range.end as usize - rest_offset + 1;
                }
                let script = &rest[script_start.min(rest.len())..];
                let script_offset = rest_offset + script_start.min(rest.len());
                let mut commands = Vec::new();
                let mut current: Vec<Spanned<String>> = Vec::new();
                for word in words(file, script, script_offset) {
                    if matches!(word.value.as_str(), "&&" | "||" | ";" | "|") {
                        push_command(&mut commands, std::mem::take(&mut current));
                    } else {
                        current.push(word);
                    }
                }
                push_command(&mut commands, current);
                let args_used = stage
                    .args
                    .iter()
                    .map(|arg| arg.name.value.clone())
                    .filter(|name| {
                        script.contains(&format!("${name}"))
                            || script.contains(&format!("${{{name}}}"))
                    })
                    .collect();
                stage.runs.push(RunInstruction {
                    span: whole,
                    flags,
                    commands,
                    exec_form: false,
                    script: Spanned::new(
                        script.to_owned(),
                        span(file, script_offset, script_offset + script.len()),
                    ),
                    args_used,
                });
            }
            _ => {}
        }
    }
    let origin = build
        .target_stage()
        .map_or_else(|| span(file, 0, 0), |stage| stage.from);
    let mut container = Container::new("Dockerfile", SourceKind::Dockerfile, origin);
    container.build = Some(build);
    container
}

fn build_args(args: &[Spanned<String>]) -> Vec<BuildArg> {
    args.iter()
        .map(|word| match word.value.split_once('=') {
            Some((name, value)) => {
                let start = word.span.range.start as usize;
                BuildArg {
                    name: Spanned::new(
                        name.to_owned(),
                        Span::new(word.span.file, TextRange::new(start, start + name.len())),
                    ),
                    default: Some(Spanned::new(
                        Sensitive::new(value),
                        Span::new(
                            word.span.file,
                            TextRange::new(start + name.len() + 1, word.span.range.end as usize),
                        ),
                    )),
                }
            }
            None => BuildArg {
                name: word.clone(),
                default: None,
            },
        })
        .collect()
}

fn push_command(commands: &mut Vec<ShellCommand>, argv: Vec<Spanned<String>>) {
    let (Some(first), Some(last)) = (argv.first(), argv.last()) else {
        return;
    };
    let span = Span::new(first.span.file, first.span.range.cover(last.span.range));
    commands.push(ShellCommand { argv, span });
}
