//! Raw syscalls, run in a forked child so that a seccomp `KILL` or `TRAP` action costs one child and
//! not the probe.
//!
//! The child runs the calls in order and writes one 16-byte record per call to a pipe. When it is
//! killed, the call after the last record is the one that killed it; a new child resumes after it.
//! Between `fork` and `_exit` the child only makes raw syscalls and writes to the pipe: nothing that
//! allocates or takes a lock, so forking from a multithreaded process (the test harness) is sound.
//! When `fork` itself fails (a pids limit), the calls run in the probe's own process.
#![allow(unsafe_code)]

use super::{RawOutcome, Returns, SyscallCall};

const RECORD: usize = 16;
const TAG_RETURNED: i64 = 0;
const TAG_FAILED: i64 = 1;

/// Runs every call and reports how each ended.
pub(super) fn run(calls: &[SyscallCall]) -> Vec<RawOutcome> {
    let mut outcomes = Vec::with_capacity(calls.len());
    while outcomes.len() < calls.len() {
        let rest = &calls[outcomes.len()..];
        match run_in_child(rest) {
            Some((done, killed_by)) => {
                let reported = done.len();
                outcomes.extend(done);
                match killed_by {
                    Some(signal) if reported < rest.len() => {
                        outcomes.push(RawOutcome::Killed(signal));
                    }
                    // The child stopped early without a signal: only an unreadable pipe does that.
                    // Finish here rather than loop.
                    _ if reported < rest.len() => {
                        outcomes.extend(rest[reported..].iter().map(call_here));
                    }
                    _ => {}
                }
            }
            None => outcomes.extend(rest.iter().map(call_here)),
        }
    }
    outcomes
}

/// Forks a child that runs `calls`; returns the outcomes it reported and the signal that killed it.
/// `None` when no child could be started.
fn run_in_child(calls: &[SyscallCall]) -> Option<(Vec<RawOutcome>, Option<i32>)> {
    let mut fds = [0; 2];
    // SAFETY: `fds` is a valid array of two ints for pipe2 to fill.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return None;
    }
    let [read_fd, write_fd] = fds;
    // SAFETY: the child only calls async-signal-safe functions (raw syscalls, write, _exit).
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        close(read_fd);
        close(write_fd);
        return None;
    }
    if pid == 0 {
        close(read_fd);
        for call in calls {
            let record = encode(call_here(call));
            // SAFETY: `record` is a live buffer of RECORD bytes.
            unsafe { libc::write(write_fd, record.as_ptr().cast(), RECORD) };
        }
        // SAFETY: ends the child without running the parent's atexit handlers or destructors.
        unsafe { libc::_exit(0) };
    }
    close(write_fd);
    let bytes = read_all(read_fd);
    close(read_fd);
    let outcomes = bytes.chunks_exact(RECORD).map(decode).collect();
    Some((outcomes, wait_for_signal(pid)))
}

/// Makes one syscall in this process.
fn call_here(call: &SyscallCall) -> RawOutcome {
    let [a, b, c, d, e, f] = call.args.map(|arg| arg as libc::c_long);
    // SAFETY: every probe's arguments are chosen so that the kernel rejects them (invalid flags,
    // unmapped or kernel-half pointers, fd -1) without touching memory of this process; see
    // `seccomp::PROBES` for each call's reasoning.
    let ret = unsafe { libc::syscall(call.number, a, b, c, d, e, f) };
    if ret == -1 {
        let errno = std::io::Error::last_os_error().raw_os_error().unwrap_or(0);
        return RawOutcome::Failed(errno);
    }
    match call.returns {
        Returns::Value => {}
        Returns::Fd => close(ret as i32),
        Returns::Child if ret == 0 => {
            // SAFETY: we are an unexpected child of clone; leave at once.
            unsafe { libc::_exit(0) }
        }
        Returns::Child => {
            wait_for_signal(ret as libc::pid_t);
        }
    }
    RawOutcome::Returned(ret as i64)
}

fn encode(outcome: RawOutcome) -> [u8; RECORD] {
    let (tag, value) = match outcome {
        RawOutcome::Returned(value) => (TAG_RETURNED, value),
        RawOutcome::Failed(errno) => (TAG_FAILED, i64::from(errno)),
        // Never produced by `call_here`.
        RawOutcome::Killed(signal) => (2, i64::from(signal)),
    };
    let mut record = [0; RECORD];
    record[..8].copy_from_slice(&tag.to_ne_bytes());
    record[8..].copy_from_slice(&value.to_ne_bytes());
    record
}

fn decode(record: &[u8]) -> RawOutcome {
    let mut tag = [0; 8];
    let mut value = [0; 8];
    tag.copy_from_slice(&record[..8]);
    value.copy_from_slice(&record[8..]);
    let value = i64::from_ne_bytes(value);
    match i64::from_ne_bytes(tag) {
        TAG_RETURNED => RawOutcome::Returned(value),
        TAG_FAILED => RawOutcome::Failed(value as i32),
        _ => RawOutcome::Killed(value as i32),
    }
}

fn read_all(fd: i32) -> Vec<u8> {
    let mut bytes = Vec::new();
    let mut buffer = [0u8; 512];
    loop {
        // SAFETY: `buffer` is a live buffer of its length.
        let read = unsafe { libc::read(fd, buffer.as_mut_ptr().cast(), buffer.len()) };
        match read {
            0 => break,
            n if n > 0 => bytes.extend_from_slice(&buffer[..n as usize]),
            _ if std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted => {}
            _ => break,
        }
    }
    bytes
}

/// Reaps `pid`; the signal that killed it, if one did.
fn wait_for_signal(pid: libc::pid_t) -> Option<i32> {
    let mut status = 0;
    loop {
        // SAFETY: `status` is a valid int for waitpid to fill.
        let waited = unsafe { libc::waitpid(pid, &mut status, 0) };
        if waited == pid {
            break;
        }
        if waited < 0 && std::io::Error::last_os_error().kind() != std::io::ErrorKind::Interrupted {
            return None;
        }
    }
    libc::WIFSIGNALED(status).then(|| libc::WTERMSIG(status))
}

fn close(fd: i32) {
    // SAFETY: closing a descriptor this module opened and no one else uses.
    unsafe { libc::close(fd) };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_errno_of_a_harmless_call() {
        // close(-1) fails with EBADF everywhere and changes nothing.
        let calls = [SyscallCall {
            name: "close",
            number: libc::SYS_close,
            args: [u64::MAX, 0, 0, 0, 0, 0],
            returns: Returns::Value,
        }];
        assert_eq!(run(&calls), vec![RawOutcome::Failed(libc::EBADF)]);
    }

    #[test]
    fn a_killed_child_blames_the_call_and_the_rest_still_run() {
        // Strict seccomp allows only read, write, _exit and sigreturn, and kills on anything else: the
        // second call must be blamed for the SIGKILL and the third run in a new child.
        let calls = [
            SyscallCall {
                name: "seccomp-strict",
                number: libc::SYS_seccomp,
                args: [0, 0, 0, 0, 0, 0],
                returns: Returns::Value,
            },
            SyscallCall {
                name: "getpid",
                number: libc::SYS_getpid,
                args: [0; 6],
                returns: Returns::Value,
            },
            SyscallCall {
                name: "close",
                number: libc::SYS_close,
                args: [u64::MAX, 0, 0, 0, 0, 0],
                returns: Returns::Value,
            },
        ];
        let outcomes = run(&calls);
        assert_eq!(outcomes[0], RawOutcome::Returned(0));
        assert_eq!(outcomes[1], RawOutcome::Killed(libc::SIGKILL));
        assert_eq!(outcomes[2], RawOutcome::Failed(libc::EBADF));
    }
}
