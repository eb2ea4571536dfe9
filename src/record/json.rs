//! JSON string literals for asciicast event lines, written straight into the line buffer.
//!
//! The output is byte-identical to `serde_json::to_string(&str)` (serde_json 1.x `ser.rs`: `"` and
//! `\` are backslash-escaped, `\b \t \n \f \r` use their short forms, the other bytes below 0x20
//! become `\u00xx` in lowercase hex, everything else, 0x7f and non-ASCII included, is copied), so
//! casts read the same as before. What differs is the cost: serde_json looks each byte up in a
//! table and hands every run between escapes to an `io::Write`; recorded output has an escape
//! sequence every few dozen bytes, so that was a fifth of the recorder's time (callgrind,
//! benches/record.rs). Here the text is copied 8 bytes at a time and cut back at each byte to
//! escape (see [`push_json_string`]).

/// True for the bytes JSON requires escaped: `"`, `\` and the C0 controls.
fn needs_escape(b: u8) -> bool {
    b < 0x20 || b == b'"' || b == b'\\'
}

/// A mask with the high bit set in the lowest byte of `x` (little-endian) that needs escaping,
/// if any (higher bytes may be flagged falsely). The tests are exact for the lowest flagged
/// byte because their borrows only run towards higher bytes ("Bit Twiddling Hacks": `hasless`,
/// `haszero`).
fn escape_mask(x: u64) -> u64 {
    const ONES: u64 = u64::from_le_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_le_bytes([0x80; 8]);
    let has_zero = |v: u64| v.wrapping_sub(ONES) & !v & HIGHS;
    (x.wrapping_sub(ONES * 0x20) & !x & HIGHS)
        | has_zero(x ^ (ONES * u64::from(b'"')))
        | has_zero(x ^ (ONES * u64::from(b'\\')))
}

/// Appends the JSON escape of `b` (one of [`needs_escape`]).
fn push_escape(out: &mut Vec<u8>, b: u8) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    match b {
        b'"' => out.extend_from_slice(b"\\\""),
        b'\\' => out.extend_from_slice(b"\\\\"),
        0x08 => out.extend_from_slice(b"\\b"),
        b'\t' => out.extend_from_slice(b"\\t"),
        b'\n' => out.extend_from_slice(b"\\n"),
        0x0c => out.extend_from_slice(b"\\f"),
        b'\r' => out.extend_from_slice(b"\\r"),
        _ => out.extend_from_slice(&[
            b'\\',
            b'u',
            b'0',
            b'0',
            HEX[usize::from(b >> 4)],
            HEX[usize::from(b & 0xf)],
        ]),
    }
}

/// Appends `text` to `out` as a quoted JSON string, exactly as `serde_json::to_string` would.
///
/// Works 8 bytes at a time: each word is appended whole (a fixed-size copy, no `memcpy` call);
/// when [`escape_mask`] flags it, the copy is cut back to the bytes before the first byte to
/// escape, its escape is appended and the scan goes on right after it. Recorded output needs an
/// escape every dozen bytes or so (ESC, CR, LF), so copying the runs between escapes with
/// `extend_from_slice` of a variable length was most of this function's cost. Only ASCII bytes
/// are escaped, so `out` stays UTF-8.
pub fn push_json_string(out: &mut Vec<u8>, text: &str) {
    let bytes = text.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    let mut at = 0;
    while let Some(word) = bytes.get(at..at + 8) {
        let word: [u8; 8] = word.try_into().unwrap_or_default();
        let flagged = escape_mask(u64::from_le_bytes(word));
        let len = out.len();
        out.extend_from_slice(&word);
        if flagged == 0 {
            at += 8;
            continue;
        }
        let first = (flagged.trailing_zeros() / 8) as usize;
        out.truncate(len + first);
        push_escape(out, word[first]);
        at += first + 1;
    }
    for &b in &bytes[at..] {
        if needs_escape(b) {
            push_escape(out, b);
        } else {
            out.push(b);
        }
    }
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn check(text: &str) {
        let mut ours = Vec::new();
        push_json_string(&mut ours, text);
        let ours = String::from_utf8(ours).expect("UTF-8");
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
            let mut ours = Vec::new();
            push_json_string(&mut ours, &text);
            let ours = String::from_utf8(ours).expect("UTF-8");
            prop_assert_eq!(ours, serde_json::to_string(&text).expect("a str serializes"));
        }
    }
}
