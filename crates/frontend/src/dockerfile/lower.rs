//! Lowering the syntax tree into the model's [`Build`]: one pass over the instructions, stage by stage.
//!
//! Each instruction's arguments are split as BuildKit splits them, expanded in the scope of the stage
//! (`stages.rs`), and recorded with the span of the text they were written as. `RUN` scripts are
//! split into commands by `shell.rs`. Whatever is wrong is recorded as an error at its place and the
//! instruction is skipped or lowered as far as it can be.

use leastpriv_secrets::{message, Quoted};
use std::cell::{Cell, RefCell};
use std::collections::HashSet;
use std::ops::Range;
use std::rc::Rc;

use leastpriv_model::{
    Build, BuildArg, CopyInstruction, EnvVar, PortSpec, Protocol, RunFlags, RunInstruction,
    Sensitive, ShellCommand, Stage, StageBase, User,
};
use leastpriv_source::{FileId, Span, Spanned, TextRange};

use super::expand::{Expander, Scope, Var};
use super::shell::{self, ShellContext, ShellScript};
use super::stages::{is_valid_stage_name, join_workdir, Inherited, StageNames, StageScope, Vars};
use super::syntax::words::{is_space, parse_json_array, split_words, JsonString, RawFlag};
use super::syntax::{Dockerfile, Instruction, Keyword, Mapped, SyntaxError};
use crate::budget::ExpansionBudget;
use crate::Options;

/// The most shell words recorded for one file: far more than any real Dockerfile holds.
const MAX_SHELL_WORDS: usize = 200_000;

/// The most values reported one by one as left unknown at an expansion bound; the rest are counted.
const MAX_GAVE_UP_REPORTS: usize = 10;

/// `1.5 MiB`, `300 KiB`.
fn human_size(bytes: usize) -> String {
    if bytes >= 1 << 20 {
        format!("{:.1} MiB", bytes as f64 / f64::from(1u32 << 20))
    } else {
        format!("{} KiB", bytes.div_ceil(1024))
    }
}

/// The result of lowering: the build, when there is a stage, and the errors found.
pub(crate) struct Lowering {
    pub(crate) build: Option<Build>,
    pub(crate) errors: Vec<SyntaxError>,
}

/// Lowers a parsed Dockerfile of `text_len` bytes.
pub(crate) fn lower(
    dockerfile: &Dockerfile,
    text_len: usize,
    file: FileId,
    options: &Options,
) -> Lowering {
    let mut lowerer = Lowerer {
        file,
        escape: dockerfile.escape,
        options,
        budget: ExpansionBudget::for_input(text_len),
        gave_up_count: Cell::new(0),
        last_gave_up: Cell::new(None),
        errors: RefCell::new(Vec::new()),
        before_first_from: Vec::new(),
        globals: Vars::default(),
        global_args: Vec::new(),
        stages: Vec::new(),
        finals: Vec::new(),
        names: StageNames::default(),
        shell_words_left: Cell::new(MAX_SHELL_WORDS),
        shell_words_spent: Cell::new(false),
        scope: StageScope::default(),
    };
    for instruction in &dockerfile.instructions {
        lowerer.instruction(instruction);
    }
    lowerer.finish(dockerfile)
}

struct Lowerer<'a> {
    file: FileId,
    escape: char,
    options: &'a Options,
    budget: ExpansionBudget,
    /// Values left unknown at an expansion bound, and where the last one is.
    gave_up_count: Cell<usize>,
    last_gave_up: Cell<Option<TextRange>>,
    errors: RefCell<Vec<SyntaxError>>,
    /// Instructions other than `ARG` before the first `FROM`.
    before_first_from: Vec<SyntaxError>,
    /// Global `ARG`s with their values (build arguments applied).
    globals: Vars,
    global_args: Vec<BuildArg>,
    stages: Vec<Stage>,
    /// What each finished stage hands to a stage built `FROM` it.
    finals: Vec<Rc<Inherited>>,
    names: StageNames,
    shell_words_left: Cell<usize>,
    shell_words_spent: Cell<bool>,
    /// The variables of the stage being lowered.
    scope: StageScope,
}

impl Lowerer<'_> {
    fn finish(self, dockerfile: &Dockerfile) -> Lowering {
        let mut errors = self.errors.into_inner();
        let unreported = self.gave_up_count.get().saturating_sub(MAX_GAVE_UP_REPORTS);
        if let (true, Some(range)) = (unreported > 0, self.last_gave_up.get()) {
            errors.push(SyntaxError {
                range,
                message: format!(
                    "{unreported} more values are not expanded (expansion budget), the last one here"
                ),
            });
        }
        // Without any `FROM`, "`FROM` missing" says it all.
        if !self.stages.is_empty() {
            errors.extend(self.before_first_from);
        }
        let build = if self.stages.is_empty() {
            let at = dockerfile
                .instructions
                .first()
                .map_or(TextRange::empty(0), |first| {
                    first.file_range(first.keyword_range.clone())
                });
            errors.push(SyntaxError {
                range: at,
                message: "`FROM` missing".to_owned(),
            });
            None
        } else {
            let target = match super::stages::target(
                &self.stages,
                &self.names,
                self.options.target.as_deref(),
            ) {
                Ok(target) => target,
                Err(message) => {
                    let last = &self.stages[self.stages.len() - 1];
                    errors.push(SyntaxError {
                        range: last.from.range,
                        message: format!("{message}; the last stage is audited"),
                    });
                    self.stages.len() - 1
                }
            };
            Some(Build {
                stages: self.stages,
                target,
                global_args: self.global_args,
                context: None,
            })
        };
        Lowering { build, errors }
    }

    fn error(&self, range: TextRange, message: impl Into<String>) {
        self.errors.borrow_mut().push(SyntaxError {
            range,
            message: message.into(),
        });
    }

    fn span(&self, range: TextRange) -> Span {
        Span::new(self.file, range)
    }

    fn line_span(&self, instruction: &Instruction, range: Range<usize>) -> Span {
        self.span(instruction.file_range(range))
    }

    /// `instruction.line[range]` expanded in `scope`; on an error, recorded where it is, the text is
    /// kept as written and marked unresolved.
    fn expand(&self, scope: &dyn Scope, instruction: &Instruction, range: Range<usize>) -> Var {
        let raw = &instruction.line.text()[range.clone()];
        match Expander::new(self.escape, scope, &self.budget).word(raw) {
            Ok(var) => {
                if var.gave_up {
                    self.gave_up(instruction.file_range(range));
                }
                var
            }
            Err(error) => {
                let at = (range.start + error.offset).min(range.end);
                let error_range = if at < range.end { at..range.end } else { range };
                self.error(instruction.file_range(error_range), error.message);
                Var::unknown(raw)
            }
        }
    }

    /// A value that is not the file's text (a decoded JSON string, a flag with quotes removed)
    /// expanded in `scope`; an error is recorded at `at`.
    fn expand_value(&self, scope: &dyn Scope, value: &str, at: TextRange) -> Var {
        match Expander::new(self.escape, scope, &self.budget).word(value) {
            Ok(var) => {
                if var.gave_up {
                    self.gave_up(at);
                }
                var
            }
            Err(error) => {
                self.error(at, error.message);
                Var::unknown(value)
            }
        }
    }

    /// Reports a value left unknown at an expansion bound: the first few where they are, the rest
    /// counted in the last report. A bound never silently makes a value unknown.
    fn gave_up(&self, range: TextRange) {
        let count = self.gave_up_count.get() + 1;
        self.gave_up_count.set(count);
        self.last_gave_up.set(Some(range));
        if count <= MAX_GAVE_UP_REPORTS {
            self.error(
                range,
                format!(
                    "this value is not expanded: it exceeds the expansion budget ({} for this file, or a pattern substitution too large for its value), so it is unknown and no rule can judge it",
                    human_size(self.budget.size())
                ),
            );
        }
    }

    fn flag(
        &self,
        scope: &dyn Scope,
        instruction: &Instruction,
        flag: &RawFlag,
    ) -> Spanned<String> {
        let span = self.line_span(instruction, flag.range.clone());
        let value = self.expand_value(scope, flag.value.as_deref().unwrap_or(""), span.range);
        Spanned::new(value.value, span)
    }

    /// The arguments' words, as ranges of the line.
    fn words(&self, instruction: &Instruction) -> Vec<Range<usize>> {
        let start = instruction.args.start;
        split_words(instruction.args_text(), self.escape)
            .into_iter()
            .map(|word| word.start + start..word.end + start)
            .collect()
    }

    fn instruction(&mut self, instruction: &Instruction) {
        let Some(keyword) = instruction.keyword else {
            self.unknown_instruction(instruction);
            return;
        };
        self.check_flags(instruction, keyword);
        if self.stages.is_empty() && !matches!(keyword, Keyword::Arg | Keyword::From) {
            self.before_first_from.push(SyntaxError {
                range: instruction.file_range(instruction.keyword_range.clone()),
                message: format!("`{}` before the first `FROM`", keyword.name()),
            });
            return;
        }
        match keyword {
            Keyword::From => self.from(instruction),
            Keyword::Arg => self.arg(instruction),
            Keyword::Env => self.env(instruction),
            Keyword::User => self.user(instruction),
            Keyword::Workdir => self.workdir(instruction),
            Keyword::Run => {
                if let Some(run) = self.run(instruction) {
                    self.current().runs.push(run);
                }
            }
            Keyword::Copy | Keyword::Add => {
                if let Some(copy) = self.copy(instruction, keyword == Keyword::Add) {
                    self.current().copies.push(copy);
                }
            }
            Keyword::Expose => self.expose(instruction),
            Keyword::Volume => self.volume(instruction),
            Keyword::Onbuild => self.onbuild(instruction),
            Keyword::Shell => self.shell(instruction),
            Keyword::Cmd | Keyword::Entrypoint => {
                let span = self.span(instruction.span);
                self.current().command = Some(span);
            }
            Keyword::Healthcheck | Keyword::Label | Keyword::Maintainer | Keyword::Stopsignal => {}
        }
    }

    /// The stage being lowered. Only called once a `FROM` has made one.
    fn current(&mut self) -> &mut Stage {
        if self.stages.is_empty() {
            // Unreachable by `instruction`'s check; a placeholder keeps this total.
            self.stages
                .push(empty_stage(0, Span::new(self.file, TextRange::empty(0))));
        }
        let last = self.stages.len() - 1;
        &mut self.stages[last]
    }

    fn unknown_instruction(&self, instruction: &Instruction) {
        let written = instruction.keyword_text();
        let suggestion = closest_keyword(written);
        // A word on a line of its own may be a value (a token below `ENV GITHUB_TOKEN=`, a line of
        // a private key): it is quoted only when it looks like a misspelt instruction.
        let instruction_like = suggestion.is_some()
            || (written.len() <= 16
                && written.bytes().all(|b| b.is_ascii_uppercase() || b == b'_'))
            || (written.len() <= 4 && !written.bytes().any(|b| b.is_ascii_alphanumeric()));
        let message = match (instruction_like, suggestion) {
            (true, Some(keyword)) => message!(
                "unknown instruction `{}` (did you mean `{}`?)",
                Quoted(written),
                keyword.name()
            ),
            (true, None) => message!("unknown instruction `{}`", Quoted(written)),
            (false, _) => message!(
                "unknown instruction: a word of {} characters that is not quoted, since a line of its own may be a secret value (is a `\\` missing at the end of the line above?)",
                written.chars().count()
            ),
        };
        self.error(
            instruction.file_range(instruction.keyword_range.clone()),
            message.to_string(),
        );
    }

    fn check_flags(&self, instruction: &Instruction, keyword: Keyword) {
        for flag in &instruction.flags {
            if !keyword.flags().contains(&flag.name.as_str()) {
                self.error(
                    instruction.file_range(flag.range.clone()),
                    format!("unknown flag `--{}` for `{}`", flag.name, keyword.name()),
                );
            }
        }
    }

    fn needs_arguments(&self, instruction: &Instruction, keyword: Keyword, what: &str) -> bool {
        if instruction.args.is_empty() && instruction.heredocs.is_empty() {
            self.error(
                instruction.file_range(instruction.keyword_range.clone()),
                format!("`{}` needs {what}", keyword.name()),
            );
            return false;
        }
        true
    }

    fn from(&mut self, instruction: &Instruction) {
        if !self.stages.is_empty() {
            self.finals
                .push(std::mem::take(&mut self.scope).into_inherited());
        }
        let index = self.stages.len();
        let text = instruction.line.text();
        let words = self.words(instruction);
        let (image_range, name_range) = match words.as_slice() {
            [image] => (Some(image.clone()), None),
            [image, as_word, name] if text[as_word.clone()].eq_ignore_ascii_case("as") => {
                (Some(image.clone()), Some(name.clone()))
            }
            _ => {
                let at = if words.is_empty() {
                    instruction.keyword_range.clone()
                } else {
                    instruction.args.clone()
                };
                self.error(
                    instruction.file_range(at),
                    "`FROM` needs an image, optionally followed by `AS name`",
                );
                (words.first().cloned(), None)
            }
        };
        let from = self.span(instruction.span);
        let mut stage = empty_stage(index, from);
        if let Some(range) = image_range {
            let image = self.expand(&self.globals, instruction, range.clone());
            let span = self.line_span(instruction, range);
            stage.base = if let Some(parent) = self.names.get(&image.value) {
                StageBase::Stage(parent)
            } else if image.value == "scratch" {
                StageBase::Scratch
            } else {
                StageBase::Image(Spanned::new(image.value, span))
            };
        }
        if let Some(range) = name_range {
            let name = &text[range.clone()];
            let span = self.line_span(instruction, range);
            if !is_valid_stage_name(name) {
                self.error(
                    span.range,
                    message!("invalid stage name `{}`: use letters, digits, `-`, `_` and `.`, starting with a letter", Quoted(name)).to_string(),
                );
            } else if !self.names.insert(name, index) {
                self.error(
                    span.range,
                    message!("duplicate stage name `{}`", Quoted(name)).to_string(),
                );
            }
            stage.name = Some(Spanned::new(name.to_owned(), span));
        }
        stage.platform = instruction
            .flags
            .iter()
            .rfind(|flag| flag.name == "platform")
            .map(|flag| self.flag(&self.globals, instruction, flag));
        let inherited = match stage.base {
            StageBase::Stage(parent) => self.finals.get(parent).cloned().unwrap_or_default(),
            StageBase::Image(_) | StageBase::Scratch => Rc::default(),
        };
        self.scope = StageScope::new(inherited);
        self.stages.push(stage);
    }

    fn arg(&mut self, instruction: &Instruction) {
        let words = self.words(instruction);
        if words.is_empty() {
            self.needs_arguments(instruction, Keyword::Arg, "a name");
            return;
        }
        let global = self.stages.is_empty();
        let text = instruction.line.text();
        // Every default is expanded in the scope before the instruction, as BuildKit does.
        let mut declared = Vec::new();
        for word in words {
            let (name_range, default_range) = match text[word.clone()].find('=') {
                Some(eq) => (
                    word.start..word.start + eq,
                    Some(word.start + eq + 1..word.end),
                ),
                None => (word.clone(), None),
            };
            let name = &text[name_range.clone()];
            if name.is_empty() {
                self.error(
                    instruction.file_range(word),
                    "`ARG` needs a name before `=`",
                );
                continue;
            }
            let default = default_range.map(|range| {
                let scope: &dyn Scope = if global { &self.globals } else { &self.scope };
                (self.expand(scope, instruction, range.clone()), range)
            });
            declared.push((name.to_owned(), name_range, default));
        }
        for (name, name_range, default) in declared {
            let value = self
                .options
                .build_args
                .get(&name)
                .map(Var::known)
                .or_else(|| default.as_ref().map(|(var, _)| var.clone()))
                .or_else(|| {
                    (!global)
                        .then(|| self.globals.get(&name).flatten().cloned())
                        .flatten()
                });
            let arg = BuildArg {
                name: Spanned::new(name.clone(), self.line_span(instruction, name_range)),
                default: default.map(|(var, range)| {
                    Spanned::new(
                        Sensitive::new(var.value),
                        self.line_span(instruction, range),
                    )
                }),
            };
            if global {
                self.globals.set(&name, value);
                self.global_args.push(arg);
            } else {
                self.scope.args.set(&name, value);
                self.current().args.push(arg);
            }
        }
    }

    fn env(&mut self, instruction: &Instruction) {
        if !self.needs_arguments(instruction, Keyword::Env, "a name and a value") {
            return;
        }
        let text = instruction.line.text();
        let args = instruction.args.clone();
        let words = self.words(instruction);
        let mut pairs = Vec::new();
        match words.first() {
            Some(first) if !text[first.clone()].contains('=') => {
                // The legacy `ENV name value…` form: the value is the rest of the line.
                let name_end = text[args.clone()]
                    .find(is_space)
                    .map_or(args.end, |offset| args.start + offset);
                let value_start =
                    args.end - text[name_end..args.end].trim_start_matches(is_space).len();
                if value_start >= args.end {
                    self.error(
                        instruction.file_range(args.start..name_end),
                        format!("`ENV {}` needs a value", &text[args.start..name_end]),
                    );
                    return;
                }
                pairs.push((args.start..name_end, value_start..args.end));
            }
            _ => {
                for word in words {
                    match text[word.clone()].find('=') {
                        Some(eq) => {
                            pairs.push((word.start..word.start + eq, word.start + eq + 1..word.end))
                        }
                        None => self.error(
                            instruction.file_range(word.clone()),
                            message!("expected `name=value`, found `{}`", Quoted(&text[word]))
                                .to_string(),
                        ),
                    }
                }
            }
        }
        // One `ENV` sees the variables as they were before it.
        let expanded: Vec<_> = pairs
            .into_iter()
            .map(|(name, value)| {
                let var = self.expand(&self.scope, instruction, value.clone());
                (name, value, var)
            })
            .collect();
        for (name_range, value_range, var) in expanded {
            let name = &text[name_range.clone()];
            if name.is_empty() {
                self.error(
                    instruction.file_range(name_range.start..value_range.end),
                    "`ENV` needs a name before `=`",
                );
                continue;
            }
            let env = EnvVar {
                name: Spanned::new(name.to_owned(), self.line_span(instruction, name_range)),
                value: Some(Spanned::new(
                    Sensitive::new(var.value.clone()),
                    self.line_span(instruction, value_range),
                )),
            };
            self.scope
                .inherited_mut(&self.budget)
                .env
                .set(name, Some(var));
            self.current().env.push(env);
        }
    }

    fn user(&mut self, instruction: &Instruction) {
        if !self.needs_arguments(instruction, Keyword::User, "a user name or id") {
            return;
        }
        let var = self.expand(&self.scope, instruction, instruction.args.clone());
        let user = User {
            unresolved: var.unresolved,
            ..User::parse(&var.value)
        };
        let span = self.line_span(instruction, instruction.args.clone());
        self.current().users.push(Spanned::new(user, span));
    }

    fn workdir(&mut self, instruction: &Instruction) {
        if !self.needs_arguments(instruction, Keyword::Workdir, "a path") {
            return;
        }
        let var = self.expand(&self.scope, instruction, instruction.args.clone());
        let path = join_workdir(self.scope.inherited().workdir.as_deref(), &var.value);
        let span = self.line_span(instruction, instruction.args.clone());
        self.scope.inherited_mut(&self.budget).workdir = Some(path.clone());
        self.current().workdir = Some(Spanned::new(path, span));
    }

    fn run(&self, instruction: &Instruction) -> Option<RunInstruction> {
        if !self.needs_arguments(instruction, Keyword::Run, "a command") {
            return None;
        }
        let mut flags = RunFlags::default();
        for flag in &instruction.flags {
            let value = || self.flag(&self.scope, instruction, flag);
            match flag.name.as_str() {
                "mount" => flags.mounts.push(value()),
                "network" => flags.network = Some(value()),
                "security" => flags.security = Some(value()),
                _ => {}
            }
        }
        let exec = parse_json_array(instruction.args_text());
        let exec_form = exec.is_some();
        let commands = match exec {
            Some(strings) => self.exec_commands(instruction, &strings),
            None if self.scope.inherited().posix_shell => self.shell_commands(instruction),
            None => Vec::new(),
        };
        let mut script = instruction.args_text().to_owned();
        for heredoc in &instruction.heredocs {
            script.push('\n');
            script.push_str(heredoc.body.text());
            if heredoc.terminated {
                script.push_str(&heredoc.delimiter);
            }
        }
        let script_start = instruction.file_range(instruction.args.clone()).start as usize;
        let script_span = self.span(TextRange::new(script_start, instruction.span.end as usize));
        let args_used = referenced_args(&script, &self.scope.args);
        Some(RunInstruction {
            span: self.span(instruction.span),
            flags,
            commands,
            exec_form,
            script: Spanned::new(script, script_span),
            args_used,
        })
    }

    /// The command of an exec-form `RUN`, and those of the script it passes to `sh -c`.
    fn exec_commands(
        &self,
        instruction: &Instruction,
        strings: &[JsonString],
    ) -> Vec<ShellCommand> {
        let (Some(first), Some(last)) = (strings.first(), strings.last()) else {
            return Vec::new();
        };
        let offset = instruction.args.start;
        let shifted = |range: &Range<usize>| range.start + offset..range.end + offset;
        let argv: Vec<_> = strings
            .iter()
            .map(|string| {
                Spanned::new(
                    string.value.clone(),
                    self.line_span(instruction, shifted(&string.range)),
                )
            })
            .collect();
        let span = self.line_span(
            instruction,
            shifted(&first.range).start..shifted(&last.range).end,
        );
        let mut commands = Vec::new();
        if let Some(string) = shell::script_argument(strings).and_then(|index| strings.get(index)) {
            let runs: Vec<(u32, u32)> = string
                .runs
                .iter()
                .map(|&(value, text)| (value, text.saturating_add(to_u32(offset))))
                .collect();
            let script = Mapped::from_runs(&instruction.line, &string.value, &runs);
            commands = self.parse_shell(instruction, &script, 0).commands;
        }
        commands.insert(0, ShellCommand { argv, span });
        commands
    }

    /// Parses a script of `instruction`; the first time the file's word budget runs out, says so.
    fn parse_shell(&self, instruction: &Instruction, script: &Mapped, start: usize) -> ShellScript {
        let context = ShellContext {
            file: self.file,
            words_left: &self.shell_words_left,
        };
        let parsed = shell::parse(script, start, &context);
        if parsed.truncated && !self.shell_words_spent.replace(true) {
            self.error(
                instruction.file_range(instruction.keyword_range.clone()),
                format!(
                    "`RUN` scripts hold more than {MAX_SHELL_WORDS} words; commands from here on are not read"
                ),
            );
        }
        parsed
    }

    /// The commands of a shell-form `RUN`, with those of the heredoc bodies a shell runs.
    fn shell_commands(&self, instruction: &Instruction) -> Vec<ShellCommand> {
        let parsed = self.parse_shell(instruction, &instruction.line, instruction.args.start);
        let mut commands = parsed.commands;
        // `RUN <<EOF` alone runs the body as the script (unless its `#!` names another interpreter).
        let only_heredoc = instruction
            .heredocs
            .first()
            .is_some_and(|heredoc| heredoc.word == instruction.args);
        for (index, heredoc) in instruction.heredocs.iter().enumerate() {
            let is_shell = if only_heredoc {
                shebang_is_shell(heredoc.body.text())
            } else {
                parsed.heredocs.get(index).is_some_and(|redirect| {
                    redirect.delimiter == heredoc.delimiter && redirect.feeds_shell
                })
            };
            if is_shell {
                commands.extend(self.parse_shell(instruction, &heredoc.body, 0).commands);
            }
        }
        commands
    }

    fn copy(&self, instruction: &Instruction, is_add: bool) -> Option<CopyInstruction> {
        let keyword = if is_add { Keyword::Add } else { Keyword::Copy };
        if !self.needs_arguments(instruction, keyword, "a source and a destination") {
            return None;
        }
        let mut paths = self.paths(instruction);
        if paths.len() < 2 {
            self.error(
                instruction.file_range(instruction.args.clone()),
                format!("`{}` needs a source and a destination", keyword.name()),
            );
            return None;
        }
        let destination = paths.pop()?;
        let flag = |name: &str| {
            instruction
                .flags
                .iter()
                .rfind(|flag| flag.name == name)
                .map(|flag| self.flag(&self.scope, instruction, flag))
        };
        Some(CopyInstruction {
            span: self.span(instruction.span),
            is_add,
            sources: paths,
            destination,
            from: flag("from"),
            chmod: flag("chmod"),
            chown: flag("chown"),
            context_secrets: Vec::new(),
        })
    }

    /// The paths of `COPY`, `ADD` and `VOLUME` (JSON or words), expanded; a heredoc is named by its
    /// delimiter.
    fn paths(&self, instruction: &Instruction) -> Vec<Spanned<String>> {
        let offset = instruction.args.start;
        if let Some(strings) = parse_json_array(instruction.args_text()) {
            return strings
                .into_iter()
                .map(|string| {
                    let span = self.line_span(
                        instruction,
                        string.range.start + offset..string.range.end + offset,
                    );
                    let var = self.expand_value(&self.scope, &string.value, span.range);
                    Spanned::new(var.value, span)
                })
                .collect();
        }
        self.words(instruction)
            .into_iter()
            .map(|word| {
                let span = self.line_span(instruction, word.clone());
                match instruction
                    .heredocs
                    .iter()
                    .find(|heredoc| heredoc.word == word)
                {
                    Some(heredoc) => Spanned::new(heredoc.delimiter.clone(), span),
                    None => Spanned::new(self.expand(&self.scope, instruction, word).value, span),
                }
            })
            .collect()
    }

    fn expose(&mut self, instruction: &Instruction) {
        if !self.needs_arguments(instruction, Keyword::Expose, "a port") {
            return;
        }
        let mut ports = Vec::new();
        for word in self.words(instruction) {
            let span = self.line_span(instruction, word.clone());
            let var = self.expand(&self.scope, instruction, word);
            for part in var.value.split_whitespace() {
                match parse_port(part) {
                    Ok(port) => ports.push(Spanned::new(port, span)),
                    Err(message) if var.unresolved => {
                        let _ = message;
                        ports.push(Spanned::new(
                            PortSpec {
                                port: None,
                                range_end: None,
                                protocol: Protocol::Tcp,
                            },
                            span,
                        ));
                    }
                    Err(message) => self.error(span.range, message),
                }
            }
        }
        self.current().exposed.extend(ports);
    }

    fn volume(&mut self, instruction: &Instruction) {
        if !self.needs_arguments(instruction, Keyword::Volume, "a path") {
            return;
        }
        let paths = self.paths(instruction);
        self.current().volumes.extend(paths);
    }

    fn onbuild(&mut self, instruction: &Instruction) {
        let mut line = Mapped::new();
        line.push_mapped(&instruction.line, instruction.args.clone());
        let trigger = Instruction::split(line);
        match trigger.keyword {
            None if trigger.keyword_range.is_empty() => {
                self.needs_arguments(instruction, Keyword::Onbuild, "an instruction");
            }
            None => self.unknown_instruction(&trigger),
            Some(keyword @ (Keyword::Onbuild | Keyword::From | Keyword::Maintainer)) => self.error(
                trigger.file_range(trigger.keyword_range.clone()),
                format!("`ONBUILD {}` is not allowed", keyword.name()),
            ),
            Some(keyword) => {
                self.check_flags(&trigger, keyword);
                if keyword == Keyword::Run {
                    if let Some(run) = self.run(&trigger) {
                        let span = self.span(instruction.span);
                        self.current()
                            .onbuild_runs
                            .push(RunInstruction { span, ..run });
                    }
                }
            }
        }
    }

    fn shell(&mut self, instruction: &Instruction) {
        match parse_json_array(instruction.args_text()) {
            Some(strings) if !strings.is_empty() => {
                let posix_shell = is_posix_shell(&strings[0].value);
                self.scope.inherited_mut(&self.budget).posix_shell = posix_shell;
            }
            _ => self.error(
                instruction.file_range(instruction.args.clone()),
                "`SHELL` needs a JSON array, such as `SHELL [\"/bin/bash\", \"-c\"]`",
            ),
        }
    }
}

fn empty_stage(index: usize, from: Span) -> Stage {
    Stage {
        index,
        name: None,
        from,
        base: StageBase::Scratch,
        platform: None,
        users: Vec::new(),
        env: Vec::new(),
        args: Vec::new(),
        runs: Vec::new(),
        copies: Vec::new(),
        exposed: Vec::new(),
        volumes: Vec::new(),
        workdir: None,
        onbuild_runs: Vec::new(),
        command: None,
    }
}

/// `80`, `80/udp`, `8000-8010/tcp`.
fn parse_port(text: &str) -> Result<PortSpec, String> {
    let (ports, protocol) = match text.split_once('/') {
        Some((ports, protocol)) => (ports, protocol),
        None => (text, "tcp"),
    };
    let protocol = match protocol.to_ascii_lowercase().as_str() {
        "tcp" => Protocol::Tcp,
        "udp" => Protocol::Udp,
        "sctp" => Protocol::Sctp,
        _ => {
            return Err(format!(
                "invalid protocol `{protocol}` in `{text}`: use tcp, udp or sctp"
            ))
        }
    };
    let number = |text: &str| {
        text.parse::<u16>()
            .map_err(|_| message!("invalid port `{}`", Quoted(text)).to_string())
    };
    let (port, range_end) = match ports.split_once('-') {
        Some((first, last)) => (number(first)?, Some(number(last)?)),
        None => (number(ports)?, None),
    };
    Ok(PortSpec {
        port: Some(port),
        range_end,
        protocol,
    })
}

/// Whether `program` (a `SHELL` or `#!` interpreter) is a POSIX shell.
fn is_posix_shell(program: &str) -> bool {
    let name = program.rsplit(['/', '\\']).next().unwrap_or(program);
    let name = name.strip_suffix(".exe").unwrap_or(name);
    shell::SHELLS.contains(&name)
}

/// Whether a heredoc body run as a file is shell code: no `#!`, or one naming a shell.
fn shebang_is_shell(body: &str) -> bool {
    let Some(line) = body.lines().next().and_then(|line| line.strip_prefix("#!")) else {
        return true;
    };
    let mut words = line.split_whitespace();
    let Some(interpreter) = words.next() else {
        return true;
    };
    if interpreter.rsplit('/').next() == Some("env") {
        return words
            .find(|word| !word.starts_with('-'))
            .is_some_and(is_posix_shell);
    }
    is_posix_shell(interpreter)
}

/// The declared build arguments that `script` refers to, in order of first use.
fn referenced_args(script: &str, args: &Vars) -> Vec<String> {
    let bytes = script.as_bytes();
    let mut found: Vec<String> = Vec::new();
    let mut seen: HashSet<&str> = HashSet::new();
    let mut pos = 0;
    while let Some(offset) = script[pos..].find('$') {
        let mut name_start = pos + offset + 1;
        if bytes.get(name_start) == Some(&b'{') {
            name_start += 1;
        }
        let len = bytes[name_start..]
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
            .count();
        let name = &script[name_start..name_start + len];
        if !name.is_empty()
            && !name.as_bytes()[0].is_ascii_digit()
            && args.declares(name)
            && seen.insert(name)
        {
            found.push(name.to_owned());
        }
        pos = name_start + len;
    }
    found
}

/// The instruction a misspelt keyword most likely meant (at most two edits away).
fn closest_keyword(written: &str) -> Option<Keyword> {
    // The longest keyword has 11 letters; two edits reach 13.
    if written.len() > 13 || !written.is_ascii() {
        return None;
    }
    let written = written.to_ascii_uppercase();
    Keyword::ALL
        .into_iter()
        .map(|keyword| {
            (
                edit_distance(written.as_bytes(), keyword.name().as_bytes()),
                keyword,
            )
        })
        .filter(|&(distance, _)| distance <= 2)
        .min_by_key(|&(distance, _)| distance)
        .map(|(_, keyword)| keyword)
}

/// Levenshtein distance between two short ASCII words (at most 15 bytes each).
fn edit_distance(a: &[u8], b: &[u8]) -> usize {
    const MAX: usize = 16;
    if a.len() >= MAX || b.len() >= MAX {
        return usize::MAX;
    }
    let mut previous = [0usize; MAX];
    let mut current = [0usize; MAX];
    for (j, slot) in previous.iter_mut().enumerate().take(b.len() + 1) {
        *slot = j;
    }
    for (i, &ca) in a.iter().enumerate() {
        current[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != cb);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        std::mem::swap(&mut previous, &mut current);
    }
    previous[b.len()]
}

fn to_u32(value: usize) -> u32 {
    u32::try_from(value).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use leastpriv_model::Certainty;
    use leastpriv_source::SourceDb;

    fn lowered(text: &str, options: &Options) -> (Option<Build>, Vec<String>) {
        let db = SourceDb::new();
        let file = db.add("Dockerfile", text);
        let parsed = super::super::syntax::parse(text);
        let lowering = lower(&parsed, text.len(), file, options);
        let errors = lowering
            .errors
            .into_iter()
            .map(|error| error.message)
            .collect();
        (lowering.build, errors)
    }

    fn build(text: &str) -> Build {
        let (build, errors) = lowered(text, &Options::default());
        assert!(errors.is_empty(), "{errors:?}");
        build.unwrap()
    }

    fn final_user(build: &Build) -> &User {
        &build.final_user().unwrap().value
    }

    #[test]
    fn user_from_an_arg_without_default_is_unknown() {
        let build = build("ARG UID\nFROM alpine\nARG UID\nUSER $UID\n");
        let user = final_user(&build);
        assert!(user.unresolved);
        assert_eq!(user.user, "$UID");
        assert_eq!(user.is_root(), Certainty::Unknown);
        let build = self::build("FROM alpine\nUSER ${NOT_DECLARED}:0\n");
        assert_eq!(final_user(&build).is_root(), Certainty::Unknown);
    }

    #[test]
    fn a_value_past_an_expansion_bound_is_an_error_never_silence() {
        // Issue 9: a pattern substitution on a long value, and a value doubled past the budget,
        // made `USER … root` unknown with no finding and exit 0.
        let long = "x".repeat(5000);
        let text = format!("FROM alpine\nARG A={long}\nUSER ${{A//x/}}root\n");
        let (build, errors) = lowered(&text, &Options::default());
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(
            errors[0].contains("exceeds the expansion budget"),
            "{errors:?}"
        );
        assert_eq!(final_user(&build.unwrap()).is_root(), Certainty::Unknown);

        let mut text = "FROM alpine\nENV A0=rootroot\n".to_owned();
        for i in 1..=20 {
            text.push_str(&format!("ENV A{i}=$A{}$A{}\n", i - 1, i - 1));
        }
        text.push_str("USER ${A19:+root}\n");
        let (build, errors) = lowered(&text, &Options::default());
        assert!(!errors.is_empty(), "{errors:?}");
        assert!(
            errors
                .iter()
                .all(|error| error.contains("expansion budget")),
            "{errors:?}"
        );
        assert_eq!(final_user(&build.unwrap()).is_root(), Certainty::Unknown);
        // Many values past the bound: the first few reported where they are, the rest counted.
        text.push_str(&"WORKDIR /$A20\n".repeat(30));
        let (_, errors) = lowered(&text, &Options::default());
        assert_eq!(errors.len(), MAX_GAVE_UP_REPORTS + 1, "{errors:?}");
        assert!(errors[MAX_GAVE_UP_REPORTS].contains("more values are not expanded"));

        // Within the bounds, the same shapes resolve.
        let build = self::build("FROM alpine\nARG A=xxxx\nUSER ${A//x/}root\n");
        assert_eq!(final_user(&build).is_root(), Certainty::Yes);
        let build = self::build("FROM alpine\nENV A0=a\nENV A1=$A0$A0\nUSER ${A1:+root}\n");
        assert_eq!(final_user(&build).is_root(), Certainty::Yes);
    }

    #[test]
    fn a_stage_that_lost_its_parent_environment_at_the_budget_says_so() {
        // Each stage copies its parent's environment when it changes it: past the budget the copy
        // is dropped, and a variable it would have held is reported, not silently unknown.
        let big = "y".repeat(600_000);
        let mut text = format!("FROM alpine AS s0\nENV BIG={big} U=root\n");
        for i in 1..=8 {
            text.push_str(&format!("FROM s{} AS s{i}\nENV X{i}=1\n", i - 1));
        }
        text.push_str("FROM s8\nENV Z=1\nUSER $U\n");
        let (build, errors) = lowered(&text, &Options::default());
        assert!(
            errors
                .iter()
                .any(|error| error.contains("exceeds the expansion budget")),
            "{errors:?}"
        );
        assert_eq!(final_user(&build.unwrap()).is_root(), Certainty::Unknown);
    }

    #[test]
    fn stage_arg_inherits_the_global_default() {
        let build = build("ARG UID=1000\nFROM alpine\nARG UID\nUSER $UID\n");
        assert_eq!(final_user(&build).user, "1000");
        // Without re-declaring it, the global ARG is not visible in the stage.
        let build = self::build("ARG UID=1000\nFROM alpine\nUSER $UID\n");
        assert!(final_user(&build).unresolved);
    }

    #[test]
    fn build_args_override_declared_defaults_only() {
        let options = Options {
            build_args: [("UID", "0"), ("OTHER", "x")]
                .into_iter()
                .map(|(name, value)| (name.to_owned(), value.to_owned()))
                .collect(),
            ..Options::default()
        };
        let text = "FROM alpine\nARG UID=1000\nUSER $UID\nRUN echo $OTHER\n";
        let (build, errors) = lowered(text, &options);
        assert!(errors.is_empty());
        let build = build.unwrap();
        assert_eq!(final_user(&build).user, "0");
        assert_eq!(final_user(&build).is_root(), Certainty::Yes);
        // The recorded default is the written one.
        let default = build.stages[0].args[0].default.as_ref().unwrap();
        assert_eq!(default.value.expose(), "1000");
        assert!(build.stages[0].runs[0].args_used.is_empty());
    }

    #[test]
    fn env_beats_arg_and_persists_into_child_stages() {
        let build = build(
            "FROM alpine AS base\nARG NAME=arg\nENV NAME=env\nARG NAME=arg2\nUSER $NAME\n\
             FROM base\nUSER ${NAME}-child\nFROM alpine\nUSER ${NAME:-unset}\n",
        );
        assert_eq!(build.stages[0].users[0].value.user, "env");
        assert_eq!(build.stages[1].users[0].value.user, "env-child");
        assert_eq!(build.stages[2].users[0].value.user, "unset");
    }

    #[test]
    fn one_env_sees_the_values_before_it() {
        let build = build("FROM alpine\nENV A=1\nENV A=2 B=$A\nUSER $B\n");
        assert_eq!(final_user(&build).user, "1");
    }

    #[test]
    fn global_args_expand_in_from_lines() {
        let build = build("ARG BASE=alpine\nARG TAG=3.20\nFROM ${BASE}:${TAG}\n");
        match &build.stages[0].base {
            StageBase::Image(image) => assert_eq!(image.value, "alpine:3.20"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn stages_resolve_by_name_without_case() {
        let build = build(
            "FROM alpine AS Builder\nFROM builder\nFROM scratch\nCOPY --from=BUILDER /a /b\n",
        );
        assert!(matches!(build.stages[1].base, StageBase::Stage(0)));
        assert!(matches!(build.stages[2].base, StageBase::Scratch));
        assert_eq!(build.target, 2);
        assert_eq!(
            build.stages[2].copies[0].from.as_ref().unwrap().value,
            "BUILDER"
        );
    }

    #[test]
    fn target_by_name_or_index() {
        let text = "FROM alpine AS one\nFROM alpine AS two\nFROM alpine\n";
        for (target, index) in [("two", 1), ("ONE", 0), ("2", 2)] {
            let options = Options {
                target: Some(target.to_owned()),
                ..Options::default()
            };
            let (build, errors) = lowered(text, &options);
            assert!(errors.is_empty());
            assert_eq!(build.unwrap().target, index, "{target}");
        }
        let options = Options {
            target: Some("nope".to_owned()),
            ..Options::default()
        };
        let (build, errors) = lowered(text, &options);
        assert_eq!(build.unwrap().target, 2);
        assert_eq!(
            errors,
            ["target stage `nope` not found; the last stage is audited"]
        );
    }

    #[test]
    fn non_posix_shell_turns_off_command_splitting() {
        let build = build(
            "FROM alpine AS base\nSHELL [\"pwsh\", \"-c\"]\nRUN Get-Item x\nFROM base\nRUN a && b\n\
             SHELL [\"/bin/bash\", \"-c\"]\nRUN c\n",
        );
        assert!(build.stages[0].runs[0].commands.is_empty());
        assert!(build.stages[1].runs[0].commands.is_empty());
        assert_eq!(build.stages[1].runs[1].commands.len(), 1);
    }

    #[test]
    fn workdir_resolves_against_the_parent_stage() {
        let build = build("FROM alpine AS base\nWORKDIR /srv\nFROM base\nWORKDIR app\n");
        assert_eq!(build.stages[1].workdir.as_ref().unwrap().value, "/srv/app");
    }

    #[test]
    fn errors_do_not_stop_lowering() {
        let (build, errors) = lowered(
            "FROM alpine\nFROMM x\nRUN --foo echo\nENV A\nUSER app\n",
            &Options::default(),
        );
        assert_eq!(
            errors,
            [
                "unknown instruction `FROMM` (did you mean `FROM`?)",
                "unknown flag `--foo` for `RUN`",
                "`ENV A` needs a value",
            ]
        );
        assert_eq!(final_user(&build.unwrap()).user, "app");
    }

    #[test]
    fn ports() {
        let port = parse_port("8000-8010/UDP").unwrap();
        assert_eq!(
            (port.port, port.range_end, port.protocol),
            (Some(8000), Some(8010), Protocol::Udp)
        );
        assert_eq!(parse_port("80").unwrap().port, Some(80));
        assert!(parse_port("http").is_err());
        assert!(parse_port("80/quic").is_err());
    }

    #[test]
    fn shebangs() {
        assert!(shebang_is_shell("apt-get update\n"));
        assert!(shebang_is_shell("#!/bin/bash\nset -e\n"));
        assert!(shebang_is_shell("#!/usr/bin/env -S sh\n"));
        assert!(!shebang_is_shell("#!/usr/bin/env python3\nprint(1)\n"));
        assert!(!shebang_is_shell("#!/usr/bin/perl\n"));
    }

    #[test]
    fn referenced_args_in_order() {
        let mut args = Vars::default();
        args.set("VERSION", None);
        args.set("TOKEN", Some(Var::known("x")));
        args.set("UNUSED", None);
        assert_eq!(
            referenced_args("curl -H $TOKEN x/${VERSION}.tgz $TOKEN $HOME $", &args),
            ["TOKEN", "VERSION"]
        );
    }

    #[test]
    fn suggestions() {
        assert_eq!(closest_keyword("FORM"), Some(Keyword::From));
        assert_eq!(closest_keyword("COPPY"), Some(Keyword::Copy));
        assert_eq!(closest_keyword("XYZZY"), None);
    }

    #[test]
    fn shells() {
        assert!(is_posix_shell("/bin/bash"));
        assert!(is_posix_shell("sh"));
        assert!(!is_posix_shell("powershell"));
        assert!(!is_posix_shell("C:\\Windows\\System32\\cmd.exe"));
    }
}
