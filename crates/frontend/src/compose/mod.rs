//! Compose front-end: a Compose project, as `docker compose` reads it, into one
//! [`Container`](leastpriv_model::Container) per service.
//!
//! A project is read in the order Compose follows (`load`): each file is parsed ([`crate::yaml`]:
//! anchors, aliases, `<<` merge keys), interpolated from the environment and the project's `.env`
//! (`interpolate`, `dotenv`), its `extends` and `include` resolved, then merged over the files
//! before it (`merge`): documents of one file in order, then the override file. Each service is then
//! lowered (`service`) with the short syntaxes of `syntax`; a service with `build:` carries the
//! build of its Dockerfile, lowered by [`crate::dockerfile`] with the service's `args` and `target`.
//!
//! # Which files make a project
//! - A file named like Compose's defaults (`compose.yaml`, `compose.yml`, `docker-compose.yml`,
//!   `docker-compose.yaml`, tried in that order) is the main file of its directory, and the first
//!   override file found beside it (`compose.override.yml`, `compose.override.yaml`,
//!   `docker-compose.override.yml`, `docker-compose.override.yaml`) is merged over it, as
//!   `docker compose` does with no `-f`.
//! - An override file whose directory holds a main file is audited through that main file: lowering
//!   it alone gives nothing, so a directory walk that finds both audits the merged project once.
//!   Without a main file beside it, it is audited alone.
//! - Any other Compose file (`compose.prod.yaml`, `docker-compose-db.yml`, a file named on the
//!   command line) is a project of its own; [`lower_files`] merges an explicit list (`-f a -f b`).
//!
//! The project directory (where `.env` is read and relative paths resolve) is the main file's.
//!
//! # What is not an error
//! An audit runs where the project is written, not where it is deployed, so three things Compose
//! would need at `up` time are skipped quietly rather than failing the audit: a value that names a
//! variable with no value here and is malformed without it (`ports: ["${PORT}"]`); a build context or
//! Dockerfile that is not on disk (the service then has no build facts); and remote references (Git,
//! OCI or HTTP `include`, `extends.file` and build contexts). Keys starting with `x-` are extensions,
//! at the top level, in `services` and in a service.

mod dotenv;
mod interpolate;
mod load;
mod merge;
mod service;
mod syntax;

pub use load::MAX_PROJECT_BYTES;

use std::path::{Path, PathBuf};

use leastpriv_model::{Container, SourceKind};
use leastpriv_source::{FileId, InputError, SourceDb, Span, TextRange};

use crate::yaml::Node;
use crate::{Lowered, Options};

/// Compose's main file names, in the order it tries them (compose-go `DefaultFileNames`).
pub const MAIN_FILE_NAMES: [&str; 4] = [
    "compose.yaml",
    "compose.yml",
    "docker-compose.yml",
    "docker-compose.yaml",
];

/// Compose's override file names, in its order (compose-go `DefaultOverrideFileNames`).
pub const OVERRIDE_FILE_NAMES: [&str; 4] = [
    "compose.override.yml",
    "compose.override.yaml",
    "docker-compose.override.yml",
    "docker-compose.override.yaml",
];

/// Lowers a Compose file with the project it belongs to: its override file when it is its
/// directory's main file, nothing when it is an override file audited through its main file.
pub fn lower(db: &SourceDb, file: FileId, options: &Options) -> Lowered {
    lower_keeping(db, file, options, false).0
}

/// [`lower`], handing back the file's documents as parsed (before interpolation and merging): for
/// a fixer that edits the spans the services were lowered from, so that one parse serves both.
/// The documents are empty when the file is an override file lowered through its main file.
pub fn lower_keeping_documents(
    db: &SourceDb,
    file: FileId,
    options: &Options,
) -> (Lowered, Vec<Node>) {
    let (lowered, kept) = lower_keeping(db, file, options, true);
    let documents = kept
        .into_iter()
        .find(|(kept, _)| *kept == file)
        .map(|(_, documents)| documents)
        .unwrap_or_default();
    (lowered, documents)
}

fn lower_keeping(
    db: &SourceDb,
    file: FileId,
    options: &Options,
    keep: bool,
) -> (Lowered, Vec<(FileId, Vec<Node>)>) {
    let path = PathBuf::from(db.get(file).path());
    let name = file_name(&path);
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    if OVERRIDE_FILE_NAMES.contains(&name.as_str()) && main_file(&dir).is_some() {
        return (Lowered::default(), Vec::new());
    }
    let mut files = vec![file];
    let mut errors = Vec::new();
    let is_main = main_file(&dir).is_some_and(|main| file_name(&main) == name);
    if is_main {
        if let Some(override_path) = first_existing(&dir, &OVERRIDE_FILE_NAMES) {
            let main_bytes = db.get(file).text().len() as u64;
            match load::read_text(&override_path, &options.scope.with_root(&dir)) {
                Ok(text) if main_bytes + text.len() as u64 > load::MAX_PROJECT_BYTES => {
                    errors.push(InputError::file(
                        override_path.display().to_string(),
                        format!(
                            "the project's Compose files would exceed {} MiB together; the override file is not read",
                            load::MAX_PROJECT_BYTES >> 20
                        ),
                    ))
                }
                Ok(text) => files.push(db.add(override_path.display().to_string(), text)),
                Err(error) => errors.push(InputError::file(
                    override_path.display().to_string(),
                    format!("cannot read the override file: {error}"),
                )),
            }
        }
    }
    let (mut lowered, kept) = lower_files_keeping(db, &files, options, keep);
    errors.append(&mut lowered.errors);
    lowered.errors = errors;
    (lowered, kept)
}

/// Lowers the project made of `files` merged in order (`docker compose -f a -f b`); the first file's
/// directory is the project directory.
pub fn lower_files(db: &SourceDb, files: &[FileId], options: &Options) -> Lowered {
    lower_files_keeping(db, files, options, false).0
}

/// [`lower_files`], handing back each file's documents as parsed (before interpolation and
/// merging), in the order of `files`: for a fixer that edits the project's files.
pub fn lower_files_keeping_documents(
    db: &SourceDb,
    files: &[FileId],
    options: &Options,
) -> (Lowered, Vec<(FileId, Vec<Node>)>) {
    let (lowered, mut kept) = lower_files_keeping(db, files, options, true);
    kept.sort_by_key(|(file, _)| files.iter().position(|f| f == file));
    (lowered, kept)
}

fn lower_files_keeping(
    db: &SourceDb,
    files: &[FileId],
    options: &Options,
    keep: bool,
) -> (Lowered, Vec<(FileId, Vec<Node>)>) {
    let Some(&first) = files.first() else {
        return (Lowered::default(), Vec::new());
    };
    let dir = Path::new(db.get(first).path())
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let environment: Vec<(String, String)> = match &options.env {
        Some(env) => env.clone().into_iter().collect(),
        None => std::env::vars_os()
            .filter_map(|(name, value)| Some((name.into_string().ok()?, value.into_string().ok()?)))
            .collect(),
    };
    let scope = options.scope.with_root(&dir);
    let mut project = load::load(db, files, &dir, environment, scope, keep);
    let model = project.model.take();
    let kept = std::mem::take(&mut project.kept);
    let mut lowered = service::lower_services(db, &project, model, options);
    lowered.daemons = crate::engine_in_container::daemons(&lowered.containers);
    project.errors.append(&mut lowered.errors);
    lowered.errors = project.errors;
    lowered.secrets = project.secrets;
    (lowered, kept)
}

/// Whether lowering the Compose file `file` may read other Compose files (an override file beside
/// it, `include`, `extends` from another file): its project may then hold up to
/// [`MAX_PROJECT_BYTES`] of Compose files rather than the file's own size. A cheap over-estimate
/// (the words anywhere in the text), for admitting the project to be lowered by what it may hold.
pub fn may_read_other_files(db: &SourceDb, file: FileId) -> bool {
    let source = db.get(file);
    let text = source.text();
    if text.contains("include") || text.contains("extends") {
        return true;
    }
    let path = Path::new(source.path());
    let dir = path.parent().unwrap_or(Path::new(""));
    let is_main = main_file(dir).is_some_and(|main| file_name(&main) == file_name(path));
    is_main && first_existing(dir, &OVERRIDE_FILE_NAMES).is_some()
}

/// Lowers a `.env` file named as an input: its secret-named variables set to written values, as a
/// container's committed environment, and its syntax errors.
pub fn lower_env_file(db: &SourceDb, file: FileId) -> Lowered {
    let source = db.get(file);
    let text = source.text();
    let budget = crate::budget::ExpansionBudget::for_input(text.len());
    let parsed = dotenv::parse(text, &[], &budget);
    let mut container = Container::new(
        source.path().to_owned(),
        SourceKind::Compose,
        Span::new(file, TextRange::empty(0)),
    );
    container.committed_env = load::located_variables(file, &parsed.literals)
        .into_iter()
        .filter(|variable| leastpriv_secrets::is_secret_name(&variable.name.value))
        .collect();
    let errors = parsed
        .errors
        .into_iter()
        .map(|error| {
            InputError::at(
                source.path(),
                Span::new(file, TextRange::empty(error.offset)),
                error.message,
            )
        })
        .collect();
    Lowered {
        containers: vec![container],
        errors,
        ..Lowered::default()
    }
}

/// Whether `name` (a file name, any case) is a Compose file name: `compose.yaml`,
/// `docker-compose.yml`, their `.override` files and variants such as `compose.prod.yaml` or
/// `docker-compose-db.yml`.
pub fn is_compose_file_name(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    let Some(stem) = name
        .strip_suffix(".yaml")
        .or_else(|| name.strip_suffix(".yml"))
    else {
        return false;
    };
    let rest = stem
        .strip_prefix("docker-compose")
        .or_else(|| stem.strip_prefix("compose"));
    match rest {
        Some("") => true,
        Some(rest) => rest.starts_with(['.', '-', '_']),
        None => false,
    }
}

/// Whether `text` reads as a Compose file: a YAML (or JSON) document whose top level has a
/// `services` mapping. For a file named explicitly whose name does not tell.
pub fn looks_like_compose(text: &str) -> bool {
    if !text.contains("services") {
        return false;
    }
    let db = SourceDb::new();
    let file = db.add("-", text);
    crate::yaml::parse(text, file)
        .documents
        .iter()
        .any(|document| {
            document
                .get("services")
                .is_some_and(|services| services.as_map().is_some())
        })
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .and_then(|name| name.to_str())
        .unwrap_or_default()
        .to_owned()
}

/// The main file Compose would pick in `dir`.
fn main_file(dir: &Path) -> Option<PathBuf> {
    first_existing(dir, &MAIN_FILE_NAMES)
}

fn first_existing(dir: &Path, names: &[&str]) -> Option<PathBuf> {
    names
        .iter()
        .map(|name| dir.join(name))
        .find(|path| path.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compose_file_names() {
        for name in [
            "compose.yaml",
            "docker-compose.override.yml",
            "compose.prod.yml",
            "docker-compose_ci.yaml",
        ] {
            assert!(is_compose_file_name(name), "{name}");
        }
        for name in [
            "composer.yml",
            "compose.yaml.bak",
            "docker-compose",
            "kompose.yaml",
        ] {
            assert!(!is_compose_file_name(name), "{name}");
        }
    }

    #[test]
    fn a_project_that_may_read_other_compose_files_is_told_before_it_is_lowered() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let main = dir.path().join("compose.yaml");
        let text = "services:\n  web:\n    image: x\n";
        std::fs::write(&main, text).expect("write");
        let db = SourceDb::new();
        let alone = db.add(main.display().to_string(), text);
        assert!(!may_read_other_files(&db, alone));
        let including = db.add(
            main.display().to_string(),
            "include: [other.yaml]\nservices: {}\n",
        );
        assert!(may_read_other_files(&db, including));
        std::fs::write(dir.path().join("compose.override.yml"), text).expect("write");
        assert!(
            may_read_other_files(&db, alone),
            "the override file beside it"
        );
        let other = db.add(
            dir.path().join("compose.prod.yaml").display().to_string(),
            text,
        );
        assert!(!may_read_other_files(&db, other), "not the main file");
    }

    #[test]
    fn content_with_a_services_mapping() {
        assert!(looks_like_compose(
            "version: '3'\nservices:\n  web: {image: x}\n"
        ));
        assert!(!looks_like_compose("services: [a]\n"));
        assert!(!looks_like_compose(
            "kind: Service\nmetadata: {name: services}\n"
        ));
        assert!(!looks_like_compose("services:\n\tweb: x\n"));
    }
}
