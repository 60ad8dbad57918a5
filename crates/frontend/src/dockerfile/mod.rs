//! Dockerfile front-end: a Dockerfile becomes one [`Container`] whose [`Build`] describes the image
//! its target stage builds.
//!
//! # The syntax implemented
//!
//! The syntax is BuildKit's (the `docker/dockerfile:1` frontend), read the way BuildKit reads it:
//!
//! - **Parser directives** at the very top, before any comment, blank line or instruction:
//!   `# syntax=…`, `# check=…` and `# escape=\` or `` # escape=` `` (Windows Dockerfiles). The escape
//!   character continues lines and escapes characters in instruction arguments.
//! - **Lines**: an instruction may continue over lines ending with the escape character; comment lines
//!   and blank lines inside a continuation are dropped. Comments are whole lines starting with `#`.
//!   Instructions are case-insensitive. CRLF line ends and a UTF-8 byte order mark are accepted.
//! - **Heredocs** (`RUN`, `COPY`, `ADD` in shell form): `<<EOF`, `<<-EOF` (leading tabs stripped),
//!   quoted delimiters (`<<'EOF'`, `<<"EOF"`: the body is not expanded), several on one line; bodies are
//!   read from the lines after the instruction.
//! - **Forms**: exec (JSON array) and shell form for `RUN`; JSON or words for `COPY`, `ADD`, `VOLUME`;
//!   `--flag=value` words before the arguments.
//! - **Variables**: `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR:+alt}` and the other BuildKit forms
//!   (`expand.rs`), with BuildKit's scoping (`stages.rs`): global `ARG`s before the first `FROM` are
//!   visible in `FROM` lines, `ARG NAME` in a stage inherits the global default, `ENV` beats `ARG` and
//!   persists into stages built `FROM` the stage, `--build-arg`s ([`Options::build_args`]) override
//!   `ARG` defaults. A value that depends on a variable with no value in view is kept as written and
//!   marked unresolved (a `USER $APP_UID` whose `ARG` has no default is neither root nor non-root).
//! - **Stages**: `FROM [--platform=…] image [AS name]`, `FROM scratch`, `FROM <earlier stage>`; the
//!   target is the last stage or [`Options::target`] (a stage name, or an index).
//! - **Instructions lowered**: `FROM`, `ARG`, `ENV` (`ENV a=1 b="x y"` and the legacy `ENV key value`),
//!   `USER`, `WORKDIR` (relative paths resolved), `RUN` (with `--mount`, `--network`, `--security`),
//!   `COPY`/`ADD` (with `--from`, `--chown`, `--chmod`), `EXPOSE`, `VOLUME`, `SHELL` (a non-POSIX
//!   shell such as PowerShell turns off command splitting) and `ONBUILD RUN`. `CMD`, `ENTRYPOINT`,
//!   `LABEL`, `HEALTHCHECK`, `STOPSIGNAL` and `MAINTAINER` are checked and otherwise ignored.
//! - **Shell**: every `RUN` script (shell form, a shell's `-c` string in exec form, and heredoc bodies
//!   that a shell runs: `RUN <<EOF`, `RUN bash <<EOF`, but not `RUN python3 <<EOF`) is split into
//!   simple commands with quote-free, spanned words (`shell.rs`).
//!
//! # Positions
//!
//! Every value keeps the exact byte range it was written at in the original file, through line
//! continuations, dropped comment lines, heredoc bodies, quote removal and `sh -c` strings. An
//! expanded value is spanned by the text it was expanded from. Flags are spanned by their whole
//! `--name=value` word, so that a fix can remove one.
//!
//! # Errors
//!
//! Unknown instructions and flags, unterminated heredocs and quotes, a missing `FROM`, an instruction
//! before the first `FROM`, malformed `ENV`/`ARG`/`EXPOSE`/`SHELL` arguments become located
//! [`InputError`]s; the rest of the file is still lowered. No input makes the front-end panic, and
//! expansion and nesting are bounded.
//!
//! [`Container`]: leastpriv_model::Container
//! [`Build`]: leastpriv_model::Build

mod context;
mod dockerignore;
mod expand;
mod lower;
mod shell;
mod stages;
mod syntax;

use std::path::Path;

use leastpriv_model::{Container, SourceKind};
use leastpriv_source::{FileId, InputError, Origin, SourceDb, Span, TextRange};

pub use context::ContextDir;

use crate::{Lowered, Options};

/// The most errors reported for one file: past a few, the file is most likely not a Dockerfile.
const MAX_ERRORS: usize = 50;

/// Whether `text` reads as a Dockerfile: its first instruction, after parser directives, comments and
/// blank lines, is `FROM` or `ARG` (in any case).
pub fn looks_like_dockerfile(text: &str) -> bool {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    text.lines()
        .map(str::trim)
        .find(|line| !line.is_empty() && !line.starts_with('#'))
        .is_some_and(|line| {
            let keyword = line.split(char::is_whitespace).next().unwrap_or("");
            line.len() > keyword.len()
                && (keyword.eq_ignore_ascii_case("FROM") || keyword.eq_ignore_ascii_case("ARG"))
        })
}

/// The layout of a Dockerfile's text, for fixers that edit it in place: the escape character, the
/// parser directives and where each instruction is written. Read by the same parser as [`lower`], so
/// a fixer and the findings agree on where an instruction starts and ends.
#[derive(Clone, Debug)]
pub struct Layout {
    /// The escape character: `\`, or `` ` `` by `# escape=`.
    pub escape: char,
    /// The lower-case names of the parser directives written at the top (`syntax`, `escape`, `check`).
    pub directives: Vec<String>,
    /// Every instruction, in file order.
    pub instructions: Vec<InstructionLayout>,
}

/// Where one instruction is written.
#[derive(Clone, Debug)]
pub struct InstructionLayout {
    /// The instruction's name in upper case (`RUN`), or as written when it is unknown.
    pub keyword: String,
    /// The keyword as written.
    pub keyword_range: TextRange,
    /// The whole instruction, from the keyword to the end of its last line (continuations and
    /// heredoc bodies included, line terminator excluded).
    pub span: TextRange,
}

/// Reads the layout of a Dockerfile's text.
pub fn layout(text: &str) -> Layout {
    let parsed = syntax::parse(text);
    let instructions = parsed
        .instructions
        .iter()
        .map(|instruction| InstructionLayout {
            keyword: instruction.keyword.map_or_else(
                || instruction.keyword_text().to_owned(),
                |keyword| keyword.name().to_owned(),
            ),
            keyword_range: instruction.file_range(instruction.keyword_range.clone()),
            span: instruction.span,
        })
        .collect();
    Layout {
        escape: parsed.escape,
        directives: parsed.directives,
        instructions,
    }
}

/// Lowers a Dockerfile into one container: the image its target stage builds.
pub fn lower(db: &SourceDb, file: FileId, options: &Options) -> Lowered {
    let source = db.get(file);
    let text = source.text();
    let parsed = syntax::parse(text);
    let lowering = lower::lower(&parsed, text.len(), file, options);
    let mut errors: Vec<_> = parsed.errors.into_iter().chain(lowering.errors).collect();
    errors.sort_by_key(|error| error.range);
    let hidden = errors.len().saturating_sub(MAX_ERRORS);
    let mut errors: Vec<_> = errors
        .into_iter()
        .take(MAX_ERRORS)
        .map(|error| InputError::at(source.path(), Span::new(file, error.range), error.message))
        .collect();
    if hidden > 0 {
        errors.push(InputError::file(
            source.path(),
            format!("{hidden} more errors not shown (is this a Dockerfile?)"),
        ));
    }
    let mut build = lowering.build;
    if let Some(build) = &mut build {
        let path = Path::new(source.path());
        let context = match &options.build_context {
            // Only a Dockerfile read from disk has a directory beside it.
            ContextDir::DockerfileDirectory
                if *source.origin() == Origin::File
                    && std::fs::metadata(path).is_ok_and(|metadata| metadata.is_file()) =>
            {
                path.parent().map(Path::to_path_buf)
            }
            ContextDir::Directory(dir) => Some(dir.clone()),
            ContextDir::DockerfileDirectory | ContextDir::Unknown => None,
        };
        if let Some(context) = context {
            context::attach(build, &context, path, &options.scope);
        }
    }
    let containers = build
        .map(|build| {
            let origin = build
                .target_stage()
                .map_or(Span::new(file, Default::default()), |stage| stage.from);
            let mut container = Container::new(source.path(), SourceKind::Dockerfile, origin);
            container.build = Some(build);
            container
        })
        .into_iter()
        .collect();
    Lowered {
        containers,
        errors,
        ..Lowered::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_dockerfile_content() {
        for text in [
            "FROM alpine\n",
            "# syntax=docker/dockerfile:1\n\narg VERSION=1\nFROM x:$VERSION\n",
            "\u{feff}  from\talpine",
            "# escape=`\r\nFROM mcr.microsoft.com/windows\r\n",
        ] {
            assert!(looks_like_dockerfile(text), "{text:?}");
        }
        for text in [
            "",
            "# only a comment\n",
            "FROM\n",
            "FROMAGE x\n",
            "services:\n  web: {}\n",
        ] {
            assert!(!looks_like_dockerfile(text), "{text:?}");
        }
    }

    #[test]
    fn layout_spans_instructions_through_continuations_and_heredocs() {
        let text = "# escape=`\r\nFROM x\r\nrun a `\r\n  b\r\nRUN <<EOF\r\necho\r\nEOF\r\n";
        let layout = layout(text);
        assert_eq!(layout.escape, '`');
        assert_eq!(layout.directives, ["escape"]);
        let shown: Vec<(&str, &str, &str)> = layout
            .instructions
            .iter()
            .map(|instruction| {
                (
                    instruction.keyword.as_str(),
                    &text[instruction.keyword_range.to_range()],
                    &text[instruction.span.to_range()],
                )
            })
            .collect();
        assert_eq!(
            shown,
            [
                ("FROM", "FROM", "FROM x"),
                ("RUN", "run", "run a `\r\n  b"),
                ("RUN", "RUN", "RUN <<EOF\r\necho\r\nEOF"),
            ]
        );
    }

    #[test]
    fn errors_carry_path_and_position() {
        let db = SourceDb::new();
        let file = db.add("app/Dockerfile", "FROM alpine\nFORM x\nUSER app\n");
        let lowered = lower(&db, file, &Options::default());
        assert_eq!(lowered.errors.len(), 1);
        let error = &lowered.errors[0];
        assert_eq!(error.path, "app/Dockerfile");
        assert_eq!(
            error.message,
            "unknown instruction `FORM` (did you mean `FROM`?)"
        );
        let span = error.span.unwrap();
        let position = db.get(file).line_column(span.range.start);
        assert_eq!((position.line, position.column), (2, 1));
        let build = lowered.containers[0].build.as_ref().unwrap();
        assert_eq!(build.stages[0].users[0].value.user, "app");
    }

    #[test]
    fn errors_are_capped() {
        let db = SourceDb::new();
        let file = db.add(
            "notes.txt",
            "FROM x\n".to_owned() + &"hello world\n".repeat(200),
        );
        let lowered = lower(&db, file, &Options::default());
        assert_eq!(lowered.errors.len(), MAX_ERRORS + 1);
        assert_eq!(
            lowered.errors[MAX_ERRORS].message,
            "150 more errors not shown (is this a Dockerfile?)"
        );
    }

    #[test]
    fn missing_from() {
        let db = SourceDb::new();
        let file = db.add("Dockerfile", "# nothing\n");
        let lowered = lower(&db, file, &Options::default());
        assert!(lowered.containers.is_empty());
        assert_eq!(lowered.errors[0].message, "`FROM` missing");
    }
}
