//! The user's `docker run` command line: split into flags, image and command the way the CLI's flag
//! parser does, and rewritten into the command that runs the probe instead of the service.
//!
//! The rewrite keeps every flag that shapes privileges (user, capabilities, seccomp, AppArmor,
//! no-new-privileges, read-only, mounts, namespaces, devices, sysctls, env) exactly as written, and
//! changes only what would stop the probe from running once and printing its report:
//! - `--entrypoint` becomes the bind-mounted probe, and the image's command is replaced by
//!   `probe --format json`; the image's `USER` still applies, since only `--user` overrides it;
//! - `-d`, `-i`, `-t`, `-a`, `--rm`, `--name`, `--restart`, `--cidfile`, `--detach-keys`,
//!   `--sig-proxy` are dropped and `--rm --name <unique>` added, so the container is removed even when
//!   the probe is killed, and no name clashes with a running service;
//! - `-p`/`-P` are dropped: the probe listens on nothing, and a published port already in use by the
//!   service would stop the container from starting. Published ports do not change privileges.
//! - `docker create` becomes `docker run`.
//!
//! Flags that take a value must be known to find the image: the `docker_run` front-end's flag table
//! (`docker run` of Docker 28) says which, so the audit and verify split a command line alike. An
//! unknown flag is read as a boolean, the reading that cannot swallow the image; `--flag=value` is
//! always read correctly.

use leastpriv_frontend::docker_run;

use crate::VerifyError;

/// Where the probe binary is mounted in the container.
pub const PROBE_PATH: &str = "/.leastpriv/leastpriv";

/// Flags that shape how the CLI attaches to, names, keeps or restarts a container rather than what it
/// may do: any run leastpriv makes of the user's line (the probe's, a profile's) replaces them.
pub const RUN_CONTROL_FLAGS: &[&str] = &[
    "detach",
    "interactive",
    "tty",
    "attach",
    "rm",
    "name",
    "restart",
    "cidfile",
    "detach-keys",
    "sig-proxy",
];

/// Flags the probe's run also drops (see the module documentation).
const PROBE_DROPPED: &[&str] = &["publish", "publish-all", "entrypoint"];

/// Whether the probe's run drops this flag.
fn dropped(name: &str) -> bool {
    RUN_CONTROL_FLAGS.contains(&name) || PROBE_DROPPED.contains(&name)
}

/// One flag, as written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Flag {
    /// The long name without dashes.
    pub name: String,
    /// Its value, for flags that take one.
    pub value: Option<String>,
}

/// A parsed `docker run` (or `docker create`, `docker container run`) command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunCommand {
    /// `docker` (the program as written, which may be a path).
    pub program: String,
    /// Global options before the subcommand (`--context x`, `-H host`).
    pub global: Vec<String>,
    /// The flags, in order.
    pub flags: Vec<Flag>,
    /// The image.
    pub image: String,
    /// The command after the image (the probe replaces it).
    pub command: Vec<String>,
}

impl RunCommand {
    /// Parses `docker [global options] run|create|container run|container create FLAGS IMAGE [CMD]`.
    pub fn parse(argv: &[String]) -> Result<Self, VerifyError> {
        let mut words = argv.iter().peekable();
        let program = words
            .next()
            .ok_or_else(|| VerifyError::Usage("expected `docker run …` after `--`".into()))?
            .clone();
        let base = program.rsplit('/').next().unwrap_or(&program);
        if base == "podman" {
            // Podman's `info` and defaults differ; judging them as Docker's would mislead.
            return Err(VerifyError::Usage(
                "verify drives the docker CLI; podman is not supported yet".into(),
            ));
        }
        if base != "docker" {
            return Err(VerifyError::Usage(format!(
                "expected `docker run …` after `--`, found `{program}`"
            )));
        }
        let mut global = Vec::new();
        while let Some(word) = words.next_if(|word| word.starts_with('-')) {
            global.push(word.clone());
            if docker_run::global_option_takes_value(word) {
                global.extend(words.next().cloned());
            }
        }
        let mut subcommand = words.next().map(String::as_str);
        if subcommand == Some("container") {
            subcommand = words.next().map(String::as_str);
        }
        if !matches!(subcommand, Some("run" | "create")) {
            return Err(VerifyError::Usage(format!(
                "expected `{program} run …`: verify runs the image with your flags"
            )));
        }

        let mut flags = Vec::new();
        let mut image = None;
        while let Some(word) = words.next() {
            if word == "--" {
                image = words.next().cloned();
                break;
            }
            if let Some(long) = word.strip_prefix("--") {
                let (name, inline) = match long.split_once('=') {
                    Some((name, value)) => (name, Some(value.to_owned())),
                    None => (long, None),
                };
                let value = match inline {
                    Some(value) => Some(value),
                    None if docker_run::flag_takes_value(name) => {
                        Some(words.next().cloned().ok_or_else(|| {
                            VerifyError::Usage(format!("flag --{name} needs a value"))
                        })?)
                    }
                    None => None,
                };
                flags.push(Flag {
                    name: name.to_owned(),
                    value,
                });
            } else if let Some(cluster) = word.strip_prefix('-').filter(|c| !c.is_empty()) {
                // `-it`, `-u1000`, `-v /a:/b`: letters until one that takes a value.
                for (index, letter) in cluster.char_indices() {
                    let name = docker_run::shorthand(letter).ok_or_else(|| {
                        VerifyError::Usage(format!("unknown flag -{letter} in `{word}`"))
                    })?;
                    if docker_run::flag_takes_value(name) {
                        let rest = &cluster[index + letter.len_utf8()..];
                        let rest = rest.strip_prefix('=').unwrap_or(rest);
                        let value = if rest.is_empty() {
                            words.next().cloned().ok_or_else(|| {
                                VerifyError::Usage(format!("flag -{letter} needs a value"))
                            })?
                        } else {
                            rest.to_owned()
                        };
                        flags.push(Flag {
                            name: name.to_owned(),
                            value: Some(value),
                        });
                        break;
                    }
                    flags.push(Flag {
                        name: name.to_owned(),
                        value: None,
                    });
                }
            } else {
                image = Some(word.clone());
                break;
            }
        }
        let image = image.ok_or_else(|| VerifyError::Usage("no image in the command".into()))?;
        Ok(Self {
            program,
            global,
            flags,
            image,
            command: words.cloned().collect(),
        })
    }

    /// The values of a flag, in order.
    pub fn values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.flags
            .iter()
            .filter(move |flag| flag.name == name)
            .filter_map(|flag| flag.value.as_deref())
    }

    /// Whether a boolean flag is set (`--read-only`, `--read-only=true`).
    pub fn is_set(&self, name: &str) -> bool {
        self.flags.iter().any(|flag| {
            flag.name == name && flag.value.as_deref().is_none_or(|value| value != "false")
        })
    }

    /// The flags as a shell line, for the docker_run front-end (`docker run FLAGS IMAGE`).
    pub fn as_script(&self) -> String {
        let mut words = vec!["docker".to_owned(), "run".to_owned()];
        for flag in &self.flags {
            match &flag.value {
                Some(value) => words.push(format!("--{}={value}", flag.name)),
                None => words.push(format!("--{}", flag.name)),
            }
        }
        words.push(self.image.clone());
        let quoted: Vec<String> = words.iter().map(|word| shell_quote(word)).collect();
        format!("{}\n", quoted.join(" "))
    }

    /// The argv that runs the probe in place of the service: same program, global options and
    /// privilege-shaping flags; see the module documentation for what changes.
    pub fn probe_argv(&self, probe_binary: &str, container_name: &str) -> Vec<String> {
        let mut argv = vec![self.program.clone()];
        argv.extend(self.global.iter().cloned());
        argv.push("run".to_owned());
        for flag in &self.flags {
            if dropped(&flag.name) {
                continue;
            }
            match &flag.value {
                Some(value) => argv.push(format!("--{}={value}", flag.name)),
                None => argv.push(format!("--{}", flag.name)),
            }
        }
        argv.extend([
            "--rm".to_owned(),
            format!("--name={container_name}"),
            // --mount, not -v: -v would create a directory on the host if the file were missing.
            format!("--mount=type=bind,source={probe_binary},target={PROBE_PATH},readonly"),
            format!("--entrypoint={PROBE_PATH}"),
            self.image.clone(),
            "probe".to_owned(),
            "--format".to_owned(),
            "json".to_owned(),
        ]);
        argv
    }

    /// Flags the probe's run leaves out, for the report.
    pub fn dropped_flags(&self) -> Vec<String> {
        self.flags
            .iter()
            .filter(|flag| dropped(&flag.name))
            .map(|flag| format!("--{}", flag.name))
            .collect()
    }
}

/// Quotes a word for a POSIX shell.
pub fn shell_quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./:=,@+%".contains(&b));
    if plain {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(line: &str) -> Vec<String> {
        line.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn splits_flags_image_and_command() {
        let command = RunCommand::parse(&argv(
            "docker run -d --rm -it -u 1000:1000 --cap-drop=ALL -v /a:/b:ro --read-only \
             --security-opt no-new-privileges --name web -p 80:80 nginx:1 nginx -g x",
        ))
        .expect("parses");
        assert_eq!(command.image, "nginx:1");
        assert_eq!(command.command, argv("nginx -g x"));
        assert_eq!(
            command.values("user").collect::<Vec<_>>(),
            vec!["1000:1000"]
        );
        assert_eq!(command.values("cap-drop").collect::<Vec<_>>(), vec!["ALL"]);
        assert!(command.is_set("read-only"));
        assert!(command.is_set("tty") && command.is_set("interactive"));
        let probe = command.probe_argv("/bin/lp", "lp-verify-1");
        assert_eq!(
            probe,
            argv(
                "docker run --user=1000:1000 --cap-drop=ALL --volume=/a:/b:ro --read-only \
                 --security-opt=no-new-privileges --rm --name=lp-verify-1 \
                 --mount=type=bind,source=/bin/lp,target=/.leastpriv/leastpriv,readonly \
                 --entrypoint=/.leastpriv/leastpriv nginx:1 \
                 probe --format json"
            )
        );
        assert_eq!(
            command.dropped_flags(),
            argv("--detach --rm --interactive --tty --name --publish")
        );
    }

    #[test]
    fn global_options_and_container_create() {
        let command = RunCommand::parse(&argv(
            "docker --context prod container create -uapp -- busybox",
        ))
        .expect("parses");
        assert_eq!(command.global, argv("--context prod"));
        assert_eq!(command.values("user").collect::<Vec<_>>(), vec!["app"]);
        assert_eq!(command.image, "busybox");
        assert_eq!(
            command.probe_argv("/p", "n")[..4],
            argv("docker --context prod run")[..]
        );
    }

    #[test]
    fn rejects_what_is_not_a_run() {
        for line in [
            "docker ps",
            "kubectl run x",
            "docker run -d",
            "docker run --user",
        ] {
            assert!(RunCommand::parse(&argv(line)).is_err(), "{line}");
        }
        assert!(RunCommand::parse(&[]).is_err());
    }

    #[test]
    fn the_script_keeps_values_whole() {
        let command = RunCommand::parse(&[
            "docker".into(),
            "run".into(),
            "-e".into(),
            "GREETING=it's here".into(),
            "img".into(),
        ])
        .expect("parses");
        assert_eq!(
            command.as_script(),
            "docker run '--env=GREETING=it'\\''s here' img\n"
        );
    }
}
