//! Playback state: a terminal model positioned at a cast time, moved forward by feeding events and
//! backward (or far forward) by restoring the nearest keyframe.
//!
//! Invariant: `model` shows exactly the screen after applying every event with time ≤ `time`
//! (starting from the keyframe it was restored from). A seek never waits for the background
//! indexer: it uses the keyframes published so far (correct, only slower when the indexer has not
//! reached the target; the replay app defers such seeks until [`Keyframes::covers`] them).

use std::path::{Path, PathBuf};

use super::cast::{CastError, CastEvents, Code, Event, ReadPos, open};
use super::index::{Index, SCROLLBACK};
use super::indexer::Keyframes;
use super::keyframe::restore;
use crate::session::{PaneSize, TerminalModel};

/// The event stream of an opened cast.
type Reader = CastEvents;

/// A cast being played.
pub struct Player {
    path: PathBuf,
    /// The load-time index (markers, duration, gaps).
    pub index: Index,
    /// Keyframes, filled in the background after [`Player::open`] returns.
    pub keyframes: Keyframes,
    model: TerminalModel,
    reader: Reader,
    /// The next event, read but not yet applied (its time is after `time`).
    next: Option<Event>,
    time: f64,
}

impl Player {
    /// Opens `path`, scans its index, and starts building a keyframe every `keyframe_every` output
    /// bytes in the background (`None`: no keyframes, for one forward pass such as `--dump-at`).
    /// Returns after the scan (~10× faster than building keyframes); see [`Keyframes`].
    pub fn open(path: &Path, keyframe_every: Option<u64>) -> Result<Player, CastError> {
        let index = Index::build(path)?;
        let (model, reader, start) = Player::fresh(path, &index)?;
        let keyframes = match keyframe_every {
            Some(every) => Keyframes::spawn(path, every)?,
            None => Keyframes::start_only(start, model.size()),
        };
        Ok(Player {
            path: path.to_owned(),
            index,
            keyframes,
            model,
            reader,
            next: None,
            time: 0.0,
        })
    }

    fn fresh(path: &Path, index: &Index) -> Result<(TerminalModel, Reader, ReadPos), CastError> {
        let opened = open(path)?;
        let size = PaneSize {
            cols: index.header.cols,
            rows: index.header.rows,
        };
        let reader = CastEvents::of_cast(opened.source, &index.header, opened.start);
        Ok((TerminalModel::new(size, SCROLLBACK), reader, opened.start))
    }

    /// The model showing the screen at [`Player::time`].
    pub fn model(&self) -> &TerminalModel {
        &self.model
    }

    /// Current cast time, seconds.
    pub fn time(&self) -> f64 {
        self.time
    }

    /// The cast's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn apply(&mut self, event: &Event) {
        match event.code {
            Code::Output => {
                self.model.feed(event.data.as_bytes());
                // Query replies are for a live PTY; replay has nobody to send them to.
                drop(self.model.take_replies());
            }
            Code::Resize => {
                if let Some((cols, rows)) = event.resize() {
                    self.model.resize(PaneSize { cols, rows });
                }
            }
            _ => {}
        }
    }

    /// Applies events up to and including cast time `t` (no-op for `t` before the current time).
    pub fn advance_to(&mut self, t: f64) {
        loop {
            let event = match self.next.take() {
                Some(e) => e,
                None => match self.reader.next_event() {
                    Some(e) => e,
                    None => break,
                },
            };
            if event.time > t {
                self.next = Some(event);
                break;
            }
            self.apply(&event);
        }
        self.time = self.time.max(t);
    }

    /// Moves to cast time `t`: forward by feeding when no keyframe lies in between, otherwise
    /// from the nearest published keyframe at or before `t`.
    pub fn seek(&mut self, t: f64) -> Result<(), CastError> {
        let t = t.clamp(0.0, self.index.duration.max(0.0));
        let keyframe = self.keyframes.before(t);
        let forward_is_cheaper =
            t >= self.time && keyframe.as_ref().is_none_or(|k| k.pos.time <= self.time);
        if !forward_is_cheaper {
            match keyframe {
                Some(k) => {
                    self.model = restore(k.size, SCROLLBACK, &k.screen);
                    self.reader
                        .reposition(k.pos)
                        .map_err(|source| CastError::Io {
                            path: self.path.display().to_string(),
                            source,
                        })?;
                    self.time = k.pos.time;
                }
                None => {
                    let (model, reader, _) = Player::fresh(&self.path, &self.index)?;
                    self.model = model;
                    self.reader = reader;
                    self.time = 0.0;
                }
            }
            self.next = None;
        }
        self.advance_to(t);
        self.time = t;
        Ok(())
    }

    /// Cast time of the first output event at or after `from` whose text (joined with the
    /// following output) contains `needle`, case-insensitively; streams the cast from `from`.
    pub fn search(&self, from: f64, needle: &str) -> Result<Option<f64>, CastError> {
        let needle = needle.to_lowercase();
        if needle.is_empty() {
            return Ok(None);
        }
        let opened = open(&self.path)?;
        let mut reader = CastEvents::of_cast(opened.source, &self.index.header, opened.start);
        if let Some(k) = self.keyframes.before(from) {
            let _ = reader.reposition(k.pos);
        }
        // Keep a tail of the previous output so matches split across events are found.
        let mut window = String::new();
        while let Some(event) = reader.next_event() {
            if event.code != Code::Output {
                continue;
            }
            let strip = strip_escapes(&event.data).to_lowercase();
            window.push_str(&strip);
            if event.time >= from && window.contains(&needle) {
                return Ok(Some(event.time));
            }
            let keep = needle.len().saturating_sub(1);
            if window.len() > keep {
                let mut cut = window.len() - keep;
                while !window.is_char_boundary(cut) {
                    cut -= 1;
                }
                window.drain(..cut);
            }
        }
        Ok(None)
    }
}

/// Output text without CSI/OSC escape sequences and control characters (for search).
fn strip_escapes(data: &str) -> String {
    let mut out = String::with_capacity(data.len());
    let mut chars = data.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\x1b' => match chars.next() {
                Some('[') => {
                    for c in chars.by_ref() {
                        if ('@'..='~').contains(&c) {
                            break;
                        }
                    }
                }
                Some(']') => {
                    while let Some(c) = chars.next() {
                        if c == '\x07' || (c == '\x1b' && chars.peek() == Some(&'\\')) {
                            break;
                        }
                    }
                }
                _ => {}
            },
            '\r' | '\n' => out.push(' '),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Parses `T` for `--dump-at` and the go-to prompt: seconds (`90`, `12.5`), `mm:ss`, `hh:mm:ss`.
pub fn parse_time(text: &str) -> Option<f64> {
    let mut total = 0.0;
    let parts: Vec<&str> = text.trim().split(':').collect();
    if parts.is_empty() || parts.len() > 3 {
        return None;
    }
    for (i, part) in parts.iter().enumerate() {
        let v: f64 = part.parse().ok()?;
        if !v.is_finite() || v < 0.0 || (i > 0 && v >= 60.0) {
            return None;
        }
        total = total * 60.0 + v;
    }
    Some(total)
}

/// `mm:ss.s` (or `h:mm:ss`) for status lines.
pub fn format_time(t: f64) -> String {
    let whole = t.max(0.0) as u64;
    if whole >= 3600 {
        format!(
            "{}:{:02}:{:02}",
            whole / 3600,
            whole % 3600 / 60,
            whole % 60
        )
    } else {
        format!(
            "{:02}:{:04.1}",
            whole / 60,
            t.max(0.0) - (whole / 60 * 60) as f64
        )
    }
}
