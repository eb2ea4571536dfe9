//! The help bar: the keys of the current mode, generated from the keymap (so it can never list a
//! key that does not work, or miss one that does).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::keymap::Mode;
use crate::app::model::Model;

/// Draws the help bar into its one-row `area`.
pub fn render(frame: &mut Frame, area: Rect, model: &Model) {
    frame.render_widget(Paragraph::new(line(model)), area);
}

/// The help bar's text for the model's mode: in the agent pane, the prefix key followed by the
/// prefix keymap; elsewhere, the mode's own bindings marked for the help bar.
pub fn line(model: &Model) -> Line<'static> {
    let theme = &model.theme;
    let mode = model.mode();
    let mut spans = Vec::new();
    let mut push = |key: String, label: &str| {
        spans.push(Span::styled(format!(" {key}"), theme.help_key));
        spans.push(Span::styled(format!(" {label} "), theme.help_text));
    };
    match mode {
        Mode::Passthrough | Mode::Prefix => {
            let prefix = model.keymap.prefix();
            if mode == Mode::Passthrough {
                push(prefix.to_string(), "then:");
            } else {
                push(prefix.to_string(), "send it");
            }
            for (keys, label, shown) in model.keymap.grouped(Mode::Prefix) {
                if shown {
                    push(keys, label);
                }
            }
        }
        Mode::Exited => push("any key".into(), "quit"),
        other => {
            for (keys, label, shown) in model.keymap.grouped(other) {
                if shown {
                    push(keys, label);
                }
            }
            if other == Mode::Scrollback {
                push("other keys".into(), "back to the agent");
            }
        }
    }
    Line::from(spans)
}
