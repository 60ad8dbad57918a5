//! The few system calls the local recorders need and no crate wraps for this use: fork with a
//! child that enters its own mount namespace and seccomp filter before it execs, the seccomp user
//! notification listener handed over with SCM_RIGHTS, and signal flags.
//!
//! Written against `libc` directly: the child between fork and exec may only make async-signal-safe
//! calls (no allocation), so everything it needs is prepared before the fork, and nix/rustix wrap
//! neither `SECCOMP_SET_MODE_FILTER` with `NEW_LISTENER` nor the notification ioctls.
#![allow(unsafe_code)]

use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};

/// `SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP` (Linux 6.6): the supervisor and the notifying task hand
/// over on the same CPU, about 4x faster per notification.
const SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP: u64 = 1;

/// One cBPF instruction (`struct sock_filter`).
pub(crate) type Instruction = libc::sock_filter;

/// How the child confines itself before it execs.
pub(crate) enum ChildSetup<'a> {
    /// Enter a mount namespace of its own (the eBPF recorder's key) and install `filter`.
    Namespace { filter: &'a [Instruction] },
    /// Install `filter` with a notification listener and send the listener to the parent over
    /// `socket`, whose number the filter lets `sendmsg` use without notifying.
    Notify {
        filter: &'a [Instruction],
        socket: RawFd,
        no_new_privs: bool,
    },
    /// Remove the capabilities in `mask` (bounding, effective, permitted, inheritable, ambient):
    /// a capability trial.
    DropCapabilities { mask: u64 },
    /// Install `filter` as the enforcing profile (`--enforce`).
    Enforce {
        filter: &'a [Instruction],
        no_new_privs: bool,
    },
}

/// A started workload, stopped just before its `execve` until [`Child::go`].
#[derive(Debug)]
pub(crate) struct Child {
    pub(crate) pid: libc::pid_t,
    go: Option<OwnedFd>,
    status: OwnedFd,
}

impl Child {
    /// Lets the child exec and returns the exec error the child reports, if any.
    pub(crate) fn go(&mut self) -> io::Result<()> {
        self.release();
        self.exec_result()
    }

    /// Lets the child go on to its exec, without waiting for it.
    pub(crate) fn release(&mut self) {
        drop(self.go.take());
    }

    /// Waits until the child has exec'd or failed to, and returns its error.
    pub(crate) fn exec_result(&mut self) -> io::Result<()> {
        // The status pipe is CLOEXEC in the child: EOF means the exec succeeded.
        let mut code = [0u8; 4];
        let read = read_retry(self.status.as_raw_fd(), &mut code)?;
        if read == 4 {
            return Err(io::Error::from_raw_os_error(i32::from_ne_bytes(code)));
        }
        Ok(())
    }
}

/// Forks a child that sets itself up as `setup` says, tells the parent it is ready, waits for
/// [`Child::go`] and execs `program` with `argv`.
pub(crate) fn spawn(
    program: &CString,
    argv: &[CString],
    setup: ChildSetup<'_>,
) -> io::Result<Child> {
    let mut argv_pointers: Vec<*const libc::c_char> = argv.iter().map(|arg| arg.as_ptr()).collect();
    argv_pointers.push(std::ptr::null());
    let (go_read, go_write) = pipe()?;
    let (status_read, status_write) = pipe()?;
    let parent = unsafe { libc::getpid() };
    // SAFETY: the child only makes async-signal-safe calls on memory prepared before the fork, and
    // leaves by execve or _exit.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(io::Error::last_os_error());
    }
    if pid == 0 {
        let fail = |step: i32| -> ! {
            let errno = unsafe { *libc::__errno_location() };
            let code = if errno == 0 { step } else { errno };
            let bytes = code.to_ne_bytes();
            unsafe {
                libc::write(status_write.as_raw_fd(), bytes.as_ptr().cast(), 4);
                libc::_exit(127)
            }
        };
        unsafe {
            // The workload dies with the recorder: a notify filter without its supervisor would
            // fail its syscalls with ENOSYS, and the eBPF keying would be gone.
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            if libc::getppid() != parent {
                libc::_exit(127);
            }
        }
        unsafe { libc::close(go_write.as_raw_fd()) };
        match setup {
            ChildSetup::Namespace { filter } => unsafe {
                if libc::unshare(libc::CLONE_NEWNS) != 0 {
                    fail(libc::EPERM);
                }
                if install_filter(filter, 0) < 0 {
                    fail(libc::EPERM);
                }
            },
            ChildSetup::Notify {
                filter,
                socket,
                no_new_privs,
            } => unsafe {
                if no_new_privs && libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 {
                    fail(libc::EPERM);
                }
                let listener = install_filter(filter, libc::SECCOMP_FILTER_FLAG_NEW_LISTENER);
                if listener < 0 {
                    fail(libc::EPERM);
                }
                if send_fd(socket, listener as RawFd) < 0 {
                    fail(libc::EIO);
                }
                libc::close(listener as RawFd);
            },
            ChildSetup::DropCapabilities { mask } => unsafe {
                drop_capabilities(mask);
            },
            ChildSetup::Enforce {
                filter,
                no_new_privs,
            } => unsafe {
                if no_new_privs && libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 {
                    fail(libc::EPERM);
                }
                if install_filter(filter, 0) < 0 {
                    fail(libc::EPERM);
                }
            },
        }
        unsafe {
            let mut byte = 0u8;
            // Wait for the parent (EOF on the go pipe), then exec.
            while libc::read(go_read.as_raw_fd(), (&raw mut byte).cast(), 1) < 0
                && *libc::__errno_location() == libc::EINTR
            {}
            libc::execv(program.as_ptr(), argv_pointers.as_ptr());
        }
        fail(libc::ENOENT);
    }
    drop(go_read);
    drop(status_write);
    Ok(Child {
        pid,
        go: Some(go_write),
        status: status_read,
    })
}

/// Removes the capabilities of `mask` from every set of this process, before an exec: the bounding
/// set (what root gets at exec; needs CAP_SETPCAP, ignored without it), the ambient set (what a
/// non-root user keeps across exec), and effective, permitted and inheritable.
unsafe fn drop_capabilities(mask: u64) {
    for bit in 0..64u32 {
        if mask & (1 << bit) != 0 {
            unsafe {
                libc::prctl(libc::PR_CAPBSET_DROP, bit as libc::c_ulong, 0, 0, 0);
                libc::prctl(
                    libc::PR_CAP_AMBIENT,
                    libc::PR_CAP_AMBIENT_LOWER as libc::c_ulong,
                    bit as libc::c_ulong,
                    0,
                    0,
                );
            }
        }
    }
    // struct __user_cap_header_struct { version, pid } and two __user_cap_data_struct
    // { effective, permitted, inheritable } (version 3: 64 bits in two halves).
    let mut header = [0x2008_0522u32, 0];
    let mut data = [0u32; 6];
    unsafe {
        if libc::syscall(libc::SYS_capget, header.as_mut_ptr(), data.as_mut_ptr()) != 0 {
            return;
        }
        let low = !(mask as u32);
        let high = !((mask >> 32) as u32);
        for (index, keep) in [low, low, low, high, high, high].into_iter().enumerate() {
            data[index] &= keep;
        }
        libc::syscall(libc::SYS_capset, header.as_mut_ptr(), data.as_ptr());
    }
}

/// `seccomp(SECCOMP_SET_MODE_FILTER, flags, prog)`: the new listener fd with `NEW_LISTENER`.
unsafe fn install_filter(filter: &[Instruction], flags: libc::c_ulong) -> libc::c_long {
    let program = libc::sock_fprog {
        len: filter.len() as libc::c_ushort,
        filter: filter.as_ptr().cast_mut(),
    };
    unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            libc::SECCOMP_SET_MODE_FILTER,
            flags,
            &raw const program,
        )
    }
}

/// Sends `fd` over the unix socket `socket` (SCM_RIGHTS), without allocating.
unsafe fn send_fd(socket: RawFd, fd: RawFd) -> isize {
    const SPACE: usize = unsafe { libc::CMSG_SPACE(4) } as usize;
    // u64s: the control buffer is read as a `cmsghdr`, which is 8-byte aligned.
    let mut control = [0u64; SPACE.div_ceil(8)];
    let mut byte = 0u8;
    let mut iov = libc::iovec {
        iov_base: (&raw mut byte).cast(),
        iov_len: 1,
    };
    unsafe {
        let mut message: libc::msghdr = std::mem::zeroed();
        message.msg_iov = &raw mut iov;
        message.msg_iovlen = 1;
        message.msg_control = control.as_mut_ptr().cast();
        message.msg_controllen = SPACE as _;
        let header = libc::CMSG_FIRSTHDR(&raw const message);
        (*header).cmsg_level = libc::SOL_SOCKET;
        (*header).cmsg_type = libc::SCM_RIGHTS;
        (*header).cmsg_len = libc::CMSG_LEN(4) as _;
        std::ptr::copy_nonoverlapping((&raw const fd).cast::<u8>(), libc::CMSG_DATA(header), 4);
        libc::sendmsg(socket, &raw const message, 0)
    }
}

/// Receives a file descriptor sent with SCM_RIGHTS.
pub(crate) fn receive_fd(socket: &OwnedFd) -> io::Result<OwnedFd> {
    const SPACE: usize = unsafe { libc::CMSG_SPACE(4) } as usize;
    // u64s: the control buffer is read as a `cmsghdr`, which is 8-byte aligned.
    let mut control = [0u64; SPACE.div_ceil(8)];
    let mut byte = 0u8;
    let mut iov = libc::iovec {
        iov_base: (&raw mut byte).cast(),
        iov_len: 1,
    };
    // A child that fails before it sends (its failure blocked in a notification nobody serves yet)
    // must not hang the recorder: give up after 30 s.
    let timeout = libc::timeval {
        tv_sec: 30,
        tv_usec: 0,
    };
    // SAFETY: msghdr points at live buffers of the sizes given; the cmsg is checked before use.
    unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVTIMEO,
            (&raw const timeout).cast(),
            std::mem::size_of::<libc::timeval>() as libc::socklen_t,
        );
        let mut message: libc::msghdr = std::mem::zeroed();
        message.msg_iov = &raw mut iov;
        message.msg_iovlen = 1;
        message.msg_control = control.as_mut_ptr().cast();
        message.msg_controllen = SPACE as _;
        let received = libc::recvmsg(socket.as_raw_fd(), &raw mut message, libc::MSG_CMSG_CLOEXEC);
        if received < 0 {
            return Err(io::Error::last_os_error());
        }
        let header = libc::CMSG_FIRSTHDR(&raw const message);
        if received == 0
            || header.is_null()
            || (*header).cmsg_level != libc::SOL_SOCKET
            || (*header).cmsg_type != libc::SCM_RIGHTS
        {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the workload sent no seccomp listener",
            ));
        }
        let mut fd: RawFd = -1;
        std::ptr::copy_nonoverlapping(libc::CMSG_DATA(header), (&raw mut fd).cast::<u8>(), 4);
        Ok(OwnedFd::from_raw_fd(fd))
    }
}

/// A connected pair of unix stream sockets, close-on-exec.
pub(crate) fn socket_pair() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: fds has room for the two descriptors.
    if unsafe {
        libc::socketpair(
            libc::AF_UNIX,
            libc::SOCK_STREAM | libc::SOCK_CLOEXEC,
            0,
            fds.as_mut_ptr(),
        )
    } != 0
    {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: both descriptors were just created and are owned here.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// A close-on-exec pipe: (read, write).
pub(crate) fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: fds has room for the two descriptors.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: both descriptors were just created and are owned here.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

fn read_retry(fd: RawFd, buffer: &mut [u8]) -> io::Result<usize> {
    let mut total = 0;
    while total < buffer.len() {
        // SAFETY: the slice bounds the read.
        let read = unsafe {
            libc::read(
                fd,
                buffer[total..].as_mut_ptr().cast(),
                buffer.len() - total,
            )
        };
        match read {
            0 => break,
            n if n > 0 => total += n as usize,
            _ => {
                let error = io::Error::last_os_error();
                if error.kind() != io::ErrorKind::Interrupted {
                    return Err(error);
                }
            }
        }
    }
    Ok(total)
}

/// The outcome of [`wait_child`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Waited {
    /// Exited with this code.
    Exited(i32),
    /// Killed by this signal.
    Signalled(i32),
    /// Still running (a signal interrupted the wait, or `block` was false).
    Running,
}

/// `waitpid` on one child; `block` waits until it ends or a signal arrives.
pub(crate) fn wait_child(pid: libc::pid_t, block: bool) -> io::Result<Waited> {
    let mut status = 0;
    let flags = if block { 0 } else { libc::WNOHANG };
    // SAFETY: status is a valid out pointer.
    let waited = unsafe { libc::waitpid(pid, &raw mut status, flags) };
    if waited < 0 {
        let error = io::Error::last_os_error();
        return if error.kind() == io::ErrorKind::Interrupted {
            Ok(Waited::Running)
        } else {
            Err(error)
        };
    }
    if waited == 0 {
        return Ok(Waited::Running);
    }
    if libc::WIFEXITED(status) {
        Ok(Waited::Exited(libc::WEXITSTATUS(status)))
    } else if libc::WIFSIGNALED(status) {
        Ok(Waited::Signalled(libc::WTERMSIG(status)))
    } else {
        Ok(Waited::Running)
    }
}

/// Reaps any child that has ended (daemons re-parented to us as subreaper); true if one was.
pub(crate) fn reap_any() -> bool {
    let mut status = 0;
    // SAFETY: status is a valid out pointer.
    unsafe { libc::waitpid(-1, &raw mut status, libc::WNOHANG) > 0 }
}

/// Sends `signal` to `pid`.
pub(crate) fn kill(pid: libc::pid_t, signal: i32) {
    // SAFETY: plain syscall; a vanished pid gives ESRCH, which is fine.
    unsafe { libc::kill(pid, signal) };
}

/// Makes this process the reaper of its orphaned descendants, so the workload's daemons stay ours
/// to stop.
pub(crate) fn become_subreaper() {
    // SAFETY: plain prctl.
    unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) };
}

/// The effective user id.
pub(crate) fn euid() -> u32 {
    // SAFETY: plain syscall.
    unsafe { libc::geteuid() }
}

/// The last signal received among those [`catch_signals`] set up (0 for none); cleared on read.
static LAST_SIGNAL: AtomicI32 = AtomicI32::new(0);

/// Whether any of those signals arrived during this run (never cleared).
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

extern "C" fn remember(signal: libc::c_int) {
    LAST_SIGNAL.store(signal, Ordering::SeqCst);
    INTERRUPTED.store(true, Ordering::SeqCst);
}

/// Whether the user interrupted the run (Ctrl-C, SIGTERM …): capability trials are then skipped.
pub(crate) fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// Catches SIGINT, SIGTERM, SIGHUP and SIGQUIT into a flag (no SA_RESTART, so a blocking wait
/// returns), so that the recorder can stop the workload and clean up instead of dying with it.
/// Exec resets caught signals to their defaults, so the workload keeps its own behaviour.
pub(crate) fn catch_signals() {
    for signal in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP, libc::SIGQUIT] {
        // SAFETY: the handler only stores to an atomic.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = remember as *const () as usize;
            libc::sigemptyset(&raw mut action.sa_mask);
            libc::sigaction(signal, &raw const action, std::ptr::null_mut());
        }
    }
}

/// Takes the signal caught since the last call.
pub(crate) fn take_signal() -> Option<i32> {
    match LAST_SIGNAL.swap(0, Ordering::SeqCst) {
        0 => None,
        signal => Some(signal),
    }
}

/// A seccomp user-notification listener.
pub(crate) struct Listener {
    fd: OwnedFd,
}

/// What [`Listener::next`] saw.
pub(crate) enum Notification {
    /// A syscall: its number and `AUDIT_ARCH_*`.
    Syscall { nr: i32, arch: u32 },
    /// No task uses the filter any more.
    Gone,
    /// Nothing within the poll interval (or a signal arrived).
    Idle,
}

impl Listener {
    /// Wraps a received listener; asks for synchronous wake-ups where the kernel has them.
    pub(crate) fn new(fd: OwnedFd) -> Self {
        // SAFETY: ioctl on our own listener with a pointer to a u64; failure (kernel < 6.6) only
        // costs speed.
        unsafe {
            libc::ioctl(
                fd.as_raw_fd(),
                libc::SECCOMP_IOCTL_NOTIF_SET_FLAGS as _,
                SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP,
            )
        };
        Self { fd }
    }

    /// Waits up to `timeout_ms` for the next notification and lets the syscall run on.
    pub(crate) fn next(&self, timeout_ms: i32) -> Notification {
        let mut poll = libc::pollfd {
            fd: self.fd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one pollfd.
        let ready = unsafe { libc::poll(&raw mut poll, 1, timeout_ms) };
        if ready <= 0 {
            return Notification::Idle;
        }
        if poll.revents & libc::POLLIN == 0 {
            return if poll.revents & (libc::POLLHUP | libc::POLLERR) != 0 {
                Notification::Gone
            } else {
                Notification::Idle
            };
        }
        // SAFETY: the kernel requires a zeroed seccomp_notif; both structs are plain data.
        unsafe {
            let mut notif: libc::seccomp_notif = std::mem::zeroed();
            if libc::ioctl(
                self.fd.as_raw_fd(),
                libc::SECCOMP_IOCTL_NOTIF_RECV as _,
                &raw mut notif,
            ) != 0
            {
                // ENOENT: the task died before we read it.
                return Notification::Idle;
            }
            let mut response: libc::seccomp_notif_resp = std::mem::zeroed();
            response.id = notif.id;
            response.flags = libc::SECCOMP_USER_NOTIF_FLAG_CONTINUE as u32;
            libc::ioctl(
                self.fd.as_raw_fd(),
                libc::SECCOMP_IOCTL_NOTIF_SEND as _,
                &raw mut response,
            );
            Notification::Syscall {
                nr: notif.data.nr,
                arch: notif.data.arch,
            }
        }
    }
}

/// `AUDIT_ARCH_*` of the native architecture.
pub(crate) fn native_audit_arch() -> u32 {
    if cfg!(target_arch = "aarch64") {
        0xc000_00b7
    } else {
        0xc000_003e
    }
}
