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

/// Tier keywords matched against whole words of a value. A value is split into words at every
/// character that is not a letter or digit, at lower→upper case changes (`myProdCluster`) and at
/// letter↔digit changes (`prod01`), so `product-catalog`, `latest` or `devices` match nothing.
const PRODUCTION_WORDS: &[&str] = &["prod", "prd", "production", "live"];
const STAGING_WORDS: &[&str] = &[
    "stag",
    "stage",
    "staging",
    "stg",
    "uat",
    "preprod",
    "preproduction",
];
const DEVELOPMENT_WORDS: &[&str] = &[
    "dev",
    "devel",
    "development",
    "local",
    "localhost",
    "test",
    "testing",
    "minikube",
];

/// A name-based match: the tier and the keyword that decided it (as written in the reason).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeywordMatch {
    pub tier: Tier,
    pub keyword: String,
}

/// Splits a value into lowercase words (see `PRODUCTION_WORDS` for the boundaries).
pub fn words(value: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut prev: Option<char> = None;
    for c in value.chars() {
        if !c.is_alphanumeric() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            prev = None;
            continue;
        }
        if let Some(p) = prev {
            let case_break = p.is_lowercase() && c.is_uppercase();
            let digit_break = p.is_ascii_digit() != c.is_ascii_digit();
            if (case_break || digit_break) && !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
        }
        cur.extend(c.to_lowercase());
        prev = Some(c);
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// The most severe tier keyword in `value`, if any.
///
/// Beyond single words: `kind-*` (a kind cluster), `docker-desktop`/`rancher-desktop`, loopback
/// addresses (`127.*`, `::1`) → development; `pre-prod` → staging (not production); `non-prod`
/// and `not-prod` name no tier (they are not production, but do not say what they are).
pub fn keyword_tier(value: &str) -> Option<KeywordMatch> {
    let lower = value.trim().to_lowercase();
    let found = |tier: Tier, keyword: &str| {
        Some(KeywordMatch {
            tier,
            keyword: keyword.to_string(),
        })
    };
    let host = lower
        .split("://")
        .last()
        .unwrap_or(&lower)
        .trim_start_matches('[');
    if host.starts_with("127.") || host.starts_with("::1") || host.starts_with("0.0.0.0") {
        return found(Tier::Development, "loopback address");
    }
    let w = words(value);
    let mut best: Option<KeywordMatch> = None;
    let mut consider = |tier: Tier, keyword: &str| {
        if best.as_ref().is_none_or(|b| tier > b.tier) {
            best = Some(KeywordMatch {
                tier,
                keyword: keyword.to_string(),
            });
        }
    };
    for (i, word) in w.iter().enumerate() {
        let prev = if i > 0 { w[i - 1].as_str() } else { "" };
        let next = w.get(i + 1).map(String::as_str).unwrap_or("");
        let word = word.as_str();
        if PRODUCTION_WORDS.contains(&word) {
            match prev {
                "non" | "not" => {}
                "pre" => consider(Tier::Staging, &format!("pre-{word}")),
                _ => consider(Tier::Production, word),
            }
        } else if STAGING_WORDS.contains(&word) {
            consider(Tier::Staging, word);
        } else if DEVELOPMENT_WORDS.contains(&word) {
            consider(Tier::Development, word);
        } else if (word == "docker" || word == "rancher") && next == "desktop" {
            consider(Tier::Development, &format!("{word}-desktop"));
        } else if word == "kind" && i == 0 && lower.starts_with("kind-") {
            consider(Tier::Development, "kind-*");
        }
    }
    best
}

/// Classifies a fact from its identifying values, each with a label for the reason
/// (`("kube context", "prod-eu")`, `("account", "123456789012")`).
///
/// Pins first, in declaration order: the first pin whose kind fits and whose `value` equals
/// (case-insensitively) or whose `pattern` matches any value wins, with the reason
/// `"pinned: account 123456789012 → production (payments account)"`. Otherwise the most severe
/// keyword verdict across the values (`"kube context 'prod-eu' contains 'prod'"`), else `Unknown`.
pub fn classify_labelled(
    kind: super::FactKind,
    values: &[(&str, &str)],
    pins: &[TierPin],
) -> Verdict {
    if let Some(v) = pinned(kind, values, pins) {
        return v;
    }
    let mut best: Option<(KeywordMatch, &str, &str)> = None;
    for (label, value) in values {
        if value.is_empty() {
            continue;
        }
        if let Some(m) = keyword_tier(value)
            && best.as_ref().is_none_or(|(b, _, _)| m.tier > b.tier)
        {
            best = Some((m, label, value));
        }
    }
    match best {
        Some((m, label, value)) => Verdict {
            tier: m.tier,
            reason: format!("{label} '{value}' contains '{}'", m.keyword),
        },
        None => {
            let named: Vec<String> = values
                .iter()
                .filter(|(_, v)| !v.is_empty())
                .map(|(l, v)| format!("{l} '{v}'"))
                .collect();
            Verdict {
                tier: Tier::Unknown,
                reason: if named.is_empty() {
                    "nothing to classify".into()
                } else {
                    format!(
                        "no tier keyword or pin for {} (add a [[pins]] entry)",
                        named.join(", ")
                    )
                },
            }
        }
    }
}

thread_local! {
    /// Compiled pin and probe regexes by pattern. Compiling costs far more than matching, and the
    /// rule engine classifies on every command; packs hold a bounded set of patterns.
    static REGEXES: std::cell::RefCell<std::collections::HashMap<String, Option<regex::Regex>>> =
        std::cell::RefCell::new(std::collections::HashMap::new());
}

/// The compiled regex for `pattern` (cached per thread), or the compile error's message.
pub fn cached_regex(pattern: &str) -> Result<regex::Regex, String> {
    let cached = REGEXES.with(|c| c.borrow().get(pattern).cloned());
    let compiled = match cached {
        Some(r) => r,
        None => {
            let r = regex::Regex::new(pattern).ok();
            REGEXES.with(|c| {
                let mut c = c.borrow_mut();
                // A runaway set of patterns (generated packs) must not grow memory forever.
                if c.len() >= 1024 {
                    c.clear();
                }
                c.insert(pattern.to_string(), r.clone());
            });
            r
        }
    };
    match compiled {
        Some(re) => Ok(re),
        None => regex::Regex::new(pattern).map_err(|e| e.to_string()),
    }
}

/// The first pin matching any of the values, as a verdict.
pub fn pinned(kind: super::FactKind, values: &[(&str, &str)], pins: &[TierPin]) -> Option<Verdict> {
    for pin in pins {
        if let Some(k) = &pin.kind
            && !k.eq_ignore_ascii_case(kind.as_str())
        {
            continue;
        }
        let pattern = match &pin.pattern {
            Some(p) => match cached_regex(p) {
                Ok(re) => Some(re),
                // validate_knowledge reports bad patterns when packs load; skip here.
                Err(_) => continue,
            },
            None => None,
        };
        for (label, value) in values {
            if value.is_empty() {
                continue;
            }
            let hit = match (&pin.value, &pattern) {
                (Some(exact), _) => exact.eq_ignore_ascii_case(value),
                (None, Some(re)) => re.is_match(value),
                (None, None) => false,
            };
            if hit {
                let why = pin
                    .reason
                    .as_deref()
                    .map(|r| format!(" ({r})"))
                    .unwrap_or_default();
                return Some(Verdict {
                    tier: pin.tier,
                    reason: format!("pinned: {label} {value} → {}{why}", pin.tier),
                });
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::super::FactKind;
    use super::*;

    fn tier_of(value: &str) -> Option<Tier> {
        keyword_tier(value).map(|m| m.tier)
    }

    #[test]
    fn keywords_match_whole_words_only() {
        use Tier::*;
        let cases: &[(&str, Option<Tier>)] = &[
            ("prod", Some(Production)),
            ("prod-eu", Some(Production)),
            ("eu-prod-1", Some(Production)),
            ("prod01", Some(Production)),
            ("PRODUCTION", Some(Production)),
            ("myProdCluster", Some(Production)),
            ("payments_prd", Some(Production)),
            ("live", Some(Production)),
            (
                "arn:aws:eks:eu-west-1:123456789012:cluster/prod-eu",
                Some(Production),
            ),
            ("gke_shop-prod_europe-west1-b_main", Some(Production)),
            ("https://api.prod.example.com:6443", Some(Production)),
            ("db.prod.internal", Some(Production)),
            ("product-catalog", None),
            ("productivity", None),
            ("reproduce", None),
            ("olive-garden", None),
            ("delivery", None),
            ("liveness-probe", None),
            ("latest", None),
            ("devices", None),
            ("contest", None),
            ("kindergarten", None),
            ("my-kind-cluster", None),
            ("staging-eu", Some(Staging)),
            ("stage", Some(Staging)),
            ("stg2", Some(Staging)),
            ("uat", Some(Staging)),
            ("preprod", Some(Staging)),
            ("pre-prod", Some(Staging)),
            ("stagecoach", None),
            ("non-prod", None),
            ("nonprod", None),
            ("dev", Some(Development)),
            ("dev-eu", Some(Development)),
            ("local", Some(Development)),
            ("localhost:5432", Some(Development)),
            ("127.0.0.1", Some(Development)),
            ("[::1]:5432", Some(Development)),
            ("kind-kind", Some(Development)),
            ("minikube", Some(Development)),
            ("docker-desktop", Some(Development)),
            ("test", Some(Development)),
            ("integration-test-3", Some(Development)),
            ("devops", None),
            ("default", None),
            ("main", None),
            // The most severe keyword wins: a copy of prod data is production until pinned.
            ("prod-copy-for-dev", Some(Production)),
            ("staging-db-test", Some(Staging)),
        ];
        for (value, want) in cases {
            assert_eq!(tier_of(value), *want, "value {value:?}");
        }
    }

    #[test]
    fn reason_names_the_value_and_keyword() {
        let v = classify_labelled(
            FactKind::Kube,
            &[("kube context", "prod-eu"), ("cluster", "eks-1")],
            &[],
        );
        assert_eq!(v.tier, Tier::Production);
        assert_eq!(v.reason, "kube context 'prod-eu' contains 'prod'");
        let v = classify_labelled(FactKind::Kube, &[("kube context", "blue")], &[]);
        assert_eq!(v.tier, Tier::Unknown);
        assert!(v.reason.contains("kube context 'blue'"), "{}", v.reason);
    }

    #[test]
    fn pins_win_over_names_and_respect_kind() {
        let pins = vec![
            TierPin {
                kind: Some("gcloud".into()),
                value: Some("123456789012".into()),
                pattern: None,
                tier: Tier::Development,
                reason: None,
            },
            TierPin {
                kind: Some("aws".into()),
                value: Some("123456789012".into()),
                pattern: None,
                tier: Tier::Production,
                reason: Some("payments account".into()),
            },
            TierPin {
                kind: None,
                value: None,
                pattern: Some("^sandbox-.*$".into()),
                tier: Tier::Development,
                reason: None,
            },
        ];
        let v = classify_labelled(
            FactKind::Aws,
            &[("profile", "dev"), ("account", "123456789012")],
            &pins,
        );
        assert_eq!(v.tier, Tier::Production);
        assert_eq!(
            v.reason,
            "pinned: account 123456789012 → production (payments account)"
        );
        let v = classify_labelled(FactKind::Kube, &[("kube context", "sandbox-prod")], &pins);
        assert_eq!(v.tier, Tier::Development);
        assert!(v.reason.starts_with("pinned: kube context sandbox-prod"));
    }
}
