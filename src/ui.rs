//! Render functions: read the model, never change it.

pub mod diff_tab;
pub mod terminal_view;
