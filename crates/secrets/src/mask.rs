//! Masking every secret the detectors know in a text before it is quoted.
//!
//! Reporters quote source lines (the human snippet), hash them (SARIF fingerprints) and print
//! messages that may carry input. Every such text passes through [`mask`] first. The mask is made of
//! the same detectors that drive the secrets rules, so what a rule flags a snippet hides:
//!
//! - credentials of known formats ([`find_credentials`]) and the bodies of PEM private keys;
//! - `NAME=value`, `NAME: value`, `"NAME": "value"`, `ENV NAME value`, Kubernetes `name:`/`value:`
//!   pairs and `${X:-default}` defaults, where the name is a secret's ([`masks_name`]);
//! - secrets given on a command line ([`secret_arguments`]) and the passwords fed to `chpasswd`;
//! - the line after a Dockerfile `ENV TOKEN=` that ends the line (the value written below it).
//!
//! Masking replaces each byte of a value with `*`, so every byte offset, and so every span and caret,
//! stays where it was. It errs towards masking: a masked `MAX_TOKENS=100` costs nothing.

use std::borrow::Cow;
use std::ops::Range;
use std::sync::LazyLock;

use regex::Regex;

use crate::arguments::{chpasswd_passwords, secret_arguments};
use crate::detect::{find_credentials, is_literal_value, is_secret_name};

/// Words that make a name worth masking even when [`is_secret_name`] judges it describes a secret
/// rather than holds one (`TOKEN_VALUE_OLD`): masking is cheap, a leak is not.
const MASKED_NAME_WORDS: &[&str] = &[
    "PASSWORD",
    "PASSWD",
    "PASSPHRASE",
    "SECRET",
    "TOKEN",
    "APIKEY",
    "API_KEY",
    "PRIVATE_KEY",
    "PRIVATEKEY",
    "ACCESS_KEY",
    "CREDENTIAL",
];

/// Whether a value assigned to `name` is masked: every name [`is_secret_name`] flags, and any name
/// that mentions a secret word.
pub fn masks_name(name: &str) -> bool {
    let upper = name.to_ascii_uppercase().replace(['-', '.'], "_");
    // sudoers' `ALL=NOPASSWD: /usr/bin/x` is a rule, not a password.
    if upper == "NOPASSWD" {
        return false;
    }
    if is_secret_name(name) {
        return true;
    }
    MASKED_NAME_WORDS.iter().any(|word| upper.contains(word))
}

/// `NAME=`, `NAME:`, `"NAME":`, `'NAME' =`: where a value is assigned to a name.
static ASSIGNMENT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?P<name>[A-Za-z_][A-Za-z0-9_.-]*)["']?[ \t]*(?P<sep>[=:])"#)
        .expect("valid assignment pattern")
});

/// The legacy Dockerfile `ENV NAME value` form, whose value is the rest of the line, and `ENV NAME=`
/// ending the line.
static ENV_LINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?im)^[ \t]*(?:ENV|ARG)[ \t]+(?P<name>[A-Za-z_][A-Za-z0-9_.-]*)(?P<rest>[ \t]+[^\r\n=]*|=[ \t]*)\r?$")
        .expect("valid ENV pattern")
});

/// A Kubernetes `name: X` whose `value:` follows.
static NAME_KEY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?:^|[\s{,"'])name["']?[ \t]*:[ \t]*["']?(?P<name>[A-Za-z_][A-Za-z0-9_.-]*)"#)
        .expect("valid name pattern")
});

static VALUE_KEY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?:^|[\s{,"'])value["']?[ \t]*:"#).expect("valid value pattern")
});

/// The beginnings of the PEM blocks that hold private keys.
static PEM_BEGIN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----").expect("valid PEM pattern")
});

/// Dockerfile instructions: a line that starts with one is not the value of the line before.
const INSTRUCTIONS: &[&str] = &[
    "FROM",
    "RUN",
    "CMD",
    "LABEL",
    "MAINTAINER",
    "EXPOSE",
    "ENV",
    "ADD",
    "COPY",
    "ENTRYPOINT",
    "VOLUME",
    "USER",
    "WORKDIR",
    "ARG",
    "ONBUILD",
    "STOPSIGNAL",
    "HEALTHCHECK",
    "SHELL",
];

/// How far after a Kubernetes `name:` its `value:` is looked for.
const NAME_VALUE_WINDOW: usize = 512;

/// `text` with every secret the detectors find masked by `*`, byte for byte.
pub fn mask(text: &str) -> Cow<'_, str> {
    let ranges = secret_ranges(text);
    if ranges.is_empty() {
        return Cow::Borrowed(text);
    }
    Cow::Owned(mask_ranges(text, &ranges))
}

/// `text` with `ranges` masked by `*`, byte for byte; line breaks are kept so that lines stay lines.
pub fn mask_ranges(text: &str, ranges: &[Range<usize>]) -> String {
    let mut bytes = text.as_bytes().to_vec();
    for range in ranges {
        let range = range.start.min(bytes.len())..range.end.min(bytes.len());
        for byte in &mut bytes[range] {
            if *byte != b'\n' && *byte != b'\r' {
                *byte = b'*';
            }
        }
    }
    // Whole UTF-8 sequences are replaced by ASCII, except at a range's edge inside a sequence,
    // which the lossy conversion turns into a replacement character (never the secret).
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Where the secrets in `text` are (byte ranges, possibly overlapping).
pub fn secret_ranges(text: &str) -> Vec<Range<usize>> {
    let mut ranges: Vec<Range<usize>> = find_credentials(text)
        .into_iter()
        .map(|credential| credential.range)
        .collect();
    private_key_bodies(text, &mut ranges);
    assignments(text, &mut ranges);
    env_lines(text, &mut ranges);
    name_value_pairs(text, &mut ranges);
    for (start, line) in logical_lines(text) {
        command_arguments(line, start, &mut ranges);
    }
    ranges
}

fn lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.split_inclusive('\n').scan(0, |offset, line| {
        let start = *offset;
        *offset += line.len();
        Some((start, line.trim_end_matches(['\n', '\r'])))
    })
}

/// The lines of `text` with `\`-continued ones joined (shell and Dockerfile `RUN`), as slices of the
/// text, so that `sshpass -p \` + `  hunter2` is one command line; offsets stay the text's own.
fn logical_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut rest_start = 0;
    std::iter::from_fn(move || {
        if rest_start >= text.len() {
            return None;
        }
        let start = rest_start;
        let mut end = start;
        for (offset, line) in lines(&text[start..]) {
            end = start + offset + line.len();
            rest_start = (end + 1).min(text.len());
            if text.as_bytes().get(end) == Some(&b'\r') {
                rest_start = (end + 2).min(text.len());
            }
            if !line.ends_with('\\') {
                break;
            }
        }
        Some((start, &text[start..end]))
    })
}

fn private_key_bodies(text: &str, ranges: &mut Vec<Range<usize>>) {
    // Each body ends at the first `-----END` after its header, or at the end of the text; a header
    // inside a body already masked is skipped, so the text is scanned once whatever it repeats.
    let mut masked_to = 0;
    for begin in PEM_BEGIN.find_iter(text) {
        if begin.start() < masked_to {
            continue;
        }
        let end = text[begin.end()..]
            .find("-----END")
            .map_or(text.len(), |end| begin.end() + end);
        ranges.push(begin.end()..end);
        masked_to = end;
    }
}

/// A match of [`ASSIGNMENT`], split into its name and its separator.
struct Assignment<'t> {
    name: &'t str,
    /// Where the name starts.
    name_start: usize,
    sep: &'t str,
    /// Where the separator ends.
    after: usize,
}

/// The name and separator of an [`ASSIGNMENT`] match, read from the match itself: the name is the
/// run of name characters it starts with (no character the pattern allows after a name continues
/// it) and the separator is its last byte. The same groups the captures give, found without the
/// capturing engine, which costs several times the plain search on every `key:` of a file.
fn split_assignment(found: regex::Match<'_>) -> Assignment<'_> {
    let matched = found.as_str();
    let name_len = matched
        .bytes()
        .position(|byte| !(byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'.' | b'-')))
        .unwrap_or(matched.len());
    Assignment {
        name: &matched[..name_len],
        name_start: found.start(),
        sep: &matched[matched.len() - 1..],
        after: found.end(),
    }
}

fn assignments(text: &str, ranges: &mut Vec<Range<usize>>) {
    // A file repeats its keys (`name:`, `image:` on every item): each name is judged once.
    let mut judged: std::collections::HashMap<&str, bool> = std::collections::HashMap::new();
    for found in ASSIGNMENT.find_iter(text) {
        let Assignment {
            name,
            name_start,
            sep,
            after,
        } = split_assignment(found);
        if !*judged.entry(name).or_insert_with(|| masks_name(name)) {
            continue;
        }
        // `name:` is a key only when a space or a quote follows (not `http://`, `host:port`).
        if sep == ":"
            && !text[after..].starts_with([' ', '\t', '"', '\''])
            && !text[after..].is_empty()
        {
            continue;
        }
        // `secrets: [db_password]`, `secrets: {…}`: a YAML collection under a secret-like key names
        // secrets, it does not hold one (a scalar value is what the rules flag).
        if sep == ":"
            && text[after..]
                .trim_start_matches([' ', '\t'])
                .starts_with(['[', '{'])
        {
            continue;
        }
        let line_start = text[..name_start].rfind('\n').map_or(0, |at| at + 1);
        let before = &text[line_start..name_start];
        let in_flow = before.contains(['{', '[']);
        // `curl -H "PRIVATE-TOKEN: $TOKEN" https://…`: a `NAME: value` inside a quoted shell word
        // ends with the word, not with the line.
        let quote = [b'"', b'\'']
            .into_iter()
            .find(|quote| before.bytes().filter(|byte| byte == quote).count() % 2 == 1);
        if let Some(mut value) = value_at(text, after, sep == ":", in_flow) {
            if let Some(quote) = quote {
                if let Some(end) = text[value.clone()].bytes().position(|byte| byte == quote) {
                    value.end = value.start + end;
                }
            }
            literal_parts(text, value, ranges);
        }
    }
}

/// The value that starts at `at` (after spaces): a quoted string (escapes honoured), or a bare word
/// up to a space (after `=`), to the end of the line (after `:`), or to a flow separator.
fn value_at(text: &str, at: usize, yaml: bool, in_flow: bool) -> Option<Range<usize>> {
    let bytes = text.as_bytes();
    let mut start = at;
    while start < bytes.len() && (bytes[start] == b' ' || bytes[start] == b'\t') {
        start += 1;
    }
    let first = *bytes.get(start)?;
    if first == b'"' || first == b'\'' {
        let mut end = start + 1;
        while end < bytes.len() && bytes[end] != first && bytes[end] != b'\n' {
            if first == b'"' && bytes[end] == b'\\' {
                end += 1;
            }
            end += 1;
        }
        return Some(start + 1..end.min(bytes.len()));
    }
    let mut end = start;
    while end < bytes.len() {
        let byte = bytes[end];
        let stop = match byte {
            b'\n' | b'\r' => true,
            b'\\' => {
                end += 2;
                continue;
            }
            b',' | b'}' | b']' => in_flow,
            b' ' | b'\t' if yaml => bytes.get(end + 1) == Some(&b'#'),
            b' ' | b'\t' | b';' | b'&' | b'|' | b'`' | b')' | b'"' | b'\'' => !yaml,
            _ => false,
        };
        if stop {
            break;
        }
        end += 1;
    }
    let end = end.min(bytes.len());
    (end > start).then_some(start..end)
}

/// Masks the literal parts of the value in `range`: everything but `$NAME`, `${NAME}` and `$(…)`
/// references, `${NAME:-default}` defaults included, when those parts make a literal.
fn literal_parts(text: &str, range: Range<usize>, ranges: &mut Vec<Range<usize>>) {
    let bytes = text.as_bytes();
    let mut parts = Vec::new();
    let mut index = range.start;
    let mut literal_start = index;
    while index < range.end {
        if bytes[index] != b'$' || index + 1 >= range.end {
            index += 1;
            continue;
        }
        let next = bytes[index + 1];
        if next == b'{' {
            parts.push(literal_start..index);
            let mut cursor = index + 2;
            while cursor < range.end
                && (bytes[cursor].is_ascii_alphanumeric() || bytes[cursor] == b'_')
            {
                cursor += 1;
            }
            while cursor < range.end && matches!(bytes[cursor], b':' | b'-' | b'=' | b'?' | b'+') {
                cursor += 1;
            }
            let default_start = cursor;
            let mut depth = 1;
            while cursor < range.end {
                match bytes[cursor] {
                    b'{' => depth += 1,
                    b'}' => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    _ => {}
                }
                cursor += 1;
            }
            parts.push(default_start..cursor);
            index = (cursor + 1).min(range.end);
            literal_start = index;
        } else if next == b'(' {
            parts.push(literal_start..index);
            let close = text[index..range.end]
                .find(')')
                .map_or(range.end, |at| index + at + 1);
            index = close;
            literal_start = index;
        } else if next.is_ascii_alphabetic() || next == b'_' {
            parts.push(literal_start..index);
            index += 1;
            while index < range.end
                && (bytes[index].is_ascii_alphanumeric() || bytes[index] == b'_')
            {
                index += 1;
            }
            literal_start = index;
        } else {
            index += 1;
        }
    }
    parts.push(literal_start..range.end);
    parts.retain(|part| !part.is_empty());
    let literal: String = parts.iter().map(|part| &text[part.clone()]).collect();
    if is_literal_value(&literal) {
        ranges.extend(parts);
    }
}

fn env_lines(text: &str, ranges: &mut Vec<Range<usize>>) {
    for captures in ENV_LINE.captures_iter(text) {
        let (Some(name), Some(rest)) = (captures.name("name"), captures.name("rest")) else {
            continue;
        };
        if !masks_name(name.as_str()) {
            continue;
        }
        if rest.as_str().starts_with('=') {
            // `ENV TOKEN=` ending the line: a value written on the next line is an unknown
            // instruction to the parser, and still the secret.
            let next_start = rest.end()
                + text[rest.end()..]
                    .find('\n')
                    .map_or(text.len() - rest.end(), |at| at + 1);
            let next_end = text[next_start..]
                .find('\n')
                .map_or(text.len(), |at| next_start + at);
            let next = text[next_start..next_end].trim();
            let first = next.split_whitespace().next().unwrap_or_default();
            let instruction = INSTRUCTIONS
                .iter()
                .any(|word| word.eq_ignore_ascii_case(first));
            if !next.is_empty() && !instruction && !next.starts_with('#') {
                ranges.push(next_start..next_end);
            }
        } else {
            let value = rest.start() + (rest.len() - rest.as_str().trim_start().len());
            literal_parts(text, value..rest.end(), ranges);
        }
    }
}

fn name_value_pairs(text: &str, ranges: &mut Vec<Range<usize>>) {
    for captures in NAME_KEY.captures_iter(text) {
        let Some(name) = captures.name("name") else {
            continue;
        };
        if !masks_name(name.as_str()) {
            continue;
        }
        let mut window_end = (name.end() + NAME_VALUE_WINDOW).min(text.len());
        while !text.is_char_boundary(window_end) {
            window_end -= 1;
        }
        let window = &text[name.end()..window_end];
        // The pair ends where the next entry's `name:` starts.
        let window = NAME_KEY
            .find(window)
            .map_or(window, |next| &window[..next.start()]);
        if let Some(value_key) = VALUE_KEY.find(window) {
            let after = name.end() + value_key.end();
            let line_start = text[..after].rfind('\n').map_or(0, |at| at + 1);
            let in_flow = text[line_start..after].contains(['{', '[']);
            if let Some(value) = value_at(text, after, true, in_flow) {
                literal_parts(text, value, ranges);
            }
        }
    }
}

/// One word of a command line: its text with quotes removed, and where each of its bytes is.
struct Word {
    bytes: Vec<u8>,
    offsets: Vec<usize>,
}

/// Splits a line into commands (at `&&`, `||`, `;`, `|`, parentheses) of words, shell-style.
fn commands(line: &str, start: usize) -> Vec<Vec<Word>> {
    let bytes = line.as_bytes();
    let mut commands = vec![Vec::new()];
    let mut word: Option<Word> = None;
    let mut index = 0;
    let mut quote = None;
    while index < bytes.len() {
        let byte = bytes[index];
        match (quote, byte) {
            (Some(open), _) if byte == open => quote = None,
            // A `\` ending the line continues it: removed, as the shell does.
            (_, b'\\')
                if quote != Some(b'\'') && matches!(bytes.get(index + 1), Some(b'\n' | b'\r')) =>
            {
                index += if bytes.get(index + 1) == Some(&b'\r') {
                    2
                } else {
                    1
                };
            }
            (Some(b'"'), b'\\') if index + 1 < bytes.len() => {
                index += 1;
                let current = word.get_or_insert_with(Word::empty);
                current.push(bytes[index], start + index);
            }
            (Some(_), _) => word
                .get_or_insert_with(Word::empty)
                .push(byte, start + index),
            (None, b'"' | b'\'') => {
                quote = Some(byte);
                word.get_or_insert_with(Word::empty);
            }
            (None, b' ' | b'\t') => {
                if let Some(done) = word.take() {
                    push_word(&mut commands, done);
                }
            }
            (None, b'&' | b'|' | b';' | b'(' | b')') => {
                if let Some(done) = word.take() {
                    push_word(&mut commands, done);
                }
                commands.push(Vec::new());
            }
            (None, b'\\') if index + 1 < bytes.len() => {
                index += 1;
                word.get_or_insert_with(Word::empty)
                    .push(bytes[index], start + index);
            }
            (None, _) => word
                .get_or_insert_with(Word::empty)
                .push(byte, start + index),
        }
        index += 1;
    }
    if let Some(done) = word.take() {
        push_word(&mut commands, done);
    }
    commands.retain(|command| !command.is_empty());
    commands
}

fn push_word(commands: &mut [Vec<Word>], word: Word) {
    if let Some(command) = commands.last_mut() {
        command.push(word);
    }
}

impl Word {
    fn empty() -> Self {
        Self {
            bytes: Vec::new(),
            offsets: Vec::new(),
        }
    }

    fn push(&mut self, byte: u8, offset: usize) {
        self.bytes.push(byte);
        self.offsets.push(offset);
    }

    /// The text with quotes removed. Quotes and backslashes are ASCII, so removing them keeps the
    /// bytes UTF-8 and the text's byte offsets those of `bytes`.
    fn text(&self) -> &str {
        std::str::from_utf8(&self.bytes).unwrap_or_default()
    }

    /// The source range of `range` of the word's text.
    fn source(&self, range: Range<usize>, ranges: &mut Vec<Range<usize>>) {
        for index in range {
            if let Some(&offset) = self.offsets.get(index) {
                ranges.push(offset..offset + 1);
            }
        }
    }
}

/// Wrappers whose arguments are another command (`sudo mysql …`, `RUN mysql …`).
const PREFIXES: &[&str] = &[
    "RUN", "sudo", "exec", "env", "nohup", "time", "command", "xargs",
];

fn command_arguments(line: &str, start: usize, ranges: &mut Vec<Range<usize>>) {
    if line.len() < 4 || !line.contains('-') && !line.contains("chpasswd") {
        return;
    }
    let commands = commands(line, start);
    let feeds_chpasswd = line.contains("chpasswd");
    for words in &commands {
        let program_index = words.iter().position(|word| {
            let assignment = word.text().contains('=') && !word.text().starts_with('-');
            !PREFIXES.contains(&word.text()) && !assignment
        });
        let Some(program_index) = program_index else {
            continue;
        };
        let program = words[program_index]
            .text()
            .rsplit('/')
            .next()
            .unwrap_or_default();
        let args: Vec<&str> = words[program_index + 1..].iter().map(Word::text).collect();
        for found in secret_arguments(program, &args) {
            words[program_index + 1 + found.word].source(found.value, ranges);
        }
        if feeds_chpasswd && matches!(program, "echo" | "printf") {
            for word in &words[program_index + 1..] {
                for password in chpasswd_passwords(word.text()) {
                    word.source(password, ranges);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The text masked, and whether each planted value is gone.
    fn hides(text: &str, secrets: &[&str]) {
        let masked = mask(text);
        assert_eq!(masked.len(), text.len(), "{masked}");
        for secret in secrets {
            assert!(!masked.contains(secret), "{secret} shown in {masked}");
        }
    }

    #[test]
    fn masks_secret_assignments_in_every_syntax() {
        assert_eq!(
            mask("ENV DB_PASSWORD=hunter2hunter2"),
            "ENV DB_PASSWORD=**************"
        );
        assert_eq!(
            mask("      POSTGRES_PASSWORD: \"s3cr3t\""),
            "      POSTGRES_PASSWORD: \"******\""
        );
        assert_eq!(mask("ARG API_KEY='abc def'"), "ARG API_KEY='*******'");
        assert_eq!(
            mask("ENV GITHUB_TOKEN some value\nUSER app"),
            "ENV GITHUB_TOKEN **********\nUSER app"
        );
        assert_eq!(
            mask(r#"{"Env": ["DB_PASSWORD=x1", "A=b"]}"#),
            r#"{"Env": ["DB_PASSWORD=**", "A=b"]}"#
        );
        hides(
            "ENV DB_PASS=v1 ROOTPASS=v2 PGPASS=v3 SESSION_KEY=v4 JWT_KEY=v5",
            &["v1", "v2", "v3", "v4", "v5"],
        );
        hides(r#"ENV DB_PASSWORD="x\"escaped1" B=c"#, &["escaped1"]);
        hides("ARG API_TOKEN=${X:-default1}", &["default1"]);
        hides(
            r#"    environment: {"DB_PASSWORD": "flow1", API_TOKEN: flow2}"#,
            &["flow1", "flow2"],
        );
        hides("- name: DB_PASSWORD\n  value: k8svalue1\n", &["k8svalue1"]);
        hides(
            r#"env: [{name: API_TOKEN, value: "k8svalue2"}]"#,
            &["k8svalue2"],
        );
        hides(
            "PASSWORD: two words here # comment",
            &["two", "words", "here"],
        );
        hides(
            r#"RUN curl -H "PRIVATE-TOKEN: quotedword1" https://example.com"#,
            &["quotedword1"],
        );
        // A value on the line after its option, joined by a continuation.
        hides(
            "RUN apt-get update && \\\n    sshpass -p \\\n      contpass1 ssh host\nUSER app",
            &["contpass1"],
        );
        hides(
            "docker login -u ci --password \\\r\n  contpass2 registry.example\r\n",
            &["contpass2"],
        );
    }

    #[test]
    fn masks_tokens_whatever_their_name() {
        hides(
            "RUN curl -H 'x: ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8' https://u:pa55word@example.invalid/x",
            &["A1b2C3", "pa55word"],
        );
        hides("X=AIzaSyCkfPOPZXDKNn8hhgu3JrA62wIgC93d44k", &["SyCkfPOP"]);
        hides("X=hf_aBcDeFgHiJkLmNoPqRsTuVwXyZ012345678", &["aBcDeFgHi"]);
        hides("X=dckr_pat_aBcDeFgHiJkLmNoPqRsTuVw", &["aBcDeFgHi"]);
        hides(
            "X=https://hooks.slack.com/services/TABCDEFGH/BABCDEFGH/aBcDeFgHiJkLmNoPqRsTuVwX",
            &["aBcDeFgHi"],
        );
        hides(
            "-----BEGIN RSA PRIVATE KEY-----\nMIIEbody1\nbody2\n-----END RSA PRIVATE KEY-----\n",
            &["MIIEbody1", "body2"],
        );
    }

    #[test]
    fn masks_arguments_the_rules_flag() {
        hides("RUN mysql -uroot -pArg1pw < x.sql", &["Arg1pw"]);
        hides("RUN curl -u admin:Arg2pw https://x", &["Arg2pw"]);
        hides("RUN docker login -u ci -p Arg3pw reg && true", &["Arg3pw"]);
        hides("RUN sshpass -p 'Arg4pw' ssh host", &["Arg4pw"]);
        hides("RUN echo 'root:Arg5pw' | chpasswd", &["Arg5pw"]);
        hides("RUN useradd -p Arg6pw bob", &["Arg6pw"]);
        hides("RUN ./configure --password=Arg7pw", &["Arg7pw"]);
    }

    #[test]
    fn masks_a_value_written_below_its_name() {
        assert_eq!(
            mask("ENV GITHUB_TOKEN=\nabcdef123456\nUSER app\n"),
            "ENV GITHUB_TOKEN=\n************\nUSER app\n"
        );
        assert_eq!(
            mask("ENV GITHUB_TOKEN=\nUSER app\n"),
            "ENV GITHUB_TOKEN=\nUSER app\n"
        );
    }

    #[test]
    fn leaves_references_and_innocent_lines_alone() {
        for line in [
            "ENV DB_PASSWORD_FILE=$SECRETS/db",
            "    secrets: [db_password, api_token]",
            "RUN curl -H \"PRIVATE-TOKEN: $DEPLOY_TOKEN\" https://gitlab.example.com/api -o /tmp/x",
            "  db: {image: postgres, secrets: [postgres_password]}",
            "RUN echo ${API_TOKEN}",
            "ARG API_TOKEN=${API_TOKEN}",
            "USER root",
            "FROM python:3.12-slim AS build",
            "ENV PATH=/usr/local/bin:$PATH",
            "LABEL author=someone",
            "RUN printf 'https://driftwood:%s@example.com' \"$TOKEN\"",
            "RUN git clone https://${GITHUB_TOKEN}:x-oauth-basic@github.com/o/r",
            "ports: [\"8080:80\"]",
            "RUN ssh -p 2222 host",
            "image: registry.example.com:5000/app:1.2",
            "RUN echo 'app ALL=(ALL) NOPASSWD: /usr/bin/apt-get' > /etc/sudoers.d/app",
        ] {
            assert_eq!(mask(line), line);
        }
    }

    #[test]
    fn many_unterminated_private_keys_are_scanned_once() {
        let text = "-----BEGIN PRIVATE KEY-----\nbody\n".repeat(20_000);
        let masked = mask(&text);
        assert_eq!(masked.len(), text.len());
        assert!(!masked.contains("body"));
    }

    #[test]
    fn keeps_offsets_with_multibyte_values() {
        let line = "ENV TOKEN=é1\nUSER app";
        let masked = mask(line);
        assert_eq!(masked.len(), line.len());
        assert!(masked.ends_with("\nUSER app"));
        assert!(!masked.contains('é'));
    }
}
