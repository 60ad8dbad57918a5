//! Hostile images and user specs against the real binary (issue 9, the images part), each under a
//! memory limit (`prlimit --as`) and a time limit (killed past it), checking the exit code, that
//! the output stays small, and the finding where one is hidden. Every input is generated here, as
//! an attacker would write it; nothing large is checked in.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Address space the binary may use: the unfixed code needed 3.9 GB for the long paths.
const MEMORY_LIMIT: u64 = 2 << 30;
/// Wall time before the run is killed (the unfixed outer stream took 34 s of CPU).
const TIME_LIMIT: Duration = Duration::from_secs(60);
/// The most output a hostile input may cause (the unfixed long paths printed 300 MB).
const MAX_OUTPUT: usize = 1 << 20;

struct Run {
    status: i32,
    report: serde_json::Value,
}

/// `leastpriv audit --format json <path>` under the limits.
fn audit(path: &Path) -> Run {
    // util-linux (essential in Debian) has it: a run without the limit would prove nothing.
    let prlimit = Path::new("/usr/bin/prlimit");
    assert!(
        prlimit.exists(),
        "prlimit (util-linux) is needed to bound the run's memory"
    );
    let mut command = Command::new(prlimit);
    command
        .arg(format!("--as={MEMORY_LIMIT}"))
        .arg("--")
        .arg(env!("CARGO_BIN_EXE_leastpriv"));
    let output_path = path.with_extension("report.json");
    let mut child = command
        .args(["audit", "--isolated", "--format", "json"])
        .arg(path)
        .stdout(std::fs::File::create(&output_path).unwrap())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > TIME_LIMIT {
            child.kill().unwrap();
            panic!("{}: still running after {TIME_LIMIT:?}", path.display());
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut stderr = String::new();
    Read::read_to_string(child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
    let code = status
        .code()
        .unwrap_or_else(|| panic!("{}: killed by a signal: {stderr}", path.display()));
    let output = std::fs::read(&output_path).unwrap();
    assert!(
        output.len() < MAX_OUTPUT,
        "{}: {} bytes of output",
        path.display(),
        output.len()
    );
    assert!(stderr.is_empty(), "{}: {stderr}", path.display());
    Run {
        status: code,
        report: serde_json::from_slice(&output).unwrap(),
    }
}

impl Run {
    fn messages(&self, key: &str) -> Vec<String> {
        self.report[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|item| {
                let rule = item["rule"].as_str().map(|rule| format!("{rule} "));
                format!(
                    "{}{}",
                    rule.unwrap_or_default(),
                    item["message"].as_str().unwrap()
                )
            })
            .collect()
    }
}

/// A tar entry header for a file of `size` bytes at `path` (any length: GNU long names).
fn append(
    builder: &mut tar::Builder<impl Write>,
    path: &str,
    mode: u32,
    data: impl Read,
    size: u64,
) {
    let mut header = tar::Header::new_gnu();
    header.set_mode(mode);
    header.set_size(size);
    header.set_uid(0);
    header.set_gid(0);
    builder.append_data(&mut header, path, data).unwrap();
}

fn append_link(
    builder: &mut tar::Builder<Vec<u8>>,
    path: &str,
    target: &str,
    kind: tar::EntryType,
) {
    let mut header = tar::Header::new_gnu();
    header.set_entry_type(kind);
    header.set_mode(0o777);
    header.set_size(0);
    builder.append_link(&mut header, path, target).unwrap();
}

fn sha256ish(bytes: &[u8]) -> String {
    // Names only need to be distinct and stable.
    let mut hash = 0xcbf2_9ce4_8422_2325u64;
    for byte in bytes {
        hash = (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3);
    }
    format!("{hash:016x}{:048x}", bytes.len())
}

/// Writes a `docker save` archive: `before` (blobs ahead of the image), the layers, the config,
/// then `manifest.json`, through `compress` into `path`.
fn save(
    path: &Path,
    user: &str,
    layers: &[Vec<u8>],
    before: impl FnOnce(&mut tar::Builder<Box<dyn Write>>),
) {
    let file = std::fs::File::create(path).unwrap();
    let name = path.to_string_lossy();
    let writer: Box<dyn Write> = if name.ends_with(".zst") {
        Box::new(zstd::stream::Encoder::new(file, 3).unwrap().auto_finish())
    } else if name.ends_with(".gz") {
        Box::new(flate2::write::GzEncoder::new(
            file,
            flate2::Compression::fast(),
        ))
    } else {
        Box::new(file)
    };
    let mut builder = tar::Builder::new(writer);
    before(&mut builder);
    let mut layer_paths = Vec::new();
    for layer in layers {
        let layer_path = format!("{}/layer.tar", sha256ish(layer));
        append(
            &mut builder,
            &layer_path,
            0o644,
            &layer[..],
            layer.len() as u64,
        );
        layer_paths.push(layer_path);
    }
    let config = serde_json::json!({
        "config": { "User": user },
        "history": layers.iter().map(|_| serde_json::json!({"created_by": "RUN x"})).collect::<Vec<_>>(),
    })
    .to_string();
    let config_path = format!("{}.json", sha256ish(config.as_bytes()));
    append(
        &mut builder,
        &config_path,
        0o644,
        config.as_bytes(),
        config.len() as u64,
    );
    let manifest = serde_json::json!([
        { "Config": config_path, "RepoTags": ["hostile:1"], "Layers": layer_paths }
    ])
    .to_string();
    append(
        &mut builder,
        "manifest.json",
        0o644,
        manifest.as_bytes(),
        manifest.len() as u64,
    );
    builder.into_inner().unwrap().flush().unwrap();
}

fn layer(build: impl FnOnce(&mut tar::Builder<Vec<u8>>)) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    build(&mut builder);
    builder.into_inner().unwrap()
}

fn setuid_shell() -> Vec<u8> {
    layer(|builder| append(builder, "bin/sh", 0o4755, &b"#!"[..], 2))
}

/// Bytes that compress about 100:1 (a letter changed every 256): under every ratio cap.
struct Sprinkled {
    left: u64,
    state: u64,
}

impl Read for Sprinkled {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let len = buf
            .len()
            .min(usize::try_from(self.left).unwrap_or(usize::MAX));
        for (index, byte) in buf[..len].iter_mut().enumerate() {
            *byte = if index % 256 == 0 {
                self.state ^= self.state << 13;
                self.state ^= self.state >> 7;
                self.state ^= self.state << 17;
                b'a' + (self.state % 26) as u8
            } else {
                b'a'
            };
        }
        self.left -= len as u64;
        Ok(len)
    }
}

fn dir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

#[test]
fn fifty_thousand_blobs_after_512_mib_neither_abort_nor_lose_the_manifest() {
    // Issue 9: once 512 MiB of small blobs were buffered, each further blob got its own thread
    // (50,000 one-byte blobs: "failed to spawn thread", abort).
    let dir = dir();
    let path = dir.path().join("threads.tar.zst");
    save(&path, "10001", &[setuid_shell()], |builder| {
        for index in 0..64 {
            let data = Sprinkled {
                left: 8 << 20,
                state: index + 1,
            };
            append(builder, &format!("pad/{index:03}"), 0o644, data, 8 << 20);
        }
        for index in 0..50_000 {
            append(builder, &format!("tiny/{index:05}"), 0o644, &b"x"[..], 1);
        }
    });
    let run = audit(&path);
    assert_eq!(run.messages("errors"), Vec::<String>::new());
    let findings = run.messages("findings");
    assert!(
        findings
            .iter()
            .any(|f| f.starts_with("LP250 `/bin/sh` is setuid")),
        "{findings:#?}"
    );
    assert_eq!(run.status, 1);
}

#[test]
fn megabyte_paths_are_bounded_in_memory_and_in_every_message() {
    // Issue 9: 1,000 setuid files with ~1 MB paths reached 3.8 GB; 300 gave a 300 MB message.
    let long = layer(|builder| {
        for index in 0..100u64 {
            let mut path = Vec::new();
            Read::read_to_end(
                &mut Sprinkled {
                    left: 1_000_000,
                    state: index + 7,
                },
                &mut path,
            )
            .unwrap();
            let path = format!("d/{}{index:04}", String::from_utf8(path).unwrap());
            append(builder, &path, 0o4755, &b"#!"[..], 2);
        }
        append(
            builder,
            &format!("opt/{}/tool", "b".repeat(3000)),
            0o4755,
            &b"#!"[..],
            2,
        );
    });
    let dir = dir();
    let path = dir.path().join("long.tar.zst");
    save(&path, "10001", &[long], |_| {});
    let run = audit(&path);
    assert_eq!(run.status, 2);
    let errors = run.messages("errors");
    assert!(
        errors
            .iter()
            .any(|error| error.contains("longer than the 4096 Linux accepts")),
        "{errors:#?}"
    );
    let findings = run.messages("findings");
    assert!(
        findings
            .iter()
            .any(|f| f.starts_with("LP250 `/opt/bbb") && f.contains("bytes left out]")),
        "{findings:#?}"
    );
}

#[test]
fn an_outer_stream_of_zeros_stops_at_the_ratio_cap() {
    // Issue 9: 8.6 MB of zstd frames of zeros cost 34 s of CPU before an error.
    let mut header = tar::Header::new_gnu();
    header.set_path("blob").unwrap();
    header.set_size(250 << 30);
    header.set_cksum();
    let mut head = zstd::stream::Encoder::new(Vec::new(), 3).unwrap();
    head.write_all(header.as_bytes()).unwrap();
    let head = head.finish().unwrap();
    let mut frame = zstd::stream::Encoder::new(Vec::new(), 19).unwrap();
    std::io::copy(&mut std::io::repeat(0).take(64 << 20), &mut frame).unwrap();
    let frame = frame.finish().unwrap();
    let mut bomb = head;
    while bomb.len() < 8_600_000 {
        bomb.extend_from_slice(&frame);
    }
    let dir = dir();
    let path = dir.path().join("zeros.tar.zst");
    std::fs::write(&path, bomb).unwrap();
    let run = audit(&path);
    assert_eq!(run.status, 2);
    let errors = run.messages("errors");
    assert!(
        errors[0].contains("compression ratio exceeds 1000:1"),
        "{errors:#?}"
    );
}

#[test]
fn a_save_of_no_image_is_an_input_error() {
    let dir = dir();
    let path = dir.path().join("empty.tar");
    let mut builder = tar::Builder::new(Vec::new());
    append(&mut builder, "manifest.json", 0o644, &b"[]"[..], 2);
    std::fs::write(&path, builder.into_inner().unwrap()).unwrap();
    let run = audit(&path);
    assert_eq!(run.status, 2);
    assert_eq!(
        run.messages("errors"),
        ["`manifest.json` lists no image: nothing to audit"]
    );
}

#[test]
fn passwd_reached_through_links_cannot_hide_a_root_user() {
    // Issue 9: user `app` with uid 0 in a passwd reached through a link passed.
    let passwd = b"root:x:0:0::/root:/bin/sh\napp:x:0:0::/app:/bin/sh\n";
    let cases: Vec<(&str, Vec<u8>)> = vec![
        (
            "symlink",
            layer(|builder| {
                append(builder, "data/pw", 0o644, &passwd[..], passwd.len() as u64);
                append_link(builder, "etc/passwd", "/data/pw", tar::EntryType::Symlink);
            }),
        ),
        (
            "hard link",
            layer(|builder| {
                append(builder, "data/pw", 0o644, &passwd[..], passwd.len() as u64);
                append_link(builder, "etc/passwd", "data/pw", tar::EntryType::Link);
            }),
        ),
        (
            "symlinked etc",
            layer(|builder| {
                append(
                    builder,
                    "private/etc/passwd",
                    0o644,
                    &passwd[..],
                    passwd.len() as u64,
                );
                append_link(builder, "etc", "private/etc", tar::EntryType::Symlink);
            }),
        ),
    ];
    let dir = dir();
    for (what, layer) in cases {
        for extension in ["tar", "tar.zst"] {
            let path = dir
                .path()
                .join(format!("{}.{extension}", what.replace(' ', "-")));
            save(&path, "app", std::slice::from_ref(&layer), |_| {});
            let run = audit(&path);
            let findings = run.messages("findings");
            assert!(
                findings.iter().any(|f| f
                    == "LP201 container runs as root (`app` resolves to uid 0 through the image's /etc/passwd)"),
                "{what} .{extension}: {findings:#?}"
            );
            assert_eq!(run.status, 1, "{what} .{extension}");
        }
    }
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn plus_zero_is_root_in_every_syntax() {
    // Issue 9: `USER +0`, `-u +0`, `user: "+0"` run as root (Docker: uid 0) and were only info.
    let dir = dir();
    let inputs = [
        write(dir.path(), "Dockerfile", "FROM alpine:3.20\nUSER +0\n"),
        write(
            dir.path(),
            "compose/compose.yaml",
            "services:\n  web:\n    image: nginx:1.27\n    user: \"+0\"\n",
        ),
        write(
            dir.path(),
            "run.sh",
            "#!/bin/sh\ndocker run -u +0 nginx:1.27\n",
        ),
    ];
    for path in inputs {
        let run = audit(&path);
        let findings = run.messages("findings");
        assert!(
            findings.iter().any(
                |f| f == "LP201 container runs as root (`+0`: the runtime reads `+0` as uid 0)"
            ),
            "{}: {findings:#?}",
            path.display()
        );
        assert!(!findings.iter().any(|f| f.starts_with("LP207")));
    }
    let image = dir.path().join("plus0.tar");
    save(&image, "+0", &[layer(|_| {})], |_| {});
    let findings = audit(&image).messages("findings");
    assert!(
        findings
            .iter()
            .any(|f| f.starts_with("LP201 container runs as root (`+0`")),
        "{findings:#?}"
    );
}

#[test]
fn an_expansion_past_its_budget_is_an_error_not_a_silent_unknown() {
    // Issue 9: `USER ${A//x/}root` with a long A, and `${A19:+root}` after 20 doublings, gave no
    // finding and exit 0.
    let dir = dir();
    let pattern = write(
        dir.path(),
        "pattern/Dockerfile",
        &format!(
            "FROM alpine:3.20\nARG A={}\nUSER ${{A//x/}}root\n",
            "x".repeat(5000)
        ),
    );
    let mut doubling = "FROM alpine:3.20\nENV A0=rootroot\n".to_owned();
    for index in 1..=20 {
        doubling.push_str(&format!("ENV A{index}=$A{0}$A{0}\n", index - 1));
    }
    doubling.push_str("USER ${A19:+root}\n");
    let doubling = write(dir.path(), "doubling/Dockerfile", &doubling);
    for path in [pattern, doubling] {
        let run = audit(&path);
        assert_eq!(run.status, 2, "{}", path.display());
        let errors = run.messages("errors");
        assert!(
            errors
                .iter()
                .any(|error| error.contains("exceeds the expansion budget")),
            "{}: {errors:#?}",
            path.display()
        );
    }
}
