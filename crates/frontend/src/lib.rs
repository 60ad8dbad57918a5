//! Front-ends: each parses one kind of source into [`leastpriv_model::Container`]s.
//!
//! Every front-end has the same shape: the text is parsed once into a syntax tree with byte spans, then
//! semantic steps (variable expansion, stages, merges) run over it, and `lower` builds the model. A
//! front-end never judges; the rules do. Errors in the input become located [`InputError`]s and never
//! panics; whatever could still be lowered is.
//!
//! [`detect`] decides which front-end reads a file: by its name first, by its content when the name does
//! not tell (a file named explicitly on the command line).

pub mod compose;
pub mod docker_run;
pub mod dockerfile;
pub mod inspect;
pub mod kubernetes;
pub mod yaml;

use std::collections::BTreeMap;
use std::path::Path;

use leastpriv_model::Container;
use leastpriv_source::{FileId, InputError, SourceDb};

/// The kinds of input leastpriv reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum InputKind {
    /// A Dockerfile or Containerfile.
    Dockerfile,
    /// A Compose file.
    Compose,
    /// Kubernetes manifests (YAML or JSON, one or more documents, or a `List`).
    Kubernetes,
    /// A shell script holding `docker run` commands.
    ShellScript,
    /// `docker inspect` output.
    DockerInspect,
}

/// Options that change how sources are read.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// The Dockerfile stage that becomes the image (`--target`); the last stage when `None`.
    pub target: Option<String>,
    /// Build arguments (`--build-arg NAME=value`), overriding `ARG` defaults.
    pub build_args: BTreeMap<String, String>,
    /// The environment Compose files are interpolated from; `None` reads the process environment.
    /// Tests and embedders set it for reproducible results.
    pub env: Option<BTreeMap<String, String>>,
}

/// What a front-end made of one file.
#[derive(Debug, Default)]
pub struct Lowered {
    /// The containers it describes.
    pub containers: Vec<Container>,
    /// What could not be read, each located.
    pub errors: Vec<InputError>,
}

/// The kind of a file by its name alone, as a directory walk finds it.
pub fn detect_by_name(path: &Path) -> Option<InputKind> {
    let name = path.file_name()?.to_str()?.to_ascii_lowercase();
    let is_dockerfile = matches!(name.as_str(), "dockerfile" | "containerfile")
        || name.starts_with("dockerfile.")
        || name.starts_with("containerfile.")
        || name.ends_with(".dockerfile")
        || name.ends_with(".containerfile")
        // `Dockerfile-alpine`, `Dockerfile_arm`: common, as long as the extension is not another
        // format's (`Dockerfile-notes.md`).
        || ((name.starts_with("dockerfile-") || name.starts_with("dockerfile_"))
            && !has_other_extension(&name));
    if is_dockerfile && !name.ends_with(".dockerignore") {
        return Some(InputKind::Dockerfile);
    }
    compose::is_compose_file_name(&name).then_some(InputKind::Compose)
}

/// Whether a name ends with the extension of a format that is not a Dockerfile.
fn has_other_extension(name: &str) -> bool {
    const OTHER: [&str; 14] = [
        "md", "txt", "yml", "yaml", "json", "toml", "sh", "py", "rst", "adoc", "html", "orig",
        "bak", "swp",
    ];
    name.rsplit_once('.')
        .is_some_and(|(_, extension)| OTHER.contains(&extension))
}

/// The kind of a file by its content, for a file named explicitly whose name does not tell.
pub fn detect_by_content(text: &str) -> Option<InputKind> {
    if dockerfile::looks_like_dockerfile(text) {
        return Some(InputKind::Dockerfile);
    }
    compose::looks_like_compose(text).then_some(InputKind::Compose)
}

/// Reads `file` (already in `db`) as `kind`.
pub fn lower(db: &SourceDb, file: FileId, kind: InputKind, options: &Options) -> Lowered {
    match kind {
        InputKind::Dockerfile => dockerfile::lower(db, file, options),
        InputKind::Compose => compose::lower(db, file, options),
        InputKind::Kubernetes => kubernetes::lower(db, file, options),
        InputKind::ShellScript => docker_run::lower(db, file, options),
        InputKind::DockerInspect => inspect::lower(db, file, options),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_dockerfile_names() {
        for name in [
            "Dockerfile",
            "dockerfile",
            "Dockerfile.prod",
            "web.Dockerfile",
            "x.dockerfile",
            "Containerfile",
            "Dockerfile-2019",
            "Dockerfile_arm",
            "dockerfile-alpine.3.20",
        ] {
            assert_eq!(
                detect_by_name(Path::new(name)),
                Some(InputKind::Dockerfile),
                "{name}"
            );
        }
        for name in [
            "Dockerfile-notes.md.txt.yaml",
            "README.md",
            "dockerfiles",
            "Dockerfile-notes.md",
            "Dockerfile_build.sh",
            "Dockerfile.dockerignore",
            "web.Dockerfile.dockerignore",
        ] {
            assert_ne!(
                detect_by_name(Path::new(name)),
                Some(InputKind::Dockerfile),
                "{name}"
            );
        }
    }
}
