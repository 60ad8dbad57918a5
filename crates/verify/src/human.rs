//! The readable verdict: one line per layer, its evidence below, failures marked, broken promises
//! named as such.

use std::io::{self, Write};

use crate::report::{Outcome, Status, VerifyReport};

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
    if report.expected.is_empty() {
        writeln!(out, "  required: every layer (--expect chooses)")?;
    } else {
        writeln!(
            out,
            "  required: {} (--expect {})",
            report.required.join(", "),
            report.expected.join(",")
        )?;
    }
    writeln!(out)?;
    for layer in &report.layers {
        let mark = match layer.status {
            Status::Pass => "ok  ",
            Status::Fail => "FAIL",
            Status::NotApplicable => "n/a ",
        };
        let mut remarks = Vec::new();
        if layer.promise_broken {
            remarks.push("broken promise");
        }
        if !layer.required {
            remarks.push("not required");
        }
        let remarks = if remarks.is_empty() {
            String::new()
        } else {
            format!("  ({})", remarks.join(", "))
        };
        writeln!(out, "{mark} {}{remarks}", layer.layer)?;
        for check in &layer.checks {
            let bullet = match check.outcome {
                Outcome::Fail => "✗",
                Outcome::Pass | Outcome::Note => "-",
            };
            writeln!(out, "       {bullet} {}", check.evidence())?;
        }
    }
    let names = |keep: &dyn Fn(&crate::LayerVerdict) -> bool| -> Vec<&str> {
        report
            .layers
            .iter()
            .filter(|layer| keep(layer))
            .map(|layer| layer.layer.as_str())
            .collect()
    };
    let failing = names(&|layer| layer.status == Status::Fail && layer.required);
    let broken = names(&|layer| layer.promise_broken);
    let unrequired = names(&|layer| layer.status == Status::Fail && !layer.required);
    writeln!(out)?;
    if failing.is_empty() && broken.is_empty() {
        write!(out, "every required layer holds")?;
    } else if !failing.is_empty() {
        write!(out, "does not hold: {}", failing.join(", "))?;
    }
    if !broken.is_empty() {
        let separator = if failing.is_empty() { "" } else { "; " };
        write!(out, "{separator}promises broken in: {}", broken.join(", "))?;
    }
    if !unrequired.is_empty() {
        write!(out, " (not required, failing: {})", unrequired.join(", "))?;
    }
    writeln!(out)
}
