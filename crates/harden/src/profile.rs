//! Workload profiles given with `--profile`: what one workload was seen to need, and which
//! containers it describes.

use std::path::{Path, PathBuf};

use leastpriv_model::{Container, Runtime, WorkloadProfile};

/// A profile read from a file, with where it was read (its seccomp file is beside it).
#[derive(Clone, Debug)]
pub struct Profile {
    /// The file it was read from.
    pub path: PathBuf,
    /// What it says.
    pub profile: WorkloadProfile,
}

impl Profile {
    /// Reads a profile written by `leastpriv profile` (JSON, [`WorkloadProfile`]).
    pub fn read(path: &Path) -> Result<Self, String> {
        let text = leastpriv_source::read::read_named(path, 16 << 20)
            .and_then(leastpriv_source::read::decode)
            .map_err(|error| format!("{}: {error}", path.display()))?;
        let profile: WorkloadProfile = serde_json::from_str(&text).map_err(|error| {
            format!(
                "{}:{}:{}: not a leastpriv profile: {}",
                path.display(),
                error.line(),
                error.column(),
                without_position(&error)
            )
        })?;
        Ok(Self {
            path: path.to_path_buf(),
            profile,
        })
    }

    /// The seccomp profile written beside it, as a path from the directory `from` (the directory
    /// of the file that will reference it), when the profile has one.
    pub fn seccomp_file_from(&self, from: &Path) -> Option<String> {
        let name = self.profile.seccomp_profile.as_deref()?;
        let dir = self.path.parent().unwrap_or(Path::new(""));
        Some(relative(&dir.join(name), from))
    }

    /// Whether this profile describes `container`: the Compose service it was recorded for, else
    /// the image it ran, else (a profile that names neither) every container.
    pub fn describes(&self, container: &Container, image: Option<&str>) -> bool {
        let run = &self.profile.run;
        match (&run.service, &run.image) {
            (Some(service), _) => container.name == *service,
            (None, Some(recorded)) => image == Some(recorded.as_str()),
            (None, None) => true,
        }
    }

    /// Whether the recorder observed `fact` (`capabilities`, `written_paths`, `ports`): an empty list
    /// of a fact it could not observe means "unknown", not "none".
    pub fn observed(&self, fact: &str) -> bool {
        !self
            .profile
            .run
            .not_observed
            .iter()
            .any(|missing| missing == fact)
    }
}

/// The capabilities a container gets back after `ALL` is dropped (names without `CAP_`, sorted),
/// and why: those `profile` saw it use when its recorder observed capabilities, else
/// `NET_BIND_SERVICE` when it listens on a port below 1024, else none. One rule for every fixer.
pub fn needed_capabilities(
    profile: Option<&Profile>,
    runtime: Option<&Runtime>,
) -> (Vec<String>, String) {
    if let Some(profile) = profile.filter(|profile| profile.observed("capabilities")) {
        let mut names: Vec<String> = profile
            .profile
            .capabilities
            .iter()
            .map(|name| name.trim_start_matches("CAP_").to_ascii_uppercase())
            .collect();
        names.sort();
        names.dedup();
        return (
            names,
            format!("the capabilities {} recorded", profile.path.display()),
        );
    }
    let low_port = runtime.is_some_and(|runtime| {
        runtime.ports.iter().any(|port| {
            port.value
                .container_port
                .is_some_and(|number| number > 0 && number < 1024)
        })
    });
    if low_port {
        (
            vec!["NET_BIND_SERVICE".to_owned()],
            "it listens on a port below 1024".to_owned(),
        )
    } else {
        (Vec::new(), "no profile says it needs any".to_owned())
    }
}

/// The profile whose recorded workload is `container`, if any (the first one given wins).
pub fn profile_for<'p>(
    profiles: &'p [Profile],
    container: &Container,
    image: Option<&str>,
) -> Option<&'p Profile> {
    profiles
        .iter()
        .find(|profile| profile.describes(container, image))
}

/// The indices of the `profiles` that describe one of `containers` (by its service name or the
/// image it runs): a profile that describes none was given for nothing, which the user is told.
pub fn used_profiles<'c>(
    profiles: &[Profile],
    containers: impl IntoIterator<Item = &'c Container>,
) -> Vec<usize> {
    let mut used = Vec::new();
    for container in containers {
        let image = container
            .runtime
            .as_ref()
            .and_then(|runtime| runtime.image.as_ref())
            .map(|image| image.value.as_str());
        if let Some(index) = profiles
            .iter()
            .position(|profile| profile.describes(container, image))
        {
            if !used.contains(&index) {
                used.push(index);
            }
        }
    }
    used.sort_unstable();
    used
}

/// serde_json's message without its trailing "at line L column C" (the position is printed first).
fn without_position(error: &serde_json::Error) -> String {
    let message = error.to_string();
    match message.rfind(" at line ") {
        Some(at) => message[..at].to_owned(),
        None => message,
    }
}

/// `target` as a path from the directory `from`, both taken as given (absolute or relative to the
/// working directory): `../profiles/web.seccomp.json`. `./`-prefixed when in `from` itself, as
/// Compose writes relative paths.
fn relative(target: &Path, from: &Path) -> String {
    let absolute = |path: &Path| {
        let path = if path.as_os_str().is_empty() {
            Path::new(".")
        } else {
            path
        };
        std::path::absolute(path)
            .unwrap_or_else(|_| path.to_path_buf())
            .components()
            .collect::<Vec<_>>()
            .into_iter()
            .fold(PathBuf::new(), |mut path, component| {
                match component {
                    std::path::Component::ParentDir => {
                        path.pop();
                    }
                    std::path::Component::CurDir => {}
                    other => path.push(other),
                }
                path
            })
    };
    let (target, from) = (absolute(target), absolute(from));
    let common = target
        .components()
        .zip(from.components())
        .take_while(|(a, b)| a == b)
        .count();
    let mut path = PathBuf::new();
    for _ in from.components().skip(common) {
        path.push("..");
    }
    for component in target.components().skip(common) {
        path.push(component);
    }
    let path = path.display().to_string();
    if path.starts_with("..") {
        path
    } else {
        format!("./{path}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_between_directories() {
        assert_eq!(
            relative(Path::new("/a/b/web.json"), Path::new("/a/b")),
            "./web.json"
        );
        assert_eq!(
            relative(Path::new("/a/p/web.json"), Path::new("/a/b/c")),
            "../../p/web.json"
        );
        assert_eq!(
            relative(Path::new("/a/b/./x/../web.json"), Path::new("/a/b")),
            "./web.json"
        );
        assert_eq!(relative(Path::new("web.json"), Path::new("")), "./web.json");
    }

    #[test]
    fn a_file_that_is_not_a_profile_is_a_located_error() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let path = dir.path().join("p.json");
        std::fs::write(&path, "{\n  \"schema\": \"one\"\n}\n").expect("write");
        let error = Profile::read(&path).unwrap_err();
        assert!(error.contains("p.json:2:"), "{error}");
        assert!(error.contains("not a leastpriv profile"), "{error}");
    }
}
