//! The load-time index of a cast: markers, duration, idle gaps, the exit status and the reader's
//! issues, from one quick scan of the events (no terminal model: ~10× faster than feeding the
//! output). Keyframes are built separately, in the background (`indexer.rs`).

use std::path::Path;

use super::cast::{CastEvents, Code, Header, LineIssue, ReadPos, open};
use crate::session::PaneSize;

/// Scrollback kept by replay models.
pub const SCROLLBACK: usize = 10_000;

/// A restorable point (built by `indexer.rs`).
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
    /// Streams `path` once without a terminal model. Errors only if the file cannot be opened or
    /// has no header.
    pub fn build(path: &Path) -> Result<Index, super::cast::CastError> {
        let opened = open(path)?;
        let header = opened.header.clone();
        let mut reader = CastEvents::of_cast(opened.source, &header, opened.start);
        let mut index = Index {
            header,
            markers: Vec::new(),
            duration: 0.0,
            exit: None,
            output_bytes: 0,
            gaps: Vec::new(),
            issues: opened.issues,
        };
        let mut last_time = 0.0f64;
        while let Some(event) = reader.next_event() {
            if event.time - last_time > 1.0 {
                index.gaps.push((event.time, event.time - last_time));
            }
            last_time = event.time;
            match event.code {
                Code::Output => index.output_bytes += event.data.len() as u64,
                Code::Marker => index.markers.push(Marker {
                    time: event.time,
                    label: event.data,
                }),
                Code::Exit => index.exit = Some(event.data),
                Code::Resize | Code::Input | Code::Other(_) => {}
            }
        }
        index.duration = last_time;
        index.issues.extend(reader.issues);
        Ok(index)
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
