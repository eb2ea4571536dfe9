//! Passing the seccomp listener fd from the shim (inside the agent's PTY) to overwatch: a private
//! Unix socket bound before the spawn, one `SCM_RIGHTS` message, a one-byte ack.
//!
//! Wire protocol (one connection, shim → overwatch):
//! - `L` with the listener fd in an `SCM_RIGHTS` control message, or
//! - `R<refusal>\n` where `<refusal>` is `Refusal::encode` (the kernel refused the filter);
//!
//! then overwatch → shim: `A` (ack). The shim execs the agent only after the ack, and exits
//! with an error if none comes, so the agent never runs unguarded by accident.
//!
//! **Invariants:** the socket lives in a fresh 0700 directory and is 0600; only a peer with our
//! uid (any uid if we are root) and, if known, the spawned child's pid is accepted; the
//! directory is removed when the [`ExecGateListener`] is dropped; the received fd must be a
//! seccomp listener.

use std::fs;
use std::io::{self, IoSlice, IoSliceMut, Read, Write};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::socket::{ControlMessage, ControlMessageOwned, MsgFlags, recvmsg, sendmsg, sockopt};

use super::filter::Refusal;
use super::sys;

/// What the shim handed over.
#[derive(Debug)]
pub enum Handoff {
    /// The seccomp listener: give it to [`super::serve::serve`].
    Listener(OwnedFd),
    /// The kernel refused the filter; the agent runs without the exec gate (say so in the status
    /// bar; hooks and PATH shims still apply).
    Refused(Refusal),
}

/// Errors of the listener handoff.
#[derive(Debug, thiserror::Error)]
pub enum HandoffError {
    #[error("{doing}: {source}")]
    Io {
        doing: &'static str,
        #[source]
        source: io::Error,
    },
    #[error("the exec-gate shim did not connect within {0:?}")]
    Timeout(Duration),
    #[error("the exec-gate shim sent a malformed message: {0}")]
    BadMessage(String),
    #[error("the fd sent by the exec-gate shim is not a seccomp listener ({0})")]
    NotAListener(String),
    #[error("overwatch did not acknowledge the exec-gate listener")]
    NoAck,
}

fn io_err(doing: &'static str) -> impl FnOnce(io::Error) -> HandoffError {
    move |source| HandoffError::Io { doing, source }
}

fn nix_err(doing: &'static str) -> impl FnOnce(nix::errno::Errno) -> HandoffError {
    move |errno| HandoffError::Io {
        doing,
        source: io::Error::from(errno),
    }
}

/// The argv to spawn in the PTY instead of the agent's:
/// `EXE __exec-shim --listener-socket SOCKET -- ARGV…`. Paths are converted lossily (overwatch's
/// own path and its runtime dir are UTF-8 in practice).
pub fn wrap_argv(exe: &Path, listener_socket: &Path, argv: &[String]) -> Vec<String> {
    let mut wrapped = vec![
        exe.to_string_lossy().into_owned(),
        "__exec-shim".to_string(),
        "--listener-socket".to_string(),
        listener_socket.to_string_lossy().into_owned(),
        "--".to_string(),
    ];
    wrapped.extend(argv.iter().cloned());
    wrapped
}

/// overwatch's end of the handoff: bind before spawning the shim, then [`accept_fd`].
///
/// [`accept_fd`]: ExecGateListener::accept_fd
#[derive(Debug)]
pub struct ExecGateListener {
    socket: PathBuf,
    listener: UnixListener,
    // Dropped last: removes the socket and its private directory.
    _dir: tempfile::TempDir,
}

impl ExecGateListener {
    /// Binds in `$XDG_RUNTIME_DIR` (else the temp dir).
    pub fn bind() -> Result<Self, HandoffError> {
        let parent = dirs::runtime_dir().unwrap_or_else(std::env::temp_dir);
        Self::bind_in(&parent)
    }

    /// Binds `exec.sock` (0600) in a fresh 0700 directory under `parent`.
    pub fn bind_in(parent: &Path) -> Result<Self, HandoffError> {
        let dir = tempfile::Builder::new()
            .prefix("overwatch-exec-")
            .permissions(fs::Permissions::from_mode(0o700))
            .tempdir_in(parent)
            .map_err(io_err("creating the exec-gate socket directory"))?;
        let socket = dir.path().join("exec.sock");
        let listener =
            UnixListener::bind(&socket).map_err(io_err("binding the exec-gate socket"))?;
        fs::set_permissions(&socket, fs::Permissions::from_mode(0o600))
            .map_err(io_err("restricting the exec-gate socket to its owner"))?;
        listener
            .set_nonblocking(true)
            .map_err(io_err("configuring the exec-gate socket"))?;
        Ok(ExecGateListener {
            socket,
            listener,
            _dir: dir,
        })
    }

    /// The socket path to pass to [`wrap_argv`].
    pub fn socket_path(&self) -> &Path {
        &self.socket
    }

    /// Waits up to `timeout` for the shim, receives the listener fd or the refusal and acks.
    /// With `expected_pid` (the PTY child's pid) a connection from any other process is ignored.
    /// Consumes the listener: the socket and its directory are removed on return.
    pub fn accept_fd(
        self,
        timeout: Duration,
        expected_pid: Option<u32>,
    ) -> Result<Handoff, HandoffError> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(HandoffError::Timeout(timeout));
            }
            let ms = u16::try_from(left.as_millis().max(1)).unwrap_or(u16::MAX);
            let mut fds = [PollFd::new(self.listener.as_fd(), PollFlags::POLLIN)];
            match poll(&mut fds, PollTimeout::from(ms)) {
                Ok(0) | Err(nix::errno::Errno::EINTR) => continue,
                Ok(_) => {}
                Err(err) => return Err(nix_err("waiting for the exec-gate shim")(err)),
            }
            let (stream, _) = match self.listener.accept() {
                Ok(pair) => pair,
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => continue,
                Err(err) => return Err(io_err("accepting the exec-gate shim")(err)),
            };
            let creds = nix::sys::socket::getsockopt(&stream, sockopt::PeerCredentials)
                .map_err(nix_err("reading the exec-gate shim's credentials"))?;
            // Root may supervise another user's agent (it can read any task's memory anyway).
            let euid = nix::unistd::geteuid();
            let same_user = euid.is_root() || creds.uid() == euid.as_raw();
            let expected = expected_pid.is_none_or(|pid| creds.pid() as u32 == pid);
            if !same_user || !expected {
                continue; // Not our child: ignore it and keep waiting for the real shim.
            }
            stream
                .set_nonblocking(false)
                .and_then(|()| stream.set_read_timeout(Some(left.max(Duration::from_millis(1)))))
                .map_err(io_err("configuring the exec-gate connection"))?;
            return receive(stream);
        }
    }
}

/// Reads one handoff message and acks it.
fn receive(mut stream: UnixStream) -> Result<Handoff, HandoffError> {
    let mut buf = [0u8; 1];
    let mut cmsg = nix::cmsg_space!([std::os::fd::RawFd; 1]);
    let (tag, fds) = {
        let mut iov = [IoSliceMut::new(&mut buf)];
        let msg = recvmsg::<()>(
            stream.as_raw_fd(),
            &mut iov,
            Some(&mut cmsg),
            MsgFlags::MSG_CMSG_CLOEXEC,
        )
        .map_err(nix_err("receiving the exec-gate listener"))?;
        let mut fds = Vec::new();
        for cmsg in msg
            .cmsgs()
            .map_err(nix_err("reading the exec-gate control message"))?
        {
            if let ControlMessageOwned::ScmRights(received) = cmsg {
                fds.extend(received.into_iter().map(sys::own_received_fd));
            }
        }
        if msg.bytes == 0 {
            return Err(HandoffError::BadMessage("connection closed".into()));
        }
        (buf[0], fds)
    };
    let handoff = match tag {
        b'L' => {
            let mut fds = fds.into_iter();
            let (Some(fd), None) = (fds.next(), fds.next()) else {
                return Err(HandoffError::BadMessage("expected exactly one fd".into()));
            };
            check_is_listener(&fd)?;
            Handoff::Listener(fd)
        }
        b'R' => {
            let mut reason = Vec::new();
            let mut byte = [0u8; 1];
            loop {
                stream
                    .read_exact(&mut byte)
                    .map_err(io_err("reading the exec-gate refusal"))?;
                if byte[0] == b'\n' {
                    break;
                }
                if reason.len() == 1024 {
                    return Err(HandoffError::BadMessage("refusal too long".into()));
                }
                reason.push(byte[0]);
            }
            Handoff::Refused(Refusal::decode(&String::from_utf8_lossy(&reason)))
        }
        other => return Err(HandoffError::BadMessage(format!("unknown tag {other:#x}"))),
    };
    stream
        .write_all(b"A")
        .map_err(io_err("acknowledging the exec-gate shim"))?;
    Ok(handoff)
}

/// The kernel names listener fds `anon_inode:seccomp notify` in `/proc/self/fd`.
fn check_is_listener(fd: &OwnedFd) -> Result<(), HandoffError> {
    let link = fs::read_link(format!("/proc/self/fd/{}", fd.as_raw_fd()))
        .map_err(io_err("inspecting the received exec-gate fd"))?;
    let name = link.to_string_lossy();
    if name == "anon_inode:seccomp notify" {
        Ok(())
    } else {
        Err(HandoffError::NotAListener(name.into_owned()))
    }
}

/// The shim's end: connects to `socket`, sends the listener fd (or the refusal) and waits up to
/// `timeout` for the ack. The caller drops its copy of the fd afterwards, before exec'ing.
pub fn hand_over(
    socket: &Path,
    outcome: Result<&OwnedFd, &Refusal>,
    timeout: Duration,
) -> Result<(), HandoffError> {
    let mut stream = UnixStream::connect(socket)
        .map_err(io_err("connecting to overwatch's exec-gate socket"))?;
    stream
        .set_read_timeout(Some(timeout))
        .map_err(io_err("configuring the exec-gate connection"))?;
    match outcome {
        Ok(fd) => {
            let fds = [fd.as_raw_fd()];
            let cmsg = [ControlMessage::ScmRights(&fds)];
            sendmsg::<()>(
                stream.as_raw_fd(),
                &[IoSlice::new(b"L")],
                &cmsg,
                MsgFlags::empty(),
                None,
            )
            .map_err(nix_err("sending the exec-gate listener to overwatch"))?;
        }
        Err(refusal) => {
            let message = format!("R{}\n", refusal.encode().replace('\n', " "));
            stream
                .write_all(message.as_bytes())
                .map_err(io_err("telling overwatch the exec gate was refused"))?;
        }
    }
    let mut ack = [0u8; 1];
    match stream.read(&mut ack) {
        Ok(1) if ack[0] == b'A' => Ok(()),
        _ => Err(HandoffError::NoAck),
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::MetadataExt;
    use std::thread;

    use super::*;

    #[test]
    fn socket_is_private_and_removed_with_the_listener() {
        let parent = tempfile::tempdir().unwrap();
        let listener = ExecGateListener::bind_in(parent.path()).unwrap();
        let socket = listener.socket_path().to_path_buf();
        let dir = socket.parent().unwrap().to_path_buf();
        assert_eq!(fs::metadata(&dir).unwrap().mode() & 0o777, 0o700);
        assert_eq!(fs::metadata(&socket).unwrap().mode() & 0o777, 0o600);
        drop(listener);
        assert!(!dir.exists());
    }

    #[test]
    fn a_refusal_is_received_and_acked() {
        let parent = tempfile::tempdir().unwrap();
        let listener = ExecGateListener::bind_in(parent.path()).unwrap();
        let socket = listener.socket_path().to_path_buf();
        let shim = thread::spawn(move || {
            hand_over(
                &socket,
                Err(&Refusal::NestedListener),
                Duration::from_secs(5),
            )
        });
        let got = listener
            .accept_fd(Duration::from_secs(5), Some(std::process::id()))
            .unwrap();
        assert!(
            matches!(got, Handoff::Refused(Refusal::NestedListener)),
            "{got:?}"
        );
        shim.join().unwrap().unwrap();
    }

    #[test]
    fn an_fd_that_is_not_a_seccomp_listener_is_rejected_and_not_acked() {
        let parent = tempfile::tempdir().unwrap();
        let listener = ExecGateListener::bind_in(parent.path()).unwrap();
        let socket = listener.socket_path().to_path_buf();
        let shim = thread::spawn(move || {
            let file = OwnedFd::from(fs::File::open("/dev/null").unwrap());
            hand_over(&socket, Ok(&file), Duration::from_secs(5))
        });
        let err = listener
            .accept_fd(Duration::from_secs(5), None)
            .unwrap_err();
        assert!(matches!(err, HandoffError::NotAListener(_)), "{err}");
        assert!(matches!(shim.join().unwrap(), Err(HandoffError::NoAck)));
    }

    #[test]
    fn a_connection_from_another_pid_is_ignored_until_timeout() {
        let parent = tempfile::tempdir().unwrap();
        let listener = ExecGateListener::bind_in(parent.path()).unwrap();
        let socket = listener.socket_path().to_path_buf();
        let shim = thread::spawn(move || {
            hand_over(
                &socket,
                Err(&Refusal::UnsupportedArch),
                Duration::from_secs(5),
            )
        });
        let err = listener
            .accept_fd(Duration::from_millis(300), Some(1))
            .unwrap_err();
        assert!(matches!(err, HandoffError::Timeout(_)), "{err}");
        assert!(shim.join().unwrap().is_err());
    }

    #[test]
    fn wrap_argv_puts_the_agent_after_the_separator() {
        let argv = wrap_argv(
            Path::new("/usr/bin/overwatch"),
            Path::new("/run/user/1000/overwatch-exec-x/exec.sock"),
            &["claude".into(), "--resume".into()],
        );
        assert_eq!(
            argv,
            [
                "/usr/bin/overwatch",
                "__exec-shim",
                "--listener-socket",
                "/run/user/1000/overwatch-exec-x/exec.sock",
                "--",
                "claude",
                "--resume"
            ]
        );
    }
}
