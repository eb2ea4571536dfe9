//! The agent's PTY: spawn, read, write, resize, pause, shut down. The only user of portable-pty.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use super::model::PaneSize;

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
    /// The agent exited; sent after the reader has drained the output (or after 200 ms).
    Exited(ExitStatus),
}

/// Receiving end of the PTY's bounded event channel.
pub type PtyOutput = tokio::sync::mpsc::Receiver<PtyEvent>;

/// Handle that sends bytes to the PTY's writer thread.
#[derive(Clone, Debug)]
pub struct PtyWriter {}

impl PtyWriter {
    /// Queues `bytes` for the agent without blocking; errors when the queue is full or closed.
    pub fn write(&self, bytes: Vec<u8>) -> Result<(), SessionError> {
        let _ = bytes;
        Ok(())
    }
}

/// What `shutdown` did.
#[derive(Clone, Debug, Default)]
pub struct ShutdownReport {
    /// The agent's exit status, if it was reaped.
    pub status: Option<ExitStatus>,
    /// True when the grace period ran out and the group was SIGKILLed.
    pub killed: bool,
    /// Descendants still alive after the agent ended, which were then killed: (pid, command name).
    pub leftovers: Vec<(u32, String)>,
}

/// The agent's PTY and process group.
pub struct AgentPty {}

impl AgentPty {
    /// Spawns `spec.argv` in a new PTY; returns it with the bounded event receiver.
    pub fn spawn(spec: SpawnSpec) -> Result<(AgentPty, PtyOutput), SessionError> {
        let _ = spec;
        Err(SessionError::EmptyCommand)
    }

    /// The agent's pid.
    pub fn pid(&self) -> Option<u32> {
        None
    }

    /// The agent's process group (= its pid: portable-pty makes it a session leader).
    pub fn pgid(&self) -> Option<i32> {
        None
    }

    /// A cloneable writer handle.
    pub fn writer(&self) -> PtyWriter {
        PtyWriter {}
    }

    /// Sets the PTY size (TIOCSWINSZ; the agent gets SIGWINCH).
    pub fn resize(&self, size: PaneSize) -> Result<(), SessionError> {
        let _ = size;
        Ok(())
    }

    /// SIGSTOP to the agent's process group.
    pub fn pause(&self) -> Result<(), SessionError> {
        Ok(())
    }

    /// SIGCONT to the agent's process group.
    pub fn resume(&self) -> Result<(), SessionError> {
        Ok(())
    }

    /// Closes the PTY, waits up to `grace` for the agent to exit, then SIGKILLs the group and kills
    /// leftover descendants.
    pub fn shutdown(self, grace: Duration) -> ShutdownReport {
        let _ = grace;
        ShutdownReport::default()
    }
}

/// SIGKILL to process group `pgid`; async-signal-safe, for signal and panic paths.
pub fn kill_group_now(pgid: i32) {
    let _ = pgid;
}
