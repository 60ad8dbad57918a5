//! A small process that outlives leastpriv to remove what a recording started on the engine.
//!
//! leastpriv may be killed with SIGKILL while a container it started runs; nothing in leastpriv can
//! run then. So before it creates anything, it starts `sh` in a session of its own (Ctrl-C on the
//! terminal does not reach it) reading a pipe whose write end only leastpriv holds. When leastpriv
//! ends its recording it writes `done` and the watchdog exits; when leastpriv dies, the kernel closes
//! the pipe, `read` sees end of file, and the watchdog runs the clean-up commands (`docker rm -f`,
//! `compose down`, removing the temporary files, or for a local command recorded with eBPF, killing
//! every process left in the workload's mount namespace: its child dies with leastpriv
//! (`PR_SET_PDEATHSIG`), but what it forked would run on, re-parented to init).

use std::io::Write;
use std::os::unix::process::CommandExt;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

use leastpriv_verify::shell_quote;

use crate::ProfileError;

/// The running watchdog's pid (0: none): it is a child of leastpriv, but not the workload's, so the
/// clean-up of the workload's leftovers must not stop it.
static RUNNING: AtomicU32 = AtomicU32::new(0);

/// Whether `pid` is the running watchdog.
pub(crate) fn is_watchdog(pid: libc::pid_t) -> bool {
    pid > 0 && RUNNING.load(Ordering::Relaxed) == pid as u32
}

/// A started watchdog.
#[derive(Debug)]
pub(crate) struct Watchdog {
    pipe: Option<ChildStdin>,
    child: Child,
}

/// `sh -c` that stops every process in the mount namespace `mntns` (SIGTERM, then SIGKILL until
/// none is left, for at most about ten seconds): a local workload whose recorder died.
pub(crate) fn stop_namespace(mntns: u32) -> Vec<String> {
    let script = format!(
        "ns='mnt:[{mntns}]'; signal=TERM; for round in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 \
         18 19 20; do left=; for dir in /proc/[0-9]*; do [ \"$(readlink \"$dir/ns/mnt\" \
         2>/dev/null)\" = \"$ns\" ] || continue; left=1; kill -s $signal \"${{dir#/proc/}}\" \
         2>/dev/null; done; [ -n \"$left\" ] || exit 0; sleep 0.5; signal=KILL; done"
    );
    vec!["sh".into(), "-c".into(), script]
}

impl Watchdog {
    /// Starts a watchdog that runs `cleanup` (argv lists, in order) unless told `done`.
    pub(crate) fn start(cleanup: &[Vec<String>]) -> Result<Self, ProfileError> {
        let commands: Vec<String> = cleanup
            .iter()
            .map(|argv| {
                let words: Vec<String> = argv.iter().map(|word| shell_quote(word)).collect();
                format!("{} >/dev/null 2>&1", words.join(" "))
            })
            .collect();
        let script = format!(
            "IFS= read -r word; [ \"$word\" = done ] && exit 0; {}",
            commands.join("; ")
        );
        let mut child = Command::new("sh")
            .args(["-c", &script])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .map_err(|error| {
                ProfileError::Workload(format!("cannot start the clean-up watchdog: {error}"))
            })?;
        RUNNING.store(child.id(), Ordering::Relaxed);
        Ok(Self {
            pipe: child.stdin.take(),
            child,
        })
    }

    /// Tells the watchdog that everything is cleaned up.
    pub(crate) fn disarm(mut self) {
        if let Some(mut pipe) = self.pipe.take() {
            let _ = pipe.write_all(b"done\n");
        }
        let _ = self.child.wait();
        RUNNING.store(0, Ordering::Relaxed);
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        // Not disarmed (an error path): closing the pipe makes the watchdog clean up; wait for it so
        // that the clean-up is over when leastpriv exits.
        if self.pipe.take().is_some() {
            let _ = self.child.wait();
            RUNNING.store(0, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cleans_up_unless_disarmed() {
        let dir = tempfile::tempdir().expect("temp dir");
        let kept = dir.path().join("kept");
        let removed = dir.path().join("removed");
        std::fs::write(&kept, "x").expect("writes");
        std::fs::write(&removed, "x").expect("writes");
        let rm = |path: &std::path::Path| {
            vec![
                "rm".to_owned(),
                "-f".to_owned(),
                path.to_string_lossy().into_owned(),
            ]
        };

        Watchdog::start(&[rm(&kept)]).expect("starts").disarm();
        assert!(kept.exists());
        drop(Watchdog::start(&[rm(&removed)]).expect("starts"));
        assert!(!removed.exists());
    }

    #[test]
    fn stops_nothing_in_an_empty_namespace() {
        // No process has mount namespace 1: the script finds none and ends at once.
        let argv = stop_namespace(1);
        let started = std::time::Instant::now();
        let status = Command::new(&argv[0])
            .args(&argv[1..])
            .status()
            .expect("runs");
        assert!(status.success());
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
    }
}
