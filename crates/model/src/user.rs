//! Users and groups, read as the container runtime reads them, and whether they are root.
//!
//! One place decides what a `user[:group]` spec means, for every front-end and rule: Docker's daemon
//! and runc resolve it with `moby/sys/user` (`GetExecUser`), and containerd (Kubernetes, nerdctl)
//! with `oci.WithUser`. What they do, checked on Docker 20.10 with runc 1.1 (`docker run --user …
//! id`) on a `FROM scratch` image with and without an `/etc/passwd`:
//!
//! - the spec is split at `:`; a third field and beyond are ignored (`0:0:5` is root);
//! - each side is a number when Go's `strconv.Atoi` reads it: an optional `+` or `-`, decimal
//!   digits, leading zeros allowed, within 64 bits (`+0`, `-0`, `00` are uid 0); anything else,
//!   including a number too large for 64 bits or one with spaces, is a name;
//! - an empty user is the default, uid 0 (`:1000` runs as root in group 1000);
//! - a name is the *first* `/etc/passwd` entry with that name; its uid field is read with the same
//!   `Atoi`, errors ignored, so an empty or non-numeric uid field is uid 0 and a line with only a
//!   name (`app`) is uid 0 too;
//! - a number matches a passwd entry with that uid first; otherwise it must lie in 0..=2147483647
//!   or Docker refuses to start the container;
//! - the uid handed to the kernel is the value truncated to 32 bits: a passwd entry with uid
//!   4294967296 runs as root, and containerd before 1.6.38/1.7.27/2.0.4 also truncated a numeric
//!   `USER 4294967296` to root (CVE-2024-40635).

use std::collections::HashMap;

/// A three-valued answer: rules must decide what an unknown means, never guess silently.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Certainty {
    /// Certainly so.
    Yes,
    /// Certainly not.
    No,
    /// Cannot be told from the sources in view (an `ARG` without a default, an unresolved name).
    Unknown,
}

/// A `user[:group]` as written, after variable expansion.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct User {
    /// The user name or numeric id.
    pub user: String,
    /// The group name or numeric id, if given.
    pub group: Option<String>,
    /// True when expansion left a variable unresolved (`USER $APP_USER` with no default).
    pub unresolved: bool,
}

/// One side of a user spec (the user or the group), read as the runtime reads it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Id<'a> {
    /// Empty: the runtime's default (uid 0; for a group, the user's primary group).
    Default,
    /// A number, as Go's `strconv.Atoi` reads it (it may be negative or beyond 32 bits).
    Number(i64),
    /// A name, looked up in the image's `/etc/passwd` or `/etc/group`.
    Name(&'a str),
}

impl<'a> Id<'a> {
    /// Reads one side of a spec: a number if `strconv.Atoi` accepts it, else a name.
    pub fn parse(text: &'a str) -> Self {
        if text.is_empty() {
            return Id::Default;
        }
        atoi(text).map_or(Id::Name(text), Id::Number)
    }

    /// The id the kernel is given for a number: the value truncated to 32 bits, as the runtimes'
    /// `uint32(…)` conversions do.
    pub fn truncated(number: i64) -> u32 {
        // Truncation is the point: it is what the runtime does.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let id = number as u32;
        id
    }

    /// Whether Docker accepts a number that matches no passwd entry (0..=2147483647).
    pub fn in_docker_range(number: i64) -> bool {
        (0..=i64::from(i32::MAX)).contains(&number)
    }

    /// Whether this side is uid/gid 0 by its spelling alone: empty, `root` or a number that is 0.
    /// A number that only truncates to 0 (`4294967296`) is not: see [`User::wraps_to_root`].
    fn is_root_spelling(self) -> bool {
        match self {
            Id::Default => true,
            Id::Number(number) => number == 0,
            Id::Name(name) => name == "root",
        }
    }
}

/// Go's `strconv.Atoi` on a 64-bit platform: an optional sign, then one or more ASCII digits, within
/// `i64`; `None` for anything else (the runtime then reads the text as a name).
pub fn atoi(text: &str) -> Option<i64> {
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // `i64::from_str` takes the same sign and digits, and fails on overflow as Atoi does.
    text.parse().ok()
}

impl User {
    /// Parses `user[:group]` as the runtime does: split at `:`, fields after the second ignored.
    pub fn parse(text: &str) -> Self {
        let text = text.trim();
        let mut fields = text.split(':');
        let user = fields.next().unwrap_or_default();
        let group = fields.next().map(str::to_owned);
        Self {
            user: user.to_owned(),
            group,
            unresolved: false,
        }
    }

    /// A numeric uid/gid pair, as Kubernetes `runAsUser`/`runAsGroup` give it.
    pub fn from_ids(uid: i64, gid: Option<i64>) -> Self {
        Self {
            user: uid.to_string(),
            group: gid.map(|gid| gid.to_string()),
            unresolved: false,
        }
    }

    /// The user side, as the runtime reads it.
    pub fn uid(&self) -> Id<'_> {
        Id::parse(self.user.trim())
    }

    /// The group side, as the runtime reads it; `None` when no group is given.
    pub fn gid(&self) -> Option<Id<'_>> {
        self.group.as_deref().map(|group| Id::parse(group.trim()))
    }

    /// Whether the user is root by its spelling: empty (the runtime default), `root`, or a number
    /// that is 0 however it is written (`0`, `00`, `+0`, `-0`, `0:0`), or one that truncates to 0
    /// in runtimes that convert to 32 bits without a range check. A name is only judged by an
    /// image's `/etc/passwd` (`ImageFacts::is_root`).
    pub fn is_root(&self) -> Certainty {
        if self.unresolved {
            return Certainty::Unknown;
        }
        if self.uid().is_root_spelling() || self.wraps_to_root() {
            Certainty::Yes
        } else {
            Certainty::No
        }
    }

    /// Whether the user is a non-zero number that becomes uid 0 when truncated to 32 bits
    /// (`4294967296`): Docker refuses it, containerd before 1.6.38/1.7.27/2.0.4 ran it as root
    /// (CVE-2024-40635).
    pub fn wraps_to_root(&self) -> bool {
        !self.unresolved
            && matches!(self.uid(), Id::Number(number) if number != 0 && Id::truncated(number) == 0)
    }

    /// Whether the group is root (`root`, or a number that is or truncates to 0); unknown when no
    /// group is given or it is empty (the user's primary group then decides).
    pub fn group_is_root(&self) -> Certainty {
        match self.gid() {
            None | Some(Id::Default) => Certainty::Unknown,
            Some(Id::Number(number)) if Id::truncated(number) == 0 => Certainty::Yes,
            Some(id) if id.is_root_spelling() => Certainty::Yes,
            Some(_) => Certainty::No,
        }
    }

    /// Whether the user is given as a number, as the runtime and the kubelet read it (`1000`,
    /// `+1000`): only those can be checked against `runAsNonRoot` without the image's passwd.
    pub fn is_numeric(&self) -> bool {
        matches!(self.uid(), Id::Number(_))
    }
}

/// Whether a group spec alone (Compose `group_add`, Kubernetes `runAsGroup`) is group 0 as the
/// runtime reads it: `root`, `0`, `00`, `+0`, or a number truncating to 0.
pub fn is_root_group(group: &str) -> bool {
    match Id::parse(group.trim()) {
        Id::Default => false,
        Id::Number(number) => Id::truncated(number) == 0,
        Id::Name(name) => name == "root",
    }
}

impl std::fmt::Display for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.group {
            Some(group) => write!(f, "{}:{group}", self.user),
            None => f.write_str(&self.user),
        }
    }
}

/// An image's `/etc/passwd` or `/etc/group`, read as `moby/sys/user` reads it: each line trimmed,
/// blank lines skipped, fields split at `:`, the id (third field) read with `Atoi` and its errors
/// ignored (so an empty, missing or non-numeric id is 0). No comments: `#x:…` is a user `#x`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AccountDb {
    /// The first id of every name (the runtime takes the first match).
    by_name: HashMap<String, i64>,
    /// Every id some entry has.
    ids: std::collections::HashSet<i64>,
    /// False when the file was longer than what was read: a name not found may be further on.
    complete: bool,
}

impl AccountDb {
    /// Reads a passwd or group file; `complete` is false when `text` is only its beginning.
    pub fn parse(text: &str, complete: bool) -> Self {
        let mut db = Self {
            complete,
            ..Self::default()
        };
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            let mut fields = line.split(':');
            let name = fields.next().unwrap_or_default();
            let id = fields.nth(1).map_or(0, lenient_atoi);
            db.ids.insert(id);
            db.by_name.entry(name.to_owned()).or_insert(id);
        }
        db
    }

    /// The id of the first entry named `name`; `Certainty::Unknown` when it is not in what was read
    /// but the file goes on, `No` when it is certainly absent.
    pub fn id_of(&self, name: &str) -> Result<i64, Certainty> {
        match self.by_name.get(name) {
            Some(id) => Ok(*id),
            None if self.complete => Err(Certainty::No),
            None => Err(Certainty::Unknown),
        }
    }

    /// Whether some entry has `id`.
    pub fn has_id(&self, id: i64) -> bool {
        self.ids.contains(&id)
    }

    /// How many names it holds.
    pub fn len(&self) -> usize {
        self.by_name.len()
    }

    /// Whether it holds no entry.
    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }
}

/// `Atoi` with errors ignored, as `moby/sys/user` parses id fields: a syntax error is 0, an
/// overflow is clamped to the nearest end of `i64`.
fn lenient_atoi(field: &str) -> i64 {
    match atoi(field) {
        Some(id) => id,
        None => {
            let digits = field.strip_prefix(['+', '-']).unwrap_or(field);
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                0
            } else if field.starts_with('-') {
                i64::MIN
            } else {
                i64::MAX
            }
        }
    }
}

/// What an image's account file is, for resolving names.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum AccountFile {
    /// The image has none (a name then stops the container from starting).
    #[default]
    Missing,
    /// Its entries.
    Read(AccountDb),
    /// It could not be read (a link loop, a layer that could not be read again); the reason is
    /// also reported as an input error.
    Unknown,
}

/// The uid a user spec runs as in an image with `passwd`, as the runtime resolves it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resolved {
    /// The container starts as this uid (already truncated to 32 bits).
    Uid(u32),
    /// The runtime refuses to start the container (a name not in passwd, a number out of range).
    Refused,
    /// Cannot be told here.
    Unknown,
}

impl User {
    /// The uid this spec runs as in an image whose `/etc/passwd` is `passwd`.
    pub fn resolve(&self, passwd: &AccountFile) -> Resolved {
        if self.unresolved {
            return Resolved::Unknown;
        }
        match (self.uid(), passwd) {
            (Id::Default, _) => Resolved::Uid(0),
            (Id::Number(number), AccountFile::Read(db)) if db.has_id(number) => {
                Resolved::Uid(Id::truncated(number))
            }
            (Id::Number(number), _) if Id::in_docker_range(number) => {
                Resolved::Uid(Id::truncated(number))
            }
            (Id::Number(_), AccountFile::Unknown) => Resolved::Unknown,
            (Id::Number(_), _) => Resolved::Refused,
            (Id::Name(name), AccountFile::Read(db)) => match db.id_of(name) {
                Ok(id) => Resolved::Uid(Id::truncated(id)),
                Err(Certainty::Unknown) => Resolved::Unknown,
                Err(_) => Resolved::Refused,
            },
            (Id::Name(_), AccountFile::Unknown) => Resolved::Unknown,
            (Id::Name(_), AccountFile::Missing) => Resolved::Refused,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_in_every_spelling_the_runtime_accepts() {
        for text in [
            "root",
            "0",
            "0:0",
            "root:root",
            "00",
            "",
            "0:1000",
            "+0",
            "-0",
            "+000",
            "0:0:5",
            ":1000",
            "root:x",
            "4294967296",
            "-4294967296",
        ] {
            assert_eq!(User::parse(text).is_root(), Certainty::Yes, "{text}");
        }
        for text in [
            "app",
            "1000",
            "1000:0",
            "nobody:nogroup",
            "rootless",
            "+1000",
            "4294967297",
            // Too large for 64 bits: a name, which no passwd has.
            "18446744073709551616",
            "0x0",
            "1_000",
        ] {
            assert_eq!(User::parse(text).is_root(), Certainty::No, "{text}");
        }
    }

    #[test]
    fn numbers_are_read_as_go_reads_them() {
        assert_eq!(Id::parse("+0"), Id::Number(0));
        assert_eq!(Id::parse("-0"), Id::Number(0));
        assert_eq!(Id::parse("007"), Id::Number(7));
        assert_eq!(Id::parse("+"), Id::Name("+"));
        assert_eq!(Id::parse("1e3"), Id::Name("1e3"));
        assert_eq!(
            Id::parse("9223372036854775808"),
            Id::Name("9223372036854775808")
        );
        assert_eq!(Id::parse(""), Id::Default);
        assert!(User::parse("+1000").is_numeric());
        assert!(!User::parse("app").is_numeric());
        assert!(User::parse("4294967296").wraps_to_root());
        assert!(!User::parse("0").wraps_to_root());
    }

    #[test]
    fn groups_in_every_spelling() {
        for text in [
            "1000:0",
            "1000:+0",
            "1000:00",
            "1000:root",
            "1000:4294967296",
        ] {
            assert_eq!(User::parse(text).group_is_root(), Certainty::Yes, "{text}");
        }
        for text in ["1000", "1000:", "1000:1000"] {
            assert_ne!(User::parse(text).group_is_root(), Certainty::Yes, "{text}");
        }
        assert!(is_root_group("+0") && is_root_group("root") && !is_root_group("10"));
    }

    #[test]
    fn unresolved_is_unknown() {
        let user = User {
            unresolved: true,
            ..User::parse("$APP")
        };
        assert_eq!(user.is_root(), Certainty::Unknown);
        assert_eq!(user.resolve(&AccountFile::Missing), Resolved::Unknown);
    }

    #[test]
    fn names_resolve_as_the_runtime_reads_passwd() {
        // Each line checked with `docker run --user NAME … id -u` on Docker 20.10 / runc 1.1.
        let passwd = AccountFile::Read(AccountDb::parse(
            "root:x:0:0:root:/root:/bin/sh\n\
             app:x:0:0::/:/bin/sh\n\
             app:x:1000:1000::/:/bin/sh\n\
             dup:x:1000:1000::/:/bin/sh\n\
             dup:x:0:0::/:/bin/sh\n\
             wrap:x:4294967296:0::/:/bin/sh\n\
             wrap1:x:4294967297:0::/:/bin/sh\n\
             empty:x::0::/:/bin/sh\n\
             alpha:x:abc:0::/:/bin/sh\n\
             plus:x:+0:0::/:/bin/sh\n\
             bare\n\
             \x20 spaced:x:1001:0::/:/bin/sh  \n",
            true,
        ));
        let uid = |spec: &str| User::parse(spec).resolve(&passwd);
        for (spec, expected) in [
            ("app", Resolved::Uid(0)),
            ("dup", Resolved::Uid(1000)),
            ("wrap", Resolved::Uid(0)),
            ("wrap1", Resolved::Uid(1)),
            ("empty", Resolved::Uid(0)),
            ("alpha", Resolved::Uid(0)),
            ("plus", Resolved::Uid(0)),
            ("bare", Resolved::Uid(0)),
            ("spaced", Resolved::Uid(1001)),
            ("nobody", Resolved::Refused),
            ("+0", Resolved::Uid(0)),
            ("2147483647", Resolved::Uid(2_147_483_647)),
            ("2147483648", Resolved::Refused),
            // A number matching a passwd uid is taken without the range check, then truncated.
            ("4294967296", Resolved::Uid(0)),
            (":1000", Resolved::Uid(0)),
        ] {
            assert_eq!(uid(spec), expected, "{spec}");
        }
        assert_eq!(
            User::parse("app").resolve(&AccountFile::Missing),
            Resolved::Refused
        );
        assert_eq!(
            User::parse("4294967296").resolve(&AccountFile::Missing),
            Resolved::Refused
        );
        assert_eq!(
            User::parse("app").resolve(&AccountFile::Unknown),
            Resolved::Unknown
        );
        let partial = AccountFile::Read(AccountDb::parse("root:x:0:0::/:/bin/sh\n", false));
        assert_eq!(User::parse("app").resolve(&partial), Resolved::Unknown);
    }
}
