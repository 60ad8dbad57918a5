//! `--format human`: rustc-style diagnostics for a person at a terminal.
//!
//! ```text
//! LP201 [high] container runs as root (`root`)
//!  --> examples/driftwood/Dockerfile:21:6
//!    |
//! 21 | USER root
//!    |      ^^^^
//!    |
//! help: Run as a non-root user: add `USER 10001:10001` to the final stage or set the runtime user
//! ```
//! Each finding is its code, severity and message, the place, the quoted source with the span
//! underlined, related places as labelled secondary underlines, and the fix as a `help:` line. Input
//! errors follow, located the same way, then a summary by severity and by layer. The snippets are drawn
//! by annotate-snippets (rustc's renderer); the header and the summary are ours so that the code leads
//! the line, as in ruff. Colour is used only when the caller asks for it; every quoted line has its
//! secret-looking values masked first (see [`crate::redact`]), and every piece of input text is stripped
//! of control characters so a hostile file cannot drive the terminal.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::io;

use std::rc::Rc;

use annotate_snippets::{
    normalize_untrusted_str, AnnotationKind, Group, Level, Origin, Renderer, Snippet,
};
use anstyle::{AnsiColor, Effects, Style};
use leastpriv_rules::{Diagnostic, Severity};
use leastpriv_source::{FileId, InputError, TextRange};

use crate::redact::redact;
use crate::Report;

/// Quoted source is cut to fit this width, so the output stays readable in a 100-column terminal.
const WIDTH: usize = 100;

/// Quotes up to this many bytes are drawn whole. A longer one (a one-line JSON manifest, an 86 KB
/// `docker run` line) is cut to a window of its primary span's line, so that each finding costs
/// the window, not the line: thousands of findings on one long line stay linear.
const MAX_WHOLE_QUOTE: usize = 2048;
/// Bytes of context either side of the span in a window.
const WINDOW_CONTEXT: usize = 40;
/// Bytes of a long span shown in a window.
const WINDOW_SPAN: usize = 160;

/// How to print.
#[derive(Clone, Copy, Debug, Default)]
pub struct HumanOptions {
    /// Use ANSI colours. The command line decides (`--color`, `NO_COLOR`, whether stdout is a terminal).
    pub color: bool,
}

/// Writes every finding, then every input error, then the summary.
pub fn write(
    report: &Report<'_>,
    out: &mut dyn io::Write,
    options: HumanOptions,
) -> io::Result<()> {
    let printer = Printer::new(report, options);
    for diagnostic in report.diagnostics {
        printer.diagnostic(diagnostic, out)?;
        writeln!(out)?;
    }
    for error in report.errors {
        printer.error(error, out)?;
        writeln!(out)?;
    }
    printer.summary(out)
}

struct Printer<'r, 'a> {
    report: &'r Report<'a>,
    renderer: Renderer,
    color: bool,
    /// Long lines already redacted, by file and line: each is masked once, however many findings
    /// quote a window of it.
    redacted_lines:
        std::cell::RefCell<std::collections::HashMap<(FileId, usize), std::rc::Rc<str>>>,
}

impl<'r, 'a> Printer<'r, 'a> {
    fn new(report: &'r Report<'a>, options: HumanOptions) -> Self {
        let renderer = if options.color {
            Renderer::styled()
        } else {
            Renderer::plain()
        };
        Self {
            report,
            renderer: renderer.term_width(WIDTH),
            color: options.color,
            redacted_lines: std::cell::RefCell::default(),
        }
    }

    fn paint<'t>(&self, style: Style, text: &'t str) -> Cow<'t, str> {
        if self.color {
            Cow::Owned(format!("{}{text}{}", style.render(), style.render_reset()))
        } else {
            Cow::Borrowed(text)
        }
    }

    fn diagnostic(&self, diagnostic: &Diagnostic, out: &mut dyn io::Write) -> io::Result<()> {
        let style = severity_style(diagnostic.severity);
        // The Pod Security Standards level that forbids it, when one does.
        let pss = diagnostic
            .pss
            .map(|level| format!(" [PSS {level}]"))
            .unwrap_or_default();
        writeln!(
            out,
            "{} {}{pss} {}",
            self.paint(style, diagnostic.rule.code),
            self.paint(style, &format!("[{}]", diagnostic.severity)),
            self.paint(
                Style::new().bold(),
                &normalize_untrusted_str(&diagnostic.message)
            ),
        )?;
        // One snippet per file: the primary span and the related places in the same file share one.
        let mut by_file: BTreeMap<FileId, Vec<(TextRange, Option<&str>)>> = BTreeMap::new();
        by_file
            .entry(diagnostic.span.file)
            .or_default()
            .push((diagnostic.span.range, None));
        for (span, note) in &diagnostic.related {
            by_file
                .entry(span.file)
                .or_default()
                .push((span.range, Some(note.as_str())));
        }
        let primary_file = diagnostic.span.file;
        let mut files: Vec<_> = by_file.into_iter().collect();
        // The primary file leads; the others follow by path (ids follow the threads that read them).
        files.sort_by_cached_key(|(file, _)| {
            (
                *file != primary_file,
                self.report.db.get(*file).path().to_owned(),
            )
        });
        let mut group = Group::with_level(severity_level(diagnostic.severity));
        for (file, annotations) in files {
            let quoted = self.quote(file, &annotations);
            let mut snippet = Snippet::source(quoted.text).line_start(quoted.first_line);
            match quoted.column {
                Some(column) => {
                    group = group.element(
                        Origin::path(quoted.path)
                            .line(quoted.first_line)
                            .char_column(column),
                    );
                }
                None => snippet = snippet.path(quoted.path),
            }
            for (range, label) in quoted.annotations {
                let annotation = match label {
                    None => AnnotationKind::Primary.span(range),
                    Some(label) => AnnotationKind::Context
                        .span(range)
                        .label(normalize_untrusted_str(label)),
                };
                snippet = snippet.annotation(annotation);
            }
            group = group.element(snippet);
        }
        let help = Group::with_title(
            Level::HELP.secondary_title(normalize_untrusted_str(&diagnostic.fix)),
        );
        writeln!(out, "{}", self.renderer.render(&[group, help]))
    }

    fn error(&self, error: &InputError, out: &mut dyn io::Write) -> io::Result<()> {
        let style = Style::new().bold().fg_color(Some(AnsiColor::Red.into()));
        writeln!(
            out,
            "{}: {}",
            self.paint(style, "error"),
            self.paint(
                Style::new().bold(),
                &normalize_untrusted_str(&error.message)
            ),
        )?;
        match error.span {
            Some(span) => {
                let quoted = self.quote(span.file, &[(span.range, None)]);
                let mut snippet = Snippet::source(quoted.text).line_start(quoted.first_line);
                let mut group = Group::with_level(Level::ERROR);
                match quoted.column {
                    Some(column) => {
                        group = group.element(
                            Origin::path(quoted.path)
                                .line(quoted.first_line)
                                .char_column(column),
                        );
                    }
                    None => snippet = snippet.path(quoted.path),
                }
                for (range, _) in quoted.annotations {
                    snippet = snippet.annotation(AnnotationKind::Primary.span(range));
                }
                let group = group.element(snippet);
                writeln!(out, "{}", self.renderer.render(&[group]))
            }
            // The whole file is at fault: only its path, drawn as annotate-snippets draws one.
            None => writeln!(
                out,
                " {}{}",
                self.paint(line_number_style(), "--> "),
                normalize_untrusted_str(&error.path)
            ),
        }
    }

    /// The lines of `file` that `annotations` cover, redacted, with the annotations made relative.
    fn quote<'l>(&self, file: FileId, annotations: &[(TextRange, Option<&'l str>)]) -> Quoted<'l> {
        let source = self.report.db.get(file);
        let text = source.text();
        let index = source.line_index();
        let start = annotations
            .iter()
            .map(|(range, _)| range.start as usize)
            .min()
            .unwrap_or(0)
            .min(text.len());
        let end = annotations
            .iter()
            .map(|(range, _)| range.end as usize)
            .max()
            .unwrap_or(0)
            .clamp(start, text.len());
        let first_line = index.line_of(start);
        let quoted_start = index.line_range(text, first_line).start;
        // A span that ends with its line's newline quotes that line, not the next one.
        let last = if end > start { end - 1 } else { end };
        let quoted_end = index.line_range(text, index.line_of(last)).end.max(end);
        if quoted_end - quoted_start > MAX_WHOLE_QUOTE {
            return self.window(file, annotations);
        }
        let quoted = redact(&text[quoted_start..quoted_end]).into_owned();
        let relative = |offset: u32| {
            let offset = (offset as usize).clamp(quoted_start, quoted_end) - quoted_start;
            floor_char_boundary(&quoted, offset)
        };
        Quoted {
            path: normalize_untrusted_str(source.path()),
            first_line: first_line + 1,
            column: None,
            annotations: annotations
                .iter()
                .map(|&(range, label)| (relative(range.start)..relative(range.end), label))
                .collect(),
            text: quoted,
        }
    }

    /// A window of the first annotation's line around it, cut from the line redacted whole (so a
    /// cut never splits a secret from the name that marks it), `…` where it is cut; annotations
    /// outside the window are left out. The column is given, since the window does not start the
    /// line.
    fn window<'l>(&self, file: FileId, annotations: &[(TextRange, Option<&'l str>)]) -> Quoted<'l> {
        let source = self.report.db.get(file);
        let text = source.text();
        let index = source.line_index();
        let (primary, _) = annotations.first().copied().unwrap_or_default();
        let at = (primary.start as usize).min(text.len());
        let line = index.line_of(at);
        let line_range = index.line_range(text, line);
        let redacted = Rc::clone(
            self.redacted_lines
                .borrow_mut()
                .entry((file, line))
                .or_insert_with(|| Rc::from(redact(&text[line_range.clone()]))),
        );
        let local =
            |offset: usize| offset.clamp(line_range.start, line_range.end) - line_range.start;
        let span_end = (primary.end as usize).min(at + WINDOW_SPAN);
        let from = floor_char_boundary(&redacted, local(at.saturating_sub(WINDOW_CONTEXT)));
        let to = floor_char_boundary(&redacted, local(span_end + WINDOW_CONTEXT));
        let prefix = if from > 0 { "…" } else { "" };
        let suffix = if to < redacted.len() { "…" } else { "" };
        let quoted = format!("{prefix}{}{suffix}", &redacted[from..to]);
        let relative = |offset: u32| {
            let offset = local(offset as usize).clamp(from, to) - from + prefix.len();
            floor_char_boundary(&quoted, offset)
        };
        let shown = line_range.start + from..line_range.start + to;
        Quoted {
            path: normalize_untrusted_str(source.path()),
            first_line: line + 1,
            column: Some(source.line_column(primary.start).column as usize),
            annotations: annotations
                .iter()
                .filter(|(range, _)| {
                    (range.start as usize) < shown.end && (range.end as usize) >= shown.start
                })
                .map(|&(range, label)| (relative(range.start)..relative(range.end), label))
                .collect(),
            text: quoted,
        }
    }

    fn summary(&self, out: &mut dyn io::Write) -> io::Result<()> {
        let report = self.report;
        let files = plural(report.files_audited, "file", "files");
        let bold = Style::new().bold();
        if report.diagnostics.is_empty() {
            writeln!(out, "{} in {files}", self.paint(bold, "no findings"))?;
        } else {
            let findings = plural(report.diagnostics.len(), "finding", "findings");
            writeln!(out, "{} in {files}", self.paint(bold, &findings))?;
            let by_severity: Vec<String> = report
                .count_by_severity()
                .into_iter()
                .filter(|&(_, count)| count > 0)
                .map(|(severity, count)| {
                    format!(
                        "{} {count}",
                        self.paint(severity_style(severity), severity.as_str())
                    )
                })
                .collect();
            writeln!(out, "  by severity: {}", by_severity.join(", "))?;
            let by_layer: Vec<String> = report
                .count_by_layer()
                .into_iter()
                .filter(|&(_, count)| count > 0)
                .map(|(layer, count)| format!("{layer} {count}"))
                .collect();
            writeln!(out, "  by layer:    {}", by_layer.join(", "))?;
        }
        if !report.errors.is_empty() {
            let errors = plural(report.errors.len(), "error", "errors");
            let red = Style::new().bold().fg_color(Some(AnsiColor::Red.into()));
            writeln!(
                out,
                "{}: some inputs could not be audited (see above)",
                self.paint(red, &errors)
            )?;
        }
        Ok(())
    }
}

struct Quoted<'l> {
    path: String,
    first_line: usize,
    /// The column of the primary span when the quote is a window that does not start its line.
    column: Option<usize>,
    text: String,
    annotations: Vec<(std::ops::Range<usize>, Option<&'l str>)>,
}

fn severity_style(severity: Severity) -> Style {
    let color = match severity {
        Severity::Critical => AnsiColor::BrightRed,
        Severity::High => AnsiColor::Red,
        Severity::Medium => AnsiColor::Yellow,
        Severity::Low => AnsiColor::Cyan,
        Severity::Info => AnsiColor::Blue,
    };
    let style = Style::new()
        .fg_color(Some(color.into()))
        .effects(Effects::BOLD);
    if severity == Severity::Critical {
        style.effects(Effects::BOLD | Effects::UNDERLINE)
    } else {
        style
    }
}

/// The style annotate-snippets draws the gutter with.
fn line_number_style() -> Style {
    annotate_snippets::renderer::DEFAULT_LINE_NUM_STYLE
}

/// The annotate-snippets level whose colour draws the underline.
fn severity_level(severity: Severity) -> Level<'static> {
    match severity {
        Severity::Critical | Severity::High => Level::ERROR,
        Severity::Medium => Level::WARNING,
        Severity::Low | Severity::Info => Level::INFO,
    }
}

fn plural(count: usize, one: &str, many: &str) -> String {
    format!("{count} {}", if count == 1 { one } else { many })
}

/// The largest char boundary of `text` at or before `offset` (`str::floor_char_boundary` is unstable).
fn floor_char_boundary(text: &str, offset: usize) -> usize {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{sample, span_of, FAKE_PASSWORD};
    use leastpriv_source::Span;

    fn render(color: bool) -> String {
        let sample = sample();
        let mut out = Vec::new();
        write(&sample.report(), &mut out, HumanOptions { color }).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn renders_findings_errors_and_summary() {
        insta::assert_snapshot!(render(false));
    }

    #[test]
    fn never_quotes_a_secret_value() {
        let sample = sample();
        let web = sample.diagnostics[0].span.file;
        let line = format!("ENV DB_PASSWORD={}", crate::test_support::FAKE_PASSWORD);
        let mut diagnostic = sample.diagnostics[0].clone();
        diagnostic.span = span_of(&sample.db, web, &line);
        diagnostic.related.clear();
        let report = Report {
            diagnostics: std::slice::from_ref(&diagnostic),
            ..sample.report()
        };
        let mut out = Vec::new();
        write(&report, &mut out, HumanOptions::default()).unwrap();
        let output = String::from_utf8(out).unwrap();
        assert!(
            !output.contains(crate::test_support::FAKE_PASSWORD),
            "{output}"
        );
        assert!(
            output.contains("ENV DB_PASSWORD=*********************"),
            "{output}"
        );
    }

    #[test]
    fn colours_only_when_asked() {
        assert!(!render(false).contains('\x1b'));
        let coloured = render(true);
        assert!(coloured.contains("\x1b["));
        // Without the escapes, the coloured output says the same thing.
        let stripped = strip_ansi(&coloured);
        assert_eq!(stripped, render(false));
    }

    #[test]
    fn says_no_findings_when_clean() {
        let db = leastpriv_source::SourceDb::new();
        let report = Report {
            db: &db,
            diagnostics: &[],
            errors: &[],
            files_audited: 2,
        };
        let mut out = Vec::new();
        write(&report, &mut out, HumanOptions::default()).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "no findings in 2 files\n");
    }

    #[test]
    fn control_characters_in_input_cannot_reach_the_terminal() {
        let db = leastpriv_source::SourceDb::new();
        let file = db.add("evil\x1b[2J", "FROM x\nUSER \x1b]0;pwned\x07root\n");
        let rule = leastpriv_rules::find_rule("LP201").unwrap();
        let diagnostic = Diagnostic {
            rule,
            severity: Severity::High,
            message: "container runs as root (`\x1b]0;pwned\x07root`)".into(),
            span: span_of(&db, file, "\x1b]0;pwned\x07root"),
            fix: rule.meta.fix_title.into(),
            related: Vec::new(),
            remedy: None,
            pss: None,
        };
        let report = Report {
            db: &db,
            diagnostics: std::slice::from_ref(&diagnostic),
            errors: &[],
            files_audited: 1,
        };
        let mut out = Vec::new();
        write(&report, &mut out, HumanOptions::default()).unwrap();
        let output = String::from_utf8(out).unwrap();
        assert!(!output.contains('\x1b'), "{output:?}");
        assert!(!output.contains('\x07'), "{output:?}");
    }

    #[test]
    fn a_finding_on_a_long_line_quotes_a_window_with_its_column_and_masks_what_it_cuts() {
        let mut text = String::from("docker run");
        for i in 0..2000 {
            text.push_str(&format!(" -e API_TOKEN_{i}={FAKE_PASSWORD}{i}"));
        }
        text.push_str(" --user root nginx\n");
        let db = leastpriv_source::SourceDb::new();
        let file = db.add("run.sh", text.as_str());
        let rule = leastpriv_rules::find_rule("LP201").unwrap();
        let span = span_of(&db, file, "root");
        let diagnostic = Diagnostic {
            rule,
            severity: Severity::High,
            message: "container runs as root (`root`)".into(),
            span,
            fix: rule.meta.fix_title.into(),
            related: Vec::new(),
            remedy: None,
            pss: None,
        };
        let diagnostics = vec![diagnostic; 3];
        let report = Report {
            db: &db,
            diagnostics: &diagnostics,
            errors: &[],
            files_audited: 1,
        };
        let mut out = Vec::new();
        write(&report, &mut out, HumanOptions::default()).unwrap();
        let output = String::from_utf8(out).unwrap();
        let column = text[..span.range.start as usize].chars().count() + 1;
        assert!(
            output.contains(&format!("--> run.sh:1:{column}")),
            "{output}"
        );
        assert!(output.contains("…"), "{output}");
        assert!(output.contains("--user root"), "{output}");
        assert!(output.len() < 3 * 1200, "{} bytes", output.len());
        assert!(!output.contains("FakePassw0rd"), "{output}");
        assert!(!output.contains("Passw0rd"), "{output}");
    }

    #[test]
    fn any_span_renders_without_panicking() {
        let text = "FROM a\r\nENV X=é\r\n\tUSER root\n\n";
        let db = leastpriv_source::SourceDb::new();
        let file = db.add("Dockerfile", text);
        let rule = leastpriv_rules::find_rule("LP201").unwrap();
        let limit = text.len() + 2;
        for start in 0..limit {
            for end in start..limit {
                let span = Span::new(file, TextRange::new(start, end));
                let diagnostic = Diagnostic {
                    rule,
                    severity: Severity::Low,
                    message: "m".into(),
                    span,
                    fix: "f".into(),
                    related: vec![(Span::new(file, TextRange::new(end, start)), "r".into())],
                    remedy: None,
                    pss: None,
                };
                let error = InputError::at("Dockerfile", span, "e");
                let report = Report {
                    db: &db,
                    diagnostics: std::slice::from_ref(&diagnostic),
                    errors: std::slice::from_ref(&error),
                    files_audited: 1,
                };
                let mut out = Vec::new();
                write(&report, &mut out, HumanOptions { color: true }).unwrap();
            }
        }
    }

    #[test]
    fn a_span_ending_with_its_newline_quotes_one_line() {
        let sample = sample();
        let mut diagnostic = sample.diagnostics[0].clone();
        let web = diagnostic.span.file;
        diagnostic.span = span_of(&sample.db, web, "USER root\n");
        diagnostic.related.clear();
        let report = Report {
            diagnostics: std::slice::from_ref(&diagnostic),
            errors: &[],
            ..sample.report()
        };
        let mut out = Vec::new();
        write(&report, &mut out, HumanOptions::default()).unwrap();
        let output = String::from_utf8(out).unwrap();
        assert!(output.contains("4 | USER root\n  |"), "{output}");
        assert!(!output.contains("5 |"), "{output}");
    }

    fn strip_ansi(text: &str) -> String {
        let mut plain = String::new();
        let mut chars = text.chars();
        while let Some(c) = chars.next() {
            if c == '\x1b' {
                for c in chars.by_ref() {
                    if c.is_ascii_alphabetic() {
                        break;
                    }
                }
            } else {
                plain.push(c);
            }
        }
        plain
    }
}
