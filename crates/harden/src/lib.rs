//! `leastpriv harden`: writes the least-privilege configuration of every source `audit` reads.
//!
//! Every change comes from a finding's typed [`Remedy`](leastpriv_model::Remedy), so a finding and its
//! fix can never disagree and harden never makes a change no rule asks for. The pipeline, per file:
//!
//! 1. the front-ends ([`leastpriv_frontend`]) lower the text into containers with spans, and the
//!    rules ([`leastpriv_rules`]) judge each container (the same code `audit` runs);
//! 2. the file's [`Fixer`] (one per syntax: Compose, Kubernetes, Dockerfile, `docker run`) turns
//!    each container's findings into a [`FilePlan`]: [`Fix`]es (a [`Change`] and the text [`Edit`]s
//!    that make it, at the spans of the nodes concerned) and [`Left`]s (remedies not applied, with
//!    their [`LeftReason`]);
//! 3. [`edit::apply`] applies the fixes that do not overlap; the text is lowered and judged again and
//!    the fixer plans on it, in passes until nothing changes (at most [`MAX_PASSES`], like ruff's
//!    fix loop). A pass whose result no longer parses stops everything: the file is left as it was.
//!
//! Then [`diff::unified`] shows the result, or [`write::write_file`] writes it atomically. Edits are
//! made in the text, never by re-serialising a document: comments, key order, quoting, anchors and
//! line endings outside the edited nodes stay byte for byte ([`yaml_edit`] for the YAML syntaxes).

pub mod compose;
pub mod diff;
pub mod docker_run;
pub mod dockerfile;
pub mod edit;
pub mod known_images;
pub mod kubernetes;
pub mod plan;
pub mod profile;
pub mod write;
pub mod yaml_edit;

use leastpriv_frontend::{InputKind, Lowered};
use leastpriv_model::{Container, Remedy, Sensitive};
use leastpriv_rules::{Diagnostic, RuleSelection};
use leastpriv_source::{FileId, SourceDb};

pub use edit::Edit;
pub use plan::{Change, FilePlan, Fix, Left, LeftReason};
pub use profile::Profile;

/// Passes of plan → apply → judge again before harden stops: each pass applies every fix that does
/// not conflict, so only fixes that keep conflicting need more than two.
pub const MAX_PASSES: usize = 8;

/// Where the hardened configuration goes, which decides what a fixer can express.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Output {
    /// Into the file itself (printed as a diff, or written with `--in-place`).
    #[default]
    SameFile,
    /// Into a Compose override file (`--override FILE`): additions only, since Compose merges
    /// sequences by union and an override cannot take an entry away.
    Override,
}

/// What the user asked of harden.
#[derive(Clone, Debug, Default)]
pub struct FixOptions {
    /// `--remove-dangerous`: also remove what changes behaviour on purpose (privileged, engine
    /// sockets, host namespaces, sensitive host paths, dangerous added capabilities).
    pub remove_dangerous: bool,
    /// `--profile`: what workloads were seen to need.
    pub profiles: Vec<Profile>,
    /// Where the result goes.
    pub output: Output,
    /// The `NAME_FILE` conventions declared for images harden does not know.
    pub secret_files: known_images::SecretFiles,
}

/// One container of the file and the findings about it.
#[derive(Debug)]
pub struct Subject<'a> {
    /// The container, lowered from the file's current text.
    pub container: &'a Container,
    /// Its findings, as `audit` reports them.
    pub findings: Vec<Diagnostic>,
}

/// What a fixer is given: one file, its containers and their findings, and the options.
pub struct FixInput<'a> {
    /// The sources read (the file, and any file it refers to such as a `build:` Dockerfile).
    pub db: &'a SourceDb,
    /// The file to edit.
    pub file: FileId,
    /// Its YAML documents as the front-end parsed them, when it kept them (Compose, Kubernetes): a
    /// fixer that needs the tree uses them rather than parsing the text again.
    pub documents: Option<&'a [leastpriv_frontend::yaml::Node]>,
    /// Every file of the Compose project `file` belongs to (`-f a -f b`), in the order they merge,
    /// `file` included, each with its documents as parsed; empty when the file is hardened on its
    /// own. The subjects and findings are then the merged project's.
    pub project: &'a [ProjectFile<'a>],
    /// Its containers and their findings.
    pub subjects: &'a [Subject<'a>],
    /// What the user asked.
    pub options: &'a FixOptions,
    /// Whether a profile's seccomp filter is written: a profile was given and the confinement
    /// layer is selected. Asked for by no finding (Docker's default filter is not one), it tightens
    /// even a file that has none.
    pub profile_seccomp: bool,
}

impl<'a> FixInput<'a> {
    /// The file's YAML documents: the front-end's when it kept them, else parsed here.
    pub fn yaml_documents(&self) -> std::borrow::Cow<'a, [leastpriv_frontend::yaml::Node]> {
        match self.documents {
            Some(documents) => std::borrow::Cow::Borrowed(documents),
            None => std::borrow::Cow::Owned(
                leastpriv_frontend::yaml::parse(self.db.get(self.file).text(), self.file).documents,
            ),
        }
    }
}

/// One file of a Compose project given as several files.
#[derive(Clone, Copy)]
pub struct ProjectFile<'a> {
    /// The file.
    pub file: FileId,
    /// Its YAML documents as parsed.
    pub documents: &'a [leastpriv_frontend::yaml::Node],
}

/// Turns findings into edits in one syntax.
pub trait Fixer: Sync {
    /// Plans the fixes of one pass over `input`'s file: fixes that do not overlap each other, and the
    /// remedies it leaves with their reasons.
    fn plan(&self, input: &FixInput<'_>) -> FilePlan;
}

/// How the file is read and judged: the front-ends' options and the rules selected.
pub struct Judge<'a> {
    /// The front-ends' options (scope of files a source may refer to, environment …).
    pub options: &'a leastpriv_frontend::Options,
    /// The rules enabled (`--select`/`--ignore`, configuration).
    pub selection: &'a RuleSelection,
}

/// What harden made of one file.
#[derive(Debug, Default)]
pub struct Hardened {
    /// The file's path, as given.
    pub path: String,
    /// Its text as read.
    pub original: String,
    /// Its hardened text (equal to the original when nothing changes).
    pub text: String,
    /// Every change made, in the order applied.
    pub changes: Vec<Change>,
    /// Every remedy left to the user.
    pub left: Vec<Left>,
    /// The secret values findings pointed at in the original text, for masking in anything shown
    /// (a diff quotes the removed line that held one).
    pub sensitive: Vec<Sensitive>,
    /// The indices of the `--profile`s that describe a container of the file.
    pub profiles_used: Vec<usize>,
    /// Why the file could not be hardened (it does not parse, or a fix would have broken it), each
    /// as `path:line:column: message`; the text is then the original.
    pub errors: Vec<String>,
}

/// Hardens the text of the file at `path`, of `kind`, with `fixer`: passes of judge → plan → apply
/// until nothing changes.
pub fn harden(
    path: &str,
    original: &str,
    kind: InputKind,
    fixer: &dyn Fixer,
    judge: &Judge<'_>,
    options: &FixOptions,
) -> Hardened {
    let mut hardened = Hardened {
        path: path.to_owned(),
        original: original.to_owned(),
        text: original.to_owned(),
        ..Hardened::default()
    };
    let options_with_dir;
    let frontend_options = match kind {
        // The project directory joins the scope once, not in every pass.
        InputKind::Compose => {
            options_with_dir = with_project_dir(judge.options, path);
            &options_with_dir
        }
        _ => judge.options,
    };
    let profile_seccomp = writes_profile_seccomp(judge, options);
    for pass in 0..MAX_PASSES {
        let db = SourceDb::new();
        let file = db.add(path, hardened.text.as_str());
        let (lowered, documents) = match kind {
            InputKind::Kubernetes => {
                let (lowered, documents) = leastpriv_frontend::kubernetes::lower_keeping_documents(
                    &db,
                    file,
                    judge.options,
                );
                (lowered, Some(documents))
            }
            InputKind::Compose => {
                let (lowered, documents) = leastpriv_frontend::compose::lower_keeping_documents(
                    &db,
                    file,
                    frontend_options,
                );
                (lowered, Some(documents))
            }
            _ => (
                leastpriv_frontend::lower(&db, file, kind, judge.options),
                None,
            ),
        };
        if !lowered.errors.is_empty() {
            if pass == 0 {
                hardened.errors = lowered
                    .errors
                    .iter()
                    .map(|error| error.located(&db))
                    .collect();
            } else {
                // A fix broke the file: a defect of harden, never shipped to the user's file.
                hardened.errors = vec![format!(
                    "{path}: harden's changes would not parse again; the file is left as it is (please report this)"
                )];
                hardened.text = original.to_owned();
                hardened.changes.clear();
            }
            return hardened;
        }
        let subjects = judged(&db, &lowered, judge.selection);
        if pass == 0 {
            hardened.sensitive = secret_values(&subjects);
            hardened.profiles_used = profile::used_profiles(
                &options.profiles,
                subjects.iter().map(|subject| subject.container),
            );
        }
        if !profile_seccomp && subjects.iter().all(|subject| subject.findings.is_empty()) {
            // Nothing asks for a change, and nothing is left.
            hardened.left.clear();
            return hardened;
        }
        let input = FixInput {
            db: &db,
            file,
            documents: documents.as_deref(),
            project: &[],
            subjects: &subjects,
            options,
            profile_seccomp,
        };
        let plan = fixer.plan(&input);
        if !apply_plan(&mut hardened, plan, pass) {
            return hardened;
        }
    }
    hardened
}

/// Whether a profile's seccomp filter is written: a profile was given and the confinement layer is
/// selected.
fn writes_profile_seccomp(judge: &Judge<'_>, options: &FixOptions) -> bool {
    !options.profiles.is_empty()
        && leastpriv_rules::RULES.iter().any(|rule| {
            rule.meta.layer == leastpriv_rules::Layer::Confinement
                && judge.selection.is_enabled(rule)
        })
}

/// The front-ends' options with the directory of the Compose file at `path` in the scope, as the
/// Compose front-end adds it (then finding it there: resolving it is not repeated in each pass).
fn with_project_dir(
    options: &leastpriv_frontend::Options,
    path: &str,
) -> leastpriv_frontend::Options {
    let dir = std::path::Path::new(path)
        .parent()
        .unwrap_or(std::path::Path::new(""));
    leastpriv_frontend::Options {
        scope: options.scope.with_root(dir),
        ..options.clone()
    }
}

/// Applies one pass's plan to `hardened`: its fixes that do not overlap, the changes they make and
/// the remedies left. `false` when the plan has nothing to apply.
fn apply_plan(hardened: &mut Hardened, plan: FilePlan, pass: usize) -> bool {
    hardened.left = plan.left;
    if plan.fixes.is_empty() {
        return false;
    }
    let groups: Vec<&[Edit]> = plan.fixes.iter().map(|fix| fix.edits.as_slice()).collect();
    let applied = edit::apply(&hardened.text, &groups);
    hardened.text = applied.text;
    for index in applied.applied {
        hardened
            .changes
            .extend(plan.fixes[index].changes.iter().cloned());
    }
    if pass + 1 == MAX_PASSES {
        // Still conflicting after every pass: said, never claimed as done.
        let conflicting = applied.conflicting.iter();
        let detail = format!("conflicted with another change in each of {MAX_PASSES} passes");
        for change in conflicting.flat_map(|&index| &plan.fixes[index].changes) {
            hardened
                .left
                .extend(change.left(LeftReason::Conflict, &detail));
        }
    }
    true
}

/// Hardens a Compose project given as several files (`-f a -f b`), each `(path, text)` in the
/// order they merge: the merged project is judged, as `audit -f` judges it, and each file gets
/// the fixes of the settings it writes ([`compose`] says which file gets what). Passes of judge →
/// plan → apply over every file at once, until no file changes. One result per file, in order.
pub fn harden_project(
    files: &[(String, String)],
    fixer: &dyn Fixer,
    judge: &Judge<'_>,
    options: &FixOptions,
) -> Vec<Hardened> {
    let mut hardened: Vec<Hardened> = files
        .iter()
        .map(|(path, text)| Hardened {
            path: path.clone(),
            original: text.clone(),
            text: text.clone(),
            ..Hardened::default()
        })
        .collect();
    if hardened.is_empty() {
        return hardened;
    }
    let frontend_options = with_project_dir(judge.options, &hardened[0].path);
    let profile_seccomp = writes_profile_seccomp(judge, options);
    for pass in 0..MAX_PASSES {
        let db = SourceDb::new();
        let ids: Vec<FileId> = hardened
            .iter()
            .map(|file| db.add(file.path.as_str(), file.text.as_str()))
            .collect();
        let (lowered, kept) = leastpriv_frontend::compose::lower_files_keeping_documents(
            &db,
            &ids,
            &frontend_options,
        );
        if !lowered.errors.is_empty() {
            if pass == 0 {
                for error in &lowered.errors {
                    // Each error with the file it is in; one in a file the project reads (`.env`,
                    // an `include`) with the first file.
                    let index = error
                        .span
                        .and_then(|span| ids.iter().position(|&id| id == span.file))
                        .unwrap_or(0);
                    hardened[index].errors.push(error.located(&db));
                }
            } else {
                for file in &mut hardened {
                    file.errors = vec![format!(
                        "{}: harden's changes would not parse again; the project is left as it is (please report this)",
                        file.path
                    )];
                    file.text = file.original.clone();
                    file.changes.clear();
                }
            }
            return hardened;
        }
        let subjects = judged(&db, &lowered, judge.selection);
        if pass == 0 {
            // A value is masked in every file's diff, wherever it was found.
            let sensitive = secret_values(&subjects);
            let used = profile::used_profiles(
                &options.profiles,
                subjects.iter().map(|subject| subject.container),
            );
            for file in &mut hardened {
                file.sensitive = sensitive.clone();
            }
            // Said once for the project.
            hardened[0].profiles_used = used;
        }
        if !profile_seccomp && subjects.iter().all(|subject| subject.findings.is_empty()) {
            for file in &mut hardened {
                file.left.clear();
            }
            return hardened;
        }
        let project: Vec<ProjectFile<'_>> = ids
            .iter()
            .map(|&file| ProjectFile {
                file,
                documents: kept
                    .iter()
                    .find(|(kept, _)| *kept == file)
                    .map(|(_, documents)| documents.as_slice())
                    .unwrap_or_default(),
            })
            .collect();
        let mut changed = false;
        for (index, this) in project.iter().enumerate() {
            let input = FixInput {
                db: &db,
                file: this.file,
                documents: Some(this.documents),
                project: &project,
                subjects: &subjects,
                options,
                profile_seccomp,
            };
            let plan = fixer.plan(&input);
            changed |= apply_plan(&mut hardened[index], plan, pass);
        }
        if !changed {
            return hardened;
        }
    }
    hardened
}

/// The values of the variables that findings ask to move to a secret.
fn secret_values(subjects: &[Subject<'_>]) -> Vec<Sensitive> {
    let mut values = Vec::new();
    for subject in subjects {
        let container = subject.container;
        for finding in &subject.findings {
            let Some(Remedy::MoveToSecret { name }) = &finding.remedy else {
                continue;
            };
            let environment = container.runtime.iter().flat_map(|r| &r.environment);
            // A Dockerfile's `ENV` pairs and `ARG` defaults.
            let stages = container.build.iter().flat_map(|build| &build.stages);
            let build_env = stages.clone().flat_map(|stage| &stage.env);
            let named = environment
                .chain(build_env)
                .filter(|variable| variable.name.value == *name);
            values
                .extend(named.filter_map(|variable| Some(variable.value.as_ref()?.value.clone())));
            let args = container
                .build
                .iter()
                .flat_map(|build| &build.global_args)
                .chain(stages.flat_map(|stage| &stage.args))
                .filter(|arg| arg.name.value == *name);
            values.extend(args.filter_map(|arg| Some(arg.default.as_ref()?.value.clone())));
        }
    }
    values
}

/// Each container with its findings: the rules run per container, so a finding belongs to the
/// container it was found on (its span may point into an anchor that several share).
fn judged<'a>(db: &SourceDb, lowered: &'a Lowered, selection: &RuleSelection) -> Vec<Subject<'a>> {
    lowered
        .containers
        .iter()
        .map(|container| Subject {
            container,
            findings: leastpriv_rules::check(db, std::slice::from_ref(container), selection),
        })
        .collect()
}
