//! asciicast reader: v1 (one JSON document, `stdout: [[delay, data], …]`), v2 (NDJSON, absolute
//! times) and v3 (NDJSON, intervals, `#` comments, `x` exit events).
//!
//! Format facts: shared/reference/recording.md C1–C2. Bad input never panics: a malformed line is
//! skipped and reported with its line number and reason, a truncated last line (a recording cut by a
//! crash) ends loading with a located note, and everything valid before is kept.
//!
//! For seeking in large files the reader is positional: [`EventReader`] streams from any line start
//! given the absolute time reached there ([`ReadPos`]). v1 documents are converted to v2 lines in
//! memory first, so everything downstream reads one NDJSON shape.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Cursor, Read, Seek, SeekFrom};
use std::path::Path;

use serde_json::Value;

/// Errors that stop a cast from loading at all (anything later is a [`LineIssue`]).
#[derive(Debug, thiserror::Error)]
pub enum CastError {
    /// Reading the file failed.
    #[error("reading {path}: {source}")]
    Io {
        /// The cast path.
        path: String,
        /// The cause.
        source: io::Error,
    },
    /// The header (line 1, or the v1 document) is not an asciicast header.
    #[error("{path}:{line}: not an asciicast header: {reason}")]
    Header {
        /// The cast path.
        path: String,
        /// 1-based line.
        line: usize,
        /// Why.
        reason: String,
    },
}

/// The header fields replay uses (others are ignored, as the spec asks).
#[derive(Debug, Clone, PartialEq)]
pub struct Header {
    /// 1, 2 or 3.
    pub version: u8,
    /// Initial terminal columns.
    pub cols: u16,
    /// Initial terminal rows.
    pub rows: u16,
    /// Unix start time, seconds.
    pub timestamp: Option<i64>,
    /// Idle-time limit suggested by the recorder, seconds.
    pub idle_time_limit: Option<f64>,
    /// Recorded command.
    pub command: Option<String>,
    /// Title.
    pub title: Option<String>,
}

/// An event code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Code {
    /// `o`: output.
    Output,
    /// `i`: input.
    Input,
    /// `m`: marker (data = label).
    Marker,
    /// `r`: resize (data = `COLSxROWS`).
    Resize,
    /// `x`: exit status (v3).
    Exit,
    /// Any other code (ignored by replay, as the spec asks).
    Other(String),
}

/// One event with its absolute time.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Seconds since the recording started.
    pub time: f64,
    /// The code.
    pub code: Code,
    /// The data string.
    pub data: String,
}

impl Event {
    /// `(cols, rows)` of a resize event, if well formed.
    pub fn resize(&self) -> Option<(u16, u16)> {
        let (c, r) = self.data.split_once('x')?;
        Some((c.trim().parse().ok()?, r.trim().parse().ok()?))
    }
}

/// A line that could not be used, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineIssue {
    /// 1-based line number (in the v2 conversion for v1 documents: the stdout entry index + 2).
    pub line: usize,
    /// What was wrong.
    pub reason: String,
}

impl std::fmt::Display for LineIssue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.reason)
    }
}

/// Where an [`EventReader`] starts: a line start, its 1-based number, and the absolute time of the
/// event before it (v3 intervals are relative to it).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ReadPos {
    /// Byte offset of a line start.
    pub offset: u64,
    /// Its line number.
    pub line: usize,
    /// Absolute time of the previous event, seconds.
    pub time: f64,
}

/// A readable, seekable source of NDJSON cast lines.
pub trait CastSource: Read + Seek + Send {}
impl<T: Read + Seek + Send> CastSource for T {}

/// An opened cast: header, the source positioned anywhere, and where events start.
pub struct OpenCast {
    /// The header.
    pub header: Header,
    /// NDJSON lines (the file itself, or v1 converted to v2 in memory).
    pub source: Box<dyn CastSource>,
    /// Position of the first event line.
    pub start: ReadPos,
    /// Issues found while converting a v1 document (its events are validated up front).
    pub issues: Vec<LineIssue>,
}

/// Opens `path`, reads its header, and returns a positional source of its events.
pub fn open(path: &Path) -> Result<OpenCast, CastError> {
    let shown = path.display().to_string();
    let file = File::open(path).map_err(|source| CastError::Io {
        path: shown.clone(),
        source,
    })?;
    open_from(file, &shown)
}

/// Like [`open`] for any seekable reader positioned at its start; `name` is used in errors.
pub fn open_from<R: Read + Seek + Send + 'static>(
    reader: R,
    name: &str,
) -> Result<OpenCast, CastError> {
    let shown = name.to_owned();
    let io_err = |source| CastError::Io {
        path: shown.clone(),
        source,
    };
    let mut file = BufReader::new(reader);
    let mut first = Vec::new();
    file.read_until(b'\n', &mut first).map_err(io_err)?;
    let first_len = first.len() as u64;
    let first_text = String::from_utf8_lossy(&first);
    match serde_json::from_str::<Value>(first_text.trim()) {
        Ok(Value::Object(map)) if map.get("version").and_then(Value::as_u64) != Some(1) => {
            let header = parse_header(&map).map_err(|reason| CastError::Header {
                path: shown.clone(),
                line: 1,
                reason,
            })?;
            let mut inner = file.into_inner();
            inner.seek(SeekFrom::Start(first_len)).map_err(io_err)?;
            Ok(OpenCast {
                header,
                source: Box::new(inner),
                start: ReadPos {
                    offset: first_len,
                    line: 2,
                    time: 0.0,
                },
                issues: Vec::new(),
            })
        }
        _ => {
            let mut text = first;
            file.read_to_end(&mut text).map_err(io_err)?;
            let text = String::from_utf8_lossy(&text);
            let (header, lines, issues) = v1_to_v2(&text).map_err(|reason| CastError::Header {
                path: shown.clone(),
                line: 1,
                reason,
            })?;
            Ok(OpenCast {
                header,
                source: Box::new(Cursor::new(lines.into_bytes())),
                start: ReadPos::default(),
                issues,
            })
        }
    }
}

fn parse_header(map: &serde_json::Map<String, Value>) -> Result<Header, String> {
    let version = map
        .get("version")
        .and_then(Value::as_u64)
        .ok_or("no \"version\"")?;
    let size = |v: Option<&Value>, what: &str| -> Result<u16, String> {
        v.and_then(Value::as_u64)
            .and_then(|n| u16::try_from(n).ok())
            .filter(|n| *n > 0)
            .ok_or_else(|| format!("missing or invalid {what}"))
    };
    let (cols, rows) = match version {
        1 | 2 => (
            size(map.get("width"), "\"width\"")?,
            size(map.get("height"), "\"height\"")?,
        ),
        3 => {
            let term = map.get("term").ok_or("v3 header without \"term\"")?;
            (
                size(term.get("cols"), "\"term.cols\"")?,
                size(term.get("rows"), "\"term.rows\"")?,
            )
        }
        other => return Err(format!("unsupported version {other}")),
    };
    let string = |k: &str| map.get(k).and_then(Value::as_str).map(str::to_owned);
    Ok(Header {
        version: version as u8,
        cols,
        rows,
        timestamp: map
            .get("timestamp")
            .and_then(Value::as_f64)
            .map(|t| t as i64),
        idle_time_limit: map.get("idle_time_limit").and_then(Value::as_f64),
        command: string("command"),
        title: string("title"),
    })
}

/// Converts a v1 document (possibly truncated) to v2 event lines. v1 delays are relative; v2
/// times absolute. A truncated document keeps every complete `stdout` entry.
fn v1_to_v2(text: &str) -> Result<(Header, String, Vec<LineIssue>), String> {
    let mut issues = Vec::new();
    let (header_map, entries_from) = match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => (map, None),
        Ok(_) => return Err("not a JSON object".into()),
        Err(err) => {
            // Truncated or damaged: parse the header fields before "stdout", then the entries.
            let at = text.find("\"stdout\"").ok_or(format!("not JSON ({err})"))?;
            let mut head = text[..at].trim_end().trim_end_matches(',').to_owned();
            head.push('}');
            let map = match serde_json::from_str::<Value>(&head) {
                Ok(Value::Object(map)) => map,
                _ => return Err(format!("not JSON ({err})")),
            };
            (map, Some(at + "\"stdout\"".len()))
        }
    };
    if header_map.get("version").and_then(Value::as_u64) != Some(1) {
        return Err("first line is not a v2/v3 header and the file is not a v1 document".into());
    }
    let header = parse_header(&header_map)?;
    let mut entries: Vec<Value> = Vec::new();
    match entries_from {
        None => match header_map.get("stdout") {
            Some(Value::Array(items)) => entries.clone_from(items),
            _ => issues.push(LineIssue {
                line: 1,
                reason: "v1 document without a \"stdout\" array".into(),
            }),
        },
        Some(from) => salvage_entries(&text[from..], &mut entries, &mut issues),
    }
    let mut out = String::new();
    let mut time = 0.0f64;
    for (i, entry) in entries.iter().enumerate() {
        let pair = entry.as_array().filter(|a| a.len() >= 2);
        match pair.and_then(|a| Some((a[0].as_f64()?, a[1].as_str()?))) {
            Some((delay, data)) if delay.is_finite() && delay >= 0.0 => {
                time += delay;
                let line = serde_json::json!([time, "o", data]);
                out.push_str(&line.to_string());
                out.push('\n');
            }
            _ => issues.push(LineIssue {
                line: i + 2,
                reason: "v1 stdout entry is not [delay, data]".into(),
            }),
        }
    }
    Ok((header, out, issues))
}

/// Parses `: [ [d, "x"], [d, "y"], …` entry by entry, stopping at the first damaged one.
fn salvage_entries(rest: &str, entries: &mut Vec<Value>, issues: &mut Vec<LineIssue>) {
    let rest = rest.trim_start().trim_start_matches(':').trim_start();
    let Some(mut rest) = rest.strip_prefix('[') else {
        issues.push(LineIssue {
            line: 1,
            reason: "v1 \"stdout\" is not an array".into(),
        });
        return;
    };
    loop {
        rest = rest.trim_start().trim_start_matches(',').trim_start();
        if rest.is_empty() || rest.starts_with(']') {
            if rest.is_empty() {
                issues.push(LineIssue {
                    line: entries.len() + 2,
                    reason: "v1 document truncated after this entry".into(),
                });
            }
            return;
        }
        let mut stream = serde_json::Deserializer::from_str(rest).into_iter::<Value>();
        match stream.next() {
            Some(Ok(v)) => {
                entries.push(v);
                rest = &rest[stream.byte_offset()..];
            }
            _ => {
                issues.push(LineIssue {
                    line: entries.len() + 2,
                    reason: "v1 document truncated or damaged in this entry".into(),
                });
                return;
            }
        }
    }
}

/// Parses one event line of a v2/v3 cast. `Ok(None)` for blank and `#` comment lines.
pub fn parse_line(line: &str, version: u8, prev_time: f64) -> Result<Option<Event>, String> {
    let line = line.trim();
    if line.is_empty() || (version == 3 && line.starts_with('#')) {
        return Ok(None);
    }
    // Fast path: the common `[number, "code", "data"]` shape, parsed without building a Value.
    if let Ok((t, code, data)) = serde_json::from_str::<(f64, std::borrow::Cow<str>, String)>(line)
    {
        return event(t, &code, data, version, prev_time).map(Some);
    }
    let value: Value = serde_json::from_str(line).map_err(|e| format!("not JSON: {e}"))?;
    let Value::Array(items) = value else {
        return Err("event is not an array".into());
    };
    if items.len() < 3 {
        return Err(format!("event has {} fields, expected 3", items.len()));
    }
    let t = items[0].as_f64().ok_or("time is not a number")?;
    let code = items[1].as_str().ok_or("code is not a string")?;
    let data = match &items[2] {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    event(t, code, data, version, prev_time).map(Some)
}

/// Builds an event from parsed fields, checking the time.
fn event(t: f64, code: &str, data: String, version: u8, prev_time: f64) -> Result<Event, String> {
    if !t.is_finite() || t < 0.0 {
        return Err("time is negative or not finite".into());
    }
    let time = if version == 3 { prev_time + t } else { t };
    if !time.is_finite() {
        return Err("time overflows".into());
    }
    let code = match code {
        "o" => Code::Output,
        "i" => Code::Input,
        "m" => Code::Marker,
        "r" => Code::Resize,
        "x" => Code::Exit,
        other => Code::Other(other.to_owned()),
    };
    Ok(Event { time, code, data })
}

/// Streams events from a [`ReadPos`]; malformed lines become issues and are skipped.
pub struct EventReader<R> {
    reader: R,
    version: u8,
    pos: ReadPos,
    buf: Vec<u8>,
    /// Lines skipped or the truncation that ended reading.
    pub issues: Vec<LineIssue>,
}

/// The events of an opened cast, streamed from its source.
pub type CastEvents = EventReader<BufReader<Box<dyn CastSource>>>;

impl CastEvents {
    /// Streams the events of an [`OpenCast`] (its `source`, `header` and `start`, passed apart
    /// so the caller keeps the rest). A v1 document's events were converted to v2 lines when it
    /// was opened, so they are read as v2.
    pub fn of_cast(source: Box<dyn CastSource>, header: &Header, start: ReadPos) -> Self {
        EventReader::new(BufReader::new(source), header.version.max(2), start)
    }
}

impl<R: BufRead> EventReader<R> {
    /// A reader over `reader`, which must be positioned at `pos.offset`.
    pub fn new(reader: R, version: u8, pos: ReadPos) -> Self {
        EventReader {
            reader,
            version,
            pos,
            buf: Vec::with_capacity(4096),
            issues: Vec::new(),
        }
    }

    /// Moves to `pos` (a position from [`EventReader::pos`] on the same source).
    pub fn reposition(&mut self, pos: ReadPos) -> io::Result<()>
    where
        R: Seek,
    {
        self.reader.seek(SeekFrom::Start(pos.offset))?;
        self.pos = pos;
        Ok(())
    }

    /// Position of the next line (a valid resume point).
    pub fn pos(&self) -> ReadPos {
        self.pos
    }

    /// The next event, `None` at end of input (or at an I/O error, recorded as an issue).
    pub fn next_event(&mut self) -> Option<Event> {
        loop {
            self.buf.clear();
            let n = match self.reader.read_until(b'\n', &mut self.buf) {
                Ok(0) => return None,
                Ok(n) => n,
                Err(err) => {
                    self.issues.push(LineIssue {
                        line: self.pos.line,
                        reason: format!("read error: {err}"),
                    });
                    return None;
                }
            };
            let line_no = self.pos.line;
            let complete = self.buf.last() == Some(&b'\n');
            self.pos.offset += n as u64;
            self.pos.line += 1;
            let text = String::from_utf8_lossy(&self.buf);
            match parse_line(&text, self.version, self.pos.time) {
                Ok(Some(event)) => {
                    // Times never go backwards in a valid cast; clamp damaged ones.
                    let event = Event {
                        time: event.time.max(self.pos.time),
                        ..event
                    };
                    self.pos.time = event.time;
                    return Some(event);
                }
                Ok(None) => continue,
                Err(reason) => {
                    let reason = if complete {
                        reason
                    } else {
                        "truncated last line (recording cut short)".to_owned()
                    };
                    self.issues.push(LineIssue {
                        line: line_no,
                        reason,
                    });
                }
            }
        }
    }
}

/// A whole cast in memory (tests).
#[cfg(test)]
#[derive(Debug, Clone)]
pub struct Cast {
    /// The header.
    pub header: Header,
    /// All valid events in order.
    pub events: Vec<Event>,
    /// Lines skipped and where loading stopped.
    pub issues: Vec<LineIssue>,
}

#[cfg(test)]
impl Cast {
    /// Loads every valid event of `path`.
    pub fn load(path: &Path) -> Result<Cast, CastError> {
        let opened = open(path)?;
        let mut reader = CastEvents::of_cast(opened.source, &opened.header, opened.start);
        let mut events = Vec::new();
        while let Some(e) = reader.next_event() {
            events.push(e);
        }
        let mut issues = opened.issues;
        issues.extend(reader.issues);
        Ok(Cast {
            header: opened.header,
            events,
            issues,
        })
    }
}
