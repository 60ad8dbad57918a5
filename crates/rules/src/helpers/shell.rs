//! Reading the commands of a `RUN` the way the shell runs them.
//!
//! The front-end splits a `RUN` into simple commands ([`ShellCommand`]); this module answers what
//! each one *does*: the program behind wrappers (`sudo`, `env`, `nice`, `xargs`, `find -exec` …),
//! which packages a package manager installs, and which special mode bits a `chmod` mode sets. Rules
//! stay declarative on top of it.

use leastpriv_model::{RunInstruction, ShellCommand};
use leastpriv_source::Spanned;

/// A program as it is run, after wrappers are peeled off.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Invocation<'a> {
    /// The word naming the program.
    pub(crate) program: &'a Spanned<String>,
    /// Its arguments.
    pub(crate) args: &'a [Spanned<String>],
    /// The `sudo` (or `doas`) word it is run through, if any.
    pub(crate) sudo: Option<&'a Spanned<String>>,
    /// The simple command it was found in.
    pub(crate) command: &'a ShellCommand,
}

impl<'a> Invocation<'a> {
    /// The program's base name (`/usr/bin/chmod` → `chmod`).
    pub(crate) fn name(&self) -> &str {
        base_name(&self.program.value)
    }

    /// The arguments that are not options (do not start with `-`).
    pub(crate) fn operands(&self) -> impl Iterator<Item = &'a Spanned<String>> + use<'a> {
        self.args.iter().filter(|arg| !arg.value.starts_with('-'))
    }
}

/// The base name of a path.
pub(crate) fn base_name(path: &str) -> &str {
    path.trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or(path)
}

/// Options of wrapper programs that take a value (`sudo -u app`, `nice -n 10`, `xargs -n 1`).
fn option_takes_value(wrapper: &str, option: &str) -> bool {
    let takes: &[&str] = match wrapper {
        "sudo" => &[
            "-u", "-g", "-C", "-D", "-h", "-p", "-r", "-t", "-T", "-U", "--user", "--group",
        ],
        "doas" => &["-u", "-C"],
        "env" => &["-u", "-C", "-S", "--unset", "--chdir"],
        "nice" => &["-n", "--adjustment"],
        "stdbuf" => &["-i", "-o", "-e"],
        "xargs" => &[
            "-n",
            "-I",
            "-P",
            "-L",
            "-d",
            "-s",
            "-a",
            "-E",
            "--max-args",
            "--max-procs",
        ],
        "timeout" => &["-s", "-k", "--signal", "--kill-after"],
        "ionice" => &["-c", "-n", "-t"],
        _ => &[],
    };
    takes.contains(&option)
}

/// Programs that run the rest of their arguments as a command.
const WRAPPERS: &[&str] = &[
    "sudo",
    "doas",
    "env",
    "nice",
    "nohup",
    "exec",
    "time",
    "command",
    "stdbuf",
    "xargs",
    "timeout",
    "ionice",
    "busybox",
    "gosu",
    "su-exec",
    "chronic",
    "eatmydata",
    "fakeroot",
];

/// The invocations a simple command makes: the program behind its wrappers, and the commands that
/// `find … -exec` runs.
pub(crate) fn invocations(command: &ShellCommand) -> Vec<Invocation<'_>> {
    let mut found = Vec::new();
    let argv = command.argv.as_slice();
    let mut sudo = None;
    let mut index = 0;
    // Leading `NAME=value` assignments apply to the command; they are not the program.
    while argv
        .get(index)
        .is_some_and(|word| is_assignment(&word.value))
    {
        index += 1;
    }
    while let Some(word) = argv.get(index) {
        let name = base_name(&word.value);
        if !WRAPPERS.contains(&name) {
            break;
        }
        if name == "sudo" || name == "doas" {
            sudo = Some(word);
        }
        index += 1;
        // `timeout 10 cmd`: the duration; `gosu app cmd` / `su-exec app cmd`: the user.
        let positional = usize::from(matches!(name, "timeout" | "gosu" | "su-exec"));
        let mut skipped_positional = 0;
        while let Some(arg) = argv.get(index) {
            let value = arg.value.as_str();
            if value == "--" {
                index += 1;
                break;
            }
            if value.starts_with('-') && value.len() > 1 {
                index += if option_takes_value(name, value) {
                    2
                } else {
                    1
                };
            } else if name == "env" && is_assignment(value) {
                index += 1;
            } else if skipped_positional < positional {
                skipped_positional += 1;
                index += 1;
            } else {
                break;
            }
        }
    }
    let Some(program) = argv.get(index) else {
        return found;
    };
    let args = &argv[index + 1..];
    found.push(Invocation {
        program,
        args,
        sudo,
        command,
    });
    if base_name(&program.value) == "find" {
        let mut rest = args;
        while let Some(start) = rest
            .iter()
            .position(|arg| matches!(arg.value.as_str(), "-exec" | "-execdir" | "-ok"))
        {
            let after = &rest[start + 1..];
            let end = after
                .iter()
                .position(|arg| arg.value == ";" || arg.value == "+" || arg.value == "\\;")
                .unwrap_or(after.len());
            if let Some((exec_program, exec_args)) = after[..end].split_first() {
                found.push(Invocation {
                    program: exec_program,
                    args: exec_args,
                    sudo,
                    command,
                });
            }
            rest = &after[end.min(after.len())..];
            if rest.is_empty() {
                break;
            }
            rest = &rest[1..];
        }
    }
    found
}

/// Every invocation of a `RUN`, in order.
pub(crate) fn run_invocations(run: &RunInstruction) -> impl Iterator<Item = Invocation<'_>> {
    run.commands.iter().flat_map(invocations)
}

fn is_assignment(word: &str) -> bool {
    let Some((name, _)) = word.split_once('=') else {
        return false;
    };
    !name.is_empty()
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        && !name.as_bytes()[0].is_ascii_digit()
}

/// Package names (version pins removed), each with the word it was read from.
pub(crate) type Packages<'a> = Vec<(&'a str, &'a Spanned<String>)>;

/// What a package manager command does to packages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PackageAction {
    /// `apt-get install`, `apk add`, `dnf install` …
    Install,
    /// `apt-get remove|purge`, `apk del`, `dnf remove|erase` …
    Remove,
}

/// The packages an invocation installs or removes, when it is a package manager command
/// (`apt-get`, `apt`, `aptitude`, `apk`, `yum`, `dnf`, `microdnf`, `tdnf`, `zypper`, `pacman`),
/// each with its version pin removed.
pub(crate) fn package_action<'a>(
    invocation: &Invocation<'a>,
) -> Option<(PackageAction, Packages<'a>)> {
    use PackageAction::{Install, Remove};
    let args = invocation.args;
    let subcommand = |install: &[&str], remove: &[&str]| {
        args.iter().enumerate().find_map(|(index, arg)| {
            if install.contains(&arg.value.as_str()) {
                Some((Install, index))
            } else if remove.contains(&arg.value.as_str()) {
                Some((Remove, index))
            } else {
                None
            }
        })
    };
    let (found, value_options): (Option<(PackageAction, usize)>, &[&str]) = match invocation.name()
    {
        "apt-get" | "apt" | "aptitude" => (
            subcommand(&["install"], &["remove", "purge"]),
            &["-o", "-t", "--target-release", "-c", "--config-file"],
        ),
        "apk" => (
            subcommand(&["add"], &["del"]),
            &[
                "-t",
                "--virtual",
                "-X",
                "--repository",
                "-p",
                "--root",
                "--arch",
            ],
        ),
        "yum" | "dnf" | "microdnf" | "tdnf" => (
            subcommand(&["install"], &["remove", "erase"]),
            &[
                "--setopt",
                "--enablerepo",
                "--disablerepo",
                "--releasever",
                "-c",
                "--installroot",
            ],
        ),
        "zypper" => (
            subcommand(&["install", "in"], &["remove", "rm"]),
            &["-r", "--repo", "-n", "--from"],
        ),
        "pacman" => (
            args.iter().enumerate().find_map(|(index, arg)| {
                let flag = arg.value.as_str();
                if flag.starts_with("-S") && !flag.contains('s') && !flag.contains('c') {
                    Some((Install, index))
                } else if flag.starts_with("-R") {
                    Some((Remove, index))
                } else {
                    None
                }
            }),
            &["--config", "--root", "--dbpath"],
        ),
        _ => (None, &[]),
    };
    let (action, start) = found?;
    let mut packages = Vec::new();
    let mut skip_next = false;
    for arg in &args[start + 1..] {
        if skip_next {
            skip_next = false;
            continue;
        }
        let value = arg.value.as_str();
        if value.starts_with('-') {
            skip_next = value_options.contains(&value);
            continue;
        }
        packages.push((package_name(value), arg));
    }
    Some((action, packages))
}

/// A package name without its version pin (`sudo=1.9.5p2-3` → `sudo`, `sudo-1.9.5` → `sudo`,
/// `sudo~1.9` → `sudo`).
fn package_name(word: &str) -> &str {
    let end = word.find(['=', '<', '>', '~']).unwrap_or(word.len());
    let name = &word[..end];
    // yum/dnf `name-version`: cut at the first `-` followed by a digit.
    let bytes = name.as_bytes();
    (1..bytes.len())
        .find(|&i| bytes[i - 1] == b'-' && bytes[i].is_ascii_digit())
        .map_or(name, |i| &name[..i - 1])
}

/// A change of file modes a command makes: `chmod MODE FILE…`, `install -m MODE … DEST`,
/// `install -d -m MODE DIR…`, `mkdir -m MODE DIR…`.
pub(crate) struct ModeChange<'a> {
    /// The word that carries the mode, as written (`777`, `-m0777`, `--mode=777`): see
    /// [`mode_value`].
    pub(crate) mode: &'a Spanned<String>,
    /// The paths it applies to.
    pub(crate) targets: Vec<&'a Spanned<String>>,
    /// Whether it recurses into directories (`chmod -R`).
    pub(crate) recursive: bool,
    /// Whether the targets are known to be directories (`mkdir`, `install -d`).
    pub(crate) directories: bool,
}

/// `chmod` options that take no operand (`--reference=FILE` carries its own).
const CHMOD_OPTIONS: &[&str] = &[
    "--recursive",
    "--verbose",
    "--changes",
    "--silent",
    "--quiet",
    "--preserve-root",
    "--no-preserve-root",
];

/// The mode change an invocation makes, if it makes one.
pub(crate) fn mode_change<'a>(invocation: &Invocation<'a>) -> Option<ModeChange<'a>> {
    let args = invocation.args;
    match invocation.name() {
        "chmod" => {
            let mut recursive = false;
            let mut operands = Vec::new();
            for arg in args {
                let value = arg.value.as_str();
                // `-R`, `-Rf`, `-cv`: flags. `-w` or `-x` are modes (`chmod -w FILE`).
                let flags = value.len() > 1
                    && value.starts_with('-')
                    && value[1..].bytes().all(|b| b"Rcfv".contains(&b));
                if flags || CHMOD_OPTIONS.contains(&value) || value.starts_with("--reference=") {
                    recursive |= value == "--recursive" || (flags && value.contains('R'));
                } else {
                    operands.push(arg);
                }
            }
            let (mode, targets) = operands.split_first()?;
            Some(ModeChange {
                mode,
                targets: targets.to_vec(),
                recursive,
                directories: false,
            })
        }
        "install" | "mkdir" => {
            let directories =
                invocation.name() == "mkdir" || args.iter().any(|arg| is_short_flag(arg, 'd'));
            let mut mode = None;
            let mut operands = Vec::new();
            let mut index = 0;
            while let Some(arg) = args.get(index) {
                let value = arg.value.as_str();
                index += 1;
                if value.starts_with("--mode=") || (value.starts_with("-m") && value.len() > 2) {
                    mode = Some(arg);
                } else if value == "--mode" || (is_short_flag(arg, 'm') && value.ends_with('m')) {
                    mode = args.get(index);
                    index += 1;
                } else if value.starts_with('-') && value.len() > 1 {
                    // `install -o root -g root -t DIR -S SUFFIX`: options with a value.
                    let takes_value = matches!(value, "-o" | "-g" | "-t" | "-S")
                        || (matches!(
                            value,
                            "--owner" | "--group" | "--target-directory" | "--suffix"
                        ));
                    index += usize::from(takes_value && invocation.name() == "install");
                } else {
                    operands.push(arg);
                }
            }
            let mode = mode?;
            let targets = if directories {
                operands
            } else {
                operands.last().copied().into_iter().collect()
            };
            (!targets.is_empty()).then_some(ModeChange {
                mode,
                targets,
                recursive: false,
                directories,
            })
        }
        _ => None,
    }
}

/// Whether `arg` is a cluster of short flags that holds `flag` (`-d`, `-pd`, `-dm`).
fn is_short_flag(arg: &Spanned<String>, flag: char) -> bool {
    let value = arg.value.as_str();
    value.len() > 1
        && value.starts_with('-')
        && !value.starts_with("--")
        && value[1..].chars().all(|c| c.is_ascii_alphabetic())
        && value[1..].contains(flag)
}

/// The mode itself in a mode word: `--mode=0777` and `-m0777` → `0777`.
pub(crate) fn mode_value(word: &str) -> &str {
    word.strip_prefix("--mode=")
        .or_else(|| word.strip_prefix("-m"))
        .unwrap_or(word)
}

/// What a mode grants every user: whether it makes its targets writable by all, and whether it
/// sets the sticky bit with it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct OthersWrite {
    /// The mode adds write permission for others (`o+w`, `a+w`, `777`, `0666`).
    pub(crate) writable: bool,
    /// The mode sets the sticky bit (`1777`, `+t`, `o+t`): in a directory, users cannot remove or
    /// replace each other's files.
    pub(crate) sticky: bool,
}

/// Whether a `chmod`-style mode makes its targets writable by every user: octal (`777`, `0666`,
/// `1777`) or symbolic, clause by clause (`a+w`, `o+rwx`, `ugo=rwx`, `u+rwx,o+w`). A clause without
/// a user class (`+w`, `=rw`) is filtered by the umask, which keeps others' write bit off by
/// default, so it is not counted.
pub(crate) fn others_write(mode: &str) -> OthersWrite {
    let mode = mode.trim();
    if !mode.is_empty() && mode.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
        let digits = mode.as_bytes();
        let others = digits[digits.len() - 1] - b'0';
        let special = (digits.len() >= 4).then(|| digits[digits.len() - 4] - b'0');
        return OthersWrite {
            writable: others & 2 != 0,
            sticky: special.is_some_and(|special| special & 1 != 0),
        };
    }
    let mut result = OthersWrite::default();
    for clause in mode.split(',') {
        let who_end = clause
            .find(|c: char| !matches!(c, 'u' | 'g' | 'o' | 'a'))
            .unwrap_or(clause.len());
        if who_end == clause.len() {
            continue;
        }
        let who = &clause[..who_end];
        let others = who.contains('o') || who.contains('a');
        let mut rest = &clause[who_end..];
        while let Some(op) = rest.chars().next() {
            if !matches!(op, '+' | '-' | '=') {
                return OthersWrite::default();
            }
            let perms_end = rest[1..]
                .find(['+', '-', '='])
                .map_or(rest.len(), |end| end + 1);
            let perms = &rest[1..perms_end];
            if !perms.chars().all(|c| "rwxXstugo".contains(c)) {
                return OthersWrite::default();
            }
            // The sticky bit belongs to no class: `+t`, `a+t` and `o+t` all set it.
            let sticky_applies = who.is_empty() || others;
            match op {
                '+' => {
                    result.writable |= others && perms.contains('w');
                    result.sticky |= sticky_applies && perms.contains('t');
                }
                '-' => {
                    result.writable &= !(others && perms.contains('w'));
                    result.sticky &= !(sticky_applies && perms.contains('t'));
                }
                _ => {
                    if others {
                        result.writable = perms.contains('w');
                    }
                    if sticky_applies {
                        result.sticky = perms.contains('t');
                    }
                }
            }
            rest = &rest[perms_end..];
        }
    }
    result
}

/// The special bits a file mode sets.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct SpecialBits {
    /// Set-user-ID.
    pub(crate) setuid: bool,
    /// Set-group-ID.
    pub(crate) setgid: bool,
}

impl SpecialBits {
    /// Whether either bit is set.
    pub(crate) fn any(self) -> bool {
        self.setuid || self.setgid
    }
}

/// The special bits a `chmod`-style mode *adds*: octal (`4755`, `02755`, `6755`) or symbolic
/// (`u+s`, `+s`, `g+s`, `ug=rwxs`, `a+rx,u+s`). Removing them (`u-s`, `a-s`, `0755`) adds none.
pub(crate) fn added_special_bits(mode: &str) -> SpecialBits {
    let mode = mode.trim();
    if !mode.is_empty() && mode.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
        // The special digit is the one before the last three.
        let digits = mode.as_bytes();
        if digits.len() < 4 {
            return SpecialBits::default();
        }
        let special = digits[digits.len() - 4] - b'0';
        return SpecialBits {
            setuid: special & 4 != 0,
            setgid: special & 2 != 0,
        };
    }
    let mut bits = SpecialBits::default();
    for clause in mode.split(',') {
        let who_end = clause
            .find(|c: char| !matches!(c, 'u' | 'g' | 'o' | 'a'))
            .unwrap_or(clause.len());
        if who_end == clause.len() {
            // Not a symbolic clause (`--reference=…`, a path): no bits.
            continue;
        }
        let who = &clause[..who_end];
        // Each `[+-=]perms` operation, in order.
        let mut rest = &clause[who_end..];
        while let Some(op) = rest.chars().next() {
            if !matches!(op, '+' | '-' | '=') {
                return SpecialBits::default();
            }
            let perms_end = rest[1..]
                .find(['+', '-', '='])
                .map_or(rest.len(), |end| end + 1);
            let perms = &rest[1..perms_end];
            if !perms.chars().all(|c| "rwxXstugo".contains(c)) {
                return SpecialBits::default();
            }
            if op != '-' && perms.contains('s') {
                let all = who.is_empty() || who.contains('a');
                bits.setuid |= all || who.contains('u');
                bits.setgid |= all || who.contains('g');
            }
            rest = &rest[perms_end..];
        }
    }
    bits
}

#[cfg(test)]
mod tests {
    use leastpriv_source::{FileId, SourceDb, Span, TextRange};

    use super::*;

    #[test]
    fn knows_when_a_mode_lets_every_user_write() {
        let cases = [
            ("777", true, false),
            ("0777", true, false),
            ("666", true, false),
            ("1777", true, true),
            ("01777", true, true),
            ("755", false, false),
            ("0775", false, false),
            ("a+w", true, false),
            ("o+rwx", true, false),
            ("ugo=rwx", true, false),
            ("u+rwx,o+w", true, false),
            ("a+rwxt", true, true),
            ("o+w,+t", true, true),
            ("+w", false, false),
            ("=rwx", false, false),
            ("a+w,o-w", false, false),
            ("g+w", false, false),
            ("--reference=x", false, false),
        ];
        for (mode, writable, sticky) in cases {
            assert_eq!(
                others_write(mode),
                OthersWrite { writable, sticky },
                "{mode}"
            );
        }
    }

    #[test]
    fn finds_the_mode_and_targets_of_chmod_install_and_mkdir() {
        type Expected<'a> = Option<(&'a str, &'a [&'a str], bool, bool)>;
        let cases: [(&[&str], Expected<'_>); 8] = [
            (
                &["chmod", "-R", "777", "/app"],
                Some(("777", &["/app"], true, false)),
            ),
            (
                &["chmod", "777", "-Rf", "/a", "/b"],
                Some(("777", &["/a", "/b"], true, false)),
            ),
            (
                &["chmod", "-w", "/app"],
                Some(("-w", &["/app"], false, false)),
            ),
            (
                &["install", "-o", "root", "-m", "0777", "src", "/dst"],
                Some(("0777", &["/dst"], false, false)),
            ),
            (
                &["install", "-d", "-m0777", "/a", "/b"],
                Some(("-m0777", &["/a", "/b"], false, true)),
            ),
            (
                &["mkdir", "-pm", "1777", "/scratch"],
                Some(("1777", &["/scratch"], false, true)),
            ),
            (
                &["mkdir", "--mode=777", "/a"],
                Some(("--mode=777", &["/a"], false, true)),
            ),
            (&["mkdir", "-p", "/a"], None),
        ];
        for (words, expected) in cases {
            let command = command(words);
            let invocation = invocations(&command).remove(0);
            let change = mode_change(&invocation).map(|change| {
                (
                    change.mode.value.as_str(),
                    change
                        .targets
                        .iter()
                        .map(|t| t.value.as_str())
                        .collect::<Vec<_>>(),
                    change.recursive,
                    change.directories,
                )
            });
            let expected = expected.map(|(mode, targets, recursive, directories)| {
                (mode, targets.to_vec(), recursive, directories)
            });
            assert_eq!(change, expected, "{words:?}");
        }
    }

    fn file() -> FileId {
        SourceDb::new().add("Dockerfile", "")
    }

    fn command(words: &[&str]) -> ShellCommand {
        let file = file();
        let span = Span::new(file, TextRange::default());
        ShellCommand {
            argv: words
                .iter()
                .map(|word| Spanned::new((*word).to_owned(), span))
                .collect(),
            span,
        }
    }

    fn programs(words: &[&str]) -> Vec<(String, Vec<String>, bool)> {
        let command = command(words);
        invocations(&command)
            .iter()
            .map(|invocation| {
                (
                    invocation.name().to_owned(),
                    invocation.args.iter().map(|a| a.value.clone()).collect(),
                    invocation.sudo.is_some(),
                )
            })
            .collect()
    }

    #[test]
    fn peels_wrappers() {
        assert_eq!(
            programs(&["sudo", "-E", "-u", "root", "chmod", "u+s", "/x"]),
            vec![("chmod".into(), vec!["u+s".into(), "/x".into()], true)]
        );
        assert_eq!(
            programs(&[
                "DEBIAN_FRONTEND=noninteractive",
                "env",
                "A=b",
                "/usr/bin/apt-get",
                "install",
                "sudo"
            ]),
            vec![(
                "apt-get".into(),
                vec!["install".into(), "sudo".into()],
                false
            )]
        );
        assert_eq!(
            programs(&["xargs", "-n", "1", "chmod", "g+s"]),
            vec![("chmod".into(), vec!["g+s".into()], false)]
        );
        assert_eq!(
            programs(&["gosu", "app", "setcap", "cap_net_raw+ep", "/bin/ping"])[0].0,
            "setcap"
        );
        assert!(programs(&["sudo"]).is_empty());
    }

    #[test]
    fn finds_commands_run_by_find_exec() {
        let found = programs(&[
            "find", "/", "-perm", "/6000", "-type", "f", "-exec", "chmod", "a-s", "{}", ";",
        ]);
        assert_eq!(found.len(), 2);
        assert_eq!(
            found[1],
            ("chmod".into(), vec!["a-s".into(), "{}".into()], false)
        );
    }

    #[test]
    fn reads_package_installs() {
        let names = |words: &[&str]| {
            let command = command(words);
            let invocation = invocations(&command)[0];
            match package_action(&invocation) {
                Some((PackageAction::Install, packages)) => packages
                    .iter()
                    .map(|(name, _)| (*name).to_owned())
                    .collect::<Vec<_>>(),
                _ => Vec::new(),
            }
        };
        assert_eq!(
            names(&[
                "apt-get",
                "install",
                "-y",
                "--no-install-recommends",
                "-o",
                "Dpkg::Options::=--force-confnew",
                "curl",
                "sudo=1.9.5p2-3"
            ]),
            vec!["curl", "sudo"]
        );
        assert_eq!(
            names(&["apk", "add", "--no-cache", "--virtual", ".deps", "sudo"]),
            vec!["sudo"]
        );
        assert_eq!(names(&["dnf", "install", "-y", "sudo-1.9.5"]), vec!["sudo"]);
        assert_eq!(
            names(&["pacman", "-Syu", "--noconfirm", "sudo"]),
            vec!["sudo"]
        );
        assert!(names(&["apt-get", "update"]).is_empty());
        assert!(names(&["apt-get", "remove", "sudo"]).is_empty());
    }

    #[test]
    fn reads_special_bits_in_every_mode_spelling() {
        let setuid = SpecialBits {
            setuid: true,
            setgid: false,
        };
        let setgid = SpecialBits {
            setuid: false,
            setgid: true,
        };
        let both = SpecialBits {
            setuid: true,
            setgid: true,
        };
        for (mode, bits) in [
            ("4755", setuid),
            ("04755", setuid),
            ("2755", setgid),
            ("6755", both),
            ("u+s", setuid),
            ("g+s", setgid),
            ("+s", both),
            ("a+s", both),
            ("ug+s", both),
            ("u=rwxs,g=rx,o=rx", setuid),
            ("a+rx,u+s", setuid),
            ("u+x-w+s", setuid),
        ] {
            assert_eq!(added_special_bits(mode), bits, "{mode}");
        }
        for mode in [
            "755",
            "0755",
            "1777",
            "01777",
            "u+x",
            "a-s",
            "u-s",
            "g-s",
            "-R",
            "+x",
            "o+t",
            "/usr/bin/x",
            "--reference=/usr/bin/sudo",
        ] {
            assert_eq!(added_special_bits(mode), SpecialBits::default(), "{mode}");
        }
    }
}
