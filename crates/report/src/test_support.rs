//! A small report shared by the reporters' snapshot tests: three files, findings with related places
//! across files, a located and an unlocated input error.

use leastpriv_rules::{find_rule, Diagnostic, Severity};
use leastpriv_source::{FileId, InputError, SourceDb, Span, TextRange};

use crate::Report;

/// A password that must never appear in any output.
pub(crate) const FAKE_PASSWORD: &str = "FakePassw0rd-not-real";

/// The span of the first `needle` in `file`.
pub(crate) fn span_of(db: &SourceDb, file: FileId, needle: &str) -> Span {
    let text = db.get(file).text().to_owned();
    let start = text.find(needle).expect("needle in text");
    Span::new(file, TextRange::new(start, start + needle.len()))
}

/// No value known to be secret by where it came from.
pub(crate) static NO_SECRETS: leastpriv_secrets::KnownSecrets =
    leastpriv_secrets::KnownSecrets::new();

/// Owns what a [`Report`] borrows.
pub(crate) struct Sample {
    pub(crate) db: SourceDb,
    pub(crate) diagnostics: Vec<Diagnostic>,
    pub(crate) errors: Vec<InputError>,
}

impl Sample {
    pub(crate) fn report(&self) -> Report<'_> {
        Report {
            secrets: &crate::test_support::NO_SECRETS,
            db: &self.db,
            diagnostics: &self.diagnostics,
            errors: &self.errors,
            audited: crate::Audited {
                files: 3,
                ..crate::Audited::default()
            },
        }
    }
}

/// Findings of LP201, the one rule every build has; severities vary as `[severity]` would make them.
pub(crate) fn sample() -> Sample {
    let db = SourceDb::new();
    let web = db.add(
        "web/Dockerfile",
        format!(
            "FROM python:3.12-slim\nENV DB_PASSWORD={FAKE_PASSWORD}\nCOPY . /app\nUSER root\nCMD [\"python\", \"/app/server.py\"]\n"
        ),
    );
    let compose = db.add(
        "compose.yaml",
        "services:\n  proxy:\n    build: ./proxy\n    ports:\n      - \"80:80\"\n",
    );
    let proxy = db.add(
        "proxy/Dockerfile",
        "FROM nginx:1.27\nCOPY nginx.conf /etc/nginx/nginx.conf\n",
    );
    let binary = db.add("bin/blob.Dockerfile", "FROM x\nRU");
    let rule = find_rule("LP201").expect("LP201 exists");
    let diagnostics = vec![
        Diagnostic {
            rule,
            severity: Severity::High,
            message: "container runs as root (`root`)".into(),
            span: span_of(&db, web, "root"),
            fix: "Replace `USER root` with `USER 10001:10001`".into(),
            related: vec![(span_of(&db, web, "FROM python:3.12-slim"), "the final stage starts here".into())],
            remedy: None,
            pss: None,
        },
        Diagnostic {
            rule,
            severity: Severity::Medium,
            message: "final stage sets no `USER`, so the container runs as the base image's user (root by default)".into(),
            span: span_of(&db, proxy, "FROM nginx:1.27"),
            fix: rule.meta.fix_title.into(),
            related: vec![(span_of(&db, compose, "build: ./proxy"), "service `proxy` builds this Dockerfile".into())],
            remedy: None,
            pss: None,
        },
    ];
    let errors = vec![
        InputError::at(
            "bin/blob.Dockerfile",
            Span::new(binary, TextRange::empty(9)),
            "binary file (NUL byte); not read",
        ),
        InputError::file("missing/Dockerfile", "no such file or directory"),
    ];
    Sample {
        db,
        diagnostics,
        errors,
    }
}
