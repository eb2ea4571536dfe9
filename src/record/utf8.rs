//! Incremental UTF-8 decoding of PTY output: a multi-byte character split across two reads is held
//! until its last byte arrives; invalid bytes become U+FFFD (as asciinema does), so every cast event
//! is a valid JSON string.
//!
//! Validation is simdutf8's `compat` API (SIMD, the CPU's widest at run time; the same errors as
//! `std::str::from_utf8`, `valid_up_to` and `error_len` included): std's validator goes a word at a
//! time only through ASCII, and agent output mixes in `✓`, box drawing and CJK every line.

/// Decoder state: the bytes of an incomplete trailing character (at most 3).
#[derive(Debug, Default)]
pub struct Utf8Stream {
    partial: Vec<u8>,
}

impl Utf8Stream {
    /// Decodes `bytes` after any held partial character; holds a new incomplete tail.
    pub fn decode(&mut self, bytes: &[u8]) -> String {
        let mut out = String::with_capacity(bytes.len());
        self.decode_into(bytes, &mut out);
        out
    }

    /// [`Utf8Stream::decode`] appending to `out` (the recorder decodes straight into the
    /// redactor's pending text, saving a copy of all output).
    pub fn decode_into(&mut self, bytes: &[u8], out: &mut String) {
        let owned;
        let mut input: &[u8] = if self.partial.is_empty() {
            bytes
        } else {
            let mut joined = std::mem::take(&mut self.partial);
            joined.extend_from_slice(bytes);
            owned = joined;
            &owned
        };
        loop {
            match simdutf8::compat::from_utf8(input) {
                Ok(valid) => {
                    out.push_str(valid);
                    return;
                }
                Err(err) => {
                    let (valid, rest) = input.split_at(err.valid_up_to());
                    // `valid` was just checked (so this cannot fail; checking again beats `unsafe`).
                    out.push_str(simdutf8::basic::from_utf8(valid).unwrap_or_default());
                    match err.error_len() {
                        None => {
                            self.partial = rest.to_vec();
                            return;
                        }
                        Some(n) => {
                            out.push('\u{FFFD}');
                            input = &rest[n..];
                        }
                    }
                }
            }
        }
    }

    /// Flushes a held incomplete character at end of stream (as U+FFFD).
    pub fn finish(&mut self) -> String {
        if self.partial.is_empty() {
            String::new()
        } else {
            self.partial.clear();
            "\u{FFFD}".to_owned()
        }
    }
}
