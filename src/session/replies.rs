//! What the terminal writes back to the agent: alacritty's `EventListener` (which captures replies
//! to DA1, DA2, DSR/CPR, DECRQM, kitty `CSI ? u`, OSC 4/10/11 colour queries, OSC 52 loads, title,
//! bell and clipboard stores) and a scanner for the one start-up query alacritty ignores, XTVERSION
//! `CSI > 0 q`.
//!
//! Invariants: replies leave in the order the queries arrived (Claude Code sends XTVERSION then DA1
//! and treats a DA1 answer that arrives first as "XTVERSION unsupported"); an OSC 52 load is never
//! answered with real clipboard content — the answer is always empty.

use std::sync::{Arc, Mutex, PoisonError};

use alacritty_terminal::event::{Event, EventListener, WindowSize};

/// The answer to XTVERSION (`CSI > 0 q`): `DCS > | name(version) ST` (xterm ctlseqs).
pub const XTVERSION_REPLY: &[u8] = b"\x1bP>|overwatch(0.1.0)\x1b\\";

type ColorFormatter = Arc<dyn Fn(alacritty_terminal::vte::ansi::Rgb) -> String + Sync + Send>;
type SizeFormatter = Arc<dyn Fn(WindowSize) -> String + Sync + Send>;

/// A reply not yet turned into bytes: colour and size answers need the model's state.
pub(crate) enum PendingReply {
    /// Ready bytes.
    Bytes(Vec<u8>),
    /// OSC 4/10/11 query for colour index `.0` (256 = foreground, 257 = background).
    Color(usize, ColorFormatter),
    /// `CSI 14 t` / `CSI 18 t` size report.
    TextAreaSize(SizeFormatter),
}

/// What the listener collected since the model last looked.
#[derive(Default)]
pub(crate) struct Collected {
    pub replies: Vec<PendingReply>,
    /// `Some(None)` = title reset, `Some(Some(t))` = new title, `None` = unchanged.
    pub title: Option<Option<String>>,
    pub bell: bool,
    /// Last OSC 52 store.
    pub clipboard: Option<String>,
}

/// alacritty `EventListener` that queues events for the model; shared with the model through a
/// mutex because `send_event` takes `&self` (uncontended: only the model's thread touches it).
#[derive(Clone, Default)]
pub(crate) struct Listener {
    pub collected: Arc<Mutex<Collected>>,
}

impl Listener {
    /// Takes everything collected so far.
    pub fn take(&self) -> Collected {
        let mut guard = self
            .collected
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        std::mem::take(&mut *guard)
    }
}

impl EventListener for Listener {
    fn send_event(&self, event: Event) {
        let mut c = self
            .collected
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        match event {
            Event::PtyWrite(text) => c.replies.push(PendingReply::Bytes(text.into_bytes())),
            Event::ColorRequest(index, format) => {
                c.replies.push(PendingReply::Color(index, format))
            }
            Event::TextAreaSizeRequest(format) => {
                c.replies.push(PendingReply::TextAreaSize(format))
            }
            // Security: a load is always answered empty so nothing from the user's clipboard (or
            // an earlier store) leaks to the agent.
            Event::ClipboardLoad(_, format) => {
                c.replies.push(PendingReply::Bytes(format("").into_bytes()))
            }
            Event::ClipboardStore(_, text) => c.clipboard = Some(text),
            Event::Title(title) => c.title = Some(Some(title)),
            Event::ResetTitle => c.title = Some(None),
            Event::Bell => c.bell = true,
            Event::MouseCursorDirty
            | Event::CursorBlinkingChange
            | Event::Wakeup
            | Event::Exit
            | Event::ChildExit(_) => {}
        }
    }
}

/// Incremental scanner for XTVERSION (`ESC [ > q` or `ESC [ > 0 q`) that survives a query split
/// across `feed` calls. It does not track OSC/DCS strings, so a literal `ESC[>0q` inside one would be
/// answered too; agents do not send that.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct XtversionScanner {
    state: ScanState,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum ScanState {
    #[default]
    Ground,
    Esc,
    Csi,
    CsiGt,
    CsiGtZero,
}

impl XtversionScanner {
    /// Returns the index just past the first complete XTVERSION query in `bytes`, keeping partial
    /// state for the next call.
    pub fn find(&mut self, bytes: &[u8]) -> Option<usize> {
        let mut i = 0;
        while i < bytes.len() {
            if self.state == ScanState::Ground {
                match memchr::memchr(0x1b, &bytes[i..]) {
                    Some(off) => {
                        i += off + 1;
                        self.state = ScanState::Esc;
                        continue;
                    }
                    None => return None,
                }
            }
            let b = bytes[i];
            i += 1;
            self.state = match (self.state, b) {
                (_, 0x1b) => ScanState::Esc,
                (ScanState::Esc, b'[') => ScanState::Csi,
                (ScanState::Csi, b'>') => ScanState::CsiGt,
                (ScanState::CsiGt, b'0') => ScanState::CsiGtZero,
                (ScanState::CsiGt | ScanState::CsiGtZero, b'q') => {
                    self.state = ScanState::Ground;
                    return Some(i);
                }
                _ => ScanState::Ground,
            };
        }
        None
    }
}
