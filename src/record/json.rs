//! JSON string literals for asciicast event lines, written straight into the line buffer.
//!
//! The output is byte-identical to `serde_json::to_string(&str)` (serde_json 1.x `ser.rs`: `"` and
//! `\` are backslash-escaped, `\b \t \n \f \r` use their short forms, the other bytes below 0x20
//! become `\u00xx` in lowercase hex, everything else, 0x7f and non-ASCII included, is copied), so
//! casts read the same as before. What differs is the cost: serde_json looks each byte up in a
//! table and hands every run between escapes to an `io::Write`; recorded output has an escape
//! sequence every few dozen bytes, so that was a fifth of the recorder's time (callgrind,
//! benches/record.rs). Here plain runs are found 8 bytes at a time and copied whole.

use crate::secrets::visible::next_control_or;

/// True for the bytes JSON requires escaped: `"`, `\` and the C0 controls.
fn needs_escape(b: u8) -> bool {
    b < 0x20 || b == b'"' || b == b'\\'
}

/// The first byte at or after `from` that needs escaping, 8 bytes at a time (see
/// [`next_control_or`]).
fn next_escape(bytes: &[u8], from: usize) -> Option<usize> {
    next_control_or(bytes, from, b"\"\\", needs_escape)
}

/// Appends `text` to `out` as a quoted JSON string, exactly as `serde_json::to_string` would: runs
/// of bytes that need no escape are found by `next_escape` and copied whole. Only ASCII bytes are
/// escaped, so runs end on character boundaries and `out` stays UTF-8.
pub fn push_json_string(out: &mut Vec<u8>, text: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let bytes = text.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    let mut run = 0;
    while let Some(at) = next_escape(bytes, run) {
        out.extend_from_slice(&bytes[run..at]);
        let b = bytes[at];
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
        run = at + 1;
    }
    out.extend_from_slice(&bytes[run..]);
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
