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
    for (tab, _) in tab_columns(inner.x) {
        let style = if tab == model.tab {
            theme.tab_active
        } else {
            theme.tab_inactive
        };
        tabs.push(Span::styled(tab_label(tab, model.tab), style));
    }
    let bar = Rect { height: 1, ..inner };
    frame.render_widget(Paragraph::new(Line::from(tabs)), bar);

    let body = Rect {
        y: inner.y + 1,
        height: inner.height - 1,
        ..inner
    };
    match model.tab {
        Tab::Context => context_tab::render_with(
            &model.context,
            &model.context_warnings,
            &|tier| model.theme.tier(tier),
            body,
            frame.buffer_mut(),
        ),
        Tab::Activity => activity_tab::render(frame, body, model),
        Tab::Diff => diff_tab::render(&model.diff, body, frame.buffer_mut()),
    }
}

/// A tab's label in the tab bar: `[Title]` when selected, ` Title ` otherwise (same width).
fn tab_label(tab: Tab, selected: Tab) -> String {
    if tab == selected {
        format!("[{}]", tab.title())
    } else {
        format!(" {} ", tab.title())
    }
}

/// Each tab with the first column of its label, for a tab bar starting at column `x`.
fn tab_columns(x: u16) -> impl Iterator<Item = (Tab, u16)> {
    Tab::ALL.into_iter().scan(x, |next, tab| {
        let start = *next;
        let width = u16::try_from(tab.title().len() + 2).unwrap_or(u16::MAX);
        *next = next.saturating_add(width);
        Some((tab, start))
    })
}

/// The tab whose label is at (`column`, `row`) for a side panel drawn in `area`, if any. Used by
/// the app to turn clicks on the tab bar into tab changes.
pub fn tab_at(area: Rect, column: u16, row: u16) -> Option<Tab> {
    // The panel's first column is its border; the tab bar is the first row inside it.
    let x = area.x.saturating_add(1);
    if row != area.y {
        return None;
    }
    tab_columns(x)
        .filter(|(tab, start)| {
            let width = u16::try_from(tab.title().len() + 2).unwrap_or(u16::MAX);
            column >= *start && column < start.saturating_add(width)
        })
        .map(|(tab, _)| tab)
        .next()
}
