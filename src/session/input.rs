//! Encoding of the user's keys, pastes and mouse events into the bytes the agent expects, as xterm
//! would send them given the modes the agent set (DECCKM, 2004, mouse 1000–1006, kitty keyboard).

use crossterm::event::{KeyEvent, MouseEvent};

use super::modes::InputModes;

/// Encodes one key event for the agent; empty when the key has no encoding (e.g. a bare modifier).
pub fn encode_key(key: &KeyEvent, modes: &InputModes) -> Vec<u8> {
    let _ = (key, modes);
    Vec::new()
}

/// Encodes pasted text; wrapped in `ESC [200~` … `ESC [201~` when the agent enabled mode 2004.
pub fn encode_paste(text: &str, modes: &InputModes) -> Vec<u8> {
    let _ = modes;
    text.as_bytes().to_vec()
}

/// Encodes a mouse event at screen position (column, row) relative to `pane_origin`; `None` when the
/// agent did not enable mouse reporting for this kind of event or it is outside the pane.
pub fn encode_mouse(
    ev: &MouseEvent,
    pane_origin: (u16, u16),
    modes: &InputModes,
) -> Option<Vec<u8>> {
    let _ = (ev, pane_origin, modes);
    None
}
