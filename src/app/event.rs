//! Events: facts that happened outside the pure core (a key was pressed, the agent wrote bytes,
//! the terminal was resized, the agent exited, a second passed, a signal arrived).
//!
//! Sources (the input thread, the PTY reader, signal handlers, timers) only produce [`Event`]s;
//! they never touch the model.

use std::time::Instant;

use crossterm::event::{KeyEvent, MouseEvent};

use crate::context::watch::ContextUpdate;
use crate::gate::pending::GateEvent;
use crate::session::ExitStatus;

/// The code overwatch exits with for an agent exit status: the shell's `$?` (code, or
/// 128+signal), clamped to 0–255.
pub fn exit_code(status: ExitStatus) -> u8 {
    u8::try_from(status.shell_code().clamp(0, 255)).unwrap_or(u8::MAX)
}

/// A human description of an exit status: `0`, `1`, `137 (SIGKILL)`.
pub fn describe_exit(status: ExitStatus) -> String {
    match status {
        ExitStatus::Code(_) => exit_code(status).to_string(),
        ExitStatus::Signal(sig) => {
            let name = nix::sys::signal::Signal::try_from(sig)
                .map(|s| s.as_str().to_string())
                .unwrap_or_else(|_| format!("signal {sig}"));
            format!("{} ({name})", exit_code(status))
        }
    }
}

/// Something that happened. Turned into an action by [`super::update::intent`].
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// A key press, repeat or release from the outer terminal.
    Key(KeyEvent),
    /// Text pasted into the outer terminal (it was in bracketed-paste mode).
    Paste(String),
    /// A mouse event from the outer terminal (overwatch always captures the mouse).
    Mouse(MouseEvent),
    /// The outer terminal gained (true) or lost (false) focus.
    Focus(bool),
    /// The outer terminal's new size in columns and rows.
    Resized { cols: u16, rows: u16 },
    /// Bytes the agent wrote to its PTY.
    PtyOutput(Vec<u8>),
    /// The agent exited.
    AgentExited(ExitStatus),
    /// The wall clock reached this instant (the status bar's elapsed time).
    Tick(Instant),
    /// overwatch received this signal (SIGTERM, SIGHUP).
    Signalled(i32),
    /// The deadline of the agent's synchronized-output block (DEC 2026) passed at this instant.
    SyncExpired(Instant),
    /// The gate held a request, a held request went away, or a decision was made.
    Gate(GateEvent),
    /// A watched context file changed and the context was detected again.
    ContextChanged(ContextUpdate),
    /// A note from the session's machinery (exec gate state, recording) for the Activity tab.
    Note(String),
    /// The workspace watcher reported a change (boxed: file diffs are large).
    Diff(Box<crate::diff::DiffEvent>),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_follow_the_shell_convention() {
        assert_eq!(exit_code(ExitStatus::Code(0)), 0);
        assert_eq!(exit_code(ExitStatus::Code(3)), 3);
        assert_eq!(exit_code(ExitStatus::Code(300)), 255);
        assert_eq!(exit_code(ExitStatus::Signal(9)), 137);
        assert_eq!(describe_exit(ExitStatus::Signal(9)), "137 (SIGKILL)");
        assert_eq!(describe_exit(ExitStatus::Code(1)), "1");
    }
}
