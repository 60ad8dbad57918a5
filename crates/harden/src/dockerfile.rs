//! The Dockerfile fixer: the remedies of a Dockerfile's findings, written as Dockerfile text.
//!
//! Every edit comes from a finding's [`Remedy`] and is made at the spans the front-end keeps, so the
//! rest of the file (comments, continuation lines, the `# escape=` character, CRLF line ends) stays
//! byte for byte:
//!
//! - [`Remedy::SetNonRootUser`]: an account created with the base image's own tools (`groupadd` and
//!   `useradd` on Debian, Ubuntu and Red Hat families, `addgroup -S` and `adduser -S -D` on Alpine
//!   and BusyBox, none on `scratch` and distroless) and `USER 10001:10001` at the end of the final
//!   stage, before its `CMD`/`ENTRYPOINT`, so every build step still runs as it did. An account the
//!   Dockerfile already creates (`useradd -u 1000 app`) is used instead.
//! - [`Remedy::MoveToSecret`]: a literal secret in `ENV` or an `ARG` default is removed, and every
//!   `RUN` that reads the variable gets it from a build secret (`RUN
//!   --mount=type=secret,id=…,env=NAME`, with `# syntax=docker/dockerfile:1` for BuildKit); a secret
//!   file is no longer `COPY`'d. The value is copied nowhere: the summary names the variable and the
//!   `docker build --secret` command only.
//! - [`Remedy::RemoveInstruction`]: a setuid/setgid bit a `chmod` or `--chmod` adds is taken out of
//!   the mode; a `RUN` step that writes a credential, sets a password, makes a private key or sets
//!   file capabilities, and `RUN --security=insecure`, are removed only with `--remove-dangerous`
//!   (they change what the image does on purpose); `sudo` is reported, never rewritten.
//! - [`Remedy::UsePrivateNamespace`]: `RUN --network=host` loses its flag with `--remove-dangerous`.
//! - [`Remedy::ExcludeFromBuildContext`]: left, saying what to add to which ignore file: harden
//!   edits only the files it is given, and `.dockerignore` is not one of them.
//!
//! Whatever is not applied is left with its reason. Edits of one pass never overlap: a fix that
//! would touch the bytes of an earlier one is planned again on the new text in the next pass.

use std::ops::Range;

use leastpriv_frontend::dockerfile::{layout, InstructionLayout, Layout};
use leastpriv_model::{
    references_variable, Build, Certainty, Container, CopyInstruction, Remedy, RunInstruction,
    ShellCommand, Stage, StageBase,
};
use leastpriv_rules::{Diagnostic, Layer};

use crate::edit::Edit;
use crate::known_images;
use crate::plan::{Change, FilePlan, Fix, LeftReason};
use crate::{FixInput, FixOptions, Fixer};

/// The uid and gid of the account harden creates: high enough to clash with no distribution's system
/// or first login account, the value Kubernetes' and Docker's hardening guides use.
pub const NON_ROOT_ID: u32 = 10001;

/// The name of the account harden creates.
const ACCOUNT: &str = "app";

/// The `# syntax` directive that `RUN --mount=type=secret,env=…` needs (Dockerfile frontend 1.10+).
const SYNTAX_DIRECTIVE: &str = "# syntax=docker/dockerfile:1";

/// Instructions that only describe how the image runs: the `USER` goes before them, after the last
/// build step.
const RUN_TIME_METADATA: &[&str] = &[
    "CMD",
    "ENTRYPOINT",
    "EXPOSE",
    "HEALTHCHECK",
    "STOPSIGNAL",
    "LABEL",
    "MAINTAINER",
];

/// Rules whose `RUN` step, removed, removes the finding, and that are removed only with
/// `--remove-dangerous`: each writes something into the image on purpose.
const REMOVABLE_STEPS: &[&str] = &[
    "credential-setup-in-run",
    "password-set-in-run",
    "private-key-generated",
    "file-capabilities-set",
];

/// Rules about `sudo`: reported, never rewritten (the command it runs is wanted; only its privilege
/// is not).
const SUDO_RULES: &[&str] = &["sudo-in-run", "passwordless-sudo", "sudo-installed"];

/// The fixer of Dockerfiles.
pub struct DockerfileFixer;

impl Fixer for DockerfileFixer {
    fn plan(&self, input: &FixInput<'_>) -> FilePlan {
        let source = input.db.get(input.file);
        let text = source.text();
        let mut plan = FilePlan::default();
        for subject in input.subjects {
            let findings: Vec<&Diagnostic> = subject
                .findings
                .iter()
                .filter(|finding| finding.span.file == input.file)
                .collect();
            let planned = plan_container(text, subject.container, &findings, input.options);
            plan.fixes.extend(planned.fixes);
            plan.left.extend(planned.left);
        }
        plan
    }
}

/// Plans the fixes of one Dockerfile's findings.
fn plan_container(
    text: &str,
    container: &Container,
    findings: &[&Diagnostic],
    options: &FixOptions,
) -> FilePlan {
    let mut plan = FilePlan::default();
    let Some(build) = &container.build else {
        return plan;
    };
    let file = Dockerfile::new(text, build);
    let name = container.name.as_str();
    let mut removals = Vec::new();
    let mut others = Vec::new();
    let mut user_findings = Vec::new();
    for &finding in findings {
        match &finding.remedy {
            None => plan.leave(
                name,
                finding,
                LeftReason::NotExpressible,
                "the rule names no change a Dockerfile can make",
            ),
            Some(Remedy::SetNonRootUser) => user_findings.push(finding),
            Some(Remedy::MoveToSecret { .. }) => match file.move_to_secret(finding) {
                Ok(fix) => others.push(fix),
                Err((reason, detail)) => plan.leave(name, finding, reason, detail),
            },
            Some(Remedy::RemoveInstruction) => {
                match file.remove_instruction(finding, options) {
                    Ok(fix) => removals.push(fix),
                    Err((reason, detail)) => plan.leave(name, finding, reason, detail),
                }
            }
            // The ignore file is not a file the user named: harden edits only those.
            Some(Remedy::ExcludeFromBuildContext { files, ignore_file }) => plan.leave(
                name,
                finding,
                LeftReason::InAnotherFile,
                format!(
                    "harden edits only the files it was given, not `{ignore_file}`: add {} to it",
                    files
                        .iter()
                        .map(|file| format!("`/{file}`"))
                        .collect::<Vec<_>>()
                        .join(", "),
                ),
            ),
            Some(Remedy::UsePrivateNamespace(_)) => match file.remove_run_flag(finding, options) {
                Ok(fix) => removals.push(fix),
                Err((reason, detail)) => plan.leave(name, finding, reason, detail),
            },
            Some(_) => plan.leave(
                name,
                finding,
                LeftReason::NotExpressible,
                "a Dockerfile cannot set how a container is run: set it where the container runs (Compose, Kubernetes, `docker run`)",
            ),
        }
    }
    if !user_findings.is_empty() {
        match file.set_non_root_user(&user_findings) {
            Ok(fix) => others.push(fix),
            Err((reason, detail)) => {
                for finding in user_findings {
                    plan.leave(name, finding, reason, detail.clone());
                }
            }
        }
    }
    // One `# syntax` directive, with the first fix that needs it: insertions at one offset do not
    // conflict, so each fix adding its own would write it twice.
    if let Some(first) = others.iter_mut().find(|planned| planned.mounts_secrets) {
        first.edits.extend(file.syntax_directive());
    }
    // Removals first: a step removed needs no secret mount, and its secret then goes in the next pass.
    let fixes = removals
        .into_iter()
        .chain(others)
        .map(|fix| fix.into_fix(name))
        .collect();
    plan.fixes = without_no_ops(text, fixes, &mut plan);
    plan
}

/// Why a remedy was not applied.
type Refusal = (LeftReason, String);

/// `fixes` without those whose edits would write what is already there: the finding then has a
/// cause the fix does not reach, and applying it again in every pass would claim a change each time.
/// Their remedies are left with that reason.
pub(crate) fn without_no_ops(text: &str, fixes: Vec<Fix>, plan: &mut FilePlan) -> Vec<Fix> {
    let (kept, no_ops): (Vec<Fix>, Vec<Fix>) = fixes.into_iter().partition(|fix| {
        fix.edits
            .iter()
            .any(|edit| text.get(edit.range.clone()) != Some(edit.text.as_str()))
    });
    for change in no_ops.iter().flat_map(|fix| &fix.changes) {
        plan.left.extend(change.left(
            LeftReason::UnusualSyntax,
            "the setting is already written so: the finding comes from something harden does not rewrite",
        ));
    }
    kept
}

/// A fix before it is attributed to its container.
struct Planned {
    /// Whether it adds a `RUN --mount` that needs the `# syntax` directive.
    mounts_secrets: bool,
    rules: Vec<&'static str>,
    layer: Layer,
    summary: String,
    may_break: Option<String>,
    follow_up: Option<String>,
    edits: Vec<Edit>,
}

impl Planned {
    fn new(findings: &[&Diagnostic], summary: String, edits: Vec<Edit>) -> Self {
        let mut rules: Vec<&'static str> = findings.iter().map(|f| f.rule.code).collect();
        rules.sort_unstable();
        rules.dedup();
        Self {
            mounts_secrets: false,
            rules,
            layer: findings
                .first()
                .map_or(Layer::User, |finding| finding.rule.meta.layer),
            summary,
            may_break: None,
            follow_up: None,
            edits,
        }
    }

    fn may_break(mut self, text: impl Into<String>) -> Self {
        self.may_break = Some(text.into());
        self
    }

    fn follow_up(mut self, text: impl Into<String>) -> Self {
        self.follow_up = Some(text.into());
        self
    }

    fn into_fix(self, container: &str) -> Fix {
        Fix {
            changes: vec![Change {
                container: container.to_owned(),
                rules: self.rules,
                layer: self.layer,
                summary: self.summary,
                may_break: self.may_break,
                follow_up: self.follow_up,
            }],
            edits: self.edits,
        }
    }
}

/// A Dockerfile's text with its model and layout: what the fixes are written against.
struct Dockerfile<'a> {
    text: &'a str,
    build: &'a Build,
    layout: Layout,
    newline: &'static str,
}

impl<'a> Dockerfile<'a> {
    fn new(text: &'a str, build: &'a Build) -> Self {
        let newline = match text.find('\n') {
            Some(at) if text[..at].ends_with('\r') => "\r\n",
            _ => "\n",
        };
        Self {
            text,
            build,
            layout: layout(text),
            newline,
        }
    }

    /// The instruction written at byte `at`.
    fn instruction_at(&self, at: usize) -> Option<&InstructionLayout> {
        self.layout.instructions.iter().find(|instruction| {
            let span = instruction.span.to_range();
            span.start <= at && at < span.end.max(span.start + 1)
        })
    }

    /// The bytes that deleting a whole instruction removes: its lines and their line terminator,
    /// with the comment lines right above it (they describe it), and one blank line when it was a
    /// paragraph of its own, so no orphaned comment or double blank line is left.
    fn instruction_lines(&self, instruction: &InstructionLayout) -> Range<usize> {
        let span = instruction.span.to_range();
        let start = self.comments_above(line_start(self.text, span.start));
        let end = line_end(self.text, span.end);
        let rest = &self.text[end..];
        let blank_after = rest.starts_with('\n') || rest.starts_with("\r\n");
        let blank_before = start == 0
            || self.text[..start].ends_with("\n\n")
            || self.text[..start].ends_with("\n\r\n");
        if blank_after && blank_before {
            start..line_end(self.text, end)
        } else {
            start..end
        }
    }

    /// The instructions of a stage, its `FROM` first.
    fn stage_instructions(&self, stage: &Stage) -> Vec<&InstructionLayout> {
        let start = stage.from.range.start as usize;
        let end = self
            .build
            .stages
            .get(stage.index + 1)
            .map_or(usize::MAX, |next| next.from.range.start as usize);
        self.layout
            .instructions
            .iter()
            .filter(|instruction| (start..end).contains(&(instruction.span.start as usize)))
            .collect()
    }

    // ---- user ----

    /// `USER` in the final stage, after an account made with the base image's tools.
    fn set_non_root_user(&self, findings: &[&Diagnostic]) -> Result<Planned, Refusal> {
        let build = self.build;
        let target = build.target_stage().ok_or_else(|| {
            (
                LeftReason::UnusualSyntax,
                "the Dockerfile has no stage to set the user in".to_owned(),
            )
        })?;
        if let Some(user) = build.final_user() {
            let windows_admin = user
                .value
                .user
                .eq_ignore_ascii_case("ContainerAdministrator");
            if user.value.is_root() != Certainty::Yes && !windows_admin {
                return Err((
                    LeftReason::NotExpressible,
                    format!(
                        "the image already runs as `{}`, whose uid the Dockerfile does not say: write it as `USER <uid>:<gid>`",
                        user.value
                    ),
                ));
            }
        }
        let base = base_of(build, target);
        let (account, user, creates, follow_up) = match self.existing_account() {
            Some(account) => {
                let user = account.uid.clone().unwrap_or_else(|| account.name.clone());
                (
                    None,
                    user,
                    format!("the account `{}` the Dockerfile creates", account.name),
                    None,
                )
            }
            None => match base.image().and_then(known_images::user) {
                // The account the image's entrypoint expects (its data directories belong to it),
                // as Compose's `user:` names it for the same image.
                Some(known) => (
                    None,
                    known.to_owned(),
                    format!(
                        "the image's own account, as `{}` documents it",
                        base.image().unwrap_or_default()
                    ),
                    None,
                ),
                None => self.new_account(&base),
            },
        };
        let mut insertion = String::new();
        if let Some(account) = &account {
            insertion.push_str("RUN ");
            insertion.push_str(account);
            insertion.push_str(self.newline);
        }
        insertion.push_str("USER ");
        insertion.push_str(&user);
        let instructions = self.stage_instructions(target);
        let trailing = instructions
            .iter()
            .rev()
            .take_while(|instruction| {
                instruction.keyword != "FROM"
                    && RUN_TIME_METADATA.contains(&instruction.keyword.as_str())
            })
            .last();
        let edit = match trailing {
            Some(first_metadata) => {
                let at =
                    self.comments_above(line_start(self.text, first_metadata.span.start as usize));
                insertion.push_str(self.newline);
                Edit::insert(at, insertion)
            }
            None => {
                let last = instructions
                    .last()
                    .map_or(self.text.len(), |instruction| instruction.span.end as usize);
                Edit::insert(last, format!("{}{insertion}", self.newline))
            }
        };
        let mut planned = Planned::new(
            findings,
            format!("`USER {user}` in the final stage ({creates})"),
            vec![edit],
        )
        .may_break(format!(
            "the process runs as `{user}`: it can no longer write files and directories owned by root (chown what it writes, `COPY --chown={NON_ROOT_ID}:{NON_ROOT_ID}`, or use a volume), nor bind ports below 1024 without NET_BIND_SERVICE"
        ));
        planned.layer = Layer::User;
        if let Some(follow_up) = follow_up {
            planned = planned.follow_up(follow_up);
        }
        Ok(planned)
    }

    /// The start of the comment lines right above the line at `at` (a comment that introduces the
    /// instruction stays with it).
    fn comments_above(&self, mut at: usize) -> usize {
        while at > 0 {
            let previous = line_start(self.text, at - 1);
            let line = self.text[previous..at].trim();
            if !line.starts_with('#') {
                break;
            }
            at = previous;
        }
        at
    }

    /// The account to create for the base image: the command, the `USER` value, what it says, and
    /// what the user must still check.
    fn new_account(&self, base: &Base) -> (Option<String>, String, String, Option<String>) {
        let ids = format!("{NON_ROOT_ID}:{NON_ROOT_ID}");
        match base {
            Base::Debian(image) => (
                Some(format!(
                    "groupadd --gid {NON_ROOT_ID} {ACCOUNT} && useradd --uid {NON_ROOT_ID} --gid {ACCOUNT} --no-create-home --no-log-init --shell /usr/sbin/nologin {ACCOUNT}"
                )),
                ids,
                format!("the account `{ACCOUNT}` created with `useradd`, the tool of `{image}`"),
                None,
            ),
            Base::Alpine(image) => (
                Some(format!(
                    "addgroup -S -g {NON_ROOT_ID} {ACCOUNT} && adduser -S -D -H -u {NON_ROOT_ID} -G {ACCOUNT} -s /sbin/nologin {ACCOUNT}"
                )),
                ids,
                format!("the account `{ACCOUNT}` created with BusyBox `adduser`, the tool of `{image}`"),
                None,
            ),
            Base::Windows(_) => (
                None,
                "ContainerUser".to_owned(),
                "Windows' unprivileged `ContainerUser`".to_owned(),
                None,
            ),
            Base::NoTools(image) => (
                None,
                ids,
                format!("numeric: `{image}` has no tools to create an account"),
                Some(format!(
                    "uid {NON_ROOT_ID} has no /etc/passwd entry in the image: files the process needs must be readable by it (`COPY --chown={NON_ROOT_ID}:{NON_ROOT_ID}`)"
                )),
            ),
            Base::Unknown(image) => (
                None,
                ids,
                format!("numeric: no account created, `{image}` is not an image leastpriv knows the tools of"),
                Some(format!(
                    "uid {NON_ROOT_ID} has no /etc/passwd entry: if the program needs one, create it with the base image's tools (`useradd`, `adduser`)"
                )),
            ),
        }
    }

    /// An account a `useradd`/`adduser` of the image's stages creates: the image meant to use it.
    fn existing_account(&self) -> Option<Account> {
        self.build
            .image_stages()
            .flat_map(|stage| stage.runs.iter())
            .flat_map(|run| run.commands.iter())
            .filter_map(created_account)
            .last()
    }

    // ---- secrets ----

    fn move_to_secret(&self, finding: &Diagnostic) -> Result<Planned, Refusal> {
        let at = finding.span.range;
        for stage in &self.build.stages {
            if let Some(env) = stage.env.iter().find(|env| env.name.span.range == at) {
                return self.remove_secret_variable(finding, &env.name.value, stage, Kind::Env);
            }
            if let Some(arg) = stage.args.iter().find(|arg| arg.name.span.range == at) {
                return self.remove_secret_variable(finding, &arg.name.value, stage, Kind::Arg);
            }
            if let Some(copy) = stage.copies.iter().find(|copy| {
                copy.destination.span.range == at
                    || copy.sources.iter().any(|source| source.span.range == at)
            }) {
                return self.remove_copied_secret(finding, copy);
            }
        }
        if let Some(arg) = self
            .build
            .global_args
            .iter()
            .find(|arg| arg.name.span.range == at)
        {
            let name = &arg.name.value;
            let mut edits = vec![Edit::delete(self.variable_deletion(at)?)];
            let runs: Vec<&RunInstruction> = self
                .build
                .stages
                .iter()
                .flat_map(|stage| stage.runs.iter())
                .filter(|run| run.args_used.iter().any(|used| used == name))
                .collect();
            edits.extend(self.secret_mounts(name, &runs));
            return Ok(self.secret_moved(finding, name, Kind::Arg, !runs.is_empty(), edits));
        }
        Err((
            LeftReason::NotExpressible,
            "the secret is in the built image, not written in this Dockerfile: rebuild without it and rotate it".to_owned(),
        ))
    }

    /// Removes `ENV NAME=…` or `ARG NAME[=…]` and mounts the secret into every later `RUN` of the
    /// stage (and of the stages built from it, for `ENV`) that reads it.
    fn remove_secret_variable(
        &self,
        finding: &Diagnostic,
        name: &str,
        stage: &Stage,
        kind: Kind,
    ) -> Result<Planned, Refusal> {
        let at = finding.span.range;
        let mut edits = vec![Edit::delete(self.variable_deletion(at)?)];
        let after = |run: &&RunInstruction| run.span.range.start > at.start;
        let runs: Vec<&RunInstruction> = match kind {
            Kind::Arg => stage
                .runs
                .iter()
                .filter(after)
                .filter(|run| run.args_used.iter().any(|used| used == name))
                .collect(),
            Kind::Env => self
                .descendants(stage)
                .into_iter()
                .flat_map(|stage| stage.runs.iter())
                .filter(after)
                .filter(|run| references_variable(&run.script.value, name))
                .collect(),
        };
        // An `ENV` that copies the build argument keeps it in the image config: it goes too.
        if kind == Kind::Arg {
            for env in stage.env.iter().filter(|env| {
                env.name.span.range.start > at.start
                    && env
                        .value
                        .as_ref()
                        .is_some_and(|value| references_variable(value.value.expose(), name))
            }) {
                edits.push(Edit::delete(self.variable_deletion(env.name.span.range)?));
            }
        }
        edits.extend(self.secret_mounts(name, &runs));
        Ok(self.secret_moved(finding, name, kind, !runs.is_empty(), edits))
    }

    fn secret_moved(
        &self,
        finding: &Diagnostic,
        name: &str,
        kind: Kind,
        mounted: bool,
        edits: Vec<Edit>,
    ) -> Planned {
        let id = secret_id(name);
        let keyword = kind.keyword();
        let (summary, follow_up) = if mounted {
            (
                format!(
                    "removed `{keyword} {name}`; the `RUN` steps that read it get it from a build secret (`RUN --mount=type=secret,id={id},env={name}`)"
                ),
                format!(
                    "build with `docker build --secret id={id},src=<file holding {name}> …` (BuildKit), keep that file out of the build context, and rotate the value that was committed"
                ),
            )
        } else if kind == Kind::Arg {
            (
                format!("removed `ARG {name}`: its literal secret is no longer in the Dockerfile or `docker history`"),
                format!(
                    "a step that needs `{name}` takes it as a build secret (`RUN --mount=type=secret,id={id},env={name}`, `docker build --secret id={id},src=…`); rotate the value that was committed"
                ),
            )
        } else {
            (
                format!("removed `ENV {name}`: its literal secret is no longer in the image"),
                format!(
                    "give `{name}` to the container at run time as a secret file (Compose `secrets:`, `/run/secrets/{id}`), and rotate the value that was committed"
                ),
            )
        };
        let mut planned = Planned::new(&[finding], summary, edits).follow_up(follow_up);
        planned.mounts_secrets = mounted;
        if mounted {
            planned.may_break(
                "`RUN --mount` needs BuildKit (`docker buildx build`, or Docker 23+ with its default builder); the classic builder refuses it",
            )
        } else if kind == Kind::Env {
            planned.may_break(format!(
                "the program no longer finds `{name}` in its environment unless it is given at run time"
            ))
        } else {
            planned
        }
    }

    /// The stage and every later stage built from it.
    fn descendants(&self, stage: &'a Stage) -> Vec<&'a Stage> {
        let mut found = vec![stage];
        for later in &self.build.stages[stage.index + 1..] {
            if let StageBase::Stage(parent) = later.base {
                if found.iter().any(|stage| stage.index == parent) {
                    found.push(later);
                }
            }
        }
        found
    }

    /// The `--mount=type=secret,…,env=NAME` insertions for `runs`, and the `# syntax` directive
    /// BuildKit needs for them when the file has none.
    fn secret_mounts(&self, name: &str, runs: &[&RunInstruction]) -> Vec<Edit> {
        let edits: Vec<Edit> = runs
            .iter()
            .filter_map(|run| self.instruction_at(run.span.range.start as usize))
            .map(|instruction| {
                Edit::insert(
                    instruction.keyword_range.end as usize,
                    format!(" --mount=type=secret,id={},env={name}", secret_id(name)),
                )
            })
            .collect();
        edits
    }

    /// The `# syntax` directive BuildKit needs for `--mount=type=secret,env=…`, when the file has
    /// none.
    fn syntax_directive(&self) -> Option<Edit> {
        if self.layout.directives.iter().any(|d| d == "syntax") {
            return None;
        }
        let start = if self.text.starts_with('\u{feff}') {
            3
        } else {
            0
        };
        Some(Edit::insert(
            start,
            format!("{SYNTAX_DIRECTIVE}{}", self.newline),
        ))
    }

    /// What deleting the variable named at `name` removes: its `NAME=value` pair, or the whole
    /// instruction when it is the only one.
    fn variable_deletion(&self, name: leastpriv_model::TextRange) -> Result<Range<usize>, Refusal> {
        let instruction = self.instruction_at(name.start as usize).ok_or_else(|| {
            (
                LeftReason::UnusualSyntax,
                "the variable is not in an instruction leastpriv can edit".to_owned(),
            )
        })?;
        let span = instruction.span;
        let within =
            |range: leastpriv_model::TextRange| span.start <= range.start && range.end <= span.end;
        let mut pairs: Vec<(usize, usize)> = self
            .build
            .stages
            .iter()
            .flat_map(|stage| {
                let env = stage.env.iter().map(|env| {
                    (
                        env.name.span.range,
                        env.value.as_ref().map(|value| value.span.range),
                    )
                });
                let args = stage.args.iter().map(|arg| {
                    (
                        arg.name.span.range,
                        arg.default.as_ref().map(|value| value.span.range),
                    )
                });
                env.chain(args).collect::<Vec<_>>()
            })
            .chain(self.build.global_args.iter().map(|arg| {
                (
                    arg.name.span.range,
                    arg.default.as_ref().map(|value| value.span.range),
                )
            }))
            .filter(|(name, _)| within(*name))
            .map(|(name, value)| {
                let end = value.map_or(name.end, |value| value.end.max(name.end)) as usize;
                (name.start as usize, self.past_closing_quote(end))
            })
            .collect();
        pairs.sort_unstable();
        pairs.dedup();
        let index = pairs
            .iter()
            .position(|(start, _)| *start == name.start as usize)
            .ok_or_else(|| {
                (
                    LeftReason::UnusualSyntax,
                    "the variable's value is written in a form leastpriv does not edit".to_owned(),
                )
            })?;
        Ok(match (index.checked_sub(1), pairs.get(index + 1)) {
            _ if pairs.len() == 1 => self.instruction_lines(instruction),
            (_, Some(next)) => pairs[index].0..next.0,
            (Some(previous), None) => pairs[previous].1..pairs[index].1,
            (None, None) => self.instruction_lines(instruction),
        })
    }

    /// `end`, moved past a closing quote written right there.
    fn past_closing_quote(&self, end: usize) -> usize {
        match self.text.as_bytes().get(end) {
            Some(b'"' | b'\'') => end + 1,
            _ => end,
        }
    }

    fn remove_copied_secret(
        &self,
        finding: &Diagnostic,
        copy: &CopyInstruction,
    ) -> Result<Planned, Refusal> {
        let at = finding.span.range;
        let instruction = self
            .instruction_at(copy.span.range.start as usize)
            .ok_or_else(|| {
                (
                    LeftReason::UnusualSyntax,
                    "the copy is not in an instruction leastpriv can edit".to_owned(),
                )
            })?;
        let keyword = if copy.is_add { "ADD" } else { "COPY" };
        let is_source = copy.sources.iter().any(|source| source.span.range == at);
        let written = &self.text[at.to_range()];
        let deletion = if is_source && copy.sources.len() > 1 {
            if written.starts_with('"') || self.text[..at.start as usize].ends_with('"') {
                return Err((
                    LeftReason::UnusualSyntax,
                    format!("the `{keyword}` is in JSON form: remove the secret from its sources by hand"),
                ));
            }
            // The source word and the blanks after it.
            let end = at.end as usize;
            let blanks = self.text[end..]
                .find(|ch: char| ch != ' ' && ch != '\t')
                .unwrap_or(0);
            at.start as usize..end + blanks
        } else {
            self.instruction_lines(instruction)
        };
        let file = copy
            .sources
            .iter()
            .find(|source| source.span.range == at)
            .map_or(copy.destination.value.as_str(), |source| {
                source.value.as_str()
            });
        Ok(Planned::new(
            &[finding],
            format!("`{keyword}` no longer puts `{file}` into the image"),
            vec![Edit::delete(deletion)],
        )
        .may_break(format!(
            "the program no longer finds `{file}` in the image: mount it at run time"
        ))
        .follow_up(format!(
            "give `{file}` to the container at run time as a secret file (Compose `secrets:`, or `docker run --mount type=bind,src=…,dst=…,readonly`), keep it out of the build context (.dockerignore), and rotate what it held"
        )))
    }

    // ---- instructions ----

    fn remove_instruction(
        &self,
        finding: &Diagnostic,
        options: &FixOptions,
    ) -> Result<Planned, Refusal> {
        let rule = finding.rule.meta.name;
        if rule == "setuid-bit-set" {
            return self.remove_special_bits(finding);
        }
        if SUDO_RULES.contains(&rule) {
            return Err((
                LeftReason::NotExpressible,
                "sudo is reported, not removed: run the step as root before `USER`, and do not install sudo in the image".to_owned(),
            ));
        }
        if rule == "run-security-insecure" {
            return self.remove_run_flag(finding, options);
        }
        if !REMOVABLE_STEPS.contains(&rule) {
            return Err((
                LeftReason::NotExpressible,
                "the step must be rewritten, not removed: leastpriv cannot tell what it should do instead".to_owned(),
            ));
        }
        if !options.remove_dangerous {
            return Err((
                LeftReason::NeedsRemoveDangerous,
                "removing the step changes what the image holds on purpose".to_owned(),
            ));
        }
        let (run, command) = self
            .command_at(finding.span.range)
            .or_else(|| self.only_command_of_run(finding.span.range))
            .ok_or_else(|| {
                (
                    LeftReason::UnusualSyntax,
                    "the step is not one simple command of a `RUN`".to_owned(),
                )
            })?;
        let deletion = self.command_deletion(run, command)?;
        let program = command.program().unwrap_or("the command");
        Ok(Planned::new(
            &[finding],
            format!("removed the `{program}` step that {}", step_purpose(rule)),
            vec![Edit::delete(deletion)],
        )
        .may_break(format!(
            "whatever relied on what `{program}` wrote (at build time or at run time) no longer finds it: give it at run time instead"
        )))
    }

    /// The `RUN` and its simple command whose span holds `range`.
    fn command_at(
        &self,
        range: leastpriv_model::TextRange,
    ) -> Option<(&'a RunInstruction, &'a ShellCommand)> {
        self.build
            .stages
            .iter()
            .flat_map(|stage| stage.runs.iter())
            .find_map(|run| {
                run.commands
                    .iter()
                    .filter(|command| {
                        command.span.range.start <= range.start
                            && range.end <= command.span.range.end
                    })
                    .min_by_key(|command| command.span.range.len())
                    .map(|command| (run, command))
            })
    }

    /// The `RUN` spanned by `range` when it runs a single command (a finding about what the whole
    /// step writes points at the `RUN`).
    fn only_command_of_run(
        &self,
        range: leastpriv_model::TextRange,
    ) -> Option<(&'a RunInstruction, &'a ShellCommand)> {
        let run = self
            .build
            .stages
            .iter()
            .flat_map(|stage| stage.runs.iter())
            .find(|run| run.span.range == range)?;
        match top_level_commands(run).as_slice() {
            [command] => Some((run, command)),
            _ => None,
        }
    }

    /// What removing one simple command of a `RUN` deletes: the whole `RUN` when it is the only
    /// command, else the command and the `&&` or `;` that joins it to the next (or the previous).
    fn command_deletion(
        &self,
        run: &RunInstruction,
        command: &ShellCommand,
    ) -> Result<Range<usize>, Refusal> {
        let instruction = self
            .instruction_at(run.span.range.start as usize)
            .ok_or_else(|| {
                (
                    LeftReason::UnusualSyntax,
                    "the `RUN` is not an instruction leastpriv can edit".to_owned(),
                )
            })?;
        let top_level = top_level_commands(run);
        let span = command.span.range.to_range();
        if top_level.len() == 1 && top_level[0].span.range == command.span.range {
            return Ok(self.instruction_lines(instruction));
        }
        let escape = self.layout.escape;
        // `cmd && next`: the command, the operator and the blanks (and line continuations) after it.
        let after = skip_blanks(self.text, span.end, escape);
        for operator in ["&&", ";"] {
            if self.text[after..].starts_with(operator) {
                let next = skip_blanks(self.text, after + operator.len(), escape);
                return Ok(span.start..next);
            }
        }
        // `previous && cmd` at the end: the operator before it.
        let before = skip_blanks_back(self.text, span.start, escape);
        for operator in ["&&", ";"] {
            if self.text[..before].ends_with(operator) {
                let previous = skip_blanks_back(self.text, before - operator.len(), escape);
                return Ok(previous..span.end);
            }
        }
        // A line of its own in a heredoc script: the line goes.
        let start = line_start(self.text, span.start);
        let end = line_end(self.text, span.end);
        let alone = self.text[start..span.start].trim().is_empty()
            && self.text[span.end..end].trim().is_empty();
        let first_line_end = line_end(self.text, instruction.span.start as usize);
        let previous_continues = start > 0
            && self.text[..start - 1]
                .trim_end_matches('\r')
                .trim_end_matches([' ', '\t'])
                .ends_with(self.layout.escape);
        let opens_heredoc =
            self.text[instruction.span.start as usize..first_line_end].contains("<<");
        if alone && start >= first_line_end && !previous_continues && opens_heredoc {
            return Ok(start..end);
        }
        Err((
            LeftReason::UnusualSyntax,
            "the step is joined to others by `||`, a pipe or a block: remove it by hand".to_owned(),
        ))
    }

    /// Takes the setuid and setgid bits out of a `chmod` or `--chmod` mode.
    fn remove_special_bits(&self, finding: &Diagnostic) -> Result<Planned, Refusal> {
        let range = finding.span.range.to_range();
        let whole = &self.text[range.clone()];
        // `--chmod=4755` is spanned as a whole flag; a `chmod` mode as its word.
        let flag_prefix = whole.find("--chmod=").map_or(0, |at| at + "--chmod=".len());
        let range = range.start + flag_prefix..range.end;
        let written = &self.text[range.clone()];
        let (offset, mode) = match written.find(|ch: char| ch != '"' && ch != '\'') {
            Some(start) => {
                let end = written[start..]
                    .find(['"', '\''])
                    .map_or(written.len(), |end| start + end);
                (start, &written[start..end])
            }
            None => (0, written),
        };
        let mode_range = range.start + offset..range.start + offset + mode.len();
        let unusual = || {
            (
                LeftReason::UnusualSyntax,
                format!("the mode `{mode}` is not written in a form leastpriv rewrites"),
            )
        };
        match without_special_bits(mode) {
            Some(stripped) if stripped == mode => Err(unusual()),
            Some(stripped) if !stripped.is_empty() => Ok(Planned::new(
                &[finding],
                format!("mode `{mode}` became `{stripped}`: no setuid or setgid bit"),
                vec![Edit::replace(mode_range, stripped)],
            )
            .may_break(
                "the program no longer runs with its owner's (root's) privileges for other users",
            )),
            Some(_) => {
                // `chmod u+s file` does nothing else: the command goes.
                if let Some((run, command)) = self.command_at(finding.span.range) {
                    let deletion = self.command_deletion(run, command)?;
                    return Ok(Planned::new(
                        &[finding],
                        format!("removed `chmod {mode}`: no setuid or setgid bit"),
                        vec![Edit::delete(deletion)],
                    )
                    .may_break("the program no longer runs with its owner's (root's) privileges for other users"));
                }
                // `COPY --chmod=u+s`: the flag goes, with the blanks after it.
                let flag_start = self.text[..range.start]
                    .rfind("--chmod=")
                    .ok_or_else(unusual)?;
                let end = skip_blanks(self.text, range.end, self.layout.escape);
                Ok(Planned::new(
                    &[finding],
                    format!("removed `--chmod={mode}`: no setuid or setgid bit"),
                    vec![Edit::delete(flag_start..end)],
                ))
            }
            None => Err(unusual()),
        }
    }

    /// Removes a `RUN --network=host` or `RUN --security=insecure` flag.
    fn remove_run_flag(
        &self,
        finding: &Diagnostic,
        options: &FixOptions,
    ) -> Result<Planned, Refusal> {
        let at = finding.span.range;
        let flag = self
            .build
            .stages
            .iter()
            .flat_map(|stage| stage.runs.iter())
            .find_map(|run| {
                [&run.flags.network, &run.flags.security]
                    .into_iter()
                    .flatten()
                    .find(|flag| flag.span.range == at)
            })
            .ok_or_else(|| {
                (
                    LeftReason::NotExpressible,
                    "only a `RUN` flag can be removed from a Dockerfile".to_owned(),
                )
            })?;
        if !options.remove_dangerous {
            return Err((
                LeftReason::NeedsRemoveDangerous,
                "the step may need what the flag gives it (the host's network, an insecure build)"
                    .to_owned(),
            ));
        }
        let written = &self.text[at.to_range()];
        let end = skip_blanks(self.text, at.end as usize, self.layout.escape);
        Ok(Planned::new(
            &[finding],
            format!("removed `{written}` from the `RUN`"),
            vec![Edit::delete(at.start as usize..end)],
        )
        .may_break(format!(
            "the step runs without `{}`: it may fail if it needed it",
            flag.value
        )))
    }
}

/// An `ENV` or an `ARG`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Env,
    Arg,
}

impl Kind {
    fn keyword(self) -> &'static str {
        match self {
            Kind::Env => "ENV",
            Kind::Arg => "ARG",
        }
    }
}

/// The build secret id for a variable: its name in lower case, as the rules' fixes spell it.
fn secret_id(name: &str) -> String {
    name.to_ascii_lowercase()
}

/// The commands of a `RUN` that are not inside another one (`$(…)`).
fn top_level_commands(run: &RunInstruction) -> Vec<&ShellCommand> {
    run.commands
        .iter()
        .filter(|other| {
            !run.commands.iter().any(|outer| {
                outer.span.range != other.span.range
                    && outer.span.range.start <= other.span.range.start
                    && other.span.range.end <= outer.span.range.end
            })
        })
        .collect()
}

/// What a removable step does, for the summary.
fn step_purpose(rule: &str) -> &'static str {
    match rule {
        "credential-setup-in-run" => "wrote a credential into the image",
        "password-set-in-run" => "set a password",
        "private-key-generated" => "made a private key in the image",
        _ => "set file capabilities",
    }
}

/// The family of tools the final stage's base image creates accounts with.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Base {
    /// `groupadd`/`useradd` (shadow-utils): Debian, Ubuntu, Red Hat families.
    Debian(String),
    /// BusyBox `addgroup`/`adduser`: Alpine, BusyBox, Wolfi.
    Alpine(String),
    /// No shell or no tools: `scratch`, distroless, static images.
    NoTools(String),
    /// A Windows image: `ContainerUser` is its unprivileged account.
    Windows(String),
    /// An image leastpriv knows nothing of.
    Unknown(String),
}

impl Base {
    /// The image reference, for an image (not `scratch`, not an unknown earlier stage).
    fn image(&self) -> Option<&str> {
        match self {
            Base::Debian(image) | Base::Alpine(image) | Base::Windows(image) => Some(image),
            Base::Unknown(image) if image != UNKNOWN_STAGE => Some(image),
            Base::NoTools(_) | Base::Unknown(_) => None,
        }
    }
}

/// What [`base_of`] says of a stage chain it cannot follow.
const UNKNOWN_STAGE: &str = "an earlier stage";

/// The base image the stage is built on, following stage aliases.
fn base_of(build: &Build, stage: &Stage) -> Base {
    let mut stage = stage;
    for _ in 0..=build.stages.len() {
        match &stage.base {
            StageBase::Scratch => return Base::NoTools("scratch".to_owned()),
            StageBase::Image(image) => return classify(&image.value),
            StageBase::Stage(index) => match build.stages.get(*index) {
                Some(parent) if parent.index < stage.index => stage = parent,
                _ => break,
            },
        }
    }
    Base::Unknown(UNKNOWN_STAGE.to_owned())
}

/// Which tools an image reference's image has, known from its name and tag.
fn classify(image: &str) -> Base {
    let reference = image.to_ascii_lowercase();
    let without_digest = reference.split('@').next().unwrap_or(&reference);
    let (repository, tag) = match without_digest.rsplit_once(':') {
        Some((repository, tag)) if !tag.contains('/') => (repository, tag),
        _ => (without_digest, ""),
    };
    let name = repository.rsplit('/').next().unwrap_or(repository);
    let owned = image.to_owned();
    if repository.contains("windows") || repository.contains("nanoserver") {
        return Base::Windows(owned);
    }
    if repository.contains("distroless")
        || tag.contains("distroless")
        || tag.contains("chiseled")
        || repository.ends_with("chainguard/static")
        || name == "scratch"
    {
        return Base::NoTools(owned);
    }
    if matches!(name, "alpine" | "busybox" | "wolfi-base")
        || tag.contains("alpine")
        || name.ends_with("-alpine")
    {
        return Base::Alpine(owned);
    }
    const DEBIAN_LIKE: &[&str] = &[
        "debian",
        "ubuntu",
        "node",
        "python",
        "golang",
        "ruby",
        "rust",
        "openjdk",
        "php",
        "perl",
        "buildpack-deps",
        "nginx",
        "httpd",
        "postgres",
        "redis",
        "mysql",
        "mariadb",
        "mongo",
        "eclipse-temurin",
        "maven",
        "gradle",
        "gcc",
        "haproxy",
        "rabbitmq",
        "elixir",
        "erlang",
        "julia",
        "r-base",
        "centos",
        "fedora",
        "rockylinux",
        "almalinux",
        "oraclelinux",
        "ubi8",
        "ubi9",
        "ubi",
        "tomcat",
        "jenkins",
        "sapmachine",
        "swift",
        "dart",
        "clojure",
        "pypy",
        "aspnet",
        "runtime",
        "sdk",
        "runtime-deps",
    ];
    const DEBIAN_TAGS: &[&str] = &[
        "bookworm", "bullseye", "buster", "trixie", "jammy", "noble", "focal", "slim",
    ];
    if DEBIAN_LIKE.contains(&name) || DEBIAN_TAGS.iter().any(|known| tag.contains(known)) {
        return Base::Debian(owned);
    }
    Base::Unknown(owned)
}

/// An account a `RUN` creates.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Account {
    name: String,
    uid: Option<String>,
}

/// The account `useradd …`/`adduser …` creates, with its uid when given.
fn created_account(command: &ShellCommand) -> Option<Account> {
    let program = command.program()?;
    if program != "useradd" && program != "adduser" {
        return None;
    }
    const TAKES_VALUE: &[&str] = &[
        "-b",
        "-c",
        "-d",
        "-e",
        "-f",
        "-g",
        "-G",
        "-h",
        "-k",
        "-K",
        "-p",
        "-P",
        "-R",
        "-s",
        "-u",
        "-Z",
        "--base-dir",
        "--comment",
        "--home-dir",
        "--home",
        "--expiredate",
        "--inactive",
        "--gid",
        "--groups",
        "--skel",
        "--key",
        "--password",
        "--root",
        "--prefix",
        "--shell",
        "--uid",
        "--selinux-user",
        "--gecos",
        "--ingroup",
        "--firstuid",
        "--lastuid",
        "--conf",
    ];
    let mut name = None;
    let mut uid = None;
    let mut args = command.args().iter();
    while let Some(arg) = args.next() {
        let arg = arg.value.as_str();
        if let Some(value) = arg.strip_prefix("--uid=") {
            uid = Some(value.to_owned());
        } else if arg == "-u" || arg == "--uid" {
            uid = args.next().map(|value| value.value.clone());
        } else if TAKES_VALUE.contains(&arg) {
            args.next();
        } else if !arg.starts_with('-') {
            name = Some(arg.to_owned());
        }
    }
    let uid = uid.filter(|uid| {
        uid.bytes().all(|b| b.is_ascii_digit()) && uid.parse::<u64>().is_ok_and(|uid| uid > 0)
    });
    let name = name.filter(|name| !name.contains('$') && name != "root")?;
    Some(Account { name, uid })
}

/// A `chmod` mode without its setuid and setgid bits: `4755` → `0755`, `u+sx` → `u+x`, `u+s` → ``
/// (nothing left to do); `None` for a form not rewritten.
fn without_special_bits(mode: &str) -> Option<String> {
    if !mode.is_empty() && mode.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
        if mode.len() < 4 {
            return Some(mode.to_owned());
        }
        let (special, rest) = mode.split_at(mode.len() - 3);
        let special = u32::from_str_radix(special, 8).ok()? & 0o1;
        return Some(format!("{special}{rest}"));
    }
    let mut clauses = Vec::new();
    for clause in mode.split(',') {
        let operator = clause.find(['+', '-', '='])?;
        let (who, rest) = clause.split_at(operator);
        if !who.bytes().all(|b| b"ugoa".contains(&b)) {
            return None;
        }
        if rest.starts_with('-') {
            clauses.push(clause.to_owned());
            continue;
        }
        let kept: String = rest.chars().filter(|&ch| ch != 's').collect();
        if kept.len() > 1 || kept.starts_with('=') {
            clauses.push(format!("{who}{kept}"));
        }
    }
    Some(clauses.join(","))
}

/// The start of the line holding byte `at`.
fn line_start(text: &str, at: usize) -> usize {
    text[..at].rfind('\n').map_or(0, |newline| newline + 1)
}

/// The end of the line holding byte `at`, its terminator included.
fn line_end(text: &str, at: usize) -> usize {
    text[at..]
        .find('\n')
        .map_or(text.len(), |newline| at + newline + 1)
}

/// `at`, moved past blanks and line continuations (the escape character, a line end).
pub(crate) fn skip_blanks(text: &str, mut at: usize, escape: char) -> usize {
    loop {
        let rest = &text[at..];
        let trimmed = rest.trim_start_matches([' ', '\t']);
        at += rest.len() - trimmed.len();
        let continued = trimmed
            .strip_prefix(escape)
            .map(|after| after.trim_start_matches([' ', '\t']))
            .and_then(|after| {
                after
                    .strip_prefix("\r\n")
                    .or_else(|| after.strip_prefix('\n'))
            });
        match continued {
            Some(after) => at = text.len() - after.len(),
            None => return at,
        }
    }
}

/// `at`, moved back over blanks and line continuations.
fn skip_blanks_back(text: &str, mut at: usize, escape: char) -> usize {
    loop {
        let before = &text[..at];
        let trimmed = before.trim_end_matches([' ', '\t']);
        let continued = trimmed
            .strip_suffix('\n')
            .map(|line| line.strip_suffix('\r').unwrap_or(line))
            .map(|line| line.trim_end_matches([' ', '\t']))
            .and_then(|line| line.strip_suffix(escape));
        match continued {
            Some(line) => at = line.len(),
            None => return trimmed.len(),
        }
    }
}

/// Test support shared by the fixers' unit tests: harden a text through the real front-end and
/// rules, in passes as `leastpriv harden` does.
#[cfg(test)]
pub(crate) mod testing {
    use leastpriv_frontend::InputKind;
    use leastpriv_rules::{check, RuleSelection, Severity};
    use leastpriv_source::SourceDb;

    use crate::{FixOptions, Fixer, Hardened, Judge};

    /// The findings of `text` at `minimum` severity or above, as `CODE name`.
    pub(crate) fn findings(
        path: &str,
        text: &str,
        kind: InputKind,
        minimum: Severity,
    ) -> Vec<String> {
        let db = SourceDb::new();
        let file = db.add(path, text.to_owned());
        let lowered =
            leastpriv_frontend::lower(&db, file, kind, &leastpriv_frontend::Options::default());
        assert!(lowered.errors.is_empty(), "{:?}", lowered.errors);
        check(&db, &lowered.containers, &RuleSelection::all())
            .iter()
            .filter(|finding| finding.severity >= minimum)
            .map(|finding| format!("{} {}", finding.rule.code, finding.rule.meta.name))
            .collect()
    }

    /// Hardens `text` as `leastpriv harden` does, and checks that hardening the result again
    /// changes nothing.
    pub(crate) fn harden(
        path: &str,
        text: &str,
        kind: InputKind,
        fixer: &dyn Fixer,
        options: &FixOptions,
    ) -> Hardened {
        let frontend = leastpriv_frontend::Options::default();
        let selection = RuleSelection::all();
        let judge = Judge {
            options: &frontend,
            selection: &selection,
        };
        let first = crate::harden(path, text, kind, fixer, &judge, options);
        assert!(
            first.errors.is_empty(),
            "{:?}\n{}",
            first.errors,
            first.text
        );
        // A fix that changes nothing would be applied again in every pass: each change once.
        for (index, change) in first.changes.iter().enumerate() {
            assert!(
                !first.changes[..index].contains(change),
                "made twice: {change:?}"
            );
        }
        let again = crate::harden(path, &first.text, kind, fixer, &judge, options);
        assert_eq!(again.text, first.text, "hardening is idempotent");
        assert!(again.changes.is_empty(), "{:?}", again.changes);
        first
    }
}

#[cfg(test)]
mod tests {
    use leastpriv_frontend::InputKind;
    use leastpriv_rules::Severity;

    use super::testing::{findings, harden};
    use super::*;
    use crate::Hardened;

    fn hardened(text: &str) -> Hardened {
        harden(
            "Dockerfile",
            text,
            InputKind::Dockerfile,
            &DockerfileFixer,
            &FixOptions::default(),
        )
    }

    fn dangerous(text: &str) -> Hardened {
        let options = FixOptions {
            remove_dangerous: true,
            ..FixOptions::default()
        };
        harden(
            "Dockerfile",
            text,
            InputKind::Dockerfile,
            &DockerfileFixer,
            &options,
        )
    }

    fn medium_or_above(text: &str) -> Vec<String> {
        findings("Dockerfile", text, InputKind::Dockerfile, Severity::Medium)
    }

    #[test]
    fn debian_base_gets_useradd_and_user_before_cmd() {
        let result =
            hardened("FROM debian:bookworm-slim\nRUN apt-get update\n# start it\nCMD [\"app\"]\n");
        assert_eq!(
            result.text,
            "FROM debian:bookworm-slim\nRUN apt-get update\nRUN groupadd --gid 10001 app && useradd --uid 10001 --gid app --no-create-home --no-log-init --shell /usr/sbin/nologin app\nUSER 10001:10001\n# start it\nCMD [\"app\"]\n"
        );
        assert!(medium_or_above(&result.text).is_empty());
    }

    #[test]
    fn alpine_and_aliases_use_busybox_tools() {
        let result = hardened(
            "FROM node:20-alpine AS base\nWORKDIR /app\nFROM base\nCOPY . .\nENTRYPOINT [\"node\"]\n",
        );
        assert!(result.text.contains(
            "COPY . .\nRUN addgroup -S -g 10001 app && adduser -S -D -H -u 10001 -G app -s /sbin/nologin app\nUSER 10001:10001\nENTRYPOINT"
        ), "{}", result.text);
    }

    #[test]
    fn scratch_and_distroless_get_a_numeric_user_only() {
        for base in ["scratch", "gcr.io/distroless/static-debian12"] {
            let result = hardened(&format!(
                "FROM golang:1.22 AS build\nRUN go build -o /app .\nFROM {base}\nCOPY --from=build /app /app\nENTRYPOINT [\"/app\"]"
            ));
            assert!(
                result.text.ends_with(
                    "COPY --from=build /app /app\nUSER 10001:10001\nENTRYPOINT [\"/app\"]"
                ),
                "{}",
                result.text
            );
        }
    }

    #[test]
    fn an_account_the_dockerfile_creates_is_used() {
        let result = hardened("FROM ubuntu:24.04\nRUN useradd -m -u 1500 builder\nRUN make");
        assert!(
            result.text.ends_with("RUN make\nUSER 1500"),
            "{}",
            result.text
        );
        let result = hardened("FROM alpine:3\nRUN adduser -D web\nRUN make\n");
        assert!(
            result.text.ends_with("RUN make\nUSER web\n"),
            "{}",
            result.text
        );
    }

    #[test]
    fn a_known_image_runs_as_its_own_account() {
        let result =
            hardened("FROM postgres:16-bookworm\nCOPY init.sql /docker-entrypoint-initdb.d/\n");
        assert_eq!(
            result.text,
            "FROM postgres:16-bookworm\nCOPY init.sql /docker-entrypoint-initdb.d/\nUSER postgres\n"
        );
    }

    #[test]
    fn user_root_at_the_end_is_overridden_and_crlf_kept() {
        let result = hardened("FROM ubuntu:24.04\r\nUSER root\r\nCMD [\"x\"]\r\n");
        assert_eq!(
            result.text,
            "FROM ubuntu:24.04\r\nUSER root\r\nRUN groupadd --gid 10001 app && useradd --uid 10001 --gid app --no-create-home --no-log-init --shell /usr/sbin/nologin app\r\nUSER 10001:10001\r\nCMD [\"x\"]\r\n"
        );
    }

    #[test]
    fn secret_env_and_arg_move_to_build_secrets() {
        let text = "# escape=`\nFROM python:3.12\nARG PIP_TOKEN=s3cr3t-pip-t0ken-value-123\nENV APP_ENV=prod `\n    API_KEY=sk_live_abcdef0123456789abcd `\n    LOG=info\nRUN pip install --index-url https://x:$PIP_TOKEN@pypi.example.com/simple app `\n    && echo $API_KEY > /dev/null\nUSER 10001:10001\n";
        let result = hardened(text);
        assert!(!result.text.contains("s3cr3t-pip"), "{}", result.text);
        assert!(!result.text.contains("sk_live"), "{}", result.text);
        assert_eq!(
            result.text,
            "# syntax=docker/dockerfile:1\n# escape=`\nFROM python:3.12\nENV APP_ENV=prod `\n    LOG=info\nRUN --mount=type=secret,id=pip_token,env=PIP_TOKEN --mount=type=secret,id=api_key,env=API_KEY pip install --index-url https://x:$PIP_TOKEN@pypi.example.com/simple app `\n    && echo $API_KEY > /dev/null\nUSER 10001:10001\n"
        );
        assert!(
            medium_or_above(&result.text).is_empty(),
            "{:?}",
            medium_or_above(&result.text)
        );
        let summaries: Vec<_> = result
            .changes
            .iter()
            .map(|c| c.follow_up.clone().unwrap_or_default())
            .collect();
        assert!(
            summaries
                .iter()
                .any(|s| s.contains("docker build --secret id=pip_token,src=")),
            "{summaries:?}"
        );
        for change in &result.changes {
            let shown = format!("{change:?}");
            assert!(!shown.contains("s3cr3t") && !shown.contains("sk_live"));
        }
    }

    #[test]
    fn quoted_legacy_and_neighbouring_secrets_leave_no_trace() {
        let result = hardened(
            "FROM alpine:3\nENV DB_PASSWORD \"planted quoted passw0rd\"\nENV API_KEY=\"sk_live_0123456789abcdefABCDEF\" SECRET_KEY='planted-Secret-Key-99' MODE=on\nUSER 10001:10001\n",
        );
        assert_eq!(
            result.text,
            "FROM alpine:3\nENV MODE=on\nUSER 10001:10001\n"
        );
    }

    #[test]
    fn secret_files_are_no_longer_copied() {
        let result = hardened(
            "FROM alpine:3\nCOPY .env /app/.env\nCOPY id_rsa config.yaml /app/\nUSER 10001:10001\n",
        );
        assert_eq!(
            result.text,
            "FROM alpine:3\nCOPY config.yaml /app/\nUSER 10001:10001\n"
        );
    }

    #[test]
    fn setuid_bits_are_taken_out_and_sudo_is_left() {
        let result = hardened(
            "FROM debian:12\nRUN chmod 4755 /usr/bin/find && chmod u+s /bin/bash \\\n && echo done\nRUN apt-get install -y sudo && sudo ls\nUSER 10001:10001\n",
        );
        assert_eq!(
            result.text,
            "FROM debian:12\nRUN chmod 0755 /usr/bin/find && echo done\nRUN apt-get install -y sudo && sudo ls\nUSER 10001:10001\n"
        );
        let sudo: Vec<_> = result
            .left
            .iter()
            .filter(|left| left.detail.starts_with("sudo is reported"))
            .map(|left| left.rule)
            .collect();
        assert!(!sudo.is_empty(), "{:?}", result.left);
    }

    #[test]
    fn credential_steps_go_only_with_remove_dangerous() {
        let text = "FROM debian:12\nARG GITHUB_TOKEN=ghp_FAKE0example0token0000000000000000\nRUN printf 'https://x:%s@github.com\\n' \"$GITHUB_TOKEN\" > /root/.git-credentials\nUSER 10001:10001\n";
        let kept = hardened(text);
        assert!(kept
            .left
            .iter()
            .any(|left| left.reason == LeftReason::NeedsRemoveDangerous));
        let removed = dangerous(text);
        assert_eq!(removed.text, "FROM debian:12\nUSER 10001:10001\n");
    }

    #[test]
    fn windows_images_run_as_container_user() {
        let result = hardened(
            "# escape=`\r\nFROM mcr.microsoft.com/windows/servercore:ltsc2022\r\nRUN powershell -Command `\r\n    Write-Host hi\r\nCMD [\"cmd\"]\r\n",
        );
        assert_eq!(
            result.text,
            "# escape=`\r\nFROM mcr.microsoft.com/windows/servercore:ltsc2022\r\nRUN powershell -Command `\r\n    Write-Host hi\r\nUSER ContainerUser\r\nCMD [\"cmd\"]\r\n"
        );
    }

    #[test]
    fn unusual_forms_are_hardened_or_left_never_broken() {
        for text in [
            "FROM alpine:3\nRUN <<EOF\nchmod u+s /bin/busybox\necho done\nEOF\nCMD [\"sh\"]\n",
            "FROM debian:12\nCOPY [\".env\", \"/app/.env\"]\nCOPY [\"id_rsa\", \"app\", \"/srv/\"]\n",
            "FROM debian:12\nARG API_TOKEN=planted0api0token0value A=1\nRUN [\"sh\", \"-c\", \"curl -H $API_TOKEN x\"]\n",
            "FROM debian:12\nRUN chmod u+s /usr/bin/find || true\nRUN echo $(chmod 4755 /bin/sh)\n",
            "FROM debian:12\nRUN --network=host --security=insecure apt-get update\n",
            "\u{feff}FROM node:20\nENV NPM_TOKEN=npm_planted0token0value0000000000000\nRUN npm ci\n",
            "FROM debian:12 AS a\nFROM a AS b\nFROM b\nUSER 0\n",
            "FROM $BASE\nCMD x\n",
        ] {
            for options in [FixOptions::default(), FixOptions { remove_dangerous: true, ..FixOptions::default() }] {
                let result = harden("Dockerfile", text, InputKind::Dockerfile, &DockerfileFixer, &options);
                assert!(!result.text.contains("planted0"), "{}", result.text);
                assert!(!result.text.contains("u+s /bin/busybox"), "{}", result.text);
            }
        }
    }

    #[test]
    fn a_fix_that_writes_what_is_there_is_left_not_claimed() {
        let change = |summary: &str| Change {
            container: "c".to_owned(),
            rules: vec!["LP501"],
            layer: Layer::Filesystem,
            summary: summary.to_owned(),
            may_break: None,
            follow_up: None,
        };
        let fixes = vec![
            Fix {
                changes: vec![change("same")],
                edits: vec![Edit::replace(4..7, "nnp")],
            },
            Fix {
                changes: vec![change("new")],
                edits: vec![Edit::insert(0, "x ")],
            },
        ];
        let mut plan = FilePlan::default();
        let kept = without_no_ops("run nnp", fixes, &mut plan);
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0].changes[0].summary, "new");
        assert_eq!(plan.left.len(), 1);
        assert_eq!(plan.left[0].reason, LeftReason::UnusualSyntax);
    }

    #[test]
    fn mode_rewrites() {
        assert_eq!(without_special_bits("4755").as_deref(), Some("0755"));
        assert_eq!(without_special_bits("6711").as_deref(), Some("0711"));
        assert_eq!(without_special_bits("755").as_deref(), Some("755"));
        assert_eq!(without_special_bits("u+sx,g+s").as_deref(), Some("u+x"));
        assert_eq!(without_special_bits("u+s").as_deref(), Some(""));
        assert_eq!(without_special_bits("a=rxs").as_deref(), Some("a=rx"));
        assert_eq!(without_special_bits("$MODE"), None);
    }

    #[test]
    fn bases_are_classified_by_name_and_tag() {
        assert!(matches!(classify("debian:bookworm"), Base::Debian(_)));
        assert!(matches!(
            classify("docker.io/library/python:3.12-slim"),
            Base::Debian(_)
        ));
        assert!(matches!(
            classify("python:3.12-alpine3.19"),
            Base::Alpine(_)
        ));
        assert!(matches!(classify("busybox:musl"), Base::Alpine(_)));
        assert!(matches!(
            classify("gcr.io/distroless/base:nonroot"),
            Base::NoTools(_)
        ));
        assert!(matches!(
            classify("mcr.microsoft.com/windows/servercore:ltsc2022"),
            Base::Windows(_)
        ));
        assert!(matches!(
            classify("registry.example.com/team/thing:1"),
            Base::Unknown(_)
        ));
    }
}
