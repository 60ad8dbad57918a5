//! The `leastpriv` command line.
//!
//! `main` parses arguments, runs one command and maps its outcome to the exit status: 0 clean,
//! 1 findings at or above `--fail-on`, 2 an input could not be audited or a usage error. It is the only
//! place that prints to the terminal directly; commands write to the handles they are given. A broken
//! pipe (`leastpriv audit | head`) ends quietly with 0, as in ripgrep.
#![allow(clippy::print_stderr)]

mod args;
mod commands;
mod config;
mod engine;
mod inputs;

use std::io::{self, Write};
use std::process::ExitCode;

use clap::Parser;

use crate::args::{Cli, Command};

/// The outcome of a command, mapped to the process exit status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum ExitStatus {
    /// Nothing at or above the failure threshold.
    Clean,
    /// Findings at or above the failure threshold.
    Findings,
    /// An input could not be audited, or the command could not run.
    Error,
    /// A command's own exit status, passed through (`profile --enforce`).
    Code(u8),
}

impl From<ExitStatus> for ExitCode {
    fn from(status: ExitStatus) -> Self {
        match status {
            ExitStatus::Clean => ExitCode::SUCCESS,
            ExitStatus::Findings => ExitCode::from(1),
            ExitStatus::Error => ExitCode::from(2),
            ExitStatus::Code(code) => ExitCode::from(code),
        }
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse().and_then(Cli::validated) {
        Ok(cli) => cli,
        Err(error) => {
            let code = if error.use_stderr() { 2 } else { 0 };
            let error = args::explain(error, std::env::args_os());
            let _ = error.print();
            return ExitCode::from(code);
        }
    };
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let result = match cli.command {
        Command::Audit(args) => commands::audit::run(&args, &mut out, &mut io::stderr()),
        Command::Harden(args) => commands::harden::run(&args, &mut out, &mut io::stderr()),
        Command::Rules(args) => commands::rules::list(&args, &mut out),
        Command::Explain(args) => commands::rules::explain(&args, &mut out),
        Command::Probe(args) => commands::probe::run(&args, &mut out),
        Command::Verify(args) => commands::verify::run(&args, &mut out),
        Command::Profile(args) => commands::profile::run(&args, &mut out),
        Command::Completions(args) => commands::generate::completions(&args, &mut out),
        Command::Man(args) => commands::generate::man(&args, &mut out),
    };
    let result = result.and_then(|status| out.flush().map(|()| status).map_err(Into::into));
    match result {
        Ok(status) => status.into(),
        Err(error) if is_broken_pipe(&error) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("leastpriv: error: {error:#}");
            ExitStatus::Error.into()
        }
    }
}

fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error
        .chain()
        .filter_map(|cause| cause.downcast_ref::<io::Error>())
        .any(|io| io.kind() == io::ErrorKind::BrokenPipe)
}
