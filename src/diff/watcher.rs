//! The workspace watcher thread: notify (inotify on Linux) + notify-debouncer-full, the initial
//! scan and baselines, and turning debounced file-system events into [`DiffEvent`]s.
//!
//! Threads: the debouncer's own tick thread (it wakes every `debounce / 2` to flush settled
//! events — its design, the only periodic work when the workspace is idle) and one worker thread,
//! `overwatch-diff`, that owns the baselines and blocks on its input channel otherwise.
//!
//! **Backpressure rule:** events go to the app loop through a *bounded* tokio channel
//! (`DiffOptions::channel_capacity`). When it is full the worker blocks in `blocking_send` until
//! the app drains it; the agent is never slowed. The hop from the debouncer to the worker is an
//! unbounded std channel on purpose: blocking the debouncer's callback would stall notify's
//! inotify reader, the kernel queue would overflow and changes would be lost silently. So while
//! the app is stalled, memory grows with the debounced batches waiting (settled events, one entry
//! per path and kind per batch). If the receiver is dropped the worker stops.

use std::path::PathBuf;
use std::sync::mpsc as std_mpsc;

use notify::{RecommendedWatcher, RecursiveMode};
use notify_debouncer_full::{DebounceEventResult, Debouncer, RecommendedCache, new_debouncer};
use tokio::sync::mpsc;

use super::worker::Worker;
use super::{DiffError, DiffEvent, DiffOptions};

/// Input of the worker thread.
enum Input {
    Fs(DebounceEventResult),
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
    let tick = (options.debounce / 2).max(std::time::Duration::from_millis(1));
    let mut debouncer = new_debouncer(
        options.debounce,
        Some(tick),
        move |result: DebounceEventResult| {
            let _ = fs_tx.send(Input::Fs(result));
        },
    )
    .map_err(|source| DiffError::Watch {
        path: root.clone(),
        source,
    })?;
    // Watch before scanning so nothing written during the scan is missed.
    debouncer
        .watch(&root, RecursiveMode::Recursive)
        .map_err(|source| DiffError::Watch {
            path: root.clone(),
            source,
        })?;
    let thread = std::thread::Builder::new()
        .name("overwatch-diff".to_string())
        .spawn(move || run(debouncer, root, options, input_rx, tx))
        .map_err(DiffError::Thread)?;
    Ok((
        WatcherHandle {
            input: input_tx,
            thread: Some(thread),
        },
        rx,
    ))
}

/// The worker thread's body.
fn run(
    debouncer: Debouncer<RecommendedWatcher, RecommendedCache>,
    root: PathBuf,
    options: DiffOptions,
    input: std_mpsc::Receiver<Input>,
    tx: mpsc::Sender<DiffEvent>,
) {
    let mut worker = Worker::start(root, options, tx);
    if worker.flush().is_err() {
        return;
    }
    while let Ok(Input::Fs(result)) = input.recv() {
        match result {
            Ok(events) => worker.handle_batch(&events),
            Err(errors) => {
                for err in errors {
                    worker.error(format!("watching the workspace: {err}"));
                }
            }
        }
        if worker.flush().is_err() {
            break; // the app dropped the receiver
        }
    }
    drop(debouncer);
}
