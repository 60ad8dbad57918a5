//! `leastpriv harden`: each file's findings fixed in its own syntax, shown as a diff, written in
//! place or into a Compose override file.
//!
//! The work is `leastpriv_harden`'s; this module finds the inputs (as `audit` does), routes each to
//! the fixer of its syntax, and reports: a unified diff per file, then each change with its rule,
//! layer and what it may break, and every remedy left with its reason. Exit status: 2 when an input
//! could not be hardened, 1 with `--check` when something would change, else 0.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};
use leastpriv_frontend::InputKind;
use leastpriv_harden::compose::{override_document, ComposeFixer};
use leastpriv_harden::docker_run::DockerRunFixer;
use leastpriv_harden::dockerfile::DockerfileFixer;
use leastpriv_harden::kubernetes::KubernetesFixer;
use leastpriv_harden::write::{create_file, write_file, Written};
use leastpriv_harden::{diff, FixOptions, Fixer, Hardened, Judge, LeftReason, Output, Profile};
use leastpriv_secrets::escape_control;
use leastpriv_source::SourceDb;
use rayon::prelude::*;
use serde::Serialize;

use crate::args::{HardenArgs, HardenFormat};
use crate::config::Settings;
use crate::inputs::{self, InputSource};
use crate::ExitStatus;

/// The fixer that writes `kind`, if harden writes it.
fn fixer_for(kind: InputKind) -> Option<&'static dyn Fixer> {
    match kind {
        InputKind::Compose => Some(&ComposeFixer),
        InputKind::Kubernetes => Some(&KubernetesFixer),
        InputKind::Dockerfile => Some(&DockerfileFixer),
        InputKind::ShellScript => Some(&DockerRunFixer),
        // Output of the engine, daemon settings and `.env` files: nothing of a container's own to
        // write (a secret in a `.env` file stays there; the Compose file that reads it is hardened).
        InputKind::DockerInspect
        | InputKind::EnvFile
        | InputKind::DaemonJson
        | InputKind::DockerInfo
        | InputKind::YamlOrJson => None,
    }
}

/// One input and what became of it.
struct FileResult {
    source: InputSource,
    kind: InputKind,
    hardened: Hardened,
}

pub(crate) fn run(
    args: &HardenArgs,
    out: &mut dyn Write,
    notes: &mut dyn Write,
) -> Result<ExitStatus> {
    let audit_args = args.as_audit();
    let settings = Settings::resolve(&audit_args)?;
    let profiles = args
        .profiles
        .iter()
        .map(|path| Profile::read(path).map_err(anyhow::Error::msg))
        .collect::<Result<Vec<_>>>()?;
    let options = FixOptions {
        remove_dangerous: args.remove_dangerous,
        profiles,
        output: if args.override_file.is_some() {
            Output::Override
        } else {
            Output::SameFile
        },
        secret_files: settings.secret_files.clone(),
    };
    let (sources, input_errors) = inputs::collect(
        &args.paths,
        args.stdin_filename.as_deref(),
        &settings.exclude,
    );
    let mut errors: Vec<String> = input_errors
        .iter()
        .map(|error| format!("{}: {}", error.path, error.message))
        .collect();

    let judge = Judge {
        options: &settings.options,
        selection: &settings.selection,
    };
    let results: Vec<Result<Option<FileResult>, String>> = sources
        .par_iter()
        .map(|source| {
            let db = SourceDb::new();
            let (file, kind) = source
                .load(&db)
                .map_err(|error| format!("{}: {}", error.path, error.message))?;
            let text = db.get(file).text().to_owned();
            let kind = match kind {
                InputKind::YamlOrJson => match leastpriv_frontend::detect_by_content(&text) {
                    Some(kind) => kind,
                    None => return Ok(None),
                },
                kind => kind,
            };
            let Some(fixer) = fixer_for(kind) else {
                return Ok(Some(FileResult {
                    source: source.clone(),
                    kind,
                    hardened: Hardened {
                        path: source.display(),
                        original: text.clone(),
                        text,
                        ..Hardened::default()
                    },
                }));
            };
            let path = source.display();
            let hardened = leastpriv_harden::harden(&path, &text, kind, fixer, &judge, &options);
            Ok(Some(FileResult {
                source: source.clone(),
                kind,
                hardened,
            }))
        })
        .collect();
    let mut results = results;
    if !args.compose_files.is_empty() {
        // `-f a -f b`: one project, judged merged as `audit -f` judges it.
        results.extend(compose_project(&args.compose_files, &judge, &options));
    }
    let mut files = Vec::new();
    for result in results {
        match result {
            Ok(Some(file)) => {
                errors.extend(file.hardened.errors.iter().cloned());
                files.push(file);
            }
            Ok(None) => {}
            Err(error) => errors.push(error),
        }
    }

    let override_text = args.override_file.as_ref().and_then(|_| {
        let pairs: Vec<(&str, &str)> = files
            .iter()
            .filter(|file| file.kind == InputKind::Compose)
            .map(|file| (file.hardened.original.as_str(), file.hardened.text.as_str()))
            .collect();
        override_document(&pairs)
    });

    // Each file's diff, on every thread: masking a text scans all of it.
    let diffs: Vec<String> = files
        .par_iter()
        .map(|file| {
            let hardened = &file.hardened;
            // Compose files' changes go into the override file, shown as its own diff.
            if (args.override_file.is_some() && file.kind == InputKind::Compose)
                || hardened.text == hardened.original
            {
                // Nothing to show: the masks are not worked out.
                return String::new();
            }
            // The diff quotes the file: the values findings asked to move are masked, and so is
            // anything else that looks secret, as audit's snippets are.
            diff::unified_masked(
                &hardened.path,
                &leastpriv_secrets::mask(&hardened.original),
                &leastpriv_secrets::mask(&hardened.text),
                &hardened.sensitive,
            )
        })
        .collect();
    let mut report = Report::default();
    for (file, diff) in files.iter().zip(diffs) {
        let hardened = &file.hardened;
        report.files.push(FileReport {
            path: hardened.path.clone(),
            hardened: fixer_for(file.kind).is_some(),
            changed: hardened.text != hardened.original,
            diff,
            changes: hardened.changes.clone(),
            left: hardened.left.clone(),
        });
    }
    if let (Some(path), Some(text)) = (&args.override_file, &override_text) {
        let existing = std::fs::read_to_string(path).unwrap_or_default();
        report.override_file = Some(OverrideReport {
            path: path.display().to_string(),
            diff: diff::unified(&path.display().to_string(), &existing, text),
        });
    }
    report.errors = errors;

    // Writes happen before the report, so that a failed write is in it.
    if args.in_place {
        let roots = write_roots(args);
        for file in &files {
            let hardened = &file.hardened;
            if hardened.text == hardened.original {
                continue;
            }
            if let InputSource::Stdin(_) = file.source {
                continue;
            }
            if let Err(error) = write_file(
                file.source.path(),
                &hardened.original,
                &hardened.text,
                &roots,
            ) {
                report.errors.push(error.to_string());
            }
        }
    }
    if let (Some(path), Some(text), false) = (&args.override_file, &override_text, args.check) {
        if let Err(error) = write_override(path, text) {
            report.errors.push(error);
        }
    }

    for (index, profile) in options.profiles.iter().enumerate() {
        if files
            .iter()
            .any(|file| file.hardened.profiles_used.contains(&index))
        {
            continue;
        }
        let run = &profile.profile.run;
        let what = match (&run.service, &run.image) {
            (Some(service), _) => format!("the service `{}`", escape_control(service)),
            (None, Some(image)) => format!("containers of the image `{}`", escape_control(image)),
            (None, None) => "every container".to_owned(),
        };
        writeln!(
            notes,
            "leastpriv: note: --profile {} describes {what}, and no container hardened here is one: it was not used",
            escape_control(&profile.path.display().to_string())
        )?;
    }

    match args.format {
        HardenFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, &report)?;
            writeln!(out)?;
        }
        HardenFormat::Human => {
            // Standard input with --in-place: the hardened text is the output, as a formatter does.
            let stdin_text = files.iter().find_map(|file| match file.source {
                InputSource::Stdin(_) if args.in_place => Some(&file.hardened.text),
                _ => None,
            });
            match stdin_text {
                Some(text) => out.write_all(text.as_bytes())?,
                None => write_human(&report, args, out)?,
            }
            if stdin_text.is_some() {
                write_summary(&report, args, notes)?;
            }
        }
    }

    let changes = report.files.iter().any(|file| file.changed) || override_text.is_some();
    Ok(if !report.errors.is_empty() {
        ExitStatus::Error
    } else if args.check && changes {
        ExitStatus::Findings
    } else {
        ExitStatus::Clean
    })
}

/// The Compose project given with `-f` (several times): its files read as `audit -f` reads them,
/// then hardened together.
fn compose_project(
    paths: &[PathBuf],
    judge: &Judge<'_>,
    options: &FixOptions,
) -> Vec<Result<Option<FileResult>, String>> {
    let db = SourceDb::new();
    let mut files = Vec::new();
    let mut sources = Vec::new();
    let mut errors = Vec::new();
    for path in paths {
        let source = InputSource::Named(path.clone());
        match source.load(&db) {
            Ok((file, _)) => {
                files.push((source.display(), db.get(file).text().to_owned()));
                sources.push(source);
            }
            Err(error) => errors.push(Err(format!("{}: {}", error.path, error.message))),
        }
    }
    if !errors.is_empty() {
        // A project missing a file is another project: nothing is hardened.
        return errors;
    }
    leastpriv_harden::harden_project(&files, &ComposeFixer, judge, options)
        .into_iter()
        .zip(sources)
        .map(|(hardened, source)| {
            Ok(Some(FileResult {
                source,
                kind: InputKind::Compose,
                hardened,
            }))
        })
        .collect()
}

/// The paths a write may land in: every path named on the command line.
fn write_roots(args: &HardenArgs) -> Vec<PathBuf> {
    args.paths
        .iter()
        .chain(&args.compose_files)
        .filter(|path| path.as_os_str() != "-")
        .cloned()
        .collect()
}

/// Writes the override file: atomically over an existing one, created otherwise.
fn write_override(path: &std::path::Path, text: &str) -> Result<(), String> {
    match std::fs::read(path) {
        Ok(bytes) => {
            let existing = String::from_utf8(bytes)
                .map_err(|_| format!("{}: not UTF-8; not overwritten", path.display()))?;
            write_file(path, &existing, text, &[path.to_path_buf()])
                .map(|_: Written| ())
                .map_err(|error| error.to_string())
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            create_file(path, text).map_err(|error| error.to_string())
        }
        Err(error) => Err(format!("{}: {error}", path.display())),
    }
}

#[derive(Default, Serialize)]
struct Report {
    files: Vec<FileReport>,
    #[serde(rename = "override", skip_serializing_if = "Option::is_none")]
    override_file: Option<OverrideReport>,
    errors: Vec<String>,
}

#[derive(Serialize)]
struct FileReport {
    path: String,
    /// Whether harden writes this kind of file (Dockerfiles and `docker run` scripts: not yet).
    hardened: bool,
    changed: bool,
    diff: String,
    changes: Vec<leastpriv_harden::Change>,
    left: Vec<leastpriv_harden::Left>,
}

#[derive(Serialize)]
struct OverrideReport {
    path: String,
    diff: String,
}

fn write_human(report: &Report, args: &HardenArgs, out: &mut dyn Write) -> Result<()> {
    for file in &report.files {
        if !file.diff.is_empty() {
            out.write_all(file.diff.as_bytes())?;
            writeln!(out)?;
        }
    }
    if let Some(override_file) = &report.override_file {
        out.write_all(override_file.diff.as_bytes())?;
        writeln!(out)?;
    }
    for file in &report.files {
        if file.changes.is_empty() && file.left.is_empty() {
            continue;
        }
        writeln!(out, "{}:", file.path)?;
        for change in &file.changes {
            let rules = if change.rules.is_empty() {
                "profile".to_owned()
            } else {
                change.rules.join(",")
            };
            writeln!(
                out,
                "  {} {} [{}] {}",
                change.container, rules, change.layer, change.summary
            )?;
            if let Some(may_break) = &change.may_break {
                writeln!(out, "      may break: {may_break}")?;
            }
            if let Some(follow_up) = &change.follow_up {
                writeln!(out, "      to do: {follow_up}")?;
            }
        }
        for left in &file.left {
            writeln!(
                out,
                "  {} {} [{}] left ({}): {}; {}",
                left.container, left.rule, left.layer, left.reason, left.remedy, left.detail
            )?;
        }
    }
    let skipped: Vec<&str> = report
        .files
        .iter()
        .filter(|file| !file.hardened)
        .map(|file| file.path.as_str())
        .collect();
    if !skipped.is_empty() {
        writeln!(
            out,
            "not hardened (harden does not write Dockerfiles and `docker run` scripts yet): {}",
            skipped.join(", ")
        )?;
    }
    write_summary(report, args, out)
}

fn write_summary(report: &Report, args: &HardenArgs, out: &mut dyn Write) -> Result<()> {
    for error in &report.errors {
        writeln!(out, "error: {error}").context("writing the report")?;
    }
    let changed = report.files.iter().filter(|file| file.changed).count();
    let changes: usize = report.files.iter().map(|file| file.changes.len()).sum();
    let mut reasons: std::collections::BTreeMap<LeftReason, usize> = Default::default();
    for left in report.files.iter().flat_map(|file| &file.left) {
        *reasons.entry(left.reason).or_default() += 1;
    }
    let left: usize = reasons.values().sum();
    let verb = if args.in_place {
        "changed"
    } else {
        "would change"
    };
    let mut line = format!(
        "{changed} file{} {verb} ({changes} change{})",
        if changed == 1 { "" } else { "s" },
        if changes == 1 { "" } else { "s" }
    );
    if left > 0 {
        let by_reason: Vec<String> = reasons
            .iter()
            .map(|(reason, count)| format!("{count} {reason}"))
            .collect();
        line.push_str(&format!(", {left} left for you ({})", by_reason.join(", ")));
    }
    if changed > 0 && !args.in_place && args.override_file.is_none() && !args.check {
        line.push_str("; run with --in-place to write them");
    }
    writeln!(out, "{line}")?;
    Ok(())
}
