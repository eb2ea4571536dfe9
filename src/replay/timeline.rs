//! The decision timeline beside the replayed screen: the cast's `m` markers merged with the records
//! of `events.jsonl` (decisions, context facts and changes, file diffs) on the same clock.
//!
//! events.jsonl lines are objects with `time` (seconds) and `kind` (`decision`, `context`, `diff`,
//! …), as `record::Recorder::event` writes them; a damaged line is skipped and counted.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use serde_json::Value;

use super::index::Marker;

/// What a timeline entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    /// An `m` marker in the cast.
    Marker,
    /// A gate decision (events.jsonl `kind: "decision"`).
    Decision,
    /// A context fact or change.
    Context,
    /// A file change.
    Diff,
    /// Any other record.
    Other,
}

/// One line of the timeline.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// Cast time, seconds.
    pub time: f64,
    /// Kind.
    pub kind: EntryKind,
    /// One-line summary.
    pub label: String,
    /// For diffs: the file path.
    pub path: Option<String>,
    /// Worth jumping to: a decision where a rule fired or a human answered (the exec gate also
    /// logs every routine exec the rules allowed), or any non-decision entry.
    pub notable: bool,
}

/// Markers and structured events in time order.
#[derive(Debug, Clone, Default)]
pub struct Timeline {
    /// Entries sorted by time (markers before events at equal times).
    pub entries: Vec<Entry>,
    /// events.jsonl lines that could not be read.
    pub skipped: usize,
}

impl Timeline {
    /// Builds the timeline from the cast's markers and, if it exists, `events` (events.jsonl).
    pub fn load(markers: &[Marker], events: Option<&Path>) -> Timeline {
        let mut timeline = Timeline {
            entries: markers
                .iter()
                .map(|m| Entry {
                    time: m.time,
                    kind: EntryKind::Marker,
                    label: m.label.clone(),
                    path: None,
                    notable: true,
                })
                .collect(),
            skipped: 0,
        };
        if let Some(path) = events {
            timeline.read_jsonl(path, |v| v.get("time")?.as_f64());
        }
        timeline.sort();
        timeline
    }

    /// Adds the gate's `audit.jsonl` decisions (RFC 3339 `time`), placed on the cast clock by
    /// subtracting `start_unix` (seconds). Used when events.jsonl carries no decisions (a session
    /// recorded without the app's decision events, or events.jsonl lost).
    pub fn add_audit(&mut self, audit: &Path, start_unix: f64) {
        if self.entries.iter().any(|e| e.kind == EntryKind::Decision) {
            return;
        }
        self.read_jsonl(audit, |v| {
            let stamp: jiff::Timestamp = v.get("time")?.as_str()?.parse().ok()?;
            Some(stamp.as_millisecond() as f64 / 1000.0 - start_unix)
        });
        self.sort();
    }

    fn read_jsonl(&mut self, path: &Path, time_of: impl Fn(&Value) -> Option<f64>) {
        let Ok(file) = File::open(path) else {
            return;
        };
        for line in BufReader::new(file).lines() {
            let Ok(line) = line else {
                self.skipped += 1;
                break;
            };
            if line.trim().is_empty() {
                continue;
            }
            let parsed = serde_json::from_str::<Value>(&line).ok();
            match parsed.and_then(|v| entry(&v, time_of(&v)?)) {
                Some(e) => self.entries.push(e),
                None => self.skipped += 1,
            }
        }
    }

    fn sort(&mut self) {
        self.entries.sort_by(|a, b| a.time.total_cmp(&b.time));
    }

    /// Index of the last entry at or before `t`.
    pub fn current(&self, t: f64) -> Option<usize> {
        self.entries.partition_point(|e| e.time <= t).checked_sub(1)
    }

    /// Time of the first entry strictly after `t` matching `pred`.
    pub fn next_after(&self, t: f64, pred: impl Fn(&Entry) -> bool) -> Option<f64> {
        self.entries
            .iter()
            .find(|e| e.time > t + 1e-6 && pred(e))
            .map(|e| e.time)
    }

    /// Time of the last entry strictly before `t` matching `pred`.
    pub fn prev_before(&self, t: f64, pred: impl Fn(&Entry) -> bool) -> Option<f64> {
        self.entries
            .iter()
            .rev()
            .find(|e| e.time < t - 1e-6 && pred(e))
            .map(|e| e.time)
    }

    /// The files changed up to `t`, each with its latest summary (the Diff tab's state).
    pub fn diff_state(&self, t: f64) -> Vec<(String, String)> {
        let mut files: Vec<(String, String)> = Vec::new();
        for e in self.entries.iter().take_while(|e| e.time <= t) {
            if let (EntryKind::Diff, Some(path)) = (e.kind, &e.path) {
                match files.iter_mut().find(|(p, _)| p == path) {
                    Some(slot) => slot.1 = e.label.clone(),
                    None => files.push((path.clone(), e.label.clone())),
                }
            }
        }
        files
    }
}

fn text(v: &Value, keys: &[&str]) -> Option<String> {
    keys.iter().find_map(|k| v.get(*k)).map(|x| match x {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    })
}

/// A timeline entry from one events.jsonl / audit.jsonl record at cast time `time`.
///
/// Shapes understood: `kind` = `decision` (or a gate `AuditRecord`: `decision` + `decided_by`),
/// `context`/`context_change`, the diff watcher's `file_changed`/`sensitive_change`/`mass_delete`.
fn entry(v: &Value, time: f64) -> Option<Entry> {
    if !v.is_object() || !time.is_finite() {
        return None;
    }
    let kind_name = v.get("kind").and_then(Value::as_str).unwrap_or("");
    let is_audit = v.get("decided_by").is_some() && v.get("decision").is_some();
    let kind = match kind_name {
        "decision" => EntryKind::Decision,
        _ if is_audit => EntryKind::Decision,
        "context" | "context_change" | "context_warning" => EntryKind::Context,
        "diff" | "file_changed" | "sensitive_change" | "mass_delete" => EntryKind::Diff,
        _ => EntryKind::Other,
    };
    let path = text(v, &["path", "file"]);
    let label = match kind {
        EntryKind::Decision => {
            let decision = text(v, &["decision"]).unwrap_or_default();
            let verdict = text(v, &["verdict"]).filter(|x| *x != decision);
            let command = text(v, &["command", "cmd"]).unwrap_or_default();
            match verdict {
                Some(verdict) => format!("{verdict}→{decision} {command}"),
                None => format!("{decision} {command}"),
            }
            .trim()
            .to_owned()
        }
        EntryKind::Diff => {
            let summary = text(v, &["summary"])
                .or_else(|| {
                    v.get("change")
                        .and_then(|c| c.get("type"))
                        .and_then(Value::as_str)
                        .map(str::to_owned)
                })
                .or_else(|| v.get("count").map(|c| format!("{c} files deleted")))
                .unwrap_or_else(|| kind_name.replace('_', " "));
            match &path {
                Some(p) => format!("{p} {summary}"),
                None => summary,
            }
        }
        _ => text(v, &["summary", "message", "label", "fact"])
            .unwrap_or_else(|| kind_name.to_owned()),
    };
    let notable = kind != EntryKind::Decision
        || text(v, &["verdict"]).is_some_and(|x| x != "allow")
        || text(v, &["decided_by"]).is_some_and(|x| x != "rules")
        || text(v, &["decision"]).is_some_and(|x| x != "allow");
    Some(Entry {
        notable,
        time: time.max(0.0),
        kind,
        label: label.replace(['\n', '\r'], " "),
        path,
    })
}

#[cfg(test)]
mod notable_tests {
    use super::*;

    /// `n` (next decision) skips the exec gate's routine allows once anything notable exists.
    #[test]
    fn routine_allows_are_not_notable_held_and_human_decisions_are() {
        let routine = serde_json::json!({"kind": "decision", "verdict": "allow", "decision": "allow",
            "decided_by": "rules", "command": "ls"});
        let held = serde_json::json!({"kind": "decision", "verdict": "confirm", "decision": "deny",
            "decided_by": "human", "command": "git push -f"});
        let warned = serde_json::json!({"kind": "decision", "verdict": "warn", "decision": "allow",
            "decided_by": "rules", "command": "bash x.sh"});
        assert_eq!(entry(&routine, 1.0).map(|e| e.notable), Some(false));
        assert_eq!(entry(&held, 2.0).map(|e| e.notable), Some(true));
        assert_eq!(entry(&warned, 3.0).map(|e| e.notable), Some(true));
    }
}
