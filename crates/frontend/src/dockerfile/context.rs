//! The build context a Dockerfile is audited with: which secret files (`.env`, `id_rsa`, `.npmrc`,
//! by [`secret_file_kind`], the name classifier the rules use) a `COPY . …` or a directory or glob
//! source would send, because the context's ignore file does not exclude them.
//!
//! The context is read only when the user named it: its directory, symlinks resolved, must be
//! inside the audited paths ([`ReadScope`]), as every other file an input names; outside them it
//! is not read, and nothing is said (as for an `env_file` on the deploying host). The ignore file
//! is read through [`leastpriv_source::read`] (a regular file, bounded). The listing never opens a
//! file, follows no symlink, takes only regular files, skips `.git` and the directories the ignore
//! file excludes (unless a `!` exception may take part of one back), and stops at [`MAX_DEPTH`]
//! and [`MAX_ENTRIES`]: a hostile tree (deep nesting, a symlink loop, a FIFO named `.env`, a
//! million files) cannot hang or exhaust it. A listing cut short is marked
//! ([`BuildContext::truncated`]).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use leastpriv_model::{Build, BuildContext, ContextSecret};
use leastpriv_secrets::{secret_file_kind, SECRET_DIRECTORY_KINDS};
use leastpriv_source::read::{self, ReadError, ReadScope};

use super::dockerignore::{clean, IgnoreRules, Matcher};

/// Directory levels listed below the context.
pub(crate) const MAX_DEPTH: usize = 32;
/// Directory entries looked at for one Dockerfile, over all its sources.
pub(crate) const MAX_ENTRIES: usize = 50_000;
/// The largest ignore file read (real ones are a few hundred bytes).
const MAX_IGNORE_BYTES: u64 = 1024 * 1024;
/// Secret files recorded per copy: enough to name them, bounded for a hostile tree.
const MAX_RECORDED: usize = 100;

/// Where a Dockerfile's build context is.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum ContextDir {
    /// The directory of the Dockerfile, when it is a file on disk (`docker build .` beside it).
    #[default]
    DockerfileDirectory,
    /// This directory (a Compose `build.context`).
    Directory(PathBuf),
    /// None: the Dockerfile came from standard input, or no context applies.
    Unknown,
}

/// Fills the build's context and each copy's [`ContextSecret`]s. `dockerfile` is the Dockerfile's
/// path, for its own ignore file (`<Dockerfile>.dockerignore`, which Docker prefers).
pub(crate) fn attach(build: &mut Build, context: &Path, dockerfile: &Path, scope: &ReadScope) {
    // Most builds copy from the context; one that only copies `--from` stages needs no listing.
    let copies_context = build
        .stages
        .iter()
        .flat_map(|stage| &stage.copies)
        .any(|copy| copy.from.is_none());
    if !copies_context {
        return;
    }
    let Some(mut lister) = Lister::open(context, dockerfile, scope) else {
        return;
    };
    for stage in &mut build.stages {
        for copy in &mut stage.copies {
            if copy.from.is_some() {
                continue;
            }
            // ADD of a URL or a Git repository does not read the context.
            let sources: Vec<String> = copy
                .sources
                .iter()
                .map(|source| source.value.clone())
                .collect();
            for (index, source) in sources.iter().enumerate() {
                if source.contains("://") || source.starts_with("git@") {
                    continue;
                }
                for path in lister.secrets_sent_by(source) {
                    if copy.context_secrets.len() == MAX_RECORDED {
                        break;
                    }
                    if !copy.context_secrets.iter().any(|known| known.path == path) {
                        copy.context_secrets.push(ContextSecret {
                            source: index,
                            path,
                        });
                    }
                }
            }
        }
    }
    build.context = Some(BuildContext {
        dir: context.display().to_string(),
        ignore_file: lister.ignore_file.clone(),
        truncated: lister.truncated,
    });
}

struct Lister {
    /// The context, resolved.
    root: PathBuf,
    rules: Option<IgnoreRules>,
    ignore_file: Option<String>,
    entries_left: usize,
    truncated: bool,
    /// Secret files found under each directory listed (relative, `.` for the root).
    listed: HashMap<String, Vec<String>>,
}

impl Lister {
    /// The context at `dir`, when it is a directory inside `scope` whose ignore file (if any) Docker
    /// would accept.
    fn open(dir: &Path, dockerfile: &Path, scope: &ReadScope) -> Option<Self> {
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        let root = scope.resolve(dir).ok()?;
        if !std::fs::metadata(&root).ok()?.is_dir() {
            return None;
        }
        // The Dockerfile's own ignore file, beside it, then the context's. The context's is read
        // from the resolved root: a regular file there is inside the scope, and only a symlink needs
        // the scope's check (resolving every path again cost a path walk per Dockerfile).
        let mut own = dockerfile.as_os_str().to_owned();
        own.push(".dockerignore");
        let candidates = [
            (PathBuf::from(own), true),
            (dir.join(".dockerignore"), false),
        ];
        let mut rules = None;
        let mut ignore_file = None;
        for (candidate, beside_dockerfile) in candidates {
            let at_root = root.join(".dockerignore");
            let direct = !beside_dockerfile
                && std::fs::symlink_metadata(&at_root).is_ok_and(|metadata| metadata.is_file());
            let read = if direct {
                read::read_regular(&at_root, MAX_IGNORE_BYTES).and_then(read::decode)
            } else if std::fs::symlink_metadata(&candidate).is_err() {
                Err(ReadError::NotFound)
            } else {
                read::read_text(&candidate, scope, MAX_IGNORE_BYTES)
            };
            match read {
                Ok(text) => {
                    // Docker refuses to build with an ignore file it cannot parse: nothing is sent.
                    rules = Some(IgnoreRules::parse(&text).ok()?);
                    // Shown as the input named it: `.dockerignore`, not `./.dockerignore`.
                    let shown = candidate.strip_prefix(".").unwrap_or(&candidate);
                    ignore_file = Some(shown.display().to_string());
                    break;
                }
                Err(ReadError::NotFound) => continue,
                // Unreadable (a FIFO, too large, binary, outside the audited paths): what it
                // excludes is unknown, so nothing is claimed about the context.
                Err(_) => return None,
            }
        }
        Some(Self {
            root,
            rules,
            ignore_file,
            entries_left: MAX_ENTRIES,
            truncated: false,
            listed: HashMap::new(),
        })
    }

    fn excluded(&self, path: &str) -> bool {
        self.rules
            .as_ref()
            .is_some_and(|rules| rules.excludes(path))
    }

    /// The secret files a `COPY` source sends: every one under a directory it names, or matched
    /// (itself or a parent directory) by a glob. A source that names a file is judged by its name
    /// elsewhere, and one outside the context (`../x`) sends nothing.
    fn secrets_sent_by(&mut self, source: &str) -> Vec<String> {
        let source = clean(source.trim_start_matches('/'));
        if source == ".." || source.starts_with("../") {
            return Vec::new();
        }
        let is_glob = source.contains(['*', '?', '[', '\\']);
        if !is_glob {
            let path = if source == "." {
                self.root.clone()
            } else {
                self.root.join(&source)
            };
            // A symlink is not followed: Docker copies the link, not a tree.
            let is_dir = std::fs::symlink_metadata(&path).is_ok_and(|metadata| metadata.is_dir());
            return if is_dir {
                self.list(&source).to_vec()
            } else {
                Vec::new()
            };
        }
        let Ok(matcher) = Matcher::compile(&source) else {
            return Vec::new();
        };
        // The directory above the first component with a wildcard.
        let literal: Vec<&str> = source
            .split('/')
            .take_while(|part| !part.contains(['*', '?', '[', '\\']))
            .collect();
        let base = if literal.is_empty() {
            ".".to_owned()
        } else {
            literal.join("/")
        };
        let is_dir = std::fs::symlink_metadata(self.root.join(&base))
            .is_ok_and(|metadata| metadata.is_dir());
        if !is_dir {
            return Vec::new();
        }
        self.list(&base)
            .iter()
            .filter(|path| {
                matcher.matches(path)
                    || path
                        .match_indices('/')
                        .any(|(at, _)| matcher.matches(&path[..at]))
            })
            .cloned()
            .collect()
    }

    /// The secret files under `dir` (relative to the root, `.` for the root) that the ignore file
    /// does not exclude, sorted; listed once.
    fn list(&mut self, dir: &str) -> &[String] {
        if !self.listed.contains_key(dir) {
            let found = self.walk(dir);
            self.listed.insert(dir.to_owned(), found);
        }
        &self.listed[dir]
    }

    fn walk(&mut self, start: &str) -> Vec<String> {
        let mut found = Vec::new();
        let prefix = |relative: &str, name: &str| {
            if relative == "." {
                name.to_owned()
            } else {
                format!("{relative}/{name}")
            }
        };
        let start_depth = if start == "." {
            0
        } else {
            start.split('/').count()
        };
        let mut pending = vec![(start.to_owned(), start_depth)];
        while let Some((relative, depth)) = pending.pop() {
            let path = if relative == "." {
                self.root.clone()
            } else {
                self.root.join(&relative)
            };
            let Ok(entries) = std::fs::read_dir(&path) else {
                continue;
            };
            for entry in entries {
                if self.entries_left == 0 {
                    self.truncated = true;
                    found.sort();
                    return found;
                }
                self.entries_left -= 1;
                let Ok(entry) = entry else {
                    continue;
                };
                // Not followed: a symlink's own type.
                let Ok(kind) = entry.file_type() else {
                    continue;
                };
                // A name that is not UTF-8 names no secret file the classifier knows.
                let Ok(name) = entry.file_name().into_string() else {
                    continue;
                };
                let child = prefix(&relative, &name);
                if kind.is_dir() {
                    if name == ".git" {
                        continue;
                    }
                    let pruned = self.excluded(&child)
                        && !self.rules.as_ref().is_some_and(IgnoreRules::has_exceptions);
                    if pruned {
                        continue;
                    }
                    if depth + 1 > MAX_DEPTH {
                        self.truncated = true;
                        continue;
                    }
                    pending.push((child, depth + 1));
                } else if kind.is_file() {
                    let is_secret = secret_file_kind(&child)
                        .is_some_and(|kind| !SECRET_DIRECTORY_KINDS.contains(&kind));
                    if is_secret && !self.excluded(&child) {
                        found.push(child);
                    }
                }
            }
        }
        found.sort();
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(root: &Path, path: &str, text: &str) {
        let path = root.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    fn sent(root: &Path, sources: &[&str]) -> Vec<String> {
        let scope = ReadScope::within([root.to_path_buf()]);
        let mut lister = Lister::open(root, &root.join("Dockerfile"), &scope).expect("context");
        let mut found: Vec<String> = sources
            .iter()
            .flat_map(|source| lister.secrets_sent_by(source))
            .collect();
        found.sort();
        found.dedup();
        found
    }

    #[test]
    fn lists_the_secret_files_the_ignore_file_does_not_exclude() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for path in [
            ".env",
            ".env.example",
            "app/main.py",
            "deploy/id_rsa",
            "deploy/id_rsa.pub",
            "secrets/db.key",
            "certs/ca.pem",
            ".git/config",
        ] {
            write(root, path, "x");
        }
        write(root, ".dockerignore", "secrets\n");
        assert_eq!(sent(root, &["."]), [".env", "deploy/id_rsa"]);
        assert_eq!(sent(root, &["./deploy/"]), ["deploy/id_rsa"]);
        assert_eq!(sent(root, &["/deploy"]), ["deploy/id_rsa"]);
        assert_eq!(sent(root, &["dep*"]), ["deploy/id_rsa"]);
        assert_eq!(sent(root, &["*"]), [".env", "deploy/id_rsa"]);
        // A file named by the source is judged by its name; a missing or outside path sends
        // nothing known.
        assert!(sent(root, &[".env", "app", "missing/", "../x", "$SRC"]).is_empty());
        write(root, "Dockerfile.dockerignore", ".env\ndeploy\n");
        // The Dockerfile's own ignore file wins, whole: the context's is not read.
        assert_eq!(sent(root, &["."]), ["secrets/db.key"]);
    }

    #[test]
    fn an_exception_brings_an_excluded_file_back() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(root, "config/.env", "x");
        write(root, "config/app.yaml", "x");
        write(root, ".dockerignore", "config\n!config/.env\n");
        assert_eq!(sent(root, &["."]), ["config/.env"]);
    }

    #[test]
    fn outside_the_scope_nothing_is_read() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "ctx/.env", "x");
        let other = tempfile::tempdir().unwrap();
        let scope = ReadScope::within([other.path().to_path_buf()]);
        let context = dir.path().join("ctx");
        assert!(Lister::open(&context, &context.join("Dockerfile"), &scope).is_none());
    }

    #[test]
    fn a_hostile_tree_is_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        // Deeper than the bound, a symlink loop and a FIFO named `.env`.
        let mut deep = root.to_path_buf();
        for _ in 0..MAX_DEPTH + 4 {
            deep.push("d");
        }
        std::fs::create_dir_all(&deep).unwrap();
        std::fs::write(deep.join(".env"), "x").unwrap();
        std::os::unix::fs::symlink(root, root.join("loop")).unwrap();
        let status = std::process::Command::new("mkfifo")
            .arg(root.join(".env"))
            .status()
            .unwrap();
        assert!(status.success());
        let scope = ReadScope::within([root.to_path_buf()]);
        let mut lister = Lister::open(root, &root.join("Dockerfile"), &scope).unwrap();
        assert!(lister.secrets_sent_by(".").is_empty());
        assert!(lister.truncated, "the depth bound was reached");
        assert!(lister.secrets_sent_by("loop").is_empty());
    }
}
