//! `leastpriv verify -- docker run …` and `leastpriv verify --compose FILE --service NAME`: run the
//! image as configured, probe it, judge each layer. Exit 1 when a required layer does not hold or a
//! promise is broken, as `audit` exits 1 on findings.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use leastpriv_verify::{parse_policy, ComposeTarget, Options};

use crate::args::{ReportFormat, VerifyArgs};
use crate::ExitStatus;

/// Where CI can point at the static probe binary without repeating `--probe-binary`.
const PROBE_BINARY_ENV: &str = "LEASTPRIV_PROBE_BINARY";

pub(crate) fn run(args: &VerifyArgs, out: &mut dyn Write) -> Result<ExitStatus> {
    let expect = parse_policy(&args.expect)?;
    let options = Options {
        probe_binary: probe_binary(args)?,
        expect,
        timeout: Duration::from_secs(args.timeout),
    };
    let report = if args.compose.is_empty() {
        leastpriv_verify::verify(&args.command, &options)?
    } else {
        let target = ComposeTarget {
            files: args.compose.clone(),
            service: args.service.clone(),
        };
        leastpriv_verify::verify_compose(&target, &options)?
    };
    match args.format {
        ReportFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, &report)?;
            writeln!(out)?;
        }
        ReportFormat::Human => leastpriv_verify::write_human(&report, out)?,
    }
    Ok(if report.holds {
        ExitStatus::Clean
    } else {
        ExitStatus::Findings
    })
}

/// `--probe-binary`, else `$LEASTPRIV_PROBE_BINARY`, else this binary (verify checks it is static).
fn probe_binary(args: &VerifyArgs) -> Result<PathBuf> {
    if let Some(path) = &args.probe_binary {
        return Ok(path.clone());
    }
    if let Some(path) = std::env::var_os(PROBE_BINARY_ENV).filter(|path| !path.is_empty()) {
        return Ok(PathBuf::from(path));
    }
    std::env::current_exe().context("cannot locate the leastpriv binary to mount as the probe")
}
