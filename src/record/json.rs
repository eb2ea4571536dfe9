//! JSON string literals for asciicast event lines.
//!
//! The output is byte-identical to `serde_json::to_string(&str)` (serde_json 1.x `ser.rs`: `"` and
//! `\` are backslash-escaped, `\b \t \n \f \r` use their short forms, the other bytes below 0x20
//! become `\u00xx` in lowercase hex, everything else, 0x7f and non-ASCII included, is copied), so
//! casts read the same as before. What differs is the cost: serde_json looks each byte up in a
//! table and hands every run between escapes to an `io::Write`; recorded output has an escape
//! sequence every few dozen bytes, so that was a fifth of the recorder's time (callgrind,
//! benches/record.rs). Here the text is copied 8 bytes at a time and escapes are stored whole, in
//! a buffer kept between events (see [`JsonEscaper::escape`]).

/// True for the bytes JSON requires escaped: `"`, `\` and the C0 controls.
const fn needs_escape(b: u8) -> bool {
    b < 0x20 || b == b'"' || b == b'\\'
}

/// The escape of every byte that [`needs_escape`], padded to 8 bytes (so it is stored with one
/// fixed-size copy), and its length; 0 for the other bytes.
const ESCAPES: [([u8; 8], usize); 256] = {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut table = [([0u8; 8], 0usize); 256];
    let mut b = 0;
    while b < 256 {
        let byte = b as u8;
        table[b] = match byte {
            b'"' => (*b"\\\"\0\0\0\0\0\0", 2),
            b'\\' => (*b"\\\\\0\0\0\0\0\0", 2),
            0x08 => (*b"\\b\0\0\0\0\0\0", 2),
            b'\t' => (*b"\\t\0\0\0\0\0\0", 2),
            b'\n' => (*b"\\n\0\0\0\0\0\0", 2),
            0x0c => (*b"\\f\0\0\0\0\0\0", 2),
            b'\r' => (*b"\\r\0\0\0\0\0\0", 2),
            _ if needs_escape(byte) => (
                [
                    b'\\',
                    b'u',
                    b'0',
                    b'0',
                    HEX[(byte >> 4) as usize],
                    HEX[(byte & 0xf) as usize],
                    0,
                    0,
                ],
                6,
            ),
            _ => ([0; 8], 0),
        };
        b += 1;
    }
    table
};

/// A mask with the high bit set in the lowest byte of the little-endian word `x` that needs
/// escaping, if any. Higher bytes may be flagged falsely, the lowest flagged one never: the tests
/// ("Bit Twiddling Hacks": `hasless`, `haszero`) only borrow towards higher bytes. Flipping bit 1
/// maps `"` (0x22) to 0x20 and keeps the C0 controls below 0x20, so one less-than-0x21 test
/// finds both, and a zero test after flipping by `\` finds the backslash.
fn escape_mask(x: u64) -> u64 {
    const ONES: u64 = u64::from_le_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_le_bytes([0x80; 8]);
    let quote_or_control = x ^ (ONES * 0x02);
    let backslash = x ^ (ONES * u64::from(b'\\'));
    ((quote_or_control.wrapping_sub(ONES * 0x21) & !quote_or_control)
        | (backslash.wrapping_sub(ONES) & !backslash))
        & HIGHS
}

/// Writes JSON string literals into a buffer it keeps between calls.
#[derive(Debug, Default)]
pub struct JsonEscaper {
    /// Scratch space: only ever grown, so it is zeroed once, not on every string.
    buf: Vec<u8>,
}

impl JsonEscaper {
    /// `text` as a quoted JSON string, exactly as `serde_json::to_string` writes it.
    ///
    /// Blocks of 16 bytes go through `blocks` (SSE2); the last 32 bytes or so, or all of them
    /// without SSE2, through the 8-byte loop here, which works on a buffer with room for the worst case (every byte as `\u00xx`) through indices,
    /// 8 bytes at a time: each word is stored whole (a fixed-size copy) and, when `escape_mask`
    /// flags a byte, the output position moves only past the bytes before it, then its escape
    /// (from `ESCAPES`, again stored as one word) follows, and the next word starts right after
    /// the escaped byte. So plain text costs no per-byte work and an escape no `memcpy` call nor
    /// capacity check (appending to a `Vec` word by word cost more than the calls it saved).
    /// Only ASCII bytes are escaped, so the output stays UTF-8.
    pub fn escape(&mut self, text: &str) -> &[u8] {
        let bytes = text.as_bytes();
        // 6 bytes per input byte at worst, the quotes, and room for the last 16- and 8-byte stores.
        let room = 6 * bytes.len() + 2 + 32;
        if self.buf.len() < room {
            self.buf.resize(room, 0);
        }
        let out = &mut self.buf[..];
        out[0] = b'"';
        let (mut at, mut len) = blocks(bytes, out);
        while let Some(&word) = bytes.get(at..).and_then(<[u8]>::first_chunk::<8>) {
            // One bounds check for both stores below (the escape starts within the word).
            let window = &mut out[len..len + 16];
            window[..8].copy_from_slice(&word);
            let word = u64::from_le_bytes(word);
            let flagged = escape_mask(word);
            if flagged == 0 {
                len += 8;
                at += 8;
                continue;
            }
            let first = (flagged.trailing_zeros() / 8) as usize;
            let (escape, escape_len) = ESCAPES[usize::from((word >> (first * 8)) as u8)];
            window[first..first + 8].copy_from_slice(&escape);
            len += first + escape_len;
            at += first + 1;
        }
        for &b in &bytes[at..] {
            let (escape, escape_len) = ESCAPES[usize::from(b)];
            if escape_len == 0 {
                out[len] = b;
                len += 1;
            } else {
                out[len..len + 8].copy_from_slice(&escape);
                len += escape_len;
            }
        }
        out[len] = b'"';
        &self.buf[..len + 1]
    }
}

/// Escapes `bytes` from the start, 16 at a time with SSE2 (part of x86_64 itself), into `out`
/// from offset 1; returns how far it got in `bytes` (it stops 32 bytes before the end, so every
/// load stays inside) and in `out`. `out` must have `6 * bytes.len() + 32` bytes after offset 1.
///
/// Each block is stored whole, then for each byte its mask flags, in order: the output moves past
/// the bytes before it, its escape is stored (one 8-byte copy), and the rest of the block is
/// stored again after the escape. So a block costs one compare whatever its number of escapes,
/// where the 8-byte loop restarts after each (recorded output has one every dozen bytes).
#[cfg(target_arch = "x86_64")]
fn blocks(bytes: &[u8], out: &mut [u8]) -> (usize, usize) {
    // SAFETY: SSE2 is part of x86_64: every CPU the target runs on has it.
    unsafe { sse2_blocks(bytes, out) }
}

/// [`blocks`] on x86_64.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "sse2")]
fn sse2_blocks(bytes: &[u8], out: &mut [u8]) -> (usize, usize) {
    use std::arch::x86_64::*;

    // Every store below ends before `1 + 6 * at + 32` for an `at` at most `bytes.len()` (the
    // output grows by at most 6 bytes per input byte), so this one check covers them all.
    assert!(
        out.len() >= 1 + 6 * bytes.len() + 32,
        "no room to escape into"
    );
    let (input, output) = (bytes.as_ptr(), out.as_mut_ptr());
    let (controls, quote, backslash) = (
        _mm_set1_epi8(0x1f),
        _mm_set1_epi8(b'"' as i8),
        _mm_set1_epi8(b'\\' as i8),
    );
    let (mut at, mut len) = (0, 1);
    while at + 32 <= bytes.len() {
        // SAFETY (all of the loads and stores): loads read 16 bytes from at most `at + 16`, inside
        // `bytes` as `at + 32 <= bytes.len()`; stores write at most 16 bytes from `len`, and `len`
        // is at most `1 + 6 * (at + 16)`, inside `out` (asserted above).
        unsafe {
            let v = _mm_loadu_si128(input.add(at).cast());
            _mm_storeu_si128(output.add(len).cast(), v);
            let flagged = _mm_or_si128(
                _mm_cmpeq_epi8(_mm_min_epu8(v, controls), v),
                _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)),
            );
            let mut mask = _mm_movemask_epi8(flagged) as u32;
            let mut done = 0;
            while mask != 0 {
                let first = mask.trailing_zeros() as usize;
                len += first - done;
                let (escape, escape_len) = ESCAPES[usize::from(*input.add(at + first))];
                output.add(len).cast::<[u8; 8]>().write_unaligned(escape);
                len += escape_len;
                done = first + 1;
                let rest = _mm_loadu_si128(input.add(at + done).cast());
                _mm_storeu_si128(output.add(len).cast(), rest);
                mask &= mask - 1;
            }
            len += 16 - done;
        }
        at += 16;
    }
    (at, len)
}

/// Where there is no SSE2 (not x86_64), the 8-byte loop does all the work.
#[cfg(not(target_arch = "x86_64"))]
fn blocks(_bytes: &[u8], _out: &mut [u8]) -> (usize, usize) {
    (0, 1)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn check(text: &str) {
        let ours = String::from_utf8(JsonEscaper::default().escape(text).to_vec()).expect("UTF-8");
        let serde = serde_json::to_string(text).expect("a str serializes");
        assert_eq!(ours, serde, "for {text:?}");
    }

    #[test]
    fn every_escaped_byte_is_written_as_serde_json_writes_it() {
        for b in (0u8..0x80).chain([0x7f]) {
            let c = char::from(b);
            check(&c.to_string());
            // At every position of a word, and across a word boundary.
            for pad in 0..10 {
                check(&format!("{}{c}{}", "x".repeat(pad), "é".repeat(pad)));
            }
        }
        check("");
        check("\u{1b}[1;32m✓\u{1b}[0m say \"hi\" C:\\dir\r\n日本語\u{7f}\u{0}");
    }

    #[test]
    fn escapes_at_every_position_of_long_blocks_are_written_as_serde_json_writes_them() {
        // Long enough for the 16-byte blocks: one or more escapes at each offset of a block.
        for b in [0u8, 0x08, b'\t', b'\n', 0x1b, 0x1f, b'"', b'\\'] {
            let c = char::from(b);
            for at in 0..40 {
                let mut text: Vec<char> = "abcdefghijklmnopqrstuvwxyz0123456789é日"
                    .chars()
                    .cycle()
                    .take(80)
                    .collect();
                text[at] = c;
                check(&text.iter().collect::<String>());
                text[at + 1] = c;
                text[at + 7] = c;
                check(&text.iter().collect::<String>());
            }
            check(&c.to_string().repeat(100));
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1024))]
        /// Arbitrary strings weighted towards the bytes that need escaping, plus any Unicode.
        #[test]
        fn output_equals_serde_json(
            chars in proptest::collection::vec(prop_oneof![
                3 => proptest::char::range(' ', '~'),
                2 => proptest::char::range('\0', '\u{1f}'),
                1 => prop_oneof![Just('"'), Just('\\'), Just('\u{7f}'), Just('\u{2028}')],
                2 => any::<char>(),
            ], 0..300),
        ) {
            let text: String = chars.into_iter().collect();
            let mut escaper = JsonEscaper::default();
            // A longer string first, so the scratch space holds old bytes past the new string.
            escaper.escape(&text.repeat(2));
            let ours = String::from_utf8(escaper.escape(&text).to_vec()).expect("UTF-8");
            prop_assert_eq!(ours, serde_json::to_string(&text).expect("a str serializes"));
        }
    }
}
