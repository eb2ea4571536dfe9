//! The Activity tab: every decision, held command, context warning and session note, newest at
//! the bottom, each with its time since the session started and the target's tier.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use crate::app::model::{ActivityKind, Model};
use crate::rules::Decision;

/// Draws the Activity tab's body: the newest entries that fit, oldest first.
pub fn render(frame: &mut Frame, area: Rect, model: &Model) {
    let theme = &model.theme;
    if model.activity.is_empty() {
        let text = vec![
            Line::styled("No activity yet.", theme.muted),
            Line::raw(""),
            Line::styled(
                "Every command the gate sees appears here: what ran, its target and tier, and the \
                 decision (allow, deny, held for you) with who made it. Context changes appear too.",
                theme.help_text,
            ),
        ];
        frame.render_widget(Paragraph::new(text).wrap(Wrap { trim: true }), area);
        return;
    }
    let mut lines: Vec<Line> = Vec::new();
    for entry in &model.activity {
        let secs = entry.at.as_secs();
        let (label, style) = match entry.kind {
            ActivityKind::Decision(Decision::Deny) => ("DENY ", theme.error),
            ActivityKind::Decision(Decision::Allow | Decision::Warn) => ("ALLOW", theme.added),
            ActivityKind::Decision(Decision::Confirm) => ("HELD ", theme.warning),
            ActivityKind::Held => ("HELD ", theme.warning),
            ActivityKind::Warning => ("WARN ", theme.warning),
            ActivityKind::Note => ("note ", theme.muted),
        };
        let mut spans = vec![
            Span::styled(format!("{:02}:{:02} ", secs / 60, secs % 60), theme.muted),
            Span::styled(label, style),
            Span::raw(" "),
        ];
        if let Some(tier) = entry.tier {
            spans.push(Span::styled(
                format!("{} ", tier.as_str()),
                theme.tier(tier),
            ));
            spans.push(Span::raw(" "));
        }
        spans.push(Span::styled(entry.text.clone(), Style::default()));
        lines.push(Line::from(spans));
    }
    // Wrapped lines can take several rows: keep the newest entries that fit.
    let width = usize::from(area.width.max(1));
    let mut rows = 0usize;
    let mut start = lines.len();
    while start > 0 {
        let need = lines[start - 1].width().div_ceil(width).max(1);
        if rows + need > usize::from(area.height) {
            break;
        }
        rows += need;
        start -= 1;
    }
    frame.render_widget(
        Paragraph::new(lines.split_off(start)).wrap(Wrap { trim: false }),
        area,
    );
}
