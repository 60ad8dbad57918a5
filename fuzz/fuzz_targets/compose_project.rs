//! Whole Compose projects built from fuzzer input: a `.env` whose values reference each other,
//! Compose files that include, extend and build from each other and from paths outside the project
//! (`..`, absolute, the standard streams, `/proc/self/environ`, a FIFO), anchors and aliases. Raw
//! bytes almost never make such a project; these structures make one on every run.
//!
//! Checks: never a panic, and the libFuzzer time and RSS limits (.ci/run) catch a hang or a blow-up;
//! nothing from outside the project is read (a canary written beside the project never appears in
//! an error or a lowered value); every error span lies inside its file.
#![no_main]

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::sync::OnceLock;

use leastpriv_frontend::{compose, Options};
use leastpriv_source::read::ReadScope;
use leastpriv_source::SourceDb;
use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;

const CANARY: &str = "canary-fuzz-outside-the-project";

/// One piece of a value: text, or a reference to one of eight variables.
#[derive(Arbitrary, Debug)]
enum Piece {
    Text(u8),
    Var(u8),
    Braced(u8),
    Default(u8, Vec<Piece>),
    Required(u8),
    Alternative(u8, Vec<Piece>),
    Dollar,
}

/// A path an input may name.
#[derive(Arbitrary, Debug)]
enum PathRef {
    Sibling(u8),
    Sub(u8),
    Parent,
    Canary,
    Absolute,
    Stream(u8),
    Fifo,
    Missing,
}

#[derive(Arbitrary, Debug)]
struct Service {
    name: u8,
    image: Vec<Piece>,
    user: Option<Vec<Piece>>,
    command: Vec<Vec<Piece>>,
    extends: Option<(Option<PathRef>, u8)>,
    build: Option<(Option<PathRef>, Option<PathRef>)>,
    seccomp: Option<PathRef>,
    anchor: bool,
    alias: Option<u8>,
}

#[derive(Arbitrary, Debug)]
struct ComposeFile {
    includes: Vec<(PathRef, Option<PathRef>)>,
    services: Vec<Service>,
}

#[derive(Arbitrary, Debug)]
struct Project {
    dotenv: Vec<(u8, Vec<Piece>)>,
    dotenv_is_fifo: bool,
    files: Vec<ComposeFile>,
}

fn var(index: u8) -> String {
    format!("V{}", index % 8)
}

fn piece(out: &mut String, this: &Piece, depth: usize) {
    if depth > 4 {
        return;
    }
    match this {
        Piece::Text(byte) => out.push_str(["x", "root", "0", "a b", ":", "}", "{", "é"][usize::from(*byte) % 8]),
        Piece::Var(index) => write!(out, "${}", var(*index)).unwrap_or_default(),
        Piece::Braced(index) => write!(out, "${{{}}}", var(*index)).unwrap_or_default(),
        Piece::Default(index, pieces) => {
            write!(out, "${{{}:-", var(*index)).unwrap_or_default();
            pieces.iter().take(4).for_each(|p| piece(out, p, depth + 1));
            out.push('}');
        }
        Piece::Required(index) => write!(out, "${{{}:?}}", var(*index)).unwrap_or_default(),
        Piece::Alternative(index, pieces) => {
            write!(out, "${{{}:+", var(*index)).unwrap_or_default();
            pieces.iter().take(4).for_each(|p| piece(out, p, depth + 1));
            out.push('}');
        }
        Piece::Dollar => out.push_str("$$"),
    }
}

fn value(pieces: &[Piece]) -> String {
    let mut out = String::new();
    pieces.iter().take(8).for_each(|p| piece(&mut out, p, 0));
    out
}

fn quoted(pieces: &[Piece]) -> String {
    serde_json_escape(&value(pieces))
}

/// A YAML double-quoted scalar (JSON's escaping is valid YAML).
fn serde_json_escape(text: &str) -> String {
    let mut out = String::from("\"");
    for ch in text.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            _ => out.push(ch),
        }
    }
    out.push('"');
    out
}

fn path(reference: &PathRef) -> String {
    match reference {
        PathRef::Sibling(n) => format!("f{}.yaml", n % 4),
        PathRef::Sub(n) => format!("sub/f{}.yaml", n % 4),
        PathRef::Parent => "../outside.yaml".to_owned(),
        PathRef::Canary => "../canary.env".to_owned(),
        PathRef::Absolute => "/etc/passwd".to_owned(),
        PathRef::Stream(n) => {
            ["/dev/stdin", "/dev/stdout", "/proc/self/fd/2", "/proc/self/environ"]
                [usize::from(*n) % 4]
                .to_owned()
        }
        PathRef::Fifo => "fifo".to_owned(),
        PathRef::Missing => "missing.yaml".to_owned(),
    }
}

fn compose_text(file: &ComposeFile) -> String {
    let mut text = String::new();
    if !file.includes.is_empty() {
        text.push_str("include:\n");
        for (include, env_file) in file.includes.iter().take(3) {
            write!(text, "  - path: {}\n", serde_json_escape(&path(include))).unwrap_or_default();
            if let Some(env_file) = env_file {
                write!(text, "    env_file: {}\n", serde_json_escape(&path(env_file)))
                    .unwrap_or_default();
            }
        }
    }
    text.push_str("services:\n");
    for service in file.services.iter().take(6) {
        let name = format!("s{}", service.name % 6);
        if let Some(target) = service.alias {
            write!(text, "  {name}: *a{}\n", target % 6).unwrap_or_default();
            continue;
        }
        let anchor = if service.anchor { format!(" &a{}", service.name % 6) } else { String::new() };
        write!(text, "  {name}:{anchor}\n    image: {}\n", quoted(&service.image)).unwrap_or_default();
        if let Some(user) = &service.user {
            write!(text, "    user: {}\n", quoted(user)).unwrap_or_default();
        }
        if !service.command.is_empty() {
            text.push_str("    command:\n");
            for word in service.command.iter().take(6) {
                write!(text, "      - {}\n", quoted(word)).unwrap_or_default();
            }
        }
        if let Some((file, target)) = &service.extends {
            match file {
                Some(file) => write!(
                    text,
                    "    extends: {{file: {}, service: s{}}}\n",
                    serde_json_escape(&path(file)),
                    target % 6
                ),
                None => write!(text, "    extends: s{}\n", target % 6),
            }
            .unwrap_or_default();
        }
        if let Some((context, dockerfile)) = &service.build {
            let context = context.as_ref().map_or(".".to_owned(), path);
            write!(text, "    build:\n      context: {}\n", serde_json_escape(&context)).unwrap_or_default();
            if let Some(dockerfile) = dockerfile {
                write!(text, "      dockerfile: {}\n", serde_json_escape(&path(dockerfile)))
                    .unwrap_or_default();
            }
        }
        if let Some(profile) = &service.seccomp {
            write!(text, "    security_opt: [{}]\n", serde_json_escape(&format!("seccomp={}", path(profile))))
                .unwrap_or_default();
        }
    }
    text
}

/// The directory the projects are written under, with the canary and a FIFO beside them.
fn workspace() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temporary directory");
        std::fs::write(dir.path().join("canary.env"), format!("TOKEN={CANARY}\n")).expect("canary");
        std::fs::write(
            dir.path().join("outside.yaml"),
            format!("services:\n  s0: {{image: {CANARY}}}\n"),
        )
        .expect("outside");
        dir
    })
    .path()
}

fuzz_target!(|project: Project| {
    let root = workspace();
    let dir = tempfile::tempdir_in(root).expect("project directory");
    let project_dir = dir.path();
    std::fs::create_dir_all(project_dir.join("sub")).expect("sub");
    let fifo = project_dir.join("fifo");
    let _ = std::process::Command::new("mkfifo").arg(&fifo).status();
    let mut dotenv = String::new();
    for (name, pieces) in project.dotenv.iter().take(16) {
        writeln!(dotenv, "{}={}", var(*name), value(pieces)).unwrap_or_default();
    }
    if project.dotenv_is_fifo {
        let _ = std::process::Command::new("mkfifo").arg(project_dir.join(".env")).status();
    } else {
        std::fs::write(project_dir.join(".env"), dotenv).expect(".env");
    }
    let mut files = project.files.iter().take(4);
    let Some(main) = files.next() else {
        return;
    };
    let main_path = project_dir.join("compose.yaml");
    std::fs::write(&main_path, compose_text(main)).expect("compose.yaml");
    for (index, file) in files.enumerate() {
        let text = compose_text(file);
        std::fs::write(project_dir.join(format!("f{index}.yaml")), &text).expect("file");
        std::fs::write(project_dir.join(format!("sub/f{index}.yaml")), &text).expect("file");
    }

    let db = SourceDb::new();
    let text = std::fs::read_to_string(&main_path).expect("written");
    let file = db.add(main_path.display().to_string(), text);
    let options = Options {
        env: Some(BTreeMap::from([("V0".to_owned(), "from-env".to_owned())])),
        scope: ReadScope::within([project_dir.to_path_buf()]),
        ..Options::default()
    };
    let lowered = compose::lower(&db, file, &options);
    for error in &lowered.errors {
        assert!(!error.message.contains(CANARY), "{}", error.message);
        if let Some(span) = error.span {
            let source = db.get(span.file);
            assert!(span.range.to_range().end <= source.text().len());
            assert!(!source.text().contains(CANARY), "read {}", source.path());
        }
    }
    let containers = format!("{:?}", lowered.containers);
    assert!(!containers.contains(CANARY), "a value from outside the project");
});
