//! Snapshots of the model each fixture Dockerfile lowers to, every value shown with the place it was
//! read from (`line:column` of its first and last character, and the text there when it differs from
//! the value), so that a reviewer can check positions by eye.
//!
//! A fixture may set options in comment lines: `# test-option: target=NAME` and
//! `# test-option: build-arg NAME=value`.

use std::fmt::Write;
use std::path::{Path, PathBuf};

use leastpriv_frontend::{lower, InputKind, Options};
use leastpriv_model::{
    Build, BuildArg, CopyInstruction, EnvVar, RunInstruction, ShellCommand, StageBase,
};
use leastpriv_source::{SourceDb, SourceFile, Span, Spanned};

fn fixtures() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/dockerfile");
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "Dockerfile"))
        .collect();
    found.sort();
    found
}

fn options(text: &str) -> Options {
    let mut options = Options::default();
    for line in text.lines() {
        let Some(option) = line.strip_prefix("# test-option: ") else {
            continue;
        };
        if let Some(target) = option.strip_prefix("target=") {
            options.target = Some(target.to_owned());
        } else if let Some((name, value)) = option
            .strip_prefix("build-arg ")
            .and_then(|arg| arg.split_once('='))
        {
            options.build_args.insert(name.to_owned(), value.to_owned());
        }
    }
    options
}

struct Render<'a> {
    source: &'a SourceFile,
    out: String,
}

impl Render<'_> {
    /// `L:C-L:C`, and the source text when it is not the value.
    fn at(&self, span: Span, value: &str) -> String {
        let start = self.source.line_column(span.range.start);
        let end = self
            .source
            .line_column(span.range.end.saturating_sub(1).max(span.range.start));
        let written = self.source.slice(span.range);
        let mut at = format!(
            "@{}:{}-{}:{}",
            start.line, start.column, end.line, end.column
        );
        if written != value {
            write!(at, " {written:?}").unwrap();
        }
        at
    }

    fn spanned(&self, spanned: &Spanned<String>) -> String {
        format!(
            "{:?} {}",
            spanned.value,
            self.at(spanned.span, &spanned.value)
        )
    }

    fn line(&mut self, indent: usize, text: impl AsRef<str>) {
        writeln!(self.out, "{}{}", "  ".repeat(indent), text.as_ref()).unwrap();
    }

    fn build(&mut self, build: &Build) {
        self.line(0, format!("target: {}", build.target));
        for arg in &build.global_args {
            let arg = self.arg(arg);
            self.line(0, format!("global arg {arg}"));
        }
        for stage in &build.stages {
            let name = stage
                .name
                .as_ref()
                .map(|name| format!(" as {}", self.spanned(name)))
                .unwrap_or_default();
            self.line(0, format!("stage {}{name}", stage.index));
            let from = self.at(stage.from, "");
            self.line(1, format!("from {from}"));
            let base = match &stage.base {
                StageBase::Image(image) => format!("image {}", self.spanned(image)),
                StageBase::Stage(index) => format!("stage {index}"),
                StageBase::Scratch => "scratch".to_owned(),
            };
            self.line(1, format!("base {base}"));
            if let Some(platform) = &stage.platform {
                let platform = self.spanned(platform);
                self.line(1, format!("platform {platform}"));
            }
            for arg in &stage.args {
                let arg = self.arg(arg);
                self.line(1, format!("arg {arg}"));
            }
            for env in &stage.env {
                let env = self.env(env);
                self.line(1, format!("env {env}"));
            }
            for user in &stage.users {
                let value = user.value.to_string();
                let unresolved = if user.value.unresolved {
                    " (unresolved)"
                } else {
                    ""
                };
                let at = self.at(user.span, &value);
                self.line(
                    1,
                    format!(
                        "user {value:?}{unresolved} root={:?} {at}",
                        user.value.is_root()
                    ),
                );
            }
            if let Some(workdir) = &stage.workdir {
                let workdir = self.spanned(workdir);
                self.line(1, format!("workdir {workdir}"));
            }
            for run in &stage.runs {
                self.run("run", run);
            }
            for run in &stage.onbuild_runs {
                self.run("onbuild run", run);
            }
            for copy in &stage.copies {
                self.copy(copy);
            }
            for port in &stage.exposed {
                let text = format!(
                    "{:?}{} {:?}",
                    port.value.port,
                    port.value
                        .range_end
                        .map(|end| format!("-{end}"))
                        .unwrap_or_default(),
                    port.value.protocol
                );
                let at = self.at(port.span, "");
                self.line(1, format!("expose {text} {at}"));
            }
            for volume in &stage.volumes {
                let volume = self.spanned(volume);
                self.line(1, format!("volume {volume}"));
            }
        }
    }

    fn arg(&self, arg: &BuildArg) -> String {
        let default = arg
            .default
            .as_ref()
            .map(|default| {
                let value = default.value.expose();
                format!(" = {value:?} {}", self.at(default.span, value))
            })
            .unwrap_or_default();
        format!("{}{default}", self.spanned(&arg.name))
    }

    fn env(&self, env: &EnvVar) -> String {
        let value = env
            .value
            .as_ref()
            .map(|value| {
                let exposed = value.value.expose();
                format!(" = {exposed:?} {}", self.at(value.span, exposed))
            })
            .unwrap_or_default();
        format!("{}{value}", self.spanned(&env.name))
    }

    fn run(&mut self, label: &str, run: &RunInstruction) {
        let form = if run.exec_form { " (exec form)" } else { "" };
        let at = self.at(run.span, "");
        self.line(1, format!("{label}{form} {at}"));
        for mount in &run.flags.mounts {
            let mount = self.spanned(mount);
            self.line(2, format!("mount {mount}"));
        }
        if let Some(network) = &run.flags.network {
            let network = self.spanned(network);
            self.line(2, format!("network {network}"));
        }
        if let Some(security) = &run.flags.security {
            let security = self.spanned(security);
            self.line(2, format!("security {security}"));
        }
        if !run.args_used.is_empty() {
            self.line(2, format!("args used {:?}", run.args_used));
        }
        let script_at = self.at(run.script.span, "");
        self.line(2, format!("script {:?} {script_at}", run.script.value));
        for command in &run.commands {
            self.command(command);
        }
    }

    fn command(&mut self, command: &ShellCommand) {
        let at = self.at(command.span, "");
        self.line(2, format!("command {at}"));
        for word in &command.argv {
            let word = self.spanned(word);
            self.line(3, word);
        }
    }

    fn copy(&mut self, copy: &CopyInstruction) {
        let keyword = if copy.is_add { "add" } else { "copy" };
        let at = self.at(copy.span, "");
        self.line(1, format!("{keyword} {at}"));
        for (label, flag) in [
            ("from", &copy.from),
            ("chown", &copy.chown),
            ("chmod", &copy.chmod),
        ] {
            if let Some(flag) = flag {
                let flag = self.spanned(flag);
                self.line(2, format!("{label} {flag}"));
            }
        }
        for source in &copy.sources {
            let source = self.spanned(source);
            self.line(2, format!("source {source}"));
        }
        let destination = self.spanned(&copy.destination);
        self.line(2, format!("destination {destination}"));
    }
}

#[test]
fn fixtures_lower_to_their_snapshots() {
    let fixtures = fixtures();
    assert!(!fixtures.is_empty());
    for path in fixtures {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&path).unwrap();
        let db = SourceDb::new();
        let file = db.add(name.clone(), text.clone());
        let lowered = lower(&db, file, InputKind::Dockerfile, &options(&text));
        let source = db.get(file);
        let mut render = Render {
            source: &source,
            out: String::new(),
        };
        for error in &lowered.errors {
            let at = error
                .span
                .map(|span| render.at(span, ""))
                .unwrap_or_default();
            render.line(0, format!("error {:?} {at}", error.message));
        }
        for container in &lowered.containers {
            let origin = render.at(container.origin, "");
            render.line(
                0,
                format!(
                    "container {:?} {:?} origin {origin}",
                    container.name, container.kind
                ),
            );
            if let Some(build) = &container.build {
                render.build(build);
            }
        }
        insta::with_settings!({
            snapshot_path => "snapshots/dockerfile",
            prepend_module_to_snapshot => false,
            omit_expression => true,
        }, {
            insta::assert_snapshot!(name, render.out);
        });
    }
}
