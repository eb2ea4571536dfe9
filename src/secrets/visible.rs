//! The visible text of terminal output: escape sequences (CSI, two- and three-byte ESC sequences,
//! the introducers and terminators of OSC/DCS/SOS/PM/APC strings) and invisible C0 controls
//! removed, with a map back to the original. String payloads (window titles, OSC 8 hyperlink URLs)
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

/// The visible text and, for each of its bytes, the original offset (plus one final entry for
/// the end). `None` when `text` has nothing invisible (the view would equal it).
pub fn visible(text: &str) -> Option<(String, Vec<usize>)> {
    let bytes = text.as_bytes();
    let first = bytes.iter().position(|b| is_invisible_start(*b))?;
    let mut view = Vec::with_capacity(bytes.len());
    let mut map = Vec::with_capacity(bytes.len() + 1);
    view.extend_from_slice(&bytes[..first]);
    map.extend(0..first);
    let mut at = first;
    while at < bytes.len() {
        let skip = invisible_len(bytes, at);
        if skip > 0 {
            // A string sequence's payload (OSC 0 title, OSC 8 hyperlink URL, DCS data) is written
            // to the recording too, so it is scanned: keep its bytes, drop introducer/terminator.
            if let Some((from, to)) = string_payload(bytes, at, skip) {
                for (i, &b) in bytes.iter().enumerate().take(to).skip(from) {
                    if !is_invisible_start(b) {
                        view.push(b);
                        map.push(i);
                    }
                }
            }
            at += skip;
            continue;
        }
        let run_end = bytes[at..]
            .iter()
            .position(|b| is_invisible_start(*b))
            .map_or(bytes.len(), |i| at + i);
        view.extend_from_slice(&bytes[at..run_end]);
        map.extend(at..run_end);
        at = run_end;
    }
    map.push(bytes.len());
    // Only whole escape sequences and ASCII controls were removed, so the rest is valid UTF-8.
    String::from_utf8(view).ok().map(|v| (v, map))
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
