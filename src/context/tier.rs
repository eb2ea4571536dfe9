//! Tiers: how dangerous an environment is, and the name-based default classifier.
//!
//! A tier verdict always travels with the reason for it, so the UI and the audit log can say *why* a
//! kube context is production. Exact pins (see [`TierPin`]) win over names.

use std::fmt;

use serde::{Deserialize, Serialize};

/// How dangerous a target is. Ordered by severity: `Development < Unknown < Staging < Production`, so
/// the session's overall tier is simply the maximum of its facts' tiers.
///
/// `Unknown` sits above `Development` because "we could not tell" must never read as "safe".
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    Development,
    Unknown,
    Staging,
    Production,
}

impl Tier {
    /// The lowercase name used in JSON, rule packs and the UI (`"production"`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Development => "development",
            Tier::Unknown => "unknown",
            Tier::Staging => "staging",
            Tier::Production => "production",
        }
    }
}

impl fmt::Display for Tier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An exact tier mapping declared in config or a rule pack. It wins over name-based guessing.
///
/// ```toml
/// [[pins]]
/// kind = "aws"            # optional: kube | aws | gcloud | azure | terraform | pulumi | docker | git | ssh | database | service | custom
/// value = "123456789012"  # exact (case-insensitive) match on any identifying value of a fact
/// tier = "production"
/// reason = "payments account"   # optional, shown in the UI
/// ```
/// `pattern` (a regex, anchored by the author) may be used instead of `value`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TierPin {
    #[serde(default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub value: Option<String>,
    #[serde(default)]
    pub pattern: Option<String>,
    pub tier: Tier,
    #[serde(default)]
    pub reason: Option<String>,
}

/// The outcome of classifying one fact: the tier and a human-readable reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub tier: Tier,
    pub reason: String,
}
