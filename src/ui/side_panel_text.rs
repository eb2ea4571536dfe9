//! A helper for side panel tabs that show wrapped paragraphs of text.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Wrap};

use crate::app::model::Model;

/// Draws `paragraphs` (separated by a blank line, wrapped to `area`) in the muted style, with a
/// one-column margin.
pub fn render(frame: &mut Frame, area: Rect, model: &Model, paragraphs: &[&str]) {
    let mut lines = Vec::new();
    for (i, text) in paragraphs.iter().enumerate() {
        if i > 0 {
            lines.push(Line::raw(""));
        }
        lines.push(Line::styled(*text, model.theme.muted));
    }
    let margin = Rect {
        x: area.x.saturating_add(1),
        y: area.y.saturating_add(1),
        width: area.width.saturating_sub(2),
        height: area.height.saturating_sub(1),
    };
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: true }), margin);
}
