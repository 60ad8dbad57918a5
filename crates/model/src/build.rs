//! How an image is built: the facts a Dockerfile gives, lowered from its syntax.

use leastpriv_source::{Span, Spanned};

use crate::{EnvVar, Sensitive, User};

/// A multi-stage build. Only the stages that reach the final image (the target stage and the stages it
/// is built `FROM`) decide what runs; the others matter only for what they leak into the source.
#[derive(Clone, Debug, Default)]
pub struct Build {
    /// Every stage, in file order.
    pub stages: Vec<Stage>,
    /// Index of the stage that is the image (the last one, or `--target`).
    pub target: usize,
    /// `ARG`s declared before the first `FROM` (usable only in `FROM` lines, or re-declared in a stage).
    pub global_args: Vec<BuildArg>,
    /// The build context, when it was read from disk: the Dockerfile's own directory, or the
    /// directory a Compose `build:` names. `None` when it is unknown or outside the audited paths.
    pub context: Option<BuildContext>,
}

/// The build context a Dockerfile was audited with: what `COPY`/`ADD` without `--from` read from.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BuildContext {
    /// The directory, as the input named it (`.`, `web`, `../app`).
    pub dir: String,
    /// The ignore file that applies (`.dockerignore`, or `<Dockerfile>.dockerignore`, which Docker
    /// prefers), as a path, when there is one.
    pub ignore_file: Option<String>,
    /// Whether the listing stopped at its bounds (depth, entries): files past them are not known.
    pub truncated: bool,
}

impl Build {
    /// The stage that becomes the image.
    pub fn target_stage(&self) -> Option<&Stage> {
        self.stages.get(self.target)
    }

    /// The target stage and every stage it is built `FROM`, nearest first. These are the stages whose
    /// instructions end up in the image's layers, config and history.
    pub fn image_stages(&self) -> impl Iterator<Item = &Stage> {
        let mut next = self.stages.get(self.target);
        let mut seen = 0;
        std::iter::from_fn(move || {
            let stage = next?;
            seen += 1;
            next = match stage.base {
                StageBase::Stage(index) if index < stage.index && seen <= self.stages.len() => {
                    self.stages.get(index)
                }
                _ => None,
            };
            Some(stage)
        })
    }

    /// The last `USER` that applies to the image: the target stage's, else the one it inherits from the
    /// stage it is built `FROM`. `None` when only the base image decides.
    pub fn final_user(&self) -> Option<&Spanned<User>> {
        self.image_stages().find_map(|stage| stage.users.last())
    }

    /// Whether the image's user is inherited from an external base image (no `USER` anywhere in its
    /// stage chain), with that base image reference.
    pub fn external_base(&self) -> Option<&Spanned<String>> {
        self.image_stages()
            .last()
            .and_then(|stage| match &stage.base {
                StageBase::Image(image) => Some(image),
                StageBase::Stage(_) | StageBase::Scratch => None,
            })
    }

    /// Whether the stage at `index` reaches the image.
    pub fn reaches_image(&self, index: usize) -> bool {
        self.image_stages().any(|stage| stage.index == index)
    }
}

/// What a stage is built `FROM`.
#[derive(Clone, Debug)]
pub enum StageBase {
    /// An external image reference, after `ARG` expansion.
    Image(Spanned<String>),
    /// An earlier stage, by index.
    Stage(usize),
    /// `FROM scratch`: an empty image whose default user is root but holds no shell.
    Scratch,
}

/// One build stage (`FROM … [AS name]` up to the next `FROM`).
#[derive(Clone, Debug)]
pub struct Stage {
    /// Index in [`Build::stages`].
    pub index: usize,
    /// The `AS` name, if any.
    pub name: Option<Spanned<String>>,
    /// The `FROM` instruction.
    pub from: Span,
    /// What it is built from.
    pub base: StageBase,
    /// The `--platform` flag, when given.
    pub platform: Option<Spanned<String>>,
    /// Every `USER` instruction, in order, expanded.
    pub users: Vec<Spanned<User>>,
    /// Every `ENV` pair.
    pub env: Vec<EnvVar>,
    /// Every `ARG` declared in the stage.
    pub args: Vec<BuildArg>,
    /// Every `RUN`.
    pub runs: Vec<RunInstruction>,
    /// Every `COPY` and `ADD`.
    pub copies: Vec<CopyInstruction>,
    /// Ports from `EXPOSE`, each with its protocol.
    pub exposed: Vec<Spanned<PortSpec>>,
    /// Paths from `VOLUME`.
    pub volumes: Vec<Spanned<String>>,
    /// The last `WORKDIR`, expanded.
    pub workdir: Option<Spanned<String>>,
    /// `ONBUILD` triggers, lowered as if they were instructions of a child image (they run there).
    pub onbuild_runs: Vec<RunInstruction>,
    /// The last `CMD` or `ENTRYPOINT`, when the stage writes one. Without one a stage runs what its
    /// base image runs; a `FROM scratch` image without one runs nothing: it only carries files
    /// (`docker build --output`).
    pub command: Option<Span>,
}

/// An exposed port (`EXPOSE 80/tcp`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortSpec {
    /// The port number (the first of a range); `None` when it did not expand to a number.
    pub port: Option<u16>,
    /// The last port of a range (`EXPOSE 8000-8010`), `None` for a single port.
    pub range_end: Option<u16>,
    /// `tcp` or `udp`.
    pub protocol: crate::Protocol,
}

/// A build argument (`ARG NAME[=default]`).
#[derive(Clone, Debug)]
pub struct BuildArg {
    /// The name.
    pub name: Spanned<String>,
    /// The default value, when one is written.
    pub default: Option<Spanned<Sensitive>>,
}

/// The `--flag`s of a `RUN` that change its privileges or what it can see.
#[derive(Clone, Debug, Default)]
pub struct RunFlags {
    /// `--mount=type=…` entries, each with its `type` (`secret`, `cache`, `bind`, `ssh`, `tmpfs`).
    pub mounts: Vec<Spanned<String>>,
    /// `--network=host|none|default`.
    pub network: Option<Spanned<String>>,
    /// `--security=insecure|sandbox`.
    pub security: Option<Spanned<String>>,
}

impl RunFlags {
    /// Whether a `--mount=type=secret` (or `type=ssh`) gives the command its credentials at build time.
    pub fn has_secret_mount(&self) -> bool {
        self.mounts
            .iter()
            .any(|mount| mount.value.contains("type=secret") || mount.value.contains("type=ssh"))
    }
}

/// A `RUN` instruction.
#[derive(Clone, Debug)]
pub struct RunInstruction {
    /// The whole instruction.
    pub span: Span,
    /// Its flags.
    pub flags: RunFlags,
    /// The simple commands it runs (split at `&&`, `||`, `;`, `|`, newlines, and found inside `$(…)`),
    /// each word spanned; heredoc bodies run by a shell are included.
    pub commands: Vec<ShellCommand>,
    /// Whether it is in exec (JSON) form.
    pub exec_form: bool,
    /// The script text after line continuations are joined, for rules that match text (a sudoers line
    /// written by `echo`). Word positions come from `commands`.
    pub script: Spanned<String>,
    /// Build args referenced by the command (`$NAME`, `${NAME}`) that are declared in scope; their
    /// values are recorded in the image history.
    pub args_used: Vec<String>,
}

/// One simple command: a program and its arguments.
#[derive(Clone, Debug)]
pub struct ShellCommand {
    /// The words, quotes removed; `argv[0]` is the program (`sudo` and `env` prefixes kept as written).
    pub argv: Vec<Spanned<String>>,
    /// The whole command.
    pub span: Span,
}

impl ShellCommand {
    /// The program's base name (`/usr/bin/chmod` → `chmod`).
    pub fn program(&self) -> Option<&str> {
        self.argv
            .first()
            .map(|word| word.value.rsplit('/').next().unwrap_or(&word.value))
    }

    /// The arguments after the program.
    pub fn args(&self) -> &[Spanned<String>] {
        self.argv.get(1..).unwrap_or(&[])
    }
}

/// A `COPY` or `ADD`.
#[derive(Clone, Debug)]
pub struct CopyInstruction {
    /// The whole instruction.
    pub span: Span,
    /// `ADD` rather than `COPY`.
    pub is_add: bool,
    /// The sources (after expansion), each spanned; a heredoc source is named by its delimiter.
    pub sources: Vec<Spanned<String>>,
    /// The destination.
    pub destination: Spanned<String>,
    /// `--from=stage|image`, when copying from another stage or image.
    pub from: Option<Spanned<String>>,
    /// `--chmod=…`, when given.
    pub chmod: Option<Spanned<String>>,
    /// `--chown=…`, when given.
    pub chown: Option<Spanned<String>>,
    /// Files of the build context this copy sends that are named as secrets (`.env`, `id_rsa`,
    /// `.npmrc`, …) and that the context's ignore file does not exclude, found by listing the
    /// directories and globs among its sources (a source that names the file itself is judged by
    /// its name). Empty without `--from`'s context, or when the context is not known.
    pub context_secrets: Vec<ContextSecret>,
}

/// A secret file of the build context a `COPY`/`ADD` source sends (never its content).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContextSecret {
    /// Index of the source in [`CopyInstruction::sources`] that sends it.
    pub source: usize,
    /// Its path relative to the context, `/`-separated (`.env`, `deploy/id_rsa`).
    pub path: String,
}

/// Whether `text` references the variable `name` (`$NAME`, `${NAME}`, `${NAME:-…}`): a build
/// argument or environment variable a `RUN` reads.
pub fn references_variable(text: &str, name: &str) -> bool {
    text.match_indices('$').any(|(at, _)| {
        let rest = &text[at + 1..];
        let rest = rest.strip_prefix('{').unwrap_or(rest);
        rest.strip_prefix(name).is_some_and(|after| {
            !after
                .bytes()
                .next()
                .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_')
        })
    })
}
