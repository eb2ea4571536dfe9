//! The load-time index of a cast: keyframes every [`KEYFRAME_BYTES`] of output, markers, duration,
//! idle gaps and the reader's issues. Built by streaming the whole cast once through a terminal model.
//!
//! Invariant: keyframes are sorted by time and position, the first one is the empty screen at the
//! first event, and each was taken outside a DEC 2026 synchronized block (so the grid is current).

use std::io::BufReader;
use std::path::Path;

use alacritty_terminal::term::TermMode;

use super::cast::{Code, EventReader, Header, LineIssue, ReadPos, open};
use super::keyframe::{Sequence, snapshot};
use crate::session::{PaneSize, TerminalModel};

/// Output bytes between keyframes. Seeking feeds at most this much (plus one snapshot restore):
/// 1 MiB is ~40–60 ms at the model's measured 18–25 MiB/s on a loaded 2-core machine, well under the
/// 200 ms target even when the machine is busy (benches/record.rs; 4 MiB measured a 323 ms worst).
pub const KEYFRAME_BYTES: u64 = 1024 * 1024;

/// Keyframes never take more than 1/this of the output they cover: after a snapshot of `n` bytes the
/// next one waits for at least `n * KEYFRAME_SHARE` bytes of output. Typical snapshots (a few KiB)
/// are far below it; it only spaces keyframes out for screens of per-cell truecolour, so a 1 GB
/// cast can never hold more than ~64 MB of keyframes.
pub const KEYFRAME_SHARE: u64 = 16;

/// On the alternate screen, keyframes wait up to this many intervals for the primary screen.
pub const ALT_SCREEN_FALLBACK: u64 = 4;

/// Scrollback kept by replay models.
pub const SCROLLBACK: usize = 10_000;

/// A restorable point.
#[derive(Debug, Clone)]
pub struct Keyframe {
    /// Reader position just after the last event applied.
    pub pos: ReadPos,
    /// Terminal size at that point.
    pub size: PaneSize,
    /// Screen snapshot (escape sequences).
    pub screen: Vec<u8>,
}

/// A marker (`m` event) in the cast.
#[derive(Debug, Clone, PartialEq)]
pub struct Marker {
    /// Cast time, seconds.
    pub time: f64,
    /// Label (may be empty).
    pub label: String,
}

/// What loading found.
#[derive(Debug, Clone)]
pub struct Index {
    /// The header.
    pub header: Header,
    /// Keyframes (empty when built without them).
    pub keyframes: Vec<Keyframe>,
    /// Markers in time order.
    pub markers: Vec<Marker>,
    /// Time of the last event, seconds.
    pub duration: f64,
    /// Exit status (v3 `x`), if recorded.
    pub exit: Option<String>,
    /// Output bytes in the cast.
    pub output_bytes: u64,
    /// Gaps between consecutive events: `(time of the later event, gap seconds)` for gaps over
    /// one second (enough for any idle-time limit worth applying).
    pub gaps: Vec<(f64, f64)>,
    /// Lines skipped and where reading stopped.
    pub issues: Vec<LineIssue>,
}

impl Index {
    /// Streams `path` once; with `keyframe_every = Some(n)`, feeds a model and snapshots it every
    /// `n` bytes of output ([`KEYFRAME_BYTES`] in the app). Errors only if the file cannot be opened
    /// or has no header.
    pub fn build(
        path: &Path,
        keyframe_every: Option<u64>,
    ) -> Result<Index, super::cast::CastError> {
        let opened = open(path)?;
        let header = opened.header.clone();
        let version = header.version.max(2);
        let mut reader = EventReader::new(BufReader::new(opened.source), version, opened.start);
        let size = PaneSize {
            cols: header.cols,
            rows: header.rows,
        };
        let mut model = keyframe_every.map(|_| TerminalModel::new(size, SCROLLBACK));
        let every = keyframe_every.unwrap_or(u64::MAX).max(1);
        let mut index = Index {
            header,
            keyframes: Vec::new(),
            markers: Vec::new(),
            duration: 0.0,
            exit: None,
            output_bytes: 0,
            gaps: Vec::new(),
            issues: opened.issues,
        };
        if let Some(m) = &model {
            index.keyframes.push(Keyframe {
                pos: opened.start,
                size,
                screen: snapshot(m),
            });
        }
        let mut since_keyframe = 0u64;
        let mut spacing = every;
        let mut ground = Sequence::default();
        let mut last_time = 0.0f64;
        while let Some(event) = reader.next_event() {
            if event.time - last_time > 1.0 {
                index.gaps.push((event.time, event.time - last_time));
            }
            last_time = event.time;
            match event.code {
                Code::Output => {
                    index.output_bytes += event.data.len() as u64;
                    since_keyframe += event.data.len() as u64;
                    if let Some(m) = model.as_mut() {
                        m.feed(event.data.as_bytes());
                        ground.feed(event.data.as_bytes());
                    }
                }
                Code::Resize => {
                    if let (Some(m), Some((cols, rows))) = (model.as_mut(), event.resize()) {
                        m.resize(PaneSize { cols, rows });
                    }
                }
                Code::Marker => index.markers.push(Marker {
                    time: event.time,
                    label: event.data.clone(),
                }),
                Code::Exit => index.exit = Some(event.data.clone()),
                Code::Input | Code::Other(_) => {}
            }
            // A snapshot taken on the alternate screen cannot carry the primary one (alacritty keeps
            // it private), so prefer keyframes on the primary screen and only fall back after
            // ALT_SCREEN_FALLBACK intervals, to keep seeks bounded in long full-screen sessions.
            if let Some(m) = model.as_mut()
                && since_keyframe >= spacing
                && ground.is_ground()
                && !m.is_synchronized()
                && (!m.term().mode().contains(TermMode::ALT_SCREEN)
                    || since_keyframe >= spacing.saturating_mul(ALT_SCREEN_FALLBACK))
            {
                let screen = snapshot(m);
                spacing = every.max(screen.len() as u64 * KEYFRAME_SHARE);
                index.keyframes.push(Keyframe {
                    pos: reader.pos(),
                    size: m.size(),
                    screen,
                });
                since_keyframe = 0;
            }
        }
        index.duration = last_time;
        index.issues.extend(reader.issues);
        Ok(index)
    }

    /// The last keyframe at or before cast time `t` (None without keyframes).
    pub fn keyframe_before(&self, t: f64) -> Option<&Keyframe> {
        let i = self.keyframes.partition_point(|k| k.pos.time <= t);
        self.keyframes.get(i.saturating_sub(1))
    }
}

/// Maps cast time to displayed time with an idle-time limit: every gap longer than the limit is
/// shortened to it, shifting everything after (asciinema's `limit_idle_time`, C3).
#[derive(Debug, Clone, Default)]
pub struct IdleMap {
    /// `(cast time where a shortened gap ends, total seconds removed up to and including it)`.
    cuts: Vec<(f64, f64)>,
}

impl IdleMap {
    /// From the index's gaps and a limit in seconds (`None` = no limit).
    pub fn new(gaps: &[(f64, f64)], limit: Option<f64>) -> IdleMap {
        let Some(limit) = limit.filter(|l| *l > 0.0) else {
            return IdleMap::default();
        };
        let mut removed = 0.0;
        let cuts = gaps
            .iter()
            .filter(|(_, gap)| *gap > limit)
            .map(|(end, gap)| {
                removed += gap - limit;
                (*end, removed)
            })
            .collect();
        IdleMap { cuts }
    }

    /// Displayed time of cast time `t`.
    pub fn to_display(&self, t: f64) -> f64 {
        let i = self.cuts.partition_point(|(end, _)| *end <= t);
        let before = if i == 0 { 0.0 } else { self.cuts[i - 1].1 };
        // Inside a shortened gap, displayed time stops once the limit is used up.
        match self.cuts.get(i) {
            Some((end, total)) => (t - before).min(end - total),
            None => t - before,
        }
    }

    /// Cast time of displayed time `d` (the earliest cast time shown at `d`).
    pub fn to_cast(&self, d: f64) -> f64 {
        let mut removed = 0.0;
        for (end, total) in &self.cuts {
            if end - total <= d {
                removed = *total;
            } else {
                break;
            }
        }
        d + removed
    }
}
