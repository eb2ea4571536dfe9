//! Overlays drawn over the agent pane: the help sheet, yes/no confirmations, and the
//! "agent exited" notice. Drawn bottom to top, so the overlay that gets keys is the one on top.

use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Clear, Paragraph, Wrap};

use crate::app::event::describe_exit;
use crate::app::keymap::Mode;
use crate::app::model::{AgentState, Model, Overlay, Question};

/// Draws every overlay on the stack over `area` (the agent pane), then the exit notice if the
/// agent has exited and no overlay is open.
pub fn render_stack(frame: &mut Frame, area: Rect, model: &Model) {
    for overlay in &model.overlays {
        match overlay {
            Overlay::Help => help(frame, frame.area(), model),
            Overlay::Confirm(question) => confirm(frame, area, model, *question),
        }
    }
    if model.mode() == Mode::Exited
        && let AgentState::Exited(status) = model.agent.state
    {
        let text = format!(
            "agent exited with {} — press any key",
            describe_exit(status)
        );
        let width = u16::try_from(text.chars().count() + 4).unwrap_or(u16::MAX);
        let rect = centered(area, width, 3);
        frame.render_widget(Clear, rect);
        frame.render_widget(
            Paragraph::new(Line::styled(text, model.theme.warning))
                .centered()
                .block(boxed(model, "")),
            rect,
        );
    }
}

/// The help sheet: every binding of every mode, from the keymap, in two columns.
fn help(frame: &mut Frame, area: Rect, model: &Model) {
    let theme = &model.theme;
    let prefix = model.keymap.prefix();
    let section = |mode: Mode, title: String, extra: Option<(String, &'static str)>| {
        let mut lines = vec![Line::styled(
            title,
            theme.help_text.add_modifier(Modifier::BOLD),
        )];
        let entries = extra.into_iter().chain(
            model
                .keymap
                .grouped(mode)
                .into_iter()
                .map(|(k, l, _)| (k, l)),
        );
        for (keys, label) in entries {
            lines.push(Line::from(vec![
                Span::styled(format!("  {keys:<11} "), theme.help_key),
                Span::styled(label, theme.help_text),
            ]));
        }
        lines.push(Line::raw(""));
        lines
    };
    let left = section(
        Mode::Prefix,
        format!("After {prefix}"),
        Some((prefix.to_string(), "send it to the agent")),
    );
    let mut right = section(Mode::Scrollback, "While scrolled back".into(), None);
    right.extend(section(Mode::SidePanel, "In the side panel".into(), None));
    right.extend(section(Mode::Confirm, "In a question".into(), None));

    let intro = vec![
        Line::raw(format!(
            "Every key goes to the agent except {prefix}, which starts an overwatch command."
        )),
        Line::styled(
            "Mouse: the wheel scrolls back (or goes to the agent if it asked for the mouse), \
             a click picks a tab; Shift+drag selects text.",
            theme.muted,
        ),
    ];
    let footer = Line::styled("Esc or ? closes this help.", theme.muted);
    let body_rows = left.len().max(right.len());
    let height = u16::try_from(4 + body_rows + 1 + 2).unwrap_or(u16::MAX);
    let rect = centered(area, 84, height);
    frame.render_widget(Clear, rect);
    let block = boxed(model, " overwatch keys ");
    let inner = block.inner(rect);
    frame.render_widget(block, rect);
    let [top, body, bottom] = Layout::vertical([
        // Three rows of text (the mouse sentence wraps) and a blank row.
        Constraint::Length(4),
        Constraint::Fill(1),
        Constraint::Length(1),
    ])
    .areas(inner);
    let [left_area, right_area] =
        Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(body);
    frame.render_widget(Paragraph::new(intro).wrap(Wrap { trim: false }), top);
    frame.render_widget(Paragraph::new(left), left_area);
    frame.render_widget(Paragraph::new(right), right_area);
    frame.render_widget(Paragraph::new(footer), bottom);
}

/// A yes/no question with the keys that answer it (from the keymap).
fn confirm(frame: &mut Frame, area: Rect, model: &Model, question: Question) {
    let mut keys = Vec::new();
    for (key, label, _) in model.keymap.grouped(Mode::Confirm) {
        keys.push(Span::styled(format!(" {key} "), model.theme.help_key));
        keys.push(Span::styled(format!("{label}  "), model.theme.help_text));
    }
    let lines = vec![
        Line::raw(question.prompt()),
        Line::raw(""),
        Line::from(keys).centered(),
    ];
    let width = u16::try_from(question.prompt().chars().count() + 6)
        .unwrap_or(u16::MAX)
        .max(30);
    let rect = centered(area, width, 5);
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines)
            .centered()
            .wrap(Wrap { trim: true })
            .block(boxed(model, " confirm ")),
        rect,
    );
}

fn boxed(model: &Model, title: &'static str) -> Block<'static> {
    Block::bordered()
        .border_type(BorderType::Rounded)
        .border_style(model.theme.modal_border)
        .title(title)
}

/// A `width`×`height` rectangle centred in `area` (clipped to it).
fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let [row] = Layout::vertical([Constraint::Length(height.min(area.height))])
        .flex(Flex::Center)
        .areas(area);
    let [rect] = Layout::horizontal([Constraint::Length(width.min(area.width))])
        .flex(Flex::Center)
        .areas(row);
    rect
}
