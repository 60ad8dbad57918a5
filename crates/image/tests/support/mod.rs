//! Building image archives in tests: layers, `docker save` archives (legacy and OCI layouts), OCI
//! layout directories, and hostile variants written header by header.
#![allow(dead_code, unreachable_pub)]

use std::io::Write;

use leastpriv_image::{Audited, Options};
use leastpriv_rules::{check, RuleSelection};
use leastpriv_source::SourceDb;
use sha2::{Digest, Sha256};

/// One entry of a layer.
pub enum Entry<'a> {
    File(&'a str, u32, &'a [u8]),
    Dir(&'a str, u32),
    Symlink(&'a str, &'a str),
    HardLink(&'a str, &'a str, u32),
    /// A file whose path may be longer than a header holds (a GNU long-name entry before it).
    LongFile(String, u32, &'a [u8]),
}

/// A tar archive of `entries`, headers written by hand so that any path (absolute, `..`) goes in.
pub fn tar(entries: &[Entry<'_>]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for entry in entries {
        let mut header = tar::Header::new_gnu();
        if let Entry::LongFile(path, mode, data) = entry {
            header.set_entry_type(tar::EntryType::Regular);
            header.set_mode(*mode);
            header.set_size(data.len() as u64);
            header.set_uid(0);
            header.set_gid(0);
            builder.append_data(&mut header, path, *data).unwrap();
            continue;
        }
        let (path, data): (&str, &[u8]) = match entry {
            Entry::File(path, mode, data) => {
                header.set_entry_type(tar::EntryType::Regular);
                header.set_mode(*mode);
                (path, data)
            }
            Entry::Dir(path, mode) => {
                header.set_entry_type(tar::EntryType::Directory);
                header.set_mode(*mode);
                (path, &[])
            }
            Entry::Symlink(path, target) => {
                header.set_entry_type(tar::EntryType::Symlink);
                header.set_mode(0o777);
                set_raw(&mut header.as_old_mut().linkname, target);
                (path, &[])
            }
            Entry::HardLink(path, target, mode) => {
                header.set_entry_type(tar::EntryType::Link);
                header.set_mode(*mode);
                set_raw(&mut header.as_old_mut().linkname, target);
                (path, &[])
            }
            Entry::LongFile(..) => unreachable!("written above"),
        };
        set_raw(&mut header.as_old_mut().name, path);
        header.set_size(data.len() as u64);
        header.set_uid(0);
        header.set_gid(0);
        header.set_cksum();
        builder.append(&header, data).unwrap();
    }
    builder.into_inner().unwrap()
}

fn set_raw(field: &mut [u8], value: &str) {
    assert!(
        value.len() <= field.len(),
        "{value} is too long for a raw header"
    );
    field.fill(0);
    field[..value.len()].copy_from_slice(value.as_bytes());
}

pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

pub fn zstd(data: &[u8]) -> Vec<u8> {
    zstd::stream::encode_all(data, 3).unwrap()
}

pub fn sha256(data: &[u8]) -> String {
    let digest = Sha256::digest(data);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// An image to put in an archive: its config fields and its layer blobs (bottom first).
pub struct Image<'a> {
    pub tag: &'a str,
    pub user: &'a str,
    pub env: &'a [&'a str],
    /// `ExposedPorts` keys (`80/tcp`).
    pub exposed: &'a [&'a str],
    pub history: &'a [&'a str],
    pub layers: Vec<Vec<u8>>,
}

impl Image<'_> {
    /// The config JSON: one history entry per layer, `created_by` from `history`.
    pub fn config(&self) -> Vec<u8> {
        let history: Vec<_> = self
            .history
            .iter()
            .map(|created_by| serde_json::json!({ "created_by": created_by }))
            .collect();
        let diff_ids: Vec<_> = self
            .layers
            .iter()
            .map(|layer| format!("sha256:{}", sha256(layer)))
            .collect();
        serde_json::to_vec(&serde_json::json!({
            "architecture": "amd64",
            "os": "linux",
            "config": {
                "User": self.user,
                "Env": self.env,
                "ExposedPorts": self
                    .exposed
                    .iter()
                    .map(|port| (port.to_string(), serde_json::json!({})))
                    .collect::<serde_json::Map<_, _>>(),
            },
            "history": history,
            "rootfs": { "type": "layers", "diff_ids": diff_ids },
        }))
        .unwrap()
    }
}

/// Files of an archive: `(path, bytes)`.
pub type Files = Vec<(String, Vec<u8>)>;

/// A legacy `docker save` archive (`manifest.json`, `<id>/layer.tar`, `<config>.json`).
pub fn docker_save(images: &[Image<'_>]) -> Vec<u8> {
    let mut files: Files = Vec::new();
    let mut manifest = Vec::new();
    for image in images {
        let config = image.config();
        let config_name = format!("{}.json", sha256(&config));
        let mut layers = Vec::new();
        for layer in &image.layers {
            let path = format!("{}/layer.tar", sha256(layer));
            files.push((path.clone(), layer.clone()));
            layers.push(path);
        }
        files.push((config_name.clone(), config));
        manifest.push(serde_json::json!({
            "Config": config_name, "RepoTags": [image.tag], "Layers": layers,
        }));
    }
    files.push((
        "manifest.json".to_owned(),
        serde_json::to_vec(&manifest).unwrap(),
    ));
    archive(&files)
}

/// The files of an OCI image layout (`oci-layout`, `index.json`, `blobs/sha256/…`); with
/// `docker_manifest`, also the `manifest.json` Docker 25+ adds.
pub fn oci_layout(images: &[Image<'_>], docker_manifest: bool) -> Files {
    let mut files: Files = vec![(
        "oci-layout".to_owned(),
        br#"{"imageLayoutVersion":"1.0.0"}"#.to_vec(),
    )];
    let mut index = Vec::new();
    let mut docker = Vec::new();
    for image in images {
        let config = image.config();
        let config_digest = sha256(&config);
        files.push((format!("blobs/sha256/{config_digest}"), config.clone()));
        let mut layers = Vec::new();
        let mut layer_paths = Vec::new();
        for layer in &image.layers {
            let digest = sha256(layer);
            files.push((format!("blobs/sha256/{digest}"), layer.clone()));
            layer_paths.push(format!("blobs/sha256/{digest}"));
            layers.push(serde_json::json!({
                "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                "digest": format!("sha256:{digest}"), "size": layer.len(),
            }));
        }
        let manifest = serde_json::to_vec(&serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": { "mediaType": "application/vnd.oci.image.config.v1+json",
                        "digest": format!("sha256:{config_digest}"), "size": config.len() },
            "layers": layers,
        }))
        .unwrap();
        let manifest_digest = sha256(&manifest);
        files.push((format!("blobs/sha256/{manifest_digest}"), manifest.clone()));
        index.push(serde_json::json!({
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": format!("sha256:{manifest_digest}"), "size": manifest.len(),
            "annotations": { "io.containerd.image.name": image.tag },
        }));
        docker.push(serde_json::json!({
            "Config": format!("blobs/sha256/{config_digest}"), "RepoTags": [image.tag],
            "Layers": layer_paths,
        }));
    }
    files.push((
        "index.json".to_owned(),
        serde_json::to_vec(&serde_json::json!({ "schemaVersion": 2, "manifests": index })).unwrap(),
    ));
    if docker_manifest {
        files.push((
            "manifest.json".to_owned(),
            serde_json::to_vec(&docker).unwrap(),
        ));
    }
    files
}

/// A tar of `files`.
pub fn archive(files: &Files) -> Vec<u8> {
    let entries: Vec<Entry<'_>> = files
        .iter()
        .map(|(path, data)| Entry::File(path, 0o644, data))
        .collect();
    tar(&entries)
}

/// Writes `files` under a fresh directory.
pub fn write_dir(files: &Files) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (path, data) in files {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, data).unwrap();
    }
    dir
}

/// Audits the archive bytes written to a file named `name`.
pub fn audit_bytes(name: &str, bytes: &[u8], options: &Options) -> (SourceDb, Audited) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    let db = SourceDb::new();
    let audited = leastpriv_image::audit_path(&db, &path, name, options);
    (db, audited)
}

/// Every finding of every rule, as `CODE line:column message`, sorted.
pub fn findings(db: &SourceDb, audited: &Audited) -> Vec<String> {
    let diagnostics = check(db, &audited.containers, &RuleSelection::all());
    let mut lines: Vec<String> = diagnostics
        .iter()
        .map(|diagnostic| {
            let position = db
                .get(diagnostic.span.file)
                .line_column(diagnostic.span.range.start);
            format!(
                "{} {}:{} {}",
                diagnostic.rule.code, position.line, position.column, diagnostic.message
            )
        })
        .collect();
    lines.sort();
    lines
}

/// The error messages, sorted.
pub fn errors(audited: &Audited) -> Vec<String> {
    let mut errors: Vec<String> = audited.errors.iter().map(|e| e.message.clone()).collect();
    errors.sort();
    errors
}
