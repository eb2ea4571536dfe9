//! The Diff tab: the changed-file list (change letter, +/- counts, time of last change, a marker on
//! changes not yet viewed) beside the selected file's unified diff, syntax-coloured with syntect
//! (default syntaxes and theme, loaded once on first draw), word changes emphasised, and a status
//! line with the newest warning and the keys.
//!
//! **Invariant:** drawing only reads [`DiffState`]; the diff text it draws was redacted by the
//! watcher before it reached the state.

// wired into the app during integration
#![allow(dead_code)]

use std::sync::OnceLock;

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Widget};
use syntect::easy::HighlightLines;
use syntect::highlighting::{Theme, ThemeSet};
use syntect::parsing::{SyntaxReference, SyntaxSet};

use crate::diff::compute::{DiffBody, FileDiff, LineEmphasis};
use crate::diff::state::{BaselineMode, DiffState, FileEntry, KEYS};

const ADDED_BG: Color = Color::Rgb(0x1d, 0x3b, 0x25);
const ADDED_EMPH_BG: Color = Color::Rgb(0x2f, 0x6b, 0x3d);
const REMOVED_BG: Color = Color::Rgb(0x4a, 0x1f, 0x24);
const REMOVED_EMPH_BG: Color = Color::Rgb(0x85, 0x2d, 0x36);
/// Highlighting is skipped for lines longer than this (minified files): plain text instead.
const MAX_HIGHLIGHT_LINE: usize = 1000;

/// The syntaxes and theme, loaded once (≈ tens of ms) on the first draw of a diff.
fn highlighting() -> &'static (SyntaxSet, Theme) {
    static ASSETS: OnceLock<(SyntaxSet, Theme)> = OnceLock::new();
    ASSETS.get_or_init(|| {
        let syntaxes = SyntaxSet::load_defaults_newlines();
        let mut themes = ThemeSet::load_defaults();
        let theme = themes
            .themes
            .remove("base16-ocean.dark")
            .or_else(|| themes.themes.into_values().next())
            .unwrap_or_default();
        (syntaxes, theme)
    })
}

/// Below this width the file list goes above the diff instead of beside it (the side panel).
const SIDE_BY_SIDE_MIN_WIDTH: u16 = 90;

/// Draws the Diff tab into `area` of `buf`: list beside the diff when at least 90 columns wide,
/// above it otherwise (a third of the height); a status line at the bottom.
pub fn render(state: &DiffState, area: Rect, buf: &mut Buffer) {
    let [main, status] = Layout::vertical([Constraint::Min(3), Constraint::Length(1)]).areas(area);
    let [list_area, diff_area] = if main.width >= SIDE_BY_SIDE_MIN_WIDTH {
        Layout::horizontal([Constraint::Percentage(35), Constraint::Percentage(65)]).areas(main)
    } else {
        Layout::vertical([Constraint::Percentage(33), Constraint::Min(3)]).areas(main)
    };
    render_list(state, list_area, buf);
    render_diff(state, diff_area, buf);
    render_status(state, status, buf);
}

fn mode_label(mode: BaselineMode) -> &'static str {
    match mode {
        BaselineMode::SinceSession => "since session start",
        BaselineMode::SinceHead => "since HEAD",
    }
}

fn render_list(state: &DiffState, area: Rect, buf: &mut Buffer) {
    let visible = state.visible();
    let selected = state.selected().map(|e| e.change.path.clone());
    let title = format!(
        " Changes ({}, {}) ",
        visible.len(),
        mode_label(state.mode())
    );
    let block = Block::default().borders(Borders::ALL).title(title);
    let inner = block.inner(area);
    block.render(area, buf);
    let height = usize::from(inner.height);
    let selected_index = visible
        .iter()
        .position(|e| Some(&e.change.path) == selected.as_ref())
        .unwrap_or(0);
    let first = (selected_index + 1).saturating_sub(height);
    let lines: Vec<Line> = visible
        .iter()
        .enumerate()
        .skip(first)
        .take(height)
        .map(|(i, entry)| list_line(state, entry, i == selected_index, usize::from(inner.width)))
        .collect();
    Paragraph::new(lines).render(inner, buf);
}

fn list_line(state: &DiffState, entry: &FileEntry, selected: bool, width: usize) -> Line<'static> {
    let diff = entry.diff(state.mode());
    let marker = if entry.unviewed { "●" } else { " " };
    let letter = entry.change.change.letter();
    let letter_style = match letter {
        'A' => Style::default().fg(Color::Green),
        'D' => Style::default().fg(Color::Red),
        'R' => Style::default().fg(Color::Cyan),
        _ => Style::default().fg(Color::Yellow),
    };
    let counts = counts_label(diff);
    let time = state.format_time(entry.change.at_unix_ms);
    let warn = if entry.change.sensitive.is_some() {
        "⚠"
    } else {
        " "
    };
    let fixed = 2 + 2 + 2 + counts.chars().count() + 1 + time.chars().count();
    let path_width = width.saturating_sub(fixed).max(4);
    let path = truncate_left(&entry.change.path, path_width);
    let padded = format!("{path:<path_width$}");
    let base = if selected {
        Style::default().add_modifier(Modifier::REVERSED)
    } else {
        Style::default()
    };
    Line::from(vec![
        Span::styled(format!("{marker} "), base.fg(Color::LightBlue)),
        Span::styled(format!("{letter} "), base.patch(letter_style)),
        Span::styled(format!("{warn} "), base.fg(Color::LightRed)),
        Span::styled(padded, base),
        Span::styled(counts, base.fg(Color::Gray)),
        Span::styled(format!(" {time}"), base.fg(Color::DarkGray)),
    ])
}

/// `+3 −1`, `binary`, `too large`, `hidden +2 −2`.
fn counts_label(diff: &FileDiff) -> String {
    match &diff.body {
        DiffBody::Binary => "binary".to_string(),
        DiffBody::TooLarge { .. } => "too large".to_string(),
        DiffBody::NoBaseline { .. } => "no baseline".to_string(),
        _ => format!("+{} \u{2212}{}", diff.added, diff.removed),
    }
}

/// Keeps the end of `path` (the file name matters most), prefixing `…` when cut.
fn truncate_left(path: &str, width: usize) -> String {
    let count = path.chars().count();
    if count <= width {
        return path.to_string();
    }
    let tail: String = path.chars().skip(count - width + 1).collect();
    format!("…{tail}")
}

fn render_diff(state: &DiffState, area: Rect, buf: &mut Buffer) {
    let Some(entry) = state.selected() else {
        let block = Block::default().borders(Borders::ALL).title(" Diff ");
        let inner = block.inner(area);
        block.render(area, buf);
        let text = match &state.watching {
            Some((files, baseline)) => {
                format!("No changes yet. Watching {files} files; HEAD baseline: {baseline}.")
            }
            None => "Scanning the workspace…".to_string(),
        };
        Paragraph::new(text).render(inner, buf);
        return;
    };
    let diff = entry.diff(state.mode());
    let mut title = format!(
        " {} {} {} ({}) ",
        entry.change.change.letter(),
        entry.change.path,
        counts_label(diff),
        mode_label(state.mode())
    );
    if let crate::diff::ChangeKind::Renamed { from } = &entry.change.change {
        title = format!("{title}← {from} ");
    }
    if state.mode() == BaselineMode::SinceHead && entry.change.since_head.is_none() {
        title.push_str("[no git HEAD: session start] ");
    }
    let block = Block::default().borders(Borders::ALL).title(title);
    let inner = block.inner(area);
    block.render(area, buf);
    let height = usize::from(inner.height);
    let lines: Vec<Line> = match &diff.body {
        DiffBody::Text { unified, emphasis } => highlighted_lines(
            &entry.change.path,
            unified,
            emphasis,
            state.scroll(),
            height,
        ),
        DiffBody::Unchanged => vec![Line::from("unchanged")],
        DiffBody::Binary => vec![Line::from("binary changed")],
        DiffBody::TooLarge { bytes } => {
            vec![Line::from(format!("too large to diff ({bytes} bytes)"))]
        }
        DiffBody::Hidden { reason } => vec![Line::from(format!(
            "{reason}: +{} \u{2212}{} lines",
            diff.added, diff.removed
        ))],
        DiffBody::NoBaseline { reason } => vec![Line::from(reason.clone())],
    };
    Paragraph::new(lines).render(inner, buf);
}

fn syntax_for<'a>(syntaxes: &'a SyntaxSet, path: &str) -> &'a SyntaxReference {
    let name = path.rsplit('/').next().unwrap_or(path);
    let ext = name.rsplit_once('.').map_or(name, |(_, ext)| ext);
    syntaxes
        .find_syntax_by_extension(ext)
        .or_else(|| syntaxes.find_syntax_by_extension(name))
        .unwrap_or_else(|| syntaxes.find_syntax_plain_text())
}

/// The visible window `[scroll, scroll + height)` of `unified`, styled. Each hunk is highlighted
/// from its header so syntect's state is right for the visible lines.
fn highlighted_lines(
    path: &str,
    unified: &str,
    emphasis: &[LineEmphasis],
    scroll: usize,
    height: usize,
) -> Vec<Line<'static>> {
    let (syntaxes, theme) = highlighting();
    let syntax = syntax_for(syntaxes, path);
    let end = scroll.saturating_add(height);
    let mut out = Vec::with_capacity(height);
    let mut highlighter = HighlightLines::new(syntax, theme);
    for (index, line) in unified.lines().enumerate().take(end) {
        if line.starts_with("@@") {
            highlighter = HighlightLines::new(syntax, theme);
            if index >= scroll {
                out.push(Line::styled(
                    line.to_string(),
                    Style::default().fg(Color::Cyan),
                ));
            }
            continue;
        }
        if line.starts_with('\\') {
            if index >= scroll {
                out.push(Line::styled(
                    line.to_string(),
                    Style::default().fg(Color::DarkGray),
                ));
            }
            continue;
        }
        let (prefix, content) = line.split_at(line.len().min(1));
        let content = content.strip_suffix('\r').unwrap_or(content);
        let (bg, emph_bg) = match prefix {
            "+" => (Some(ADDED_BG), ADDED_EMPH_BG),
            "-" => (Some(REMOVED_BG), REMOVED_EMPH_BG),
            _ => (None, Color::Reset),
        };
        // Highlight every line of the hunk (keeps syntect's state), style only the visible ones.
        let mut fg = vec![Color::Reset; content.len()];
        if content.len() <= MAX_HIGHLIGHT_LINE {
            let with_newline = format!("{content}\n");
            if let Ok(regions) = highlighter.highlight_line(&with_newline, syntaxes) {
                let mut offset = 0;
                for (style, text) in regions {
                    let color =
                        Color::Rgb(style.foreground.r, style.foreground.g, style.foreground.b);
                    let stop = (offset + text.len()).min(content.len());
                    fg[offset.min(stop)..stop]
                        .iter_mut()
                        .for_each(|c| *c = color);
                    offset += text.len();
                }
            }
        }
        if index < scroll {
            continue;
        }
        let mut emphasized = vec![false; content.len()];
        if let Some(e) = emphasis.iter().find(|e| e.line as usize == index) {
            for [a, b] in &e.ranges {
                // Ranges include the one-byte prefix.
                let a = (*a as usize).saturating_sub(1).min(content.len());
                let b = (*b as usize).saturating_sub(1).min(content.len());
                emphasized[a..b.max(a)].iter_mut().for_each(|x| *x = true);
            }
        }
        let base = bg.map_or(Style::default(), |bg| Style::default().bg(bg));
        let mut spans = vec![Span::styled(prefix.to_string(), base.fg(Color::Gray))];
        let mut run = String::new();
        let mut run_style = base;
        for (i, ch) in content.char_indices() {
            let mut style = base.fg(fg[i]);
            if emphasized[i] {
                style = style.bg(emph_bg);
            }
            if style != run_style && !run.is_empty() {
                spans.push(Span::styled(std::mem::take(&mut run), run_style));
            }
            run_style = style;
            if ch == '\t' {
                run.push_str("    ");
            } else {
                run.push(ch);
            }
        }
        if !run.is_empty() {
            spans.push(Span::styled(run, run_style));
        }
        out.push(Line::from(spans).style(base));
    }
    out
}

fn render_status(state: &DiffState, area: Rect, buf: &mut Buffer) {
    let mut spans = Vec::new();
    if let Some(warning) = state.warnings.last() {
        spans.push(Span::styled(
            format!("⚠ {}: {} ", warning.label, warning.summary),
            Style::default()
                .fg(Color::LightRed)
                .add_modifier(Modifier::BOLD),
        ));
    } else if let Some(notice) = state.notices.last() {
        spans.push(Span::styled(
            format!("⚠ {notice} "),
            Style::default().fg(Color::LightRed),
        ));
    }
    for (key, what) in KEYS {
        spans.push(Span::styled(
            format!(" {key}"),
            Style::default().fg(Color::LightBlue),
        ));
        spans.push(Span::styled(
            format!(" {what} "),
            Style::default().fg(Color::Gray),
        ));
    }
    Paragraph::new(Line::from(spans)).render(area, buf);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::compute::{ContentPolicy, compute};
    use crate::diff::{ChangeKind, DiffEvent, FileChange, SensitiveWarning};
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

    fn screen(state: &DiffState, width: u16, height: u16) -> String {
        let area = Rect::new(0, 0, width, height);
        let mut buf = Buffer::empty(area);
        render(state, area, &mut buf);
        (0..height)
            .map(|y| {
                let row: String = (0..width)
                    .map(|x| buf[(x, y)].symbol().to_string())
                    .collect();
                row.trim_end().to_string()
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    fn state_with_change() -> DiffState {
        let mut state = DiffState::default();
        state.set_time_zone(jiff::tz::TimeZone::UTC);
        state.apply(DiffEvent::FileChanged(FileChange {
            path: "src/main.rs".into(),
            change: ChangeKind::Modified,
            since_head: None,
            since_session: compute(
                Some(b"fn main() {\n    let port = 8080;\n}\n"),
                Some(b"fn main() {\n    let port = 9090;\n}\n"),
                ContentPolicy::Show,
            ),
            sensitive: None,
            at_unix_ms: 1_700_000_000_000,
        }));
        state
    }

    #[test]
    fn shows_the_file_list_and_the_selected_hunk() {
        let state = state_with_change();
        insta::assert_snapshot!(screen(&state, 100, 9));
    }

    #[test]
    fn a_narrow_panel_stacks_the_list_above_the_diff() {
        let state = state_with_change();
        insta::assert_snapshot!(screen(&state, 48, 14));
    }

    #[test]
    fn emphasis_and_added_lines_are_coloured() {
        let state = state_with_change();
        let area = Rect::new(0, 0, 100, 9);
        let mut buf = Buffer::empty(area);
        render(&state, area, &mut buf);
        // Find the `+    let port = 9090;` row and check the changed word has the emphasis bg.
        let row = (0..9)
            .find(|y| {
                let text: String = (0..100)
                    .map(|x| buf[(x, *y)].symbol().to_string())
                    .collect();
                text.contains("+    let port = 9090;")
            })
            .expect("added line drawn");
        let line: String = (0..100)
            .map(|x| buf[(x, row)].symbol().to_string())
            .collect();
        let col = line.find("9090").expect("word") as u16;
        // Columns are chars; the left pane has only ASCII and one '●' before this row's text.
        let cell = (0..100)
            .find(|x| buf[(*x, row)].symbol() == "9" && buf[(x + 1, row)].symbol() == "0")
            .unwrap_or(col);
        assert_eq!(buf[(cell, row)].bg, ADDED_EMPH_BG);
        let plus = (0..100)
            .find(|x| buf[(*x, row)].symbol() == "+")
            .expect("prefix");
        assert_eq!(buf[(plus, row)].bg, ADDED_BG);
    }

    #[test]
    fn binary_and_sensitive_files_never_show_content() {
        let mut state = DiffState::default();
        state.apply(DiffEvent::FileChanged(FileChange {
            path: "logo.png".into(),
            change: ChangeKind::Modified,
            since_head: None,
            since_session: compute(
                Some(b"\x89PNG\0old"),
                Some(b"\x89PNG\0new"),
                ContentPolicy::Show,
            ),
            sensitive: None,
            at_unix_ms: 0,
        }));
        state.apply(DiffEvent::SensitiveChange(SensitiveWarning {
            path: ".env".into(),
            label: "dotenv file".into(),
            summary: "`.env`: key `STRIPE_KEY` changed, value redacted".into(),
            at_unix_ms: 0,
        }));
        let text = screen(&state, 120, 8);
        assert!(text.contains("binary changed"), "{text}");
        assert!(
            text.contains("key `STRIPE_KEY` changed, value redacted"),
            "{text}"
        );
        let mut state = state;
        state.handle_key(KeyEvent::new(KeyCode::Char('t'), KeyModifiers::NONE));
        assert!(screen(&state, 120, 8).contains("since HEAD"));
    }
}
