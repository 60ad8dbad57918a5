//! Image archives: `docker save` and OCI layouts, their manifests, configs and layers.
//!
//! The input is either a raw archive (first byte 0) or a list of files framed as
//! `name \0 u16-le length data`, packed into a tar so that the fuzzer reaches the manifest, config
//! and layer handling without having to learn tar checksums. Limits are small so each run is fast.
#![no_main]

use std::io::Cursor;

use leastpriv_image::{audit_stream, Limits, Options};
use leastpriv_source::SourceDb;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let archive = match data.split_first() {
        Some((0, raw)) => raw.to_vec(),
        _ => pack(data),
    };
    let options = Options {
        limits: Limits {
            max_layer_bytes: 1 << 20,
            max_total_bytes: 4 << 20,
            ratio_floor: 64 << 10,
            max_entries: 10_000,
            max_header_bytes: 64 << 10,
            max_json_bytes: 1 << 20,
            max_buffered_total: 64 << 10,
            ..Limits::default()
        },
        ..Options::default()
    };
    let db = SourceDb::new();
    let _ = audit_stream(&db, Cursor::new(archive), "fuzz.tar", &options);
});

fn pack(mut data: &[u8]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    while let Some(end) = data.iter().position(|&b| b == 0) {
        let name = String::from_utf8_lossy(&data[..end]).into_owned();
        data = &data[end + 1..];
        if data.len() < 2 {
            break;
        }
        let len = usize::from(u16::from_le_bytes([data[0], data[1]])).min(data.len() - 2);
        let body = &data[2..2 + len];
        data = &data[2 + len..];
        let mut header = tar::Header::new_gnu();
        header.set_size(body.len() as u64);
        header.set_mode(0o644);
        if builder
            .append_data(&mut header, name.trim_start_matches('/'), body)
            .is_err()
        {
            continue;
        }
    }
    builder.into_inner().unwrap_or_default()
}
