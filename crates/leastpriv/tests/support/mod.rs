//! What the engine tests share: when to skip, and where the static probe binary is.
// Each test binary uses its own part.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Command;

/// Says why a test cannot run here and returns `None`; under `CI=true` a skip is a failure, so a
/// CI machine that lost its engine or a tool cannot pass silently.
pub(crate) fn skip<T>(test: &str, why: &str) -> Option<T> {
    let ci = std::env::var("CI").is_ok_and(|value| value == "true");
    assert!(!ci, "{test}: CI=true but {why}");
    eprintln!("skipping {test}: {why}");
    None
}

/// `$LEASTPRIV_PROBE_BINARY`, or the leastpriv binary under test: the default build is static on
/// Linux (`.cargo/config.toml`), so it is the probe `verify` mounts.
pub(crate) fn static_leastpriv() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("LEASTPRIV_PROBE_BINARY").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(path));
    }
    let built = PathBuf::from(env!("CARGO_BIN_EXE_leastpriv"));
    leastpriv_verify::check_probe_binary(&built)
        .is_ok()
        .then_some(built)
}

/// What to say when there is no static leastpriv.
pub(crate) const NO_STATIC_BINARY: &str = "the leastpriv under test is not static (was it built \
    with an explicit --target or RUSTFLAGS that override .cargo/config.toml?); set \
    LEASTPRIV_PROBE_BINARY to a static leastpriv";

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
