//! The `overwatch replay` TUI state: playback clock, keymap, prompts, and the pure `update`.
//!
//! Model/update/view: [`ReplayApp::update`] applies an [`Action`]; `view.rs` only reads the state.
//! Modal input is data: the keymap maps (mode, key) → action and the help bar is built from [`KEYS`].

use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::index::IdleMap;
use super::player::{Player, format_time, parse_time};
use super::timeline::{EntryKind, Timeline};

/// Seconds moved by ←/→.
pub const SEEK_STEP: f64 = 5.0;
/// Playback speeds cycled by `+`/`-`.
pub const SPEEDS: &[f64] = &[0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0];

/// An intent from a key.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Play/pause.
    TogglePlay,
    /// Next faster speed.
    Faster,
    /// Next slower speed.
    Slower,
    /// Seek by this many displayed seconds.
    SeekBy(f64),
    /// Previous marker or timeline entry.
    PrevMarker,
    /// Next marker or timeline entry.
    NextMarker,
    /// Next gate decision.
    NextDecision,
    /// Open the search prompt.
    StartSearch,
    /// Open the go-to-time prompt.
    StartGoTo,
    /// Repeat the last search from the current time.
    SearchAgain,
    /// Switch the Activity/Diff tab.
    ToggleTab,
    /// Prompt: type a character.
    Type(char),
    /// Prompt: delete a character.
    Backspace,
    /// Prompt: accept.
    Submit,
    /// Prompt: cancel.
    Cancel,
    /// Leave replay.
    Quit,
}

/// Normal-mode keys: (key label for the help bar, what it does, action).
pub const KEYS: &[(&str, &str, KeyCode)] = &[
    ("space", "play/pause", KeyCode::Char(' ')),
    ("+/-", "speed", KeyCode::Char('+')),
    ("←/→", "±5 s", KeyCode::Left),
    ("[/]", "marker", KeyCode::Char(']')),
    ("n", "next decision", KeyCode::Char('n')),
    ("/", "search", KeyCode::Char('/')),
    ("g", "go to", KeyCode::Char('g')),
    ("tab", "activity/diff", KeyCode::Tab),
    ("q", "quit", KeyCode::Char('q')),
];

/// Input mode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// Keys control playback.
    Normal,
    /// Typing a search string.
    Search(String),
    /// Typing a time.
    GoTo(String),
}

/// Which tab the lower side panel shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    /// Every timeline entry up to now.
    Activity,
    /// Files changed up to now.
    Diff,
}

/// Maps a key in a mode to an action.
pub fn action_for(mode: &Mode, key: KeyEvent) -> Option<Action> {
    if key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char('c') {
        return Some(Action::Quit);
    }
    if !matches!(mode, Mode::Normal) {
        return match key.code {
            KeyCode::Enter => Some(Action::Submit),
            KeyCode::Esc => Some(Action::Cancel),
            KeyCode::Backspace => Some(Action::Backspace),
            KeyCode::Char(c) => Some(Action::Type(c)),
            _ => None,
        };
    }
    Some(match key.code {
        KeyCode::Char(' ') => Action::TogglePlay,
        KeyCode::Char('+') | KeyCode::Char('=') => Action::Faster,
        KeyCode::Char('-') => Action::Slower,
        KeyCode::Left => Action::SeekBy(-SEEK_STEP),
        KeyCode::Right => Action::SeekBy(SEEK_STEP),
        KeyCode::Char('[') => Action::PrevMarker,
        KeyCode::Char(']') => Action::NextMarker,
        KeyCode::Char('n') => Action::NextDecision,
        KeyCode::Char('/') => Action::StartSearch,
        KeyCode::Char('N') => Action::SearchAgain,
        KeyCode::Char('g') => Action::StartGoTo,
        KeyCode::Tab => Action::ToggleTab,
        KeyCode::Char('q') | KeyCode::Esc => Action::Quit,
        _ => return None,
    })
}

/// The replay TUI's state.
pub struct ReplayApp {
    /// The player (model at the current time).
    pub player: Player,
    /// Markers and events.
    pub timeline: Timeline,
    /// Idle-time compression.
    pub idle: IdleMap,
    /// Playing or paused.
    pub playing: bool,
    /// Index into [`SPEEDS`].
    pub speed: usize,
    /// Displayed time (idle gaps shortened), seconds.
    pub display_time: f64,
    /// Input mode.
    pub mode: Mode,
    /// Lower panel tab.
    pub tab: Tab,
    /// A one-line message (search not found, bad time, load issues).
    pub message: Option<String>,
    /// The last search string.
    pub last_search: Option<String>,
    /// A seek to this cast time waits for the background indexer to get past it (seeking now
    /// would feed everything from the last keyframe on the UI thread); see [`ReplayApp::poll`].
    pub pending_seek: Option<f64>,
    /// Set by `Quit`.
    pub quit: bool,
}

impl ReplayApp {
    /// A paused replay at the start, at `speed` (snapped to the nearest of [`SPEEDS`]).
    pub fn new(player: Player, timeline: Timeline, idle: IdleMap, speed: f64) -> ReplayApp {
        let speed = SPEEDS
            .iter()
            .enumerate()
            .min_by(|a, b| (a.1 - speed).abs().total_cmp(&(b.1 - speed).abs()))
            .map_or(2, |(i, _)| i);
        let message = player.index.issues.first().map(|issue| {
            format!(
                "loaded what was valid; {} issue(s), first at {issue}",
                player.index.issues.len()
            )
        });
        ReplayApp {
            player,
            timeline,
            idle,
            playing: false,
            speed,
            display_time: 0.0,
            mode: Mode::Normal,
            tab: Tab::Activity,
            message,
            last_search: None,
            pending_seek: None,
            quit: false,
        }
    }

    /// Cast time now (the target of a pending seek, if any).
    pub fn cast_time(&self) -> f64 {
        self.pending_seek.unwrap_or_else(|| self.player.time())
    }

    /// Displayed duration.
    pub fn display_duration(&self) -> f64 {
        self.idle.to_display(self.player.index.duration)
    }

    /// Jumps to cast time `t`, or marks the seek pending while the keyframes do not cover `t` yet.
    pub fn seek_cast(&mut self, t: f64) {
        let t = t.clamp(0.0, self.player.index.duration);
        self.display_time = self.idle.to_display(t);
        if self.player.keyframes.covers(t) {
            self.pending_seek = None;
            if let Err(err) = self.player.seek(t) {
                self.message = Some(format!("seeking: {err}"));
            }
        } else {
            self.pending_seek = Some(t);
        }
    }

    /// Completes a pending seek once the indexer got past its target. Returns true when the
    /// screen may have changed (a seek happened, or indexing progressed and the status shows it).
    pub fn poll(&mut self) -> bool {
        if let Some(t) = self.pending_seek
            && self.player.keyframes.covers(t)
        {
            self.seek_cast(t);
            return true;
        }
        !self.player.keyframes.progress().done
    }

    /// Advances the playback clock by `elapsed` wall time when playing (not while a seek waits).
    pub fn tick(&mut self, elapsed: Duration) {
        if !self.playing || self.pending_seek.is_some() {
            return;
        }
        self.display_time += elapsed.as_secs_f64() * SPEEDS[self.speed];
        let end = self.display_duration();
        if self.display_time >= end {
            self.display_time = end;
            self.playing = false;
        }
        let t = self.idle.to_cast(self.display_time);
        self.player.advance_to(t);
    }

    /// Applies one action.
    pub fn update(&mut self, action: Action) {
        let now = self.cast_time();
        match action {
            Action::TogglePlay => {
                if !self.playing && self.display_time >= self.display_duration() {
                    self.seek_cast(0.0);
                }
                self.playing = !self.playing;
            }
            Action::Faster => self.speed = (self.speed + 1).min(SPEEDS.len() - 1),
            Action::Slower => self.speed = self.speed.saturating_sub(1),
            Action::SeekBy(delta) => {
                let d = (self.display_time + delta).clamp(0.0, self.display_duration());
                self.seek_cast(self.idle.to_cast(d));
            }
            Action::PrevMarker => match self.timeline.prev_before(now, |_| true) {
                Some(t) => self.seek_cast(t),
                None => self.message = Some("no earlier marker".into()),
            },
            Action::NextMarker => match self.timeline.next_after(now, |_| true) {
                Some(t) => self.seek_cast(t),
                None => self.message = Some("no later marker".into()),
            },
            Action::NextDecision => {
                // Decisions come from events.jsonl; a bare cast only has the markers written at them.
                let has_decisions = self
                    .timeline
                    .entries
                    .iter()
                    .any(|e| e.kind == EntryKind::Decision);
                let wanted = if has_decisions {
                    EntryKind::Decision
                } else {
                    EntryKind::Marker
                };
                // Skip routine allows (every exec the rules let through) when anything notable exists.
                let any_notable = self
                    .timeline
                    .entries
                    .iter()
                    .any(|e| e.kind == wanted && e.notable);
                match self
                    .timeline
                    .next_after(now, |e| e.kind == wanted && (e.notable || !any_notable))
                {
                    Some(t) => self.seek_cast(t),
                    None => self.message = Some("no later decision".into()),
                }
            }
            Action::StartSearch => self.mode = Mode::Search(String::new()),
            Action::StartGoTo => self.mode = Mode::GoTo(String::new()),
            Action::SearchAgain => {
                if let Some(needle) = self.last_search.clone() {
                    self.search(&needle, now + 1e-3);
                }
            }
            Action::ToggleTab => {
                self.tab = match self.tab {
                    Tab::Activity => Tab::Diff,
                    Tab::Diff => Tab::Activity,
                }
            }
            Action::Type(c) => match &mut self.mode {
                Mode::Search(s) | Mode::GoTo(s) => s.push(c),
                Mode::Normal => {}
            },
            Action::Backspace => match &mut self.mode {
                Mode::Search(s) | Mode::GoTo(s) => {
                    s.pop();
                }
                Mode::Normal => {}
            },
            Action::Cancel => self.mode = Mode::Normal,
            Action::Submit => match std::mem::replace(&mut self.mode, Mode::Normal) {
                Mode::Search(needle) => {
                    self.last_search = Some(needle.clone());
                    self.search(&needle, now + 1e-3);
                }
                Mode::GoTo(text) => match parse_time(&text) {
                    Some(t) => self.seek_cast(self.idle.to_cast(t)),
                    None => {
                        self.message = Some(format!("not a time: {text:?} (use 90, 1:30, 1:02:03)"))
                    }
                },
                Mode::Normal => {}
            },
            Action::Quit => self.quit = true,
        }
    }

    fn search(&mut self, needle: &str, from: f64) {
        match self.player.search(from, needle) {
            Ok(Some(t)) => {
                self.seek_cast(t);
                self.message = Some(format!("found {needle:?} at {}", format_time(t)));
            }
            Ok(None) => {
                self.message = Some(format!("{needle:?} not found after {}", format_time(from)))
            }
            Err(err) => self.message = Some(format!("searching: {err}")),
        }
    }
}
