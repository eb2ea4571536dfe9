//! The agent session: its PTY (`pty`, the only portable-pty user) and the sans-I/O terminal model
//! (`model`) fed with the PTY's bytes, plus the input encoders (`input`) and mode snapshot (`modes`).
//!
//! Invariant: the PTY reader sends on a bounded channel, so a slow UI throttles the agent instead of
//! growing memory.

mod input;
mod model;
mod modes;
mod procs;
mod pty;
mod pty_io;
mod replies;

#[cfg(test)]
mod input_tests;
#[cfg(test)]
mod model_tests;
#[cfg(test)]
mod pty_tests;

pub use input::{encode_alternate_scroll, encode_focus, encode_key, encode_mouse, encode_paste};
pub(crate) use model::push_cell_text as model_cell_text;
pub use model::{CursorShape, CursorState, PaneSize, TerminalModel};
pub use modes::{InputModes, KittyFlags, MouseEncoding, MouseMode, Palette, Rgb};
pub use procs::kill_group_now;
pub use pty::{
    AgentPty, ExitStatus, PtyEvent, PtyOutput, PtyWriter, SessionError, ShutdownReport, SpawnSpec,
};
