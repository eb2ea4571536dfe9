//! The keyframe indexer: streams a cast through a terminal model on its own thread and publishes a
//! keyframe every [`KEYFRAME_BYTES`] of output. Feeding a 1 GB cast through the model takes tens of
//! seconds, so replay opens after the quick scan in [`super::index::Index::build`] and builds
//! keyframes here while the user already watches; a seek the keyframes do not cover yet waits for
//! the indexer in the replay app (`ReplayApp::poll`), never on the UI thread.
//!
//! Invariant: keyframes are sorted by time and position, the first one is the empty screen at the
//! first event, and each was taken between escape sequences and outside a DEC 2026 synchronized
//! block (so the grid is current). A keyframe is published only when complete, and never changes.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;

use alacritty_terminal::term::TermMode;

use super::cast::{CastError, CastEvents, Code, EventReader, ReadPos, open};
use super::index::Keyframe;
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

/// Scrollback of the indexer's model. Snapshots carry only the screen; history matters only for
/// what a resize pulls back into view, which is at most the rows gained (or a reflow's joined
/// lines), so a bounded history keeps keyframes equal to linear playback while sparing the ~28 MB a
/// full [`super::index::SCROLLBACK`] of 120-column rows takes next to the player's own model.
pub const INDEXER_SCROLLBACK: usize = 1000;

/// What the indexer has published so far.
#[derive(Debug, Default)]
struct Built {
    keyframes: Vec<Keyframe>,
    /// Output bytes fed through the indexer's model so far.
    indexed_bytes: u64,
    /// The indexer reached the end of the cast (or stopped: cancelled, or it panicked).
    done: bool,
}

#[derive(Debug, Default)]
struct Shared {
    built: Mutex<Built>,
    /// Set when the [`Keyframes`] handle is dropped: the indexer stops at its next event.
    cancel: AtomicBool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Built> {
        // A panicking indexer leaves consistent data (pushes are single operations).
        self.built.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// How far indexing got (for the status line and the benches).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Keyframes published.
    pub keyframes: usize,
    /// Their snapshots' total size, bytes (the index's memory).
    pub snapshot_bytes: usize,
    /// Output bytes fed through the indexer so far.
    pub indexed_bytes: u64,
    /// True once every keyframe is published.
    pub done: bool,
}

/// The keyframes of one cast, filled by a background indexer; dropping it stops the indexer.
pub struct Keyframes {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl Keyframes {
    /// Only the empty screen at `start`: every backward seek replays from the start (for one
    /// forward pass, as `--dump-at` does).
    pub fn start_only(start: ReadPos, size: PaneSize) -> Keyframes {
        let model = TerminalModel::new(size, 0);
        let built = Built {
            keyframes: vec![Keyframe {
                pos: start,
                size,
                screen: snapshot(&model),
            }],
            indexed_bytes: 0,
            done: true,
        };
        Keyframes {
            shared: Arc::new(Shared {
                built: Mutex::new(built),
                cancel: AtomicBool::new(false),
            }),
            thread: None,
        }
    }

    /// Opens `path` and starts the indexer thread (`overwatch-keyframes`), taking a keyframe
    /// every `every` output bytes ([`KEYFRAME_BYTES`] in the app). The start keyframe is published
    /// before this returns. Errors if the cast cannot be opened or the thread cannot start.
    pub fn spawn(path: &Path, every: u64) -> Result<Keyframes, CastError> {
        let opened = open(path)?;
        let size = PaneSize {
            cols: opened.header.cols,
            rows: opened.header.rows,
        };
        let reader = CastEvents::of_cast(opened.source, &opened.header, opened.start);
        let mut start = Keyframes::start_only(opened.start, size);
        let shared = Arc::clone(&start.shared);
        shared.lock().done = false;
        let indexer = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("overwatch-keyframes".into())
            .spawn(move || {
                let _done = DoneOnExit(Arc::clone(&indexer));
                index(reader, size, every.max(1), &indexer);
            })
            .map_err(|source| CastError::Io {
                path: path.display().to_string(),
                source,
            })?;
        start.thread = Some(thread);
        Ok(start)
    }

    /// Blocks until the indexer has published every keyframe (benches, tests).
    pub fn wait(&mut self) {
        if let Some(thread) = self.thread.take() {
            // A panic in the indexer already marked it done (DoneOnExit); what it built stands.
            let _ = thread.join();
        }
    }

    /// True when the keyframe before cast time `t` is final: the indexer got past `t`.
    pub fn covers(&self, t: f64) -> bool {
        let built = self.shared.lock();
        built.done || built.keyframes.last().is_some_and(|k| k.pos.time > t)
    }

    /// The last published keyframe at or before cast time `t` (the start keyframe at worst).
    /// Once [`Keyframes::covers`] `t`, no later keyframe will be closer.
    pub fn before(&self, t: f64) -> Option<Keyframe> {
        let built = self.shared.lock();
        let i = built.keyframes.partition_point(|k| k.pos.time <= t);
        built.keyframes.get(i.saturating_sub(1)).cloned()
    }

    /// The cast time of every published keyframe, in order.
    pub fn times(&self) -> Vec<f64> {
        self.shared
            .lock()
            .keyframes
            .iter()
            .map(|k| k.pos.time)
            .collect()
    }

    /// How far indexing got.
    pub fn progress(&self) -> Progress {
        let built = self.shared.lock();
        Progress {
            keyframes: built.keyframes.len(),
            snapshot_bytes: built.keyframes.iter().map(|k| k.screen.len()).sum(),
            indexed_bytes: built.indexed_bytes,
            done: built.done,
        }
    }
}

impl Drop for Keyframes {
    fn drop(&mut self) {
        self.shared.cancel.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Marks the index done however the indexer ends (end of cast, cancel, panic), so nothing waits
/// for keyframes that will never come.
struct DoneOnExit(Arc<Shared>);

impl Drop for DoneOnExit {
    fn drop(&mut self) {
        self.0.lock().done = true;
    }
}

/// The indexer: feeds every event through a model and publishes keyframes (see module invariant).
fn index<R: std::io::BufRead>(
    mut reader: EventReader<R>,
    size: PaneSize,
    every: u64,
    shared: &Shared,
) {
    let mut model = TerminalModel::new(size, INDEXER_SCROLLBACK);
    let mut ground = Sequence::default();
    let mut indexed = 0u64;
    let mut since_keyframe = 0u64;
    let mut spacing = every;
    while let Some(event) = reader.next_event() {
        if shared.cancel.load(Ordering::Relaxed) {
            return;
        }
        match event.code {
            Code::Output => {
                indexed += event.data.len() as u64;
                since_keyframe += event.data.len() as u64;
                model.feed(event.data.as_bytes());
                // Query replies are for a live PTY; replay has nobody to send them to.
                drop(model.take_replies());
                ground.feed(event.data.as_bytes());
            }
            Code::Resize => {
                if let Some((cols, rows)) = event.resize() {
                    model.resize(PaneSize { cols, rows });
                }
            }
            _ => {}
        }
        // A snapshot taken on the alternate screen cannot carry the primary one (alacritty keeps
        // it private), so prefer keyframes on the primary screen and only fall back after
        // ALT_SCREEN_FALLBACK intervals, to keep seeks bounded in long full-screen sessions.
        if since_keyframe >= spacing
            && ground.is_ground()
            && !model.is_synchronized()
            && (!model.term().mode().contains(TermMode::ALT_SCREEN)
                || since_keyframe >= spacing.saturating_mul(ALT_SCREEN_FALLBACK))
        {
            let screen = snapshot(&model);
            spacing = every.max(screen.len() as u64 * KEYFRAME_SHARE);
            let keyframe = Keyframe {
                pos: reader.pos(),
                size: model.size(),
                screen,
            };
            let mut built = shared.lock();
            built.keyframes.push(keyframe);
            built.indexed_bytes = indexed;
            since_keyframe = 0;
        }
    }
    shared.lock().indexed_bytes = indexed;
}
