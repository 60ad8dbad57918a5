//! A container engine run inside a container (Docker-in-Docker) is a daemon too.
//!
//! A Compose service, a Kubernetes container or a `docker run` line that runs `dockerd` configures
//! that daemon where it is written: its command line, and for Docker's official `docker:dind`
//! image its environment. [`daemons`] lowers each such container's engine into a [`Daemon`] whose
//! configuration points into that very text, so the `daemon` layer's rules (an API on TCP without
//! TLS, an insecure registry …) judge it as they judge a `daemon.json`, at the line that sets it.
//!
//! What the official image does (docker-library/docker, `dockerd-entrypoint.sh`): with no command,
//! or a command that starts with a flag, it runs `dockerd --host=unix:///var/run/docker.sock` plus
//! `--host=tcp://0.0.0.0:2376 --tlsverify` and generated certificates when `DOCKER_TLS_CERTDIR` is
//! set (the image sets `/certs` since 19.03), or `--host=tcp://0.0.0.0:2375` without TLS when it is
//! empty or, before 19.03, always; then the command's own flags. A command that names `dockerd`
//! runs it with exactly its flags. The configuration is never
//! [`complete`](leastpriv_model::DaemonConfig::complete): a `daemon.json` inside the image is out of
//! view, so only what is set is judged.

use leastpriv_model::{Container, Daemon, EnvVar, Spanned, TextRange};

use crate::daemon_json::flags;

/// The engines the containers run, one daemon per container that runs one.
pub(crate) fn daemons(containers: &[Container]) -> Vec<Daemon> {
    containers.iter().filter_map(daemon).collect()
}

/// The engine `container` runs, if it runs one.
fn daemon(container: &Container) -> Option<Daemon> {
    let runtime = container.runtime.as_ref()?;
    let dind = runtime
        .image
        .as_ref()
        .and_then(|image| official_dind(&image.value));
    // `--entrypoint ""` resets the image's entrypoint: the command then runs itself.
    let entrypoint: Option<Vec<&Spanned<String>>> = runtime
        .entrypoint
        .as_ref()
        .map(|words| words.iter().filter(|word| !word.value.is_empty()).collect());
    let argv: Vec<&Spanned<String>> = match &entrypoint {
        Some(entrypoint) => entrypoint.iter().copied().chain(&runtime.command).collect(),
        None => runtime.command.iter().collect(),
    };
    let names_dockerd = argv
        .first()
        .is_some_and(|program| base_name(&program.value) == "dockerd");
    // The image's own entrypoint script, kept or named explicitly.
    let through_entrypoint = dind.is_some()
        && match &entrypoint {
            None => true,
            Some(entrypoint) => entrypoint
                .first()
                .is_some_and(|program| base_name(&program.value) == "dockerd-entrypoint.sh"),
        };
    let mut config = if names_dockerd {
        let anchor = argv[0].span;
        let arguments: Vec<Spanned<String>> = argv[1..].iter().map(|&arg| arg.clone()).collect();
        flags::parse(&arguments, anchor).config
    } else if through_entrypoint {
        // `entrypoint: [dockerd-entrypoint.sh, …]`: its own arguments come first.
        let script_arguments = entrypoint.as_deref().map_or(&[][..], |words| &words[1..]);
        let arguments: Vec<Spanned<String>> = script_arguments
            .iter()
            .copied()
            .chain(&runtime.command)
            .cloned()
            .collect();
        match arguments.first() {
            Some(first) if base_name(&first.value) == "dockerd" => {
                flags::parse(&arguments[1..], first.span).config
            }
            // Another program (`sh`, `docker`): the script runs it instead of an engine.
            Some(first) if !first.value.starts_with('-') => return None,
            _ => {
                let anchor = runtime
                    .image
                    .as_ref()
                    .map_or(container.origin, |image| image.span);
                let mut config = flags::parse(&arguments, anchor).config;
                let tls_dir = runtime
                    .environment
                    .iter()
                    .find(|variable| variable.name.value == "DOCKER_TLS_CERTDIR");
                if let Some(listener) = entrypoint_listener(tls_dir, dind == Some(Tls::Default)) {
                    let span = tls_dir.map_or(anchor, |variable| variable.name.span);
                    let verify = listener.ends_with(":2376");
                    config
                        .hosts
                        .insert(0, Spanned::new(listener.to_owned(), span));
                    if verify && config.tls_verify.is_none() {
                        config.tls_verify = Some(Spanned::new(true, span));
                    }
                }
                config
            }
        }
    } else {
        return None;
    };
    config.complete = false;
    config.in_container = true;
    Some(Daemon {
        name: format!("{} (its container engine)", container.name),
        config: Some(config),
        state: None,
    })
}

/// Whether an official `docker:*dind*` image sets up TLS by default.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tls {
    /// 19.03 and later: `DOCKER_TLS_CERTDIR=/certs` in the image.
    Default,
    /// Before 19.03: plain TCP unless configured.
    Never,
}

/// The TLS default of an official Docker-in-Docker image reference (`docker:dind`,
/// `docker:27-dind-rootless`, `docker.io/library/docker:18.09-dind`), or `None` for any other image.
fn official_dind(reference: &str) -> Option<Tls> {
    let reference = reference.trim();
    let reference = reference.split('@').next().unwrap_or(reference);
    let (name, tag) = match reference.rsplit_once(':') {
        Some((name, tag)) if !tag.contains('/') => (name, tag),
        _ => (reference, "latest"),
    };
    let name = name
        .strip_prefix("docker.io/")
        .or_else(|| name.strip_prefix("index.docker.io/"))
        .unwrap_or(name);
    let name = name.strip_prefix("library/").unwrap_or(name);
    if name != "docker" || !tag.contains("dind") {
        return None;
    }
    let version: Vec<u32> = tag
        .split(['.', '-'])
        .map_while(|part| part.parse().ok())
        .collect();
    let before_tls = matches!(version.as_slice(), [major, ..] if *major < 19)
        || matches!(version.as_slice(), [19, minor, ..] if *minor < 3);
    Some(if before_tls { Tls::Never } else { Tls::Default })
}

/// The TCP listener the official image's entrypoint adds, given `DOCKER_TLS_CERTDIR` as written
/// (absent, empty, a directory or not known here) and whether the image sets it by default.
fn entrypoint_listener(tls_dir: Option<&EnvVar>, image_sets_it: bool) -> Option<&'static str> {
    let with_tls = match tls_dir {
        Some(variable) => match &variable.value {
            Some(value) => !value.value.expose().is_empty(),
            // Set from elsewhere (`DOCKER_TLS_CERTDIR: ${CERTS}`, `-e DOCKER_TLS_CERTDIR`): unknown.
            None => return None,
        },
        None => image_sets_it,
    };
    Some(if with_tls {
        "tcp://0.0.0.0:2376"
    } else {
        "tcp://0.0.0.0:2375"
    })
}

fn base_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// A command string split into words as a shell (and Compose) splits it: at unquoted blanks, with
/// `'…'`, `"…"` and `\x` quoting removed; each word with the range it was written on.
pub(crate) fn split_words(text: &str) -> Vec<(String, TextRange)> {
    let mut words = Vec::new();
    let mut current: Option<(String, usize)> = None;
    let mut quote: Option<char> = None;
    let mut chars = text.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        match (quote, c) {
            (None, c) if c.is_whitespace() => {
                if let Some((word, start)) = current.take() {
                    words.push((word, TextRange::new(start, at)));
                }
                continue;
            }
            (None, '\'' | '"') => {
                quote = Some(c);
                current.get_or_insert_with(|| (String::new(), at));
            }
            (Some(open), c) if c == open => quote = None,
            (None, '\\') | (Some('"'), '\\') => {
                let word = current.get_or_insert_with(|| (String::new(), at));
                if let Some((_, escaped)) = chars.next() {
                    word.0.push(escaped);
                }
            }
            (_, c) => current.get_or_insert_with(|| (String::new(), at)).0.push(c),
        }
    }
    if let Some((word, start)) = current {
        words.push((word, TextRange::new(start, text.len())));
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_words_as_a_shell_does() {
        let words: Vec<_> = split_words(r#"dockerd  --host="tcp://0.0.0.0:2375" 'a b' c\ d"#)
            .into_iter()
            .map(|(word, range)| (word, range.start, range.end))
            .collect();
        assert_eq!(
            words,
            [
                ("dockerd".to_owned(), 0, 7),
                ("--host=tcp://0.0.0.0:2375".to_owned(), 9, 36),
                ("a b".to_owned(), 37, 42),
                ("c d".to_owned(), 43, 47),
            ]
        );
    }

    #[test]
    fn knows_the_official_dind_images() {
        assert_eq!(official_dind("docker:dind"), Some(Tls::Default));
        assert_eq!(
            official_dind("docker:27.3-dind-rootless"),
            Some(Tls::Default)
        );
        assert_eq!(
            official_dind("docker.io/library/docker:18.09-dind"),
            Some(Tls::Never)
        );
        assert_eq!(official_dind("docker:19.03.0-dind"), Some(Tls::Default));
        assert_eq!(official_dind("docker:19.02-dind"), Some(Tls::Never));
        assert_eq!(official_dind("docker:27-cli"), None);
        assert_eq!(official_dind("example/docker:dind"), None);
        assert_eq!(official_dind("localhost:5000/docker"), None);
    }
}
