//! The sans-I/O terminal model of one agent pane: PTY bytes in, screen, modes, cursor and replies
//! out. Wraps alacritty_terminal's `Term` and vte's `ansi::Processor` (which buffers DEC 2026
//! synchronized-output blocks, up to 2 MiB or 150 ms).
//!
//! Invariants: no I/O here; replies are only queued (`take_replies`) and written by whoever owns the
//! PTY; scrollback is bounded by the size given to `new`.

use std::time::Instant;

use alacritty_terminal::Term;
use alacritty_terminal::grid::{Dimensions, Scroll};
use alacritty_terminal::index::{Column, Line};
use alacritty_terminal::term::cell::{Cell, Flags};
use alacritty_terminal::term::{Config, Osc52, TermMode};
use alacritty_terminal::vte::ansi::{self, Processor};

use super::modes::{InputModes, Palette};
use super::replies::{Listener, PendingReply, XTVERSION_REPLY, XtversionScanner};

/// Pane size in character cells.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PaneSize {
    /// Columns (≥ 2 once applied to the model; alacritty's minimum).
    pub cols: u16,
    /// Rows (≥ 1).
    pub rows: u16,
}

impl Dimensions for PaneSize {
    fn total_lines(&self) -> usize {
        self.screen_lines()
    }
    fn screen_lines(&self) -> usize {
        usize::from(self.rows.max(1))
    }
    fn columns(&self) -> usize {
        usize::from(self.cols.max(2))
    }
}

/// Cursor shape as set by DECSCUSR (`CSI n SP q`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CursorShape {
    /// Filled block (also used for alacritty's hollow block).
    Block,
    /// Underscore.
    Underline,
    /// Vertical bar ("beam").
    Bar,
}

/// Where the agent's cursor is and how it looks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CursorState {
    /// Row on the live screen, 0 = top (independent of the scrollback view).
    pub row: u16,
    /// Column, 0 = left; on a wide character, its first cell.
    pub col: u16,
    /// Shape requested by the agent.
    pub shape: CursorShape,
    /// False after `CSI ? 25 l`.
    pub visible: bool,
}

/// Sans-I/O terminal model over alacritty_terminal 0.26: see the module doc.
pub struct TerminalModel {
    term: Term<Listener>,
    parser: Processor,
    listener: Listener,
    xtversion: XtversionScanner,
    palette: Palette,
    size: PaneSize,
    replies: Vec<u8>,
    title: Option<String>,
    bell: bool,
    clipboard: Option<String>,
}

impl TerminalModel {
    /// A blank screen of `size` keeping at most `scrollback_lines` lines of history (the app's default
    /// is 10 000). Colour queries are answered from `Palette::default()` until `set_palette`.
    pub fn new(size: PaneSize, scrollback_lines: usize) -> Self {
        let config = Config {
            scrolling_history: scrollback_lines,
            // Agents (Codex) push kitty flags and query them with `CSI ? u`; input.rs encodes keys
            // accordingly.
            kitty_keyboard: true,
            // Loads are accepted only to answer them empty (see replies.rs); stores are kept.
            osc52: Osc52::CopyPaste,
            ..Config::default()
        };
        let listener = Listener::default();
        let term = Term::new(config, &size, listener.clone());
        Self {
            term,
            parser: Processor::new(),
            listener,
            xtversion: XtversionScanner::default(),
            palette: Palette::default(),
            size,
            replies: Vec::new(),
            title: None,
            bell: false,
            clipboard: None,
        }
    }

    /// Sets the theme colours reported to OSC 4/10/11 queries.
    pub fn set_palette(&mut self, palette: Palette) {
        self.palette = palette;
    }

    /// The theme colours in use.
    pub fn palette(&self) -> &Palette {
        &self.palette
    }

    /// Processes PTY output. Sequences may be split anywhere across calls. A synchronized-output
    /// block that outlived its 150 ms deadline is flushed first (as alacritty's event loop does).
    pub fn feed(&mut self, bytes: &[u8]) {
        if self.sync_deadline().is_some() {
            self.flush_expired_sync(Instant::now());
        }
        let mut rest = bytes;
        while let Some(end) = self.xtversion.find(rest) {
            self.parser.advance(&mut self.term, &rest[..end]);
            if self.is_synchronized() {
                // The query sits in a DEC 2026 buffer; flush it so replies keep their order.
                self.parser.stop_sync(&mut self.term);
            }
            self.collect();
            self.replies.extend_from_slice(XTVERSION_REPLY);
            rest = &rest[end..];
        }
        self.parser.advance(&mut self.term, rest);
        self.collect();
    }

    /// Drains the bytes that must be written back to the PTY, in query order.
    pub fn take_replies(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.replies)
    }

    /// Resizes the grid (reflowing as alacritty does). The PTY must be resized separately.
    pub fn resize(&mut self, size: PaneSize) {
        self.size = size;
        self.term.resize(size);
    }

    /// Current size.
    pub fn size(&self) -> PaneSize {
        self.size
    }

    /// Input modes the agent has set.
    pub fn modes(&self) -> InputModes {
        InputModes::from_term_mode(*self.term.mode())
    }

    /// The displayed screen (respecting the scrollback view), rows joined by `\n`, trailing spaces
    /// trimmed per row; wide characters appear once.
    pub fn screen_text(&self) -> String {
        let grid = self.term.grid();
        let offset = self.display_offset() as i32;
        let mut out = String::new();
        for row in 0..grid.screen_lines() as i32 {
            if row > 0 {
                out.push('\n');
            }
            let start = out.len();
            let line = &grid[Line(row - offset)];
            for col in 0..grid.columns() {
                push_cell_text(&mut out, &line[Column(col)]);
            }
            let trimmed = out[start..].trim_end_matches(' ').len();
            out.truncate(start + trimmed);
        }
        out
    }

    /// The agent's cursor on the live screen.
    pub fn cursor(&self) -> CursorState {
        let grid = self.term.grid();
        let mut point = grid.cursor.point;
        if grid[point].flags.contains(Flags::WIDE_CHAR_SPACER) && point.column.0 > 0 {
            point.column -= 1;
        }
        let shape = match self.term.cursor_style().shape {
            ansi::CursorShape::Underline => CursorShape::Underline,
            ansi::CursorShape::Beam => CursorShape::Bar,
            ansi::CursorShape::Block
            | ansi::CursorShape::HollowBlock
            | ansi::CursorShape::Hidden => CursorShape::Block,
        };
        CursorState {
            row: u16::try_from(point.line.0.max(0)).unwrap_or(u16::MAX),
            col: u16::try_from(point.column.0).unwrap_or(u16::MAX),
            shape,
            visible: self.term.mode().contains(TermMode::SHOW_CURSOR),
        }
    }

    /// Scrolls the view into history: positive `delta_lines` goes back in time. Clamped.
    pub fn scroll_display(&mut self, delta_lines: i32) {
        self.term.scroll_display(Scroll::Delta(delta_lines));
    }

    /// Returns the view to the live screen.
    pub fn reset_display_scroll(&mut self) {
        self.term.scroll_display(Scroll::Bottom);
    }

    /// How many lines the view is scrolled back (0 = live screen).
    pub fn display_offset(&self) -> usize {
        self.term.grid().display_offset()
    }

    /// Lines of history currently kept.
    pub fn history_len(&self) -> usize {
        self.term.grid().history_size()
    }

    /// Window title set by OSC 0/2, if any.
    pub fn title(&self) -> Option<&str> {
        self.title.as_deref()
    }

    /// True once per BEL received since the last call.
    pub fn take_bell(&mut self) -> bool {
        std::mem::take(&mut self.bell)
    }

    /// Last text the agent stored with OSC 52 (never given back to it).
    pub fn clipboard(&self) -> Option<&str> {
        self.clipboard.as_deref()
    }

    /// True inside a DEC 2026 block: the screen is not updated until it ends, so the app may skip
    /// drawing. Call `flush_expired_sync` from a timer at `sync_deadline`.
    pub fn is_synchronized(&self) -> bool {
        self.parser.sync_timeout().sync_timeout().is_some()
    }

    /// When the current synchronized block must be force-ended (150 ms after it began).
    pub fn sync_deadline(&self) -> Option<Instant> {
        self.parser.sync_timeout().sync_timeout()
    }

    /// Ends a synchronized block whose deadline is before `now`; returns true if it did.
    pub fn flush_expired_sync(&mut self, now: Instant) -> bool {
        match self.sync_deadline() {
            Some(deadline) if deadline <= now => {
                self.parser.stop_sync(&mut self.term);
                self.collect();
                true
            }
            _ => false,
        }
    }

    /// Read access for the renderer (`ui::terminal_view`).
    pub(crate) fn term(&self) -> &Term<Listener> {
        &self.term
    }

    /// Moves what the listener collected into the model, resolving colour and size replies.
    fn collect(&mut self) {
        let collected = self.listener.take();
        for reply in collected.replies {
            match reply {
                PendingReply::Bytes(bytes) => self.replies.extend_from_slice(&bytes),
                PendingReply::Color(index, format) => {
                    let rgb = self.term.colors()[index].unwrap_or_else(|| {
                        let c = self.palette.color(index);
                        ansi::Rgb {
                            r: c.r,
                            g: c.g,
                            b: c.b,
                        }
                    });
                    self.replies.extend_from_slice(format(rgb).as_bytes());
                }
                PendingReply::TextAreaSize(format) => {
                    // Pixel sizes are unknown in a terminal pane; report 0 as tmux does.
                    let size = alacritty_terminal::event::WindowSize {
                        num_lines: self.size.rows,
                        num_cols: self.size.cols,
                        cell_width: 0,
                        cell_height: 0,
                    };
                    self.replies.extend_from_slice(format(size).as_bytes());
                }
            }
        }
        if let Some(title) = collected.title {
            self.title = title;
        }
        self.bell |= collected.bell;
        if collected.clipboard.is_some() {
            self.clipboard = collected.clipboard;
        }
    }
}

/// Appends the text of one cell: nothing for the spacer after a wide character, else the character
/// plus any combining characters.
pub(crate) fn push_cell_text(out: &mut String, cell: &Cell) {
    if cell
        .flags
        .intersects(Flags::WIDE_CHAR_SPACER | Flags::LEADING_WIDE_CHAR_SPACER)
    {
        return;
    }
    out.push(cell.c);
    if let Some(zw) = cell.zerowidth() {
        out.extend(zw.iter());
    }
}
