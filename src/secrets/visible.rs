//! The visible text of terminal output: escape sequences (CSI, two- and three-byte ESC sequences,
//! the introducers and terminators of OSC/DCS/SOS/PM/APC strings) and invisible C0 controls
//! removed, with a map back to the original ([`ViewMap`]). String payloads (window titles, OSC 8 hyperlink URLs)
//! stay in the view: they are written to recordings like any text, so they must be scanned.
//!
//! Redaction scans this view so that a secret a TUI printed with colour changes or cursor moves in
//! the middle (`ghp_ab\x1b[1mcd…`) is still one token; the original span is then replaced and the
//! escape sequences inside it are kept, so the screen state after the placeholder is unchanged.
//!
//! Invariant: the view copies visible characters byte for byte, so mapped offsets fall on
//! character boundaries of the original.

/// True for bytes that start something the view removes.
fn is_invisible_start(b: u8) -> bool {
    b == 0x1b || (b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r')) || b == 0x7f
}

/// The first byte at or after `from` that starts something the view removes. Text between escape
/// sequences is most of the recorded output, so it is skipped 8 bytes at a time (see
/// [`next_control_or`]).
fn next_invisible(bytes: &[u8], from: usize) -> Option<usize> {
    next_control_or(bytes, from, &[0x7f], is_invisible_start)
}

/// The first byte at or after `from` for which `hit` holds, where `hit` may be true only for C0
/// controls (below 0x20) and the bytes in `also`. A word of 8 bytes with none of those is skipped
/// whole (exact tests, from "Bit Twiddling Hacks": `hasless` and `haszero`). In a flagged word the
/// lowest flagged byte is exact (the tests' borrows only run towards higher bytes), so it is found
/// with `trailing_zeros` of the little-endian word; only when `hit` rejects it (`\t`, `\n`, `\r`
/// for the view) are the word's later bytes looked at one by one.
#[inline]
pub(crate) fn next_control_or(
    bytes: &[u8],
    from: usize,
    also: &[u8],
    hit: impl Fn(u8) -> bool,
) -> Option<usize> {
    const ONES: u64 = u64::from_le_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_le_bytes([0x80; 8]);
    let has_zero = |v: u64| v.wrapping_sub(ONES) & !v & HIGHS;
    let mut at = from;
    while let Some(word) = bytes.get(at..at + 8) {
        let x = u64::from_le_bytes(word.try_into().unwrap_or_default());
        let mut flagged = x.wrapping_sub(ONES * 0x20) & !x & HIGHS;
        for &b in also {
            flagged |= has_zero(x ^ (ONES * u64::from(b)));
        }
        if flagged != 0 {
            let first = (flagged.trailing_zeros() / 8) as usize;
            if hit(word[first]) {
                return Some(at + first);
            }
            if let Some(i) = word[first + 1..].iter().position(|b| hit(*b)) {
                return Some(at + first + 1 + i);
            }
        }
        at += 8;
    }
    bytes[at.min(bytes.len())..]
        .iter()
        .position(|b| hit(*b))
        .map(|i| at + i)
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
            // CSI: parameters/intermediates until a final byte 0x40–0x7E.
            let mut i = at + 2;
            while i < text.len() {
                if (0x40..=0x7e).contains(&text[i]) {
                    return i + 1 - at;
                }
                i += 1;
            }
            text.len() - at
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

    /// Appends `text[from..to]` to `view` (so the view is built as a `String` without validating
    /// it again). The ends nearly always sit next to removed ASCII bytes; `None` when one does not
    /// fall on a character boundary (an `ESC (` followed by a non-ASCII character), and the caller
    /// gives up on the view.
    fn keep(&mut self, view: &mut String, text: &str, from: usize, to: usize) -> Option<()> {
        if from >= to {
            return Some(());
        }
        // Extend the previous run when the original is contiguous with it.
        let contiguous = self
            .runs
            .last()
            .is_some_and(|(v, t)| t + (view.len() - v) == from);
        if !contiguous {
            self.runs.push((view.len(), from));
        }
        view.push_str(text.get(from..to)?);
        Some(())
    }
}

/// The visible text and where each of its bytes came from. `None` when `text` has nothing
/// invisible (the view would equal it), or when a sequence ends inside a character (`ESC (`
/// before a non-ASCII one), where the caller scans `text` as it is.
pub fn visible(text: &str) -> Option<(String, ViewMap)> {
    let bytes = text.as_bytes();
    let first = next_invisible(bytes, 0)?;
    let mut view = String::with_capacity(bytes.len());
    let mut map = ViewMap {
        runs: Vec::new(),
        view_len: 0,
        text_len: bytes.len(),
    };
    map.keep(&mut view, text, 0, first)?;
    let mut at = first;
    while at < bytes.len() {
        let skip = invisible_len(bytes, at);
        if skip > 0 {
            // A string sequence's payload (OSC 0 title, OSC 8 hyperlink URL, DCS data) is written
            // to the recording too, so it is scanned: keep its bytes, drop introducer/terminator.
            if let Some((from, to)) = string_payload(bytes, at, skip) {
                let mut run = from;
                for (i, &b) in bytes.iter().enumerate().take(to).skip(from) {
                    if is_invisible_start(b) {
                        map.keep(&mut view, text, run, i)?;
                        run = i + 1;
                    }
                }
                map.keep(&mut view, text, run, to)?;
            }
            at += skip;
            continue;
        }
        let run_end = next_invisible(bytes, at).unwrap_or(bytes.len());
        map.keep(&mut view, text, at, run_end)?;
        at = run_end;
    }
    map.view_len = view.len();
    Some((view, map))
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
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn a_sequence_ending_inside_a_character_gives_no_view_and_secrets_are_still_found() {
        let token = format!("ghp_{}", "Zx81kQwe77pLmnb2".repeat(3));
        let text = format!("\x1b(é {token} \x1b[1mok");
        assert_eq!(visible(&text), None);
        let redacted = crate::secrets::Redactor::builtin()
            .expect("rules compile")
            .redact(&text)
            .into_owned();
        assert!(!redacted.contains(&token), "{redacted:?}");
        assert!(redacted.contains("[REDACTED:github-token]"), "{redacted:?}");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        /// The word-at-a-time scan finds exactly what a byte-by-byte scan finds.
        #[test]
        fn next_invisible_equals_a_byte_scan(
            bytes in proptest::collection::vec(prop_oneof![
                4 => 0x20u8..0x7f,
                1 => any::<u8>(),
                1 => Just(b'\r'),
            ], 0..80),
            from in 0usize..80,
        ) {
            let from = from.min(bytes.len());
            let naive = bytes[from..].iter().position(|b| is_invisible_start(*b)).map(|i| from + i);
            prop_assert_eq!(next_invisible(&bytes, from), naive);
        }
    }
}
