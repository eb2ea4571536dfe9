//! The input-side terminal modes an agent can switch on (DECCKM, DECKPAM, 2004, mouse, 1004, kitty
//! keyboard flags, alt screen) and the theme palette used to answer colour queries and draw cells.
//!
//! Invariant: `InputModes` is a plain snapshot; it is recomputed from the terminal model after every
//! `feed`, so the encoders in `input.rs` never see a mode the agent has not set.

use alacritty_terminal::term::TermMode;

/// Which mouse events the agent asked for (DEC private modes 1000, 1002, 1003; source: xterm ctlseqs).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MouseMode {
    /// No mouse reporting: mouse events stay with overwatch (selection, scrolling the pane).
    #[default]
    Off,
    /// 1000: button press and release.
    Click,
    /// 1002: press, release, and motion while a button is held.
    Drag,
    /// 1003: every motion event.
    Motion,
}

/// How mouse reports are encoded (xterm ctlseqs "Mouse Tracking").
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MouseEncoding {
    /// Default `CSI M Cb Cx Cy` with each value + 32 in one byte (coordinates ≤ 223).
    #[default]
    X10,
    /// 1005: like X10 but values above 95 are UTF-8 encoded.
    Utf8,
    /// 1006: `CSI < Cb ; Cx ; Cy M/m`, unbounded coordinates, distinct release.
    Sgr,
}

/// Kitty keyboard protocol progressive-enhancement flags (bit values from the kitty spec:
/// 1 disambiguate, 2 report event types, 4 report alternate keys, 8 report all keys as escape codes,
/// 16 report associated text). `0` means the legacy xterm encoding.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KittyFlags(pub u8);

impl KittyFlags {
    /// Flag 1: escape codes disambiguated (Shift-Enter, Ctrl-I vs Tab, Esc as `CSI 27 u`).
    pub const DISAMBIGUATE: u8 = 1;
    /// Flag 2: press/repeat/release reported.
    pub const EVENT_TYPES: u8 = 2;
    /// Flag 4: shifted and base-layout keys reported.
    pub const ALTERNATE_KEYS: u8 = 4;
    /// Flag 8: every key, even plain text, as an escape code.
    pub const ALL_KEYS_AS_ESCAPES: u8 = 8;
    /// Flag 16: the text a key produces is appended.
    pub const ASSOCIATED_TEXT: u8 = 16;

    /// True when `flag` (one of the constants above) is set.
    pub fn has(self, flag: u8) -> bool {
        self.0 & flag != 0
    }
}

/// Snapshot of the modes that decide how keys, pastes and mouse events are encoded for the agent.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct InputModes {
    /// DECCKM (`CSI ? 1 h`): arrows send `ESC O A` instead of `ESC [ A`.
    pub app_cursor: bool,
    /// DECKPAM (`ESC =`): keypad in application mode.
    pub app_keypad: bool,
    /// 2004: pastes wrapped in `ESC [200~` … `ESC [201~`.
    pub bracketed_paste: bool,
    /// Mouse reporting requested by the agent.
    pub mouse: MouseMode,
    /// Encoding of mouse reports.
    pub mouse_encoding: MouseEncoding,
    /// 1004: focus in/out reported as `ESC [I` / `ESC [O`.
    pub focus_events: bool,
    /// 1007: wheel sent as arrow keys while on the alt screen and mouse reporting is off.
    pub alternate_scroll: bool,
    /// Kitty keyboard flags the agent pushed (top of the stack).
    pub kitty: KittyFlags,
    /// 1049/1047/47: the alternate screen is active (no scrollback there).
    pub alt_screen: bool,
}

impl InputModes {
    /// Reads the modes out of alacritty's mode bits.
    pub(crate) fn from_term_mode(mode: TermMode) -> Self {
        let mouse = if mode.contains(TermMode::MOUSE_MOTION) {
            MouseMode::Motion
        } else if mode.contains(TermMode::MOUSE_DRAG) {
            MouseMode::Drag
        } else if mode.contains(TermMode::MOUSE_REPORT_CLICK) {
            MouseMode::Click
        } else {
            MouseMode::Off
        };
        let mouse_encoding = if mode.contains(TermMode::SGR_MOUSE) {
            MouseEncoding::Sgr
        } else if mode.contains(TermMode::UTF8_MOUSE) {
            MouseEncoding::Utf8
        } else {
            MouseEncoding::X10
        };
        let kitty_bits = [
            (TermMode::DISAMBIGUATE_ESC_CODES, KittyFlags::DISAMBIGUATE),
            (TermMode::REPORT_EVENT_TYPES, KittyFlags::EVENT_TYPES),
            (TermMode::REPORT_ALTERNATE_KEYS, KittyFlags::ALTERNATE_KEYS),
            (
                TermMode::REPORT_ALL_KEYS_AS_ESC,
                KittyFlags::ALL_KEYS_AS_ESCAPES,
            ),
            (
                TermMode::REPORT_ASSOCIATED_TEXT,
                KittyFlags::ASSOCIATED_TEXT,
            ),
        ]
        .iter()
        .filter(|(bit, _)| mode.contains(*bit))
        .fold(0u8, |acc, (_, flag)| acc | flag);
        Self {
            app_cursor: mode.contains(TermMode::APP_CURSOR),
            app_keypad: mode.contains(TermMode::APP_KEYPAD),
            bracketed_paste: mode.contains(TermMode::BRACKETED_PASTE),
            mouse,
            mouse_encoding,
            focus_events: mode.contains(TermMode::FOCUS_IN_OUT),
            alternate_scroll: mode.contains(TermMode::ALTERNATE_SCROLL),
            kitty: KittyFlags(kitty_bits),
            alt_screen: mode.contains(TermMode::ALT_SCREEN),
        }
    }
}

/// A 24-bit colour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rgb {
    /// Red, 0–255.
    pub r: u8,
    /// Green, 0–255.
    pub g: u8,
    /// Blue, 0–255.
    pub b: u8,
}

impl Rgb {
    /// Builds a colour from `0xRRGGBB`.
    pub const fn hex(rgb: u32) -> Self {
        Self {
            r: (rgb >> 16) as u8,
            g: (rgb >> 8) as u8,
            b: rgb as u8,
        }
    }
}

/// The theme colours the pane shows and reports: default foreground/background (answered to OSC 10/11)
/// and the 16 ANSI colours (answered to OSC 4 for indices 0–15, used to draw named colours).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Palette {
    /// Default foreground.
    pub foreground: Rgb,
    /// Default background.
    pub background: Rgb,
    /// ANSI colours 0–7 then bright 8–15.
    pub ansi: [Rgb; 16],
}

impl Default for Palette {
    /// base16 "default dark": foreground `#d8d8d8`, background `#181818`, xterm's ANSI colours.
    fn default() -> Self {
        Self {
            foreground: Rgb::hex(0xd8d8d8),
            background: Rgb::hex(0x181818),
            ansi: [
                Rgb::hex(0x000000),
                Rgb::hex(0xcd0000),
                Rgb::hex(0x00cd00),
                Rgb::hex(0xcdcd00),
                Rgb::hex(0x0000ee),
                Rgb::hex(0xcd00cd),
                Rgb::hex(0x00cdcd),
                Rgb::hex(0xe5e5e5),
                Rgb::hex(0x7f7f7f),
                Rgb::hex(0xff0000),
                Rgb::hex(0x00ff00),
                Rgb::hex(0xffff00),
                Rgb::hex(0x5c5cff),
                Rgb::hex(0xff00ff),
                Rgb::hex(0x00ffff),
                Rgb::hex(0xffffff),
            ],
        }
    }
}

impl Palette {
    /// The colour of terminal colour index `index` as xterm defines it: 0–15 ANSI, 16–231 the 6×6×6
    /// cube, 232–255 the grey ramp, 256 foreground, 257 background, anything else the foreground
    /// (cursor and dim variants).
    pub fn color(&self, index: usize) -> Rgb {
        match index {
            0..=15 => self.ansi[index],
            16..=231 => {
                let i = index - 16;
                let level = |v: usize| if v == 0 { 0 } else { (55 + v * 40) as u8 };
                Rgb {
                    r: level(i / 36),
                    g: level((i / 6) % 6),
                    b: level(i % 6),
                }
            }
            232..=255 => {
                let v = (8 + (index - 232) * 10) as u8;
                Rgb { r: v, g: v, b: v }
            }
            257 => self.background,
            _ => self.foreground,
        }
    }
}
