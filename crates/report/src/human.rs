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

use annotate_snippets::{
    normalize_untrusted_str, AnnotationKind, Group, Level, Origin, Renderer, Snippet,
};
use anstyle::{AnsiColor, Effects, Style};
use leastpriv_rules::{Diagnostic, Severity};
use leastpriv_secrets::escape_control;
use leastpriv_source::{FileId, InputError, Span, TextRange};

use crate::masked::MaskedSources;
use crate::{Audited, Report};

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
    /// The sources as they may be quoted: each file is masked once, whole (a mask needs the lines
    /// around a value: a Kubernetes `name:` above its `value:`), however many findings quote it.
    masked: MaskedSources<'r, 'a>,
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
            masked: MaskedSources::new(report),
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
                &normalize_untrusted_str(&self.report.scrub(&diagnostic.message))
            ),
        )?;
        let help = Group::with_title(
            Level::HELP
                .secondary_title(normalize_untrusted_str(&self.report.scrub(&diagnostic.fix))),
        );
        let level = severity_level(diagnostic.severity);
        if self.described(diagnostic.span).is_none() {
            let group = self.snippets(
                Group::with_level(level),
                diagnostic.span,
                &diagnostic.related,
            );
            return writeln!(out, "{}", self.renderer.render(&[group, help]));
        }
        // A place in a text leastpriv made (an image's config): said in words, with the value it
        // holds, never as a line of a text the reader does not have.
        self.in_words(diagnostic.span, None, out)?;
        let mut in_files = Vec::new();
        for (span, note) in &diagnostic.related {
            if self.described(*span).is_some() {
                let same = span.file == diagnostic.span.file;
                self.in_words(*span, Some((note, same)), out)?;
            } else {
                in_files.push((*span, note.as_str()));
            }
        }
        if in_files.is_empty() {
            return writeln!(out, "{}", self.renderer.render(&[help]));
        }
        let group = self.labelled_snippets(Group::with_level(level), &in_files);
        writeln!(out, "{}", self.renderer.render(&[group, help]))
    }

    /// Where `span` is, in words, when it is in a text leastpriv made: the input it stands for
    /// (`web.tar@sha256:0123456789ab`) and the region (`history entry 3 of 6 (layer 2 of 5)`).
    fn described(&self, span: Span) -> Option<(String, String)> {
        let file = self.report.db.get(span.file);
        let (_, words) = file.region(span.range)?;
        let path = file.path();
        let path = path.strip_suffix("/config").unwrap_or(path);
        Some((
            normalize_untrusted_str(&escape_control(path)),
            normalize_untrusted_str(words),
        ))
    }

    /// `--> web.tar@sha256:…, history entry 3 of 6 (layer 2 of 5)` and the line that holds the
    /// place, masked and cut to the width; for a related place, its note first.
    /// A related place in the primary place's text is named by its region alone.
    fn in_words(
        &self,
        span: Span,
        note: Option<(&str, bool)>,
        out: &mut dyn io::Write,
    ) -> io::Result<()> {
        let Some((path, words)) = self.described(span) else {
            return Ok(());
        };
        let gutter = self.paint(line_number_style(), "-->");
        match note {
            None => writeln!(out, " {gutter} {path}, {words}")?,
            Some((note, same_text)) => {
                let place = if same_text {
                    words
                } else {
                    format!("{path}, {words}")
                };
                writeln!(
                    out,
                    "  {} {}: {place}",
                    self.paint(line_number_style(), "="),
                    normalize_untrusted_str(&self.report.scrub(note))
                )?;
            }
        }
        let file = self.report.db.get(span.file);
        let text = file.text();
        let start = (span.range.start as usize).min(text.len());
        let start = floor_char_boundary(text, start);
        let line_start = text[..start].rfind('\n').map_or(0, |newline| newline + 1);
        let line_end = text[start..]
            .find('\n')
            .map_or(text.len(), |newline| start + newline);
        let line = self.masked.text(span.file)[line_start..line_end].to_owned();
        let column = line
            .get(..start - line_start)
            .map_or(0, |before| before.chars().count());
        // `"created_by": "…",` reads as `created_by: "…"`.
        let trimmed = line.trim_start();
        let mut column = column.saturating_sub(line.chars().count() - trimmed.chars().count());
        let member = trimmed
            .strip_prefix('"')
            .and_then(|rest| rest.split_once("\": "))
            .filter(|(key, _)| !key.contains('"'));
        let readable = match member {
            Some((key, value)) => {
                column = column.saturating_sub(3);
                format!("{key}: {}", value.strip_suffix(',').unwrap_or(value))
            }
            None => trimmed.to_owned(),
        };
        let shown = window(&readable, column, WIDTH - 8);
        writeln!(
            out,
            "  {} {}",
            self.paint(line_number_style(), "|"),
            normalize_untrusted_str(&shown)
        )
    }

    fn error(&self, error: &InputError, out: &mut dyn io::Write) -> io::Result<()> {
        let style = Style::new().bold().fg_color(Some(AnsiColor::Red.into()));
        writeln!(
            out,
            "{}: {}",
            self.paint(style, "error"),
            self.paint(
                Style::new().bold(),
                &normalize_untrusted_str(&self.report.scrub(error.message.as_str()))
            ),
        )?;
        match error.span {
            Some(span) => {
                let group = self.snippets(Group::with_level(Level::ERROR), span, &error.related);
                writeln!(out, "{}", self.renderer.render(&[group]))
            }
            // The whole file is at fault: only its path, drawn as annotate-snippets draws one.
            None => writeln!(
                out,
                " {}{}",
                self.paint(line_number_style(), "--> "),
                normalize_untrusted_str(&escape_control(&error.path))
            ),
        }
    }

    /// `group` with one snippet per file: the primary span underlined, the related places as
    /// labelled secondary underlines, in the primary file first and the others by path.
    fn snippets<'g>(
        &self,
        group: Group<'g>,
        primary: Span,
        related: &'g [(Span, String)],
    ) -> Group<'g> {
        let mut places: Vec<(Span, Option<&str>)> = vec![(primary, None)];
        places.extend(
            related
                .iter()
                .map(|(span, note)| (*span, Some(note.as_str()))),
        );
        self.places(group, &places)
    }

    /// `group` with the related places alone, each labelled.
    fn labelled_snippets<'g>(&self, group: Group<'g>, related: &[(Span, &'g str)]) -> Group<'g> {
        let places: Vec<(Span, Option<&str>)> = related
            .iter()
            .map(|(span, note)| (*span, Some(*note)))
            .collect();
        self.places(group, &places)
    }

    /// `group` with one snippet per file of `places` (the unlabelled one is the primary place),
    /// the first place's file first and the others by path.
    fn places<'g>(&self, mut group: Group<'g>, places: &[(Span, Option<&'g str>)]) -> Group<'g> {
        let Some(&(first, _)) = places.first() else {
            return group;
        };
        let mut by_file: BTreeMap<FileId, Vec<(TextRange, Option<&str>)>> = BTreeMap::new();
        for (span, note) in places {
            by_file
                .entry(span.file)
                .or_default()
                .push((span.range, *note));
        }
        let mut files: Vec<_> = by_file.into_iter().collect();
        // The first file leads; the others follow by path (ids follow the threads that read them).
        files.sort_by_cached_key(|(file, _)| {
            (
                *file != first.file,
                self.report.db.get(*file).path().to_owned(),
            )
        });
        for (file, annotations) in files {
            let quoted = self.quote(file, &annotations);
            let mut snippet = Snippet::source(quoted.text).line_start(quoted.first_line);
            match quoted.column {
                // A window does not start its line: the place is given, not computed.
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
                        .label(normalize_untrusted_str(&self.report.scrub(label))),
                };
                snippet = snippet.annotation(annotation);
            }
            group = group.element(snippet);
        }
        group
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
            return self.windowed_quote(file, annotations);
        }
        let quoted = self.masked.text(file)[quoted_start..quoted_end].to_owned();
        let relative = |offset: u32| {
            let offset = (offset as usize).clamp(quoted_start, quoted_end) - quoted_start;
            floor_char_boundary(&quoted, offset)
        };
        Quoted {
            path: normalize_untrusted_str(&escape_control(source.path())),
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
    fn windowed_quote<'l>(
        &self,
        file: FileId,
        annotations: &[(TextRange, Option<&'l str>)],
    ) -> Quoted<'l> {
        let source = self.report.db.get(file);
        let text = source.text();
        let index = source.line_index();
        let (primary, _) = annotations.first().copied().unwrap_or_default();
        let at = (primary.start as usize).min(text.len());
        let line = index.line_of(at);
        let line_range = index.line_range(text, line);
        let masked = self.masked.text(file);
        let redacted = &masked[line_range.clone()];
        let local =
            |offset: usize| offset.clamp(line_range.start, line_range.end) - line_range.start;
        let span_end = (primary.end as usize).min(at + WINDOW_SPAN);
        let from = floor_char_boundary(redacted, local(at.saturating_sub(WINDOW_CONTEXT)));
        let to = floor_char_boundary(redacted, local(span_end + WINDOW_CONTEXT));
        let prefix = if from > 0 { "…" } else { "" };
        let suffix = if to < redacted.len() { "…" } else { "" };
        let quoted = format!("{prefix}{}{suffix}", &redacted[from..to]);
        let relative = |offset: u32| {
            let offset = local(offset as usize).clamp(from, to) - from + prefix.len();
            floor_char_boundary(&quoted, offset)
        };
        let shown = line_range.start + from..line_range.start + to;
        Quoted {
            path: normalize_untrusted_str(&escape_control(source.path())),
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
        let bold = Style::new().bold();
        if report.diagnostics.is_empty() {
            let line = if report.audited.is_empty() {
                "nothing was audited".to_owned()
            } else {
                format!("no findings in {}", audited_list(&report.audited))
            };
            writeln!(out, "{}", self.paint(bold, &line))?;
        } else {
            let findings = plural(report.diagnostics.len(), "finding", "findings");
            writeln!(
                out,
                "{} in {}",
                self.paint(bold, &findings),
                where_found(&report.with_findings(), &report.audited)
            )?;
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

/// The kinds of things audited, with their nouns: `(audited, with findings, one, many)`.
fn kinds(with: &Audited, audited: &Audited) -> [(usize, usize, &'static str, &'static str); 4] {
    [
        (audited.files, with.files, "file", "files"),
        (audited.images, with.images, "image", "images"),
        (
            audited.containers,
            with.containers,
            "running container",
            "running containers",
        ),
        (audited.daemons, with.daemons, "daemon", "daemons"),
    ]
}

/// `5 files and 1 image`: what was audited.
fn audited_list(audited: &Audited) -> String {
    let parts: Vec<String> = kinds(&Audited::default(), audited)
        .into_iter()
        .filter(|&(count, ..)| count > 0)
        .map(|(count, _, one, many)| match (one, count) {
            ("daemon", 1) => "the daemon".to_owned(),
            _ => plural(count, one, many),
        })
        .collect();
    join_and(&parts)
}

/// `2 of 5 files and 1 image; no findings in 3 running containers`: where the findings are, among
/// what was audited.
fn where_found(with: &Audited, audited: &Audited) -> String {
    let mut found = Vec::new();
    let mut clean = Audited::default();
    for (index, (count, hit, one, many)) in kinds(with, audited).into_iter().enumerate() {
        if hit == 0 {
            let slot = match index {
                0 => &mut clean.files,
                1 => &mut clean.images,
                2 => &mut clean.containers,
                _ => &mut clean.daemons,
            };
            *slot = count;
            continue;
        }
        found.push(match (one, hit, count) {
            ("daemon", 1, 1) => "the daemon".to_owned(),
            (_, hit, count) if hit >= count => plural(hit, one, many),
            (_, hit, count) => format!("{hit} of {}", plural(count, one, many)),
        });
    }
    let mut text = join_and(&found);
    if !clean.is_empty() {
        text.push_str(&format!("; no findings in {}", audited_list(&clean)));
    }
    text
}

/// `a`, `a and b`, `a, b and c`.
fn join_and(parts: &[String]) -> String {
    match parts {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

fn plural(count: usize, one: &str, many: &str) -> String {
    format!("{count} {}", if count == 1 { one } else { many })
}

/// At most `width` characters of `line` around character `column`, cut with `…` where cut.
fn window(line: &str, column: usize, width: usize) -> String {
    let count = line.chars().count();
    if count <= width {
        return line.to_owned();
    }
    let start = column.saturating_sub(width / 3).min(count - width);
    let mut shown: String = line.chars().skip(start).take(width).collect();
    if start + width < count {
        shown.push('…');
    }
    if start > 0 {
        shown.insert(0, '…');
    }
    shown
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
            secrets: &crate::test_support::NO_SECRETS,
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
            secrets: &crate::test_support::NO_SECRETS,
            db: &db,
            diagnostics: &[],
            errors: &[],
            audited: crate::Audited {
                files: 2,
                ..crate::Audited::default()
            },
        };
        let mut out = Vec::new();
        write(&report, &mut out, HumanOptions::default()).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "no findings in 2 files\n");
    }

    #[test]
    fn the_summary_says_what_was_audited_and_where_the_findings_are() {
        let audited = |files, images, containers, daemons| Audited {
            files,
            images,
            containers,
            daemons,
        };
        assert_eq!(audited_list(&audited(5, 1, 0, 0)), "5 files and 1 image");
        assert_eq!(
            audited_list(&audited(0, 0, 3, 1)),
            "3 running containers and the daemon"
        );
        assert_eq!(
            where_found(&audited(2, 0, 0, 0), &audited(5, 0, 0, 0)),
            "2 of 5 files"
        );
        assert_eq!(
            where_found(&audited(1, 0, 0, 0), &audited(1, 0, 0, 0)),
            "1 file"
        );
        assert_eq!(
            where_found(&audited(2, 1, 0, 0), &audited(5, 2, 0, 0)),
            "2 of 5 files and 1 of 2 images"
        );
        assert_eq!(
            where_found(&audited(0, 0, 2, 1), &audited(0, 0, 4, 1)),
            "2 of 4 running containers and the daemon"
        );
        assert_eq!(
            where_found(&audited(0, 1, 0, 0), &audited(3, 1, 0, 0)),
            "1 image; no findings in 3 files"
        );
    }

    #[test]
    fn a_long_line_is_cut_around_the_place() {
        let line: String = (0..200)
            .map(|i| char::from(b'a' + (i % 26) as u8))
            .collect();
        let shown = window(&line, 150, 40);
        assert_eq!(shown.chars().count(), 42, "{shown}");
        assert!(shown.starts_with('…') && shown.ends_with('…'), "{shown}");
        assert_eq!(window("short", 2, 40), "short");
    }

    #[test]
    fn says_nothing_was_audited_when_nothing_was() {
        let db = leastpriv_source::SourceDb::new();
        let error = InputError::file("web:1.4", "no such image in the local engine");
        let report = Report {
            secrets: &crate::test_support::NO_SECRETS,
            db: &db,
            diagnostics: &[],
            errors: std::slice::from_ref(&error),
            audited: Audited::default(),
        };
        let mut out = Vec::new();
        write(&report, &mut out, HumanOptions::default()).unwrap();
        let output = String::from_utf8(out).unwrap();
        assert!(output.contains("\nnothing was audited\n"), "{output}");
        assert!(!output.contains("no findings"), "{output}");
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
            secrets: &crate::test_support::NO_SECRETS,
            db: &db,
            diagnostics: std::slice::from_ref(&diagnostic),
            errors: &[],
            audited: crate::Audited {
                files: 1,
                ..crate::Audited::default()
            },
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
            secrets: &crate::test_support::NO_SECRETS,
            db: &db,
            diagnostics: &diagnostics,
            errors: &[],
            audited: crate::Audited {
                files: 1,
                ..crate::Audited::default()
            },
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
                    secrets: &crate::test_support::NO_SECRETS,
                    db: &db,
                    diagnostics: std::slice::from_ref(&diagnostic),
                    errors: std::slice::from_ref(&error),
                    audited: crate::Audited {
                        files: 1,
                        ..crate::Audited::default()
                    },
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
            secrets: &crate::test_support::NO_SECRETS,
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
