//! Every command in README.md runs as written.
//!
//! The `sh` blocks are split into commands (continuations joined, trailing comments dropped) and each
//! is either run through `sh -c` exactly as written, or listed in [`NOT_RUN`] with the reason. A
//! command that is in neither fails the test, so a new README command comes with a way to run it.
//! Commands run with the binary under test first on `PATH` as `leastpriv`, `HOME` in a temporary
//! directory (the completion and man page commands write there), and in a project holding the files
//! the examples name (`web/Dockerfile`, `compose.yaml` …); those naming `examples/` run in the
//! repository. Two substitutions, said here: `cargo run --release --` is the binary under test (the
//! build `cargo test` made), and the example image `web:1.4` is an image this test builds, under a
//! unique name, on the real engine. Commands that need the engine are skipped without one (and fail
//! under `CI=true`).
#![allow(clippy::print_stderr)]

use std::path::{Path, PathBuf};
use std::process::Command;

use support::{compose_tool, skip};

mod support;

/// Commands not run, with the reason. Matched by prefix.
const NOT_RUN: &[(&str, &str)] = &[
    ("cargo test --workspace", "it is this test run"),
    (
        "cargo install --path crates/leastpriv",
        "a full release build; `cargo_install_from_the_repository_root_is_static` runs it with --debug",
    ),
    (
        "cargo build --release",
        "a release build; the commands after it use the binary under test",
    ),
    (
        "cp \"target/$(rustc --print host-tuple)/release/leastpriv\" .",
        "needs the release build; the engine test `leastpriv_image_builds_from_scratch_and_runs_as_non_root` builds the same Dockerfile from the binary under test",
    ),
    (
        "docker build -t leastpriv .",
        "see above: built under a unique name by the engine test, not as `leastpriv` on a shared engine",
    ),
    (
        "docker run --rm -v \"$PWD:/src:ro\" leastpriv audit .",
        "see above: run by the engine test",
    ),
    (
        "leastpriv profile -o web.json --seccomp web.seccomp.json --exercise",
        "needs a service answering on port 8080; tests/profile.rs profiles a busybox httpd the same way",
    ),
    (
        "examples/driftwood/profile.sh",
        "builds Driftwood and rewrites its checked-in profile; tests/driftwood_profile.rs profiles the same service",
    ),
    (
        "leastpriv audit --engine",
        "audits every container of the shared engine, which other runs start and remove meanwhile; tests/daemon.rs covers --engine",
    ),
];

/// Exit codes a command may end with: 0 clean, 1 findings or a layer that does not hold. Never 2
/// (an error or a usage error).
const RAN: &[i32] = &[0, 1];

/// Commands whose exit code is known exactly.
const EXACT: &[(&str, i32)] = &[
    ("cargo run --release -- audit examples/driftwood", 1),
    ("leastpriv verify -- docker run web:1.4", 1),
    (
        "leastpriv verify --expect non-root,cap-drop-all,no-new-privileges,read-only,seccomp,no-engine-socket",
        0,
    ),
    ("leastpriv verify --expect user,filesystem --compose", 0),
    ("leastpriv rules", 0),
    ("leastpriv explain", 0),
    ("leastpriv probe", 0),
];

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("the repository root")
        .to_path_buf()
}

/// The commands of the `sh` blocks of a Markdown text.
fn commands(markdown: &str) -> Vec<String> {
    let mut commands = Vec::new();
    let mut in_sh = false;
    let mut pending = String::new();
    for line in markdown.lines() {
        let fence = line.trim_start();
        if let Some(info) = fence.strip_prefix("```") {
            in_sh = !in_sh && info.trim() == "sh";
            continue;
        }
        if !in_sh {
            continue;
        }
        let line = without_comment(line);
        match line.strip_suffix('\\') {
            Some(start) => {
                pending.push_str(start.trim_end());
                pending.push(' ');
            }
            None => {
                pending.push_str(line.trim());
                let command = pending.trim().to_owned();
                if !command.is_empty() {
                    commands.push(command);
                }
                pending.clear();
            }
        }
    }
    commands
}

/// `line` without a trailing `# comment` (a `#` after whitespace, outside quotes).
fn without_comment(line: &str) -> &str {
    let mut quote = None;
    let mut previous = ' ';
    for (at, c) in line.char_indices() {
        match (quote, c) {
            (None, '\'' | '"') => quote = Some(c),
            (Some(open), c) if c == open => quote = None,
            (None, '#') if previous.is_whitespace() => return line[..at].trim_end(),
            _ => {}
        }
        previous = c;
    }
    line.trim_end()
}

#[test]
fn splits_commands_as_a_shell_reads_them() {
    let markdown = "text\n```sh\nleastpriv audit   # the current directory\n\
                    leastpriv verify --expect a,b \\\n    -- docker run x   # runs x\n\
                    echo '# kept' # dropped\n```\n```toml\nnot = \"a command\"\n```\n";
    assert_eq!(
        commands(markdown),
        [
            "leastpriv audit",
            "leastpriv verify --expect a,b -- docker run x",
            "echo '# kept'",
        ]
    );
}

/// A project holding the files the README's examples name.
fn project(image: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let write = |relative: &str, text: &str| {
        let path = dir.path().join(relative);
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("directories");
        std::fs::write(path, text).expect("writes");
    };
    let dockerfile = "FROM scratch\nCOPY app /app\nUSER 10001:10001\nENTRYPOINT [\"/app\"]\n";
    write("Dockerfile", dockerfile);
    write("web/Dockerfile", dockerfile);
    write("Dockerfile.ci", "FROM scratch\nCOPY test /test\n");
    write(
        "deploy/run.sh",
        "#!/bin/sh\ndocker run --read-only --cap-drop ALL example/app\n",
    );
    write(
        "compose.yaml",
        &format!(
            "services:\n  web:\n    image: {image}\n    user: \"10001:10001\"\n    read_only: true\n    \
             cap_drop: [ALL]\n    security_opt: [\"no-new-privileges:true\"]\n"
        ),
    );
    write(
        "compose.prod.yaml",
        "services:\n  web:\n    tmpfs: [\"/tmp:size=16m\"]\n",
    );
    dir
}

#[test]
fn every_readme_command_runs_as_written() {
    let test = "every_readme_command_runs_as_written";
    let readme = std::fs::read_to_string(repository().join("README.md")).expect("README.md");
    let commands = commands(&readme);
    assert!(commands.len() > 15, "{commands:#?}");

    // The binary under test as `leastpriv`, first on PATH.
    let bin = tempfile::tempdir().expect("a temporary directory");
    std::os::unix::fs::symlink(
        env!("CARGO_BIN_EXE_leastpriv"),
        bin.path().join("leastpriv"),
    )
    .expect("symlink");
    let path = format!(
        "{}:{}",
        bin.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let home = tempfile::tempdir().expect("a temporary directory");
    let engine = Engine::start();
    let image = engine
        .as_ref()
        .map_or("web:1.4", |engine| engine.tag.as_str());
    let project = project(image);

    let mut ran = 0;
    for command in &commands {
        if let Some((_, why)) = NOT_RUN
            .iter()
            .find(|(prefix, _)| command.starts_with(prefix))
        {
            eprintln!("not run: {command}\n    {why}");
            continue;
        }
        let needs_engine = command.contains("docker ") || command.contains("--image");
        if needs_engine && engine.is_none() {
            skip::<()>(test, &format!("`{command}` needs a container engine"));
            continue;
        }
        if command.contains("--compose") && compose_tool().is_none() {
            skip::<()>(test, &format!("`{command}` needs docker compose"));
            continue;
        }
        if command.contains("/etc/docker/daemon.json")
            && !Path::new("/etc/docker/daemon.json").exists()
        {
            eprintln!("not run: {command}\n    this machine has no /etc/docker/daemon.json");
            continue;
        }
        if command.contains("man -l") && Command::new("man").arg("--version").output().is_err() {
            eprintln!("not run: {command}\n    no `man` on this machine");
            continue;
        }
        let script = command
            .replace("cargo run --release -- ", "leastpriv ")
            .replace("web:1.4", image);
        let dir = if command.contains("examples/") {
            repository()
        } else {
            project.path().to_path_buf()
        };
        let output = Command::new("sh")
            .args(["-c", &script])
            .current_dir(&dir)
            .env("PATH", &path)
            .env("HOME", home.path())
            .env_remove("LEASTPRIV_PROBE_BINARY")
            .output()
            .expect("sh runs");
        let code = output.status.code().unwrap_or(-1);
        let expected: Vec<i32> = match EXACT.iter().find(|(prefix, _)| command.starts_with(prefix))
        {
            Some((_, code)) => vec![*code],
            None => RAN.to_vec(),
        };
        assert!(
            expected.contains(&code),
            "`{command}` exited {code}, expected {expected:?}\nstdout:\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        eprintln!("ran: {command} (exit {code})");
        ran += 1;
    }
    assert!(ran >= 10, "only {ran} commands ran");
    // What the install commands wrote.
    for written in [
        ".local/share/bash-completion/completions/leastpriv",
        ".zfunc/_leastpriv",
        ".config/fish/completions/leastpriv.fish",
        ".local/share/man/man1/leastpriv-verify.1",
    ] {
        assert!(home.path().join(written).is_file(), "{written}");
    }
}

/// The engine, and an image standing in for the README's `web:1.4`.
struct Engine {
    tag: String,
}

impl Engine {
    fn start() -> Option<Self> {
        let info = Command::new("docker").arg("info").output().ok()?;
        if !info.status.success() || !Path::new("/bin/busybox").is_file() {
            return None;
        }
        let context = tempfile::tempdir().expect("a temporary directory");
        std::fs::copy("/bin/busybox", context.path().join("busybox")).expect("copy busybox");
        std::fs::write(
            context.path().join("Dockerfile"),
            "FROM scratch\nCOPY busybox /bin/busybox\nCMD [\"/bin/busybox\", \"true\"]\n",
        )
        .expect("Dockerfile");
        let tag = format!("leastpriv-test-readme-{}:1.4", std::process::id());
        let built = Command::new("docker")
            .args(["build", "--no-cache", "--quiet", "--tag", &tag])
            .arg(context.path())
            .env("DOCKER_BUILDKIT", "0")
            .output()
            .expect("docker build runs");
        assert!(
            built.status.success(),
            "{}",
            String::from_utf8_lossy(&built.stderr)
        );
        Some(Self { tag })
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        let _ = Command::new("docker")
            .args(["rmi", "--force", &self.tag])
            .output();
    }
}

#[test]
#[cfg(target_os = "linux")]
fn cargo_install_from_the_repository_root_is_static() {
    // The README's install command, in the debug profile so that it reuses this test run's build.
    let target_dir = Path::new(env!("CARGO_BIN_EXE_leastpriv"))
        .ancestors()
        .nth(3)
        .expect("the target directory")
        .to_path_buf();
    let root = tempfile::tempdir().expect("a temporary directory");
    let argv: Vec<String> = [
        "cargo",
        "install",
        "--path",
        "crates/leastpriv",
        "--debug",
        "--offline",
        "--locked",
        "--quiet",
        "--root",
    ]
    .iter()
    .map(|word| (*word).to_owned())
    .chain([root.path().display().to_string()])
    .collect();
    let mut command = Command::new(&argv[0]);
    command
        .args(&argv[1..])
        .current_dir(repository())
        .env("CARGO_TARGET_DIR", &target_dir)
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_BUILD_TARGET");
    let output = command.output().expect("cargo runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let installed = root.path().join("bin/leastpriv");
    if let Err(error) = leastpriv_verify::check_probe_binary(&installed) {
        panic!("cargo install gave a binary verify cannot mount: {error}");
    }
}
