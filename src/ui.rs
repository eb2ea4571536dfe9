//! Render functions: read the model, never change it; overlays (the confirmation modal) take keys
//! first.

pub mod confirm;
pub mod context_tab;
