//! Render functions: read the model, never change it.

pub mod terminal_view;
