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
            "{} {what}; the probe needs a static leastpriv: `cargo build --release` (or `cargo \
             install --path crates/leastpriv`) in leastpriv's repository builds one on Linux; \
             pass it with --probe-binary",
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

    /// A minimal ELF64 little-endian image whose program headers have these types.
    fn elf(program_headers: &[u32]) -> Vec<u8> {
        const HEADER: usize = 64;
        const ENTRY: usize = 56;
        let mut image = vec![0u8; HEADER + ENTRY * program_headers.len()];
        image[..6].copy_from_slice(b"\x7fELF\x02\x01");
        image[0x20..0x28].copy_from_slice(&(HEADER as u64).to_le_bytes());
        image[0x36..0x38].copy_from_slice(&(ENTRY as u16).to_le_bytes());
        image[0x38..0x3a].copy_from_slice(&(program_headers.len() as u16).to_le_bytes());
        for (index, kind) in program_headers.iter().enumerate() {
            let at = HEADER + index * ENTRY;
            image[at..at + 4].copy_from_slice(&kind.to_le_bytes());
        }
        image
    }

    #[test]
    fn tells_static_from_dynamic() {
        const PT_LOAD: u32 = 1;
        assert_eq!(has_interpreter(&elf(&[PT_LOAD, PT_LOAD])), Some(false));
        assert_eq!(has_interpreter(&elf(&[6, PT_INTERP, PT_LOAD])), Some(true));
        assert_eq!(has_interpreter(b"#!/bin/sh\n"), None);
        assert_eq!(has_interpreter(b"\x7fELF\x02\x01"), None);
        let mut truncated = elf(&[PT_LOAD]);
        truncated.truncate(66);
        assert_eq!(has_interpreter(&truncated), None);

        let dir = tempfile::tempdir().expect("a temporary directory");
        let dynamic = dir.path().join("dynamic");
        std::fs::write(&dynamic, elf(&[PT_INTERP])).expect("writes");
        std::fs::set_permissions(&dynamic, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        assert!(
            matches!(check_probe_binary(&dynamic), Err(VerifyError::ProbeBinary(message)) if message.contains("dynamically linked"))
        );
        let private = dir.path().join("private");
        std::fs::write(&private, elf(&[PT_LOAD])).expect("writes");
        std::fs::set_permissions(&private, std::fs::Permissions::from_mode(0o700)).expect("chmod");
        assert!(
            matches!(check_probe_binary(&private), Err(VerifyError::ProbeBinary(message)) if message.contains("chmod 755"))
        );
        // The workspace builds static on Linux (`.cargo/config.toml`): so is this test.
        let me = std::env::current_exe().expect("current exe");
        let image = std::fs::read(&me).expect("readable");
        assert_eq!(
            has_interpreter(&image),
            Some(!cfg!(target_feature = "crt-static"))
        );
    }
}
