//! What the host shows of a local engine beyond `docker info`: its API socket file and its process.
//!
//! The caller reads the facts (a `stat`, `/proc/<pid>/status`); this module gives each a text in the
//! database, so a finding points at the value that causes it like any other.

use leastpriv_model::{Account, SocketFile, Span, Spanned};
use leastpriv_source::{FileId, Origin, SourceDb, TextRange};

/// The socket file at `path` with its permission bits and owners, as a one-line text named
/// `stat <path>` (`/var/run/docker.sock: socket, mode 0660, owner root (0), group docker (999)`).
pub fn socket_file(
    db: &SourceDb,
    path: &str,
    mode: u32,
    owner: Account,
    group: Account,
) -> SocketFile {
    let mode = mode & 0o7777;
    let mut text = format!("{path}: socket, mode ");
    let mode_range = append(&mut text, &format!("{mode:04o}"));
    text.push_str(", owner ");
    let owner_range = append(&mut text, &owner.to_string());
    text.push_str(", group ");
    let group_range = append(&mut text, &group.to_string());
    text.push('\n');
    let file = db.add_with_origin(format!("stat {path}"), text, Origin::Daemon);
    let span = |range| Span::new(file, range);
    SocketFile {
        path: path.to_owned(),
        mode: Spanned::new(mode, span(mode_range)),
        owner: Spanned::new(owner, span(owner_range)),
        group: Spanned::new(group, span(group_range)),
    }
}

fn append(text: &mut String, value: &str) -> TextRange {
    let start = text.len();
    text.push_str(value);
    TextRange::new(start, text.len())
}

/// The real user id on the `Uid:` line of a process's `/proc/<pid>/status`, spanned.
pub fn process_user(db: &SourceDb, status: FileId) -> Option<Spanned<u32>> {
    let source = db.get(status);
    let text = source.text();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        if let Some(ids) = line.strip_prefix("Uid:") {
            let start = offset + 4 + (ids.len() - ids.trim_start().len());
            let real = ids.split_whitespace().next()?;
            let uid = real.parse().ok()?;
            let range = TextRange::new(start, start + real.len());
            return Some(Spanned::new(uid, Span::new(status, range)));
        }
        offset += line.len();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn socket_facts_point_at_their_text() {
        let db = SourceDb::new();
        let socket = socket_file(
            &db,
            "/var/run/docker.sock",
            0o140_666,
            Account {
                id: 0,
                name: Some("root".into()),
            },
            Account {
                id: 999,
                name: None,
            },
        );
        assert_eq!(socket.mode.value, 0o666);
        assert_eq!(db.slice(socket.mode.span), "0666");
        assert_eq!(db.slice(socket.owner.span), "root (0)");
        assert_eq!(db.slice(socket.group.span), "999");
        assert_eq!(
            db.get(socket.mode.span.file).path(),
            "stat /var/run/docker.sock"
        );
    }

    #[test]
    fn reads_the_real_uid_of_a_process() {
        let db = SourceDb::new();
        let status = db.add(
            "/proc/1419/status",
            "Name:\tdockerd\nUmask:\t0022\nUid:\t1000\t1000\t1000\t1000\nGid:\t1000\n",
        );
        let uid = process_user(&db, status).expect("uid");
        assert_eq!(uid.value, 1000);
        assert_eq!(db.slice(uid.span), "1000");
        assert_eq!(db.get(status).line_column(uid.span.range.start).line, 3);
        let empty = db.add("/proc/1/status", "Name:\tx\nUid:\tx\n");
        assert_eq!(process_user(&db, empty), None);
    }
}
