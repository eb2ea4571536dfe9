//! The workspace watcher thread: notify (inotify on Linux) on the workspace, debounced here, then
//! handed to the `Worker` that turns file-system events into [`DiffEvent`]s.
//!
//! Debounce: the worker blocks on its input channel; the first event opens a window of
//! `DiffOptions::debounce`; everything that arrives within it is one batch. notify-debouncer-full
//! was used first, but its thread wakes every tick forever (measured 40 wakeups/s, ~0.1–2 % of a
//! core on an idle workspace), and "no CPU when nothing changes" is a requirement. What it added
//! is done by the worker anyway: rename halves are paired by notify's inotify backend (a
//! `Name(Both)` event; its `From`/`To` halves are dropped here), duplicates are dropped by content
//! hash, and a removed directory is expanded from the known-file set. An overflowed inotify queue
//! (`need_rescan`) triggers a rescan of the workspace.
//!
//! Watches are per directory (non-recursive), added by the worker for every directory it scans
//! and for new ones: `.git/`, build outputs and ignored directories get none, so an agent's
//! `cargo build`, `npm install` or `git gc` wakes nothing here. In `.git` only `HEAD`'s directory
//! and `refs/heads` are watched (a commit or checkout re-bases "since HEAD").
//!
//! Threads: notify's inotify reader and one worker, `overwatch-diff`; both block when nothing
//! happens. Reads (inotify `OPEN` events, which notify always subscribes to) are dropped as soon
//! as they arrive.
//!
//! **Backpressure rule:** events go to the app loop through a *bounded* tokio channel
//! (`DiffOptions::channel_capacity`). When it is full the worker blocks in `blocking_send` until
//! the app drains it; the agent is never slowed. The hop from notify to the worker is an unbounded
//! std channel on purpose: blocking notify's callback would stall the inotify reader, the kernel
//! queue would overflow and changes would be lost. So while the app is stalled, memory grows with
//! the raw events waiting. If the receiver is dropped the worker stops.

use std::path::PathBuf;
use std::sync::mpsc as std_mpsc;
use std::time::Instant;

use notify::event::EventKind;
use notify::{RecommendedWatcher, RecursiveMode, Watcher as _};
use tokio::sync::mpsc;

use super::worker::Worker;
use super::{DiffError, DiffEvent, DiffOptions};

/// Input of the worker thread.
enum Input {
    Fs(notify::Result<notify::Event>),
    Stop,
}

/// A running watcher. Dropping it asks the worker to stop without waiting (it may be in the middle
/// of the initial scan of a large workspace, which must not delay overwatch's exit); [`stop`]
/// waits.
///
/// [`stop`]: WatcherHandle::stop
pub struct WatcherHandle {
    input: std_mpsc::Sender<Input>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl WatcherHandle {
    /// Stops the watcher and waits for its thread (the notify watch is removed when it ends).
    pub fn stop(mut self) {
        let _ = self.input.send(Input::Stop);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for WatcherHandle {
    fn drop(&mut self) {
        let _ = self.input.send(Input::Stop);
    }
}

/// Starts watching `options.root`. The first event on the returned receiver is
/// [`DiffEvent::Watching`] once the initial scan and baselines are done; then one event per change.
///
/// Errors: the root cannot be resolved, the notify watch cannot be installed (e.g. the inotify
/// watch limit), or the thread cannot be spawned.
pub fn spawn(
    options: DiffOptions,
) -> Result<(WatcherHandle, mpsc::Receiver<DiffEvent>), DiffError> {
    let root = options
        .root
        .canonicalize()
        .map_err(|source| DiffError::Io {
            path: options.root.clone(),
            source,
        })?;
    let (tx, rx) = mpsc::channel(options.channel_capacity.max(1));
    let (input_tx, input_rx) = std_mpsc::channel();
    let fs_tx = input_tx.clone();
    let mut watcher = notify::recommended_watcher(move |result: notify::Result<notify::Event>| {
        // Reads change nothing (and our own reads would otherwise wake us in a loop).
        if let Ok(event) = &result
            && matches!(event.kind, EventKind::Access(_))
        {
            return;
        }
        let _ = fs_tx.send(Input::Fs(result));
    })
    .map_err(|source| DiffError::Watch {
        path: root.clone(),
        source,
    })?;
    // The root first (an error here is fatal); the worker watches each watched directory below
    // before listing it, so nothing written during the scan is missed.
    watcher
        .watch(&root, RecursiveMode::NonRecursive)
        .map_err(|source| DiffError::Watch {
            path: root.clone(),
            source,
        })?;
    let thread = std::thread::Builder::new()
        .name("overwatch-diff".to_string())
        .spawn(move || run(watcher, root, options, input_rx, tx))
        .map_err(DiffError::Thread)?;
    Ok((
        WatcherHandle {
            input: input_tx,
            thread: Some(thread),
        },
        rx,
    ))
}

/// The worker thread's body: block for the first event, gather the debounce window, handle the
/// batch, send the results; until stopped or the app drops the receiver.
fn run(
    watcher: RecommendedWatcher,
    root: PathBuf,
    options: DiffOptions,
    input: std_mpsc::Receiver<Input>,
    tx: mpsc::Sender<DiffEvent>,
) {
    let debounce = options.debounce;
    let mut worker = Worker::start(root, options, tx, watcher);
    if worker.flush().is_err() {
        return;
    }
    let mut stopping = false;
    while !stopping {
        let mut batch = Vec::new();
        match input.recv() {
            Ok(Input::Fs(result)) => batch.push(result),
            Ok(Input::Stop) | Err(_) => break,
        }
        let deadline = Instant::now() + debounce;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match input.recv_timeout(left) {
                Ok(Input::Fs(result)) => batch.push(result),
                Ok(Input::Stop) | Err(std_mpsc::RecvTimeoutError::Disconnected) => {
                    stopping = true;
                    break;
                }
                Err(std_mpsc::RecvTimeoutError::Timeout) => break,
            }
        }
        let mut events = Vec::with_capacity(batch.len());
        for result in batch {
            match result {
                Ok(event) => events.push(event),
                Err(err) => worker.error(format!("watching the workspace: {err}")),
            }
        }
        worker.handle_batch(&events);
        if worker.flush().is_err() {
            break; // the app dropped the receiver
        }
    }
}
