//! `leastpriv audit`: read every input, judge every container, print one report.

use std::collections::HashSet;
use std::io::{IsTerminal, Write};

use anyhow::Result;
use leastpriv_frontend::{compose, InputKind, Lowered};
use leastpriv_model::{Build, BuildArg, Container, EnvVar};
use leastpriv_report::human::HumanOptions;
use leastpriv_report::{normalized, Audited, Report};
use leastpriv_rules::Subjects;
use leastpriv_secrets::KnownSecrets;
use leastpriv_source::{Origin, SourceDb};
use rayon::prelude::*;

use crate::args::{AuditArgs, ColorChoice, Format};
use crate::config::Settings;
use crate::inputs::{self, InputSource};
use crate::ExitStatus;

pub(crate) fn run(
    args: &AuditArgs,
    out: &mut dyn Write,
    notes: &mut dyn Write,
) -> Result<ExitStatus> {
    let settings = Settings::resolve(args)?;
    // A configuration file changes what is reported: a person reading the report is told which.
    // A note that cannot be written (stderr closed) must not end the audit.
    if let (Some(loaded), Format::Human) = (&settings.loaded, args.format) {
        let _ = writeln!(notes, "leastpriv: {}", loaded.describe());
    }
    let (sources, mut errors) = inputs::collect(
        &args.paths,
        args.stdin_filename.as_deref(),
        &settings.exclude,
    );

    let db = SourceDb::new();
    let image_options = leastpriv_image::Options {
        progress: std::io::stderr().is_terminal(),
        ..leastpriv_image::Options::default()
    };
    // Each input is read and lowered on its own thread; one that cannot be read becomes an error.
    let gate = inputs::MemoryGate::default();
    let mut lowered: Vec<(bool, Lowered)> = sources
        .par_iter()
        .map(|source| match source {
            InputSource::Image(path) => (
                true,
                images::lowered(leastpriv_image::audit_path(
                    &db,
                    path,
                    &source.display(),
                    &image_options,
                )),
            ),
            _ => match gate.enter(source.size()).and_then(|pass| {
                let (file, kind) = source.load(&db)?;
                // A Compose project may read more Compose files than this one: it is admitted
                // again (holding nothing while it waits) by what the whole project may hold.
                let _pass =
                    if kind == InputKind::Compose && compose::may_read_other_files(&db, file) {
                        drop(pass);
                        gate.enter(compose::MAX_PROJECT_BYTES)?
                    } else {
                        pass
                    };
                // A Dockerfile on standard input has no build context beside it.
                let stdin_options;
                let options = if matches!(source, InputSource::Stdin(_)) {
                    stdin_options = leastpriv_frontend::Options {
                        build_context: leastpriv_frontend::dockerfile::ContextDir::Unknown,
                        ..settings.options.clone()
                    };
                    &stdin_options
                } else {
                    &settings.options
                };
                Ok(leastpriv_frontend::lower(&db, file, kind, options))
            }) {
                Ok(lowered) => (true, lowered),
                Err(error) => (
                    false,
                    Lowered {
                        errors: vec![error],
                        ..Lowered::default()
                    },
                ),
            },
        })
        .collect();
    lowered.extend(
        args.images
            .iter()
            .map(|name| (true, images::engine(&db, name, &image_options))),
    );
    if !args.compose_files.is_empty() {
        lowered.push((true, compose_project(&db, &args.compose_files, &settings)));
    }
    if args.engine {
        // An engine that does not answer is an input that could not be read, like any other: the
        // other inputs' findings are still reported.
        match crate::engine::audit(&db, &settings.options) {
            Ok(engine) => lowered.push((true, engine.lowered)),
            Err(error) => lowered.push((
                false,
                Lowered {
                    errors: vec![leastpriv_source::InputError::file(
                        "docker engine",
                        format!("{error:#}"),
                    )],
                    ..Lowered::default()
                },
            )),
        }
    }
    let mut containers = Vec::new();
    let mut daemons = Vec::new();
    // Inputs that could not be read: their names are in the database only to show the error.
    let mut unread = HashSet::new();
    let mut secrets = KnownSecrets::default();
    for (read, mut file) in lowered {
        secrets.extend(&file.secrets);
        if !read {
            unread.extend(file.errors.iter().map(|error| normalized(&error.path)));
        }
        containers.extend(file.containers);
        daemons.extend(file.daemons);
        // Inputs keep their order; one file's errors are listed top to bottom.
        file.errors
            .sort_by_key(|error| error.span.map(|span| span.range.start));
        errors.extend(file.errors);
    }
    link_images_to_dockerfiles(&db, &mut containers);
    record_secret_values(&containers, &mut secrets);

    let subjects = Subjects {
        containers: &containers,
        daemons: &daemons,
    };
    let diagnostics = leastpriv_rules::check(&db, subjects, &settings.selection);
    secrets.seal();
    let report = Report {
        secrets: &secrets,
        db: &db,
        diagnostics: &diagnostics,
        errors: &errors,
        audited: audited(&db, &unread),
    };
    match args.format {
        Format::Human => {
            let options = HumanOptions {
                color: use_color(args.color),
            };
            leastpriv_report::human::write(&report, out, options)?;
        }
        Format::Json => leastpriv_report::json::write(&report, out)?,
        Format::Sarif => leastpriv_report::sarif::write(&report, out)?,
        Format::Github => leastpriv_report::github::write(&report, out)?,
    }

    let failing = settings
        .fail_on
        .is_some_and(|threshold| diagnostics.iter().any(|d| d.severity >= threshold));
    Ok(if !errors.is_empty() {
        ExitStatus::Error
    } else if failing {
        ExitStatus::Findings
    } else {
        ExitStatus::Clean
    })
}

/// What the run audited: every file read (once per path, inputs that could not be read left out),
/// every image, every running container and daemon of the engine.
fn audited(db: &SourceDb, unread: &HashSet<String>) -> Audited {
    let mut files = HashSet::new();
    let mut images = HashSet::new();
    let mut containers = HashSet::new();
    let mut daemons = 0;
    for file in db.files() {
        match file.origin() {
            Origin::File => {
                let path = normalized(file.path());
                if !unread.contains(&path) {
                    files.insert(path);
                }
            }
            Origin::Image(name) => {
                images.insert(name.clone());
            }
            Origin::Container(name) => {
                containers.insert(name.clone());
            }
            Origin::Daemon => daemons = 1,
        }
    }
    Audited {
        files: files.len(),
        images: images.len(),
        containers: containers.len(),
        daemons,
    }
}

/// `--color`: `auto` colours a terminal unless `NO_COLOR` is set to anything but the empty string
/// (no-color.org); `CLICOLOR_FORCE` forces colour in `auto` mode, as in cargo and ripgrep.
/// Says which Dockerfile line created each layer of the audited images, when a Dockerfile audited
/// in the same run built them.
fn link_images_to_dockerfiles(db: &SourceDb, containers: &mut [Container]) {
    if !containers.iter().any(|container| container.image.is_some()) {
        return;
    }
    // A Dockerfile audited itself and through a Compose service's `build:` is read twice, into two
    // file ids: one build per file and target, or the two would look like rival Dockerfiles.
    let mut seen = HashSet::new();
    let builds: Vec<Build> = containers
        .iter()
        .filter(|container| container.image.is_none())
        .filter_map(|container| container.build.clone())
        .filter(|build| {
            let from = build.stages.first().map(|stage| stage.from);
            seen.insert(from.map(|span| {
                (
                    db.get(span.file).path().to_owned(),
                    span.range.start,
                    build.target,
                )
            }))
        })
        .collect();
    for image in containers.iter_mut().filter_map(|c| c.image.as_mut()) {
        leastpriv_image::link_layers(image, &builds);
    }
}

fn use_color(choice: ColorChoice) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            let set = |name: &str| std::env::var_os(name).is_some_and(|value| !value.is_empty());
            if set("NO_COLOR") {
                false
            } else {
                set("CLICOLOR_FORCE") || std::io::stdout().is_terminal()
            }
        }
    }
}

/// The Compose project given with `-f` (several times): read safely, then merged in order.
fn compose_project(db: &SourceDb, files: &[std::path::PathBuf], settings: &Settings) -> Lowered {
    let mut errors = Vec::new();
    let mut ids = Vec::new();
    for path in files {
        match InputSource::Named(path.clone()).load(db) {
            Ok((file, _)) => ids.push(file),
            Err(error) => errors.push(error),
        }
    }
    let mut lowered = leastpriv_frontend::compose::lower_files(db, &ids, &settings.options);
    errors.append(&mut lowered.errors);
    lowered.errors = errors;
    lowered
}

/// Images: archives and OCI layouts, and images in the local engine.
mod images {
    use leastpriv_frontend::Lowered;
    use leastpriv_source::SourceDb;

    pub(super) fn lowered(audited: leastpriv_image::Audited) -> Lowered {
        Lowered {
            containers: audited.containers,
            errors: audited.errors,
            ..Lowered::default()
        }
    }

    #[cfg(feature = "engine")]
    pub(super) fn engine(db: &SourceDb, name: &str, options: &leastpriv_image::Options) -> Lowered {
        lowered(leastpriv_image::engine::audit_engine_image(
            db, name, options,
        ))
    }

    #[cfg(not(feature = "engine"))]
    pub(super) fn engine(
        _db: &SourceDb,
        name: &str,
        _options: &leastpriv_image::Options,
    ) -> Lowered {
        Lowered {
            errors: vec![leastpriv_source::InputError::file(
                name,
                "this leastpriv was built without the `engine` feature; audit a `docker save` archive instead",
            )],
            ..Lowered::default()
        }
    }
}

/// Records, as secrets to mask wherever they land, the values of secret-named variables: the
/// process environment's (a CI token interpolated into a Compose file, or read through
/// `/proc/self/environ`) and every container's `ENV`, `ARG` defaults, `environment:` and image
/// `Env`, which `ARG`/`ENV` expansion may have carried into a `USER` or an image name.
fn record_secret_values(containers: &[Container], secrets: &mut KnownSecrets) {
    for (name, value) in std::env::vars_os() {
        if let (Some(name), Some(value)) = (name.to_str(), value.to_str()) {
            secrets.record(name, value);
        }
    }
    for container in containers {
        let mut variables: Vec<&EnvVar> = Vec::new();
        let mut args: Vec<&BuildArg> = Vec::new();
        if let Some(build) = &container.build {
            args.extend(&build.global_args);
            for stage in &build.stages {
                variables.extend(&stage.env);
                args.extend(&stage.args);
            }
        }
        if let Some(runtime) = &container.runtime {
            variables.extend(&runtime.environment);
        }
        if let Some(image) = &container.image {
            variables.extend(&image.env);
        }
        for variable in variables {
            if let Some(value) = &variable.value {
                secrets.record(&variable.name.value, value.value.expose());
            }
        }
        for arg in args {
            if let Some(default) = &arg.default {
                secrets.record(&arg.name.value, default.value.expose());
            }
        }
    }
}
