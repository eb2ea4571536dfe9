//! The recording thread: owns the session's [`Recorder`] so disk writes never stall the UI loop.
//! The loop sends what happened ([`RecordMsg`]) with the time it happened; the thread writes it and
//! flushes at least every [`super::recorder::FLUSH_INTERVAL`] even when nothing new arrives. Under
//! heavy output it takes messages in batches (`COALESCE`) rather than waking for each PTY read.
//!
//! **Backpressure:** the channel is bounded ([`CAPACITY`] messages); when the disk is slower than
//! the agent, `send` blocks the loop, which stops reading the PTY, which blocks the agent. Memory
//! never grows with output.

use std::path::PathBuf;
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TryRecvError, sync_channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::SessionDir;
use super::recorder::{RecordSummary, Recorder, finish_session};

/// Messages in flight to the recording thread.
pub const CAPACITY: usize = 256;
/// How often the thread wakes to flush when nothing arrives.
const TICK: Duration = Duration::from_millis(100);
/// After handling output, the thread sleeps this long before taking the next messages. Under heavy
/// output a read arrives every few microseconds; waking for each one cost a context switch on both
/// sides (~20 000 per 200 MB, benches/record_overhead.sh). At 30 MB/s, 2 ms queue ~15 messages,
/// far below [`CAPACITY`], so the loop never blocks on it, and flushing is still due every
/// [`super::recorder::FLUSH_INTERVAL`].
const COALESCE: Duration = Duration::from_millis(2);

/// What the loop tells the recording thread. Times are since the session started.
#[derive(Debug)]
pub enum RecordMsg {
    /// Raw PTY output (redacted by the recorder before it reaches disk).
    Output(Duration, Vec<u8>),
    /// The PTY was resized to cols × rows.
    Resize(Duration, u16, u16),
    /// An `m` marker (gate decision, context warning, sensitive-file change).
    Marker(Duration, String),
    /// A structured record for `events.jsonl`.
    Event(Duration, Value),
    /// The agent exited with this status: write the last output and close the cast.
    Finish(Option<i32>),
}

/// The sending side, owned by the app; [`RecordingSink::finish`] ends the recording.
pub struct RecordingSink {
    tx: Option<SyncSender<RecordMsg>>,
    thread: Option<JoinHandle<Result<RecordSummary, String>>>,
    started: Instant,
    /// The session's data dir (cast, events, audit log, meta).
    pub dir: PathBuf,
    /// The cast file being written.
    pub cast_path: PathBuf,
}

impl RecordingSink {
    /// Starts the thread for `recorder` writing into `dir`; `started` is time zero of the cast.
    pub fn start(
        dir: SessionDir,
        recorder: Recorder,
        started: Instant,
    ) -> std::io::Result<RecordingSink> {
        let (tx, rx) = sync_channel(CAPACITY);
        let cast_path = recorder.cast_path().to_path_buf();
        let path = dir.path.clone();
        let thread = std::thread::Builder::new()
            .name("overwatch-record".into())
            .spawn(move || run(dir, recorder, rx, started))?;
        Ok(RecordingSink {
            tx: Some(tx),
            thread: Some(thread),
            started,
            dir: path,
            cast_path,
        })
    }

    /// Time since the session started (the cast's clock).
    pub fn now(&self) -> Duration {
        self.started.elapsed()
    }

    /// Queues `msg` (blocks while the thread is [`CAPACITY`] messages behind).
    pub fn send(&self, msg: RecordMsg) {
        if let Some(tx) = &self.tx {
            // A dead thread already reported its error; the session goes on unrecorded.
            let _ = tx.send(msg);
        }
    }

    /// Ends the recording with the agent's exit status and waits for the last write.
    pub fn finish(mut self, exit_status: Option<i32>) -> Result<RecordSummary, String> {
        self.send(RecordMsg::Finish(exit_status));
        self.tx = None;
        match self.thread.take().map(JoinHandle::join) {
            Some(Ok(result)) => result,
            Some(Err(_)) => Err("the recording thread panicked".into()),
            None => Err("the recording was already finished".into()),
        }
    }
}

impl Drop for RecordingSink {
    fn drop(&mut self) {
        // Dropped without finish (a panic unwinding the app): close the channel so the thread
        // writes what it has and completes the cast; don't wait for it.
        self.tx = None;
    }
}

fn run(
    dir: SessionDir,
    mut recorder: Recorder,
    rx: Receiver<RecordMsg>,
    started: Instant,
) -> Result<RecordSummary, String> {
    let mut failed: Option<String> = None;
    let mut status = None;
    // Output was handled since the thread last slept or blocked (see COALESCE).
    let mut busy = false;
    loop {
        let msg = match rx.try_recv() {
            Ok(msg) => Ok(msg),
            Err(TryRecvError::Disconnected) => Err(RecvTimeoutError::Disconnected),
            Err(TryRecvError::Empty) if busy => {
                busy = false;
                std::thread::sleep(COALESCE);
                continue;
            }
            Err(TryRecvError::Empty) => rx.recv_timeout(TICK),
        };
        busy |= matches!(msg, Ok(RecordMsg::Output(..)));
        let result = match msg {
            Ok(RecordMsg::Output(at, bytes)) => recorder.output(at, &bytes),
            Ok(RecordMsg::Resize(at, cols, rows)) => {
                recorder.resize(at, cols, rows);
                Ok(())
            }
            Ok(RecordMsg::Marker(at, label)) => {
                recorder.marker(at, &label);
                Ok(())
            }
            Ok(RecordMsg::Event(at, value)) => recorder.event(at, value),
            Ok(RecordMsg::Finish(exit)) => {
                status = exit;
                break;
            }
            Err(RecvTimeoutError::Timeout) => Ok(()),
            Err(RecvTimeoutError::Disconnected) => break,
        };
        if let Err(err) = result.and_then(|()| recorder.flush_if_due(started.elapsed())) {
            failed.get_or_insert_with(|| err.to_string());
        }
    }
    let summary = finish_session(&dir, recorder, status).map_err(|e| e.to_string())?;
    match failed {
        Some(err) => Err(format!("recording incomplete: {err}")),
        None => Ok(summary),
    }
}
