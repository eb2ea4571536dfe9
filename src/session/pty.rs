//! The agent's PTY: spawn, read, write, resize, pause, shut down. The only user of portable-pty.
//!
//! Handle lifetimes follow wezterm: the slave is dropped right after spawn; the reader and the writer
//! each own a duplicate of the master descriptor; the master itself is kept until shutdown.
//! Invariants: the agent is a session and process-group leader (portable-pty calls setsid), so its
//! pgid is its pid; the waiter thread reaps it (no zombies); dropping an `AgentPty` that was not
//! shut down SIGKILLs the group and its known descendants.

use std::ffi::OsString;
use std::os::fd::{BorrowedFd, FromRawFd, OwnedFd};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{SyncSender, TrySendError};
use std::thread::JoinHandle;
use std::time::Duration;

use nix::fcntl::{FcntlArg, OFlag, fcntl};
use nix::sys::signal::Signal;
use portable_pty::{CommandBuilder, MasterPty, PtySize, native_pty_system};

use super::model::PaneSize;
use super::procs;
use super::pty_io::{self, ExitSlot, Stop};

/// Errors at the PTY boundary.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// Opening the PTY pair failed.
    #[error("opening a PTY of {cols}x{rows}")]
    OpenPty {
        cols: u16,
        rows: u16,
        #[source]
        source: anyhow::Error,
    },
    /// The command could not be started.
    #[error("starting {program:?} in a PTY")]
    Spawn {
        program: OsString,
        #[source]
        source: anyhow::Error,
    },
    /// The argv was empty.
    #[error("no command to run")]
    EmptyCommand,
    /// Resizing the PTY failed.
    #[error("resizing the PTY to {cols}x{rows}")]
    Resize {
        cols: u16,
        rows: u16,
        #[source]
        source: anyhow::Error,
    },
    /// The writer queue is full (the agent has not read its input for a long time).
    #[error("sending input to the agent: its input queue is full")]
    WriterFull,
    /// The PTY is closed.
    #[error("sending input to the agent: the PTY is closed")]
    WriterClosed,
    /// An OS call on the PTY or the process group failed.
    #[error("{doing}")]
    Os {
        doing: &'static str,
        #[source]
        source: std::io::Error,
    },
}

/// What to run and how.
#[derive(Clone, Debug)]
pub struct SpawnSpec {
    /// Program and arguments; `argv[0]` is looked up on PATH.
    pub argv: Vec<OsString>,
    /// Working directory (always set: portable-pty would default to $HOME).
    pub cwd: PathBuf,
    /// Variables to set on top of overwatch's own environment.
    pub env_set: Vec<(OsString, OsString)>,
    /// Variables to remove from it.
    pub env_remove: Vec<OsString>,
    /// Initial PTY size.
    pub size: PaneSize,
}

/// How the agent ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitStatus {
    /// Normal exit with this code.
    Code(i32),
    /// Killed by this signal number.
    Signal(i32),
}

impl ExitStatus {
    /// The shell convention: the code, or 128 + signal number.
    pub fn shell_code(self) -> i32 {
        match self {
            ExitStatus::Code(c) => c,
            ExitStatus::Signal(s) => 128 + s,
        }
    }
}

/// An event from the PTY's reader or waiter thread.
#[derive(Debug)]
pub enum PtyEvent {
    /// A chunk of output (at most 64 KiB).
    Output(Vec<u8>),
    /// The agent exited; sent after the reader has drained the output (or after 200 ms, when a
    /// leftover descendant keeps the PTY open). `Code(-1)` if the status was lost (ECHILD: someone
    /// else reaped the agent).
    Exited(ExitStatus),
}

/// Receiving end of the PTY's bounded event channel.
pub type PtyOutput = tokio::sync::mpsc::Receiver<PtyEvent>;

/// Chunks the app may queue for the writer thread before `PtyWriter::write` reports `WriterFull`.
const WRITE_QUEUE: usize = 256;
/// Output chunks (≤ 64 KiB each) buffered between the reader thread and the app.
const OUTPUT_QUEUE: usize = 64;

/// Cloneable handle that queues bytes for the PTY's writer thread; never blocks.
#[derive(Clone, Debug)]
pub struct PtyWriter {
    tx: SyncSender<Vec<u8>>,
}

impl PtyWriter {
    /// Queues `bytes` for the agent without blocking. Errors with `WriterFull` when 256 chunks are
    /// already waiting (the agent has not read its input for a long time, e.g. it is paused) and
    /// `WriterClosed` after the PTY closed; the bytes are then dropped.
    pub fn write(&self, bytes: Vec<u8>) -> Result<(), SessionError> {
        if bytes.is_empty() {
            return Ok(());
        }
        self.tx.try_send(bytes).map_err(|e| match e {
            TrySendError::Full(_) => SessionError::WriterFull,
            TrySendError::Disconnected(_) => SessionError::WriterClosed,
        })
    }
}

/// What `shutdown` did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ShutdownReport {
    /// The agent's exit status, if it was reaped.
    pub status: Option<ExitStatus>,
    /// True when the agent outlived the grace period and the group was SIGKILLed.
    pub killed: bool,
    /// Descendants still alive after the agent ended, which were then SIGKILLed: (pid, command name).
    pub leftovers: Vec<(u32, String)>,
}

/// The agent's PTY and process group.
pub struct AgentPty {
    master: Option<Box<dyn MasterPty + Send>>,
    pid: i32,
    writer_tx: SyncSender<Vec<u8>>,
    stop: Arc<Stop>,
    /// Dropping this wakes every thread polling the stop pipe.
    stop_wake: Option<OwnedFd>,
    exit: Arc<ExitSlot>,
    threads: Vec<JoinHandle<()>>,
    shut_down: bool,
}

fn os_err(doing: &'static str) -> impl FnOnce(nix::errno::Errno) -> SessionError {
    move |errno| SessionError::Os {
        doing,
        source: std::io::Error::from(errno),
    }
}

/// Duplicates `fd` with close-on-exec, so processes overwatch starts later (git, probes, a second
/// agent) never inherit the master: one inherited copy would keep the PTY from ever hanging up.
fn dup_cloexec(fd: BorrowedFd<'_>) -> nix::Result<OwnedFd> {
    let raw = fcntl(fd, FcntlArg::F_DUPFD_CLOEXEC(0))?;
    // SAFETY: F_DUPFD_CLOEXEC returned a new descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(raw) })
}

fn spawn_thread(
    name: String,
    body: impl FnOnce() + Send + 'static,
) -> Result<JoinHandle<()>, SessionError> {
    std::thread::Builder::new()
        .name(name)
        .spawn(body)
        .map_err(|source| SessionError::Os {
            doing: "starting a PTY thread",
            source,
        })
}

impl AgentPty {
    /// Spawns `spec.argv` in a new PTY of `spec.size` with `spec.cwd`, overwatch's environment plus
    /// `TERM=xterm-256color`, `COLORTERM=truecolor`, then `env_set`, minus `env_remove`. Returns the
    /// PTY and the bounded event receiver (64 chunks): `Output` chunks, then one `Exited`.
    pub fn spawn(spec: SpawnSpec) -> Result<(AgentPty, PtyOutput), SessionError> {
        let (program, args) = spec.argv.split_first().ok_or(SessionError::EmptyCommand)?;
        let size = PtySize {
            rows: spec.size.rows,
            cols: spec.size.cols,
            pixel_width: 0,
            pixel_height: 0,
        };
        let pair = native_pty_system()
            .openpty(size)
            .map_err(|source| SessionError::OpenPty {
                cols: spec.size.cols,
                rows: spec.size.rows,
                source,
            })?;
        let mut cmd = CommandBuilder::new(program);
        cmd.args(args);
        cmd.cwd(&spec.cwd);
        cmd.env("TERM", "xterm-256color");
        cmd.env("COLORTERM", "truecolor");
        for (k, v) in &spec.env_set {
            cmd.env(k, v);
        }
        for k in &spec.env_remove {
            cmd.env_remove(k);
        }
        let child = pair
            .slave
            .spawn_command(cmd)
            .map_err(|source| SessionError::Spawn {
                program: program.clone(),
                source,
            })?;
        // The agent has its own copies of the slave; ours would keep the PTY open after it exits.
        drop(pair.slave);
        let master = pair.master;
        let pid = child
            .process_id()
            .and_then(|p| i32::try_from(p).ok())
            .ok_or(SessionError::Os {
                doing: "reading the agent's pid",
                source: std::io::ErrorKind::NotFound.into(),
            })?;

        // `child` moves into the waiter; if the threads cannot start, do not leave the agent behind.
        Self::start_threads(master, pid, child).inspect_err(|_| procs::kill_group_now(pid))
    }

    fn start_threads(
        master: Box<dyn MasterPty + Send>,
        pid: i32,
        child: Box<dyn portable_pty::Child + Send + Sync>,
    ) -> Result<(AgentPty, PtyOutput), SessionError> {
        let raw = master.as_raw_fd().ok_or(SessionError::Os {
            doing: "reading the PTY master descriptor",
            source: std::io::ErrorKind::NotFound.into(),
        })?;
        // SAFETY: `raw` is the master's open descriptor and `master` outlives this borrow.
        let borrowed = unsafe { BorrowedFd::borrow_raw(raw) };
        // We dup the master ourselves instead of portable-pty's `take_writer`: its writer sends
        // "\n" + VEOF when dropped, which would submit a half-typed prompt in the agent.
        let reader_fd =
            dup_cloexec(borrowed).map_err(os_err("duplicating the PTY master for the reader"))?;
        let writer_fd =
            dup_cloexec(borrowed).map_err(os_err("duplicating the PTY master for the writer"))?;
        // Non-blocking so reader and writer can also poll the stop pipe (flag is shared by all dups).
        let flags = fcntl(&writer_fd, FcntlArg::F_GETFL).map_err(os_err("reading PTY flags"))?;
        fcntl(
            &writer_fd,
            FcntlArg::F_SETFL(OFlag::from_bits_truncate(flags) | OFlag::O_NONBLOCK),
        )
        .map_err(os_err("making the PTY master non-blocking"))?;
        let (wake_read, wake_write) =
            nix::unistd::pipe2(OFlag::O_CLOEXEC).map_err(os_err("creating the PTY stop pipe"))?;
        let stop = Arc::new(Stop {
            flag: Default::default(),
            wake: wake_read,
        });
        let exit = Arc::new(ExitSlot::default());
        let (out_tx, out_rx) = tokio::sync::mpsc::channel(OUTPUT_QUEUE);
        let (writer_tx, writer_rx) = std::sync::mpsc::sync_channel(WRITE_QUEUE);
        let (done_tx, done_rx) = std::sync::mpsc::sync_channel::<()>(1);

        let mut threads = Vec::with_capacity(3);
        let (tx, st) = (out_tx.clone(), stop.clone());
        threads.push(spawn_thread(format!("pty-reader-{pid}"), move || {
            pty_io::reader_with_done(reader_fd, tx, st, done_tx)
        })?);
        let st = stop.clone();
        threads.push(spawn_thread(format!("pty-writer-{pid}"), move || {
            pty_io::writer(writer_fd, writer_rx, st)
        })?);
        let (slot, st) = (exit.clone(), stop.clone());
        threads.push(spawn_thread(format!("pty-waiter-{pid}"), move || {
            pty_io::waiter(pid, slot, done_rx, out_tx, st, child)
        })?);
        let agent = AgentPty {
            master: Some(master),
            pid,
            writer_tx,
            stop,
            stop_wake: Some(wake_write),
            exit,
            threads,
            shut_down: false,
        };
        Ok((agent, out_rx))
    }

    /// The agent's pid.
    pub fn pid(&self) -> Option<u32> {
        u32::try_from(self.pid).ok()
    }

    /// The agent's process group id (= its pid: portable-pty makes it a session leader).
    pub fn pgid(&self) -> Option<i32> {
        Some(self.pid)
    }

    /// A cloneable writer handle (all clones feed the one writer thread).
    pub fn writer(&self) -> PtyWriter {
        PtyWriter {
            tx: self.writer_tx.clone(),
        }
    }

    /// Sets the PTY size (TIOCSWINSZ; the agent gets SIGWINCH).
    pub fn resize(&self, size: PaneSize) -> Result<(), SessionError> {
        let master = self.master.as_ref().ok_or(SessionError::WriterClosed)?;
        master
            .resize(PtySize {
                rows: size.rows,
                cols: size.cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .map_err(|source| SessionError::Resize {
                cols: size.cols,
                rows: size.rows,
                source,
            })
    }

    /// SIGSTOP to the agent's process group and every process group of its tree (the kill
    /// switch's pause; a shell agent with job control runs commands in their own groups).
    pub fn pause(&self) -> Result<(), SessionError> {
        procs::signal_tree(self.pid, Signal::SIGSTOP).map_err(os_err("pausing the agent (SIGSTOP)"))
    }

    /// SIGCONT to the same process groups as `pause`.
    pub fn resume(&self) -> Result<(), SessionError> {
        procs::signal_tree(self.pid, Signal::SIGCONT)
            .map_err(os_err("resuming the agent (SIGCONT)"))
    }

    /// The agent's exit status if it has already exited (without waiting).
    pub fn try_status(&self) -> Option<ExitStatus> {
        self.exit.wait(Duration::ZERO)
    }

    /// Ends the session: closes the PTY master (Claude Code and Codex exit within 0.1 s of the hangup
    /// and ignore SIGTERM/SIGHUP), waits up to `grace` for the agent, then SIGKILLs its process group,
    /// reaps it and SIGKILLs descendants still alive (Codex leaves a detached `codex app-server`).
    /// A paused group is resumed first so it can see the hangup.
    pub fn shutdown(mut self, grace: Duration) -> ShutdownReport {
        let tree = procs::agent_tree(self.pid);
        let _ = procs::signal_tree(self.pid, Signal::SIGCONT);
        self.close_pty();
        let mut report = ShutdownReport {
            status: self.exit.wait(grace),
            ..Default::default()
        };
        if report.status.is_none() {
            procs::kill_group_now(self.pid);
            report.killed = true;
            report.status = self.exit.wait(Duration::from_secs(2));
        }
        report.leftovers = procs::kill_leftovers(self.pid, &tree);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
        self.shut_down = true;
        report
    }

    /// Stops the reader and writer (they drop their master descriptors) and drops the master, so
    /// the kernel hangs up the PTY.
    fn close_pty(&mut self) {
        self.stop.flag.store(true, Ordering::Release);
        self.stop_wake = None;
        // Join reader and writer (they wake within 100 ms), not the waiter (it waits for the agent).
        let waiter = if self.threads.len() == 3 {
            self.threads.pop()
        } else {
            None
        };
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
        self.threads.extend(waiter);
        self.master = None;
    }
}

impl Drop for AgentPty {
    /// Invariant: an agent never outlives its `AgentPty` (e.g. on an error path or panic unwind).
    fn drop(&mut self) {
        if self.shut_down {
            return;
        }
        let tree = procs::agent_tree(self.pid);
        procs::kill_group_now(self.pid);
        procs::kill_leftovers(self.pid, &tree);
        self.stop.flag.store(true, Ordering::Release);
        self.stop_wake = None;
        self.master = None;
        // Threads are detached: the waiter reaps the killed agent on its own.
    }
}
