//! `leastpriv audit`: read every input, judge every container, print one report.

use std::io::{IsTerminal, Write};

use anyhow::Result;
use leastpriv_frontend::Lowered;
use leastpriv_report::Report;
use leastpriv_rules::Subjects;
use leastpriv_source::SourceDb;
use rayon::prelude::*;

use crate::args::{AuditArgs, ColorChoice, Format};
use crate::config::Settings;
use crate::inputs;
use crate::ExitStatus;

pub(crate) fn run(args: &AuditArgs, out: &mut dyn Write) -> Result<ExitStatus> {
    let settings = Settings::resolve(args)?;
    let (sources, mut errors) = inputs::collect(
        &args.paths,
        args.stdin_filename.as_deref(),
        &settings.exclude,
    );

    let db = SourceDb::new();
    let mut lowered: Vec<Lowered> = sources
        .par_iter()
        .map(|source| match source.load(&db) {
            Ok((file, kind)) => leastpriv_frontend::lower(&db, file, kind, &settings.options),
            Err(error) => Lowered {
                errors: vec![error],
                ..Lowered::default()
            },
        })
        .collect();
    let mut files_audited = sources.len();
    if args.engine {
        let engine = crate::engine::audit(&db, &settings.options)?;
        files_audited += engine.inputs;
        lowered.push(engine.lowered);
    }
    let mut containers = Vec::new();
    let mut daemons = Vec::new();
    for file in lowered {
        containers.extend(file.containers);
        daemons.extend(file.daemons);
        errors.extend(file.errors);
    }

    let subjects = Subjects {
        containers: &containers,
        daemons: &daemons,
    };
    let diagnostics = leastpriv_rules::check(&db, subjects, &settings.selection);
    let report = Report {
        db: &db,
        diagnostics: &diagnostics,
        errors: &errors,
        files_audited,
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
