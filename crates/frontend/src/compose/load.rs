//! Loading a Compose project: files read, interpolated, `extends` and `include` resolved, documents
//! and override files merged into one tree, in the order compose-go follows for each file: interpolate,
//! then `extends`, then `include`, then merge over what came before.
//!
//! Files are read relative to the current directory through the paths shown in reports (a file named
//! `proj/compose.yaml` includes `proj/common.yaml`). Each file remembers the directory its relative
//! paths resolve against: its own for `include`d and `extends`ed files, the project's for override
//! files, as Compose does.
//!
//! Hostile projects are bounded: at most [`MAX_FILES`] files per project, include and extends chains
//! at most [`MAX_CHAIN`] deep, cycles reported where they close.

use std::collections::{HashMap, HashSet};
use std::path::{Component, Path, PathBuf};
use std::rc::Rc;

use leastpriv_model::{EnvVar, Sensitive};
use leastpriv_secrets::{is_secret_name, KnownSecrets};
use leastpriv_source::read::{self, ReadError, ReadScope, MAX_INPUT_BYTES};
use leastpriv_source::{FileId, InputError, SourceDb, Span, Spanned, TextRange};

use super::dotenv;
use super::interpolate::{interpolate, InterpolateError, Variables};
use super::merge::{merge_documents, merge_services, strip_resets};
use crate::budget::ExpansionBudget;
use crate::yaml::{self, Entry, Node, Value};

/// Files read for one project, the main file included.
const MAX_FILES: usize = 256;
/// Depth of `include` within `include`, or of `extends` chains.
const MAX_CHAIN: usize = 32;
/// Files loaded (parsed and interpolated) for one project, counting a file included twice twice.
const MAX_LOADS: usize = 256;
/// Documents read from one Compose file.
const MAX_DOCUMENTS: usize = 64;
/// Bytes of Compose files one project reads in all (main file, override file, `include`d and
/// `extends`ed files): a project is lowered as one input, so it is bounded as one input is, and a
/// file of a few lines cannot make the run read and hold hundreds of large included files.
pub const MAX_PROJECT_BYTES: u64 = MAX_INPUT_BYTES;
/// Nodes `extends` may copy in one project: a thousand services extending one huge service must not
/// multiply it a thousand times in memory.
const MAX_COPIED_NODES: usize = 1_000_000;

/// A loaded project: the merged model and what lowering needs to know about its values.
#[derive(Debug, Default)]
pub(super) struct Project {
    /// The merged top-level mapping; `None` when no document could be read.
    pub(super) model: Option<Node>,
    /// For each file, the directory (as displayed, relative to the current directory) its relative
    /// paths resolve against.
    pub(super) dirs: HashMap<FileId, PathBuf>,
    /// Scalars whose value took a variable's value during interpolation.
    pub(super) substituted: HashSet<Span>,
    /// Scalars that name a variable which is unset (it became empty).
    pub(super) unresolved: HashSet<Span>,
    /// The root project's variables (environment over `.env`).
    pub(super) variables: Variables,
    /// The environment, for `~` and for build args given without a value.
    pub(super) environment: Vec<(String, String)>,
    /// Where files the project names may be read: the audited paths and the project directory.
    pub(super) scope: ReadScope,
    /// Every problem, located.
    pub(super) errors: Vec<InputError>,
    /// The values of secret-named variables of the `.env` files read: secrets wherever
    /// interpolation puts them.
    pub(super) secrets: KnownSecrets,
    /// The secret-named variables the project's `.env` files set to written values, located in
    /// them: committed with the project, they are audited for literal secrets (with the first
    /// service, so each is reported once).
    pub(super) dotenv_variables: Vec<EnvVar>,
    /// The documents of the files [`load`] was asked to keep, as parsed (before interpolation,
    /// `extends`, `include` and merging), each with its file: for a fixer that edits their text.
    pub(super) kept: Vec<(FileId, Vec<Node>)>,
}

/// Loads the project made of `files` (the main file, then overrides, in order) whose directory is
/// `dir`. With `keep`, the documents of `files` as parsed are kept in [`Project::kept`].
pub(super) fn load(
    db: &SourceDb,
    files: &[FileId],
    dir: &Path,
    environment: Vec<(String, String)>,
    scope: ReadScope,
    keep: bool,
) -> Project {
    let mut loader = Loader {
        db,
        keep: if keep { files.to_vec() } else { Vec::new() },
        project: Project {
            environment,
            scope,
            ..Project::default()
        },
        read: HashMap::new(),
        files_read: files.len(),
        bytes_read: files
            .iter()
            .map(|&file| db.get(file).text().len() as u64)
            .sum(),
        loads: 0,
        copied_nodes: 0,
        budget: ExpansionBudget::for_input(
            files.iter().map(|&file| db.get(file).text().len()).sum(),
        ),
    };
    let variables = loader.variables(dir, None);
    let mut stack = files
        .first()
        .map(|&file| vec![normalize(Path::new(loader.db.get(file).path()))])
        .unwrap_or_default();
    let model = loader.load_files(files, dir, &variables, &mut stack);
    loader.project.model = model;
    loader.project.variables = variables;
    loader.project
}

/// A file read from disk, and its services once loaded for `extends`.
type ReadFile = (FileId, Option<Rc<[Entry]>>);

struct Loader<'a> {
    db: &'a SourceDb,
    /// The files whose parsed documents are kept (the project's own, not those it includes).
    keep: Vec<FileId>,
    project: Project,
    /// Files read from disk by normalised path, with their services once interpolated (for
    /// `extends`).
    read: HashMap<PathBuf, ReadFile>,
    files_read: usize,
    /// Bytes of the project's Compose files read so far, against [`MAX_PROJECT_BYTES`].
    bytes_read: u64,
    loads: usize,
    copied_nodes: usize,
    /// Bytes interpolation may still produce, `.env` files included.
    budget: ExpansionBudget,
}

impl Loader<'_> {
    fn error(&mut self, span: Span, message: impl Into<String>) {
        let path = self.db.get(span.file).path().to_owned();
        self.project
            .errors
            .push(InputError::at(path, span, message));
    }

    /// The variables of a project in `dir`: the environment over `env_files` (each located where it
    /// is named), or over `dir/.env` when it exists.
    fn variables(&mut self, dir: &Path, env_files: Option<Vec<(PathBuf, Span)>>) -> Variables {
        let mut dotenv_values: Vec<(String, String)> = Vec::new();
        let mut incomplete = false;
        let files = match env_files {
            Some(files) => files
                .into_iter()
                .map(|(path, span)| (path, Some(span)))
                .collect(),
            None => vec![(dir.join(".env"), None)],
        };
        for (path, named_at) in files {
            let text = match read_text(&path, &self.project.scope) {
                Ok(text) => text,
                Err(error) => {
                    match named_at {
                        Some(span) => {
                            self.error(span, format!("cannot read `{}`: {error}", path.display()));
                            incomplete = true;
                        }
                        // The project's own `.env`: absent is normal, anything else loses
                        // variables the values need.
                        None if error != ReadError::NotFound => {
                            self.project.errors.push(InputError::file(
                                path.display().to_string(),
                                format!("cannot read the project's `.env`: {error}; the values it would set are judged unknown"),
                            ));
                            incomplete = true;
                        }
                        None => {}
                    }
                    continue;
                }
            };
            let file = self.db.add(path.display().to_string(), text.as_str());
            let dotenv = dotenv::parse(&text, &self.project.environment, &self.budget);
            incomplete |= dotenv.incomplete();
            for (name, value) in &dotenv.pairs {
                self.project.secrets.record(name, value);
            }
            // Only secret-named ones: the others set no container's environment and hold nothing
            // to audit.
            self.project.dotenv_variables.extend(
                located_variables(file, &dotenv.literals)
                    .into_iter()
                    .filter(|variable| is_secret_name(&variable.name.value)),
            );
            dotenv_values.extend(dotenv.pairs);
            for error in dotenv.errors {
                let span = Span::new(file, TextRange::empty(error.offset));
                self.error(span, error.message);
            }
        }
        let mut variables = Variables::new(self.project.environment.iter().cloned(), dotenv_values);
        if incomplete {
            variables.set_incomplete();
        }
        variables
    }

    /// Loads `files` as one project in `dir`: each file's documents, then the files in order, merged.
    fn load_files(
        &mut self,
        files: &[FileId],
        dir: &Path,
        variables: &Variables,
        stack: &mut Vec<PathBuf>,
    ) -> Option<Node> {
        let mut model: Option<Node> = None;
        for &file in files {
            self.project.dirs.insert(file, dir.to_path_buf());
            let mut documents = self.documents(file, variables);
            for document in &mut documents {
                self.apply_extends(document, file, variables);
                self.apply_include(document, stack);
            }
            for document in documents {
                model = Some(match model {
                    Some(base) => merge_documents(base, document),
                    None => document,
                });
            }
        }
        if let Some(model) = &mut model {
            strip_resets(model);
        }
        model
    }

    /// A file's documents, parsed and interpolated; mappings only.
    fn documents(&mut self, file: FileId, variables: &Variables) -> Vec<Node> {
        let source = self.db.get(file);
        self.loads += 1;
        if self.loads > MAX_LOADS {
            if self.loads == MAX_LOADS + 1 {
                let span = Span::new(file, TextRange::empty(0));
                self.error(
                    span,
                    format!("the project loads more than {MAX_LOADS} files; the rest are not read"),
                );
            }
            return Vec::new();
        }
        let stream = yaml::parse(source.text(), file);
        if self.keep.contains(&file) && !self.project.kept.iter().any(|(kept, _)| *kept == file) {
            self.project.kept.push((file, stream.documents.clone()));
        }
        for error in stream.errors {
            self.project
                .errors
                .push(error.into_input_error(source.path()));
        }
        let mut documents = Vec::new();
        for (index, mut document) in stream.documents.into_iter().enumerate() {
            if index == MAX_DOCUMENTS {
                self.error(
                    document.span,
                    format!("more than {MAX_DOCUMENTS} documents in one Compose file; the rest are not read"),
                );
                break;
            }
            match document.value {
                Value::Null => continue,
                Value::Map(_) => {}
                Value::Scalar(_) | Value::Seq(_) => {
                    self.error(document.span, "a Compose file must be a mapping");
                    continue;
                }
            }
            self.interpolate(&mut document, variables);
            documents.push(document);
        }
        documents
    }

    /// Interpolates every value (keys are left as written).
    fn interpolate(&mut self, node: &mut Node, variables: &Variables) {
        match &mut node.value {
            Value::Map(entries) => {
                for entry in entries {
                    self.interpolate(&mut entry.value, variables);
                }
            }
            Value::Seq(items) => {
                for item in items {
                    self.interpolate(item, variables);
                }
            }
            Value::Scalar(scalar) if scalar.text.contains('$') => {
                match interpolate(&scalar.text, variables, &self.budget) {
                    Ok(result) => {
                        scalar.text = result.text.into();
                        if result.substituted {
                            self.project.substituted.insert(node.span);
                        }
                        if result.missing {
                            self.project.unresolved.insert(node.span);
                        }
                    }
                    // Kept as written and judged unknown: rules say "unresolved", never guess.
                    Err(InterpolateError::TooLarge(message)) => {
                        let span = node.span;
                        self.error(span, message);
                        self.project.unresolved.insert(span);
                    }
                    Err(InterpolateError::Invalid(message)) => {
                        let span = node.span;
                        node.value = Value::Null;
                        self.error(span, message);
                    }
                }
            }
            Value::Scalar(_) | Value::Null => {}
        }
    }

    /// Replaces every service that `extends` another by the merge of the two.
    fn apply_extends(&mut self, document: &mut Node, file: FileId, variables: &Variables) {
        let Some(services) = services_of(document) else {
            return;
        };
        let extending: Vec<String> = services
            .iter()
            .filter(|entry| entry.value.get("extends").is_some())
            .filter_map(|entry| entry.key.as_str().map(str::to_owned))
            .collect();
        if extending.is_empty() {
            return;
        }
        let original = services.to_vec();
        let file_key = normalize(Path::new(self.db.get(file).path()));
        let mut resolved = Vec::new();
        for name in extending {
            let mut chain = Vec::new();
            if let Some(service) =
                self.extended(&original, &file_key, &name, variables, &mut chain, None)
            {
                resolved.push((name, service));
            }
        }
        let Some(Node {
            value: Value::Map(entries),
            ..
        }) = services_mut(document)
        else {
            return;
        };
        for (name, service) in resolved {
            if let Some(entry) = entries
                .iter_mut()
                .find(|entry| entry.key.as_str() == Some(name.as_str()))
            {
                entry.value = service;
            }
        }
    }

    /// The service `name` of `services` (a file's services) with its `extends` chain merged in.
    /// `named_at` is where the reference to it is written, for errors.
    fn extended(
        &mut self,
        services: &[Entry],
        file_key: &Path,
        name: &str,
        variables: &Variables,
        chain: &mut Vec<(PathBuf, String)>,
        named_at: Option<Span>,
    ) -> Option<Node> {
        let Some(entry) = services
            .iter()
            .find(|entry| entry.key.as_str() == Some(name))
        else {
            if let Some(span) = named_at {
                self.error(
                    span,
                    format!(
                        "`extends` names service `{name}`, which `{}` does not define",
                        file_key.display()
                    ),
                );
            }
            return None;
        };
        let link = (file_key.to_path_buf(), name.to_owned());
        if chain.contains(&link) || chain.len() >= MAX_CHAIN {
            let path: Vec<&str> = chain.iter().map(|(_, name)| name.as_str()).collect();
            let message = if chain.contains(&link) {
                format!("`extends` cycle: {} → {name}", path.join(" → "))
            } else {
                format!("`extends` chain deeper than {MAX_CHAIN} services")
            };
            self.error(named_at.unwrap_or(entry.key.span), message);
            return None;
        }
        if self.copied_nodes >= MAX_COPIED_NODES {
            return None;
        }
        self.copied_nodes += node_count(&entry.value);
        if self.copied_nodes >= MAX_COPIED_NODES {
            self.error(
                named_at.unwrap_or(entry.key.span),
                format!("`extends` copies more than {MAX_COPIED_NODES} values; the rest are not resolved"),
            );
            return None;
        }
        let mut service = entry.value.clone();
        let Some(extends) = take_entry(&mut service, "extends") else {
            return Some(service);
        };
        chain.push(link);
        let base = self.extends_target(&extends, services, file_key, variables, chain);
        chain.pop();
        Some(match base {
            Some(base) => merge_services(base, service),
            None => service,
        })
    }

    /// The service an `extends:` entry names, resolved.
    fn extends_target(
        &mut self,
        extends: &Entry,
        services: &[Entry],
        file_key: &Path,
        variables: &Variables,
        chain: &mut Vec<(PathBuf, String)>,
    ) -> Option<Node> {
        let value = &extends.value;
        let (service, other_file) = match &value.value {
            Value::Scalar(scalar) => ((scalar.text.to_string(), value.span), None),
            Value::Map(_) => {
                let Some(service) = value.get("service") else {
                    self.error(value.span, "`extends` needs a `service`");
                    return None;
                };
                let Some(name) = service.as_str() else {
                    self.error(service.span, "`extends.service` must be a string");
                    return None;
                };
                let file = value
                    .get("file")
                    .and_then(|file| Some((file.as_str()?.to_owned(), file.span)));
                ((name.to_owned(), service.span), file)
            }
            _ => {
                self.error(value.span, "`extends` must be a service name or a mapping");
                return None;
            }
        };
        let (name, name_span) = service;
        match other_file {
            None => self.extended(services, file_key, &name, variables, chain, Some(name_span)),
            Some((path, _)) if is_remote(&path) => None,
            Some((path, path_span)) => {
                let dir = self.dir_of(path_span.file);
                let path = join(&dir, &path);
                let file = self.read_file(&path, path_span)?;
                let other_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
                self.project.dirs.entry(file).or_insert(other_dir);
                let other_services = self.services_of_file(file, &path, variables);
                self.extended(
                    &other_services,
                    &path,
                    &name,
                    variables,
                    chain,
                    Some(name_span),
                )
            }
        }
    }

    /// The services of another file (its documents merged), read once, for `extends`.
    fn services_of_file(
        &mut self,
        file: FileId,
        path: &Path,
        variables: &Variables,
    ) -> Rc<[Entry]> {
        if let Some((_, Some(services))) = self.read.get(path) {
            return Rc::clone(services);
        }
        let documents = self.documents(file, variables);
        let services: Rc<[Entry]> = documents
            .into_iter()
            .reduce(merge_documents)
            .as_ref()
            .and_then(services_of)
            .map_or_else(|| Rc::from(Vec::new()), Rc::from);
        if let Some(slot) = self.read.get_mut(path) {
            slot.1 = Some(Rc::clone(&services));
        }
        services
    }

    /// Adds the resources of every `include`d project to `document`.
    fn apply_include(&mut self, document: &mut Node, stack: &mut Vec<PathBuf>) {
        let Some(include) = take_entry(document, "include") else {
            return;
        };
        let items = match include.value.value {
            Value::Seq(items) => items,
            Value::Null => return,
            _ => {
                self.error(include.value.span, "`include` must be a list");
                return;
            }
        };
        for item in items {
            self.include_one(document, &item, stack);
        }
    }

    fn include_one(&mut self, document: &mut Node, item: &Node, stack: &mut Vec<PathBuf>) {
        if string_list(item.get("path").unwrap_or(item))
            .iter()
            .any(|(path, _)| is_remote(path))
        {
            // A Git or OCI include is fetched by Compose; it is not in view here.
            return;
        }
        let dir = self.dir_of(item.span.file);
        let (paths, project_directory, env_files) = match &item.value {
            Value::Scalar(scalar) => (vec![(scalar.text.to_string(), item.span)], None, None),
            Value::Map(_) => {
                let paths = match item.get("path") {
                    Some(path) => string_list(path),
                    None => Vec::new(),
                };
                let project_directory = item
                    .get("project_directory")
                    .and_then(|node| Some((node.as_str()?.to_owned(), node.span)));
                let env_files = item.get("env_file").map(string_list);
                (paths, project_directory, env_files)
            }
            Value::Null => return,
            Value::Seq(_) => {
                self.error(item.span, "an `include` entry must be a path or a mapping");
                return;
            }
        };
        if paths.is_empty() {
            self.error(item.span, "an `include` entry needs a `path`");
            return;
        }
        let paths: Vec<(PathBuf, Span)> = paths
            .into_iter()
            .map(|(path, span)| (join(&dir, &path), span))
            .collect();
        let first = paths[0].0.clone();
        if stack.contains(&first) || stack.len() >= MAX_CHAIN {
            let message = if stack.contains(&first) {
                format!("`include` cycle: `{}` includes itself", first.display())
            } else {
                format!("`include` nested deeper than {MAX_CHAIN} files")
            };
            self.error(paths[0].1, message);
            return;
        }
        let included_dir = match project_directory {
            Some((directory, _)) => join(&dir, &directory),
            None => first.parent().map(Path::to_path_buf).unwrap_or_default(),
        };
        let mut files = Vec::new();
        for (path, span) in &paths {
            if let Some(file) = self.read_file(path, *span) {
                files.push(file);
            }
        }
        if files.is_empty() {
            return;
        }
        let env_files = env_files.map(|files| {
            files
                .into_iter()
                .map(|(path, span)| (join(&dir, &path), span))
                .collect()
        });
        let variables = self.variables(&included_dir, env_files);
        stack.push(first.clone());
        let included = self.load_files(&files, &included_dir, &variables, stack);
        stack.pop();
        if let Some(included) = included {
            self.add_resources(document, included, &first);
        }
    }

    /// Adds the top-level resources of an included model; a name both define is an error.
    fn add_resources(&mut self, document: &mut Node, included: Node, path: &Path) {
        let Value::Map(sections) = included.value else {
            return;
        };
        for section in sections {
            let Some(section_name) = section.key.as_str().map(str::to_owned) else {
                continue;
            };
            if !matches!(
                section_name.as_str(),
                "services" | "volumes" | "networks" | "secrets" | "configs" | "models"
            ) {
                continue;
            }
            let Value::Map(resources) = section.value.value else {
                continue;
            };
            let Value::Map(top) = &mut document.value else {
                return;
            };
            let existing = top
                .iter_mut()
                .find(|entry| entry.key.as_str() == Some(section_name.as_str()));
            let target = match existing {
                Some(entry) => entry,
                None => {
                    top.push(Entry {
                        key: section.key,
                        value: Node {
                            value: Value::Map(Vec::new()),
                            span: section.value.span,
                            tag: None,
                        },
                    });
                    let Some(last) = top.last_mut() else {
                        return;
                    };
                    last
                }
            };
            if target.value.is_null() {
                target.value.value = Value::Map(Vec::new());
            }
            let Value::Map(own) = &mut target.value.value else {
                continue;
            };
            let mut conflicts = Vec::new();
            for resource in resources {
                let name = resource.key.as_str();
                match own.iter().find(|entry| entry.key.as_str() == name) {
                    Some(entry) => {
                        conflicts.push((entry.key.span, name.unwrap_or_default().to_owned()))
                    }
                    None => own.push(resource),
                }
            }
            for (span, name) in conflicts {
                self.error(
                    span,
                    format!(
                        "`{section_name}.{name}` is also defined by the included file `{}`",
                        path.display()
                    ),
                );
            }
        }
    }

    /// The directory relative paths of `file` resolve against.
    fn dir_of(&self, file: FileId) -> PathBuf {
        self.project.dirs.get(&file).cloned().unwrap_or_else(|| {
            Path::new(self.db.get(file).path())
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_default()
        })
    }

    /// Reads a file a Compose file refers to (once per path), located at `named_at` when it cannot
    /// be.
    fn read_file(&mut self, path: &Path, named_at: Span) -> Option<FileId> {
        if let Some((file, _)) = self.read.get(path) {
            return Some(*file);
        }
        if self.files_read >= MAX_FILES {
            self.error(
                named_at,
                format!(
                    "project reads more than {MAX_FILES} files; `{}` is not read",
                    path.display()
                ),
            );
            return None;
        }
        match read_text(path, &self.project.scope) {
            Ok(text) if self.bytes_read + text.len() as u64 > MAX_PROJECT_BYTES => {
                self.error(
                    named_at,
                    format!(
                        "the project's Compose files would exceed {} MiB together; `{}` is not read",
                        MAX_PROJECT_BYTES >> 20,
                        path.display()
                    ),
                );
                None
            }
            Ok(text) => {
                self.files_read += 1;
                self.bytes_read += text.len() as u64;
                let file = self.db.add(path.display().to_string(), text);
                self.read.insert(path.to_path_buf(), (file, None));
                Some(file)
            }
            Err(error) => {
                self.error(
                    named_at,
                    format!("cannot read `{}`: {error}", path.display()),
                );
                None
            }
        }
    }
}

/// A Compose file reference Compose fetches rather than reads from disk (Git, OCI, HTTP).
pub(super) fn is_remote(reference: &str) -> bool {
    reference.contains("://")
        || reference.starts_with("git@")
        || reference.starts_with("github.com/")
}

/// The `services` entries of a model.
fn services_of(model: &Node) -> Option<&[Entry]> {
    model.get("services")?.as_map()
}

fn services_mut(model: &mut Node) -> Option<&mut Node> {
    let Value::Map(entries) = &mut model.value else {
        return None;
    };
    entries
        .iter_mut()
        .find(|entry| entry.key.as_str() == Some("services"))
        .map(|entry| &mut entry.value)
}

/// The nodes of a tree (its depth is bounded by the YAML layer).
fn node_count(node: &Node) -> usize {
    1 + match &node.value {
        Value::Map(entries) => entries
            .iter()
            .map(|entry| node_count(&entry.key) + node_count(&entry.value))
            .sum(),
        Value::Seq(items) => items.iter().map(node_count).sum(),
        Value::Null | Value::Scalar(_) => 0,
    }
}

/// Removes the entry `key` from a mapping and returns it.
fn take_entry(node: &mut Node, key: &str) -> Option<Entry> {
    let Value::Map(entries) = &mut node.value else {
        return None;
    };
    let index = entries
        .iter()
        .position(|entry| entry.key.as_str() == Some(key))?;
    Some(entries.remove(index))
}

/// A string or a list of strings, each with its span.
pub(super) fn string_list(node: &Node) -> Vec<(String, Span)> {
    match &node.value {
        Value::Scalar(scalar) => vec![(scalar.text.to_string(), node.span)],
        Value::Seq(items) => items
            .iter()
            .filter_map(|item| Some((item.as_str()?.to_owned(), item.span)))
            .collect(),
        Value::Null | Value::Map(_) => Vec::new(),
    }
}

/// `relative` resolved against `dir`, normalised; an absolute path as is.
pub(super) fn join(dir: &Path, relative: &str) -> PathBuf {
    normalize(&dir.join(relative))
}

/// Removes `.` and resolves `..` lexically (a `..` with nothing before it is kept).
pub(super) fn normalize(path: &Path) -> PathBuf {
    let mut normal = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                let can_pop = matches!(normal.components().next_back(), Some(Component::Normal(_)));
                if can_pop {
                    normal.pop();
                } else if !matches!(normal.components().next_back(), Some(Component::RootDir)) {
                    normal.push("..");
                }
            }
            other => normal.push(other.as_os_str()),
        }
    }
    normal
}

/// Reads a file the project names: a regular file inside `scope`, at most [`MAX_INPUT_BYTES`].
/// The variables of a `.env`-syntax file (`.env`, an `env_file:`) set to written values, as
/// environment variables located in `file`.
pub(super) fn located_variables(file: FileId, literals: &[dotenv::Literal]) -> Vec<EnvVar> {
    literals
        .iter()
        .map(|literal| EnvVar {
            name: Spanned::new(
                literal.name.clone(),
                Span::new(
                    file,
                    TextRange::new(literal.name_range.start, literal.name_range.end),
                ),
            ),
            value: Some(Spanned::new(
                Sensitive::new(literal.value.clone()),
                Span::new(
                    file,
                    TextRange::new(literal.value_range.start, literal.value_range.end),
                ),
            )),
        })
        .collect()
}

pub(super) fn read_text(path: &Path, scope: &ReadScope) -> Result<String, ReadError> {
    read::read_text(path, scope, MAX_INPUT_BYTES)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_lexically() {
        let cases = [
            ("a/./b/../c", "a/c"),
            ("../x", "../x"),
            ("a/../../x", "../x"),
            ("/a/../../x", "/x"),
            ("proj/../common.yaml", "common.yaml"),
        ];
        for (path, expected) in cases {
            assert_eq!(
                normalize(Path::new(path)),
                PathBuf::from(expected),
                "{path}"
            );
        }
        assert_eq!(join(Path::new("proj"), "/abs/x"), PathBuf::from("/abs/x"));
    }
}
