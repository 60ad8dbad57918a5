//! Archives written by hand: every layout and compression, and hostile ones (paths that climb out,
//! duplicate entries, link tricks, huge headers, decompression bombs, truncation, malformed JSON).
//! Each must give the findings a real extraction would, or a located error, and never panic.

mod support;

use std::io::Read;

use leastpriv_image::{Limits, Options};
use support::{
    audit_bytes, docker_save, errors, findings, gzip, oci_layout, tar, write_dir, zstd, Entry,
    Image,
};

const SETUID_SHELL: &str =
    "`/bin/sh` is setuid (owner root:root, mode 4755), added by layer sha256:";

fn image(layers: Vec<Vec<u8>>) -> Image<'static> {
    Image {
        tag: "hostile:1",
        user: "10001",
        env: &[],
        exposed: &[],
        history: &[
            "/bin/sh -c #(nop) ADD file:base in /",
            "RUN layer 2",
            "RUN layer 3",
        ][..layers.len()],
        layers,
    }
}

fn setuid_layer() -> Vec<u8> {
    tar(&[
        Entry::Dir("bin/", 0o755),
        Entry::File("bin/sh", 0o4755, b"#!"),
    ])
}

fn audit(image: Image<'_>) -> (Vec<String>, Vec<String>) {
    let (db, audited) = audit_bytes("hostile.tar", &docker_save(&[image]), &Options::default());
    (findings(&db, &audited), errors(&audited))
}

#[test]
fn every_layout_and_compression_reads_the_same() {
    for (compress, name) in [
        (None, "plain"),
        (Some(gzip as fn(&[u8]) -> Vec<u8>), "gzip"),
        (Some(zstd as fn(&[u8]) -> Vec<u8>), "zstd"),
    ] {
        let layer = setuid_layer();
        let layer = compress.map_or(layer.clone(), |compress| compress(&layer));
        let layouts = [
            ("legacy", docker_save(&[image(vec![layer.clone()])])),
            (
                "oci",
                support::archive(&oci_layout(&[image(vec![layer.clone()])], false)),
            ),
            (
                "docker25",
                support::archive(&oci_layout(&[image(vec![layer.clone()])], true)),
            ),
        ];
        for (layout, bytes) in layouts {
            for (outer, file) in [
                ("tar", bytes.clone()),
                ("tar.gz", gzip(&bytes)),
                ("tar.zst", zstd(&bytes)),
            ] {
                let (db, audited) =
                    audit_bytes(&format!("image.{outer}"), &file, &Options::default());
                let what = format!("{name} layers, {layout} layout, .{outer}");
                assert_eq!(errors(&audited), Vec::<String>::new(), "{what}");
                let found = findings(&db, &audited);
                assert_eq!(found.len(), 1, "{what}: {found:?}");
                assert!(found[0].contains(SETUID_SHELL), "{what}: {found:?}");
            }
        }
        let dir = write_dir(&oci_layout(&[image(vec![layer])], false));
        let db = leastpriv_source::SourceDb::new();
        let audited = leastpriv_image::audit_path(&db, dir.path(), "dir", &Options::default());
        assert_eq!(errors(&audited), Vec::<String>::new());
        assert_eq!(
            findings(&db, &audited).len(),
            1,
            "{name} layers in a directory"
        );
    }
}

#[test]
fn whiteouts_and_opaque_dirs_hide_lower_files() {
    let bottom = tar(&[
        Entry::File("bin/sh", 0o4755, b"#!"),
        Entry::File("opt/app/.env", 0o600, b"TOKEN=1\n"),
        Entry::File("root/.git-credentials", 0o600, b"https://u:p@example.com\n"),
    ]);
    let middle = tar(&[
        Entry::File("bin/.wh.sh", 0o644, b""),
        Entry::Dir("opt/app/", 0o755),
        Entry::File("opt/app/.wh..wh..opq", 0o644, b""),
    ]);
    let (found, errors) = audit(image(vec![bottom, middle]));
    assert_eq!(errors, Vec::<String>::new());
    assert_eq!(found.len(), 2, "{found:#?}");
    assert!(
        found[0].contains("LP650") && found[0].contains("/root/.git-credentials"),
        "{found:#?}"
    );
    assert!(
        found[1].contains("LP651") && found[1].contains("/opt/app/.env"),
        "{found:#?}"
    );
}

#[test]
fn paths_that_climb_out_are_errors_and_absolute_paths_count_where_docker_puts_them() {
    let layer = tar(&[
        Entry::File("../../etc/evil", 0o4755, b"x"),
        Entry::File("/bin/sh", 0o4755, b"#!"),
        Entry::HardLink("bin/link", "../../../etc/shadow", 0o644),
    ]);
    let (found, errors) = audit(image(vec![layer]));
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(found[0].contains("`/bin/sh` is setuid"));
    assert_eq!(errors.len(), 3, "{errors:#?}");
    assert!(errors
        .iter()
        .any(|e| e.contains("entry `../../etc/evil` escapes the layer root")));
    assert!(errors
        .iter()
        .any(|e| e.contains("entry `/bin/sh` has an absolute path")));
    assert!(errors
        .iter()
        .any(|e| e.contains("hard link `bin/link` points outside")));
    assert!(
        errors
            .iter()
            .all(|e| e.starts_with("image hostile:1: layer sha256:")),
        "{errors:#?}"
    );
}

#[test]
fn the_last_duplicate_entry_wins_as_on_extraction() {
    let layer = tar(&[
        Entry::File("bin/sh", 0o4755, b"#!"),
        Entry::File("bin/sh", 0o755, b"#!"),
        Entry::File("bin/su2", 0o755, b"#!"),
        Entry::File("bin/su2", 0o4755, b"#!"),
    ]);
    let (found, _) = audit(image(vec![layer]));
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(found[0].contains("`/bin/su2` is setuid"), "{found:#?}");
}

#[test]
fn a_symlink_named_like_a_secret_is_not_a_secret() {
    let layer = tar(&[
        Entry::Symlink("app/.env", "/dev/null"),
        Entry::Symlink("root/.ssh/id_rsa", "/run/secrets/key"),
    ]);
    let (found, errors) = audit(image(vec![layer]));
    assert_eq!((found, errors), (Vec::new(), Vec::new()));
}

#[test]
fn a_huge_pax_header_is_refused() {
    let mut builder = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_ustar();
    header.set_entry_type(tar::EntryType::XHeader);
    let record = format!("{} path=x\n", 2 << 20);
    let data = vec![b'a'; 2 << 20];
    header.set_size((record.len() + data.len()) as u64);
    header.set_cksum();
    builder
        .append(&header, &[record.as_bytes(), &data].concat()[..])
        .unwrap();
    let layer = builder.into_inner().unwrap();
    let (_, errors) = audit(image(vec![gzip(&layer)]));
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert!(
        errors[0].contains("tar header data exceeds 1 MiB"),
        "{errors:#?}"
    );
}

#[test]
fn decompression_bombs_stop_at_the_caps() {
    let zeros = vec![0u8; 8 << 20];
    let layer = tar(&[Entry::File("zeros", 0o644, &zeros)]);
    let options = Options {
        limits: Limits {
            ratio_floor: 1 << 20,
            max_ratio: 100,
            ..Limits::default()
        },
        ..Options::default()
    };
    for bomb in [gzip(&layer), zstd(&layer)] {
        let (_, audited) = audit_bytes("bomb.tar", &docker_save(&[image(vec![bomb])]), &options);
        let errors = errors(&audited);
        assert_eq!(errors.len(), 1, "{errors:#?}");
        assert!(
            errors[0].contains("entry `zeros`: compression ratio exceeds 100:1"),
            "{errors:#?}"
        );
    }
    let options = Options {
        limits: Limits {
            max_layer_bytes: 1 << 20,
            ..Limits::default()
        },
        ..Options::default()
    };
    let (_, audited) = audit_bytes("big.tar", &docker_save(&[image(vec![layer])]), &options);
    assert!(errors(&audited)[0].contains("exceeds the 1 MiB limit per layer"));
}

#[test]
fn truncated_archives_are_located_errors() {
    let layer = tar(&[
        Entry::File("bin/sh", 0o4755, b"#!"),
        Entry::File("big", 0o644, &[7u8; 4096]),
    ]);
    let cut = layer[..1024 + 512 + 1000].to_vec();
    let (found, errors) = audit(image(vec![cut]));
    assert_eq!(
        found.len(),
        1,
        "the file before the cut is still judged: {found:#?}"
    );
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert!(
        errors[0].contains("entry `big`: archive is truncated (1000 of 4096 bytes)"),
        "{errors:#?}"
    );

    let gz = gzip(&setuid_layer());
    let (_, errors) = audit(image(vec![gz[..gz.len() / 2].to_vec()]));
    assert_eq!(errors.len(), 1, "{errors:#?}");

    // Wherever an archive is cut, nothing is lost silently: an error, or everything was there.
    let whole = docker_save(&[image(vec![setuid_layer()])]);
    let (db, audited) = audit_bytes("cut.tar", &whole, &Options::default());
    let complete = findings(&db, &audited);
    for cut in (0..whole.len()).step_by(97) {
        for (name, bytes) in [
            ("cut.tar", whole[..cut].to_vec()),
            ("cut.tar.gz", gzip(&whole[..cut])),
        ] {
            let (db, audited) = audit_bytes(name, &bytes, &Options::default());
            assert!(
                !audited.errors.is_empty() || findings(&db, &audited) == complete,
                "{name} cut at {cut} of {} lost findings silently",
                whole.len()
            );
        }
    }
}

#[test]
fn malformed_manifests_and_configs_are_errors() {
    let cases: Vec<(&str, support::Files, &str)> = vec![
        (
            "no manifest",
            vec![("x".into(), b"1".to_vec())],
            "neither `manifest.json` nor `index.json`",
        ),
        (
            "bad json",
            vec![("manifest.json".into(), b"[{".to_vec())],
            "`manifest.json` is malformed",
        ),
        (
            "escaping config",
            vec![(
                "manifest.json".into(),
                br#"[{"Config":"../../etc/passwd","Layers":[]}]"#.to_vec(),
            )],
            "names a config outside the archive",
        ),
        (
            "missing config",
            vec![(
                "manifest.json".into(),
                br#"[{"Config":"c.json","Layers":[]}]"#.to_vec(),
            )],
            "`c.json` is missing from the archive",
        ),
        (
            "config not an object",
            vec![
                (
                    "manifest.json".into(),
                    br#"[{"Config":"c.json","Layers":["l.tar"]}]"#.to_vec(),
                ),
                ("c.json".into(), b"[1,2]".to_vec()),
                ("l.tar".into(), setuid_layer()),
            ],
            "the image config is not a JSON object",
        ),
        (
            "missing layer",
            vec![
                (
                    "manifest.json".into(),
                    br#"[{"Config":"c.json","Layers":["l.tar"]}]"#.to_vec(),
                ),
                ("c.json".into(), b"{}".to_vec()),
            ],
            "(`l.tar`) is missing from the archive",
        ),
        (
            "bad oci digest",
            vec![(
                "index.json".into(),
                br#"{"manifests":[{"digest":"sha256:../x"}]}"#.to_vec(),
            )],
            "malformed digest",
        ),
        (
            "layer is not a tar",
            vec![
                (
                    "manifest.json".into(),
                    br#"[{"Config":"c.json","Layers":["l.tar"]}]"#.to_vec(),
                ),
                ("c.json".into(), b"{}".to_vec()),
                ("l.tar".into(), b"{\"not\": \"a layer\"}".to_vec()),
            ],
            "not a layer: neither a tar archive nor gzip- or zstd-compressed",
        ),
    ];
    for (what, files, expected) in cases {
        let (_, audited) = audit_bytes("bad.tar", &support::archive(&files), &Options::default());
        let errors = errors(&audited);
        assert!(
            errors.iter().any(|error| error.contains(expected)),
            "{what}: {errors:#?}"
        );
        assert!(
            audited.errors.iter().all(|error| error.path == "bad.tar"),
            "{what}"
        );
    }
}

#[test]
fn garbage_is_never_a_panic() {
    let whole = docker_save(&[image(vec![gzip(&setuid_layer())])]);
    let mut state = 0x2545_f491_4f6c_dd1du64;
    for round in 0..300 {
        let mut bytes = whole.clone();
        for _ in 0..(round % 8 + 1) {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let index = (state % bytes.len() as u64) as usize;
            bytes[index] = (state >> 32) as u8;
        }
        let _ = audit_bytes("fuzzed.tar", &bytes, &Options::default());
    }
}

#[test]
fn history_reveals_build_args_and_tokens_but_messages_never_do() {
    let image = Image {
        tag: "history:1",
        user: "10001",
        env: &["CURRENT=ghp_Zq3b7XkV9mW2pL5nR8tY4uI1oE6aS0dF2gH7"],
        exposed: &[],
        history: &[
            "RUN |2 NPM_TOKEN=npm_Zq3b7XkV9mW2pL5nR8tY4uI1oE6aS0dF2gH7 MODE=prod /bin/sh -c npm ci",
            "/bin/sh -c curl -H 'Authorization: token ghp_Aq3b7XkV9mW2pL5nR8tY4uI1oE6aS0dF2gH9' https://x",
            "/bin/sh -c #(nop)  ENV CURRENT=ghp_Zq3b7XkV9mW2pL5nR8tY4uI1oE6aS0dF2gH7",
        ],
        layers: vec![tar(&[]), tar(&[]), tar(&[])],
    };
    let (db, audited) = audit_bytes("history.tar", &docker_save(&[image]), &Options::default());
    let found: Vec<String> = findings(&db, &audited)
        .into_iter()
        .filter(|line| line.starts_with("LP652"))
        .collect();
    assert_eq!(
        found,
        [
            "LP652 12:29 build arg `NPM_TOKEN` is recorded with its value (<redacted, 40 chars>) in the image history",
            "LP652 15:22 the image history of layer sha256:5f70bf18a086 holds a GitHub token (<redacted, 40 chars>) in its command",
        ]
    );
    assert!(found.iter().all(|line| !line.contains("q3b7")));
}

#[test]
fn nested_indexes_are_followed_and_attestations_skipped() {
    let mut files = oci_layout(&[image(vec![setuid_layer()])], false);
    let index_at = files
        .iter()
        .position(|(path, _)| path == "index.json")
        .unwrap();
    let (_, top) = files.remove(index_at);
    let top: serde_json::Value = serde_json::from_slice(&top).unwrap();
    let manifest = top["manifests"][0].clone();
    // An attestation manifest beside the image, as BuildKit writes them.
    let statement = br#"{"_type":"https://in-toto.io/Statement/v0.1"}"#.to_vec();
    let statement_digest = support::sha256(&statement);
    let attestation = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": { "mediaType": "application/vnd.in-toto+json",
                    "digest": format!("sha256:{statement_digest}"), "size": statement.len() },
        "layers": [],
    }))
    .unwrap();
    let attestation_digest = support::sha256(&attestation);
    let platforms = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [manifest, {
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": format!("sha256:{attestation_digest}"), "size": attestation.len(),
        }],
    }))
    .unwrap();
    let platforms_digest = support::sha256(&platforms);
    files.push((format!("blobs/sha256/{statement_digest}"), statement));
    files.push((format!("blobs/sha256/{attestation_digest}"), attestation));
    files.push((
        format!("blobs/sha256/{platforms_digest}"),
        platforms.clone(),
    ));
    files.push((
        "index.json".to_owned(),
        serde_json::to_vec(&serde_json::json!({
            "schemaVersion": 2,
            "manifests": [{
                "mediaType": "application/vnd.oci.image.index.v1+json",
                "digest": format!("sha256:{platforms_digest}"), "size": platforms.len(),
                "annotations": { "org.opencontainers.image.ref.name": "multi:1" },
            }],
        }))
        .unwrap(),
    ));
    let (db, audited) = audit_bytes("multi.tar", &support::archive(&files), &Options::default());
    assert_eq!(errors(&audited), Vec::<String>::new());
    assert_eq!(
        audited.containers.len(),
        1,
        "the attestation is not an image"
    );
    assert_eq!(findings(&db, &audited).len(), 1);
}

#[test]
fn large_layers_of_a_stream_are_scanned_as_they_pass() {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let noise: Vec<u8> = (0..200_000)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect();
    let big = |extra: &str| {
        tar(&[
            Entry::File("bin/sh", 0o4755, b"#!"),
            Entry::File(extra, 0o644, &noise),
            Entry::File("root/.bash_history", 0o600, b"export TOKEN=x\n"),
        ])
    };
    let options = Options::default();
    let images = || {
        vec![image(vec![
            gzip(&big("noise1")),
            zstd(&big("noise2")),
            big("noise3"),
        ])]
    };
    for (layout, bytes) in [
        ("legacy", docker_save(&images())),
        ("docker25", support::archive(&oci_layout(&images(), true))),
    ] {
        for (name, file) in [
            ("image.tar.gz", gzip(&bytes)),
            ("image.tar.zst", zstd(&bytes)),
        ] {
            let (db, audited) = audit_bytes(name, &file, &options);
            assert_eq!(errors(&audited), Vec::<String>::new(), "{layout} {name}");
            let found = findings(&db, &audited);
            // Each layer replaces the one below, so the top layer's files are what is left.
            assert_eq!(found.len(), 2, "{layout} {name}: {found:#?}");
            assert!(found
                .iter()
                .any(|line| line.contains("`/bin/sh` is setuid")));
            assert!(found
                .iter()
                .any(|line| line.contains("/root/.bash_history")));
            // A cut inside the last layer is reported, not silently dropped.
            let cut = bytes.len() - noise.len() / 2;
            let (_, audited) = audit_bytes(name, &gzip(&bytes[..cut]), &options);
            assert!(
                errors(&audited)
                    .iter()
                    .any(|error| error.contains("truncated")),
                "{layout} {name}: {:#?}",
                errors(&audited)
            );
        }
    }
}

#[test]
fn config_env_and_ports_feed_the_shared_rules() {
    let image = Image {
        tag: "config:1",
        user: "10001",
        env: &["PATH=/usr/bin", "API_TOKEN=s3cr3t-v4lue-not-real"],
        exposed: &["80/tcp", "8080/tcp"],
        history: &["/bin/sh -c #(nop) ADD file:base in /"],
        layers: vec![tar(&[])],
    };
    let (db, audited) = audit_bytes("config.tar", &docker_save(&[image]), &Options::default());
    let found = findings(&db, &audited);
    let codes: Vec<&str> = found.iter().map(|line| &line[..5]).collect();
    assert_eq!(codes, ["LP206", "LP601"], "{found:#?}");
    assert!(found[0].contains("port 80 is below 1024"), "{found:#?}");
    assert!(
        found[1].contains("`API_TOKEN`") && !found[1].contains("s3cr3t"),
        "{found:#?}"
    );
}

/// A `docker save` archive of `files` in this order (the manifest wherever the caller puts it).
fn archive_of(files: Vec<(String, Vec<u8>)>) -> Vec<u8> {
    support::archive(&files)
}

/// The files of a legacy archive of `image`: layers, config, then `manifest.json`.
fn legacy_files(image: Image<'_>) -> Vec<(String, Vec<u8>)> {
    let config = image.config();
    let config_name = format!("{}.json", support::sha256(&config));
    let mut files = Vec::new();
    let mut layers = Vec::new();
    for layer in &image.layers {
        let path = format!("{}/layer.tar", support::sha256(layer));
        files.push((path.clone(), layer.clone()));
        layers.push(path);
    }
    files.push((config_name.clone(), config));
    files.push((
        "manifest.json".to_owned(),
        serde_json::to_vec(&serde_json::json!([
            { "Config": config_name, "RepoTags": [image.tag], "Layers": layers }
        ]))
        .unwrap(),
    ));
    files
}

#[test]
fn a_stream_of_many_small_blobs_needs_no_thread_of_its_own_and_keeps_its_manifest() {
    // Issue 9: once the buffer was full, each further blob got a thread never joined until the end
    // (50,000 one-byte blobs: "failed to spawn thread", abort), and a manifest after them was lost.
    // The blobs: junk that is neither JSON nor a layer, and empty blobs (which look like empty
    // layers and are scanned); the buffer is tiny, and the manifest comes last.
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    for index in 0..25_000 {
        files.push((format!("junk/{index:05}"), b"x".to_vec()));
        files.push((format!("empty/{index:05}"), Vec::new()));
    }
    files.extend(legacy_files(image(vec![setuid_layer()])));
    let options = Options {
        limits: Limits {
            max_buffered_total: 16 << 10,
            ..Limits::default()
        },
        ..Options::default()
    };
    let (db, audited) = audit_bytes("many.tar.zst", &zstd(&archive_of(files)), &options);
    assert_eq!(errors(&audited), Vec::<String>::new());
    let found = findings(&db, &audited);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(found[0].contains(SETUID_SHELL), "{found:#?}");
    assert_eq!(
        options.shared.buffered(),
        0,
        "what the archive kept in memory is given back"
    );
}

#[test]
fn json_past_the_run_budget_is_an_error_naming_the_budget_and_the_manifest_is_kept() {
    let mut files = vec![("filler.json".to_owned(), vec![b'['; 64 << 10])];
    files.extend(legacy_files(image(vec![setuid_layer()])));
    let options = Options {
        limits: Limits {
            max_buffered_total: 64 << 10,
            ..Limits::default()
        },
        ..Options::default()
    };
    let (_, audited) = audit_bytes("full.tar.gz", &gzip(&archive_of(files)), &options);
    let errors = errors(&audited);
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert!(
        errors[0].contains("exceed the 64 KiB kept in memory"),
        "the config is dropped and said so, the manifest was read: {errors:#?}"
    );
}

#[test]
fn archives_read_in_parallel_share_one_budget() {
    // Each archive alone fits the budget; four at once would not, if each had its own.
    let options = Options {
        limits: Limits {
            max_buffered_total: 256 << 10,
            ..Limits::default()
        },
        ..Options::default()
    };
    let bytes = {
        let mut files = vec![("big.json".to_owned(), vec![b'{'; 100 << 10])];
        files.extend(legacy_files(image(vec![setuid_layer()])));
        zstd(&archive_of(files))
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("one.tar.zst");
    std::fs::write(&path, &bytes).unwrap();
    let peak = std::sync::atomic::AtomicU64::new(0);
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| {
                for _ in 0..5 {
                    let db = leastpriv_source::SourceDb::new();
                    let _ = leastpriv_image::audit_path(&db, &path, "one.tar.zst", &options);
                    peak.fetch_max(
                        options.shared.buffered(),
                        std::sync::atomic::Ordering::Relaxed,
                    );
                }
            });
        }
    });
    assert!(peak.into_inner() <= 256 << 10);
    assert_eq!(options.shared.buffered(), 0);
}

#[test]
fn megabyte_paths_are_reported_shortened_and_never_kept_whole() {
    // Issue 9: 1,000 setuid files with ~1 MB paths reached 3.8 GB, 300 gave a 300 MB message.
    let long: Vec<String> = (0..40)
        .map(|index| format!("d/{}{index:04}", "a".repeat(200_000)))
        .collect();
    // Within PATH_MAX, but far longer than a message should quote.
    let valid = format!("opt/{}/bin/tool", "b".repeat(3_000));
    let mut entries: Vec<Entry<'_>> = long
        .iter()
        .map(|path| Entry::LongFile(path.clone(), 0o4755, b"#!"))
        .collect();
    entries.push(Entry::LongFile(valid.clone(), 0o4755, b"#!"));
    let layer = tar(&entries);
    let (db, audited) = audit_bytes(
        "long.tar.zst",
        &zstd(&docker_save(&[image(vec![layer])])),
        &Options::default(),
    );
    let errors = errors(&audited);
    // The first 20 odd entries are listed, the rest counted.
    assert_eq!(errors.len(), 21, "{errors:#?}");
    assert_eq!(
        errors
            .iter()
            .filter(|error| error
                .contains("has a path of 200006 bytes, longer than the 4096 Linux accepts"))
            .count(),
        20,
        "{errors:#?}"
    );
    assert!(errors
        .iter()
        .any(|error| error.contains("20 more odd entries")));
    let found = findings(&db, &audited);
    assert_eq!(found.len(), 1, "only the extractable file: {found:#?}");
    assert!(
        found[0].contains("bytes left out]…bbbbbbbbbbbb"),
        "{found:#?}"
    );
    for line in errors.iter().chain(&found) {
        assert!(
            line.len() < 600,
            "a message quotes a path whole: {} bytes",
            line.len()
        );
    }
}

#[test]
fn the_outer_stream_of_an_archive_has_a_ratio_cap() {
    // Issue 9: 8.6 MB of zstd frames of zeros cost 34 s of CPU before an error; layers had a
    // ratio cap, the outer stream none. A tar header declares a huge entry, then zeros follow.
    let mut header = tar::Header::new_gnu();
    header.set_path("blob").unwrap();
    header.set_size(1 << 40);
    header.set_cksum();
    let mut encoder = zstd::stream::Encoder::new(Vec::new(), 3).unwrap();
    std::io::Write::write_all(&mut encoder, header.as_bytes()).unwrap();
    std::io::copy(&mut std::io::repeat(0).take(64 << 20), &mut encoder).unwrap();
    let bomb = encoder.finish().unwrap();
    let options = Options {
        limits: Limits {
            ratio_floor: 1 << 20,
            max_ratio: 100,
            // Without a ratio cap the stream would stop here, at the total, with another message.
            max_total_bytes: 64 << 20,
            ..Limits::default()
        },
        ..Options::default()
    };
    for (name, bytes) in [
        ("bomb.tar.zst", bomb.clone()),
        ("bomb.tar.gz", gzip(&zstd_decode(&bomb))),
    ] {
        let (_, audited) = audit_bytes(name, &bytes, &options);
        let errors = errors(&audited);
        assert_eq!(errors.len(), 1, "{name}: {errors:#?}");
        assert!(
            errors[0].contains("compression ratio exceeds 100:1"),
            "{name}: {errors:#?}"
        );
    }
}

fn zstd_decode(bytes: &[u8]) -> Vec<u8> {
    zstd::stream::decode_all(bytes).unwrap()
}

#[test]
fn nested_compression_is_capped_by_the_size_of_the_input() {
    // Each stream within its own ratio (a gzip layer inside a zstd archive), their product is not.
    let layer = gzip(&tar(&[Entry::File("zeros", 0o644, &vec![0u8; 48 << 20])]));
    let outer = zstd(&docker_save(&[image(vec![layer])]));
    let options = Options {
        limits: Limits {
            ratio_floor: 1 << 20,
            max_ratio: 600,
            ..Limits::default()
        },
        ..Options::default()
    };
    let (_, audited) = audit_bytes("nested.tar.zst", &outer, &options);
    let errors = errors(&audited);
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert!(
        errors[0].contains("decompresses to more than 600 times its size"),
        "{errors:#?}"
    );
}

#[test]
fn an_archive_that_lists_no_image_is_an_error() {
    // Issue 9: a save whose `manifest.json` is `[]` audited 0 images with exit 0.
    for (what, files, expected) in [
        (
            "empty manifest",
            vec![("manifest.json".to_owned(), b"[]".to_vec())],
            "`manifest.json` lists no image",
        ),
        (
            "empty index",
            vec![
                (
                    "oci-layout".to_owned(),
                    br#"{"imageLayoutVersion":"1.0.0"}"#.to_vec(),
                ),
                (
                    "index.json".to_owned(),
                    br#"{"schemaVersion":2,"manifests":[]}"#.to_vec(),
                ),
            ],
            "`index.json` lists no image",
        ),
    ] {
        for (name, bytes) in [
            ("empty.tar", archive_of(files.clone())),
            ("empty.tar.gz", gzip(&archive_of(files.clone()))),
        ] {
            let (_, audited) = audit_bytes(name, &bytes, &Options::default());
            assert!(audited.containers.is_empty());
            let errors = errors(&audited);
            assert_eq!(errors.len(), 1, "{what} {name}: {errors:#?}");
            assert!(errors[0].contains(expected), "{what} {name}: {errors:#?}");
        }
    }
}

#[test]
fn the_last_entry_of_a_blob_name_is_the_blob_in_a_stream_too() {
    // The archive names the layer twice: extraction keeps the last, whatever finished scanning
    // first.
    let mut files = legacy_files(image(vec![setuid_layer()]));
    let layer_path = files[0].0.clone();
    let clean = tar(&[Entry::File("bin/sh", 0o755, b"#!")]);
    files.insert(1, (layer_path.clone(), clean.clone()));
    files.swap(0, 1);
    // Now: the clean layer, then the setuid one, both under the same name: setuid wins.
    let expect = |files: Vec<(String, Vec<u8>)>, setuid: bool| {
        let bytes = archive_of(files);
        for (name, bytes) in [("dup.tar", bytes.clone()), ("dup.tar.gz", gzip(&bytes))] {
            let (db, audited) = audit_bytes(name, &bytes, &Options::default());
            let found = findings(&db, &audited);
            assert_eq!(
                found.iter().any(|line| line.contains(SETUID_SHELL)),
                setuid,
                "{name}: {found:#?}"
            );
        }
    };
    expect(files.clone(), true);
    files.swap(0, 1);
    expect(files.clone(), false);
    // A layer name reused by a later blob that is no layer: the later one is what the name holds.
    files.remove(0);
    files.insert(1, (layer_path, b"not a layer".to_vec()));
    let (_, audited) = audit_bytes(
        "reused.tar.gz",
        &gzip(&archive_of(files)),
        &Options::default(),
    );
    assert!(
        errors(&audited)
            .iter()
            .any(|error| error.contains("neither a JSON document nor a layer")),
        "{:#?}",
        errors(&audited)
    );
}
