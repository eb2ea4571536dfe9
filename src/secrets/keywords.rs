//! The keyword prefilter's automaton, walked over the visible view of terminal output.
//!
//! The rules' keywords are compiled by aho-corasick into a DFA (`MatchKind::Standard`: a match
//! state lists every keyword ending at its byte, suffixes included, so looking at the state after
//! each byte sees every occurrence, overlapping ones too). [`KeywordTable`] copies that DFA into a
//! compact table with two changes that make the walk over recorded output cheap:
//! - the bytes that start an escape sequence or control ([`is_invisible_start`]) lead to
//!   [`INVISIBLE`] from every state, so the one comparison per byte that catches match states also
//!   catches the end of a visible run: the same lookup both steps the automaton and finds the view
//!   (see `visible::walk`), where a separate pass over the text for escape sequences used to cost
//!   about as much as the walk itself;
//! - states are 16-bit, premultiplied by the number of byte classes, match states numbered from
//!   [`FIRST_MATCH`] (so a match is told by the top bit), and every state plus class is an index
//!   of the table, so a step is a class lookup, an add and a load, with no bounds check; the walk
//!   runs eight bytes per loop iteration ([`walk_to_special`]). About 6 instructions a byte, where
//!   stepping aho-corasick's DFA through its `Automaton` trait (class lookup, bounds-checked
//!   table, special-state bound in memory) took about 12 (callgrind, benches/record.rs).
//!
//! Invariant: walking the table over a text finds the same keywords at the same offsets as
//! aho-corasick's overlapping iterator over it, and walking it along the view finds what that
//! iterator finds in the view (tests in `redactor.rs` compare them on keyword-dense text).

use std::collections::{HashMap, HashSet};

use aho_corasick::automaton::{Automaton, StateID};
use aho_corasick::{Anchored, dfa};

use super::SecretsError;
use super::trigrams::next_set;
use super::visible::{VisibleScan, is_invisible_start};

/// The first match state: non-match states are numbered from 0, match states from here, so the
/// walk tells a match state by its top bit (a constant test; no register holds a bound).
const FIRST_MATCH: u16 = 0x8000;

/// Entries in a table: one per `u16` state plus the largest class, so that any state plus any
/// class is a valid index.
const TABLE_LEN: usize = (1 << 16) + 256;

/// Table entry for a byte that starts something the view removes (never a state; top bit set, so
/// the match-state test catches it too).
const INVISIBLE: u16 = u16::MAX;

/// Where a walk of a [`KeywordTable`] ends besides the end of the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stop {
    /// At a byte that starts something the view removes: the walk over a view's runs.
    AtInvisible,
    /// Nowhere: the walk over a whole text, escape sequences included (where there is no view).
    Never,
}

/// The keyword DFA as a compact table; see the module docs.
pub(crate) struct KeywordTable {
    /// Byte → byte class (the column of the table).
    classes: [u8; 256],
    /// `trans[state + class]`: the next state, or [`INVISIBLE`]. States are premultiplied by
    /// `stride`; non-match states are numbered from 0, match states from [`FIRST_MATCH`]. Entries
    /// no state uses make every state-plus-class index valid.
    trans: Box<[u16; TABLE_LEN]>,
    /// The unanchored start state.
    start: u16,
    /// Number of byte classes (the premultiplier of states).
    stride: u16,
    /// For each match state (in order from [`FIRST_MATCH`]), its keywords as (rule, whether the
    /// rule has a barrier).
    matches: Vec<Vec<(usize, bool)>>,
}

impl KeywordTable {
    /// Copies `dfa` (built with `MatchKind::Standard`) into a table; `keyword_rule[pattern]` is
    /// the rule a keyword belongs to, `barrier[rule]` whether that rule has a barrier.
    pub(crate) fn new(
        dfa: &dfa::DFA,
        keyword_rule: &[usize],
        barrier: &[bool],
        stop: Stop,
    ) -> Result<KeywordTable, SecretsError> {
        // Every state reachable from the unanchored start, breadth first.
        let start = dfa.start_state(Anchored::No)?;
        let mut states: Vec<StateID> = vec![start];
        let mut seen: HashSet<StateID> = HashSet::from([start]);
        let mut i = 0;
        while let Some(&sid) = states.get(i) {
            for byte in 0..=255u8 {
                let next = dfa.next_state(Anchored::No, sid, byte);
                if seen.insert(next) {
                    states.push(next);
                }
            }
            i += 1;
        }
        let (matching, other): (Vec<StateID>, Vec<StateID>) =
            states.into_iter().partition(|s| dfa.is_match(*s));
        // Byte classes: bytes with the same column (the same next state from every state), the
        // bytes the walk stops at in a column of their own.
        let all: Vec<StateID> = other.iter().chain(&matching).copied().collect();
        let mut columns: HashMap<Option<Vec<StateID>>, u8> = HashMap::new();
        let mut classes = [0u8; 256];
        for byte in 0..=255u8 {
            let column = (stop == Stop::Never || !is_invisible_start(byte)).then(|| {
                all.iter()
                    .map(|s| dfa.next_state(Anchored::No, *s, byte))
                    .collect()
            });
            let next_class = columns.len();
            let class = *columns
                .entry(column)
                .or_insert_with(|| u8::try_from(next_class).unwrap_or(u8::MAX));
            classes[usize::from(byte)] = class;
        }
        let stride = columns.len();
        let too_large = SecretsError::KeywordTable {
            states: all.len(),
            classes: stride,
        };
        if stride > 255
            || other.len() * stride > usize::from(FIRST_MATCH)
            || usize::from(FIRST_MATCH) + matching.len() * stride > usize::from(INVISIBLE)
        {
            return Err(too_large);
        }
        // The checks above keep every id and row in range (`as` cannot truncate).
        let mut id: HashMap<StateID, u16> = HashMap::new();
        for (n, sid) in other.iter().enumerate() {
            id.insert(*sid, (n * stride) as u16);
        }
        for (n, sid) in matching.iter().enumerate() {
            id.insert(*sid, FIRST_MATCH + (n * stride) as u16);
        }
        let mut trans: Box<[u16; TABLE_LEN]> = Box::new([INVISIBLE; TABLE_LEN]);
        for sid in &all {
            for byte in 0..=255u8 {
                if stop == Stop::AtInvisible && is_invisible_start(byte) {
                    continue;
                }
                let at = id[sid] + u16::from(classes[usize::from(byte)]);
                trans[usize::from(at)] = id[&dfa.next_state(Anchored::No, *sid, byte)];
            }
        }
        let matches = matching
            .iter()
            .map(|sid| {
                (0..dfa.match_len(*sid))
                    .map(|i| {
                        let rule = keyword_rule[dfa.match_pattern(*sid, i).as_usize()];
                        (rule, barrier[rule])
                    })
                    .collect()
            })
            .collect();
        Ok(KeywordTable {
            classes,
            trans,
            start: id[&start],
            stride: stride as u16,
            matches,
        })
    }

    /// A walk of the table over one text, for `visible::walk`; `rules` is the number of rules.
    /// With `bitmap` (the text's candidate bitmap, `trigrams.rs`; only for a table that stops
    /// [`Stop::AtInvisible`]) the walk steps only from the positions it marks; without, every byte.
    pub(crate) fn scan<'a>(&'a self, rules: usize, bitmap: Option<&'a [u64]>) -> KeywordScan<'a> {
        KeywordScan {
            table: self,
            bitmap,
            state: self.start,
            found: Candidates {
                rules: vec![false; rules],
                hits: Vec::new(),
            },
        }
    }
}

/// What one keyword pass found: the rules to run, and where keywords of rules with a barrier end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Candidates {
    /// `rules[rule]`: a keyword of the rule occurs.
    pub(crate) rules: Vec<bool>,
    /// (rule, offset of a keyword's last byte) for rules with a barrier, in text order.
    pub(crate) hits: Vec<(usize, usize)>,
}

/// One walk of a [`KeywordTable`] over the visible runs of a text; offsets in `found` are view
/// offsets.
pub(crate) struct KeywordScan<'a> {
    table: &'a KeywordTable,
    /// The text's candidate bitmap, if the walk may skip.
    bitmap: Option<&'a [u64]>,
    state: u16,
    /// What the walk found so far.
    pub(crate) found: Candidates,
}

impl KeywordTable {
    /// Marks in `found` the rules of every keyword the match state `state` (reached at view
    /// offset `at`) lists. Out of line: match states are rare, and the walk keeps its state in
    /// registers.
    #[cold]
    #[inline(never)]
    fn record_match(&self, state: u16, at: usize, found: &mut Candidates) {
        for &(rule, barrier) in &self.matches[usize::from((state - FIRST_MATCH) / self.stride)] {
            found.rules[rule] = true;
            if barrier {
                found.hits.push((rule, at));
            }
        }
    }
}

impl VisibleScan for KeywordScan<'_> {
    fn visible_run(&mut self, bytes: &[u8], from: usize, view_at: usize) -> usize {
        match self.bitmap {
            Some(bitmap) => self.skipping_run(bitmap, bytes, from, view_at),
            None => self.stepping_run(bytes, from, view_at),
        }
    }
}

impl KeywordScan<'_> {
    /// [`VisibleScan::visible_run`] stepping every byte.
    fn stepping_run(&mut self, bytes: &[u8], from: usize, view_at: usize) -> usize {
        let table = self.table;
        let mut at = from;
        loop {
            let (len, state, next) = walk_to_special(table, &bytes[at..], self.state);
            at += len;
            self.state = state;
            match next {
                Some(INVISIBLE) | None => return at,
                Some(matched) => {
                    table.record_match(matched, view_at + (at - from), &mut self.found);
                    self.state = matched;
                    at += 1;
                }
            }
        }
    }

    /// [`VisibleScan::visible_run`] stepping only from the positions `bitmap` marks
    /// (`trigrams.rs`).
    ///
    /// Whenever the automaton is back in its start state the walk jumps ahead: to the next mark
    /// whose byte is visible, stepping from there, or to an invisible byte or the end of the run,
    /// where it steps the (at most two) bytes before it from the start state, so a keyword that
    /// goes on after the sequence is followed. That gives the states of stepping every byte where
    /// they matter. Between marks, no suffix of the view that is a keyword's prefix grows past two
    /// bytes (three adjacent visible bytes of one would be a mark). So a state the walk did not
    /// track is at most two bytes deep and no match (keywords have three bytes or more); when
    /// the walk steps again from the start state, such a state either ends within those two bytes
    /// or lies before an invisible byte or the end, which is where the walk steps the two bytes
    /// before.
    fn skipping_run(&mut self, bitmap: &[u64], bytes: &[u8], from: usize, view_at: usize) -> usize {
        let table = self.table;
        let (classes, trans) = (&table.classes, &*table.trans);
        // `state + class` is at most 0xFFFF + 0xFF, inside the table: no bounds check.
        let step = |state: u16, byte: u8| {
            trans[usize::from(state) + usize::from(classes[usize::from(byte)])]
        };
        let mut at = from;
        let mut state = self.state;
        loop {
            if state == table.start {
                at = next_set(bitmap, at, bytes.len());
                if bytes.get(at).is_none_or(|b| is_invisible_start(*b)) {
                    // The bytes before `at` are visible (no mark between), from the start state.
                    self.state = match at - from {
                        0 => table.start,
                        1 => step(table.start, bytes[at - 1]),
                        _ => step(step(table.start, bytes[at - 2]), bytes[at - 1]),
                    };
                    return at;
                }
            }
            // Step until back at the start state (then skip again), at an invisible byte, or at
            // the end of the run.
            let Some(&byte) = bytes.get(at) else {
                self.state = state;
                return bytes.len();
            };
            let next = step(state, byte);
            if next >= FIRST_MATCH {
                if next == INVISIBLE {
                    self.state = state;
                    return at;
                }
                table.record_match(next, view_at + (at - from), &mut self.found);
            }
            state = next;
            at += 1;
        }
    }
}

/// Steps the table from `state` over `bytes` up to the first byte whose entry is special (a match
/// state or [`INVISIBLE`]): returns how many bytes were stepped, the state after them, and that
/// entry (`None` at the end of `bytes`).
///
/// Its own function, not inlined: inside the caller the loop's few values were spilled to the
/// stack and reloaded on every byte. Eight bytes per iteration (the inner loop is unrolled), so
/// the end-of-text test and the loop counter are paid once per word: about 6 instructions a byte.
#[inline(never)]
fn walk_to_special(
    table: &KeywordTable,
    bytes: &[u8],
    mut state: u16,
) -> (usize, u16, Option<u16>) {
    let (classes, trans) = (&table.classes, &*table.trans);
    // `state + class` is at most 0xFFFF + 0xFF, inside the table: no bounds check.
    let step =
        |state: u16, byte: u8| trans[usize::from(state) + usize::from(classes[usize::from(byte)])];
    let mut at = 0;
    while let Some(word) = bytes.get(at..).and_then(<[u8]>::first_chunk::<8>) {
        for (i, &byte) in word.iter().enumerate() {
            let next = step(state, byte);
            if next >= FIRST_MATCH {
                return (at + i, state, Some(next));
            }
            state = next;
        }
        at += 8;
    }
    for (i, &byte) in bytes[at..].iter().enumerate() {
        let next = step(state, byte);
        if next >= FIRST_MATCH {
            return (at + i, state, Some(next));
        }
        state = next;
    }
    (bytes.len(), state, None)
}
