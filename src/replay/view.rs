//! Drawing the replay TUI: the replayed screen (the app's `TerminalView`), the decision timeline
//! beside it, the Activity/Diff tab at the current time, a status line and the help bar built from
//! the keymap. Only reads [`ReplayApp`].

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, List, ListItem, ListState, Paragraph};

use super::app::{KEYS, Mode, ReplayApp, SPEEDS, Tab};
use super::player::format_time;
use super::timeline::EntryKind;
use crate::theme::Theme;
use crate::ui::terminal_view::TerminalView;

/// Width of the side panel (timeline + tab), cells.
const SIDE_WIDTH: u16 = 42;

/// Draws the whole replay screen.
pub fn draw(frame: &mut Frame, app: &ReplayApp, theme: &Theme) {
    let [main, status, help] = Layout::vertical([
        Constraint::Min(3),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(frame.area());
    let [screen, side] =
        Layout::horizontal([Constraint::Min(10), Constraint::Length(SIDE_WIDTH)]).areas(main);
    draw_screen(frame, app, theme, screen);
    let [timeline, tab] =
        Layout::vertical([Constraint::Percentage(60), Constraint::Percentage(40)]).areas(side);
    draw_timeline(frame, app, theme, timeline);
    draw_tab(frame, app, theme, tab);
    draw_status(frame, app, theme, status);
    draw_help(frame, app, theme, help);
}

fn draw_screen(frame: &mut Frame, app: &ReplayApp, theme: &Theme, area: Rect) {
    let size = app.player.model().size();
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border)
        .title(format!(
            " {} ({}x{}) ",
            app.player.path().display(),
            size.cols,
            size.rows
        ));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    frame.render_widget(TerminalView::new(app.player.model()), inner);
}

fn kind_tag(kind: EntryKind) -> &'static str {
    match kind {
        EntryKind::Marker => "m",
        EntryKind::Decision => "D",
        EntryKind::Context => "C",
        EntryKind::Diff => "F",
        EntryKind::Other => "·",
    }
}

fn draw_timeline(frame: &mut Frame, app: &ReplayApp, theme: &Theme, area: Rect) {
    let items: Vec<ListItem> = app
        .timeline
        .entries
        .iter()
        .map(|e| {
            let style = match e.kind {
                EntryKind::Decision | EntryKind::Marker => theme.warning,
                _ => theme.muted,
            };
            ListItem::new(Line::from(vec![
                Span::styled(
                    format!("{} ", format_time(app.idle.to_display(e.time))),
                    theme.muted,
                ),
                Span::styled(format!("{} ", kind_tag(e.kind)), style),
                Span::raw(e.label.clone()),
            ]))
        })
        .collect();
    let mut state = ListState::default();
    state.select(app.timeline.current(app.cast_time()));
    let list = List::new(items)
        .block(
            Block::default()
                .borders(Borders::ALL)
                .border_style(theme.border)
                .title(" timeline "),
        )
        .highlight_style(theme.match_highlight.add_modifier(Modifier::BOLD));
    frame.render_stateful_widget(list, area, &mut state);
}

fn draw_tab(frame: &mut Frame, app: &ReplayApp, theme: &Theme, area: Rect) {
    let now = app.cast_time();
    let (title, lines): (Line, Vec<Line>) = match app.tab {
        Tab::Activity => {
            let upto = app.timeline.current(now).map_or(0, |i| i + 1);
            let rows = area.height.saturating_sub(2) as usize;
            let lines = app.timeline.entries[..upto]
                .iter()
                .rev()
                .take(rows)
                .rev()
                .map(|e| Line::from(format!("{} {}", kind_tag(e.kind), e.label)))
                .collect();
            (tab_title(theme, Tab::Activity), lines)
        }
        Tab::Diff => {
            let files = app.timeline.diff_state(now);
            let lines = if files.is_empty() {
                vec![Line::styled("no file changes yet", theme.muted)]
            } else {
                files
                    .into_iter()
                    .map(|(path, label)| Line::from(format!("{path}: {label}")))
                    .collect()
            };
            (tab_title(theme, Tab::Diff), lines)
        }
    };
    let para = Paragraph::new(lines).block(
        Block::default()
            .borders(Borders::ALL)
            .border_style(theme.border)
            .title(title),
    );
    frame.render_widget(para, area);
    let _ = app;
}

fn tab_title(theme: &Theme, active: Tab) -> Line<'static> {
    let style = |t: Tab| {
        if t == active {
            theme.tab_active
        } else {
            theme.tab_inactive
        }
    };
    Line::from(vec![
        Span::raw(" "),
        Span::styled("Activity", style(Tab::Activity)),
        Span::raw(" | "),
        Span::styled("Diff", style(Tab::Diff)),
        Span::raw(" "),
    ])
}

fn draw_status(frame: &mut Frame, app: &ReplayApp, theme: &Theme, area: Rect) {
    let line = match &app.mode {
        Mode::Search(s) => Line::from(format!("search: {s}▏")),
        Mode::GoTo(s) => Line::from(format!("go to (s, mm:ss): {s}▏")),
        Mode::Normal => {
            let state = if app.playing { "▶" } else { "⏸" };
            let mut spans = vec![Span::styled(
                format!(
                    " {state} {} / {}  {}x ",
                    format_time(app.display_time),
                    format_time(app.display_duration()),
                    SPEEDS[app.speed]
                ),
                theme.status,
            )];
            let progress = app.player.keyframes.progress();
            if let Some(t) = app.pending_seek {
                spans.push(Span::styled(
                    format!(
                        " seeking to {}: indexing…",
                        format_time(app.idle.to_display(t))
                    ),
                    theme.warning,
                ));
            }
            if !progress.done {
                let total = app.player.index.output_bytes.max(1);
                spans.push(Span::styled(
                    format!(
                        " indexed {}%",
                        (progress.indexed_bytes * 100 / total).min(99)
                    ),
                    theme.muted,
                ));
            }
            if let Some(msg) = &app.message {
                spans.push(Span::styled(format!(" {msg}"), theme.warning));
            }
            Line::from(spans)
        }
    };
    frame.render_widget(Paragraph::new(line), area);
}

fn draw_help(frame: &mut Frame, _app: &ReplayApp, theme: &Theme, area: Rect) {
    let mut spans = Vec::new();
    for (key, what, _) in KEYS {
        spans.push(Span::styled(format!(" {key} "), theme.help_key));
        spans.push(Span::styled(format!("{what} "), theme.help_text));
    }
    frame.render_widget(
        Paragraph::new(Line::from(spans)).style(Style::default()),
        area,
    );
}
