//! asciicast writer: the header line and `[time, code, data]` event lines, v2 or v3.
//!
//! Format facts (shared/reference/recording.md C1, C2): v2 times are absolute seconds since the start
//! (we write microseconds, as asciinema 2.x does); v3 times are intervals since the previous event,
//! written with millisecond precision. v3 intervals are computed from *rounded absolute* times
//! (`round(t_i) - round(t_{i-1})`), so rounding never drifts (the effect of asciinema 3's error-
//! diffusion quantizer). Data is always a JSON string, escaped as serde_json would (`json.rs`).
//!
//! Invariant: event times never go backwards (a late caller's time is clamped to the last one).

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::time::Duration;

use serde_json::{Map, Value, json};

use super::json::JsonEscaper;

/// Which asciicast version to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum CastFormat {
    /// asciicast v2 (asciinema 2.x and 3.x, the web player): the default, playable everywhere.
    #[default]
    V2,
    /// asciicast v3 (asciinema ≥ 3.0): intervals, `x` exit event.
    V3,
}

impl CastFormat {
    /// `"v2"` / `"v3"`.
    pub fn as_str(self) -> &'static str {
        match self {
            CastFormat::V2 => "v2",
            CastFormat::V3 => "v3",
        }
    }
}

/// Header fields we write (everything else in the spec is optional and omitted).
#[derive(Debug, Clone)]
pub struct CastHeader {
    /// Terminal columns.
    pub cols: u16,
    /// Terminal rows.
    pub rows: u16,
    /// Unix time of the start, seconds.
    pub timestamp: i64,
    /// The recorded command line (already redacted).
    pub command: Option<String>,
    /// Title (already redacted).
    pub title: Option<String>,
    /// Idle-time limit stored for players, seconds.
    pub idle_time_limit: Option<f64>,
    /// Captured env (`SHELL`, `TERM`).
    pub env: Vec<(String, String)>,
}

/// Writes one cast file incrementally through a buffer; `flush` pushes it to the OS.
pub struct CastWriter {
    out: BufWriter<File>,
    format: CastFormat,
    /// Last written time (absolute).
    last: Duration,
    /// v3: last written absolute time rounded to milliseconds.
    last_ms: u128,
    /// The start of the event line being built, up to the data.
    line: Vec<u8>,
    /// Escapes the data (and keeps its buffer between events).
    json: JsonEscaper,
}

impl CastWriter {
    /// Writes the header line to `file` and returns the writer.
    pub fn new(file: File, format: CastFormat, header: &CastHeader) -> io::Result<CastWriter> {
        let mut out = BufWriter::with_capacity(64 * 1024, file);
        let mut h = Map::new();
        let mut env = Map::new();
        for (k, v) in &header.env {
            env.insert(k.clone(), Value::String(v.clone()));
        }
        match format {
            CastFormat::V2 => {
                h.insert("version".into(), json!(2));
                h.insert("width".into(), json!(header.cols));
                h.insert("height".into(), json!(header.rows));
            }
            CastFormat::V3 => {
                h.insert("version".into(), json!(3));
                let term_type = header
                    .env
                    .iter()
                    .find(|(k, _)| k == "TERM")
                    .map(|(_, v)| v.clone());
                let mut term = Map::new();
                term.insert("cols".into(), json!(header.cols));
                term.insert("rows".into(), json!(header.rows));
                if let Some(t) = term_type {
                    term.insert("type".into(), Value::String(t));
                }
                h.insert("term".into(), Value::Object(term));
                env.remove("TERM");
            }
        }
        h.insert("timestamp".into(), json!(header.timestamp));
        if let Some(limit) = header.idle_time_limit {
            h.insert("idle_time_limit".into(), json!(limit));
        }
        if let Some(c) = &header.command {
            h.insert("command".into(), json!(c));
        }
        if let Some(t) = &header.title {
            h.insert("title".into(), json!(t));
        }
        if !env.is_empty() {
            h.insert("env".into(), Value::Object(env));
        }
        serde_json::to_writer(&mut out, &Value::Object(h))?;
        out.write_all(b"\n")?;
        Ok(CastWriter {
            out,
            format,
            last: Duration::ZERO,
            last_ms: 0,
            line: Vec::with_capacity(64),
            json: JsonEscaper::default(),
        })
    }

    /// Appends `[time, code, data]`; `at` is the time since the recording started.
    pub fn event(&mut self, at: Duration, code: char, data: &str) -> io::Result<()> {
        let at = at.max(self.last);
        self.last = at;
        self.line.clear();
        self.line.push(b'[');
        match self.format {
            CastFormat::V2 => {
                write!(self.line, "{}.{:06}", at.as_secs(), at.subsec_micros())?;
            }
            CastFormat::V3 => {
                let ms = (at.as_micros() + 500) / 1000;
                let interval = ms.saturating_sub(self.last_ms);
                self.last_ms = ms;
                write!(self.line, "{}.{:03}", interval / 1000, interval % 1000)?;
            }
        }
        self.line.extend_from_slice(b", \"");
        self.line
            .extend_from_slice(code.encode_utf8(&mut [0; 4]).as_bytes());
        self.line.extend_from_slice(b"\", ");
        self.out.write_all(&self.line)?;
        self.out.write_all(self.json.escape(data))?;
        self.out.write_all(b"]\n")
    }

    /// Pushes buffered lines to the OS (survives a SIGKILL of overwatch, not a power loss).
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    /// Flushes and fsyncs (end of recording).
    pub fn sync(&mut self) -> io::Result<()> {
        self.out.flush()?;
        self.out.get_ref().sync_all()
    }
}
