//! Session recording: the agent's screen as an asciicast (v2 by default, v3 on request) plus
//! `events.jsonl` (decisions, context facts and changes, file diffs) on the same clock, in a session
//! data dir ([`SessionDir`]).
//!
//! The app owns one [`Recorder`](recorder::Recorder) per session and calls it from its loop: [`Recorder::output`](recorder::Recorder::output) for
//! every PTY read, [`Recorder::marker`](recorder::Recorder::marker)/[`Recorder::event`](recorder::Recorder::event) for decisions and warnings,
//! [`Recorder::flush_if_due`](recorder::Recorder::flush_if_due) on every tick, [`Recorder::finish`](recorder::Recorder::finish) when the agent exits.
//!
//! Invariants:
//! - **nothing reaches disk unredacted**: output goes through a [`StreamRedactor`](crate::secrets::stream::StreamRedactor) (secrets split
//!   across reads are still caught), markers, input, the command line and events through
//!   [`Redactor`](crate::secrets::redactor::Redactor); the live pane is fed by the app from the raw bytes and is never altered;
//! - lines are written whole and pushed to the OS at least every [`FLUSH_INTERVAL`](recorder::FLUSH_INTERVAL), so after a
//!   SIGKILL the cast is valid up to the last flush (a reader tolerates a truncated last line);
//! - event times in the cast never go backwards: markers, resizes and input that arrive while output
//!   is held back by the redactor are queued behind that output.

pub mod cast;
pub mod json;
pub mod recorder;
pub mod session_dir;
pub mod sink;
pub mod utf8;

// The app uses `record::recorder::Recorder` and `record::cast::CastFormat` (re-export them here
// when wiring: an unused re-export is a warning in a binary crate).
pub use session_dir::*;

#[cfg(test)]
mod tests;
