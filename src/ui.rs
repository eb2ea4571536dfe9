//! UI: render functions (read the Model, never change it) and overlays that take keys first.

pub mod confirm;
