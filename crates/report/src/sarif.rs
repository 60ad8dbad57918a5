//! `--format sarif`: SARIF 2.1.0, as GitHub code scanning and other SARIF viewers read it.
//!
//! One run, whose `tool.driver.rules` holds every rule with a result (code order), each with its
//! documentation as `help` (text and Markdown), its default level, and the `security-severity` score
//! and tags GitHub uses to rank and filter alerts. Each result points at its rule by `ruleId` and
//! `ruleIndex`, carries the finding's own severity as `level`, the message and the fix, a region with
//! 1-based lines and columns (`columnKind: unicodeCodePoints`, the end column exclusive as in SARIF),
//! related places, and a `partialFingerprints` entry so alerts survive unrelated edits. Inputs that
//! could not be audited become `toolExecutionNotifications`; the run still completed, so
//! `executionSuccessful` is true (SARIF §3.20.14) and the exit code tells the failure.
//!
//! The structs are our own rather than serde-sarif's: we write a small fixed subset of the format, and
//! serde-sarif generates its 10,000-line model from the schema at build time (syn, schemafy,
//! typed-builder). The output is validated against the OASIS schema in this module's tests.

use std::collections::{BTreeMap, HashMap};
use std::io;

use leastpriv_rules::{Diagnostic, Rule, Severity};
use leastpriv_source::{FileId, Span};
use serde::Serialize;

use crate::masked::MaskedSources;
use crate::Report;
use leastpriv_secrets::escape_control;

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
/// The base that relative artifact URIs resolve against: the repository root, for GitHub.
const SOURCE_ROOT: &str = "%SRCROOT%";

#[derive(Serialize)]
struct Log<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: [Run<'a>; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run<'a> {
    tool: Tool,
    invocations: [Invocation; 1],
    results: Vec<SarifResult<'a>>,
    column_kind: &'static str,
}

#[derive(Serialize)]
struct Tool {
    driver: Driver,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver {
    name: &'static str,
    version: &'static str,
    semantic_version: &'static str,
    information_uri: &'static str,
    rules: Vec<ReportingDescriptor>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ReportingDescriptor {
    id: &'static str,
    name: &'static str,
    short_description: Message,
    full_description: Message,
    help: MultiformatMessage,
    default_configuration: Configuration,
    properties: RuleProperties,
}

#[derive(Serialize)]
struct Message {
    text: String,
}

#[derive(Serialize)]
struct MultiformatMessage {
    text: String,
    markdown: String,
}

#[derive(Serialize)]
struct Configuration {
    level: &'static str,
}

#[derive(Serialize)]
struct RuleProperties {
    tags: Vec<&'static str>,
    /// GitHub's alert ranking: a number from 0.0 to 10.0, as a string.
    #[serde(rename = "security-severity", skip_serializing_if = "Option::is_none")]
    security_severity: Option<&'static str>,
    precision: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult<'a> {
    rule_id: &'static str,
    rule_index: usize,
    level: &'static str,
    message: Message,
    locations: [Location; 1],
    #[serde(skip_serializing_if = "Vec::is_empty")]
    related_locations: Vec<Location>,
    partial_fingerprints: BTreeMap<&'static str, String>,
    properties: ResultProperties<'a>,
}

#[derive(Serialize)]
struct ResultProperties<'a> {
    severity: &'static str,
    layer: &'static str,
    fix: std::borrow::Cow<'a, str>,
    /// The Pod Security Standards level that forbids it (`baseline`, `restricted`), when one does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pss: Option<&'static str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Location {
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<usize>,
    physical_location: PhysicalLocation,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<Message>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<Region>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ArtifactLocation {
    uri: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    uri_base_id: Option<&'static str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: u32,
    start_column: u32,
    end_line: u32,
    end_column: u32,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Invocation {
    execution_successful: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tool_execution_notifications: Vec<Notification>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Notification {
    level: &'static str,
    message: Message,
    locations: [Location; 1],
    descriptor: DescriptorReference,
}

#[derive(Serialize)]
struct DescriptorReference {
    id: &'static str,
}

/// Writes the report as one SARIF log.
pub fn write(report: &Report<'_>, out: &mut dyn io::Write) -> io::Result<()> {
    let mut rules: Vec<&'static Rule> = report.diagnostics.iter().map(|d| d.rule).collect();
    rules.sort_by_key(|rule| rule.code);
    rules.dedup_by_key(|rule| rule.code);
    let rule_index: HashMap<&str, usize> = rules
        .iter()
        .enumerate()
        .map(|(index, rule)| (rule.code, index))
        .collect();

    let mut fingerprints = Fingerprints::new(report);
    let results = report
        .diagnostics
        .iter()
        .map(|diagnostic| SarifResult {
            rule_id: diagnostic.rule.code,
            rule_index: rule_index[diagnostic.rule.code],
            level: level(diagnostic.severity),
            message: Message {
                text: report
                    .scrub(&match report.in_words(diagnostic.span) {
                        // In an image the location is leastpriv's printing of its config: say where.
                        Some(place) => format!(
                            "{} (in {place}). Fix: {}",
                            diagnostic.message, diagnostic.fix
                        ),
                        None => format!("{}. Fix: {}", diagnostic.message, diagnostic.fix),
                    })
                    .into_owned(),
            },
            locations: [location(report, diagnostic.span, None, None)],
            related_locations: diagnostic
                .related
                .iter()
                .enumerate()
                .map(|(id, (span, note))| location(report, *span, Some(id), Some(note)))
                .collect(),
            partial_fingerprints: BTreeMap::from([(
                "leastpriv/v1",
                fingerprints.next(report, diagnostic),
            )]),
            properties: ResultProperties {
                severity: diagnostic.severity.as_str(),
                layer: diagnostic.rule.meta.layer.as_str(),
                fix: report.scrub(&diagnostic.fix),
                pss: diagnostic.pss.map(|level| level.as_str()),
            },
        })
        .collect();

    let notifications = report
        .errors
        .iter()
        .map(|error| {
            let (uri, uri_base_id) = artifact_uri(&error.path);
            let region = error.span.map(|span| region(report, span));
            Notification {
                level: "error",
                message: Message {
                    text: report
                        .scrub(&format!(
                            "{}: {}",
                            escape_control(&error.path),
                            error.message
                        ))
                        .into_owned(),
                },
                locations: [Location {
                    id: None,
                    physical_location: PhysicalLocation {
                        artifact_location: ArtifactLocation { uri, uri_base_id },
                        region,
                    },
                    message: None,
                }],
                descriptor: DescriptorReference { id: "input-error" },
            }
        })
        .collect();

    let log = Log {
        schema: SCHEMA,
        version: "2.1.0",
        runs: [Run {
            tool: Tool {
                driver: Driver {
                    name: "leastpriv",
                    version: env!("CARGO_PKG_VERSION"),
                    semantic_version: env!("CARGO_PKG_VERSION"),
                    information_uri: env!("CARGO_PKG_REPOSITORY"),
                    rules: rules.iter().map(|rule| descriptor(rule)).collect(),
                },
            },
            invocations: [Invocation {
                execution_successful: true,
                tool_execution_notifications: notifications,
            }],
            results,
            column_kind: "unicodeCodePoints",
        }],
    };
    serde_json::to_writer_pretty(&mut *out, &log)?;
    writeln!(out)
}

fn descriptor(rule: &Rule) -> ReportingDescriptor {
    let explanation = rule.explanation();
    let what_it_does = section(&explanation, "## What it does");
    ReportingDescriptor {
        id: rule.code,
        name: rule.meta.name,
        short_description: Message {
            text: first_sentence(&what_it_does),
        },
        full_description: Message { text: what_it_does },
        help: MultiformatMessage {
            text: format!("{}\n\n{}", rule.meta.fix_title, explanation.trim_end()),
            markdown: format!(
                "**Fix:** {}\n\n{}",
                rule.meta.fix_title,
                explanation.trim_end()
            ),
        },
        default_configuration: Configuration {
            level: level(rule.meta.severity),
        },
        properties: RuleProperties {
            tags: vec!["security", rule.meta.layer.as_str()],
            security_severity: security_severity(rule.meta.severity),
            precision: "high",
        },
    }
}

/// The text of a `## Heading` section of a rule's documentation, as one paragraph.
fn section(explanation: &str, heading: &str) -> String {
    let Some(start) = explanation.find(heading) else {
        return String::new();
    };
    let body = &explanation[start + heading.len()..];
    let body = body.find("\n## ").map_or(body, |end| &body[..end]);
    body.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn first_sentence(text: &str) -> String {
    match text.find(". ") {
        Some(end) => text[..=end].to_owned(),
        None => text.to_owned(),
    }
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

/// GitHub ranks alerts by this score: over 9.0 critical, 7.0 to 8.9 high, 4.0 to 6.9 medium, 0.1 to 3.9
/// low. An informational rule has none.
fn security_severity(severity: Severity) -> Option<&'static str> {
    match severity {
        Severity::Critical => Some("9.5"),
        Severity::High => Some("8.0"),
        Severity::Medium => Some("5.5"),
        Severity::Low => Some("2.5"),
        Severity::Info => None,
    }
}

fn location(report: &Report<'_>, span: Span, id: Option<usize>, note: Option<&str>) -> Location {
    let path = report.db.get(span.file).path().to_owned();
    let (uri, uri_base_id) = artifact_uri(&path);
    Location {
        id,
        physical_location: PhysicalLocation {
            artifact_location: ArtifactLocation { uri, uri_base_id },
            region: Some(region(report, span)),
        },
        message: note.map(|text| Message {
            text: report.scrub(text).into_owned(),
        }),
    }
}

fn region(report: &Report<'_>, span: Span) -> Region {
    let location = report.locate(span);
    Region {
        start_line: location.start.line,
        start_column: location.start.column,
        end_line: location.end.line,
        end_column: location.end.column,
    }
}

/// A path as the user gave it, as a URI reference: relative paths keep forward slashes and resolve
/// against the source root; absolute ones become `file://` URIs. Bytes outside the URI's unreserved
/// and path characters are percent-encoded (`:` too, so a relative first segment is never a scheme).
fn artifact_uri(path: &str) -> (String, Option<&'static str>) {
    let path = path.replace('\\', "/");
    let bytes = path.as_bytes();
    let is_windows_absolute =
        bytes.len() > 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':' && bytes[2] == b'/';
    if path.starts_with('/') {
        (format!("file://{}", percent_encode(&path)), None)
    } else if is_windows_absolute {
        (
            format!("file:///{}{}", &path[..2], percent_encode(&path[2..])),
            None,
        )
    } else {
        (percent_encode(&path), Some(SOURCE_ROOT))
    }
}

fn percent_encode(path: &str) -> String {
    let mut encoded = String::with_capacity(path.len());
    for byte in path.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~/!$&'()*+,;=@".contains(&byte) {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

/// Stable fingerprints: rule, path and the shape of the finding's first line, so an alert keeps its
/// identity when lines above it move; a counter tells identical lines apart. The line is hashed
/// masked ([`MaskedSources`]) and with every word that could be a secret the detectors missed
/// (eight or more characters mixing letters and digits) replaced, so that a fingerprint is never an
/// oracle to test guesses of a value against.
struct Fingerprints<'r, 'a> {
    masked: MaskedSources<'r, 'a>,
    seen: HashMap<u64, usize>,
    /// Hashes by rule, file and line: a line is hashed once, however many findings of a rule it
    /// holds (thousands on a one-line manifest would make that quadratic).
    lines: HashMap<(&'static str, FileId, usize), u64>,
}

impl<'r, 'a> Fingerprints<'r, 'a> {
    fn new(report: &'r Report<'a>) -> Self {
        Self {
            masked: MaskedSources::new(report),
            seen: HashMap::new(),
            lines: HashMap::new(),
        }
    }

    fn next(&mut self, report: &Report<'_>, diagnostic: &Diagnostic) -> String {
        let file = report.db.get(diagnostic.span.file);
        let index = file.line_index();
        let line = index.line_of(diagnostic.span.range.start as usize);
        let masked = &self.masked;
        let hash = *self
            .lines
            .entry((diagnostic.rule.code, diagnostic.span.file, line))
            .or_insert_with(|| {
                let text = masked.text(diagnostic.span.file);
                let line = &text[index.line_range(file.text(), line)];
                fnv1a(&[
                    diagnostic.rule.code.as_bytes(),
                    file.path().as_bytes(),
                    line_shape(line.trim()).as_bytes(),
                ])
            });
        let occurrence = self.seen.entry(hash).or_insert(0);
        *occurrence += 1;
        format!("{hash:016x}:{occurrence}")
    }
}

/// `line` with every word of eight or more characters that mixes letters and digits replaced by
/// `*`: the shape of the line, without what could be a value.
fn line_shape(line: &str) -> String {
    let mut shape = String::with_capacity(line.len());
    for (is_word, piece) in word_runs(line) {
        let mixed = piece.bytes().any(|b| b.is_ascii_digit())
            && piece.bytes().any(|b| b.is_ascii_alphabetic());
        if is_word && piece.len() >= 8 && mixed {
            shape.push('*');
        } else {
            shape.push_str(piece);
        }
    }
    shape
}

/// `text` cut into runs of word characters (alphanumerics, `_`, `-`, `+`, `/`) and of the rest.
fn word_runs(text: &str) -> impl Iterator<Item = (bool, &str)> {
    let is_word = |c: char| c.is_alphanumeric() || matches!(c, '_' | '-' | '+' | '/');
    let mut rest = text;
    std::iter::from_fn(move || {
        let first = rest.chars().next()?;
        let word = is_word(first);
        let end = rest
            .char_indices()
            .find(|&(_, c)| is_word(c) != word)
            .map_or(rest.len(), |(at, _)| at);
        let (piece, tail) = rest.split_at(end);
        rest = tail;
        Some((word, piece))
    })
}

/// FNV-1a, 64 bits, over NUL-separated parts. Hand-written because the fingerprint must never change
/// between builds, which `std`'s hashers do not promise; five lines do not justify a dependency.
fn fnv1a(parts: &[&[u8]]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in parts.join(&0u8) {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::sample;
    use serde_json::Value;

    fn render() -> Value {
        let sample = sample();
        let mut out = Vec::new();
        write(&sample.report(), &mut out).unwrap();
        serde_json::from_slice(&out).unwrap()
    }

    #[test]
    fn validates_against_the_sarif_2_1_0_schema() {
        let schema_path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/sarif-schema-2.1.0.json"
        );
        let schema: Value =
            serde_json::from_str(&std::fs::read_to_string(schema_path).unwrap()).unwrap();
        let mut schemas = boon::Schemas::new();
        let mut compiler = boon::Compiler::new();
        compiler.enable_format_assertions();
        compiler
            .add_resource("sarif-schema-2.1.0.json", schema)
            .unwrap();
        let index = compiler
            .compile("sarif-schema-2.1.0.json", &mut schemas)
            .unwrap();
        let log = render();
        if let Err(error) = schemas.validate(&log, index) {
            panic!("SARIF output is not valid: {error:#}");
        }
    }

    #[test]
    fn meets_github_code_scanning_expectations() {
        let log = render();
        let run = &log["runs"][0];
        let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
        for result in run["results"].as_array().unwrap() {
            let index = result["ruleIndex"].as_u64().unwrap() as usize;
            assert_eq!(rules[index]["id"], result["ruleId"]);
            let uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                .as_str()
                .unwrap();
            assert!(!uri.contains('\\') && !uri.starts_with('/'), "{uri}");
            assert!(result["partialFingerprints"]["leastpriv/v1"].is_string());
        }
        for rule in rules {
            let score: f64 = rule["properties"]["security-severity"]
                .as_str()
                .unwrap()
                .parse()
                .unwrap();
            assert!((0.0..=10.0).contains(&score));
            let tags = rule["properties"]["tags"].as_array().unwrap();
            assert!(tags.contains(&Value::from("security")));
            assert!(!rule["help"]["markdown"].as_str().unwrap().is_empty());
        }
    }

    #[test]
    fn snapshot() {
        let mut log = render();
        // The rule's documentation evolves with the rule: check it is the documentation, then elide it.
        let rule = leastpriv_rules::find_rule("LP201").unwrap();
        for descriptor in log["runs"][0]["tool"]["driver"]["rules"]
            .as_array_mut()
            .unwrap()
        {
            let help = descriptor["help"]["markdown"].as_str().unwrap();
            assert!(help.ends_with(rule.explanation().trim_end()));
            for field in ["shortDescription", "fullDescription", "help"] {
                descriptor[field] = Value::from("[from the rule's documentation]");
            }
        }
        log["runs"][0]["tool"]["driver"]["version"] = Value::from("[version]");
        log["runs"][0]["tool"]["driver"]["semanticVersion"] = Value::from("[version]");
        insta::assert_json_snapshot!(log);
    }

    #[test]
    fn uris_are_relative_references_with_forward_slashes() {
        assert_eq!(
            artifact_uri("web/Dockerfile"),
            ("web/Dockerfile".into(), Some(SOURCE_ROOT))
        );
        assert_eq!(
            artifact_uri(r"deploy\my app\Dockerfile"),
            ("deploy/my%20app/Dockerfile".into(), Some(SOURCE_ROOT))
        );
        assert_eq!(artifact_uri("a:b"), ("a%3Ab".into(), Some(SOURCE_ROOT)));
        assert_eq!(
            artifact_uri(r"C:\src\Dockerfile"),
            ("file:///C:/src/Dockerfile".into(), None)
        );
        assert_eq!(
            artifact_uri("/srv/app/Dockerfile"),
            ("file:///srv/app/Dockerfile".into(), None)
        );
    }

    #[test]
    fn fingerprints_survive_moved_lines_and_tell_twins_apart() {
        let rule = leastpriv_rules::find_rule("LP201").unwrap();
        let fingerprint = |text: &str| {
            let db = leastpriv_source::SourceDb::new();
            let file = db.add("Dockerfile", text);
            let span = crate::test_support::span_of(&db, file, "USER root");
            let diagnostic = Diagnostic {
                rule,
                severity: Severity::High,
                message: String::new(),
                span,
                fix: String::new(),
                related: Vec::new(),
                remedy: None,
                pss: None,
            };
            let report = Report {
                db: &db,
                diagnostics: &[],
                errors: &[],
                audited: crate::Audited {
                    files: 1,
                    ..crate::Audited::default()
                },
                secrets: &crate::test_support::NO_SECRETS,
            };
            let mut fingerprints = Fingerprints::new(&report);
            (
                fingerprints.next(&report, &diagnostic),
                fingerprints.next(&report, &diagnostic),
            )
        };
        let (first, twin) = fingerprint("FROM a\nUSER root\n");
        let (moved, _) = fingerprint("FROM a\nRUN x\n\nUSER root\n");
        assert_eq!(first, moved);
        assert_ne!(first, twin);
        assert!(twin.ends_with(":2"));
    }

    #[test]
    fn fingerprints_do_not_depend_on_values() {
        assert_eq!(
            line_shape("RUN tool --key a1b2c3d4e5f6 --name web"),
            "RUN tool --key * --name web"
        );
        assert_eq!(line_shape("USER root"), "USER root");
    }
}
