//! Front-ends: each parses one kind of source into [`leastpriv_model::Container`]s.
//!
//! `daemon_json` and `docker_info` read a Docker daemon's configuration and reported state into a
//! [`leastpriv_model::Daemon`] instead.
//!
//! Every front-end has the same shape: the text is parsed once into a syntax tree with byte spans, then
//! semantic steps (variable expansion, stages, merges) run over it, and `lower` builds the model. A
//! front-end never judges; the rules do. Errors in the input become located [`InputError`]s and never
//! panics; whatever could still be lowered is.
//!
//! [`detect`] decides which front-end reads a file: by its name first, by its content when the name does
//! not tell (a file named explicitly on the command line).

mod budget;
pub mod compose;
pub mod daemon_json;
pub mod docker_info;
pub mod docker_run;
pub mod dockerfile;
mod engine_in_container;
pub mod inspect;
pub mod kubernetes;
pub mod seccomp;
#[cfg(test)]
mod test_support;
pub mod yaml;

use leastpriv_secrets::KnownSecrets;
use std::collections::BTreeMap;
use std::path::Path;

use leastpriv_model::{Container, Daemon};
use leastpriv_source::read::ReadScope;
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
    /// A Docker daemon's `daemon.json`.
    DaemonJson,
    /// `docker info --format '{{json .}}'` output: a daemon's reported state.
    DockerInfo,
    /// A `.env` file named as an input (`.env`, `.env.production`, `app.env`): audited for literal
    /// secrets. A walk audits a `.env` through the Compose project that reads it.
    EnvFile,
    /// A `*.yaml`, `*.yml` or `*.json` file known by its extension alone: its content decides whether it
    /// is a Kubernetes manifest, `docker inspect` or `docker info` output or a `daemon.json`, and
    /// anything else (CI configuration, Helm values, package manifests) is skipped quietly. A
    /// directory walk meets many such files.
    YamlOrJson,
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
    /// Where files an input refers to may be read from (a Compose `include`, `extends.file`,
    /// `build.dockerfile`, `.env`, a seccomp profile): the audited paths. A front-end adds the
    /// directory of the file it reads; anything else, symlinks resolved, is refused with a located
    /// error.
    pub scope: ReadScope,
    /// Where a Dockerfile's build context is: its own directory by default (read only inside
    /// [`Options::scope`]), the directory a Compose `build:` names, or none (standard input).
    pub build_context: dockerfile::ContextDir,
}

/// What a front-end made of one file.
#[derive(Debug, Default)]
pub struct Lowered {
    /// The containers it describes.
    pub containers: Vec<Container>,
    /// What could not be read, each located.
    pub errors: Vec<InputError>,
    /// The daemons it describes (`daemon.json`, `docker info`).
    pub daemons: Vec<Daemon>,
    /// Values it substituted from secret-named variables (`.env`, `ARG`, `ENV`): secrets wherever
    /// they land, so reporters mask them in everything they print.
    pub secrets: KnownSecrets,
}

/// The kind of a file by its name alone, as a directory walk finds it.
pub fn detect_by_name(path: &Path) -> Option<InputKind> {
    let original = path.file_name()?.to_str()?;
    let name = original.to_ascii_lowercase();
    if is_dockerfile_name(original) {
        return Some(InputKind::Dockerfile);
    }
    if compose::is_compose_file_name(&name) {
        return Some(InputKind::Compose);
    }
    if name == "daemon.json" {
        return Some(InputKind::DaemonJson);
    }
    let extension = name.rsplit_once('.').map(|(_, extension)| extension);
    match extension {
        Some("sh") => Some(InputKind::ShellScript),
        Some("yaml" | "yml" | "json") => Some(InputKind::YamlOrJson),
        _ => None,
    }
}

/// Whether a file name names a Dockerfile, as Docker, BuildKit and hadolint users name them, in any
/// case: `Dockerfile` and `Containerfile`; `<name>.Dockerfile` and `<name>.Containerfile`; and
/// `Dockerfile.<suffix>` (also `Dockerfile-<suffix>`, `Dockerfile_<suffix>`) unless the name is a
/// file of another kind: source code, documentation or data by ripgrep's type definitions
/// (`dockerfile.go`, `Dockerfile.md`, `dockerfile.vim`, `dockerfile_corpus.rs`), or a backup, patch
/// leftover, editor swap file, fuzzing dictionary or `.dockerignore`.
pub fn is_dockerfile_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    if matches!(lower.as_str(), "dockerfile" | "containerfile") {
        return true;
    }
    if lower.ends_with(".dockerfile") || lower.ends_with(".containerfile") {
        return true;
    }
    let suffix = ["dockerfile", "containerfile"].iter().find_map(|base| {
        lower
            .strip_prefix(base)
            .filter(|rest| rest.len() > 1 && rest.starts_with(['.', '-', '_']))
    });
    suffix.is_some() && !is_other_format(name)
}

/// Whether a name is a file of another format than a Dockerfile.
fn is_other_format(name: &str) -> bool {
    /// Leftovers and companions that ripgrep's types do not name.
    const OTHER: [&str; 10] = [
        "dockerignore",
        "bak",
        "orig",
        "rej",
        "swp",
        "swo",
        "tmp",
        "old",
        "dict",
        "lock",
    ];
    let lower = name.to_ascii_lowercase();
    let extension = lower.rsplit_once('.').map(|(_, extension)| extension);
    if extension.is_some_and(|extension| OTHER.contains(&extension)) {
        return true;
    }
    other_types().is_some_and(|types| {
        types.matched(name, false).is_whitelist() || types.matched(&lower, false).is_whitelist()
    })
}

/// ripgrep's file types (the `ignore` crate's defaults), every one selected but those that name
/// Dockerfiles themselves (`docker`, `container`: `*Dockerfile*`) and `man` (`*.[0-9]`, which would
/// take `Dockerfile.1` for a manual page): a name one of them matches is source, documentation or
/// data.
fn other_types() -> Option<&'static ignore::types::Types> {
    static TYPES: std::sync::OnceLock<Option<ignore::types::Types>> = std::sync::OnceLock::new();
    TYPES
        .get_or_init(|| {
            let mut builder = ignore::types::TypesBuilder::new();
            builder.add_defaults();
            let names: Vec<String> = builder
                .definitions()
                .into_iter()
                .map(|definition| definition.name().to_owned())
                .filter(|name| !matches!(name.as_str(), "docker" | "container" | "man"))
                .collect();
            for name in &names {
                builder.select(name);
            }
            builder.build().ok()
        })
        .as_ref()
}

/// The kind of a file by its content, for a file named explicitly whose name does not tell.
pub fn detect_by_content(text: &str) -> Option<InputKind> {
    if dockerfile::looks_like_dockerfile(text) {
        return Some(InputKind::Dockerfile);
    }
    if let Some(kind) = detect_yaml_or_json(text) {
        return Some(kind);
    }
    if compose::looks_like_compose(text) {
        return Some(InputKind::Compose);
    }
    docker_run::looks_like_script(text).then_some(InputKind::ShellScript)
}

/// The kind of a file named explicitly: its name when that tells, else its content (so a Compose
/// file named `stack.yml` is read as one), else [`InputKind::YamlOrJson`] for a YAML or JSON name.
pub fn detect(path: &Path, text: &str) -> Option<InputKind> {
    let name = path
        .file_name()
        .and_then(|name| name.to_str())
        .unwrap_or_default()
        .to_ascii_lowercase();
    if name == ".env" || name.starts_with(".env.") || name.ends_with(".env") {
        return Some(InputKind::EnvFile);
    }
    match detect_by_name(path) {
        None | Some(InputKind::YamlOrJson) => {
            detect_by_content(text).or_else(|| detect_by_name(path))
        }
        kind => kind,
    }
}

/// The kind of a YAML or JSON text: a Kubernetes manifest, `docker inspect` or `docker info` output,
/// or a `daemon.json`. A cheap scan, not a parse: a walk hands every `*.yaml` here.
fn detect_yaml_or_json(text: &str) -> Option<InputKind> {
    if docker_info::looks_like_info(text) {
        Some(InputKind::DockerInfo)
    } else if inspect::looks_like_inspect(text) {
        Some(InputKind::DockerInspect)
    } else if kubernetes::looks_like_manifest(text) {
        Some(InputKind::Kubernetes)
    } else if daemon_json::looks_like_daemon_json(text) {
        Some(InputKind::DaemonJson)
    } else {
        None
    }
}

/// Reads `file` (already in `db`) as `kind`.
pub fn lower(db: &SourceDb, file: FileId, kind: InputKind, options: &Options) -> Lowered {
    match kind {
        InputKind::Dockerfile => dockerfile::lower(db, file, options),
        InputKind::Compose => compose::lower(db, file, options),
        InputKind::Kubernetes => kubernetes::lower(db, file, options),
        InputKind::ShellScript => docker_run::lower(db, file, options),
        InputKind::DockerInspect => inspect::lower(db, file, options),
        InputKind::DaemonJson => daemon_json::lower(db, file, options),
        InputKind::DockerInfo => docker_info::lower(db, file, options),
        InputKind::EnvFile => compose::lower_env_file(db, file),
        InputKind::YamlOrJson => match detect_yaml_or_json(db.get(file).text()) {
            Some(kind) => lower(db, file, kind, options),
            None => Lowered::default(),
        },
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
            "Containerfile.fedora",
            "Dockerfile.ubuntu2204",
            "Dockerfile.fips.ubi",
            "Dockerfile.WINDOWS_LTSC2022",
            "Dockerfile.self-contained",
            "Dockerfile.multi_stage",
            "Dockerfile.dev",
            "Dockerfile.test",
            "Dockerfile.ci",
            "Dockerfile.base",
            "Dockerfile.build",
            "Dockerfile.prod",
            "Dockerfile.local",
            "Dockerfile.gpu",
            "Dockerfile.release",
            "Dockerfile.1",
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
            // leastpriv's own repository: sources, docs and a fuzzing dictionary.
            "dockerfile.go",
            "Dockerfile.md",
            "dockerfile.vim",
            "dockerfile_corpus.rs",
            "dockerfile_snapshots.rs",
            "dockerfile_testing.rs",
            "dockerfile.rs",
            "dockerfile.dict",
            "Dockerfile.txt",
            "Dockerfile.j2",
            "dockerfile.py",
            "Dockerfile.bak",
            "dockerfile-parser.ts",
            "Dockerfile.",
            "Dockerfile_",
        ] {
            assert_ne!(
                detect_by_name(Path::new(name)),
                Some(InputKind::Dockerfile),
                "{name}"
            );
        }
    }
}

#[cfg(test)]
mod runtime_detection_tests {
    use super::*;

    #[test]
    fn walks_take_scripts_yaml_and_json_by_extension() {
        assert_eq!(
            detect_by_name(Path::new("deploy/run.sh")),
            Some(InputKind::ShellScript)
        );
        for name in ["k8s/app.yaml", "pod.YML", "pods.json"] {
            assert_eq!(
                detect_by_name(Path::new(name)),
                Some(InputKind::YamlOrJson),
                "{name}"
            );
        }
    }

    #[test]
    fn content_decides_yaml_and_json() {
        assert_eq!(
            detect_by_content("apiVersion: v1\nkind: Pod\n"),
            Some(InputKind::Kubernetes)
        );
        assert_eq!(
            detect_by_content("[{\"Id\": \"x\", \"HostConfig\": {}}]"),
            Some(InputKind::DockerInspect)
        );
        assert_eq!(
            detect_by_content("#!/bin/sh\ndocker run x\n"),
            Some(InputKind::ShellScript)
        );
        assert_eq!(detect_by_content("name: CI\non: push\n"), None);
    }

    #[test]
    fn a_named_file_is_read_by_content_when_its_name_only_says_yaml() {
        let compose = "services:\n  web:\n    image: nginx\n";
        assert_eq!(
            detect(Path::new("stack.yml"), compose),
            Some(InputKind::Compose)
        );
        assert_eq!(
            detect(Path::new("compose.yaml"), "apiVersion: v1\nkind: Pod\n"),
            Some(InputKind::Compose)
        );
        assert_eq!(
            detect(Path::new("pod.yaml"), "apiVersion: v1\nkind: Pod\n"),
            Some(InputKind::Kubernetes)
        );
        assert_eq!(
            detect(Path::new("notes.yaml"), "a: 1\n"),
            Some(InputKind::YamlOrJson)
        );
        assert_eq!(
            detect(Path::new("run"), "#!/bin/bash\ndocker run x\n"),
            Some(InputKind::ShellScript)
        );
    }

    #[test]
    fn other_yaml_and_json_found_in_a_walk_are_skipped_quietly() {
        let db = SourceDb::new();
        for text in [
            "name: CI\non: [push]\njobs: {build: {runs-on: x}}\n",
            "{\"name\": \"pkg\", \"version\": \"1.0.0\"}",
            "apiVersion: v1\nkind: Pod\nmetadata: {name: {{ .Release.Name }}}\n",
            "key: [unclosed\n",
        ] {
            let file = db.add("x.yaml", text);
            let lowered = lower(&db, file, InputKind::YamlOrJson, &Options::default());
            assert!(
                lowered.containers.is_empty() && lowered.errors.is_empty(),
                "{text}"
            );
        }
        let file = db.add(
            "pod.yaml",
            "apiVersion: v1\nkind: Pod\nspec: {containers: [{name: a}]}\n",
        );
        let lowered = lower(&db, file, InputKind::YamlOrJson, &Options::default());
        assert_eq!(lowered.containers.len(), 1);
    }
}
