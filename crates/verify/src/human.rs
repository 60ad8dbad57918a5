//! The readable verdict: one line per layer, its evidence below, failures marked.

use std::io::{self, Write};

use crate::report::{Status, VerifyReport};

/// Writes `report` for a person.
pub fn write_human(report: &VerifyReport, out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "leastpriv verify: {} (probed as uid {} in {:.1} ms)",
        report.image,
        report.probe.uid,
        report.probe.duration_us as f64 / 1000.0
    )?;
    if !report.dropped_flags.is_empty() {
        writeln!(
            out,
            "  left out of the probe's run (they do not shape privileges): {}",
            report.dropped_flags.join(" ")
        )?;
    }
    if !report.expected.is_empty() {
        writeln!(out, "  expected: {}", report.expected.join(","))?;
    }
    writeln!(out)?;
    for layer in &report.layers {
        let mark = match layer.status {
            Status::Pass => "ok  ",
            Status::Fail => "FAIL",
            Status::NotApplicable => "n/a ",
        };
        writeln!(out, "{mark} {}", layer.layer)?;
        for (index, evidence) in layer.evidence.iter().enumerate() {
            let bullet = if index < layer.failures { "✗" } else { "-" };
            writeln!(out, "       {bullet} {evidence}")?;
        }
    }
    let failing: Vec<&str> = report
        .layers
        .iter()
        .filter(|layer| layer.status == Status::Fail)
        .map(|layer| layer.layer.as_str())
        .collect();
    writeln!(out)?;
    if failing.is_empty() {
        writeln!(out, "every promised layer holds")
    } else {
        writeln!(out, "promises broken in: {}", failing.join(", "))
    }
}
