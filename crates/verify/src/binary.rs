//! The probe binary bind-mounted into the container: it must run without the host's libc (the image
//! may be `FROM scratch` or carry another libc), so it must be a static ELF executable, readable and
//! executable by any user (the container's user is not the host's).

use std::fs::File;
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::VerifyError;

const PT_INTERP: u32 = 3;

/// Checks that `path` is a static executable any user can run.
pub fn check_probe_binary(path: &Path) -> Result<(), VerifyError> {
    let problem = |what: &str| {
        VerifyError::ProbeBinary(format!(
            "{} {what}; build a static leastpriv with \
             `RUSTFLAGS='-C target-feature=+crt-static' cargo build --release --target \
             x86_64-unknown-linux-gnu` and pass it with --probe-binary",
            path.display()
        ))
    };
    let metadata =
        std::fs::metadata(path).map_err(|error| problem(&format!("cannot be read ({error})")))?;
    if metadata.permissions().mode() & 0o005 != 0o005 {
        return Err(problem(
            "is not readable and executable by other users (chmod 755)",
        ));
    }
    let mut header = Vec::new();
    File::open(path)
        .and_then(|file| file.take(64 * 1024).read_to_end(&mut header))
        .map_err(|error| problem(&format!("cannot be read ({error})")))?;
    match has_interpreter(&header) {
        None => Err(problem("is not a 64-bit little-endian ELF executable")),
        Some(true) => Err(problem("is dynamically linked (it needs the host's libc)")),
        Some(false) => Ok(()),
    }
}

/// Whether an ELF64 little-endian image has a `PT_INTERP` program header (a dynamic loader);
/// `None` when it is not one. Hand-written: a dozen bytes of header do not justify an ELF crate.
fn has_interpreter(image: &[u8]) -> Option<bool> {
    if image.get(..4)? != b"\x7fELF" || image.get(4)? != &2 || image.get(5)? != &1 {
        return None;
    }
    let u16_at = |at: usize| Some(u16::from_le_bytes(image.get(at..at + 2)?.try_into().ok()?));
    let u32_at = |at: usize| Some(u32::from_le_bytes(image.get(at..at + 4)?.try_into().ok()?));
    let u64_at = |at: usize| Some(u64::from_le_bytes(image.get(at..at + 8)?.try_into().ok()?));
    let phoff = usize::try_from(u64_at(0x20)?).ok()?;
    let phentsize = usize::from(u16_at(0x36)?);
    let phnum = usize::from(u16_at(0x38)?);
    if phentsize < 4 {
        return None;
    }
    for index in 0..phnum {
        if u32_at(phoff.checked_add(index.checked_mul(phentsize)?)?)? == PT_INTERP {
            return Some(true);
        }
    }
    Some(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tells_static_from_dynamic() {
        // The test binary itself is dynamically linked (the default target).
        let me = std::env::current_exe().expect("current exe");
        let image = std::fs::read(&me).expect("readable");
        assert_eq!(has_interpreter(&image), Some(true));
        assert!(
            matches!(check_probe_binary(&me), Err(VerifyError::ProbeBinary(message)) if message.contains("dynamically linked"))
        );
        // busybox-static, when installed, is static.
        if let Ok(busybox) = std::fs::read("/bin/busybox") {
            if has_interpreter(&busybox) == Some(false) {
                assert!(check_probe_binary(Path::new("/bin/busybox")).is_ok());
            }
        }
        assert_eq!(has_interpreter(b"#!/bin/sh\n"), None);
        assert_eq!(has_interpreter(b"\x7fELF\x02\x01"), None);
    }
}
