//! `overwatch sessions [--json]`: list recorded sessions, newest first, with id, agent, start,
//! duration, tier and the number of gate decisions.

use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;
use serde::Serialize;

use crate::cli::SessionsArgs;
use crate::record::{SessionDir, SessionMeta, list_in, sessions_root};
use crate::replay::cast::{CastEvents, open};

/// One row of the listing.
#[derive(Debug, Serialize)]
struct Row {
    id: String,
    agent: String,
    command: Vec<String>,
    start: String,
    /// Seconds; from meta.json, else from the cast's last event (a crashed session).
    duration: Option<f64>,
    /// False when the session has no end in meta.json (still running, or overwatch was killed).
    finished: bool,
    tier: Option<String>,
    decisions: usize,
    path: String,
}

/// Lists the sessions under `$XDG_STATE_HOME/overwatch/sessions`.
pub fn main(args: SessionsArgs) -> anyhow::Result<ExitCode> {
    let root = sessions_root().context("finding the sessions directory")?;
    let rows = rows(&root)?;
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &rows)?;
        writeln!(out)?;
    } else if rows.is_empty() {
        writeln!(out, "no recorded sessions in {}", root.display())?;
    } else {
        writeln!(
            out,
            "{:<26} {:<10} {:<20} {:>9} {:<11} {:>9}",
            "ID", "AGENT", "START (UTC)", "DURATION", "TIER", "DECISIONS"
        )?;
        for r in &rows {
            let duration = match (r.duration, r.finished) {
                (Some(d), true) => format_duration(d),
                (Some(d), false) => format!("{}?", format_duration(d)),
                (None, _) => "?".to_owned(),
            };
            writeln!(
                out,
                "{:<26} {:<10} {:<20} {:>9} {:<11} {:>9}",
                r.id,
                r.agent,
                r.start.get(..19).unwrap_or(&r.start).replace('T', " "),
                duration,
                r.tier.as_deref().unwrap_or("-"),
                r.decisions
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn rows(root: &Path) -> anyhow::Result<Vec<Row>> {
    let dirs = list_in(root).with_context(|| format!("listing {}", root.display()))?;
    let mut rows = Vec::new();
    for dir in dirs {
        // A damaged meta.json must not hide the other sessions: show what the dir has.
        let meta = dir.read_meta().ok();
        rows.push(row(&dir, meta));
    }
    Ok(rows)
}

fn row(dir: &SessionDir, meta: Option<SessionMeta>) -> Row {
    let command = meta.as_ref().map(|m| m.command.clone()).unwrap_or_default();
    let agent = command
        .first()
        .map(|c| {
            Path::new(c)
                .file_name()
                .map_or(c.clone(), |f| f.to_string_lossy().into_owned())
        })
        .unwrap_or_else(|| "?".to_owned());
    let finished = meta.as_ref().is_some_and(|m| m.end.is_some());
    let duration = meta
        .as_ref()
        .and_then(|m| m.duration)
        .or_else(|| cast_duration(&dir.cast_path()));
    Row {
        id: dir.id.clone(),
        agent,
        command,
        start: meta.as_ref().map(|m| m.start.clone()).unwrap_or_default(),
        duration,
        finished,
        tier: meta.as_ref().and_then(|m| m.tier).map(|t| t.to_string()),
        decisions: count_decisions(dir),
        path: dir.path.display().to_string(),
    }
}

/// Time of the cast's last valid event (for sessions without a recorded end).
fn cast_duration(path: &Path) -> Option<f64> {
    let opened = open(path).ok()?;
    let mut reader = CastEvents::of_cast(opened.source, &opened.header, opened.start);
    let mut last = None;
    while let Some(e) = reader.next_event() {
        last = Some(e.time);
    }
    last
}

/// Gate decisions of a session: the lines of `audit.jsonl` (one per decision) when the gate wrote
/// one, else the decision records of `events.jsonl` (0 if neither exists).
fn count_decisions(dir: &SessionDir) -> usize {
    let lines = |path: &Path| -> Option<Vec<String>> {
        let file = File::open(path).ok()?;
        Some(BufReader::new(file).lines().map_while(Result::ok).collect())
    };
    if let Some(audit) = lines(&dir.audit_path()) {
        return audit.iter().filter(|l| !l.trim().is_empty()).count();
    }
    lines(&dir.events_path())
        .unwrap_or_default()
        .iter()
        .filter(|line| {
            serde_json::from_str::<serde_json::Value>(line).is_ok_and(|v| {
                v.get("kind").and_then(|k| k.as_str()) == Some("decision")
                    || (v.get("decided_by").is_some() && v.get("decision").is_some())
            })
        })
        .count()
}

/// `1h02m03s` / `2m05s` / `7.2s`.
fn format_duration(secs: f64) -> String {
    let whole = secs as u64;
    match whole {
        0..60 => format!("{secs:.1}s"),
        60..3600 => format!("{}m{:02}s", whole / 60, whole % 60),
        _ => format!(
            "{}h{:02}m{:02}s",
            whole / 3600,
            whole % 3600 / 60,
            whole % 60
        ),
    }
}
