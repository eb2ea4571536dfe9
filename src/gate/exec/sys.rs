//! The exec gate's only `unsafe` code: the `seccomp(2)` calls and the `SECCOMP_IOCTL_NOTIF_*`
//! ioctls (linux/seccomp.h), each a thin typed wrapper returning `Errno`.
//!
//! **Invariant:** every block states why its pointers are valid for the call; nothing here keeps
//! a raw pointer or a raw fd past the call that produced it.

use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

use nix::errno::Errno;

/// `SECCOMP_GET_ACTION_AVAIL` for `SECCOMP_RET_USER_NOTIF` (Linux ≥ 5.0). Needs no privilege
/// and changes nothing, so the shim can ask before setting no-new-privs.
pub(super) fn user_notif_available() -> Result<(), Errno> {
    let action: u32 = libc::SECCOMP_RET_USER_NOTIF;
    // SAFETY: SECCOMP_GET_ACTION_AVAIL reads one u32 through the pointer, which points to a live
    // local for the duration of the call; flags must be 0.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            libc::SECCOMP_GET_ACTION_AVAIL,
            0 as libc::c_uint,
            &action as *const u32,
        )
    };
    if ret == 0 { Ok(()) } else { Err(Errno::last()) }
}

/// `seccomp(SECCOMP_SET_MODE_FILTER, flags, prog)`; with `SECCOMP_FILTER_FLAG_NEW_LISTENER` in
/// `flags` returns the listener fd (the kernel creates it `O_CLOEXEC`).
pub(super) fn install_filter(
    program: &[libc::sock_filter],
    flags: libc::c_ulong,
) -> Result<OwnedFd, Errno> {
    let len = u16::try_from(program.len()).map_err(|_| Errno::E2BIG)?;
    let fprog = libc::sock_fprog {
        len,
        filter: program.as_ptr().cast_mut(),
    };
    // SAFETY: the kernel reads `len` instructions from `filter`, which points into `program`
    // (alive and exactly `len` long for the call); it copies them and never writes through the
    // pointer despite the `*mut` in the C struct. `fprog` outlives the call.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            libc::SECCOMP_SET_MODE_FILTER,
            flags,
            &fprog as *const libc::sock_fprog,
        )
    };
    if ret < 0 {
        return Err(Errno::last());
    }
    let fd = RawFd::try_from(ret).map_err(|_| Errno::EBADF)?;
    // SAFETY: with NEW_LISTENER a successful call returns a new fd that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// An all-zero notification (the kernel requires the receive buffer to be zeroed).
fn zeroed_notif() -> libc::seccomp_notif {
    libc::seccomp_notif {
        id: 0,
        pid: 0,
        flags: 0,
        data: libc::seccomp_data {
            nr: 0,
            arch: 0,
            instruction_pointer: 0,
            args: [0; 6],
        },
    }
}

/// `SECCOMP_IOCTL_NOTIF_RECV`: blocks until a notification is pending (call after `poll` says
/// `POLLIN`). `ENOENT` means the task died between the wake-up and the receive; retry.
pub(super) fn notif_recv(listener: BorrowedFd<'_>) -> Result<libc::seccomp_notif, Errno> {
    let mut notif = zeroed_notif();
    // SAFETY: `listener` is an open fd for the call's duration (borrowed); the ioctl number
    // encodes sizeof(seccomp_notif) and the kernel writes exactly one struct into `notif`, a
    // live, writable, properly aligned local. On a non-listener fd the kernel returns ENOTTY.
    let ret = unsafe {
        libc::ioctl(
            listener.as_raw_fd(),
            libc::SECCOMP_IOCTL_NOTIF_RECV,
            &mut notif as *mut libc::seccomp_notif,
        )
    };
    if ret < 0 {
        Err(Errno::last())
    } else {
        Ok(notif)
    }
}

/// `SECCOMP_IOCTL_NOTIF_ID_VALID`: `Ok` while the task that sent notification `id` is still
/// waiting for our answer (so memory we read by its pid was really that task's);
/// `ENOENT` once it has died or been answered.
pub(super) fn notif_id_valid(listener: BorrowedFd<'_>, id: u64) -> Result<(), Errno> {
    // SAFETY: the kernel reads one u64 through the pointer, which points to a live local; the fd
    // is borrowed for the call.
    let ret = unsafe {
        libc::ioctl(
            listener.as_raw_fd(),
            libc::SECCOMP_IOCTL_NOTIF_ID_VALID,
            &id as *const u64,
        )
    };
    if ret < 0 { Err(Errno::last()) } else { Ok(()) }
}

/// `SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP` (linux/seccomp.h, Linux ≥ 6.6; libc lacks it).
const SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP: libc::c_ulong = 1;

/// `SECCOMP_IOCTL_NOTIF_SET_FLAGS` with `SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP`: the kernel wakes
/// the supervisor on the notifying task's CPU, and the task on the supervisor's when answered,
/// instead of migrating each to an idle CPU (a cross-CPU wake-up per exec; dear on a VM). Meant
/// for a supervisor whose receiving thread answers. `EINVAL`/`ENOTTY` before Linux 6.6.
pub(super) fn notif_set_sync_wake_up(listener: BorrowedFd<'_>) -> Result<(), Errno> {
    // SAFETY: this ioctl takes its flags by value, not through a pointer; the fd is borrowed for
    // the call.
    let ret = unsafe {
        libc::ioctl(
            listener.as_raw_fd(),
            libc::SECCOMP_IOCTL_NOTIF_SET_FLAGS,
            SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP,
        )
    };
    if ret < 0 { Err(Errno::last()) } else { Ok(()) }
}

/// How to answer a notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Response {
    /// Let the kernel run the syscall as if no filter were there.
    Continue,
    /// Fail the syscall with this errno (positive, e.g. `EPERM`).
    Fail(Errno),
}

/// `SECCOMP_IOCTL_NOTIF_SEND`. `ENOENT` means the task is gone (killed meanwhile).
pub(super) fn notif_send(
    listener: BorrowedFd<'_>,
    id: u64,
    response: Response,
) -> Result<(), Errno> {
    let (error, flags) = match response {
        // CONTINUE requires error == 0 and val == 0.
        Response::Continue => (0, libc::SECCOMP_USER_NOTIF_FLAG_CONTINUE as u32),
        Response::Fail(errno) => (-(errno as i32), 0),
    };
    let resp = libc::seccomp_notif_resp {
        id,
        val: 0,
        error,
        flags,
    };
    // SAFETY: the kernel reads one seccomp_notif_resp (size encoded in the ioctl number) from a
    // live local; the fd is borrowed for the call.
    let ret = unsafe {
        libc::ioctl(
            listener.as_raw_fd(),
            libc::SECCOMP_IOCTL_NOTIF_SEND,
            &resp as *const libc::seccomp_notif_resp,
        )
    };
    if ret < 0 { Err(Errno::last()) } else { Ok(()) }
}

/// Takes ownership of an fd that `recvmsg` just installed from an `SCM_RIGHTS` message.
pub(super) fn own_received_fd(fd: RawFd) -> OwnedFd {
    // SAFETY: the kernel installed `fd` in our table for this message only; the caller takes it
    // exactly once from the received control message, so nothing else owns or closes it.
    unsafe { OwnedFd::from_raw_fd(fd) }
}
