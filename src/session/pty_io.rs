//! The three named threads behind an `AgentPty`: reader (PTY → bounded channel), writer (queue →
//! PTY) and waiter (reaps the agent, reports its exit).
//!
//! Invariants: the reader never holds more than one chunk while the channel is full (the agent
//! blocks instead, see `send_or_stop`); every thread wakes within 100 ms of the stop signal so
//! `AgentPty::shutdown` can really close the PTY master (the kernel only hangs up the PTY when the
//! last descriptor of the master is closed, and the reader and writer each hold one).

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::Duration;

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::Pid;
use tokio::sync::mpsc::Sender;
use tokio::sync::mpsc::error::TrySendError;

use super::pty::{ExitStatus, PtyEvent};

/// Largest chunk the reader sends (bytes).
pub(crate) const READ_CHUNK: usize = 64 * 1024;

/// Tells the threads to stop: a flag plus the read end of a pipe whose write end `AgentPty` drops,
/// which makes the read end readable (POLLHUP) for every `poll` waiting on it.
pub(crate) struct Stop {
    pub flag: AtomicBool,
    pub wake: OwnedFd,
}

impl Stop {
    fn stopped(&self) -> bool {
        self.flag.load(Ordering::Acquire)
    }

    /// Waits up to `timeout_ms` for the stop signal; true when stopping.
    fn wait(&self, timeout_ms: u16) -> bool {
        let mut fds = [PollFd::new(self.wake.as_fd(), PollFlags::POLLIN)];
        let _ = poll(&mut fds, PollTimeout::from(timeout_ms));
        self.stopped() || fds[0].any().unwrap_or(false)
    }
}

/// The agent's exit status, set once by the waiter.
#[derive(Default)]
pub(crate) struct ExitSlot {
    status: Mutex<Option<ExitStatus>>,
    changed: Condvar,
}

impl ExitSlot {
    fn set(&self, status: ExitStatus) {
        *self.status.lock().unwrap_or_else(PoisonError::into_inner) = Some(status);
        self.changed.notify_all();
    }

    /// The status, waiting up to `timeout` for it.
    pub fn wait(&self, timeout: Duration) -> Option<ExitStatus> {
        let guard = self.status.lock().unwrap_or_else(PoisonError::into_inner);
        let (guard, _) = self
            .changed
            .wait_timeout_while(guard, timeout, |s| s.is_none())
            .unwrap_or_else(PoisonError::into_inner);
        *guard
    }
}

/// Sends `event`, waiting while the channel is full.
///
/// Backpressure rule: the channel to the app is bounded; while it is full the reader stops reading,
/// the kernel's PTY buffer fills and the agent blocks in write(2). A slow UI throttles the agent
/// instead of growing our memory. The wait is sliced (10 ms) only so a shutdown can interrupt it.
/// Returns false when stopping or the app dropped the receiver.
fn send_or_stop(tx: &Sender<PtyEvent>, stop: &Stop, mut event: PtyEvent) -> bool {
    loop {
        match tx.try_send(event) {
            Ok(()) => return true,
            Err(TrySendError::Closed(_)) => return false,
            Err(TrySendError::Full(back)) => {
                event = back;
                if stop.wait(10) {
                    return false;
                }
            }
        }
    }
}

/// Reader thread body: poll the master and the stop pipe; forward chunks until EOF/EIO (every slave
/// descriptor closed) or stop. Drops `master` on return.
pub(crate) fn reader(master: OwnedFd, tx: Sender<PtyEvent>, stop: Arc<Stop>) {
    let mut buf = vec![0u8; READ_CHUNK];
    loop {
        let mut fds = [
            PollFd::new(master.as_fd(), PollFlags::POLLIN),
            PollFd::new(stop.wake.as_fd(), PollFlags::POLLIN),
        ];
        match poll(&mut fds, PollTimeout::NONE) {
            Ok(_) | Err(Errno::EINTR) => {}
            Err(_) => return,
        }
        if stop.stopped() || fds[1].any().unwrap_or(false) {
            return;
        }
        match nix::unistd::read(&master, &mut buf) {
            Ok(0) | Err(Errno::EIO) => return,
            Ok(n) => {
                if !send_or_stop(&tx, &stop, PtyEvent::Output(buf[..n].to_vec())) {
                    return;
                }
            }
            Err(Errno::EINTR | Errno::EAGAIN) => {}
            Err(_) => return,
        }
    }
}

/// Writes all of `bytes` to the non-blocking `fd`, waiting for POLLOUT; false on error or stop.
fn write_all(fd: BorrowedFd<'_>, mut bytes: &[u8], stop: &Stop) -> bool {
    while !bytes.is_empty() {
        match nix::unistd::write(fd, bytes) {
            Ok(n) => bytes = &bytes[n..],
            Err(Errno::EINTR) => {}
            Err(Errno::EAGAIN) => {
                let mut fds = [
                    PollFd::new(fd, PollFlags::POLLOUT),
                    PollFd::new(stop.wake.as_fd(), PollFlags::POLLIN),
                ];
                let _ = poll(&mut fds, PollTimeout::NONE);
                if stop.stopped() || fds[1].any().unwrap_or(false) {
                    return false;
                }
            }
            Err(_) => return false,
        }
    }
    true
}

/// Writer thread body: a separate thread so a full PTY input buffer (agent not reading, or paused)
/// never blocks the UI or the reader (vim-style deadlocks otherwise). Drops `master` on return.
pub(crate) fn writer(master: OwnedFd, rx: Receiver<Vec<u8>>, stop: Arc<Stop>) {
    loop {
        match rx.recv_timeout(Duration::from_millis(100)) {
            Ok(bytes) => {
                if !write_all(master.as_fd(), &bytes, &stop) {
                    return;
                }
            }
            Err(RecvTimeoutError::Timeout) => {
                if stop.stopped() {
                    return;
                }
            }
            Err(RecvTimeoutError::Disconnected) => return,
        }
    }
}

/// Waiter thread body: reaps the agent (so it never stays a zombie), records its status, then sends
/// `Exited` after the reader has finished (or 200 ms, if a leftover descendant keeps the PTY open).
pub(crate) fn waiter(
    pid: i32,
    slot: Arc<ExitSlot>,
    reader_done: Receiver<()>,
    tx: Sender<PtyEvent>,
    stop: Arc<Stop>,
    _keep_child: Box<dyn portable_pty::Child + Send + Sync>,
) {
    let status = loop {
        match waitpid(Pid::from_raw(pid), None) {
            Ok(WaitStatus::Exited(_, code)) => break ExitStatus::Code(code),
            Ok(WaitStatus::Signaled(_, signal, _)) => break ExitStatus::Signal(signal as i32),
            Ok(_) | Err(Errno::EINTR) => continue,
            // ECHILD: someone else reaped it; nothing more can be learned.
            Err(_) => break ExitStatus::Code(-1),
        }
    };
    slot.set(status);
    let _ = reader_done.recv_timeout(Duration::from_millis(200));
    send_or_stop(&tx, &stop, PtyEvent::Exited(status));
}

/// Keeps `_tx` alive until the reader returns; dropping it tells the waiter the output is drained.
pub(crate) fn reader_with_done(
    master: OwnedFd,
    tx: Sender<PtyEvent>,
    stop: Arc<Stop>,
    _done: SyncSender<()>,
) {
    reader(master, tx, stop);
}
