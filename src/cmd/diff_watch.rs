//! `overwatch diff-watch DIR` (hidden): runs the workspace watcher alone and prints every
//! [`DiffEvent`](crate::diff::DiffEvent) as one JSON line on stdout — the same JSON the recorder
//! stores. Used by `tests/diff.rs` and `benches/diff.rs`, and handy to see what the Diff tab
//! would get. Runs until killed or until stdout is closed.

use std::io::Write as _;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;

use crate::cli::DiffWatchArgs;
use crate::diff::{DiffOptions, SensitiveGlob};

/// Entry point of `overwatch diff-watch`.
pub fn main(args: DiffWatchArgs) -> anyhow::Result<ExitCode> {
    let mut options = DiffOptions::new(&args.dir);
    if let Some(bytes) = args.max_file_bytes {
        options.max_file_bytes = bytes;
    }
    if let Some(ms) = args.debounce_ms {
        options.debounce = Duration::from_millis(ms);
    }
    if let Some(n) = args.mass_delete_threshold {
        options.mass_delete_threshold = n;
    }
    options.extra_sensitive = args
        .sensitive
        .iter()
        .map(|glob| SensitiveGlob {
            glob: glob.clone(),
            label: "configured sensitive file".to_string(),
        })
        .collect();
    let (watcher, mut events) = crate::diff::watcher::spawn(options)
        .with_context(|| format!("starting the diff watcher on {}", args.dir.display()))?;
    let stdout = std::io::stdout();
    while let Some(event) = events.blocking_recv() {
        let line = serde_json::to_string(&event).context("encoding a diff event as JSON")?;
        let mut out = stdout.lock();
        if writeln!(out, "{line}").and_then(|()| out.flush()).is_err() {
            break; // stdout closed: the reader is gone
        }
    }
    watcher.stop();
    Ok(ExitCode::SUCCESS)
}
