//! `leastpriv completions SHELL` and `leastpriv man [DIR]`: shell completions and man pages,
//! generated from the clap definition itself, so that they always describe the commands and flags
//! this binary has.

use std::io::Write;

use anyhow::{Context, Result};
use clap::CommandFactory;

use crate::args::{Cli, CompletionsArgs, ManArgs};
use crate::ExitStatus;

pub(crate) fn completions(args: &CompletionsArgs, out: &mut dyn Write) -> Result<ExitStatus> {
    let mut command = Cli::command();
    clap_complete::generate(args.shell, &mut command, "leastpriv", out);
    Ok(ExitStatus::Clean)
}

pub(crate) fn man(args: &ManArgs, out: &mut dyn Write) -> Result<ExitStatus> {
    let command = Cli::command();
    match &args.dir {
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            clap_mangen::generate_to(command, dir)
                .with_context(|| format!("cannot write the man pages into {}", dir.display()))?;
        }
        None => clap_mangen::Man::new(command).render(out)?,
    }
    Ok(ExitStatus::Clean)
}
