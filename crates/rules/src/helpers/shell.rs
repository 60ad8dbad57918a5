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
