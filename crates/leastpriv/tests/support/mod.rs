//! What the engine tests share: when to skip, and where the static probe binary is.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// Says why a test cannot run here and returns `None`; under `CI=true` a skip is a failure, so a
/// CI machine that lost its engine or a tool cannot pass silently.
pub(crate) fn skip<T>(test: &str, why: &str) -> Option<T> {
    let ci = std::env::var("CI").is_ok_and(|value| value == "true");
    assert!(!ci, "{test}: CI=true but {why}");
    eprintln!("skipping {test}: {why}");
    None
}

/// `$LEASTPRIV_PROBE_BINARY`, or the newest static build next to this test's target directory.
pub(crate) fn static_leastpriv() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("LEASTPRIV_PROBE_BINARY").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(path));
    }
    let target = Path::new(env!("CARGO_BIN_EXE_leastpriv"))
        .parent()?
        .parent()?;
    ["release", "debug"]
        .iter()
        .map(|profile| {
            target
                .join("x86_64-unknown-linux-gnu")
                .join(profile)
                .join("leastpriv")
        })
        .filter(|path| leastpriv_verify::check_probe_binary(path).is_ok())
        .max_by_key(|path| path.metadata().and_then(|m| m.modified()).ok())
}

/// What to say when there is no static leastpriv.
pub(crate) const NO_STATIC_BINARY: &str = "no static leastpriv: build one with \
    RUSTFLAGS='-C target-feature=+crt-static' cargo build --target x86_64-unknown-linux-gnu -p \
    leastpriv, or set LEASTPRIV_PROBE_BINARY";

/// `docker compose` when the plugin runs, else `docker-compose`, else `None`.
pub(crate) fn compose_tool() -> Option<Vec<String>> {
    let runs = |argv: &[&str]| {
        Command::new(argv[0])
            .args(&argv[1..])
            .output()
            .is_ok_and(|output| output.status.success())
    };
    if runs(&["docker", "compose", "version"]) {
        Some(vec!["docker".into(), "compose".into()])
    } else if runs(&["docker-compose", "version"]) {
        Some(vec!["docker-compose".into()])
    } else {
        None
    }
}

/// A port nothing listens on now.
pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}

/// `GET path` on localhost, the whole response.
pub(crate) fn get(port: u16, path: &str) -> std::io::Result<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    Ok(response)
}
