//! `TerminalView`: a ratatui widget drawing a `TerminalModel`'s displayed screen cell by cell
//! (colours, bold/italic/underline/dim/strikethrough/inverse, wide characters, scrollback view).
//!
//! Invariant: drawing only reads the model.
#![allow(dead_code)] // wired into the app during integration

use alacritty_terminal::grid::Dimensions;
use alacritty_terminal::index::{Column, Line};
use alacritty_terminal::term::cell::Flags;
use alacritty_terminal::vte::ansi::{Color as TermColor, NamedColor};
use ratatui::buffer::Buffer;
use ratatui::layout::{Position, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::widgets::Widget;

use crate::session::{Palette, TerminalModel};

/// Draws the model's displayed screen into an area (clipped to the smaller of the two).
pub struct TerminalView<'a> {
    model: &'a TerminalModel,
    palette: Option<&'a Palette>,
}

impl<'a> TerminalView<'a> {
    /// A view of `model` whose named colours map to ratatui's named colours (the host terminal's
    /// own theme) and default colours to `Color::Reset`.
    pub fn new(model: &'a TerminalModel) -> Self {
        Self {
            model,
            palette: None,
        }
    }

    /// Draw named and default colours with the theme's RGB values instead.
    pub fn palette(mut self, palette: &'a Palette) -> Self {
        self.palette = Some(palette);
        self
    }

    fn color(
        &self,
        color: TermColor,
        overrides: &alacritty_terminal::term::color::Colors,
    ) -> Color {
        match color {
            TermColor::Spec(rgb) => Color::Rgb(rgb.r, rgb.g, rgb.b),
            TermColor::Indexed(i) => match overrides[usize::from(i)] {
                Some(rgb) => Color::Rgb(rgb.r, rgb.g, rgb.b),
                None => Color::Indexed(i),
            },
            TermColor::Named(named) => {
                if let Some(rgb) = overrides[named as usize] {
                    return Color::Rgb(rgb.r, rgb.g, rgb.b);
                }
                match self.palette {
                    Some(p) => {
                        let c = p.color(named_index(named));
                        Color::Rgb(c.r, c.g, c.b)
                    }
                    None => named_color(named),
                }
            }
        }
    }
}

/// Terminal colour index of a named colour (dim variants map to their normal colour).
fn named_index(named: NamedColor) -> usize {
    use NamedColor::*;
    match named {
        DimBlack => 0,
        DimRed => 1,
        DimGreen => 2,
        DimYellow => 3,
        DimBlue => 4,
        DimMagenta => 5,
        DimCyan => 6,
        DimWhite => 7,
        Foreground | BrightForeground | DimForeground | Cursor => 256,
        Background => 257,
        other => other as usize,
    }
}

fn named_color(named: NamedColor) -> Color {
    const ANSI: [Color; 16] = [
        Color::Black,
        Color::Red,
        Color::Green,
        Color::Yellow,
        Color::Blue,
        Color::Magenta,
        Color::Cyan,
        Color::Gray,
        Color::DarkGray,
        Color::LightRed,
        Color::LightGreen,
        Color::LightYellow,
        Color::LightBlue,
        Color::LightMagenta,
        Color::LightCyan,
        Color::White,
    ];
    match named_index(named) {
        i @ 0..=15 => ANSI[i],
        _ => Color::Reset,
    }
}

fn modifiers(flags: Flags) -> Modifier {
    let mut m = Modifier::empty();
    for (flag, modifier) in [
        (Flags::BOLD, Modifier::BOLD),
        (Flags::ITALIC, Modifier::ITALIC),
        (Flags::DIM, Modifier::DIM),
        (Flags::STRIKEOUT, Modifier::CROSSED_OUT),
        (Flags::INVERSE, Modifier::REVERSED),
        (Flags::HIDDEN, Modifier::HIDDEN),
    ] {
        if flags.contains(flag) {
            m |= modifier;
        }
    }
    if flags.intersects(Flags::ALL_UNDERLINES) {
        m |= Modifier::UNDERLINED;
    }
    m
}

impl Widget for TerminalView<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let term = self.model.term();
        let grid = term.grid();
        let overrides = term.colors();
        let offset = grid.display_offset() as i32;
        let rows = area
            .height
            .min(u16::try_from(grid.screen_lines()).unwrap_or(u16::MAX));
        let cols = area
            .width
            .min(u16::try_from(grid.columns()).unwrap_or(u16::MAX));
        let mut text = String::new();
        for y in 0..rows {
            let line = &grid[Line(i32::from(y) - offset)];
            for x in 0..cols {
                let cell = &line[Column(usize::from(x))];
                let Some(out) = buf.cell_mut((area.x + x, area.y + y)) else {
                    continue;
                };
                let style = Style::default()
                    .fg(self.color(cell.fg, overrides))
                    .bg(self.color(cell.bg, overrides))
                    .add_modifier(modifiers(cell.flags));
                out.set_style(style);
                if cell.flags.contains(Flags::WIDE_CHAR_SPACER) {
                    // The wide character in the previous cell covers this one; ratatui's diff
                    // skips it by the symbol's width, as with its own `set_string`.
                    out.set_symbol(" ");
                    continue;
                }
                if cell.flags.contains(Flags::LEADING_WIDE_CHAR_SPACER) || cell.c == '\0' {
                    out.set_symbol(" ");
                    continue;
                }
                if cell.flags.contains(Flags::WIDE_CHAR) && x + 1 >= cols {
                    // A wide character cut by the right edge: show a blank rather than overflow.
                    out.set_symbol(" ");
                    continue;
                }
                text.clear();
                crate::session::model_cell_text(&mut text, cell);
                out.set_symbol(&text);
            }
        }
    }
}

/// Where the real terminal cursor should be placed for `model` drawn in `area`: `None` when the agent
/// hid it, the view is scrolled back, or it falls outside the area.
pub fn cursor_position(model: &TerminalModel, area: Rect) -> Option<Position> {
    let cursor = model.cursor();
    if !cursor.visible || model.display_offset() != 0 {
        return None;
    }
    if cursor.col >= area.width || cursor.row >= area.height {
        return None;
    }
    Some(Position::new(area.x + cursor.col, area.y + cursor.row))
}
