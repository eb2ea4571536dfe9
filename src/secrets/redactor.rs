//! The one-shot redactor: compiled built-in rules, the keyword prefilter, literal env values,
//! and the replacement of findings. See `secrets.rs` for the invariants.
//!
//! (Kept apart from `secrets.rs` so benches/ can compile it directly: overwatch has no lib target.)

use std::borrow::Cow;
use std::sync::OnceLock;

use aho_corasick::automaton::{Automaton, StateID};
use aho_corasick::{AhoCorasick, AhoCorasickBuilder, Anchored, MatchKind, dfa};
use regex::Regex;

use super::rules::{RULES, RuleSpec};
use super::visible::{invisible_parts, visible};

/// Shortest env credential value redacted literally: shorter values (`1`, `true`, `dev`) would
/// shred ordinary output and are not credentials worth the name.
pub const MIN_LITERAL_LEN: usize = 6;

/// A span of text to replace: byte range `start..end` in the scanned text, and the rule id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Byte offset of the first secret byte.
    pub start: usize,
    /// Byte offset one past the last secret byte.
    pub end: usize,
    /// The rule that matched (`"env-credential"` for a literal env value).
    pub rule: &'static str,
}

/// Errors building a [`Redactor`].
#[derive(Debug, thiserror::Error)]
pub enum SecretsError {
    /// A built-in rule failed to compile (a bug in `rules::RULES`).
    #[error("compiling secret rule {id}: {source}")]
    Rule {
        /// The rule id.
        id: &'static str,
        /// The regex error.
        source: regex::Error,
    },
    /// The keyword or literal automaton failed to build.
    #[error("building the secret keyword prefilter: {0}")]
    Prefilter(#[from] aho_corasick::BuildError),
    /// The keyword automaton has no unanchored start state (a bug in how it is built).
    #[error("starting the secret keyword prefilter: {0}")]
    PrefilterStart(#[from] aho_corasick::MatchError),
}

struct CompiledRule {
    spec: RuleSpec,
    regex: Regex,
}

/// The built-in rules, compiled once per process (they are immutable and shared by every redactor).
struct Builtin {
    rules: Vec<CompiledRule>,
    /// One pattern per (rule, keyword) pair; `keyword_rule[pattern]` is the rule index. A DFA
    /// walked by [`Builtin::candidates`] itself rather than through `AhoCorasick`'s overlapping
    /// iterator, whose per-byte bookkeeping made this pass 30 % of recording (callgrind).
    keywords: dfa::DFA,
    keywords_start: StateID,
    keyword_rule: Vec<usize>,
}

/// What one keyword pass found: the rules to run, and where keywords of rules with a
/// [`RuleSpec::barrier`] end.
struct Candidates {
    /// `rules[rule]`: a keyword of the rule occurs.
    rules: Vec<bool>,
    /// (rule, offset of a keyword's last byte) for rules with a barrier, in text order.
    hits: Vec<(usize, usize)>,
}

impl Builtin {
    /// Which rules have a keyword in `text` (ASCII case-insensitive), and where.
    ///
    /// One pass of the keyword DFA over `text`. It is built with `MatchKind::Standard`, whose match
    /// states list every keyword ending at that byte (suffixes included), so checking the state
    /// after each byte sees every occurrence, overlapping ones too.
    fn candidates(&self, text: &str) -> Candidates {
        let dfa = &self.keywords;
        let mut found = Candidates {
            rules: vec![false; self.rules.len()],
            hits: Vec::new(),
        };
        let mut sid = self.keywords_start;
        let bytes = text.as_bytes();
        let mut at = 0;
        // The hot loop only steps the DFA; the rare match states are handled out of line, so the
        // loop keeps its state in registers (keeping `found` in it cost ~6 instructions a byte).
        while let Some(&byte) = bytes.get(at) {
            sid = dfa.next_state(Anchored::No, sid, byte);
            // Without a prefilter only match (and dead) states are special.
            if dfa.is_special(sid) {
                self.record_match(sid, at, &mut found);
            }
            at += 1;
        }
        found
    }

    /// Marks the rules of every keyword the match state `sid` (reached at byte `at`) lists.
    #[cold]
    #[inline(never)]
    fn record_match(&self, sid: StateID, at: usize, found: &mut Candidates) {
        let dfa = &self.keywords;
        if !dfa.is_match(sid) {
            return;
        }
        for i in 0..dfa.match_len(sid) {
            let rule = self.keyword_rule[dfa.match_pattern(sid, i).as_usize()];
            found.rules[rule] = true;
            if self.rules[rule].spec.barrier.is_some() {
                found.hits.push((rule, at));
            }
        }
    }
}

/// The maximal runs of `text` without a `barrier` byte that contain one of `hits` (ascending
/// offsets), as `(start, end)`, in order and disjoint.
fn runs_around(
    text: &[u8],
    hits: impl Iterator<Item = usize>,
    barrier: fn(u8) -> bool,
) -> Vec<(usize, usize)> {
    let mut runs: Vec<(usize, usize)> = Vec::new();
    for hit in hits {
        if runs.last().is_some_and(|(_, end)| hit < *end) {
            continue;
        }
        let start = text[..hit]
            .iter()
            .rposition(|b| barrier(*b))
            .map_or(0, |i| i + 1);
        let end = text[hit..]
            .iter()
            .position(|b| barrier(*b))
            .map_or(text.len(), |i| hit + i);
        runs.push((start, end));
    }
    runs
}

fn builtin() -> Result<&'static Builtin, &'static SecretsError> {
    static BUILTIN: OnceLock<Result<Builtin, SecretsError>> = OnceLock::new();
    BUILTIN.get_or_init(compile_builtin).as_ref()
}

fn compile_builtin() -> Result<Builtin, SecretsError> {
    let mut rules = Vec::with_capacity(RULES.len());
    let mut patterns = Vec::new();
    let mut keyword_rule = Vec::new();
    for (index, spec) in RULES.iter().enumerate() {
        let regex = Regex::new(spec.regex).map_err(|source| SecretsError::Rule {
            id: spec.id,
            source,
        })?;
        rules.push(CompiledRule { spec: *spec, regex });
        for keyword in spec.keywords {
            patterns.push(*keyword);
            keyword_rule.push(index);
        }
    }
    let keywords = dfa::DFA::builder()
        .ascii_case_insensitive(true)
        .match_kind(MatchKind::Standard)
        .prefilter(false)
        .build(&patterns)?;
    let keywords_start = keywords.start_state(Anchored::No)?;
    Ok(Builtin {
        rules,
        keywords,
        keywords_start,
        keyword_rule,
    })
}

/// Finds and replaces secrets in text: the built-in rules plus literal credential values.
///
/// Cheap to clone-by-reference; build one per session (`Redactor::new(env_values)`) and share it.
pub struct Redactor {
    builtin: &'static Builtin,
    /// Literal credential values (≥ [`MIN_LITERAL_LEN`] bytes), leftmost-longest.
    literals: Option<AhoCorasick>,
    longest_literal: usize,
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the literal values.
        f.debug_struct("Redactor")
            .field("rules", &self.builtin.rules.len())
            .field(
                "literals",
                &self.literals.as_ref().map(|l| l.patterns_len()),
            )
            .finish()
    }
}

impl Redactor {
    /// A redactor with the built-in rules and the given literal secret values (e.g. the values of
    /// credential env vars of the agent: `AWS_SECRET_ACCESS_KEY`, `PGPASSWORD`, DB URLs' passwords).
    /// Values shorter than [`MIN_LITERAL_LEN`] bytes are ignored.
    ///
    /// Errors: only if a built-in rule is broken (a bug; covered by a test).
    pub fn new<S: AsRef<str>>(literal_values: &[S]) -> Result<Redactor, SecretsError> {
        let builtin = builtin().map_err(|err| match err {
            SecretsError::Rule { id, source } => SecretsError::Rule {
                id,
                source: source.clone(),
            },
            SecretsError::Prefilter(err) => SecretsError::Prefilter(err.clone()),
            SecretsError::PrefilterStart(err) => SecretsError::PrefilterStart(err.clone()),
        })?;
        let mut values: Vec<&str> = literal_values
            .iter()
            .map(|v| v.as_ref())
            .filter(|v| v.len() >= MIN_LITERAL_LEN)
            .collect();
        values.sort_unstable();
        values.dedup();
        let longest_literal = values.iter().map(|v| v.len()).max().unwrap_or(0);
        let literals = if values.is_empty() {
            None
        } else {
            Some(
                AhoCorasickBuilder::new()
                    .match_kind(MatchKind::LeftmostLongest)
                    .build(&values)?,
            )
        };
        Ok(Redactor {
            builtin,
            literals,
            longest_literal,
        })
    }

    /// A redactor with the built-in rules only.
    pub fn builtin() -> Result<Redactor, SecretsError> {
        Redactor::new::<&str>(&[])
    }

    /// Length in bytes of the longest literal value (0 if none).
    pub fn longest_literal(&self) -> usize {
        self.longest_literal
    }

    /// All secrets in `text`, sorted by start, non-overlapping (overlaps are merged; the earlier
    /// span's rule id is kept).
    ///
    /// Terminal output is scanned as its visible text (see `visible.rs`), so escape sequences in
    /// the middle of a secret do not hide it; spans are in `text`'s offsets either way.
    pub fn find(&self, text: &str) -> Vec<Finding> {
        match visible(text) {
            None => self.find_plain(text),
            Some((view, map)) => self
                .find_plain(&view)
                .into_iter()
                .map(|f| Finding {
                    start: map.original(f.start),
                    end: map.original(f.end - 1) + 1,
                    rule: f.rule,
                })
                .collect(),
        }
    }

    fn find_plain(&self, text: &str) -> Vec<Finding> {
        self.find_plain_with(text, true)
    }

    /// [`Redactor::find_plain`]; `by_runs` false runs every candidate rule's regex on the whole
    /// text (the reference the run-limited search is tested against).
    fn find_plain_with(&self, text: &str, by_runs: bool) -> Vec<Finding> {
        let mut found = Vec::new();
        if let Some(literals) = &self.literals {
            for m in literals.find_iter(text) {
                found.push(Finding {
                    start: m.start(),
                    end: m.end(),
                    rule: "env-credential",
                });
            }
        }
        let candidates = self.builtin.candidates(text);
        for (index, rule) in self.builtin.rules.iter().enumerate() {
            if !candidates.rules[index] {
                continue;
            }
            let mut add = |caps: regex::Captures<'_>| {
                let Some(secret) = caps.get(rule.spec.group) else {
                    return;
                };
                if let Some(min) = rule.spec.min_entropy
                    && shannon_entropy(secret.as_str().as_bytes()) < min
                {
                    return;
                }
                found.push(Finding {
                    start: secret.start(),
                    end: secret.end(),
                    rule: rule.spec.id,
                });
            };
            match rule.spec.barrier {
                Some(barrier) if by_runs => {
                    let hits = candidates
                        .hits
                        .iter()
                        .filter(|(r, _)| *r == index)
                        .map(|(_, at)| *at);
                    for (start, end) in runs_around(text.as_bytes(), hits, barrier) {
                        // The same matches `captures_iter` finds on the whole text inside this
                        // run: the search sees the text before the run (for `\b`) and stops at
                        // its end, which no match crosses.
                        let hay = &text[..end];
                        let mut at = start;
                        while at <= end {
                            let Some(caps) = rule.regex.captures_at(hay, at) else {
                                break;
                            };
                            let Some(whole) = caps.get(0) else {
                                break;
                            };
                            at = if whole.end() > whole.start() {
                                whole.end()
                            } else {
                                // An empty match (none of the rules has one): step one character.
                                whole.end()
                                    + hay[whole.end()..].chars().next().map_or(1, char::len_utf8)
                            };
                            add(caps);
                        }
                    }
                }
                _ => rule.regex.captures_iter(text).for_each(&mut add),
            }
        }
        merge(found)
    }

    /// `text` with every secret replaced by `[REDACTED:<rule-id>]` (followed by any escape sequences
    /// that were inside the secret); borrowed when nothing matched.
    pub fn redact<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let found = self.find(text);
        if found.is_empty() {
            return Cow::Borrowed(text);
        }
        Cow::Owned(apply(text, &found))
    }

    /// Redacts every string (and object key) inside a JSON value in place. Redacting the parsed
    /// strings rather than the serialized text keeps the JSON valid and sees secrets that the
    /// serializer would have split with escapes (`\n` inside a private key).
    pub fn redact_json(&self, value: &mut serde_json::Value) {
        use serde_json::Value;
        match value {
            Value::String(s) => {
                if let Cow::Owned(r) = self.redact(s) {
                    *s = r;
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|v| self.redact_json(v)),
            Value::Object(map) => {
                let entries = std::mem::take(map);
                for (key, mut v) in entries {
                    self.redact_json(&mut v);
                    map.insert(self.redact(&key).into_owned(), v);
                }
            }
            Value::Null | Value::Bool(_) | Value::Number(_) => {}
        }
    }
}

/// The replacement text for a finding.
pub fn replacement(rule: &str) -> String {
    format!("[REDACTED:{rule}]")
}

/// Sorts findings and merges overlapping ones.
fn merge(mut found: Vec<Finding>) -> Vec<Finding> {
    found.sort_by_key(|f| (f.start, std::cmp::Reverse(f.end)));
    let mut merged: Vec<Finding> = Vec::with_capacity(found.len());
    for f in found {
        match merged.last_mut() {
            Some(last) if f.start < last.end => last.end = last.end.max(f.end),
            _ => merged.push(f),
        }
    }
    merged
}

/// `text` with the (sorted, disjoint) findings replaced.
fn apply(text: &str, found: &[Finding]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for f in found {
        out.push_str(&text[at..f.start]);
        out.push_str(&replacement(f.rule));
        out.push_str(&invisible_parts(&text[f.start..f.end]));
        at = f.end;
    }
    out.push_str(&text[at..]);
    out
}

/// Shannon entropy in bits per byte (0 for empty input), as gitleaks computes it.
pub fn shannon_entropy(data: &[u8]) -> f64 {
    if data.is_empty() {
        return 0.0;
    }
    let mut counts = [0usize; 256];
    for &b in data {
        counts[b as usize] += 1;
    }
    let len = data.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f64 / len;
            -p * p.log2()
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        /// The hand-walked keyword DFA marks exactly the rules that `AhoCorasick`'s overlapping
        /// iterator (the previous prefilter) marks, on text dense with keywords in any case.
        #[test]
        fn keyword_pass_equals_the_overlapping_iterator(
            parts in proptest::collection::vec(prop_oneof![
                2 => "[ -~\r\n]{0,12}",
                1 => proptest::sample::select(
                    RULES.iter().flat_map(|r| r.keywords.iter().copied()).collect::<Vec<_>>()
                ).prop_map(str::to_owned),
                1 => proptest::sample::select(
                    RULES.iter().flat_map(|r| r.keywords.iter().copied()).collect::<Vec<_>>()
                ).prop_map(|k| k.to_ascii_uppercase()),
            ], 0..16),
        ) {
            let text: String = parts.concat();
            let builtin = builtin().expect("compiles");
            let patterns: Vec<&str> = RULES.iter().flat_map(|r| r.keywords.iter().copied()).collect();
            let iterator = AhoCorasickBuilder::new()
                .ascii_case_insensitive(true)
                .match_kind(MatchKind::Standard)
                .build(&patterns)
                .expect("builds");
            let mut expected = vec![false; RULES.len()];
            for m in iterator.find_overlapping_iter(&text) {
                expected[builtin.keyword_rule[m.pattern().as_usize()]] = true;
            }
            prop_assert_eq!(builtin.candidates(&text).rules, expected);
        }

        /// Running a rule with a barrier only on the runs around its keywords finds exactly what
        /// running it on the whole text finds, on text dense with `name = value` shapes, URLs with
        /// credentials, barriers, whitespace and non-ASCII word characters.
        #[test]
        fn runs_around_keywords_find_what_the_whole_text_finds(
            parts in proptest::collection::vec(prop_oneof![
                3 => "[ -~]{0,6}",
                2 => proptest::sample::select(vec![
                    "api_key", "API_KEY", "Token", "password", "auth", "x-api-key", "secret",
                    "https://", "postgres://", "ftp://", "://", "user:", "@host", "@",
                ]).prop_map(str::to_owned),
                2 => proptest::sample::select(vec![
                    "=", " = ", ": ", ":=", " => ", "\"", "'", "`", "(", ")", ",", ";", "[", "]",
                    "{", "}", "?", "|", "\\", "\r\n", "\t", "\n", "  ", "é", "日本", "\u{a0}",
                ]).prop_map(str::to_owned),
                2 => "[A-Za-z0-9+/=._~!#$%^&*-]{8,40}",
                1 => ("[a-z]{2,6}", "[A-Za-z0-9._-]{1,8}", "[A-Za-z0-9!$%&*+=~#^.-]{4,24}")
                    .prop_map(|(scheme, user, pass)| format!("{scheme}://{user}:{pass}@db.example")),
                1 => ("[A-Za-z_]{0,6}", "[ \"'=:>]{1,4}", "[A-Za-z0-9+/=._~!#$%^&*-]{10,60}")
                    .prop_map(|(name, sep, value)| format!("{name}token{sep}{value}")),
            ], 0..24),
        ) {
            let text: String = parts.concat();
            let redactor = Redactor::new(&["literal-value-1"]).expect("builds");
            prop_assert_eq!(
                redactor.find_plain_with(&text, true),
                redactor.find_plain_with(&text, false),
                "in {:?}", text
            );
        }
    }
}
