//! Image archives built from structure: a layout (legacy `docker save`, OCI, Docker 25+), an outer
//! compression, images with users and layers, each layer compressed its own way and holding entries
//! the runtime cares about (`/etc/passwd`, `/etc/group`, sudoers, a symlinked `/etc`, links that
//! loop or climb, whiteouts, megabyte paths), blobs in any order, junk beside them, the result cut
//! or flipped. The raw `image_archive` target rarely gets past tar checksums and JSON; this one
//! starts there, so it reaches link resolution, rescans of streamed layers, the run's shared budget
//! and the rules.
//!
//! Checked on every input: no panic; every message (error or finding) bounded in length, whatever
//! the paths; the run's buffer budget given back once the archive is read.
#![no_main]

use std::io::Write;

use leastpriv_image::{audit_path, Limits, Options};
use leastpriv_rules::{check, RuleSelection};
use leastpriv_source::SourceDb;
use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Archive {
    layout: Layout,
    outer: Codec,
    manifest_first: bool,
    images: Vec<ImageSpec>,
    junk: Vec<(Name, Vec<u8>)>,
    damage: Option<Damage>,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Layout {
    Legacy,
    Oci,
    Docker25,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Codec {
    Plain,
    Gzip,
    Zstd,
}

#[derive(Arbitrary, Debug)]
enum Damage {
    Truncate(u16),
    Flip(u16, u8),
}

#[derive(Arbitrary, Debug)]
struct ImageSpec {
    user: UserSpec,
    layers: Vec<LayerSpec>,
}

#[derive(Arbitrary, Debug)]
enum UserSpec {
    Empty,
    Text(String),
    Number(i64),
    Signed(bool, u8),
    Named(Name),
}

#[derive(Arbitrary, Debug)]
struct LayerSpec {
    codec: Codec,
    entries: Vec<EntrySpec>,
}

#[derive(Arbitrary, Debug)]
struct EntrySpec {
    path: Name,
    kind: Kind,
    mode: u16,
    data: Data,
}

#[derive(Arbitrary, Debug)]
enum Kind {
    File,
    Dir,
    Symlink(Name),
    HardLink(Name),
}

#[derive(Arbitrary, Debug)]
enum Data {
    Bytes(Vec<u8>),
    Passwd(Vec<(Name, String)>),
}

/// Paths and names drawn mostly from the ones that matter.
#[derive(Arbitrary, Debug, Clone)]
enum Name {
    Passwd,
    Group,
    Sudoers,
    SudoersD(u8),
    Etc,
    PrivateEtc,
    Data(u8),
    Whiteout(Box<Name>),
    Opaque(u8),
    Up(u8, Box<Name>),
    Long(u16),
    Raw(String),
}

impl Name {
    fn path(&self) -> String {
        match self {
            Name::Passwd => "etc/passwd".into(),
            Name::Group => "etc/group".into(),
            Name::Sudoers => "etc/sudoers".into(),
            Name::SudoersD(n) => format!("etc/sudoers.d/f{}", n % 4),
            Name::Etc => "etc".into(),
            Name::PrivateEtc => "private/etc".into(),
            Name::Data(n) => format!("data/{}", n % 8),
            Name::Whiteout(name) => {
                let path = name.path();
                match path.rsplit_once('/') {
                    Some((parent, base)) => format!("{parent}/.wh.{base}"),
                    None => format!(".wh.{path}"),
                }
            }
            Name::Opaque(n) => format!("d{}/.wh..wh..opq", n % 4),
            Name::Up(n, name) => format!("{}{}", "../".repeat(usize::from(n % 6)), name.path()),
            Name::Long(n) => format!("long/{}", "x".repeat(usize::from(*n) * 16)),
            Name::Raw(text) => text.chars().take(300).collect(),
        }
    }

    fn user(&self) -> String {
        match self {
            Name::Raw(text) => text.chars().take(40).collect(),
            Name::Data(n) => format!("u{}", n % 4),
            _ => "app".into(),
        }
    }
}

fn compress(codec: Codec, bytes: Vec<u8>) -> Vec<u8> {
    match codec {
        Codec::Plain => bytes,
        Codec::Gzip => {
            let mut encoder =
                flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            let _ = encoder.write_all(&bytes);
            encoder.finish().unwrap_or_default()
        }
        Codec::Zstd => zstd::stream::encode_all(&bytes[..], 1).unwrap_or_default(),
    }
}

/// A tar of entries, headers written byte by byte so that any path or link goes in.
fn layer(spec: &LayerSpec) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for entry in spec.entries.iter().take(64) {
        let path = entry.path.path();
        let data: Vec<u8> = match &entry.data {
            Data::Bytes(bytes) => bytes.iter().copied().take(4096).collect(),
            Data::Passwd(lines) => lines
                .iter()
                .take(16)
                .map(|(name, uid)| format!("{}:x:{uid}:0::/:/bin/sh\n", name.user()))
                .collect::<String>()
                .into_bytes(),
        };
        let mut header = tar::Header::new_gnu();
        header.set_mode(u32::from(entry.mode) & 0o7777);
        header.set_uid(0);
        header.set_gid(0);
        let (kind, link, data) = match &entry.kind {
            Kind::File => (tar::EntryType::Regular, None, data),
            Kind::Dir => (tar::EntryType::Directory, None, Vec::new()),
            Kind::Symlink(target) => (tar::EntryType::Symlink, Some(target), Vec::new()),
            Kind::HardLink(target) => (tar::EntryType::Link, Some(target), Vec::new()),
        };
        header.set_entry_type(kind);
        header.set_size(data.len() as u64);
        if let Some(target) = link {
            let target = target.path();
            let field = &mut header.as_old_mut().linkname;
            let len = target.len().min(field.len());
            field[..len].copy_from_slice(&target.as_bytes()[..len]);
        }
        if path.len() <= 99 {
            let field = &mut header.as_old_mut().name;
            field[..path.len()].copy_from_slice(path.as_bytes());
            header.set_cksum();
            let _ = builder.append(&header, &data[..]);
        } else {
            let _ = builder.append_data(&mut header, &path, &data[..]);
        }
    }
    compress(spec.codec, builder.into_inner().unwrap_or_default())
}

fn user_text(spec: &UserSpec) -> String {
    match spec {
        UserSpec::Empty => String::new(),
        UserSpec::Text(text) => text.chars().take(64).collect(),
        UserSpec::Number(number) => number.to_string(),
        UserSpec::Signed(plus, n) => format!("{}{}", if *plus { '+' } else { '-' }, n % 3),
        UserSpec::Named(name) => name.user(),
    }
}

fn digest(bytes: &[u8]) -> String {
    // Not a real digest: the archive only needs stable, distinct names.
    let mut hash = 0xcbf2_9ce4_8422_2325u64;
    for byte in bytes {
        hash = (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3);
    }
    format!("{hash:016x}{:048x}", bytes.len())
}

fn build(archive: &Archive) -> Vec<u8> {
    let mut blobs: Vec<(String, Vec<u8>)> = Vec::new();
    let mut docker = Vec::new();
    let mut index = Vec::new();
    for (number, image) in archive.images.iter().take(3).enumerate() {
        let layers: Vec<Vec<u8>> = image.layers.iter().take(4).map(layer).collect();
        let config = serde_json::json!({
            "config": { "User": user_text(&image.user) },
            "history": layers.iter().map(|_| serde_json::json!({"created_by": "RUN x"})).collect::<Vec<_>>(),
            "rootfs": { "type": "layers", "diff_ids": layers.iter().map(|l| format!("sha256:{}", digest(l))).collect::<Vec<_>>() },
        })
        .to_string()
        .into_bytes();
        let config_digest = digest(&config);
        let mut layer_paths = Vec::new();
        let mut descriptors = Vec::new();
        for bytes in layers {
            let id = digest(&bytes);
            let path = match archive.layout {
                Layout::Legacy => format!("{id}/layer.tar"),
                _ => format!("blobs/sha256/{id}"),
            };
            descriptors.push(serde_json::json!({
                "mediaType": "application/vnd.oci.image.layer.v1.tar",
                "digest": format!("sha256:{id}"), "size": bytes.len(),
            }));
            layer_paths.push(path.clone());
            blobs.push((path, bytes));
        }
        let config_path = match archive.layout {
            Layout::Legacy => format!("{config_digest}.json"),
            _ => format!("blobs/sha256/{config_digest}"),
        };
        blobs.push((config_path.clone(), config));
        docker.push(serde_json::json!({
            "Config": config_path, "RepoTags": [format!("fuzz:{number}")], "Layers": layer_paths,
        }));
        let manifest = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": { "mediaType": "application/vnd.oci.image.config.v1+json",
                        "digest": format!("sha256:{config_digest}") },
            "layers": descriptors,
        })
        .to_string()
        .into_bytes();
        let manifest_digest = digest(&manifest);
        blobs.push((format!("blobs/sha256/{manifest_digest}"), manifest));
        index.push(serde_json::json!({
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": format!("sha256:{manifest_digest}"),
        }));
    }
    for (name, bytes) in archive.junk.iter().take(16) {
        blobs.push((name.path(), bytes.iter().copied().take(1024).collect()));
    }
    let mut index_files = Vec::new();
    if !matches!(archive.layout, Layout::Oci) {
        index_files.push((
            "manifest.json".to_owned(),
            serde_json::to_vec(&docker).unwrap_or_default(),
        ));
    }
    if !matches!(archive.layout, Layout::Legacy) {
        index_files.push((
            "oci-layout".to_owned(),
            br#"{"imageLayoutVersion":"1.0.0"}"#.to_vec(),
        ));
        index_files.push((
            "index.json".to_owned(),
            serde_json::to_vec(&serde_json::json!({"schemaVersion": 2, "manifests": index}))
                .unwrap_or_default(),
        ));
    }
    if archive.manifest_first {
        index_files.extend(blobs);
        blobs = index_files;
    } else {
        blobs.extend(index_files);
    }
    let mut builder = tar::Builder::new(Vec::new());
    for (path, bytes) in &blobs {
        let mut header = tar::Header::new_gnu();
        header.set_mode(0o644);
        header.set_size(bytes.len() as u64);
        let _ = builder.append_data(&mut header, path.trim_start_matches('/'), &bytes[..]);
    }
    let mut bytes = compress(archive.outer, builder.into_inner().unwrap_or_default());
    match archive.damage {
        Some(Damage::Truncate(at)) if !bytes.is_empty() => {
            bytes.truncate(usize::from(at) % bytes.len());
        }
        Some(Damage::Flip(at, value)) if !bytes.is_empty() => {
            let at = usize::from(at) % bytes.len();
            bytes[at] ^= value | 1;
        }
        _ => {}
    }
    bytes
}

fuzz_target!(|archive: Archive| {
    let bytes = build(&archive);
    let Ok(dir) = tempfile::tempdir() else { return };
    let path = dir.path().join("fuzz.tar");
    if std::fs::write(&path, &bytes).is_err() {
        return;
    }
    let options = Options {
        limits: Limits {
            max_layer_bytes: 1 << 20,
            max_total_bytes: 4 << 20,
            ratio_floor: 64 << 10,
            max_entries: 10_000,
            max_header_bytes: 64 << 10,
            max_json_bytes: 1 << 20,
            max_buffered_total: 256 << 10,
            ..Limits::default()
        },
        ..Options::default()
    };
    let db = SourceDb::new();
    let audited = audit_path(&db, &path, "fuzz.tar", &options);
    assert_eq!(
        options.shared.buffered(),
        0,
        "the buffer budget is given back"
    );
    for error in &audited.errors {
        assert!(error.message.len() < 4096, "{}", error.message.len());
    }
    for diagnostic in check(&db, &audited.containers, &RuleSelection::all()) {
        assert!(
            diagnostic.message.len() < 8192,
            "{}",
            diagnostic.message.len()
        );
    }
});
