use leastpriv_model::{Build, Container, Runtime, SourceKind, Span};

use crate::engine::Checker;
use crate::helpers::runtime::fix_for;
use crate::rule::Check;
use crate::Severity;

crate::declare_rule! {
    /// ## What it does
    /// Flags a read-only root filesystem that leaves no writable place where the program will write:
    /// when the Dockerfile of a `build:` is in view, the directories its `RUN` steps hand to the
    /// runtime user (`chown app /srv/data`, `chmod 777 /var/cache/app`) with no volume or tmpfs over
    /// them (low); otherwise `/tmp` with no tmpfs or volume (info: many programs write temporary
    /// files, but not all). Directories the Dockerfile declares with `VOLUME` get an anonymous volume
    /// from Docker and count as writable.
    ///
    /// ## Why is this bad?
    /// It is the reason read-only roots get turned off again: the program fails at its first temporary
    /// file or cache write, and the quick fix is `read_only: false`. Giving each written path its own
    /// small, `noexec` tmpfs (or a volume for data that must survive) keeps the root read-only.
    ///
    /// ## Example
    /// ```yaml
    /// services:
    ///   api:
    ///     image: example/api
    ///     read_only: true
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// services:
    ///   api:
    ///     image: example/api
    ///     read_only: true
    ///     tmpfs: ["/tmp:size=64m"]
    /// ```
    ///
    /// ## Known problems
    /// Programs that never write a temporary file do not need `/tmp`, which is why that case is only
    /// informational. Paths written at run time that the Dockerfile does not prepare are not known.
    ///
    /// ## Equivalents
    /// None: no anchor pairs the read-only root with the paths that must stay writable.
    pub(crate) static META = {
        name: "read-only-root-without-scratch",
        layer: Filesystem,
        severity: Low,
        fix: "Mount a tmpfs (or a volume) on each path the program writes",
        also: [Info],
    };
}

pub(crate) const CHECK: Check = Check::Container(check);

/// A path the program will write, and the Dockerfile step that says so (none for `/tmp`).
struct Written {
    path: String,
    evidence: Option<Span>,
}

fn check(checker: &mut Checker<'_>, container: &Container) {
    let Some(runtime) = &container.runtime else {
        return;
    };
    let Some(read_only) = runtime.read_only_root.as_ref().filter(|flag| flag.value) else {
        return;
    };
    let mut written = vec![Written {
        path: "/tmp".to_owned(),
        evidence: None,
    }];
    if let Some(build) = &container.build {
        written.extend(prepared_for_writing(build));
    }
    // Docker gives every image VOLUME an anonymous volume; Kubernetes ignores VOLUME.
    let image_volumes: Vec<&str> = match (&container.build, container.kind) {
        (Some(build), kind) if kind != SourceKind::Kubernetes => build
            .image_stages()
            .flat_map(|stage| stage.volumes.iter().map(|volume| volume.value.as_str()))
            .collect(),
        _ => Vec::new(),
    };
    let mut uncovered: Vec<Written> = Vec::new();
    for path in written {
        let covered = is_writable(runtime, &path.path)
            || image_volumes
                .iter()
                .any(|volume| within(&path.path, volume));
        if !covered && !uncovered.iter().any(|seen| seen.path == path.path) {
            uncovered.push(path);
        }
    }
    if uncovered.is_empty() {
        return;
    }
    let paths = uncovered
        .iter()
        .map(|written| format!("`{}`", written.path))
        .collect::<Vec<_>>()
        .join(", ");
    let targets = uncovered
        .iter()
        .map(|written| written.path.as_str())
        .collect::<Vec<_>>();
    let fix =
        fix_for(
            container,
            &format!(
            "add `tmpfs: [{}]` (`:size=64m` bounds each), or volumes for data that must persist",
            targets.iter().map(|path| format!("\"{path}\"")).collect::<Vec<_>>().join(", ")
        ),
            &format!("mount an `emptyDir` volume at {paths}"),
            &format!(
                "add {}",
                targets
                    .iter()
                    .map(|path| format!("`--tmpfs {path}`"))
                    .collect::<Vec<_>>()
                    .join(" ")
            ),
        );
    // The Dockerfile shows that the image writes its prepared directories; `/tmp` is only likely.
    let evidenced = uncovered.iter().any(|written| written.evidence.is_some());
    let message = if evidenced {
        format!(
            "root filesystem is read-only but {paths} {} no tmpfs or volume: the program's writes there will fail",
            if uncovered.len() == 1 { "has" } else { "have" }
        )
    } else {
        "root filesystem is read-only and `/tmp` has no tmpfs or volume: if the program writes temporary files, they will fail".to_owned()
    };
    let diagnostic = checker
        .report(read_only.span, message)
        .severity(if evidenced {
            Severity::Low
        } else {
            Severity::Info
        })
        .fix(fix);
    for written in &uncovered {
        if let Some(evidence) = written.evidence {
            diagnostic.related(
                evidence,
                format!("the Dockerfile makes `{}` writable here", written.path),
            );
        }
    }
}

/// Whether a tmpfs or a mount makes `path` writable.
fn is_writable(runtime: &Runtime, path: &str) -> bool {
    runtime
        .tmpfs
        .iter()
        .any(|tmpfs| within(path, &tmpfs.value.target))
        || runtime
            .mounts
            .iter()
            .any(|mount| !mount.value.read_only && within(path, &mount.value.target))
}

/// Whether `path` is `dir` or below it.
fn within(path: &str, dir: &str) -> bool {
    let dir = dir.trim_end_matches('/');
    dir.is_empty()
        || path == dir
        || path
            .strip_prefix(dir)
            .is_some_and(|rest| rest.starts_with('/'))
}

/// Directories the image's `RUN` steps hand over for writing: `chown` targets, and `chmod` targets
/// whose mode lets group or others write.
fn prepared_for_writing(build: &Build) -> Vec<Written> {
    let mut found = Vec::new();
    for stage in build.image_stages() {
        for run in &stage.runs {
            for command in &run.commands {
                let program = command.program();
                if program != Some("chown") && program != Some("chmod") {
                    continue;
                }
                let mut operands = command
                    .args()
                    .iter()
                    .filter(|arg| !arg.value.starts_with('-'));
                let Some(first) = operands.next() else {
                    continue;
                };
                if program == Some("chmod") && !grants_shared_write(&first.value) {
                    continue;
                }
                for operand in operands {
                    let path = operand.value.trim_end_matches('/');
                    if path.starts_with('/') && path.len() > 1 && !path.contains(['$', '*']) {
                        found.push(Written {
                            path: path.to_owned(),
                            evidence: Some(command.span),
                        });
                    }
                }
            }
        }
    }
    found
}

/// Whether a `chmod` mode lets group or others write (`777`, `0775`, `g+w`, `a=rwx`, `o+rw`).
fn grants_shared_write(mode: &str) -> bool {
    if mode.bytes().all(|b| b.is_ascii_digit()) {
        let digits: Vec<u8> = mode.bytes().map(|b| b - b'0').collect();
        return digits.iter().rev().take(2).any(|&digit| digit & 0b010 != 0);
    }
    mode.split(',').any(|clause| {
        let (who, rest) = clause.split_at(clause.find(['+', '=']).unwrap_or(clause.len()));
        // No `who` means "all, minus the umask", which leaves group and others alone by default.
        rest.contains('w') && who.contains(['a', 'g', 'o'])
    })
}

#[cfg(test)]
mod tests {
    use leastpriv_model::{
        Build, Mount, MountKind, RunFlags, RunInstruction, Runtime, ShellCommand, SourceKind,
        Stage, StageBase, Tmpfs,
    };

    use crate::testing::Source;
    use crate::Severity;

    fn read_only(source: &Source) -> Runtime {
        Runtime {
            read_only_root: Some(source.at(3, true)),
            ..Runtime::default()
        }
    }

    #[test]
    fn wants_a_writable_tmp() {
        let source = Source::new();
        let found = source.run(
            "LP503",
            &[source.container(SourceKind::Compose, read_only(&source))],
        );
        assert_eq!(found[0].line, 3);
        assert!(
            found[0].fix.contains("tmpfs: [\"/tmp\"]"),
            "{}",
            found[0].fix
        );
        let with_tmpfs = Runtime {
            tmpfs: vec![source.at(
                4,
                Tmpfs {
                    target: "/tmp".into(),
                    options: Vec::new(),
                },
            )],
            ..read_only(&source)
        };
        assert!(source
            .lines("LP503", SourceKind::Compose, with_tmpfs)
            .is_empty());
        let with_empty_dir = Runtime {
            mounts: vec![source.at(
                4,
                Mount {
                    kind: MountKind::Other {
                        kind: "emptyDir".into(),
                    },
                    target: "/tmp/".into(),
                    read_only: false,
                    propagation: None,
                },
            )],
            ..read_only(&source)
        };
        assert!(source
            .lines("LP503", SourceKind::Kubernetes, with_empty_dir)
            .is_empty());
        assert!(source
            .lines("LP503", SourceKind::Compose, Runtime::default())
            .is_empty());
    }

    #[test]
    fn follows_the_directories_the_dockerfile_prepares() {
        let source = Source::new();
        let word = |line, text: &str| source.at(line, text.to_owned());
        let command = |line, words: &[&str]| ShellCommand {
            argv: words.iter().map(|w| word(line, w)).collect(),
            span: source.span(line),
        };
        let run = RunInstruction {
            span: source.span(20),
            flags: RunFlags::default(),
            commands: vec![
                command(20, &["chown", "-R", "app:app", "/srv/data", "/srv/cache/"]),
                command(21, &["chmod", "755", "/opt/app"]),
                command(22, &["chmod", "g+w", "/var/log/app"]),
            ],
            exec_form: false,
            script: word(20, ""),
            args_used: Vec::new(),
        };
        let stage = Stage {
            runs: vec![run],
            volumes: vec![word(23, "/srv/cache")],
            ..source.stage(StageBase::Image(word(10, "debian")))
        };
        let runtime = Runtime {
            tmpfs: vec![source.at(
                4,
                Tmpfs {
                    target: "/tmp".into(),
                    options: Vec::new(),
                },
            )],
            ..read_only(&source)
        };
        let mut container = source.container(SourceKind::Compose, runtime);
        container.build = Some(Build {
            stages: vec![stage],
            ..Build::default()
        });
        let found = source.run("LP503", &[container]);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].severity, Severity::Low);
        assert_eq!(
            found[0].message,
            "root filesystem is read-only but `/srv/data`, `/var/log/app` have no tmpfs or volume: the program's writes there will fail"
        );
    }

    #[test]
    fn reads_chmod_modes() {
        for mode in ["777", "0775", "1777", "g+w", "a=rwx", "o+rw", "u+x,g+w"] {
            assert!(super::grants_shared_write(mode), "{mode}");
        }
        for mode in ["755", "0644", "u+w", "go-w", "a+x", "+w"] {
            assert!(!super::grants_shared_write(mode), "{mode}");
        }
    }
}
