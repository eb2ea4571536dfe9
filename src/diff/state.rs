//! The Diff tab's model: the changed files with both diffs, the selection, scroll position,
//! baseline mode and recent warnings. Pure: [`DiffState::apply`] takes events,
//! [`DiffState::handle_key`] takes keys; `ui::diff_tab::render` only reads it.
//!
//! **Invariant:** the selection is held by path, so new events never move it to another file.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::compute::FileDiff;
use super::{ChangeKind, DiffEvent, FileChange, SensitiveWarning};

/// How many recent warnings and errors are kept for display.
const KEPT_MESSAGES: usize = 50;

/// Which baseline the tab compares against (`t` toggles).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BaselineMode {
    /// Against the content when the session started.
    #[default]
    SinceSession,
    /// Against git `HEAD` (falls back to session start outside a repository).
    SinceHead,
}

/// One changed file as shown in the list.
#[derive(Debug, Clone, PartialEq)]
pub struct FileEntry {
    pub change: FileChange,
    /// Changed since the user last viewed it (Enter clears).
    pub unviewed: bool,
}

impl FileEntry {
    /// The diff for `mode` (session-start diff when there is no `HEAD`).
    pub fn diff(&self, mode: BaselineMode) -> &FileDiff {
        match (mode, &self.change.since_head) {
            (BaselineMode::SinceHead, Some(diff)) => diff,
            _ => &self.change.since_session,
        }
    }
}

/// Whether a key was used by the tab.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyOutcome {
    Handled,
    Ignored,
}

/// The keymap, as shown in the help bar: `(key, what it does)`.
pub const KEYS: &[(&str, &str)] = &[
    ("↑/↓", "select file"),
    ("PgUp/PgDn", "scroll diff"),
    ("t", "toggle since session start / since HEAD"),
    ("Enter", "mark viewed"),
];

/// State of the Diff tab.
#[derive(Debug, Clone, Default)]
pub struct DiffState {
    /// All files changed this session, sorted by path.
    entries: Vec<FileEntry>,
    selected: Option<String>,
    /// First diff line shown.
    scroll: usize,
    /// Lines per PgUp/PgDn; set from the last drawn height via [`DiffState::set_page`].
    page: usize,
    mode: BaselineMode,
    /// `Watching` info: tracked files and what "HEAD" is.
    pub watching: Option<(usize, String)>,
    /// Recent sensitive-file warnings, newest last.
    pub warnings: Vec<SensitiveWarning>,
    /// Recent mass-delete warnings and watcher errors, newest last.
    pub notices: Vec<String>,
    /// Time zone for "time of last change" (`None`: the system's).
    time_zone: Option<jiff::tz::TimeZone>,
}

impl DiffState {
    /// Applies one watcher event.
    pub fn apply(&mut self, event: DiffEvent) {
        match event {
            DiffEvent::Watching {
                files, baseline, ..
            } => self.watching = Some((files, baseline)),
            DiffEvent::FileChanged(change) => self.file_changed(change),
            DiffEvent::SensitiveChange(warning) => push_bounded(&mut self.warnings, warning),
            DiffEvent::MassDelete {
                count, window_ms, ..
            } => push_bounded(
                &mut self.notices,
                format!(
                    "{count} files deleted within {:.1} s",
                    window_ms as f64 / 1000.0
                ),
            ),
            DiffEvent::Error { message, .. } => push_bounded(&mut self.notices, message),
        }
    }

    fn file_changed(&mut self, change: FileChange) {
        if let ChangeKind::Renamed { from } = &change.change {
            self.entries.retain(|e| &e.change.path != from);
            if self.selected.as_deref() == Some(from.as_str()) {
                self.selected = Some(change.path.clone());
            }
        }
        let entry = FileEntry {
            change,
            unviewed: true,
        };
        match self
            .entries
            .binary_search_by(|e| e.change.path.cmp(&entry.change.path))
        {
            Ok(i) => self.entries[i] = entry,
            Err(i) => self.entries.insert(i, entry),
        }
    }

    /// The files shown in the current mode (those that differ from the baseline), in path order.
    pub fn visible(&self) -> Vec<&FileEntry> {
        self.entries
            .iter()
            .filter(|e| !e.diff(self.mode).is_unchanged())
            .collect()
    }

    /// The selected entry (the first visible one when nothing valid is selected).
    pub fn selected(&self) -> Option<&FileEntry> {
        let visible = self.visible();
        self.selected_index(&visible).map(|i| visible[i])
    }

    fn selected_index(&self, visible: &[&FileEntry]) -> Option<usize> {
        if visible.is_empty() {
            return None;
        }
        let found = self
            .selected
            .as_deref()
            .and_then(|p| visible.iter().position(|e| e.change.path == p));
        Some(found.unwrap_or(0))
    }

    /// The current baseline mode.
    pub fn mode(&self) -> BaselineMode {
        self.mode
    }

    /// First diff line shown.
    pub fn scroll(&self) -> usize {
        self.scroll
    }

    /// Files changed and not yet viewed (for the tab title badge).
    pub fn unviewed_count(&self) -> usize {
        self.visible().iter().filter(|e| e.unviewed).count()
    }

    /// Uses `tz` instead of the system time zone for change times (tests, replays).
    pub fn set_time_zone(&mut self, tz: jiff::tz::TimeZone) {
        self.time_zone = Some(tz);
    }

    /// `HH:MM:SS` of a Unix-millisecond time in the tab's time zone (`--:--:--` if out of range).
    pub fn format_time(&self, at_unix_ms: u64) -> String {
        let tz = self
            .time_zone
            .clone()
            .unwrap_or_else(jiff::tz::TimeZone::system);
        i64::try_from(at_unix_ms)
            .ok()
            .and_then(|ms| jiff::Timestamp::from_millisecond(ms).ok())
            .map(|ts| ts.to_zoned(tz).strftime("%H:%M:%S").to_string())
            .unwrap_or_else(|| "--:--:--".to_string())
    }

    /// Sets the PgUp/PgDn step (the diff pane's height at the last draw).
    pub fn set_page(&mut self, lines: usize) {
        self.page = lines.max(1);
    }

    /// Handles a key press; returns whether the tab used it.
    pub fn handle_key(&mut self, key: KeyEvent) -> KeyOutcome {
        if key
            .modifiers
            .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT)
        {
            return KeyOutcome::Ignored;
        }
        match key.code {
            KeyCode::Up => self.move_selection(-1),
            KeyCode::Down => self.move_selection(1),
            KeyCode::PageUp => self.scroll = self.scroll.saturating_sub(self.page_step()),
            KeyCode::PageDown => {
                let max = self.selected_line_count().saturating_sub(1);
                self.scroll = (self.scroll + self.page_step()).min(max);
            }
            KeyCode::Char('t') => {
                self.mode = match self.mode {
                    BaselineMode::SinceSession => BaselineMode::SinceHead,
                    BaselineMode::SinceHead => BaselineMode::SinceSession,
                };
                self.scroll = 0;
            }
            KeyCode::Enter => {
                let path = self.selected().map(|e| e.change.path.clone());
                if let Some(entry) = self
                    .entries
                    .iter_mut()
                    .find(|e| Some(&e.change.path) == path.as_ref())
                {
                    entry.unviewed = false;
                }
            }
            _ => return KeyOutcome::Ignored,
        }
        KeyOutcome::Handled
    }

    fn page_step(&self) -> usize {
        if self.page == 0 { 20 } else { self.page }
    }

    fn selected_line_count(&self) -> usize {
        match self.selected().map(|e| &e.diff(self.mode).body) {
            Some(super::DiffBody::Text { unified, .. }) => unified.lines().count(),
            _ => 0,
        }
    }

    fn move_selection(&mut self, delta: isize) {
        let visible = self.visible();
        let Some(current) = self.selected_index(&visible) else {
            return;
        };
        let next = current.saturating_add_signed(delta).min(visible.len() - 1);
        let path = visible[next].change.path.clone();
        if self.selected.as_deref() != Some(path.as_str()) {
            self.scroll = 0;
        }
        self.selected = Some(path);
    }
}

fn push_bounded<T>(list: &mut Vec<T>, item: T) {
    if list.len() >= KEPT_MESSAGES {
        list.remove(0);
    }
    list.push(item);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::compute::{ContentPolicy, compute};

    fn changed(
        path: &str,
        change: ChangeKind,
        old: &str,
        new: &str,
        head: Option<&str>,
    ) -> DiffEvent {
        DiffEvent::FileChanged(FileChange {
            path: path.to_string(),
            change,
            since_head: head.map(|h| {
                compute(
                    Some(h.as_bytes()),
                    Some(new.as_bytes()),
                    ContentPolicy::Show,
                )
            }),
            since_session: compute(
                Some(old.as_bytes()),
                Some(new.as_bytes()),
                ContentPolicy::Show,
            ),
            sensitive: None,
            at_unix_ms: 0,
        })
    }

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    fn paths(state: &DiffState) -> Vec<&str> {
        state
            .visible()
            .iter()
            .map(|e| e.change.path.as_str())
            .collect()
    }

    #[test]
    fn selection_follows_the_file_not_the_index() {
        let mut s = DiffState::default();
        s.apply(changed("b.rs", ChangeKind::Modified, "1\n", "2\n", None));
        s.apply(changed("c.rs", ChangeKind::Modified, "1\n", "2\n", None));
        assert_eq!(s.handle_key(key(KeyCode::Down)), KeyOutcome::Handled);
        assert_eq!(s.selected().map(|e| e.change.path.as_str()), Some("c.rs"));
        s.apply(changed("a.rs", ChangeKind::Added, "", "x\n", None));
        assert_eq!(paths(&s), vec!["a.rs", "b.rs", "c.rs"]);
        assert_eq!(s.selected().map(|e| e.change.path.as_str()), Some("c.rs"));
        s.handle_key(key(KeyCode::Down));
        assert_eq!(s.selected().map(|e| e.change.path.as_str()), Some("c.rs"));
    }

    #[test]
    fn enter_marks_viewed_and_a_new_change_marks_again() {
        let mut s = DiffState::default();
        s.apply(changed("a.rs", ChangeKind::Modified, "1\n", "2\n", None));
        assert_eq!(s.unviewed_count(), 1);
        s.handle_key(key(KeyCode::Enter));
        assert_eq!(s.unviewed_count(), 0);
        s.apply(changed("a.rs", ChangeKind::Modified, "1\n", "3\n", None));
        assert_eq!(s.unviewed_count(), 1);
    }

    #[test]
    fn toggle_switches_baseline_and_hides_files_equal_to_it() {
        let mut s = DiffState::default();
        // Dirty at session start, then reverted to the session content by the agent:
        // unchanged since session start, but still different from HEAD.
        s.apply(changed(
            "a.rs",
            ChangeKind::Modified,
            "dirty\n",
            "dirty\n",
            Some("clean\n"),
        ));
        assert!(paths(&s).is_empty());
        s.handle_key(key(KeyCode::Char('t')));
        assert_eq!(s.mode(), BaselineMode::SinceHead);
        assert_eq!(paths(&s), vec!["a.rs"]);
    }

    #[test]
    fn rename_replaces_the_old_entry_and_keeps_selection() {
        let mut s = DiffState::default();
        s.apply(changed("old.rs", ChangeKind::Modified, "1\n", "2\n", None));
        s.handle_key(key(KeyCode::Enter));
        s.apply(changed(
            "new.rs",
            ChangeKind::Renamed {
                from: "old.rs".into(),
            },
            "1\n",
            "2\n",
            None,
        ));
        assert_eq!(paths(&s), vec!["new.rs"]);
        assert_eq!(s.selected().map(|e| e.change.path.as_str()), Some("new.rs"));
    }

    #[test]
    fn page_keys_scroll_within_the_diff() {
        let mut s = DiffState::default();
        let new: String = (0..100).map(|i| format!("line {i}\n")).collect();
        s.apply(changed("a.rs", ChangeKind::Added, "", &new, None));
        s.set_page(30);
        s.handle_key(key(KeyCode::PageDown));
        assert_eq!(s.scroll(), 30);
        for _ in 0..10 {
            s.handle_key(key(KeyCode::PageDown));
        }
        assert_eq!(s.scroll(), 100); // 101 lines (header + 100): last line at the top
        s.handle_key(key(KeyCode::PageUp));
        assert_eq!(s.scroll(), 70);
        assert_eq!(s.handle_key(key(KeyCode::Char('x'))), KeyOutcome::Ignored);
    }
}
