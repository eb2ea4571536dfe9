//! The one-shot redactor: compiled built-in rules, the keyword prefilter, literal env values,
//! and the replacement of findings. See `secrets.rs` for the invariants.
//!
//! (Kept apart from `secrets.rs` so benches/ can compile it directly: overwatch has no lib target.)

use std::borrow::Cow;
use std::sync::OnceLock;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind, dfa};
use regex::Regex;

use super::keywords::{Candidates, KeywordTable, Stop};
use super::rules::{RULES, RuleSpec};
use super::trigrams::Trigrams;
use super::visible::{ViewMap, VisibleScan, Walked, invisible_parts, walk};

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
    /// The keyword automaton does not fit a table of 16-bit entries (too many keywords).
    #[error("the secret keyword table needs {states} states × {classes} byte classes, over 65 535")]
    KeywordTable {
        /// States of the automaton.
        states: usize,
        /// Byte classes.
        classes: usize,
    },
}

struct CompiledRule {
    spec: RuleSpec,
    regex: Regex,
}

impl CompiledRule {
    /// The secret in one match of the rule's regex (its group), unless it is below the rule's
    /// entropy floor.
    fn finding(&self, caps: &regex::Captures<'_>) -> Option<Finding> {
        let secret = caps.get(self.spec.group)?;
        if let Some(min) = self.spec.min_entropy
            && shannon_entropy(secret.as_str().as_bytes()) < min
        {
            return None;
        }
        Some(Finding {
            start: secret.start(),
            end: secret.end(),
            rule: self.spec.id,
        })
    }
}

/// The built-in rules, compiled once per process (they are immutable and shared by every redactor).
struct Builtin {
    rules: Vec<CompiledRule>,
    /// The keyword automaton walked over the visible runs of a text (with the view's walk).
    view_keywords: KeywordTable,
    /// The same automaton for a text scanned as it is (one with no view; see `visible::walk`).
    text_keywords: KeywordTable,
    /// Where keywords can start, for the view walk to skip the rest (`None`: a keyword is shorter
    /// than three bytes).
    trigrams: Option<Trigrams>,
    /// The keywords, the rule of each, and whether each rule has a barrier (what the tables were
    /// built from; a redactor with literals adds their prefixes to them, see [`ScanTables`]).
    patterns: Vec<&'static str>,
    keyword_rule: Vec<usize>,
    barrier: Vec<bool>,
}

/// Bytes of a literal's start added to a redactor's keyword automaton (all of a shorter one).
const LITERAL_PREFIX: usize = 8;

/// A redactor's own keyword tables when it has literals: the built-in keywords plus the first
/// [`LITERAL_PREFIX`] bytes of every literal, which mark an extra candidate slot (index: the
/// number of rules). A literal cannot occur in the view without its prefix, so when the slot stays
/// unmarked the literal search is skipped, and with it building the whole view for it.
struct ScanTables {
    view_keywords: KeywordTable,
    trigrams: Option<Trigrams>,
}

impl ScanTables {
    /// The tables for `builtin`'s keywords plus the prefixes of `literals`.
    fn new(builtin: &Builtin, literals: &[&str]) -> Result<ScanTables, SecretsError> {
        let literal_slot = builtin.rules.len();
        let mut patterns: Vec<&[u8]> = builtin.patterns.iter().map(|p| p.as_bytes()).collect();
        let mut keyword_rule = builtin.keyword_rule.clone();
        for literal in literals {
            let bytes = literal.as_bytes();
            patterns.push(&bytes[..bytes.len().min(LITERAL_PREFIX)]);
            keyword_rule.push(literal_slot);
        }
        let mut barrier = builtin.barrier.clone();
        barrier.push(false);
        let keywords = keyword_dfa(&patterns)?;
        Ok(ScanTables {
            view_keywords: KeywordTable::new(
                &keywords,
                &keyword_rule,
                &barrier,
                Stop::AtInvisible,
            )?,
            trigrams: Trigrams::new(&patterns),
        })
    }
}

impl Builtin {
    /// Which rules have a keyword in `text` itself, escape sequences included (ASCII
    /// case-insensitive), and where.
    fn text_candidates(&self, text: &str) -> Candidates {
        let mut scan = self.text_keywords.scan(self.rules.len(), None);
        scan.visible_run(text.as_bytes(), 0, 0);
        scan.found
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

/// The keyword automaton the [`KeywordTable`]s are copied from: ASCII case-insensitive, and
/// `MatchKind::Standard`, so a match state lists every keyword ending at its byte (what the walk
/// relies on; see `keywords.rs`).
fn keyword_dfa<P: AsRef<[u8]>>(patterns: &[P]) -> Result<dfa::DFA, aho_corasick::BuildError> {
    dfa::DFA::builder()
        .ascii_case_insensitive(true)
        .match_kind(MatchKind::Standard)
        .prefilter(false)
        .build(patterns)
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
    // One pattern per (rule, keyword) pair; `keyword_rule[pattern]` is the rule index.
    let keywords = keyword_dfa(&patterns)?;
    let barrier: Vec<bool> = rules.iter().map(|r| r.spec.barrier.is_some()).collect();
    let table = |stop| KeywordTable::new(&keywords, &keyword_rule, &barrier, stop);
    Ok(Builtin {
        trigrams: Trigrams::new(&patterns),
        view_keywords: table(Stop::AtInvisible)?,
        text_keywords: table(Stop::Never)?,
        rules,
        patterns,
        keyword_rule,
        barrier,
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
    /// With literals: the keyword tables that also find their prefixes (`None` without literals,
    /// or if the tables would be too large: then the whole view is searched for them).
    scan_tables: Option<ScanTables>,
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
            SecretsError::KeywordTable { states, classes } => SecretsError::KeywordTable {
                states: *states,
                classes: *classes,
            },
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
        // Too many literals for a 16-bit table: search the whole view for them, as before.
        let scan_tables = (!values.is_empty())
            .then(|| ScanTables::new(builtin, &values).ok())
            .flatten();
        Ok(Redactor {
            builtin,
            literals,
            longest_literal,
            scan_tables,
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
        // One walk finds the view and the keywords in it (see `keywords.rs`), stepping the
        // automaton only where the bitmap says a keyword can start (see `trigrams.rs`).
        let rules = self.builtin.rules.len();
        let (table, trigrams, slots) = match &self.scan_tables {
            Some(own) => (&own.view_keywords, own.trigrams.as_ref(), rules + 1),
            None => (
                &self.builtin.view_keywords,
                self.builtin.trigrams.as_ref(),
                rules,
            ),
        };
        let bitmap = trigrams.and_then(|t| t.bitmap(text.as_bytes()));
        let mut scan = table.scan(slots, bitmap.as_deref());
        let walked = walk(text, &mut scan);
        // The literals need searching in the view when one's prefix occurs in it (or, without
        // tables that find prefixes, whenever there are literals).
        let literals = self.literals.is_some()
            && (self.scan_tables.is_none() || scan.found.rules.get(rules) == Some(&true));
        let any_rule = scan.found.rules[..rules].contains(&true);
        match walked {
            Walked::Same => self.find_plain(text, &scan.found),
            // Nothing to look for: the view need not be built.
            Walked::Mapped(_) if !literals && !any_rule => Vec::new(),
            // Only rules searched around their keywords: only those parts of the view are built.
            Walked::Mapped(map) if !literals && self.barriers_only(&scan.found) => {
                self.find_around_hits(text, &map, &scan.found)
            }
            Walked::Mapped(map) => self
                .find_plain(&map.view(text), &scan.found)
                .into_iter()
                .map(|f| Finding {
                    start: map.original(f.start),
                    end: map.original(f.end - 1) + 1,
                    rule: f.rule,
                })
                .collect(),
            Walked::Unmappable => self.find_plain(text, &self.builtin.text_candidates(text)),
        }
    }

    /// Whether every rule in `candidates` has a barrier (is searched only around its keywords).
    fn barriers_only(&self, candidates: &Candidates) -> bool {
        (self.builtin.rules.iter().zip(&candidates.rules))
            .all(|(rule, candidate)| !candidate || rule.spec.barrier.is_some())
    }

    /// The secrets of the rules in `candidates` (all with a barrier) in the view of `text` that
    /// `map` describes, in `text`'s offsets: each rule's regex runs on the parts of the view
    /// around its keywords that have no barrier byte, built from the map (what
    /// [`Redactor::find_plain`] finds in the whole view, without building all of it).
    fn find_around_hits(&self, text: &str, map: &ViewMap, candidates: &Candidates) -> Vec<Finding> {
        let mut found = Vec::new();
        for (index, rule) in self.builtin.rules.iter().enumerate() {
            let Some(barrier) = rule.spec.barrier.filter(|_| candidates.rules[index]) else {
                continue;
            };
            let mut searched = 0;
            for &(_, hit) in candidates.hits.iter().filter(|(r, _)| *r == index) {
                if hit < searched {
                    continue;
                }
                let (start, part) = map.part_around(text, hit, barrier);
                searched = start + part.len();
                // Before the part is a barrier byte (not a word character) or nothing, which
                // `\b` sees alike, so searching the part alone finds what searching it inside
                // the whole view finds.
                for f in self.rule_findings(rule, &part) {
                    found.push(Finding {
                        start: map.original(start + f.start),
                        end: map.original(start + f.end - 1) + 1,
                        rule: f.rule,
                    });
                }
            }
        }
        merge(found)
    }

    /// The findings of one rule's regex in `hay`, from `hay`'s start (entropy-filtered).
    fn rule_findings(&self, rule: &CompiledRule, hay: &str) -> Vec<Finding> {
        (rule.regex.captures_iter(hay))
            .filter_map(|caps| rule.finding(&caps))
            .collect()
    }

    /// The secrets in `text` scanned as it is, given the rules whose keywords occur in it.
    fn find_plain(&self, text: &str, candidates: &Candidates) -> Vec<Finding> {
        self.find_plain_with(text, candidates, true)
    }

    /// [`Redactor::find_plain`]; `by_runs` false runs every candidate rule's regex on the whole
    /// text (the reference the run-limited search is tested against).
    fn find_plain_with(&self, text: &str, candidates: &Candidates, by_runs: bool) -> Vec<Finding> {
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
        for (index, rule) in self.builtin.rules.iter().enumerate() {
            if !candidates.rules[index] {
                continue;
            }
            let mut add = |caps: regex::Captures<'_>| found.extend(rule.finding(&caps));
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

    use crate::secrets::planted::planted;
    use crate::secrets::visible::tests::{reference_view, terminal_text};

    /// The keywords of all rules, in pattern order, with their rules.
    fn keywords() -> Vec<(&'static str, usize)> {
        RULES
            .iter()
            .enumerate()
            .flat_map(|(rule, spec)| spec.keywords.iter().map(move |k| (*k, rule)))
            .collect()
    }

    /// What the keyword pass finds in `text` (scanned as it is), from `AhoCorasick`'s overlapping
    /// iterator: the reference for the table walks.
    fn reference_candidates(text: &str) -> Candidates {
        let keywords = keywords();
        let patterns: Vec<&str> = keywords.iter().map(|(k, _)| *k).collect();
        let iterator = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .build(&patterns)
            .expect("builds");
        let mut found = Candidates {
            rules: vec![false; RULES.len()],
            hits: Vec::new(),
        };
        for m in iterator.find_overlapping_iter(text) {
            let rule = keywords[m.pattern().as_usize()].1;
            found.rules[rule] = true;
            if RULES[rule].barrier.is_some() {
                found.hits.push((rule, m.end() - 1));
            }
        }
        found
    }

    /// [`Redactor::find`] as it was before the view and the keywords were found in one walk:
    /// the view built a byte at a time, the keywords found by `AhoCorasick`, every candidate
    /// rule run on the whole view.
    fn reference_find(redactor: &Redactor, text: &str) -> Vec<Finding> {
        match reference_view(text) {
            None => redactor.find_plain_with(text, &reference_candidates(text), false),
            Some((view, offsets)) => redactor
                .find_plain_with(&view, &reference_candidates(&view), false)
                .into_iter()
                .map(|f| Finding {
                    start: offsets[f.start],
                    end: offsets[f.end - 1] + 1,
                    rule: f.rule,
                })
                .collect(),
        }
    }

    /// Sorted by offset (the order of keywords ending at the same byte does not matter).
    fn sorted(mut found: Candidates) -> Candidates {
        found.hits.sort_unstable_by_key(|(rule, at)| (*at, *rule));
        found
    }

    /// Text dense with keywords in any case (some split by escape sequences or controls), escape
    /// sequences, controls and non-ASCII text.
    fn keyword_text() -> impl Strategy<Value = String> {
        let keywords: Vec<&str> = keywords().into_iter().map(|(k, _)| k).collect();
        proptest::collection::vec(
            prop_oneof![
                2 => "[ -~\r\n]{0,12}",
                2 => terminal_text(),
                1 => proptest::sample::select(keywords.clone()).prop_map(str::to_owned),
                1 => proptest::sample::select(keywords.clone()).prop_map(|k| k.to_ascii_uppercase()),
                1 => (
                    proptest::sample::select(keywords),
                    0usize..20,
                    proptest::sample::select(vec!["\x1b[1m", "\x07", "\x1b]0;", "\x1b(B", "\x7f", "\x1b"]),
                ).prop_map(|(k, at, escape)| {
                    let at = at % (k.len() + 1);
                    format!("{}{escape}{}", &k[..at], &k[at..])
                }),
            ],
            0..16,
        )
        .prop_map(|parts| parts.concat())
    }

    /// Secrets of every rule and env literals, whole, split by escape sequences, in titles and
    /// hyperlinks, among terminal output.
    fn secret_text() -> impl Strategy<Value = String> {
        // The planted lines, and the literals the test redactors are given (so those get split
        // by escape sequences too).
        let secrets: Vec<String> = (planted().into_iter().map(|p| p.line))
            .chain(["hunter2hunter2".to_owned(), "Zx81kQwe77pLmnb2".to_owned()])
            .collect();
        proptest::collection::vec(
            prop_oneof![
                2 => terminal_text(),
                2 => proptest::sample::select(secrets.clone()),
                2 => (proptest::sample::select(secrets), 0usize..200, proptest::sample::select(vec![
                    "\x1b[1;33m", "\x1b[0m", "\x1b[K", "\x07", "\x1b]0;t\x07", "\x1b(B", "\x1b",
                    "\r\n", "\x1b[", "\x1b]0;",
                ])).prop_map(|(line, at, escape)| {
                    let mut at = at % (line.len() + 1);
                    while !line.is_char_boundary(at) {
                        at -= 1;
                    }
                    format!("{}{escape}{}", &line[..at], &line[at..])
                }),
                1 => "[A-Za-z_]{0,6}(token|key|secret|password)[ =:\"']{1,4}[A-Za-z0-9+/=._~!#$%^&*-]{10,40}",
                1 => Just("password: hunter2hunter2 \x1b]0;Zx81kQwe77pLmnb2\x07".to_owned()),
            ],
            0..10,
        )
        .prop_map(|parts| parts.concat())
    }

    #[test]
    fn a_literal_is_found_only_through_its_prefix_and_split_by_escapes_too() {
        let literal = "Zx81kQwe77pLmnb2";
        let redactor = Redactor::new(&[literal]).expect("builds");
        assert!(redactor.scan_tables.is_some(), "prefix tables are built");
        // Among output that makes other rules candidates (`key`, escape sequences), whole, split
        // inside its prefix and after it, and in a different case (not the literal: kept).
        for (text, hidden) in [
            (format!("\x1b[1mkey_1 = x\x1b[0m {literal} done"), true),
            (
                "\x1b[1mkey\x1b[0m Zx81\x1b[32mkQwe77pLmnb2 done".to_owned(),
                true,
            ),
            (
                "\x1b[1mkey\x1b[0m Zx81kQwe77\x07pLmnb2 done".to_owned(),
                true,
            ),
            (
                "\x1b[1mplain\x1b[0m Zx81kQwe77pLmnb\x1b[K2".to_owned(),
                true,
            ),
            ("\x1b[1mkey\x1b[0m zX81KqWE77PlMNB2 done".to_owned(), false),
        ] {
            let found = redactor.find(&text);
            let covered: String = found.iter().map(|f| &text[f.start..f.end]).collect();
            let visible: String = covered
                .chars()
                .filter(|c| c.is_ascii_alphanumeric())
                .collect();
            assert_eq!(
                visible.contains("Zx81") && visible.contains("pLmnb"),
                hidden,
                "{text:?}: {found:?}"
            );
            assert_eq!(found, reference_find(&redactor, &text), "{text:?}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        /// The keyword table walked over a whole text (escape sequences included) finds exactly
        /// the rules and keyword ends that `AhoCorasick`'s overlapping iterator finds.
        #[test]
        fn text_keyword_walk_equals_the_overlapping_iterator(text in keyword_text()) {
            let builtin = builtin().expect("compiles");
            prop_assert_eq!(
                sorted(builtin.text_candidates(&text)),
                sorted(reference_candidates(&text))
            );
        }

        /// The keyword table walked along with the view finds, in view offsets, exactly what the
        /// overlapping iterator finds in the view built a byte at a time: stepping every byte, and
        /// skipping by the candidate bitmap (the SIMD one where the CPU has AVX2, and the scalar
        /// one).
        #[test]
        fn view_keyword_walk_equals_the_overlapping_iterator_on_the_view(text in keyword_text()) {
            let builtin = builtin().expect("compiles");
            let trigrams = builtin.trigrams.as_ref().expect("keywords have three bytes");
            let view = match reference_view(&text) {
                Some((view, _)) => view,
                None => text.clone(),
            };
            let expected = sorted(reference_candidates(&view));
            let bitmaps = [
                None,
                Some(trigrams.bitmap_scalar(text.as_bytes())),
                trigrams.bitmap(text.as_bytes()),
            ];
            for bitmap in &bitmaps {
                let mut scan = builtin.view_keywords.scan(RULES.len(), bitmap.as_deref());
                let walked = walk(&text, &mut scan);
                if walked != Walked::Unmappable {
                    prop_assert_eq!(sorted(scan.found), expected.clone(), "bitmap {:?}", bitmap.is_some());
                }
            }
        }

        /// `find` (one walk for view and keywords, the view built only when needed, key/URL rules
        /// only around their keywords) finds exactly what the reference finds.
        #[test]
        fn find_equals_the_reference(text in secret_text()) {
            let literals = ["hunter2hunter2", "Zx81kQwe77pLmnb2"];
            for redactor in [Redactor::builtin(), Redactor::new(&literals)] {
                let redactor = redactor.expect("builds");
                prop_assert_eq!(
                    redactor.find(&text),
                    reference_find(&redactor, &text),
                    "in {:?}", text
                );
            }
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
            let candidates = redactor.builtin.text_candidates(&text);
            prop_assert_eq!(
                redactor.find_plain_with(&text, &candidates, true),
                redactor.find_plain_with(&text, &candidates, false),
                "in {:?}", text
            );
        }
    }
}
