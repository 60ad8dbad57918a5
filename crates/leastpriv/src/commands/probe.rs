//! `leastpriv probe`: look at the container this process runs in, from the inside.

use std::io::Write;

use anyhow::Result;
use leastpriv_probe::RealHost;

use crate::args::{ProbeArgs, ReportFormat};
use crate::ExitStatus;

pub(crate) fn run(args: &ProbeArgs, out: &mut dyn Write) -> Result<ExitStatus> {
    let report = leastpriv_probe::probe(&RealHost::new());
    match args.format {
        ReportFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, &report)?;
            writeln!(out)?;
        }
        ReportFormat::Human => leastpriv_probe::write_human(&report, out)?,
    }
    Ok(ExitStatus::Clean)
}
