//! Encoding of the user's keys, pastes, focus changes and mouse events into the bytes the agent
//! expects, as xterm would send them given the modes the agent set: DECCKM arrows, Alt as an ESC
//! prefix, Ctrl-letters as C0 controls, `CSI 1;m X` modified keys (xterm `modifyCursorKeys`), the
//! kitty keyboard protocol's `CSI code;mods u` when the agent pushed kitty flags (so Shift-Enter is
//! distinct from Enter), bracketed paste (2004), mouse 1000/1002/1003 with X10/UTF-8/SGR encoding.
//!
//! Sources: xterm ctlseqs ("PC-Style Function Keys", "Mouse Tracking", "Bracketed Paste Mode") and
//! the kitty keyboard protocol spec (sw.kovidgoyal.net/kitty/keyboard-protocol).
//!
//! Invariant: a paste can never end bracketed-paste mode early — `ESC [201~` inside the pasted text
//! is removed, so pasted text cannot smuggle keystrokes past the agent's paste handling.

use crossterm::event::{
    KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};

use super::modes::{InputModes, KittyFlags, MouseEncoding, MouseMode};

const ESC: u8 = 0x1b;

/// xterm/kitty modifier parameter: 1 + (shift 1 | alt 2 | ctrl 4 | super 8).
fn modifier_param(mods: KeyModifiers) -> u8 {
    let mut bits = 0;
    if mods.contains(KeyModifiers::SHIFT) {
        bits |= 1;
    }
    if mods.contains(KeyModifiers::ALT) {
        bits |= 2;
    }
    if mods.contains(KeyModifiers::CONTROL) {
        bits |= 4;
    }
    if mods.contains(KeyModifiers::SUPER) {
        bits |= 8;
    }
    1 + bits
}

/// The C0 control a Ctrl+`c` chord produces in xterm, if any.
fn ctrl_byte(c: char) -> Option<u8> {
    match c {
        'a'..='z' => Some(c as u8 - b'a' + 1),
        'A'..='Z' => Some(c as u8 - b'A' + 1),
        '@' | ' ' | '2' => Some(0),
        '[' | '3' => Some(27),
        '\\' | '4' => Some(28),
        ']' | '5' => Some(29),
        '^' | '6' => Some(30),
        '_' | '7' | '/' => Some(31),
        '8' | '?' => Some(127),
        _ => None,
    }
}

/// Keys whose legacy form is `CSI … final` or `SS3 final`: (number, final byte).
fn cursor_like(code: KeyCode) -> Option<(u16, u8)> {
    Some(match code {
        KeyCode::Up => (1, b'A'),
        KeyCode::Down => (1, b'B'),
        KeyCode::Right => (1, b'C'),
        KeyCode::Left => (1, b'D'),
        KeyCode::Home => (1, b'H'),
        KeyCode::End => (1, b'F'),
        KeyCode::F(1) => (1, b'P'),
        KeyCode::F(2) => (1, b'Q'),
        KeyCode::F(3) => (1, b'R'),
        KeyCode::F(4) => (1, b'S'),
        _ => return None,
    })
}

/// Keys whose legacy form is `CSI n ~`.
fn tilde_number(code: KeyCode) -> Option<u16> {
    Some(match code {
        KeyCode::Insert => 2,
        KeyCode::Delete => 3,
        KeyCode::PageUp => 5,
        KeyCode::PageDown => 6,
        KeyCode::F(5) => 15,
        KeyCode::F(6) => 17,
        KeyCode::F(7) => 18,
        KeyCode::F(8) => 19,
        KeyCode::F(9) => 20,
        KeyCode::F(10) => 21,
        KeyCode::F(11) => 23,
        KeyCode::F(12) => 24,
        _ => return None,
    })
}

/// Kitty event-type suffix (`:2` repeat, `:3` release) when flag 2 is on.
fn event_suffix(kind: KeyEventKind, kitty: KittyFlags) -> &'static str {
    if !kitty.has(KittyFlags::EVENT_TYPES) {
        return "";
    }
    match kind {
        KeyEventKind::Press => "",
        KeyEventKind::Repeat => ":2",
        KeyEventKind::Release => ":3",
    }
}

/// `CSI number ; mods[:event] final`, omitting the parameters that are defaults.
fn csi(number: u16, mods: u8, suffix: &str, fin: u8) -> Vec<u8> {
    let mut s = String::from("\x1b[");
    if mods > 1 || !suffix.is_empty() {
        s.push_str(&format!("{number};{mods}{suffix}"));
    } else if number != 1 || fin == b'u' || fin == b'~' {
        s.push_str(&number.to_string());
    }
    let mut out = s.into_bytes();
    out.push(fin);
    out
}

/// Encodes one key event for the agent; empty when the key has no encoding (a bare modifier, a
/// release when the agent did not ask for releases, keys xterm does not send).
pub fn encode_key(key: &KeyEvent, modes: &InputModes) -> Vec<u8> {
    let kitty = modes.kitty;
    if key.kind == KeyEventKind::Release && !kitty.has(KittyFlags::EVENT_TYPES) {
        return Vec::new();
    }
    if kitty.0 != 0 {
        return encode_key_kitty(key, modes);
    }
    encode_key_legacy(key, modes)
}

fn encode_key_legacy(key: &KeyEvent, modes: &InputModes) -> Vec<u8> {
    let mods = key.modifiers;
    let alt = mods.contains(KeyModifiers::ALT);
    let ctrl = mods.contains(KeyModifiers::CONTROL);
    let param = modifier_param(mods);
    let with_alt = |mut bytes: Vec<u8>| {
        if alt {
            bytes.insert(0, ESC);
        }
        bytes
    };
    if let Some((_, fin)) = cursor_like(key.code) {
        if param > 1 {
            return csi(1, param, "", fin);
        }
        // F1–F4 are always SS3; arrows, Home and End only under DECCKM.
        let ss3 = modes.app_cursor || matches!(key.code, KeyCode::F(_));
        return vec![ESC, if ss3 { b'O' } else { b'[' }, fin];
    }
    if let Some(number) = tilde_number(key.code) {
        return csi(number, param, "", b'~');
    }
    match key.code {
        KeyCode::Char(c) => {
            if ctrl && let Some(b) = ctrl_byte(c) {
                return with_alt(vec![b]);
            }
            let mut buf = [0u8; 4];
            with_alt(c.encode_utf8(&mut buf).as_bytes().to_vec())
        }
        KeyCode::Enter => with_alt(vec![b'\r']),
        KeyCode::Tab if mods.contains(KeyModifiers::SHIFT) => b"\x1b[Z".to_vec(),
        KeyCode::Tab => with_alt(vec![b'\t']),
        KeyCode::BackTab => b"\x1b[Z".to_vec(),
        KeyCode::Backspace if ctrl => with_alt(vec![0x08]),
        KeyCode::Backspace => with_alt(vec![0x7f]),
        KeyCode::Esc => with_alt(vec![ESC]),
        KeyCode::Null => vec![0],
        _ => Vec::new(),
    }
}

fn encode_key_kitty(key: &KeyEvent, modes: &InputModes) -> Vec<u8> {
    let kitty = modes.kitty;
    let mods = key.modifiers;
    let param = modifier_param(mods);
    let suffix = event_suffix(key.kind, kitty);
    let all_keys = kitty.has(KittyFlags::ALL_KEYS_AS_ESCAPES);
    let plain = param == 1 && suffix.is_empty();
    if let Some((number, fin)) = cursor_like(key.code) {
        // kitty moved F3 to `CSI 13 ~` (CSI R collides with a cursor position report).
        if key.code == KeyCode::F(3) {
            return csi(13, param, suffix, b'~');
        }
        if plain && !all_keys {
            return encode_key_legacy(key, modes);
        }
        return csi(number, param, suffix, fin);
    }
    if let Some(number) = tilde_number(key.code) {
        return csi(number, param, suffix, b'~');
    }
    let (code, legacy_when_plain) = match key.code {
        KeyCode::Enter => (13, true),
        KeyCode::Tab => (9, true),
        KeyCode::BackTab => {
            return csi(9, modifier_param(mods | KeyModifiers::SHIFT), suffix, b'u');
        }
        KeyCode::Backspace => (127, true),
        KeyCode::Esc => (27, false),
        KeyCode::Char(c) => {
            let shifted_text = (mods - KeyModifiers::SHIFT).is_empty();
            if shifted_text && !all_keys {
                // Text (possibly shifted) is sent as text; releases of text keys are not reported.
                if key.kind == KeyEventKind::Release {
                    return Vec::new();
                }
                let mut buf = [0u8; 4];
                return c.encode_utf8(&mut buf).as_bytes().to_vec();
            }
            // The key code is the unshifted key; with flag 4 the shifted key follows after ':'.
            let base = c.to_lowercase().next().unwrap_or(c);
            let mut s = format!("\x1b[{}", base as u32);
            if kitty.has(KittyFlags::ALTERNATE_KEYS) && base != c {
                s.push_str(&format!(":{}", c as u32));
            }
            if param > 1 || !suffix.is_empty() {
                s.push_str(&format!(";{param}{suffix}"));
            }
            s.push('u');
            return s.into_bytes();
        }
        _ => return encode_key_legacy(key, modes),
    };
    if plain && legacy_when_plain && !all_keys {
        return encode_key_legacy(key, modes);
    }
    if key.kind == KeyEventKind::Release && legacy_when_plain && !all_keys {
        // Enter/Tab/Backspace releases are only reported with flag 8 (kitty spec).
        return Vec::new();
    }
    csi(code, param, suffix, b'u')
}

/// Encodes pasted text. With mode 2004 it is wrapped in `ESC [200~` … `ESC [201~` (any end marker
/// inside the text is removed); without it, line breaks become CR as a terminal sends them.
pub fn encode_paste(text: &str, modes: &InputModes) -> Vec<u8> {
    if modes.bracketed_paste {
        let inner = text.replace("\x1b[201~", "");
        let mut out = Vec::with_capacity(inner.len() + 12);
        out.extend_from_slice(b"\x1b[200~");
        out.extend_from_slice(inner.as_bytes());
        out.extend_from_slice(b"\x1b[201~");
        out
    } else {
        text.replace("\r\n", "\r").replace('\n', "\r").into_bytes()
    }
}

/// Focus change report (`ESC [I` gained / `ESC [O` lost) when the agent enabled mode 1004.
pub fn encode_focus(gained: bool, modes: &InputModes) -> Option<Vec<u8>> {
    modes.focus_events.then(|| {
        if gained {
            b"\x1b[I".to_vec()
        } else {
            b"\x1b[O".to_vec()
        }
    })
}

/// Arrow keys to send for a wheel event when the agent is on the alternate screen with alternate
/// scroll (1007) on and mouse reporting off (Codex sets this): `lines` presses of Up/Down, honouring
/// DECCKM. `None` otherwise (then the wheel scrolls overwatch's own scrollback view).
pub fn encode_alternate_scroll(ev: &MouseEvent, lines: u8, modes: &InputModes) -> Option<Vec<u8>> {
    if modes.mouse != MouseMode::Off || !modes.alt_screen || !modes.alternate_scroll {
        return None;
    }
    let fin = match ev.kind {
        MouseEventKind::ScrollUp => b'A',
        MouseEventKind::ScrollDown => b'B',
        _ => return None,
    };
    let one = [ESC, if modes.app_cursor { b'O' } else { b'[' }, fin];
    Some(one.repeat(usize::from(lines)))
}

/// Encodes a mouse event at screen cell (`ev.column`, `ev.row`) for a pane whose top-left screen cell
/// is `pane_origin` (column, row). `None` when the agent did not enable reporting for this kind of
/// event, the event is left of/above the pane, or X10 cannot encode the coordinates (> 223).
pub fn encode_mouse(
    ev: &MouseEvent,
    pane_origin: (u16, u16),
    modes: &InputModes,
) -> Option<Vec<u8>> {
    let x = u32::from(ev.column.checked_sub(pane_origin.0)?) + 1;
    let y = u32::from(ev.row.checked_sub(pane_origin.1)?) + 1;
    let button = |b: MouseButton| match b {
        MouseButton::Left => 0u32,
        MouseButton::Middle => 1,
        MouseButton::Right => 2,
    };
    let (mut cb, release) = match (ev.kind, modes.mouse) {
        (_, MouseMode::Off) => return None,
        (MouseEventKind::Down(b), _) => (button(b), false),
        (MouseEventKind::Up(b), _) => (button(b), true),
        (MouseEventKind::Drag(b), MouseMode::Drag | MouseMode::Motion) => (button(b) + 32, false),
        (MouseEventKind::Moved, MouseMode::Motion) => (35, false),
        (MouseEventKind::ScrollUp, _) => (64, false),
        (MouseEventKind::ScrollDown, _) => (65, false),
        (MouseEventKind::ScrollLeft, _) => (66, false),
        (MouseEventKind::ScrollRight, _) => (67, false),
        _ => return None,
    };
    for (m, bit) in [
        (KeyModifiers::SHIFT, 4),
        (KeyModifiers::ALT, 8),
        (KeyModifiers::CONTROL, 16),
    ] {
        if ev.modifiers.contains(m) {
            cb += bit;
        }
    }
    match modes.mouse_encoding {
        MouseEncoding::Sgr => {
            let fin = if release { 'm' } else { 'M' };
            Some(format!("\x1b[<{cb};{x};{y}{fin}").into_bytes())
        }
        MouseEncoding::X10 | MouseEncoding::Utf8 => {
            // Normal tracking cannot say which button was released: button code 3.
            let cb = if release { 3 + (cb & !3) } else { cb };
            let mut out = b"\x1b[M".to_vec();
            for v in [cb, x, y] {
                let v = v + 32;
                if modes.mouse_encoding == MouseEncoding::X10 {
                    out.push(u8::try_from(v).ok()?);
                } else {
                    let c = char::from_u32(v).filter(|_| v < 2048)?;
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                }
            }
            Some(out)
        }
    }
}
