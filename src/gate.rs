//! The gate: where hook adapters, PATH shims and the exec gate ask for decisions.

pub mod exec;
