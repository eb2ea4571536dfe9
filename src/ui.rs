//! Render functions: read the model, never change it.

pub mod context_tab;
