//! Rules: TOML rule packs, shell parsing and unwrapping, per-command target resolution, decisions.
//!
//! **Invariant:** whatever cannot be resolved statically and could reach a guarded action is
//! `Confirm`, never `Allow` (fail closed); parser limits fail closed too.

use std::fmt;

use serde::{Deserialize, Serialize};

/// What to do with a command. Ordered by strictness, so the strictest of several is `max()`:
/// `Allow < Warn < Confirm < Deny`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Decision {
    Allow,
    Warn,
    Confirm,
    Deny,
}

impl Decision {
    /// Lowercase name as used in packs and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Allow => "allow",
            Decision::Warn => "warn",
            Decision::Confirm => "confirm",
            Decision::Deny => "deny",
        }
    }

    /// `overwatch check` exit code: 0 allow or warn, 10 confirm, 11 deny.
    pub fn exit_code(self) -> u8 {
        match self {
            Decision::Allow | Decision::Warn => 0,
            Decision::Confirm => 10,
            Decision::Deny => 11,
        }
    }
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
