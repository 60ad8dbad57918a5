//! Recognising `docker run`, `docker create`, `podman run` (and their `container` forms) in a simple
//! command, and splitting the command line into flags, image and container command the way the CLI's
//! flag parser (spf13/pflag) does.
//!
//! The image is the first argument that is not a flag or a flag's value, so every flag that takes a
//! value must be known: [`FLAGS`] lists those of `docker run` (Docker 28) and `podman run` (Podman 5).
//! An unknown flag is taken as a boolean, the reading that cannot swallow the image.

use leastpriv_source::TextRange;

use super::shell::Word;

/// Which CLI the command runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Engine {
    Docker,
    Podman,
}

impl Engine {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Engine::Docker => "docker",
            Engine::Podman => "podman",
        }
    }
}

/// A `docker run`-like command line.
#[derive(Debug)]
pub(crate) struct Invocation<'a> {
    pub(crate) engine: Engine,
    /// `run` or `create`.
    pub(crate) subcommand: &'static str,
    /// From the program to the subcommand (`docker container run`).
    pub(crate) head: TextRange,
    pub(crate) flags: Vec<Flag<'a>>,
    /// The image argument, when there is one.
    pub(crate) image: Option<&'a Word>,
    /// The words after the image: the container's command.
    pub(crate) command: &'a [Word],
}

/// One flag as parsed.
#[derive(Debug)]
pub(crate) struct Flag<'a> {
    /// The canonical long name without dashes (`-u` → `user`, `--net` → `network`).
    pub(crate) name: &'static str,
    /// Where the flag itself is written (`--cap-add`, or the `u` of `-itu`).
    pub(crate) range: TextRange,
    /// Its value: the next word, or the text after `=` or after the letter in a cluster.
    pub(crate) value: Option<FlagValue<'a>>,
}

/// A flag's value: the tail of a word from byte `from`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct FlagValue<'a> {
    pub(crate) word: &'a Word,
    pub(crate) from: usize,
}

impl<'a> FlagValue<'a> {
    pub(crate) fn text(&self) -> &'a str {
        self.word.text().get(self.from..).unwrap_or("")
    }

    /// Where the value is written, quotes excluded.
    pub(crate) fn range(&self) -> TextRange {
        self.word.source_range_from(self.from)
    }

    /// Where `text()[range]` is written.
    pub(crate) fn sub_range(&self, range: std::ops::Range<usize>) -> TextRange {
        self.word
            .source_range(range.start + self.from..range.end + self.from)
    }

    /// Whether the shell will expand it (so its run-time value is not what is written).
    pub(crate) fn expands(&self) -> bool {
        self.word.expands()
    }
}

/// Whether a flag takes a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Arity {
    Value,
    Bool,
}

use Arity::{Bool, Value};

/// Every flag of `docker run`/`create` and `podman run`/`create`: long name, shorthand, arity.
/// Aliases map to their canonical name in [`ALIASES`].
const FLAGS: &[(&str, Option<char>, Arity)] = &[
    ("add-host", None, Value),
    ("annotation", None, Value),
    ("arch", None, Value),
    ("attach", Some('a'), Value),
    ("authfile", None, Value),
    ("blkio-weight", None, Value),
    ("blkio-weight-device", None, Value),
    ("cap-add", None, Value),
    ("cap-drop", None, Value),
    ("cgroup-conf", None, Value),
    ("cgroup-parent", None, Value),
    ("cgroupns", None, Value),
    ("cgroups", None, Value),
    ("chrootdirs", None, Value),
    ("cidfile", None, Value),
    ("conmon-pidfile", None, Value),
    ("cpu-count", None, Value),
    ("cpu-percent", None, Value),
    ("cpu-period", None, Value),
    ("cpu-quota", None, Value),
    ("cpu-rt-period", None, Value),
    ("cpu-rt-runtime", None, Value),
    ("cpu-shares", Some('c'), Value),
    ("cpus", None, Value),
    ("cpuset-cpus", None, Value),
    ("cpuset-mems", None, Value),
    ("decryption-key", None, Value),
    ("detach", Some('d'), Bool),
    ("detach-keys", None, Value),
    ("device", None, Value),
    ("device-cgroup-rule", None, Value),
    ("device-read-bps", None, Value),
    ("device-read-iops", None, Value),
    ("device-write-bps", None, Value),
    ("device-write-iops", None, Value),
    ("disable-content-trust", None, Bool),
    ("dns", None, Value),
    ("dns-option", None, Value),
    ("dns-search", None, Value),
    ("domainname", None, Value),
    ("entrypoint", None, Value),
    ("env", Some('e'), Value),
    ("env-file", None, Value),
    ("env-host", None, Bool),
    ("env-merge", None, Value),
    ("expose", None, Value),
    ("gidmap", None, Value),
    ("gpus", None, Value),
    ("group-add", None, Value),
    ("group-entry", None, Value),
    ("health-cmd", None, Value),
    ("health-interval", None, Value),
    ("health-log-destination", None, Value),
    ("health-max-log-count", None, Value),
    ("health-max-log-size", None, Value),
    ("health-on-failure", None, Value),
    ("health-retries", None, Value),
    ("health-start-interval", None, Value),
    ("health-start-period", None, Value),
    ("health-startup-cmd", None, Value),
    ("health-startup-interval", None, Value),
    ("health-startup-retries", None, Value),
    ("health-startup-success", None, Value),
    ("health-startup-timeout", None, Value),
    ("health-timeout", None, Value),
    ("help", None, Bool),
    ("hostname", Some('h'), Value),
    ("hosts-file", None, Value),
    ("hostuser", None, Value),
    ("http-proxy", None, Bool),
    ("image-volume", None, Value),
    ("init", None, Bool),
    ("init-path", None, Value),
    ("interactive", Some('i'), Bool),
    ("io-maxbandwidth", None, Value),
    ("io-maxiops", None, Value),
    ("ip", None, Value),
    ("ip6", None, Value),
    ("ipc", None, Value),
    ("isolation", None, Value),
    ("kernel-memory", None, Value),
    ("label", Some('l'), Value),
    ("label-file", None, Value),
    ("link", None, Value),
    ("link-local-ip", None, Value),
    ("log-driver", None, Value),
    ("log-opt", None, Value),
    ("mac-address", None, Value),
    ("memory", Some('m'), Value),
    ("memory-reservation", None, Value),
    ("memory-swap", None, Value),
    ("memory-swappiness", None, Value),
    ("mount", None, Value),
    ("name", None, Value),
    ("network", None, Value),
    ("network-alias", None, Value),
    ("no-healthcheck", None, Bool),
    ("no-hostname", None, Bool),
    ("no-hosts", None, Bool),
    ("oom-kill-disable", None, Bool),
    ("oom-score-adj", None, Value),
    ("os", None, Value),
    ("passwd", None, Bool),
    ("passwd-entry", None, Value),
    ("personality", None, Value),
    ("pid", None, Value),
    ("pidfile", None, Value),
    ("pids-limit", None, Value),
    ("platform", None, Value),
    ("pod", None, Value),
    ("pod-id-file", None, Value),
    ("preserve-fd", None, Value),
    ("preserve-fds", None, Value),
    ("privileged", None, Bool),
    ("publish", Some('p'), Value),
    ("publish-all", Some('P'), Bool),
    ("pull", None, Value),
    ("quiet", Some('q'), Bool),
    ("rdt-class", None, Value),
    ("read-only", None, Bool),
    ("read-only-tmpfs", None, Bool),
    ("replace", None, Bool),
    ("requires", None, Value),
    ("restart", None, Value),
    ("retry", None, Value),
    ("retry-delay", None, Value),
    ("rm", None, Bool),
    ("rmi", None, Bool),
    ("rootfs", None, Bool),
    ("runtime", None, Value),
    ("sdnotify", None, Value),
    ("seccomp-policy", None, Value),
    ("secret", None, Value),
    ("security-opt", None, Value),
    ("shm-size", None, Value),
    ("shm-size-systemd", None, Value),
    ("sig-proxy", None, Bool),
    ("stop-signal", None, Value),
    ("stop-timeout", None, Value),
    ("storage-opt", None, Value),
    ("subgidname", None, Value),
    ("subuidname", None, Value),
    ("sysctl", None, Value),
    ("systemd", None, Value),
    ("timeout", None, Value),
    ("tls-verify", None, Bool),
    ("tmpfs", None, Value),
    ("tty", Some('t'), Bool),
    ("tz", None, Value),
    ("uidmap", None, Value),
    ("ulimit", None, Value),
    ("umask", None, Value),
    ("unsetenv", None, Value),
    ("unsetenv-all", None, Bool),
    ("use-api-socket", None, Bool),
    ("user", Some('u'), Value),
    ("userns", None, Value),
    ("uts", None, Value),
    ("variant", None, Value),
    ("volume", Some('v'), Value),
    ("volume-driver", None, Value),
    ("volumes-from", None, Value),
    ("workdir", Some('w'), Value),
];

/// Alternative long names.
const ALIASES: &[(&str, &str)] = &[
    ("net", "network"),
    ("net-alias", "network-alias"),
    ("dns-opt", "dns-option"),
];

/// Global options of `docker` and `podman` that take a value (the others are booleans).
const GLOBAL_VALUE_FLAGS: &[&str] = &[
    "--config",
    "-c",
    "--context",
    "-H",
    "--host",
    "-l",
    "--log-level",
    "--tlscacert",
    "--tlscert",
    "--tlskey",
    "--cdi-spec-dir",
    "--cgroup-manager",
    "--conmon",
    "--connection",
    "--events-backend",
    "--hooks-dir",
    "--identity",
    "--imagestore",
    "--module",
    "--network-cmd-path",
    "--network-config-dir",
    "--out",
    "--root",
    "--runroot",
    "--runtime",
    "--runtime-flag",
    "--ssh",
    "--storage-driver",
    "--storage-opt",
    "--tmpdir",
    "--url",
    "--volumepath",
];

/// Commands that run the rest of the line as another command: name, options that take a value, and
/// how many operands come before the command.
const WRAPPERS: &[(&str, &[&str], usize)] = &[
    (
        "sudo",
        &[
            "-u", "-g", "-h", "-p", "-C", "-D", "-R", "-r", "-t", "-T", "-U",
        ],
        0,
    ),
    ("doas", &["-u", "-C"], 0),
    ("exec", &["-a"], 0),
    ("command", &[], 0),
    ("builtin", &[], 0),
    ("nohup", &[], 0),
    ("time", &[], 0),
    ("nice", &["-n"], 0),
    ("env", &["-u", "-C", "-S", "--unset", "--chdir"], 0),
    ("timeout", &["-s", "-k", "--signal", "--kill-after"], 1),
    ("stdbuf", &["-i", "-o", "-e"], 0),
];

/// Shell reserved words that can precede a command.
const KEYWORDS: &[&str] = &[
    "if", "then", "elif", "else", "do", "while", "until", "!", "{", "}",
];

fn long_flag(name: &str) -> Option<(&'static str, Arity)> {
    let name = ALIASES
        .iter()
        .find(|(alias, _)| *alias == name)
        .map_or(name, |(_, canonical)| canonical);
    FLAGS
        .iter()
        .find(|(long, _, _)| *long == name)
        .map(|&(long, _, arity)| (long, arity))
}

fn short_flag(letter: char) -> Option<(&'static str, Arity)> {
    FLAGS
        .iter()
        .find(|(_, short, _)| *short == Some(letter))
        .map(|&(long, _, arity)| (long, arity))
}

/// Whether the `docker run` (or `podman run`) flag `--name` takes a value; an unknown flag is taken
/// as a boolean, the reading that cannot swallow the image. Shared with `leastpriv verify`, which
/// splits the same command line given as arguments.
pub fn flag_takes_value(name: &str) -> bool {
    long_flag(name).is_some_and(|(_, arity)| arity == Value)
}

/// The long name of the one-letter flag `-letter` of `docker run` (or `podman run`).
pub fn shorthand(letter: char) -> Option<&'static str> {
    short_flag(letter).map(|(long, _)| long)
}

/// Whether the global option `option` of `docker` (or `podman`), before the subcommand, takes a
/// value.
pub fn global_option_takes_value(option: &str) -> bool {
    GLOBAL_VALUE_FLAGS.contains(&option)
}

/// Whether `word` is a shell variable assignment (`NAME=value`) rather than a program.
fn is_assignment(word: &Word) -> bool {
    let text = word.text();
    let Some((name, _)) = text.split_once('=') else {
        return false;
    };
    let name = name.strip_suffix('+').unwrap_or(name);
    !name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        && !word.range().is_empty()
        // `"A=b" cmd` runs a program named `A=b`: the name part must be unquoted.
        && word.source_range(0..name.len()).len() == name.len()
}

/// Index of the program word, after reserved words, assignments and wrappers (`sudo -E`, `exec`).
fn program_index(words: &[Word]) -> usize {
    let mut index = 0;
    while let Some(word) = words.get(index) {
        let text = word.text();
        if (!word.is_quoted() && KEYWORDS.contains(&text)) || is_assignment(word) {
            index += 1;
            continue;
        }
        let Some(&(_, value_flags, operands)) = WRAPPERS.iter().find(|(name, _, _)| *name == text)
        else {
            return index;
        };
        index += 1;
        while let Some(option) = words.get(index).map(Word::text) {
            if option == "--" {
                index += 1;
                break;
            }
            if !option.starts_with('-') || option.len() == 1 {
                break;
            }
            index += if value_flags.contains(&option) { 2 } else { 1 };
        }
        if text == "env" {
            while words.get(index).is_some_and(is_assignment) {
                index += 1;
            }
        }
        index += operands;
    }
    index
}

/// The `docker run`-like invocation of `words`, if it is one.
pub(crate) fn recognise(words: &[Word]) -> Option<Invocation<'_>> {
    let program_at = program_index(words);
    let program = words.get(program_at)?;
    let base = program.text().rsplit('/').next().unwrap_or_default();
    let engine = match base {
        "docker" => Engine::Docker,
        "podman" => Engine::Podman,
        _ => return None,
    };
    let mut index = program_at + 1;
    // Global options before the subcommand (`docker -H tcp://… run`).
    while let Some(option) = words.get(index).map(Word::text) {
        if !option.starts_with('-') {
            break;
        }
        let takes_value = global_option_takes_value(option) && !option.contains('=');
        index += if takes_value { 2 } else { 1 };
    }
    if words.get(index).map(Word::text) == Some("container") {
        index += 1;
    }
    let subcommand_word = words.get(index)?;
    let subcommand = match subcommand_word.text() {
        "run" => "run",
        "create" => "create",
        _ => return None,
    };
    let head = program.range().cover(subcommand_word.range());
    let (flags, image, command) = parse_arguments(words.get(index + 1..).unwrap_or_default());
    Some(Invocation {
        engine,
        subcommand,
        head,
        flags,
        image,
        command,
    })
}

/// A word that is one whole expansion of a variable whose name says it holds options
/// (`$DOCKER_OPTS`, `"${ARGS[@]}"`, `"$@"`): it expands to flags, not to the image.
fn is_expanded_options(word: &Word) -> bool {
    if !word.expands() {
        return false;
    }
    let text = word.text();
    let Some(name) = text
        .strip_prefix("${")
        .and_then(|rest| rest.strip_suffix('}'))
        .or_else(|| text.strip_prefix('$'))
    else {
        return false;
    };
    if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'@' | b'*' | b'[' | b']'))
    {
        return false;
    }
    let upper = name.to_ascii_uppercase();
    matches!(name, "@" | "*")
        || upper.ends_with("[@]")
        || upper.ends_with("[*]")
        || ["OPT", "ARG", "FLAG", "PARAM", "EXTRA"]
            .iter()
            .any(|hint| upper.contains(hint))
}

/// The flags, the image and the command of a `run`'s arguments.
type Arguments<'a> = (Vec<Flag<'a>>, Option<&'a Word>, &'a [Word]);

/// Splits the arguments after the subcommand into flags, the image and the command after it.
fn parse_arguments(words: &[Word]) -> Arguments<'_> {
    let mut flags = Vec::new();
    let mut index = 0;
    while let Some(word) = words.get(index) {
        let text = word.text();
        index += 1;
        if text == "--" {
            let command = words.get(index + 1..).unwrap_or_default();
            return (flags, words.get(index), command);
        }
        if let Some(body) = text.strip_prefix("--").filter(|body| !body.is_empty()) {
            let (name, inline) = match body.split_once('=') {
                Some((name, _)) => (name, Some(2 + name.len() + 1)),
                None => (body, None),
            };
            let Some((canonical, arity)) = long_flag(name) else {
                // Unknown: taken as a boolean, the reading that cannot swallow the image.
                continue;
            };
            let value = match (arity, inline) {
                (_, Some(from)) => Some(FlagValue { word, from }),
                (Value, None) => {
                    let next = words.get(index).map(|word| FlagValue { word, from: 0 });
                    index += 1;
                    next
                }
                (Bool, None) => None,
            };
            flags.push(Flag {
                name: canonical,
                range: word.source_range(0..2 + name.len()),
                value,
            });
        } else if text.len() > 1 && text.starts_with('-') {
            for (at, letter) in text.char_indices().skip(1) {
                let Some((canonical, arity)) = short_flag(letter) else {
                    continue;
                };
                let range = word.source_range(if at == 1 { 0 } else { at }..at + letter.len_utf8());
                if arity == Bool {
                    flags.push(Flag {
                        name: canonical,
                        range,
                        value: None,
                    });
                    continue;
                }
                let rest = at + letter.len_utf8();
                let value = if rest < text.len() {
                    let from = if text[rest..].starts_with('=') {
                        rest + 1
                    } else {
                        rest
                    };
                    Some(FlagValue { word, from })
                } else {
                    let next = words.get(index).map(|word| FlagValue { word, from: 0 });
                    index += 1;
                    next
                };
                flags.push(Flag {
                    name: canonical,
                    range,
                    value,
                });
                break;
            }
        } else if is_expanded_options(word) {
            continue;
        } else {
            return (flags, Some(word), words.get(index..).unwrap_or_default());
        }
    }
    (flags, None, &[])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::docker_run::shell::scan_commands;

    fn parse(text: &str) -> Vec<String> {
        let mut rendered = Vec::new();
        scan_commands(text, &mut |command| {
            let Some(invocation) = recognise(&command.words) else {
                return;
            };
            let mut line = format!("{} {}:", invocation.engine.name(), invocation.subcommand);
            for flag in &invocation.flags {
                line.push_str(&format!(" {}", flag.name));
                if let Some(value) = flag.value {
                    line.push_str(&format!("={}", value.text()));
                }
            }
            line.push_str(&format!(
                " | {}",
                invocation.image.map_or("<none>", Word::text)
            ));
            rendered.push(line);
        });
        rendered
    }

    #[test]
    fn finds_every_form_of_the_command() {
        assert_eq!(
            parse(
                "docker run a\ndocker container create b\nsudo -E -u root docker run c\n\
                 exec /usr/bin/podman run d\nFOO=1 env -i X=2 docker -H tcp://h:2375 run e\n\
                 if docker run f; then :; fi\ndocker ps\necho docker run g\ndocker build ."
            ),
            [
                "docker run: | a",
                "docker create: | b",
                "docker run: | c",
                "podman run: | d",
                "docker run: | e",
                "docker run: | f",
            ]
        );
    }

    #[test]
    fn splits_flags_like_pflag() {
        assert_eq!(
            parse("docker run -it --rm -u 0 -p80:80 -e=A=1 --cap-add=SYS_ADMIN --name web -v /a:/b img cmd -u x"),
            ["docker run: interactive tty rm user=0 publish=80:80 env=A=1 cap-add=SYS_ADMIN name=web volume=/a:/b | img"]
        );
        assert_eq!(
            parse("docker run -itu0 --privileged=false --unknown-flag -- img"),
            ["docker run: interactive tty user=0 privileged=false | img"]
        );
        assert_eq!(
            parse("docker run $DOCKER_OPTS \"$@\" --rm \"$IMAGE\""),
            ["docker run: rm | $IMAGE"]
        );
        assert_eq!(parse("docker run --rm"), ["docker run: rm | <none>"]);
    }

    #[test]
    fn flag_spans_point_at_the_flag_and_its_value() {
        let text = "docker run -itu 0 --cap-add=NET_ADMIN img";
        let mut checked = false;
        scan_commands(text, &mut |command| {
            let invocation = recognise(&command.words).unwrap();
            let user = &invocation.flags[2];
            assert_eq!(&text[user.range.to_range()], "u");
            assert_eq!(&text[user.value.unwrap().range().to_range()], "0");
            let cap = &invocation.flags[3];
            assert_eq!(&text[cap.range.to_range()], "--cap-add");
            assert_eq!(&text[cap.value.unwrap().range().to_range()], "NET_ADMIN");
            assert_eq!(&text[invocation.head.to_range()], "docker run");
            checked = true;
        });
        assert!(checked);
    }
}
