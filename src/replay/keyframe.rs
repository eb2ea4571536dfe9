//! Keyframes: a terminal model's visible screen serialized as escape sequences, so a fresh model
//! fed the snapshot shows the same screen. alacritty's `Term` cannot be cloned cheaply, so replay
//! stores snapshots every few MiB of output and seeks by restoring the nearest one and feeding only
//! the output after it (the same idea as asciinema-player's segmented recordings, C4).
//!
//! A snapshot is `ESC c` (RIS), the alternate screen if active, every row's cells with their SGR
//! attributes (positioned by CUP, trailing blanks skipped), then the cursor position (a pending
//! wrap is reproduced by re-printing the last character), its pen (SGR of the cursor template)
//! and visibility.
//!
//! Invariant: `screen_text` of a model fed `snapshot(m)` equals `m.screen_text()`.
//! Not carried (documented limits): scrollback history, scroll regions, charsets, origin/insert
//! modes, the title; output after a keyframe that relies on them renders as on a fresh terminal.

use std::fmt::Write as _;

use alacritty_terminal::grid::Dimensions;
use alacritty_terminal::index::{Column, Line};
use alacritty_terminal::term::TermMode;
use alacritty_terminal::term::cell::{Cell, Flags};
use alacritty_terminal::vte::ansi::{Color, NamedColor};

use crate::session::{PaneSize, TerminalModel};

/// The SGR attributes of a cell that a snapshot reproduces.
#[derive(Clone, Copy, PartialEq)]
struct Pen {
    fg: Color,
    bg: Color,
    flags: Flags,
}

const STYLE_FLAGS: Flags = Flags::BOLD
    .union(Flags::DIM)
    .union(Flags::ITALIC)
    .union(Flags::UNDERLINE)
    .union(Flags::DOUBLE_UNDERLINE)
    .union(Flags::UNDERCURL)
    .union(Flags::DOTTED_UNDERLINE)
    .union(Flags::DASHED_UNDERLINE)
    .union(Flags::INVERSE)
    .union(Flags::HIDDEN)
    .union(Flags::STRIKEOUT);

impl Pen {
    fn of(cell: &Cell) -> Pen {
        Pen {
            fg: cell.fg,
            bg: cell.bg,
            flags: cell.flags & STYLE_FLAGS,
        }
    }

    fn is_default(&self) -> bool {
        self.flags.is_empty()
            && self.fg == Color::Named(NamedColor::Foreground)
            && self.bg == Color::Named(NamedColor::Background)
    }

    /// `ESC [ 0 ; … m` setting exactly this pen.
    fn sgr(&self, out: &mut String) {
        out.push_str("\x1b[0");
        let f = self.flags;
        for (flag, code) in [
            (Flags::BOLD, "1"),
            (Flags::DIM, "2"),
            (Flags::ITALIC, "3"),
            (Flags::UNDERLINE, "4"),
            (Flags::DOUBLE_UNDERLINE, "4:2"),
            (Flags::UNDERCURL, "4:3"),
            (Flags::DOTTED_UNDERLINE, "4:4"),
            (Flags::DASHED_UNDERLINE, "4:5"),
            (Flags::INVERSE, "7"),
            (Flags::HIDDEN, "8"),
            (Flags::STRIKEOUT, "9"),
        ] {
            if f.contains(flag) {
                out.push(';');
                out.push_str(code);
            }
        }
        color_sgr(out, self.fg, 30);
        color_sgr(out, self.bg, 40);
        out.push('m');
    }
}

/// Appends `;<sgr>` for a colour; `base` is 30 (foreground) or 40 (background).
fn color_sgr(out: &mut String, color: Color, base: u16) {
    match color {
        Color::Spec(rgb) => {
            let _ = write!(out, ";{};2;{};{};{}", base + 8, rgb.r, rgb.g, rgb.b);
        }
        Color::Indexed(i) => {
            let _ = write!(out, ";{};5;{}", base + 8, i);
        }
        Color::Named(named) => {
            let n = named as usize;
            let index = match n {
                0..=7 => Some(n),
                8..=15 => Some(n),
                // Dim variants (DimBlack…DimWhite) follow the special colours; draw as the base.
                _ => dim_base(named),
            };
            match index {
                Some(i @ 0..=7) => {
                    let _ = write!(out, ";{}", base + i as u16);
                }
                Some(i) => {
                    let _ = write!(out, ";{}", base + 60 + (i as u16 - 8));
                }
                None => {} // Foreground/Background/Cursor: the reset already selected them.
            }
        }
    }
}

fn dim_base(named: NamedColor) -> Option<usize> {
    use NamedColor::*;
    Some(match named {
        DimBlack => 0,
        DimRed => 1,
        DimGreen => 2,
        DimYellow => 3,
        DimBlue => 4,
        DimMagenta => 5,
        DimCyan => 6,
        DimWhite => 7,
        _ => return None,
    })
}

/// Serializes the model's live screen (not the scrollback view) as escape sequences.
pub fn snapshot(model: &TerminalModel) -> Vec<u8> {
    let term = model.term();
    let grid = term.grid();
    let mut out = String::with_capacity(grid.columns() * grid.screen_lines() * 2);
    out.push_str("\x1bc");
    if term.mode().contains(TermMode::ALT_SCREEN) {
        out.push_str("\x1b[?1049h");
    }
    for row in 0..grid.screen_lines() {
        let line = &grid[Line(row as i32)];
        let cols = grid.columns();
        // Skip trailing cells that a fresh screen already has (blank, default pen).
        let mut end = cols;
        while end > 0 {
            let cell = &line[Column(end - 1)];
            if cell.c == ' ' && Pen::of(cell).is_default() && cell.zerowidth().is_none() {
                end -= 1;
            } else {
                break;
            }
        }
        if end == 0 {
            continue;
        }
        let _ = write!(out, "\x1b[{};1H", row + 1);
        let mut pen: Option<Pen> = None;
        for col in 0..end {
            let cell = &line[Column(col)];
            if cell
                .flags
                .intersects(Flags::WIDE_CHAR_SPACER | Flags::LEADING_WIDE_CHAR_SPACER)
            {
                continue;
            }
            let p = Pen::of(cell);
            if pen != Some(p) {
                p.sgr(&mut out);
                pen = Some(p);
            }
            out.push(if cell.c < ' ' || cell.c == '\x7f' {
                ' '
            } else {
                cell.c
            });
            if let Some(zw) = cell.zerowidth() {
                out.extend(zw.iter());
            }
        }
    }
    let cursor = grid.cursor.point;
    let row = cursor.line.0.max(0) as usize;
    if grid.cursor.input_needs_wrap {
        // The cursor sits past the last column ("pending wrap"): CUP cannot express that, so
        // re-print the row's last character, which leaves the cursor in the same state.
        let line = &grid[Line(row as i32)];
        let mut col = cursor.column.0;
        while col > 0 && line[Column(col)].flags.contains(Flags::WIDE_CHAR_SPACER) {
            col -= 1;
        }
        let cell = &line[Column(col)];
        let _ = write!(out, "\x1b[{};{}H", row + 1, col + 1);
        Pen::of(cell).sgr(&mut out);
        out.push(if cell.c < ' ' { ' ' } else { cell.c });
        if let Some(zw) = cell.zerowidth() {
            out.extend(zw.iter());
        }
    } else {
        let _ = write!(out, "\x1b[{};{}H", row + 1, cursor.column.0 + 1);
    }
    Pen::of(&grid.cursor.template).sgr(&mut out);
    if !term.mode().contains(TermMode::SHOW_CURSOR) {
        out.push_str("\x1b[?25l");
    }
    // Snapshots are kept for the whole replay (one per MiB of output): drop the spare capacity.
    let mut bytes = out.into_bytes();
    bytes.shrink_to_fit();
    bytes
}

/// Tracks whether an output stream is between escape sequences (the parser's ground state), so a
/// keyframe is never taken in the middle of one: the snapshot cannot carry a half-parsed sequence,
/// and the bytes after it would then print as text. Only recognises sequence boundaries (ECMA-48
/// ESC, CSI, and OSC/DCS/SOS/PM/APC strings ended by BEL or ST); the terminal model does the rest.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Sequence {
    /// Between sequences.
    #[default]
    Ground,
    /// After ESC.
    Escape,
    /// After ESC + intermediate bytes (0x20–0x2F), e.g. `ESC ( B`.
    EscapeIntermediate,
    /// Inside `ESC [` … final byte.
    Csi,
    /// Inside a string (OSC, DCS, SOS, PM, APC) until BEL or ST.
    String,
    /// ESC seen inside a string (ST if the next byte is `\`).
    StringEscape,
}

impl Sequence {
    /// Advances over `bytes`.
    pub fn feed(&mut self, bytes: &[u8]) {
        for &b in bytes {
            *self = match (*self, b) {
                (_, 0x18 | 0x1a) if !matches!(self, Sequence::String) => Sequence::Ground,
                (Sequence::Ground, 0x1b) => Sequence::Escape,
                (Sequence::Ground, _) => Sequence::Ground,
                (Sequence::Escape, b'[') => Sequence::Csi,
                (Sequence::Escape, b']' | b'P' | b'X' | b'^' | b'_') => Sequence::String,
                (Sequence::Escape | Sequence::EscapeIntermediate, 0x20..=0x2f) => {
                    Sequence::EscapeIntermediate
                }
                (Sequence::Escape | Sequence::EscapeIntermediate, 0x1b) => Sequence::Escape,
                (Sequence::Escape | Sequence::EscapeIntermediate, 0x00..=0x1f) => *self,
                (Sequence::Escape | Sequence::EscapeIntermediate, _) => Sequence::Ground,
                (Sequence::Csi, 0x40..=0x7e) => Sequence::Ground,
                (Sequence::Csi, 0x1b) => Sequence::Escape,
                (Sequence::Csi, _) => Sequence::Csi,
                (Sequence::String, 0x07) => Sequence::Ground,
                (Sequence::String, 0x1b) => Sequence::StringEscape,
                (Sequence::String, _) => Sequence::String,
                (Sequence::StringEscape, b'\\') => Sequence::Ground,
                (Sequence::StringEscape, _) => Sequence::String,
            };
        }
    }

    /// True between sequences.
    pub fn is_ground(self) -> bool {
        self == Sequence::Ground
    }
}

/// A fresh model of `size` showing the screen a snapshot was taken of.
pub fn restore(size: PaneSize, scrollback: usize, snapshot: &[u8]) -> TerminalModel {
    let mut model = TerminalModel::new(size, scrollback);
    model.feed(snapshot);
    model
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn model(bytes: &[u8]) -> TerminalModel {
        let mut m = TerminalModel::new(PaneSize { cols: 40, rows: 10 }, 100);
        m.feed(bytes);
        m
    }

    #[test]
    fn snapshot_restores_text_colours_wide_chars_and_cursor() {
        let live = model(
            "\x1b[1;31mred bold\x1b[0m plain\r\n\x1b[38;2;1;2;3;48;5;200mrgb\x1b[0m 日本語 e\u{301}\r\n\
             \x1b[7minverse\x1b[0m\x1b[5;10Hthere\x1b[3;4H\x1b[4m"
                .as_bytes(),
        );
        let restored = restore(live.size(), 100, &snapshot(&live));
        assert_eq!(restored.screen_text(), live.screen_text());
        assert_eq!(restored.cursor(), live.cursor());
        // Same cells, same attributes.
        let (a, b) = (live.term().grid(), restored.term().grid());
        for row in 0..10 {
            for col in 0..40 {
                let (x, y) = (&a[Line(row)][Column(col)], &b[Line(row)][Column(col)]);
                assert_eq!((x.c, x.fg, x.bg), (y.c, y.fg, y.bg), "cell {row},{col}");
                assert_eq!(x.flags & STYLE_FLAGS, y.flags & STYLE_FLAGS);
            }
        }
        // The pen carries on: text after the keyframe is underlined in both.
        let mut live = live;
        let mut restored = restored;
        live.feed(b"u");
        restored.feed(b"u");
        let cell = |m: &TerminalModel| m.term().grid()[Line(2)][Column(3)].flags;
        assert!(cell(&live).contains(Flags::UNDERLINE));
        assert_eq!(cell(&live) & STYLE_FLAGS, cell(&restored) & STYLE_FLAGS);
    }

    #[test]
    fn ground_tracks_sequence_boundaries() {
        let mut g = Sequence::default();
        for (bytes, ground) in [
            (&b"text"[..], true),
            (b"\x1b[?1", false),
            (b"049l", true),
            (b"\x1b]0;title", false),
            (b"\x1b\\", true),
            (b"\x1b(", false),
            (b"B", true),
            (b"\x1b]8;;url\x07", true),
        ] {
            g.feed(bytes);
            assert_eq!(g.is_ground(), ground, "after {bytes:?}");
        }
    }

    #[test]
    fn alternate_screen_and_hidden_cursor_survive() {
        let live = model(b"primary\x1b[?1049h\x1b[2;2Hfull-screen app\x1b[?25l");
        let restored = restore(live.size(), 100, &snapshot(&live));
        assert_eq!(restored.screen_text(), live.screen_text());
        assert!(!restored.cursor().visible);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn snapshot_round_trips_generated_screens(chunks in proptest::collection::vec(
            prop_oneof![
                "[a-zA-Z0-9 .,:-]{0,30}",
                Just("\r\n".to_owned()),
                Just("\x1b[1;33m".to_owned()),
                Just("\x1b[0m".to_owned()),
                Just("\x1b[2J".to_owned()),
                Just("\x1b[K".to_owned()),
                Just("日本".to_owned()),
                (1u8..12, 1u8..42).prop_map(|(r, c)| format!("\x1b[{r};{c}H")),
            ], 0..60)) {
            let live = model(chunks.concat().as_bytes());
            let restored = restore(live.size(), 100, &snapshot(&live));
            prop_assert_eq!(restored.screen_text(), live.screen_text());
            prop_assert_eq!(restored.cursor(), live.cursor());
        }
    }
}
