//! `leastpriv audit`: read every input, judge every container, print one report.

use std::io::{IsTerminal, Write};

use anyhow::Result;
use leastpriv_frontend::Lowered;
use leastpriv_report::Report;
use leastpriv_source::SourceDb;
use rayon::prelude::*;

use crate::args::{AuditArgs, ColorChoice, Format};
use crate::config::Settings;
use crate::inputs::{self, InputSource};
use crate::ExitStatus;

pub(crate) fn run(args: &AuditArgs, out: &mut dyn Write) -> Result<ExitStatus> {
    let settings = Settings::resolve(args)?;
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
    let mut lowered: Vec<Lowered> = sources
        .par_iter()
        .map(|source| match source {
            InputSource::Image(path) => images::lowered(leastpriv_image::audit_path(
                &db,
                path,
                &source.display(),
                &image_options,
            )),
            _ => match source.load(&db) {
                Ok((file, kind)) => leastpriv_frontend::lower(&db, file, kind, &settings.options),
                Err(error) => Lowered {
                    containers: Vec::new(),
                    errors: vec![error],
                },
            },
        })
        .collect();
    lowered.extend(
        args.images
            .iter()
            .map(|name| images::engine(&db, name, &image_options)),
    );
    let mut containers = Vec::new();
    for file in lowered {
        containers.extend(file.containers);
        errors.extend(file.errors);
    }

    let diagnostics = leastpriv_rules::check(&db, &containers, &settings.selection);
    let report = Report {
        db: &db,
        diagnostics: &diagnostics,
        errors: &errors,
        files_audited: sources.len() + args.images.len(),
    };
    match args.format {
        Format::Json => leastpriv_report::json::write(&report, out)?,
        Format::Human | Format::Sarif | Format::Github => {
            let _color = use_color(args.color);
            leastpriv_report::json::write(&report, out)?;
        }
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

fn use_color(choice: ColorChoice) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::env::var_os("NO_COLOR").is_none() && std::io::stdout().is_terminal()
        }
    }
}

/// Images: archives and OCI layouts, and images in the local engine.
mod images {
    use leastpriv_frontend::Lowered;
    use leastpriv_source::SourceDb;

    pub(super) fn lowered(audited: leastpriv_image::Audited) -> Lowered {
        Lowered {
            containers: audited.containers,
            errors: audited.errors,
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
            containers: Vec::new(),
            errors: vec![leastpriv_source::InputError::file(
                name,
                "this leastpriv was built without the `engine` feature; audit a `docker save` archive instead",
            )],
        }
    }
}
