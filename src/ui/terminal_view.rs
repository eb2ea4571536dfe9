//! `TerminalView`: a ratatui widget drawing a `TerminalModel`'s displayed screen cell by cell
//! (colours, bold/italic/underline/dim/strikethrough/inverse, wide characters, scrollback view).
//!
//! Invariant: drawing only reads the model.

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
                if cell.flags.contains(Flags::LEADING_WIDE_CHAR_SPACER) {
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
                // alacritty keeps a '\t' in the cell where a tab started (for copying). No control
                // character may reach the outer terminal (ratatui rejects them, and an escape byte
                // from the agent could drive the human's terminal): such a cell draws as a blank.
                if text.is_empty() || text.chars().any(char::is_control) {
                    out.set_symbol(" ");
                } else {
                    out.set_symbol(&text);
                }
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

#[cfg(test)]
mod tests {
    use ratatui::buffer::Buffer;
    use ratatui::layout::{Position, Rect};
    use ratatui::style::{Color, Modifier};
    use ratatui::widgets::Widget;

    use super::{TerminalView, cursor_position};
    use crate::session::{Palette, PaneSize, TerminalModel};

    fn render(model: &TerminalModel, palette: Option<&Palette>, w: u16, h: u16) -> Buffer {
        let area = Rect::new(0, 0, w, h);
        let mut buf = Buffer::empty(area);
        let view = TerminalView::new(model);
        match palette {
            Some(p) => view.palette(p).render(area, &mut buf),
            None => view.render(area, &mut buf),
        }
        buf
    }

    fn styled_model() -> TerminalModel {
        let mut m = TerminalModel::new(PaneSize { cols: 24, rows: 6 }, 100);
        m.feed(
            "\x1b[1mbold\x1b[0m \x1b[3mital\x1b[0m \x1b[4munder\x1b[0m \x1b[2mdim\x1b[0m\r\n\
             \x1b[9mstrike\x1b[0m \x1b[7minv\x1b[0m \x1b[31mred\x1b[0m \x1b[92mbgrn\x1b[0m\r\n\
             \x1b[38;5;174m174\x1b[0m \x1b[38;2;1;2;3;48;2;250;251;252mrgb\x1b[0m \x1b[44mbluebg\x1b[0m\r\n\
             日本🙂|wide\r\n\
             \x1b[8mhidden\x1b[0m end"
                .as_bytes(),
        );
        m
    }

    #[test]
    fn renders_cells_colours_modifiers_and_wide_chars() {
        let m = styled_model();
        insta::assert_snapshot!(format!("{:?}", render(&m, None, 24, 6)));
    }

    /// Regression: `ls` in a terminal aligns columns with tabs, and alacritty stores the '\t' in
    /// the cell; drawing it made ratatui panic ("control character passed to cell_width").
    #[test]
    fn tabs_and_control_characters_draw_as_blanks() {
        let mut model = TerminalModel::new(PaneSize { cols: 20, rows: 2 }, 0);
        model.feed(b"a\tb\x01c");
        let buf = render(&model, None, 20, 2);
        let row: String = (0..20).map(|x| buf[(x, 0)].symbol().to_owned()).collect();
        assert_eq!(row.trim_end(), "a       bc");
    }

    #[test]
    fn palette_maps_named_and_default_colours_to_rgb() {
        let m = styled_model();
        let palette = Palette::default();
        let buf = render(&m, Some(&palette), 24, 6);
        let red = &buf[(11, 1)];
        assert_eq!(red.symbol(), "r");
        assert_eq!(red.fg, Color::Rgb(0xcd, 0, 0));
        assert_eq!(buf[(0, 0)].bg, Color::Rgb(0x18, 0x18, 0x18));
        assert_eq!(buf[(4, 2)].fg, Color::Rgb(1, 2, 3), "truecolor kept");
        assert_eq!(buf[(0, 2)].fg, Color::Indexed(174), "indexed kept");
    }

    #[test]
    fn wide_character_is_one_symbol_followed_by_a_covered_cell() {
        let m = styled_model();
        let buf = render(&m, None, 24, 6);
        assert_eq!(buf[(0, 3)].symbol(), "日");
        assert_eq!(buf[(2, 3)].symbol(), "本");
        assert_eq!(buf[(4, 3)].symbol(), "🙂");
        assert_eq!(buf[(6, 3)].symbol(), "|");
        assert!(buf[(0, 4)].modifier.contains(Modifier::HIDDEN));
    }

    #[test]
    fn smaller_area_clips_and_scrollback_view_is_drawn() {
        let mut m = TerminalModel::new(PaneSize { cols: 10, rows: 3 }, 100);
        for i in 0..6 {
            m.feed(format!("row{i}\r\n").as_bytes());
        }
        let buf = render(&m, None, 4, 2);
        assert_eq!(buf[(0, 0)].symbol(), "r");
        assert_eq!(buf[(3, 0)].symbol(), "4");
        m.scroll_display(2);
        let buf = render(&m, None, 10, 3);
        assert_eq!(buf[(3, 0)].symbol(), "2");
        assert_eq!(
            cursor_position(&m, Rect::new(0, 0, 10, 3)),
            None,
            "scrolled back: no cursor"
        );
    }

    #[test]
    fn cursor_position_follows_the_agent_and_hides() {
        let mut m = TerminalModel::new(PaneSize { cols: 20, rows: 5 }, 0);
        m.feed(b"\x1b[2;4H");
        let area = Rect::new(5, 3, 20, 5);
        assert_eq!(cursor_position(&m, area), Some(Position::new(8, 4)));
        m.feed(b"\x1b[?25l");
        assert_eq!(cursor_position(&m, area), None);
    }
}
