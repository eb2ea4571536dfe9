//! Streaming redaction for unbounded text (PTY output) whose secrets may be split across reads.
//!
//! Text is pushed in chunks, each with a caller tag (the recorder's timestamp). [`StreamRedactor::drain`]
//! returns redacted [`Piece`]s for the prefix that is safe to release and keeps the rest pending:
//! - [`Release::Safe`] keeps the last `window` bytes (the longest token rule or env literal), so a
//!   token can never straddle the release point unseen;
//! - [`Release::Boundary`] (the recorder's flush tick) also releases up to the last control character
//!   (newline, CR, ESC…): no token rule matches across one, so only the trailing run is kept;
//! - [`Release::All`] (end of stream) releases everything; an unterminated private-key block is
//!   redacted to the end.
//!
//! An unterminated `-----BEGIN … PRIVATE KEY-----` block is always held back (it is multi-line) up to
//! [`MAX_KEY_BLOCK`] bytes; past that it is redacted and the stream is suppressed until its END line
//! (fail closed). The last [`CONTEXT`] bytes of released text are kept (unreleased again) so rules that
//! need a keyword before the value (`password=`, `aws_secret_access_key:`) still see it.
//!
//! Invariant: concatenating the pieces' texts equals `Redactor::redact` of the whole stream whenever
//! no secret is longer than the window, no key block exceeds [`MAX_KEY_BLOCK`] and no `Boundary`
//! release fell inside a `key = value` assignment split across reads more than a tick apart.

use std::collections::VecDeque;
use std::sync::Arc;

use super::visible::invisible_between;
use super::{Finding, Redactor, replacement, rules::MAX_TOKEN_LEN};

/// Longest unterminated private-key block held back before it is redacted wholesale (bytes).
pub const MAX_KEY_BLOCK: usize = 16 * 1024;

/// Released text kept as left context for the next scan (bytes).
pub const CONTEXT: usize = 160;

/// How much pending text [`StreamRedactor::drain`] may release.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Release {
    /// Keep the last `window` bytes (a possible partial secret).
    Safe,
    /// Also release up to the last control character (periodic flush).
    Boundary,
    /// Release everything (end of stream).
    All,
}

/// A released, redacted part of one pushed chunk.
#[derive(Debug, Clone, PartialEq)]
pub struct Piece<T> {
    /// The tag the chunk was pushed with.
    pub tag: T,
    /// Redacted text (may be empty when the whole part was a secret's continuation).
    pub text: String,
    /// Offset of the part's first byte in the original (unredacted) stream.
    pub start: u64,
    /// Offset one past its last byte in the original stream.
    pub end: u64,
}

/// Redacts a text stream pushed in chunks; see the module docs.
pub struct StreamRedactor<T> {
    redactor: Arc<Redactor>,
    window: usize,
    /// The released context (`buf[..base]`, at most [`CONTEXT`] bytes) followed by the pending
    /// text, in one string so each drain scans it without first copying both into a new one.
    buf: String,
    /// Length of the context at the front of `buf`.
    base: usize,
    /// (start offset in `pending`, tag) of each chunk still (partly) pending, in order.
    segments: VecDeque<(usize, T)>,
    /// Original stream offset of `pending[0]`.
    released: u64,
    /// Inside an overlong private-key block: drop text until its END line.
    suppress_key: bool,
}

impl<T: Clone> StreamRedactor<T> {
    /// A stream redactor using `redactor`; the hold-back window is the longest token rule or literal.
    pub fn new(redactor: Arc<Redactor>) -> Self {
        let window = MAX_TOKEN_LEN.max(redactor.longest_literal());
        StreamRedactor {
            redactor,
            window,
            buf: String::new(),
            base: 0,
            segments: VecDeque::new(),
            released: 0,
            suppress_key: false,
        }
    }

    /// Bytes pushed but not yet released.
    pub fn pending_len(&self) -> usize {
        self.buf.len() - self.base
    }

    /// The text pushed but not yet released.
    fn pending(&self) -> &str {
        &self.buf[self.base..]
    }

    /// Original stream offset up to which text has been released.
    pub fn released(&self) -> u64 {
        self.released
    }

    /// Appends a chunk of text tagged `tag`.
    pub fn push(&mut self, tag: T, text: &str) {
        self.push_with(tag, |pending| pending.push_str(text));
    }

    /// Appends a chunk tagged `tag` that `write` appends to the string it is given (the pending
    /// text; `write` must only append to it), and returns the chunk's length in bytes. Lets a
    /// decoder write straight into the pending text instead of into a copy first.
    pub fn push_with(&mut self, tag: T, write: impl FnOnce(&mut String)) -> usize {
        let start = self.pending_len();
        write(&mut self.buf);
        // Only appending keeps the text before `start` (already segmented) as it was.
        let len = self.pending_len().saturating_sub(start);
        if len > 0 {
            self.segments.push_back((start, tag));
        }
        len
    }

    /// Releases the safe prefix of the pending text (see [`Release`]) as redacted pieces.
    pub fn drain(&mut self, release: Release) -> Vec<Piece<T>> {
        if self.pending_len() == 0 {
            return Vec::new();
        }
        let mut dropped_prefix = 0;
        if self.suppress_key {
            dropped_prefix = self.skip_suppressed_key(release);
        }
        let base = self.base;
        let buf = &self.buf;
        let mut found: Vec<Finding> = self
            .redactor
            .find(buf)
            .into_iter()
            .filter(|f| f.end > base + dropped_prefix)
            .collect();
        let len = self.pending_len();
        let mut cut = match release {
            Release::All => len,
            Release::Safe => len.saturating_sub(self.window),
            Release::Boundary => {
                let safe = len.saturating_sub(self.window);
                let boundary = self
                    .pending()
                    .bytes()
                    .rposition(|b| b < 0x20 || b == 0x7f)
                    .map_or(0, |i| i + 1);
                safe.max(boundary)
            }
        };
        cut = cut.max(dropped_prefix);
        if let Some(open) = open_key_block(buf, base, &found) {
            let open = open.saturating_sub(base).max(dropped_prefix);
            if release == Release::All || len - open > MAX_KEY_BLOCK {
                found.push(Finding {
                    start: base + open,
                    end: base + len,
                    rule: "private-key",
                });
                found.sort_by_key(|f| f.start);
                self.suppress_key = release != Release::All;
                cut = len;
            } else {
                cut = cut.min(open);
            }
        }
        // Never cut inside a finding (release it whole) nor inside a UTF-8 character.
        for f in &found {
            if f.start < base + cut && base + cut < f.end {
                cut = f.end - base;
            }
        }
        while !self.pending().is_char_boundary(cut) {
            cut -= 1;
        }
        if cut == 0 {
            return Vec::new();
        }
        let pieces = self.pieces(base, cut, dropped_prefix, &found);
        self.advance(cut);
        pieces
    }

    /// While suppressing an overlong key block: the number of pending bytes (a prefix) to drop.
    fn skip_suppressed_key(&mut self, release: Release) -> usize {
        let pending = self.pending();
        let lower = pending.to_ascii_lowercase();
        if let Some(end) = lower.find("-----end")
            && let Some(close) = lower[end..].find("key-----")
        {
            self.suppress_key = false;
            return end + close + "key-----".len();
        }
        if release == Release::All {
            return pending.len();
        }
        // Keep a little so a split END line is recognised next time.
        let mut keep = pending.len().saturating_sub(64);
        while !pending.is_char_boundary(keep) {
            keep -= 1;
        }
        keep
    }

    /// Builds the released pieces for `pending[..cut]`; the first `dropped` bytes are suppressed.
    fn pieces(&self, base: usize, cut: usize, dropped: usize, found: &[Finding]) -> Vec<Piece<T>> {
        let mut pieces = Vec::new();
        let pending = self.pending();
        let mut findings = found.iter().peekable();
        let bounds: Vec<(usize, usize)> = self
            .segments
            .iter()
            .enumerate()
            .map(|(i, (start, _))| {
                let end = self.segments.get(i + 1).map_or(pending.len(), |s| s.0);
                (*start, end)
            })
            .collect();
        for ((start, end), (_, tag)) in bounds.iter().zip(&self.segments) {
            if *start >= cut {
                break;
            }
            // Buffer offsets of this chunk's released part; the suppressed prefix is skipped.
            let (s, e) = (base + start, base + (*end).min(cut));
            let mut text = String::new();
            let mut at = s.max(base + dropped);
            while let Some(f) = findings.peek() {
                if f.end <= at {
                    findings.next();
                    continue;
                }
                let f_start = f.start.max(base + dropped);
                if f_start >= e {
                    break;
                }
                if f_start >= at {
                    text.push_str(&pending[at - base..f_start - base]);
                    text.push_str(&replacement(f.rule));
                    at = f_start;
                }
                // The secret covers [at, covered_end) here: drop its text, keep its escapes.
                let covered_end = f.end.min(e);
                let secret = &pending[f_start - base..f.end - base];
                text.push_str(&invisible_between(
                    secret,
                    at - f_start,
                    covered_end - f_start,
                ));
                at = covered_end;
                if f.end > e {
                    break;
                }
                findings.next();
            }
            if at < e {
                text.push_str(&pending[at - base..e - base]);
            }
            pieces.push(Piece {
                tag: tag.clone(),
                text,
                start: self.released + (s - base) as u64,
                end: self.released + (e - base) as u64,
            });
        }
        pieces
    }

    /// Drops `pending[..cut]`, keeping the last [`CONTEXT`] bytes of the released text (context
    /// included) as the new context, and re-bases the segments.
    fn advance(&mut self, cut: usize) {
        let released_end = self.base + cut;
        let mut from = released_end.saturating_sub(CONTEXT);
        while !self.buf.is_char_boundary(from) {
            from += 1;
        }
        self.buf.drain(..from);
        self.base = released_end - from;
        self.released += cut as u64;
        while let Some((start, tag)) = self.segments.pop_front() {
            let next = self.segments.front().map(|s| s.0);
            if next.is_some_and(|n| n <= cut) {
                continue;
            }
            if start < cut {
                // The chunk straddles the cut: its remainder keeps the tag.
                self.segments.push_front((0, tag));
            } else {
                self.segments.push_front((start - cut, tag));
            }
            break;
        }
        for seg in self.segments.iter_mut().skip(1) {
            seg.0 -= cut;
        }
        if self.pending_len() == 0 {
            self.segments.clear();
        }
    }
}

/// Offset of the last `-----begin` in `bytes`, in any case. Searches forward (memchr's forward
/// search is SIMD, its reverse one is not), restarting one byte after each hit so that
/// `------BEGIN` is seen.
fn last_begin_marker(bytes: &[u8]) -> Option<usize> {
    let dashes = memchr::memmem::Finder::new(b"-----");
    let mut last = None;
    let mut at = 0;
    while let Some(i) = dashes.find(&bytes[at..]).map(|i| at + i) {
        if bytes
            .get(i + 5..i + 10)
            .is_some_and(|w| w.eq_ignore_ascii_case(b"begin"))
        {
            last = Some(i);
        }
        at = i + 1;
    }
    last
}

/// Buffer offset (at least `base`) of the last `-----BEGIN … PRIVATE KEY` line that no finding
/// covers, i.e. whose END line has not arrived yet; a BEGIN line still being received counts.
fn open_key_block(buf: &str, base: usize, found: &[Finding]) -> Option<usize> {
    // Only the header line is lowercased: lowercasing the whole buffer on every drain cost a copy
    // of all recorded output.
    let bytes = buf.as_bytes();
    let begin = last_begin_marker(bytes)?;
    let line_end = memchr::memchr(b'\n', &bytes[begin..]).map_or(bytes.len(), |i| begin + i);
    let header = buf[begin..line_end].to_ascii_lowercase();
    // A BEGIN line still being received (no "-----" close yet) might become a private-key header.
    let may_be_key = header.contains("private key")
        || (line_end == bytes.len() && !header[10..].contains("-----"));
    // A block that began well inside the released context was either redacted whole or is being
    // suppressed; only a BEGIN marker split by the last release still needs holding.
    if !may_be_key
        || begin + "-----begin".len() <= base
        || found.iter().any(|f| f.start <= begin && begin < f.end)
    {
        return None;
    }
    Some(begin.max(base))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        /// The forward search finds what lowercasing the text and searching backwards found.
        #[test]
        fn last_begin_marker_equals_a_lowercased_rfind(
            parts in proptest::collection::vec(
                prop_oneof![Just("-"), Just("-----"), Just("BEGIN"), Just("begin"), Just("BeGiN"), Just("x"), Just("\n")],
                0..24,
            ),
        ) {
            let text = parts.concat();
            let expected = text.to_ascii_lowercase().rfind("-----begin");
            prop_assert_eq!(last_begin_marker(text.as_bytes()), expected);
        }
    }
}
