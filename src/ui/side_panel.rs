//! The side panel: a tab bar (Context / Activity / Diff) and the selected tab's body. Each tab's
//! body is its own module with one `render(frame, area, model)`.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use crate::app::action::Tab;
use crate::app::model::{Focus, Model};

use super::{activity_tab, context_tab, diff_tab};

/// Draws the panel into `area` (its left column is the border to the agent pane).
pub fn render(frame: &mut Frame, area: Rect, model: &Model) {
    let theme = &model.theme;
    let focused = model.focus == Focus::SidePanel;
    let block = Block::default()
        .borders(Borders::LEFT)
        .border_style(if focused {
            theme.border_focused
        } else {
            theme.border
        });
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if inner.height == 0 {
        return;
    }

    let mut tabs = Vec::new();
    for tab in Tab::ALL {
        let style = if tab == model.tab {
            theme.tab_active
        } else {
            theme.tab_inactive
        };
        let title = if tab == model.tab {
            format!("[{}]", tab.title())
        } else {
            format!(" {} ", tab.title())
        };
        tabs.push(Span::styled(title, style));
    }
    let bar = Rect { height: 1, ..inner };
    frame.render_widget(Paragraph::new(Line::from(tabs)), bar);

    let body = Rect {
        y: inner.y + 1,
        height: inner.height - 1,
        ..inner
    };
    match model.tab {
        Tab::Context => context_tab::render(frame, body, model),
        Tab::Activity => activity_tab::render(frame, body, model),
        Tab::Diff => diff_tab::render(frame, body, model),
    }
}
