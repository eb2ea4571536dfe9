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
    /// Works on a buffer with room for the worst case (every byte as `\u00xx`) through indices,
    /// 8 bytes at a time: each word is stored whole (a fixed-size copy) and, when `escape_mask`
    /// flags a byte, the output position moves only past the bytes before it, then its escape
    /// (from `ESCAPES`, again stored as one word) follows, and the next word starts right after
    /// the escaped byte. So plain text costs no per-byte work and an escape no `memcpy` call nor
    /// capacity check (appending to a `Vec` word by word cost more than the calls it saved).
    /// Only ASCII bytes are escaped, so the output stays UTF-8.
    pub fn escape(&mut self, text: &str) -> &[u8] {
        let bytes = text.as_bytes();
        // 6 bytes per input byte at worst, the quotes, and room for a last 16-byte window.
        let room = 6 * bytes.len() + 2 + 16;
        if self.buf.len() < room {
            self.buf.resize(room, 0);
        }
        let out = &mut self.buf[..];
        out[0] = b'"';
        let mut len = 1;
        let mut at = 0;
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
            ], 0..100),
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
