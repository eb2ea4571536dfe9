//! The visible text of terminal output: escape sequences (CSI, two- and three-byte ESC sequences,
//! the introducers and terminators of OSC/DCS/SOS/PM/APC strings) and invisible C0 controls
//! removed, with a map back to the original ([`ViewMap`]). String payloads (window titles, OSC 8
//! hyperlink URLs) stay in the view: they are written to recordings like any text, so they must
//! be scanned.
//!
//! Redaction scans this view so that a secret a TUI printed with colour changes or cursor moves in
//! the middle (`ghp_ab\x1b[1mcd…`) is still one token; the original span is then replaced and the
//! escape sequences inside it are kept, so the screen state after the placeholder is unchanged.
//!
//! `walk` finds the sequences and hands the visible runs between them to a `VisibleScan` (the
//! redactor's keyword automaton, which spots the byte that starts the next sequence in the same
//! table lookup it does anyway), so finding the view costs no pass of its own; the view text is
//! built from the map only when something must be searched in it ([`ViewMap::view`]).
//!
//! Invariant: the view copies visible characters byte for byte, so mapped offsets fall on
//! character boundaries of the original.

/// True for bytes that start something the view removes.
pub(crate) fn is_invisible_start(b: u8) -> bool {
    b == 0x1b || (b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r')) || b == 0x7f
}

/// Byte length of the escape sequence or control at `text[at..]` (≥ 1), or 0 if `text[at]` is
/// visible. An unterminated sequence runs to the end of `text`.
fn invisible_len(text: &[u8], at: usize) -> usize {
    let b = text[at];
    if !is_invisible_start(b) {
        return 0;
    }
    if b != 0x1b {
        return 1;
    }
    let Some(&next) = text.get(at + 1) else {
        return 1;
    };
    match next {
        b'[' => {
            // CSI: parameters/intermediates until a final byte 0x40–0x7E. (An iterator, not
            // indexing: most sequences are CSI, and the bounds checks were half of their cost.)
            text[at + 2..]
                .iter()
                .position(|b| (0x40..=0x7e).contains(b))
                .map_or(text.len() - at, |i| i + 3)
        }
        b']' | b'P' | b'X' | b'^' | b'_' => {
            // String until BEL or ST (ESC \).
            let mut i = at + 2;
            while i < text.len() {
                if text[i] == 0x07 {
                    return i + 1 - at;
                }
                if text[i] == 0x1b && text.get(i + 1) == Some(&b'\\') {
                    return i + 2 - at;
                }
                i += 1;
            }
            text.len() - at
        }
        0x20..=0x2f => {
            // ESC intermediates… final (`ESC ( B`).
            let mut i = at + 1;
            while i < text.len() && (0x20..=0x2f).contains(&text[i]) {
                i += 1;
            }
            (i + 1).min(text.len()) - at
        }
        _ if next.is_ascii() => 2,
        _ => 1,
    }
}

/// The payload range of the string sequence (OSC, DCS, SOS, PM, APC) at `text[at..at + len]`.
fn string_payload(text: &[u8], at: usize, len: usize) -> Option<(usize, usize)> {
    if len < 2 || !matches!(text[at + 1], b']' | b'P' | b'X' | b'^' | b'_') {
        return None;
    }
    let end = at + len;
    let payload_end = if text[end - 1] == 0x07 {
        end - 1
    } else if len >= 4 && text[end - 2] == 0x1b && text[end - 1] == b'\\' {
        end - 2
    } else {
        end // unterminated: runs to the end
    };
    Some((at + 2, payload_end.max(at + 2)))
}

/// Where the view's bytes came from: the view is a concatenation of runs copied from the original,
/// each `(view offset, original offset)` of its first byte, in order. One entry per run rather
/// than per byte: building a per-byte map cost as much as the scan it served (benches/record.rs).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ViewMap {
    runs: Vec<(usize, usize)>,
    view_len: usize,
    text_len: usize,
}

impl ViewMap {
    /// The original offset of view offset `at` (`at == view length` maps to the text's end).
    pub fn original(&self, at: usize) -> usize {
        if at >= self.view_len {
            return self.text_len;
        }
        let i = self.runs.partition_point(|(view, _)| *view <= at);
        let (view, text) = self.runs[i.saturating_sub(1)];
        text + (at - view)
    }

    /// The maximal part of the view around view offset `at` (< the view's length) without a
    /// `barrier` byte, as its view offset and text, built from the runs of `text` (the text this
    /// map was made from) without building the rest of the view. `barrier` must be true only for
    /// ASCII bytes, so the part starts and ends on character boundaries.
    pub(crate) fn part_around(
        &self,
        text: &str,
        at: usize,
        barrier: fn(u8) -> bool,
    ) -> (usize, String) {
        let bytes = text.as_bytes();
        // Run `i` is view `runs[i].0..end(i)`, copied from text offset `runs[i].1`.
        let end = |i: usize| {
            self.runs
                .get(i + 1)
                .map_or(self.view_len, |(next, _)| *next)
        };
        let text_of = |i: usize, from: usize, to: usize| {
            let (view, original) = self.runs[i];
            &bytes[original + (from - view)..original + (to - view)]
        };
        let hit = self
            .runs
            .partition_point(|(view, _)| *view <= at)
            .saturating_sub(1);
        let mut start = at;
        for i in (0..=hit).rev() {
            let from = self.runs[i].0;
            if let Some(k) = text_of(i, from, start.min(end(i)))
                .iter()
                .rposition(|b| barrier(*b))
            {
                start = from + k + 1;
                break;
            }
            start = from;
        }
        let mut stop = at;
        for i in hit..self.runs.len() {
            let from = stop.max(self.runs[i].0);
            if let Some(k) = text_of(i, from, end(i)).iter().position(|b| barrier(*b)) {
                stop = from + k;
                break;
            }
            stop = end(i);
        }
        let mut part = Vec::with_capacity(stop - start);
        let first = self
            .runs
            .partition_point(|(view, _)| *view <= start)
            .saturating_sub(1);
        for i in first..self.runs.len() {
            if self.runs[i].0 >= stop {
                break;
            }
            let (from, to) = (self.runs[i].0.max(start), end(i).min(stop));
            if from < to {
                part.extend_from_slice(text_of(i, from, to));
            }
        }
        // Runs start and end on character boundaries, and so do barrier bytes (ASCII).
        let part = String::from_utf8(part)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
        (start, part)
    }

    /// Appends the run `text[from..to]` to the view. `None` when an end does not fall on a
    /// character boundary (an `ESC (` followed by a non-ASCII character): there is no view then.
    fn keep(&mut self, text: &str, from: usize, to: usize) -> Option<()> {
        if from >= to {
            return Some(());
        }
        if !(text.is_char_boundary(from) && text.is_char_boundary(to)) {
            return None;
        }
        // Extend the previous run when the original is contiguous with it.
        let contiguous = self
            .runs
            .last()
            .is_some_and(|(v, t)| t + (self.view_len - v) == from);
        if !contiguous {
            self.runs.push((self.view_len, from));
        }
        self.view_len += to - from;
        Some(())
    }

    /// The view text of `text` (the text this map was made from by `walk`).
    pub fn view(&self, text: &str) -> String {
        let mut view = String::with_capacity(self.view_len);
        for (i, &(at, from)) in self.runs.iter().enumerate() {
            let end = self
                .runs
                .get(i + 1)
                .map_or(self.view_len, |(next, _)| *next);
            // Runs were checked to start and end on character boundaries when they were kept.
            view.push_str(&text[from..from + (end - at)]);
        }
        view
    }
}

/// What [`walk`] hands the visible bytes to, a run at a time.
pub(crate) trait VisibleScan {
    /// Consumes `bytes[from..]` up to the first byte that starts something the view removes
    /// ([`is_invisible_start`]) or to the end, and returns where it stopped. `view_at` is the
    /// view offset of `bytes[from]`.
    fn visible_run(&mut self, bytes: &[u8], from: usize, view_at: usize) -> usize;
}

/// How the view of a text relates to it (see [`walk`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Walked {
    /// Nothing is removed: the view is the text itself.
    Same,
    /// The view is the runs of the text in this map.
    Mapped(ViewMap),
    /// A sequence ends inside a character (`ESC (` before a non-ASCII one): there is no view,
    /// and the caller scans the text as it is (what `scan` saw is to be discarded).
    Unmappable,
}

/// Finds the view of `text`, handing every visible run to `scan` in order (so `scan` sees exactly
/// the bytes of the view, in order, and their view offsets).
pub(crate) fn walk(text: &str, scan: &mut impl VisibleScan) -> Walked {
    let bytes = text.as_bytes();
    let first = scan.visible_run(bytes, 0, 0);
    if first == bytes.len() {
        return Walked::Same;
    }
    let mut map = ViewMap {
        // About one run per dozen bytes of agent output; growing the vector cost more than this.
        runs: Vec::with_capacity(bytes.len() / 16 + 1),
        view_len: 0,
        text_len: bytes.len(),
    };
    if map.keep(text, 0, first).is_none() {
        return Walked::Unmappable;
    }
    let mut at = first;
    while at < bytes.len() {
        let skip = invisible_len(bytes, at);
        // A string sequence's payload (OSC 0 title, OSC 8 hyperlink URL, DCS data) is written to
        // the recording too, so it is scanned: keep its bytes, drop introducer and terminator
        // and the controls inside.
        if let Some((from, to)) = string_payload(bytes, at, skip) {
            let payload = &bytes[..to];
            let mut run = from;
            loop {
                let stop = scan.visible_run(payload, run, map.view_len);
                if map.keep(text, run, stop).is_none() {
                    return Walked::Unmappable;
                }
                if stop >= to {
                    break;
                }
                run = stop + 1;
            }
        }
        at += skip;
        let stop = scan.visible_run(bytes, at, map.view_len);
        if map.keep(text, at, stop).is_none() {
            return Walked::Unmappable;
        }
        at = stop;
    }
    Walked::Mapped(map)
}

/// The escape sequences and controls inside `text`, concatenated (what a replacement keeps).
pub fn invisible_parts(text: &str) -> String {
    invisible_between(text, 0, text.len())
}

/// The bytes of `text[from..to]` that belong to escape sequences or controls of `text` (parsed
/// from its start, so a sequence split by `from` is still recognised), concatenated.
pub fn invisible_between(text: &str, from: usize, to: usize) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut at = 0;
    while at < to.min(bytes.len()) {
        let skip = invisible_len(bytes, at);
        if skip > 0 {
            let (a, b) = (at.max(from), (at + skip).min(to));
            if a < b {
                out.extend_from_slice(&bytes[a..b]);
            }
            at += skip;
        } else {
            at += 1;
        }
    }
    // Sequences are ASCII except OSC payloads; a cut inside a payload character is replaced.
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
pub(crate) mod tests {
    use proptest::prelude::*;

    use super::*;

    /// A [`VisibleScan`] that only looks for the end of each run, a byte at a time.
    pub(crate) struct RunsOnly;

    impl VisibleScan for RunsOnly {
        fn visible_run(&mut self, bytes: &[u8], from: usize, _view_at: usize) -> usize {
            bytes[from..]
                .iter()
                .position(|b| is_invisible_start(*b))
                .map_or(bytes.len(), |i| from + i)
        }
    }

    /// The view of `text` and the original offset of each of its bytes, built a byte at a time
    /// (the reference [`walk`] is tested against); `None` when nothing is invisible or when the
    /// view is not UTF-8 (a sequence ended inside a character).
    pub(crate) fn reference_view(text: &str) -> Option<(String, Vec<usize>)> {
        let bytes = text.as_bytes();
        if !bytes.iter().any(|b| is_invisible_start(*b)) {
            return None;
        }
        let (mut view, mut offsets) = (Vec::new(), Vec::new());
        let mut at = 0;
        while at < bytes.len() {
            let skip = invisible_len(bytes, at);
            if skip == 0 {
                view.push(bytes[at]);
                offsets.push(at);
                at += 1;
                continue;
            }
            if let Some((from, to)) = string_payload(bytes, at, skip) {
                for (i, &b) in bytes.iter().enumerate().take(to).skip(from) {
                    if !is_invisible_start(b) {
                        view.push(b);
                        offsets.push(i);
                    }
                }
            }
            at += skip;
        }
        Some((String::from_utf8(view).ok()?, offsets))
    }

    /// Terminal-output-like text: plain and non-ASCII text, every kind of sequence (terminated,
    /// unterminated, with controls and non-ASCII inside), lone controls and ESCs.
    pub(crate) fn terminal_text() -> impl Strategy<Value = String> {
        proptest::collection::vec(
            prop_oneof![
                3 => "[ -~]{0,8}",
                1 => proptest::sample::select(vec![
                    "é", "日本", "✓", "\r\n", "\t", "\x1b", "\x1b[", "\x1b[1;32m", "\x1b[0m",
                    "\x1b[K", "\x1b]0;title\x07", "\x1b]8;;https://x.example/\x1b\\", "\x1b]",
                    "\x1bP", "\x1b_", "\x1b(B", "\x1b(", "\x1b(é", "\x1b#8", "\x1bé", "\x1bM",
                    "\x07", "\x08", "\x7f", "\x00", "\x1b\\", "\x1b]0;a\x08b\x1b[c\x07",
                ]).prop_map(str::to_owned),
            ],
            0..24,
        )
        .prop_map(|parts| parts.concat())
    }

    #[test]
    fn a_sequence_ending_inside_a_character_gives_no_view_and_secrets_are_still_found() {
        let token = format!("ghp_{}", "Zx81kQwe77pLmnb2".repeat(3));
        let text = format!("\x1b(é {token} \x1b[1mok");
        assert_eq!(walk(&text, &mut RunsOnly), Walked::Unmappable);
        assert_eq!(reference_view(&text), None);
        let redacted = crate::secrets::Redactor::builtin()
            .expect("rules compile")
            .redact(&text)
            .into_owned();
        assert!(!redacted.contains(&token), "{redacted:?}");
        assert!(redacted.contains("[REDACTED:github-token]"), "{redacted:?}");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]
        /// The walk finds the view a byte-at-a-time copy finds, maps every view byte to the same
        /// original offset, and hands the scanner exactly the view's bytes at their view offsets.
        #[test]
        fn walk_equals_a_byte_at_a_time_view(text in terminal_text()) {
            /// Records the bytes it is handed, checking their view offsets.
            struct Collect(Vec<u8>);
            impl VisibleScan for Collect {
                fn visible_run(&mut self, bytes: &[u8], from: usize, view_at: usize) -> usize {
                    assert_eq!(view_at, self.0.len(), "view offset of run at {from}");
                    let stop = RunsOnly.visible_run(bytes, from, view_at);
                    self.0.extend_from_slice(&bytes[from..stop]);
                    stop
                }
            }
            let mut seen = Collect(Vec::new());
            match (walk(&text, &mut seen), reference_view(&text)) {
                (Walked::Same, None) => prop_assert_eq!(&seen.0, text.as_bytes()),
                (Walked::Unmappable, None) => {}
                (Walked::Mapped(map), Some((view, offsets))) => {
                    prop_assert_eq!(map.view(&text), view.clone());
                    prop_assert_eq!(&seen.0, view.as_bytes());
                    for (i, at) in offsets.iter().enumerate() {
                        prop_assert_eq!(map.original(i), *at);
                    }
                    prop_assert_eq!(map.original(view.len()), text.len());
                }
                (walked, reference) => prop_assert!(false, "{walked:?} vs {reference:?}"),
            }
        }
    }
}
