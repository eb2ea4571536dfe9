//! Render functions (read the model, never change it). Minimal on this branch: the app helper's
//! `ui.rs` (branch `app-ui`) supersedes it at merge; keep its `pub mod diff_tab;` line.

pub mod diff_tab;
