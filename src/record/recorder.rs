//! The recorder: turns PTY output, input, resizes, markers and structured events into redacted
//! cast and events.jsonl lines. See `record.rs` for the invariants.
//!
//! (Kept apart from `record.rs` so benches/ can compile it directly: overwatch has no lib target.)

use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use super::cast::{CastFormat, CastHeader, CastWriter};
use super::session_dir::{
    CAST_FILE, EVENTS_FILE, SessionDir, SessionDirError, SessionMeta, create_private,
    new_session_id, sessions_root,
};
use super::utf8::Utf8Stream;
use crate::context::Tier;
use crate::secrets::{Redactor, Release, SecretsError, StreamRedactor};

/// Longest time buffered lines stay in memory before [`Recorder::flush_if_due`] writes them.
pub const FLUSH_INTERVAL: Duration = Duration::from_millis(250);

/// Pending output above this many bytes is redacted and written without waiting for a tick.
const DRAIN_AT: usize = 32 * 1024;

/// Terminal size in character cells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TermSize {
    /// Columns.
    pub cols: u16,
    /// Rows.
    pub rows: u16,
}

/// How to record (from `overwatch run` flags and the detected context).
#[derive(Debug, Clone)]
pub struct RecordOptions {
    /// asciicast version.
    pub format: CastFormat,
    /// Initial PTY size.
    pub size: TermSize,
    /// The agent command line (stored redacted in the header).
    pub command: Option<String>,
    /// Title for players.
    pub title: Option<String>,
    /// Literal credential values from the agent's env, redacted wherever they appear.
    pub env_secrets: Vec<String>,
    /// Record keyboard input (`i` events); off by default (privacy).
    pub record_input: bool,
    /// Idle-time limit stored in the header for players, seconds.
    pub idle_time_limit: Option<f64>,
    /// Env captured in the header (asciinema's default: `SHELL`, `TERM`).
    pub env: Vec<(String, String)>,
    /// Write the cast here instead of `<dir>/session.cast` (`--record PATH`).
    pub cast_path: Option<PathBuf>,
}

impl RecordOptions {
    /// Defaults for a PTY of `size`: v2, no input, `SHELL`/`TERM` from this process's env.
    pub fn new(size: TermSize) -> Self {
        let env = ["SHELL", "TERM"]
            .iter()
            .filter_map(|k| std::env::var(k).ok().map(|v| ((*k).to_owned(), v)))
            .collect();
        RecordOptions {
            format: CastFormat::V2,
            size,
            command: None,
            title: None,
            env_secrets: Vec::new(),
            record_input: false,
            idle_time_limit: None,
            env,
            cast_path: None,
        }
    }
}

/// Errors of the recorder.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// Building the redactor failed (a broken built-in rule).
    #[error("preparing secret redaction: {0}")]
    Secrets(#[from] SecretsError),
    /// Creating or writing a recording file.
    #[error("{doing} {path}: {source}")]
    Io {
        /// What was being done.
        doing: &'static str,
        /// The file.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
    /// Creating or updating the session dir.
    #[error(transparent)]
    SessionDir(#[from] SessionDirError),
}

/// What [`Recorder::finish`] reports.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordSummary {
    /// The cast file.
    pub cast_path: PathBuf,
    /// The events file.
    pub events_path: PathBuf,
    /// Time of the last event, seconds.
    pub duration: f64,
    /// Output bytes received (before redaction).
    pub output_bytes: u64,
    /// Markers written.
    pub markers: u64,
}

/// A cast event waiting behind held-back output.
#[derive(Debug)]
enum Queued {
    Input(String),
    Marker(String),
    Resize(TermSize),
}

/// Writes one session's cast and events; see the module docs.
pub struct Recorder {
    cast: CastWriter,
    cast_path: PathBuf,
    events: BufWriter<File>,
    events_path: PathBuf,
    redactor: Arc<Redactor>,
    output: StreamRedactor<Duration>,
    utf8: Utf8Stream,
    input_utf8: Utf8Stream,
    record_input: bool,
    /// (output stream offset it follows, time, event), in arrival order.
    queue: VecDeque<(u64, Duration, Queued)>,
    /// Output bytes pushed into the redactor (stream offset of the next text).
    pushed: u64,
    output_bytes: u64,
    markers: u64,
    last_flush: Duration,
    last_time: Duration,
    format: CastFormat,
}

impl Recorder {
    /// Creates `session.cast` (or `opts.cast_path`) and `events.jsonl` in `dir` (mode 0600) and
    /// writes the cast header. `dir` must exist (see [`SessionDir::create`]).
    pub fn create(dir: &Path, opts: RecordOptions) -> Result<Recorder, RecordError> {
        let redactor = Arc::new(Redactor::new(&opts.env_secrets)?);
        let cast_path = opts
            .cast_path
            .clone()
            .unwrap_or_else(|| dir.join(CAST_FILE));
        let events_path = dir.join(EVENTS_FILE);
        let io = |doing, path: &Path| {
            let path = path.to_owned();
            move |source| RecordError::Io {
                doing,
                path,
                source,
            }
        };
        let cast_file = create_private(&cast_path).map_err(io("creating", &cast_path))?;
        let header = CastHeader {
            cols: opts.size.cols,
            rows: opts.size.rows,
            timestamp: jiff::Timestamp::now().as_second(),
            command: opts
                .command
                .as_deref()
                .map(|c| redactor.redact(c).into_owned()),
            title: opts
                .title
                .as_deref()
                .map(|t| redactor.redact(t).into_owned()),
            idle_time_limit: opts.idle_time_limit,
            env: opts
                .env
                .iter()
                .map(|(k, v)| (k.clone(), redactor.redact(v).into_owned()))
                .collect(),
        };
        let mut cast = CastWriter::new(cast_file, opts.format, &header)
            .map_err(io("writing header of", &cast_path))?;
        cast.flush().map_err(io("writing header of", &cast_path))?;
        let events_file = create_private(&events_path).map_err(io("creating", &events_path))?;
        Ok(Recorder {
            cast,
            cast_path,
            events: BufWriter::with_capacity(16 * 1024, events_file),
            events_path,
            output: StreamRedactor::new(Arc::clone(&redactor)),
            redactor,
            utf8: Utf8Stream::default(),
            input_utf8: Utf8Stream::default(),
            record_input: opts.record_input,
            queue: VecDeque::new(),
            pushed: 0,
            output_bytes: 0,
            markers: 0,
            last_flush: Duration::ZERO,
            last_time: Duration::ZERO,
            format: opts.format,
        })
    }

    /// The redactor this recorder uses (share it with the audit log and diff warnings).
    pub fn redactor(&self) -> Arc<Redactor> {
        Arc::clone(&self.redactor)
    }

    /// The cast file being written.
    pub fn cast_path(&self) -> &Path {
        &self.cast_path
    }

    fn cast_err(&self, doing: &'static str) -> impl FnOnce(io::Error) -> RecordError {
        let path = self.cast_path.clone();
        move |source| RecordError::Io {
            doing,
            path,
            source,
        }
    }

    /// Records PTY output read at `at` (time since the session started).
    pub fn output(&mut self, at: Duration, bytes: &[u8]) -> Result<(), RecordError> {
        self.output_bytes += bytes.len() as u64;
        let utf8 = &mut self.utf8;
        let len = self
            .output
            .push_with(at, |pending| utf8.decode_into(bytes, pending));
        self.pushed += len as u64;
        if self.output.pending_len() >= DRAIN_AT {
            self.drain(Release::Safe)?;
        }
        Ok(())
    }

    /// Records keyboard input sent to the agent (ignored unless `record_input`). Each chunk is
    /// redacted on its own: a secret typed key by key is not recognised (pastes are).
    pub fn input(&mut self, at: Duration, bytes: &[u8]) {
        if !self.record_input {
            return;
        }
        let text = self.input_utf8.decode(bytes);
        let text = self.redactor.redact(&text).into_owned();
        self.queue.push_back((self.pushed, at, Queued::Input(text)));
    }

    /// Records a PTY resize.
    pub fn resize(&mut self, at: Duration, cols: u16, rows: u16) {
        self.queue
            .push_back((self.pushed, at, Queued::Resize(TermSize { cols, rows })));
    }

    /// Adds an `m` marker (a gate decision, a context warning, a sensitive-file change).
    pub fn marker(&mut self, at: Duration, label: &str) {
        let label = self.redactor.redact(label).into_owned();
        self.markers += 1;
        self.queue
            .push_back((self.pushed, at, Queued::Marker(label)));
    }

    /// Appends a structured record to `events.jsonl` as `{"time": <seconds>, ...fields}` (a
    /// non-object value is wrapped as `{"time", "value"}`; a field named `time` is kept as
    /// `wall_time`), redacted. Records are expected to carry
    /// a `"kind"` (`"decision"`, `"context"`, `"diff"`, …) for the replay timeline.
    pub fn event(&mut self, at: Duration, value: Value) -> Result<(), RecordError> {
        let mut value = value;
        self.redactor.redact_json(&mut value);
        let mut line = serde_json::Map::new();
        line.insert("time".into(), serde_json::json!(round_micros(at)));
        match value {
            Value::Object(map) => {
                // A record's own `time` (the audit log's RFC 3339 stamp) is kept as `wall_time`.
                line.extend(map.into_iter().map(|(k, v)| {
                    if k == "time" {
                        ("wall_time".to_owned(), v)
                    } else {
                        (k, v)
                    }
                }))
            }
            other => {
                line.insert("value".into(), other);
            }
        }
        let path = self.events_path.clone();
        let err = |source| RecordError::Io {
            doing: "writing",
            path,
            source,
        };
        serde_json::to_writer(&mut self.events, &Value::Object(line))
            .map_err(io::Error::from)
            .and_then(|()| self.events.write_all(b"\n"))
            .map_err(err)
    }

    /// Writes held output whose safety is settled and pushes everything to the OS, if at least
    /// [`FLUSH_INTERVAL`] passed since the last flush. Call it on every app tick.
    pub fn flush_if_due(&mut self, now: Duration) -> Result<(), RecordError> {
        if now.saturating_sub(self.last_flush) < FLUSH_INTERVAL {
            return Ok(());
        }
        self.last_flush = now;
        self.drain(Release::Boundary)?;
        self.flush()
    }

    fn flush(&mut self) -> Result<(), RecordError> {
        self.cast.flush().map_err(self.cast_err("writing"))?;
        let path = self.events_path.clone();
        self.events.flush().map_err(|source| RecordError::Io {
            doing: "writing",
            path,
            source,
        })
    }

    /// Redacts and writes released output, interleaving queued events at their stream position.
    fn drain(&mut self, release: Release) -> Result<(), RecordError> {
        let pieces = self.output.drain(release);
        for piece in pieces {
            self.write_queued(piece.start)?;
            if !piece.text.is_empty() {
                self.last_time = self.last_time.max(piece.tag);
                self.cast
                    .event(piece.tag, 'o', &piece.text)
                    .map_err(self.cast_err("writing"))?;
            }
        }
        let released = self.output.released();
        self.write_queued(released)
    }

    /// Writes queued events that follow output at or before stream offset `upto`.
    fn write_queued(&mut self, upto: u64) -> Result<(), RecordError> {
        while let Some((offset, _, _)) = self.queue.front() {
            if *offset > upto {
                break;
            }
            let Some((_, at, event)) = self.queue.pop_front() else {
                break;
            };
            self.last_time = self.last_time.max(at);
            let written = match &event {
                Queued::Input(text) => self.cast.event(at, 'i', text),
                Queued::Marker(label) => self.cast.event(at, 'm', label),
                Queued::Resize(size) => {
                    self.cast
                        .event(at, 'r', &format!("{}x{}", size.cols, size.rows))
                }
            };
            written.map_err(self.cast_err("writing"))?;
        }
        Ok(())
    }

    /// Ends the recording: releases all held output (redacted), writes the v3 `x` exit event,
    /// flushes and fsyncs both files.
    pub fn finish(mut self, exit_status: Option<i32>) -> Result<RecordSummary, RecordError> {
        let tail = self.utf8.finish();
        let at = self.last_time;
        self.output.push(at, &tail);
        self.drain(Release::All)?;
        self.write_queued(u64::MAX)?;
        if let (CastFormat::V3, Some(status)) = (self.format, exit_status) {
            self.cast
                .event(self.last_time, 'x', &status.to_string())
                .map_err(self.cast_err("writing"))?;
        }
        self.flush()?;
        self.cast.sync().map_err(self.cast_err("syncing"))?;
        Ok(RecordSummary {
            cast_path: self.cast_path.clone(),
            events_path: self.events_path.clone(),
            duration: round_micros(self.last_time),
            output_bytes: self.output_bytes,
            markers: self.markers,
        })
    }
}

/// Seconds with microsecond precision, as an f64 for JSON.
fn round_micros(at: Duration) -> f64 {
    (at.as_micros() as f64) / 1e6
}

/// Starts recording a session (what `overwatch run` calls before spawning the agent): creates
/// `$XDG_STATE_HOME/overwatch/sessions/<new id>/` with `meta.json` and a [`Recorder`] in it.
/// `command` is stored redacted (it may carry `--api-key …`).
pub fn start_session(
    command: &[String],
    tier: Option<Tier>,
    opts: RecordOptions,
) -> Result<(SessionDir, Recorder), RecordError> {
    start_session_in(&sessions_root()?, command, tier, opts)
}

/// [`start_session`] under an explicit sessions root (tests, `--state-dir`).
pub fn start_session_in(
    root: &Path,
    command: &[String],
    tier: Option<Tier>,
    mut opts: RecordOptions,
) -> Result<(SessionDir, Recorder), RecordError> {
    let redactor = Redactor::new(&opts.env_secrets)?;
    let command: Vec<String> = command
        .iter()
        .map(|arg| redactor.redact(arg).into_owned())
        .collect();
    if opts.command.is_none() {
        opts.command = Some(command.join(" "));
    }
    let meta = SessionMeta::starting(&new_session_id(), command, tier, opts.format.as_str());
    let dir = SessionDir::create_in(root, &meta)?;
    let recorder = Recorder::create(&dir.path, opts)?;
    Ok((dir, recorder))
}

/// Ends a session started with [`start_session`]: [`Recorder::finish`] then [`complete_meta`].
pub fn finish_session(
    dir: &SessionDir,
    recorder: Recorder,
    exit_status: Option<i32>,
) -> Result<RecordSummary, RecordError> {
    let summary = recorder.finish(exit_status)?;
    complete_meta(dir, &summary, exit_status)?;
    Ok(summary)
}

/// Updates a session's `meta.json` after [`Recorder::finish`]: end time, duration, exit status.
pub fn complete_meta(
    dir: &SessionDir,
    summary: &RecordSummary,
    exit_status: Option<i32>,
) -> Result<(), SessionDirError> {
    let mut meta = dir.read_meta()?;
    meta.end = Some(jiff::Timestamp::now().to_string());
    meta.duration = Some(summary.duration);
    meta.exit_status = exit_status;
    dir.write_meta(&meta)
}
