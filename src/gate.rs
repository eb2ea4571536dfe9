//! The gate: where hook adapters, PATH shims and the exec gate ask for decisions.

/// Linux only (seccomp user notification); elsewhere overwatch relies on hooks and PATH shims.
#[cfg(target_os = "linux")]
pub mod exec;
