//! The Compose front-end on fixture projects: each semantic of the Compose Specification that leastpriv
//! reads, lowered into the model and snapshotted with the location of every value.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use leastpriv_frontend::{compose, detect_by_content, detect_by_name, InputKind, Lowered, Options};
use leastpriv_model::{Container, EnvVar, Runtime, Span, Spanned};
use leastpriv_source::SourceDb;

const FIXTURES: &str = "tests/fixtures/compose";

/// The environment every fixture is interpolated from (the process environment is never read).
fn environment() -> BTreeMap<String, String> {
    [
        ("HOME", "/home/tester"),
        ("FROM_ENV", "set-in-environment"),
        ("P_UNUSED", "x"),
    ]
    .into_iter()
    .map(|(name, value)| (name.to_owned(), value.to_owned()))
    .collect()
}

fn options() -> Options {
    Options {
        env: Some(environment()),
        ..Options::default()
    }
}

/// Lowers `relative` (under the fixtures) as a directory walk would hand it over.
fn lower(relative: &str) -> (SourceDb, Lowered) {
    lower_with(relative, &options())
}

fn lower_with(relative: &str, options: &Options) -> (SourceDb, Lowered) {
    let db = SourceDb::new();
    let path = format!("{FIXTURES}/{relative}");
    let text = std::fs::read_to_string(&path).expect("fixture exists");
    let file = db.add(path, text);
    let lowered = compose::lower(&db, file, options);
    (db, lowered)
}

/// `path:line:column`, the path relative to the fixtures.
fn at(db: &SourceDb, span: Span) -> String {
    let file = db.get(span.file);
    let position = file.line_column(span.range.start);
    let path = file
        .path()
        .trim_start_matches(FIXTURES)
        .trim_start_matches('/');
    format!("{path}:{}:{}", position.line, position.column)
}

fn spanned<T: std::fmt::Debug>(db: &SourceDb, value: &Spanned<T>) -> String {
    format!("{:?} @{}", value.value, at(db, value.span))
}

fn list<T: std::fmt::Debug>(db: &SourceDb, values: &[Spanned<T>]) -> Vec<String> {
    values.iter().map(|value| spanned(db, value)).collect()
}

fn env_var(db: &SourceDb, variable: &EnvVar) -> String {
    match &variable.value {
        Some(value) => format!(
            "{} = {} @{}",
            variable.name.value,
            value.value,
            at(db, value.span)
        ),
        None => format!(
            "{} (no literal value) @{}",
            variable.name.value,
            at(db, variable.name.span)
        ),
    }
}

/// A readable dump of the containers and errors, with absolute paths made relative to the crate.
fn render(db: &SourceDb, lowered: &Lowered) -> String {
    let mut out = String::new();
    for container in &lowered.containers {
        render_container(&mut out, db, container);
    }
    for error in &lowered.errors {
        let place = error
            .span
            .map_or_else(|| error.path.clone(), |span| at(db, span));
        let _ = writeln!(out, "error {place}: {}", error.message);
    }
    let crate_dir = std::env::current_dir().expect("cwd").display().to_string();
    out.replace(&crate_dir, "<crate>")
}

fn render_container(out: &mut String, db: &SourceDb, container: &Container) {
    let _ = writeln!(out, "{} @{}", container.name, at(db, container.origin));
    if let Some(build) = &container.build {
        let user = build
            .final_user()
            .map_or_else(|| "none".to_owned(), |user| spanned(db, user));
        let _ = writeln!(
            out,
            "  build: {} stages, target {}, user {user}",
            build.stages.len(),
            build.target
        );
    }
    for variable in &container.committed_env {
        let _ = writeln!(out, "  committed env: {}", env_var(db, variable));
    }
    let Some(runtime) = &container.runtime else {
        return;
    };
    render_runtime(out, db, runtime);
}

fn render_runtime(out: &mut String, db: &SourceDb, runtime: &Runtime) {
    let mut line = |name: &str, value: Option<String>| {
        if let Some(value) = value {
            let _ = writeln!(out, "  {name}: {value}");
        }
    };
    line("image", runtime.image.as_ref().map(|v| spanned(db, v)));
    line(
        "user",
        runtime.user.as_ref().map(|user| {
            format!(
                "{}{} @{}",
                user.value,
                if user.value.unresolved {
                    " (unresolved)"
                } else {
                    ""
                },
                at(db, user.span)
            )
        }),
    );
    line(
        "privileged",
        runtime.privileged.as_ref().map(|v| spanned(db, v)),
    );
    line(
        "read_only_root",
        runtime.read_only_root.as_ref().map(|v| spanned(db, v)),
    );
    line(
        "no_new_privileges",
        runtime.no_new_privileges.as_ref().map(|v| spanned(db, v)),
    );
    line("seccomp", runtime.seccomp.as_ref().map(|v| spanned(db, v)));
    line(
        "apparmor",
        runtime.apparmor.as_ref().map(|v| spanned(db, v)),
    );
    line(
        "unmasked_paths",
        runtime.unmasked_paths.map(|span| at(db, span)),
    );
    let namespaces = &runtime.namespaces;
    for (name, namespace) in [
        ("pid", &namespaces.pid),
        ("network", &namespaces.network),
        ("ipc", &namespaces.ipc),
        ("uts", &namespaces.uts),
        ("user", &namespaces.user),
        ("cgroup", &namespaces.cgroup),
    ] {
        line(
            &format!("namespace {name}"),
            namespace.as_ref().map(|v| spanned(db, v)),
        );
    }
    let mut lines = |name: &str, values: Vec<String>| {
        for value in values {
            let _ = writeln!(out, "  {name}: {value}");
        }
    };
    lines("cap_add", list(db, &runtime.cap_add));
    lines("cap_drop", list(db, &runtime.cap_drop));
    lines("selinux", list(db, &runtime.selinux));
    lines("tmpfs", list(db, &runtime.tmpfs));
    lines("mount", list(db, &runtime.mounts));
    lines("device", list(db, &runtime.devices));
    lines("device_cgroup_rule", list(db, &runtime.device_cgroup_rules));
    lines("sysctl", list(db, &runtime.sysctls));
    lines(
        "env",
        runtime.environment.iter().map(|v| env_var(db, v)).collect(),
    );
    lines("env_file", list(db, &runtime.env_files));
    lines("secret", list(db, &runtime.secrets));
    lines("port", list(db, &runtime.ports));
}

fn service<'a>(lowered: &'a Lowered, name: &str) -> &'a Container {
    lowered
        .containers
        .iter()
        .find(|container| container.name == name)
        .unwrap_or_else(|| panic!("service {name}"))
}

fn runtime<'a>(lowered: &'a Lowered, name: &str) -> &'a Runtime {
    service(lowered, name).runtime.as_ref().expect("runtime")
}

fn literal<'a>(runtime: &'a Runtime, name: &str) -> Option<&'a str> {
    runtime
        .environment
        .iter()
        .find(|variable| variable.name.value == name)
        .and_then(|variable| variable.value.as_ref())
        .map(|value| value.value.expose())
}

#[test]
fn every_service_key_in_short_and_long_form() {
    let (db, lowered) = lower("services/compose.yaml");
    assert!(lowered.errors.is_empty(), "{:?}", lowered.errors);
    insta::assert_snapshot!(render(&db, &lowered));
    let web = runtime(&lowered, "web");
    assert_eq!(
        literal(web, "API_TOKEN"),
        Some("ghp_notarealtoken0000000000000000000000")
    );
    assert_eq!(literal(web, "EMPTY"), Some(""));
    assert_eq!(literal(web, "FROM_HOST"), None);
    let tools = runtime(&lowered, "tools");
    assert_eq!(literal(tools, "DOCKER_HOST"), Some("tcp://127.0.0.1:2375"));
    assert_eq!(literal(tools, "FLAG"), Some("true"));
}

#[test]
fn override_file_is_merged_into_its_main_file() {
    let (db, lowered) = lower("override/compose.yaml");
    assert!(lowered.errors.is_empty(), "{:?}", lowered.errors);
    insta::assert_snapshot!(render(&db, &lowered));
    let app = runtime(&lowered, "app");
    assert_eq!(literal(app, "MODE"), Some("debug"));
    assert!(app.ports.is_empty(), "`!reset` removes the ports");
    assert!(app.user.is_none(), "`!reset` removes the user");
}

#[test]
fn override_file_beside_its_main_file_is_audited_through_it() {
    let (_, lowered) = lower("override/compose.override.yaml");
    assert!(lowered.containers.is_empty());
    assert!(lowered.errors.is_empty());
}

#[test]
fn explicit_file_list_is_merged_in_order() {
    let db = SourceDb::new();
    let files: Vec<_> = ["override/compose.yaml", "profiles/compose.yaml"]
        .iter()
        .map(|relative| {
            let path = format!("{FIXTURES}/{relative}");
            let text = std::fs::read_to_string(&path).expect("fixture");
            db.add(path, text)
        })
        .collect();
    let lowered = compose::lower_files(&db, &files, &options());
    let names: Vec<&str> = lowered.containers.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        ["app", "db", "always", "debug (profiles: debug, dev)"]
    );
}

#[test]
fn values_are_judged_after_interpolation() {
    let (db, lowered) = lower("interpolation/compose.yaml");
    assert!(lowered.errors.is_empty(), "{:?}", lowered.errors);
    insta::assert_snapshot!(render(&db, &lowered));
    let app = runtime(&lowered, "app");
    assert_eq!(app.privileged.as_ref().map(|p| p.value), Some(false));
    assert_eq!(app.read_only_root.as_ref().map(|p| p.value), Some(true));
    assert_eq!(literal(app, "DEFAULTED"), Some("literal-default"));
    assert_eq!(literal(app, "ESCAPED"), Some("${NOT_A_VAR}"));
    assert_eq!(
        literal(app, "DB_PASSWORD"),
        None,
        "comes from .env, not written here"
    );
    assert_eq!(literal(app, "FROM_ENV"), None, "comes from the environment");
    let unresolved = runtime(&lowered, "unresolved");
    assert_eq!(
        unresolved.user.as_ref().map(|user| user.value.unresolved),
        Some(true)
    );
}

#[test]
fn the_environment_wins_over_dotenv() {
    let mut env = environment();
    env.insert("P".to_owned(), "true".to_owned());
    let (_, lowered) = lower_with(
        "interpolation/compose.yaml",
        &Options {
            env: Some(env),
            ..Options::default()
        },
    );
    let app = runtime(&lowered, "app");
    assert_eq!(app.privileged.as_ref().map(|p| p.value), Some(true));
}

#[test]
fn includes_bring_their_services_with_their_own_directories_and_env() {
    let (db, lowered) = lower("include/compose.yaml");
    assert!(lowered.errors.is_empty(), "{:?}", lowered.errors);
    insta::assert_snapshot!(render(&db, &lowered));
}

#[test]
fn extends_in_the_same_file_and_another_file() {
    let (db, lowered) = lower("extends/compose.yaml");
    assert!(lowered.errors.is_empty(), "{:?}", lowered.errors);
    insta::assert_snapshot!(render(&db, &lowered));
}

#[test]
fn extends_cycles_are_located_errors() {
    let (db, lowered) = lower("extends-cycle/compose.yaml");
    insta::assert_snapshot!(render(&db, &lowered));
}

#[test]
fn malformed_services_are_located_and_the_rest_is_lowered() {
    let (db, lowered) = lower("errors/compose.yaml");
    insta::assert_snapshot!(render(&db, &lowered));
    let still = runtime(&lowered, "still-lowered");
    assert_eq!(still.privileged.as_ref().map(|p| p.value), Some(true));
}

#[test]
fn broken_yaml_is_a_located_error() {
    for (fixture, line, column) in [
        ("broken/compose.yaml", 3, 1),
        ("unclosed/compose.yaml", 5, 5),
    ] {
        let (db, lowered) = lower(fixture);
        let error = lowered.errors.first().expect("an error");
        let span = error.span.expect("located");
        let position = db.get(span.file).line_column(span.range.start);
        assert_eq!(
            (position.line, position.column),
            (line, column),
            "{fixture}: {}",
            error.message
        );
        assert!(
            error.message.starts_with("invalid YAML"),
            "{}",
            error.message
        );
    }
}

#[test]
fn detects_compose_files_by_name_and_content() {
    for name in [
        "compose.yaml",
        "compose.yml",
        "docker-compose.yml",
        "docker-compose.yaml",
        "compose.override.yaml",
        "docker-compose.override.yml",
        "compose.prod.yaml",
        "docker-compose.test.yml",
        "docker-compose-db.yaml",
        "Docker-Compose.YML",
    ] {
        assert_eq!(
            detect_by_name(Path::new(name)),
            Some(InputKind::Compose),
            "{name}"
        );
    }
    for name in [
        "composer.yaml",
        "compose.json",
        "my-compose.yaml",
        "compose",
    ] {
        assert_ne!(
            detect_by_name(Path::new(name)),
            Some(InputKind::Compose),
            "{name}"
        );
    }
    assert_eq!(
        detect_by_content("services:\n  web:\n    image: nginx\n"),
        Some(InputKind::Compose)
    );
    assert_eq!(
        detect_by_content("{\"services\": {\"web\": {\"image\": \"nginx\"}}}"),
        Some(InputKind::Compose)
    );
    assert_eq!(detect_by_content("services: none\n"), None);
    assert_ne!(
        detect_by_content("apiVersion: v1\nkind: Pod\n"),
        Some(InputKind::Compose)
    );
}

/// Lowers `text` as `compose.yaml` in a fresh directory.
fn lower_text(text: &str) -> (SourceDb, Lowered) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("compose.yaml");
    std::fs::write(&path, text).expect("write");
    let db = SourceDb::new();
    let file = db.add(path.display().to_string(), text);
    let lowered = compose::lower(&db, file, &options());
    (db, lowered)
}

#[test]
fn hostile_alias_bomb_is_bounded() {
    let mut text = String::from("x-a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for level in 1..40 {
        let refs = vec![format!("*a{}", level - 1); 10].join(", ");
        text.push_str(&format!("x-a{level}: &a{level} [{refs}]\n"));
    }
    text.push_str("services:\n  web:\n    image: x\n");
    let (_, lowered) = lower_text(&text);
    assert!(lowered.errors[0].message.contains("aliases expand"));
}

#[test]
fn hostile_deep_nesting_is_bounded() {
    let text = format!(
        "services:\n  web:\n    command: {}x{}\n",
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    let (_, lowered) = lower_text(&text);
    assert!(!lowered.errors.is_empty());
    let text = format!(
        "services:\n  web:\n    labels:\n{}",
        (0..300)
            .map(|i| format!("{}- \n", " ".repeat(6 + 2 * i)))
            .collect::<String>()
    );
    let (_, lowered) = lower_text(&text);
    assert!(lowered
        .errors
        .iter()
        .any(|error| error.message.contains("nesting")));
}

#[test]
fn hostile_huge_scalar_is_read() {
    let image = "x".repeat(5 * 1024 * 1024);
    let (_, lowered) = lower_text(&format!("services:\n  web:\n    image: {image}\n"));
    assert!(lowered.errors.is_empty());
    assert_eq!(
        runtime(&lowered, "web")
            .image
            .as_ref()
            .map(|image| image.value.len()),
        Some(5 * 1024 * 1024)
    );
}

#[test]
fn hostile_extends_fan_out_is_bounded() {
    let mut text = String::from("services:\n  base:\n    environment:\n");
    for i in 0..2_000 {
        text.push_str(&format!("      V{i}: x\n"));
    }
    for i in 0..2_000 {
        text.push_str(&format!("  s{i}:\n    extends: base\n"));
    }
    let (_, lowered) = lower_text(&text);
    assert!(lowered
        .errors
        .iter()
        .any(|error| error.message.contains("`extends` copies")));
}

#[test]
fn hostile_include_fan_out_is_bounded() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("part.yaml"),
        "services:\n  part:\n    image: x\n",
    )
    .expect("write");
    let text = format!("include:\n{}", "  - part.yaml\n".repeat(1_000));
    let path = dir.path().join("compose.yaml");
    std::fs::write(&path, &text).expect("write");
    let db = SourceDb::new();
    let file = db.add(path.display().to_string(), text);
    let lowered = compose::lower(&db, file, &options());
    assert_eq!(lowered.containers.len(), 1);
    assert!(lowered
        .errors
        .iter()
        .any(|error| error.message.contains("loads more than")));
}

#[test]
fn build_lowers_the_services_dockerfile_with_its_args_and_target() {
    let (db, lowered) = lower("build/compose.yaml");
    assert!(lowered.errors.is_empty(), "{:?}", lowered.errors);
    insta::assert_snapshot!(render(&db, &lowered));
    let user_of = |name: &str| {
        service(&lowered, name)
            .effective_user()
            .map(|user| user.value.to_string())
    };
    assert_eq!(user_of("short").as_deref(), Some("1000"), "ARG default");
    assert_eq!(user_of("targeted").as_deref(), Some("root"), "target stage");
    assert_eq!(
        user_of("overridden").as_deref(),
        Some("1000:1000"),
        "`user:` wins"
    );
    assert_eq!(user_of("inline").as_deref(), Some("7000"));
    assert!(service(&lowered, "custom-dockerfile").build.is_some());
    assert!(service(&lowered, "remote").build.is_none());
    assert!(service(&lowered, "no-context-here").build.is_none());
}
