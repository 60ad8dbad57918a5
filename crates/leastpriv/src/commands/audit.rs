//! `leastpriv audit`: read every input, judge every container, print one report.

use std::io::{IsTerminal, Write};

use anyhow::Result;
use leastpriv_frontend::Lowered;
use leastpriv_report::human::HumanOptions;
use leastpriv_report::Report;
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
    // Each input is read and lowered on its own thread; one that cannot be read becomes an error.
    let lowered: Vec<(bool, Lowered)> = sources
        .par_iter()
        .map(|source| match source.load(&db) {
            Ok((file, kind)) => (
                true,
                leastpriv_frontend::lower(&db, file, kind, &settings.options),
            ),
            Err(error) => (
                false,
                Lowered {
                    containers: Vec::new(),
                    errors: vec![error],
                },
            ),
        })
        .collect();
    let mut containers = Vec::new();
    let mut files_audited = 0;
    for (read, mut file) in lowered {
        files_audited += usize::from(read);
        containers.extend(file.containers);
        // Inputs keep their order; one file's errors are listed top to bottom.
        file.errors
            .sort_by_key(|error| error.span.map(|span| span.range.start));
        errors.extend(file.errors);
    }

    let diagnostics = leastpriv_rules::check(&db, &containers, &settings.selection);
    let report = Report {
        db: &db,
        diagnostics: &diagnostics,
        errors: &errors,
        files_audited,
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

/// `--color`: `auto` colours a terminal unless `NO_COLOR` is set to anything but the empty string
/// (no-color.org); `CLICOLOR_FORCE` forces colour in `auto` mode, as in cargo and ripgrep.
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
