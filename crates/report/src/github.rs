//! `--format github`: GitHub Actions workflow commands, one annotation per line.
//!
//! ```text
//! ::error file=web/Dockerfile,line=4,col=6,endLine=4,endColumn=10,title=LP201 root-user::container runs as root (`root`)%0Afix: …
//! ```
//! Critical and high findings are `error`s, medium `warning`s, low and info `notice`s. Inputs that
//! could not be audited are `error`s titled `leastpriv input error`. Property values escape `%`, `\r`,
//! `\n`, `:` and `,`; the message escapes `%`, `\r` and `\n` (the runner's own rules, as in
//! `@actions/core`), so no input text can end an annotation early or inject another command.

use std::io;

use leastpriv_rules::Severity;
use leastpriv_secrets::escape_control;

use crate::Report;

/// Writes one workflow command per finding and per input error.
pub fn write(report: &Report<'_>, out: &mut dyn io::Write) -> io::Result<()> {
    for diagnostic in report.diagnostics {
        let location = report.locate(diagnostic.span);
        let command = match diagnostic.severity {
            Severity::Critical | Severity::High => "error",
            Severity::Medium => "warning",
            Severity::Low | Severity::Info => "notice",
        };
        writeln!(
            out,
            "::{command} file={},line={},col={},endLine={},endColumn={},title={}::{}",
            escape_property(&location.path),
            location.start.line,
            location.start.column,
            location.end.line,
            location.end.column,
            escape_property(&format!(
                "{} {}",
                diagnostic.rule.code, diagnostic.rule.meta.name
            )),
            escape_data(&report.scrub(&match report.in_words(diagnostic.span) {
                // In an image: where, in words, since the file and line are leastpriv's printing.
                Some(place) => format!(
                    "{}\nin: {place}\nfix: {}",
                    diagnostic.message, diagnostic.fix
                ),
                None => format!("{}\nfix: {}", diagnostic.message, diagnostic.fix),
            })),
        )?;
    }
    for error in report.errors {
        write!(
            out,
            "::error file={}",
            escape_property(&escape_control(&error.path))
        )?;
        if let Some(span) = error.span {
            let start = report.locate(span).start;
            write!(out, ",line={},col={}", start.line, start.column)?;
        }
        writeln!(
            out,
            ",title={}::{}",
            escape_property("leastpriv input error"),
            escape_data(&report.scrub(error.message.as_str()))
        )?;
    }
    Ok(())
}

fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::sample;

    #[test]
    fn snapshot() {
        let sample = sample();
        let mut out = Vec::new();
        write(&sample.report(), &mut out).unwrap();
        insta::assert_snapshot!(String::from_utf8(out).unwrap());
    }

    #[test]
    fn escapes_what_would_end_or_split_a_command() {
        assert_eq!(escape_data("50%\r\nnext::x"), "50%25%0D%0Anext::x");
        assert_eq!(escape_property("a,b:c%\n"), "a%2Cb%3Ac%25%0A");
    }

    #[test]
    fn every_line_is_one_command() {
        let sample = sample();
        let mut out = Vec::new();
        write(&sample.report(), &mut out).unwrap();
        let output = String::from_utf8(out).unwrap();
        assert_eq!(
            output.lines().count(),
            sample.diagnostics.len() + sample.errors.len()
        );
        assert!(output
            .lines()
            .all(|line| line.starts_with("::error ") || line.starts_with("::warning ")));
    }
}
