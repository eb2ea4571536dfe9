//! Replay of recorded sessions (`overwatch replay`): the cast reader (`cast`), keyframes
//! (`keyframe` snapshots, built in the background by `indexer`), the load-time index (`index`),
//! playback (`player`), the decision timeline (`timeline`), and the TUI (`app` state/keys, `view`
//! drawing).
//!
//! Invariant: replay renders through the same terminal model and widget as the live pane
//! (`session::TerminalModel`, `ui::terminal_view::TerminalView`), so a replayed screen is the screen
//! the user saw, minus redacted secrets.

pub mod app;
pub mod cast;
pub mod index;
pub mod indexer;
pub mod keyframe;
pub mod player;
pub mod timeline;
pub mod view;

#[cfg(test)]
mod tests;
