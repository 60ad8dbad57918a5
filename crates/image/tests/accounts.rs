//! The image's user, resolved as the runtime resolves it: through `/etc/passwd` read as
//! `moby/sys/user` reads it, reached through symlinks, hard links and a symlinked `/etc` inside the
//! image (never outside it), in every archive layout and compression. Each case was checked against
//! `docker run --user …` on Docker 20.10 where it says so.

mod support;

use leastpriv_image::Options;
use support::{audit_bytes, docker_save, errors, findings, gzip, tar, zstd, Entry, Image};

const ROOT_BY_PASSWD: &str =
    "LP201 container runs as root (`app` resolves to uid 0 through the image's /etc/passwd)";

/// `app` is uid 0 in this passwd.
const APP_IS_ROOT: &[u8] = b"root:x:0:0:root:/root:/bin/sh\napp:x:0:0::/app:/bin/sh\n";
const APP_IS_NOT_ROOT: &[u8] = b"root:x:0:0:root:/root:/bin/sh\napp:x:10001:10001::/app:/bin/sh\n";

fn image_of(user: &'static str, layers: Vec<Vec<u8>>) -> Image<'static> {
    Image {
        tag: "accounts:1",
        user,
        env: &[],
        exposed: &[],
        history: &["ADD base", "RUN two", "RUN three"][..layers.len()],
        layers,
    }
}

/// The root-user findings of `layers` with user `app`, read as a plain archive, a `.tar.gz` and a
/// `.tar.zst` (a layer reached through a link is then read again by decompressing the stream
/// again): the three must agree.
fn root_findings(layers: Vec<Vec<u8>>) -> (Vec<String>, Vec<String>) {
    let archive = docker_save(&[image_of("app", layers)]);
    let mut outcomes = Vec::new();
    for (name, bytes) in [
        ("image.tar", archive.clone()),
        ("image.tar.gz", gzip(&archive)),
        ("image.tar.zst", zstd(&archive)),
    ] {
        let (db, audited) = audit_bytes(name, &bytes, &Options::default());
        // `CODE message`, without the position (history lines vary per case).
        let found: Vec<String> = findings(&db, &audited)
            .into_iter()
            .filter(|line| line.starts_with("LP201"))
            .map(|line| {
                let (code, rest) = line.split_once(' ').unwrap();
                format!("{code} {}", rest.split_once(' ').unwrap().1)
            })
            .collect();
        outcomes.push((found, errors(&audited)));
    }
    assert_eq!(outcomes[0], outcomes[1], "plain and gzip agree");
    assert_eq!(outcomes[0], outcomes[2], "plain and zstd agree");
    outcomes.remove(0)
}

#[test]
fn passwd_through_a_symlink_a_hard_link_or_a_symlinked_etc_is_followed() {
    // Issue 9: user `app` with uid 0 in a passwd reached through a link passed.
    let cases: Vec<(&str, Vec<Vec<u8>>)> = vec![
        (
            "absolute symlink",
            vec![tar(&[
                Entry::Dir("etc/", 0o755),
                Entry::File("data/pw", 0o644, APP_IS_ROOT),
                Entry::Symlink("etc/passwd", "/data/pw"),
            ])],
        ),
        (
            "relative symlink climbing above the root (clamped there)",
            vec![tar(&[
                Entry::File("data/pw", 0o644, APP_IS_ROOT),
                Entry::Symlink("etc/passwd", "../../../../../data/pw"),
            ])],
        ),
        (
            "hard link",
            vec![tar(&[
                Entry::File("data/pw", 0o644, APP_IS_ROOT),
                Entry::HardLink("etc/passwd", "data/pw", 0o644),
            ])],
        ),
        (
            "symlinked /etc",
            vec![tar(&[
                Entry::File("private/etc/passwd", 0o644, APP_IS_ROOT),
                Entry::Symlink("etc", "private/etc"),
            ])],
        ),
        (
            "a chain over three layers, the target in the lowest",
            vec![
                tar(&[Entry::File("srv/pw", 0o644, APP_IS_ROOT)]),
                tar(&[Entry::Symlink("lib/pw", "../srv/pw")]),
                tar(&[Entry::Symlink("etc/passwd", "/lib/pw")]),
            ],
        ),
        (
            "a symlink to a hard link",
            vec![tar(&[
                Entry::File("a/pw", 0o644, APP_IS_ROOT),
                Entry::HardLink("b/pw", "a/pw", 0o644),
                Entry::Symlink("etc/passwd", "/b/pw"),
            ])],
        ),
        (
            "a later layer's passwd replaced by a symlink",
            vec![
                tar(&[
                    Entry::File("etc/passwd", 0o644, APP_IS_NOT_ROOT),
                    Entry::File("data/pw", 0o644, APP_IS_ROOT),
                ]),
                tar(&[Entry::Symlink("etc/passwd", "/data/pw")]),
            ],
        ),
    ];
    for (what, layers) in cases {
        let (found, errors) = root_findings(layers);
        assert_eq!(errors, Vec::<String>::new(), "{what}");
        assert_eq!(found, [ROOT_BY_PASSWD], "{what}");
    }
}

#[test]
fn links_that_lead_away_from_root_are_followed_too() {
    // The symlink's own target decides: the same shapes, leading to a passwd where app is not root.
    let cases: Vec<(&str, Vec<Vec<u8>>)> = vec![
        (
            "symlink over a root passwd",
            vec![tar(&[
                Entry::File("etc/passwd.orig", 0o644, APP_IS_ROOT),
                Entry::File("data/pw", 0o644, APP_IS_NOT_ROOT),
                Entry::Symlink("etc/passwd", "/data/pw"),
            ])],
        ),
        (
            "the symlink's target deleted by a later layer",
            vec![
                tar(&[
                    Entry::File("data/pw", 0o644, APP_IS_ROOT),
                    Entry::Symlink("etc/passwd", "/data/pw"),
                ]),
                tar(&[Entry::File("data/.wh.pw", 0o644, b"")]),
            ],
        ),
    ];
    for (what, layers) in cases {
        let (found, errors) = root_findings(layers);
        assert_eq!(errors, Vec::<String>::new(), "{what}");
        assert_eq!(found, Vec::<String>::new(), "{what}");
    }
}

#[test]
fn a_link_loop_is_an_error_not_a_pass() {
    let (found, errors) = root_findings(vec![tar(&[
        Entry::Symlink("etc/passwd", "/etc/a"),
        Entry::Symlink("etc/a", "/etc/passwd"),
    ])]);
    assert_eq!(found, Vec::<String>::new());
    assert_eq!(
        errors,
        [
            "image accounts:1: `/etc/passwd` cannot be resolved as the runtime resolves it: `/etc/passwd` takes more than 255 steps to resolve (a link loop?); Docker refuses to start the container",
            "image accounts:1: whether user `app` is root cannot be told: the image's /etc/passwd cannot be read",
        ]
    );
}

#[test]
fn the_engine_stream_cannot_be_read_twice_and_says_so() {
    let archive = docker_save(&[image_of(
        "app",
        vec![tar(&[
            Entry::File("data/pw", 0o644, APP_IS_ROOT),
            Entry::Symlink("etc/passwd", "/data/pw"),
        ])],
    )]);
    let db = leastpriv_source::SourceDb::new();
    let audited = leastpriv_image::audit_stream(
        &db,
        std::io::Cursor::new(archive),
        "engine:image",
        &Options::default(),
    );
    let errors = errors(&audited);
    assert!(
        errors
            .iter()
            .any(|error| error.contains("cannot be read twice")),
        "{errors:#?}"
    );
    assert!(
        errors
            .iter()
            .any(|error| error.contains("whether user `app` is root cannot be told")),
        "{errors:#?}"
    );
}

#[test]
fn passwd_is_read_as_the_runtime_reads_it() {
    // Each checked with `docker run --user NAME … id -u` (Docker 20.10, runc 1.1).
    let mut padded = b"root:x:0:0::/root:/bin/sh\n".to_vec();
    for index in 0..3000 {
        padded.extend_from_slice(
            format!("user{index}:x:{}:100::/:/bin/false\n", 2000 + index).as_bytes(),
        );
    }
    padded.extend_from_slice(b"app:x:0:0::/:/bin/sh\n");
    assert!(padded.len() > 64 << 10, "past what a content sniff reads");
    let cases: Vec<(&str, Vec<u8>, bool)> = vec![
        (
            "the first entry of a name wins",
            b"app:x:0:0::/:/bin/sh\napp:x:10001:1::/:/bin/sh\n".to_vec(),
            true,
        ),
        (
            "a later duplicate does not count",
            b"app:x:10001:1::/:/bin/sh\napp:x:0:0::/:/bin/sh\n".to_vec(),
            false,
        ),
        (
            "an empty uid field is 0",
            b"app:x::0::/:/bin/sh\n".to_vec(),
            true,
        ),
        (
            "a non-numeric uid field is 0",
            b"app:x:abc:0::/:/bin/sh\n".to_vec(),
            true,
        ),
        (
            "a line with only the name is uid 0",
            b"root:x:0:0::/:/bin/sh\napp\n".to_vec(),
            true,
        ),
        ("a signed uid", b"app:x:+0:0::/:/bin/sh\n".to_vec(), true),
        (
            "a uid truncated to 32 bits",
            b"app:x:4294967296:0::/:/bin/sh\n".to_vec(),
            true,
        ),
        (
            "4294967297 truncates to 1",
            b"app:x:4294967297:0::/:/bin/sh\n".to_vec(),
            false,
        ),
        ("past the first 64 KiB", padded, true),
    ];
    for (what, passwd, root) in cases {
        let (found, errors) =
            root_findings(vec![tar(&[Entry::File("etc/passwd", 0o644, &passwd)])]);
        assert_eq!(errors, Vec::<String>::new(), "{what}");
        assert_eq!(!found.is_empty(), root, "{what}: {found:?}");
    }
}

#[test]
fn user_specs_are_read_as_the_runtime_reads_them() {
    // Issue 9: `USER +0` runs as root (checked on Docker: uid 0) and was only an info finding.
    let layers = || vec![tar(&[Entry::File("etc/passwd", 0o644, APP_IS_NOT_ROOT)])];
    for (user, root) in [
        ("+0", true),
        ("-0", true),
        ("00", true),
        ("0:0:5", true),
        (":10001", true),
        ("root:x", true),
        ("+10001", false),
        ("app", false),
        ("10001", false),
    ] {
        let archive = docker_save(&[image_of(user, layers())]);
        let (db, audited) = audit_bytes("spec.tar", &archive, &Options::default());
        let found = findings(&db, &audited);
        let lp201 = found.iter().any(|line| line.starts_with("LP201"));
        assert_eq!(lp201, root, "USER {user}: {found:#?}");
        assert!(
            !found.iter().any(|line| line.starts_with("LP207")),
            "never only an info finding: {found:#?}"
        );
    }
    // A number matching a passwd uid is taken as that entry, without Docker's range check, and
    // truncated: uid 0.
    let archive = docker_save(&[image_of(
        "4294967296",
        vec![tar(&[Entry::File(
            "etc/passwd",
            0o644,
            b"wrap:x:4294967296:0::/:/bin/sh\n",
        )])],
    )]);
    let (db, audited) = audit_bytes("wrap.tar", &archive, &Options::default());
    assert!(findings(&db, &audited)
        .iter()
        .any(|line| line.starts_with("LP201")));
}

#[test]
fn sudoers_reached_through_a_symlinked_etc_is_read() {
    let layers = vec![tar(&[
        Entry::File("private/etc/sudoers", 0o440, b"root ALL=(ALL) ALL\n"),
        Entry::File(
            "private/etc/sudoers.d/app",
            0o440,
            b"app ALL=(ALL) NOPASSWD: ALL\n",
        ),
        Entry::File("private/etc/passwd", 0o644, APP_IS_NOT_ROOT),
        Entry::Symlink("etc", "/private/etc"),
    ])];
    let archive = docker_save(&[image_of("app", layers)]);
    for (name, bytes) in [
        ("sudo.tar", archive.clone()),
        ("sudo.tar.zst", zstd(&archive)),
    ] {
        let (db, audited) = audit_bytes(name, &bytes, &Options::default());
        assert_eq!(errors(&audited), Vec::<String>::new(), "{name}");
        let found = findings(&db, &audited);
        assert!(
            found.iter().any(|line| line.starts_with("LP252")
                && line.contains("`/private/etc/sudoers.d/app` grants sudo without a password")),
            "{name}: {found:#?}"
        );
    }
}

#[test]
fn an_image_group_is_resolved_through_its_own_group_file() {
    let layers = || {
        vec![tar(&[
            Entry::File("etc/passwd", 0o644, APP_IS_NOT_ROOT),
            Entry::File(
                "data/group",
                0o644,
                b"root:x:0:\nwheel:x:0:app\nstaff:x:50:\n",
            ),
            Entry::Symlink("etc/group", "/data/group"),
        ])]
    };
    for (user, in_root_group) in [
        ("app:wheel", true),
        ("10001:+0", true),
        ("app:staff", false),
        ("app", false),
    ] {
        let archive = docker_save(&[image_of(user, layers())]);
        let (db, audited) = audit_bytes("group.tar", &archive, &Options::default());
        assert_eq!(errors(&audited), Vec::<String>::new());
        let found = findings(&db, &audited);
        assert_eq!(
            found.iter().any(|line| line.starts_with("LP223")),
            in_root_group,
            "USER {user}: {found:#?}"
        );
    }
}

#[test]
fn a_compressed_archive_is_decompressed_again_a_bounded_number_of_times() {
    // Six images, each leading /etc/passwd into a layer: the first four are followed, the rest
    // say why not (an attacker must not make leastpriv decompress an archive a thousand times).
    let link = tar(&[
        Entry::File("data/pw", 0o644, APP_IS_ROOT),
        Entry::Symlink("etc/passwd", "/data/pw"),
    ]);
    let users = ["app", "app:1", "app:2", "app:3", "app:4", "app:5"];
    let images: Vec<Image<'_>> = users
        .iter()
        .map(|user| Image {
            tag: user,
            ..image_of("app", vec![link.clone()])
        })
        .map(|image| Image {
            user: image.tag,
            tag: "accounts:1",
            ..image
        })
        .collect();
    let (db, audited) = audit_bytes(
        "six.tar.zst",
        &zstd(&docker_save(&images)),
        &Options::default(),
    );
    let roots = findings(&db, &audited)
        .iter()
        .filter(|line| line.starts_with("LP201"))
        .count();
    assert_eq!(roots, 4);
    let errors = errors(&audited);
    assert_eq!(
        errors
            .iter()
            .filter(|error| error.contains("already decompressed again 4 times"))
            .count(),
        2,
        "{errors:#?}"
    );
}
