//! Live diffs of the agent's workspace: a notify watcher, per-file baselines (git `HEAD` read with
//! gix, and the content at session start), `similar` diffs recomputed only for the files that
//! changed, sensitive-file warnings and mass-delete detection.
//!
//! Data flow: [`watcher::spawn`] runs on its own thread and sends [`DiffEvent`]s through a bounded
//! tokio channel; the app loop drains it into [`state::DiffState`] (pure: apply events, handle keys)
//! and `ui::diff_tab::render` draws it. Every event is `Serialize` + `Deserialize` with a stable
//! JSON shape (pinned by a snapshot test below) so the recorder can store it and a replay can feed
//! the events up to time t into a fresh [`state::DiffState`] to show the diff at t.
//!
//! Wiring (app loop): at `overwatch run` start, `let (watcher, rx) = diff::watcher::spawn(
//! DiffOptions::new(workspace))?` and keep `watcher` alive for the session; each loop turn drain
//! `rx.try_recv()` (or `select!` on `rx.recv()`), hand every event to the recorder (its JSON is the
//! recorded form), turn `SensitiveChange`/`MassDelete` into context warnings, then
//! `model.diff.apply(event)`; with the Diff tab focused, keys go to `DiffState::handle_key`; draw
//! with `ui::diff_tab::render(&model.diff, area, frame.buffer_mut())`.
//!
//! **Invariant:** a secret value never leaves this module: diff text of sensitive files is redacted
//! line by line before it is put in an event, credential-like files (keys, tfstate, kubeconfigs…)
//! never carry their content at all, and sensitive summaries name keys, never values.
//! **Invariant:** binary files are reported as "binary changed" and never dumped.

// wired into the app during integration
#![allow(dead_code)]

pub mod baseline;
pub mod compute;
pub mod filter;
pub mod redact;
pub mod sensitive;
pub mod state;
pub mod watcher;
mod worker;

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use compute::{DiffBody, FileDiff};
pub use sensitive::SensitiveGlob;

/// Options of the workspace watcher. `Default` gives the documented defaults.
#[derive(Debug, Clone)]
pub struct DiffOptions {
    /// The agent's workspace (watched recursively). Paths in events are relative to it.
    pub root: PathBuf,
    /// Files larger than this (bytes) are reported as "too large" and never read or diffed.
    /// Default 1 MiB.
    pub max_file_bytes: u64,
    /// Debounce window: events arriving within this time of the first one form one batch.
    /// Default 50 ms.
    pub debounce: Duration,
    /// Extra sensitive globs (config, rule packs), merged with [`sensitive::DEFAULT_GLOBS`].
    pub extra_sensitive: Vec<SensitiveGlob>,
    /// Rule packs' sensitive paths, asked when no glob matched (see [`PackMatcher`]).
    pub pack_rules: Option<PackMatcher>,
    /// More than this many deletions within `mass_delete_window` raise one
    /// [`DiffEvent::MassDelete`]. Default 50.
    pub mass_delete_threshold: usize,
    /// Window for mass-delete detection. Default 2 s.
    pub mass_delete_window: Duration,
    /// Upper bound (bytes) on session-start snapshots of files that differ from `HEAD` (or of all
    /// files outside a git repo). Files past the budget have no session-start baseline and say so.
    /// Default 32 MiB.
    pub snapshot_budget_bytes: u64,
    /// Capacity of the bounded event channel. Default 1024.
    pub channel_capacity: usize,
}

impl DiffOptions {
    /// Options for watching `root` from the config's `[diff]` table (zero values keep the
    /// defaults; `sensitive` globs are labelled "configured sensitive file").
    pub fn from_config(root: &std::path::Path, config: &crate::config::DiffConfig) -> Self {
        let mut options = DiffOptions::new(root);
        if config.max_file_bytes > 0 {
            options.max_file_bytes = config.max_file_bytes;
        }
        if config.mass_delete_count > 0 {
            options.mass_delete_threshold = config.mass_delete_count;
        }
        if config.mass_delete_window_ms > 0 {
            options.mass_delete_window = Duration::from_millis(config.mass_delete_window_ms);
        }
        options.extra_sensitive = config
            .sensitive
            .iter()
            .map(|glob| SensitiveGlob {
                glob: glob.clone(),
                label: "configured sensitive file".to_string(),
            })
            .collect();
        options
    }

    /// Defaults for watching `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        DiffOptions {
            root: root.into(),
            max_file_bytes: 1024 * 1024,
            debounce: Duration::from_millis(50),
            extra_sensitive: Vec::new(),
            pack_rules: None,
            mass_delete_threshold: 50,
            mass_delete_window: Duration::from_secs(2),
            snapshot_budget_bytes: 32 * 1024 * 1024,
            channel_capacity: 1024,
        }
    }
}

/// The rule packs' view of sensitive paths, for the watcher: a workspace-relative path → the label
/// to show (the matching rule's message), if a pack marks it. Built at integration from the rule
/// engine: `PackMatcher(Arc::new(move |p| engine.sensitive_path(p).map(|m| m.message)))`.
#[derive(Clone)]
pub struct PackMatcher(
    pub std::sync::Arc<dyn Fn(&std::path::Path) -> Option<String> + Send + Sync>,
);

impl std::fmt::Debug for PackMatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PackMatcher(..)")
    }
}

/// What happened to a file. JSON: `{"type":"added"}`, `{"type":"renamed","from":"a.rs"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ChangeKind {
    Added,
    Modified,
    Deleted,
    /// Moved from `from` (workspace-relative, `/`-separated).
    Renamed {
        from: String,
    },
}

impl ChangeKind {
    /// One-letter marker for lists: `A`, `M`, `D`, `R`.
    pub fn letter(&self) -> char {
        match self {
            ChangeKind::Added => 'A',
            ChangeKind::Modified => 'M',
            ChangeKind::Deleted => 'D',
            ChangeKind::Renamed { .. } => 'R',
        }
    }
}

/// One file changed on disk: its diffs against both baselines.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileChange {
    /// Workspace-relative path with `/` separators.
    pub path: String,
    pub change: ChangeKind,
    /// Diff against the content at git `HEAD`; `None` when the workspace is not a git repo.
    pub since_head: Option<FileDiff>,
    /// Diff against the content at session start (or when first seen, see [`baseline`]).
    pub since_session: FileDiff,
    /// The sensitive-file label when the path matched a sensitive glob.
    pub sensitive: Option<String>,
    /// Unix time of the change in milliseconds.
    pub at_unix_ms: u64,
}

/// A change to a sensitive file: a context warning. `summary` never contains a secret value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SensitiveWarning {
    /// Workspace-relative path with `/` separators.
    pub path: String,
    /// The label of the matching glob, e.g. "dotenv file" or "CI config".
    pub label: String,
    /// What changed, e.g. "`.env`: key `STRIPE_KEY` changed, value redacted" or "+3 −1 lines".
    pub summary: String,
    pub at_unix_ms: u64,
}

/// Everything the watcher reports. JSON: internally tagged by `kind` in snake_case, e.g.
/// `{"kind":"file_changed","path":"src/a.rs","change":{"type":"modified"},…}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DiffEvent {
    /// The initial scan finished: `files` are tracked; `baseline` says what "since HEAD" means
    /// (`"HEAD 1a2b3c4"`, or `"none (not a git repository)"`).
    Watching {
        files: usize,
        baseline: String,
        at_unix_ms: u64,
    },
    FileChanged(FileChange),
    SensitiveChange(SensitiveWarning),
    /// More than the threshold of files were deleted within `window_ms`.
    MassDelete {
        count: usize,
        window_ms: u64,
        at_unix_ms: u64,
    },
    /// The watcher hit a problem it carried on from (or, when fatal, stopped on).
    Error {
        message: String,
        at_unix_ms: u64,
    },
}

impl DiffEvent {
    /// When the event happened (Unix milliseconds): what a replay seeks by.
    pub fn at_unix_ms(&self) -> u64 {
        match self {
            DiffEvent::Watching { at_unix_ms, .. }
            | DiffEvent::MassDelete { at_unix_ms, .. }
            | DiffEvent::Error { at_unix_ms, .. } => *at_unix_ms,
            DiffEvent::FileChanged(change) => change.at_unix_ms,
            DiffEvent::SensitiveChange(warning) => warning.at_unix_ms,
        }
    }
}

/// Errors that stop the watcher from starting.
#[derive(Debug, thiserror::Error)]
pub enum DiffError {
    #[error("watching workspace {path}")]
    Watch {
        path: PathBuf,
        #[source]
        source: notify::Error,
    },
    #[error("reading workspace {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("starting the diff watcher thread")]
    Thread(#[source] std::io::Error),
}

/// Milliseconds since the Unix epoch (0 if the clock is before 1970).
pub fn now_unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// A workspace-relative path as a `/`-separated string (the form used in events).
pub fn rel_string(path: &std::path::Path) -> String {
    let parts: Vec<String> = path
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    parts.join("/")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::compute::{ContentPolicy, compute};

    #[test]
    fn config_overrides_defaults_and_zero_keeps_them() {
        let config = crate::config::DiffConfig {
            max_file_bytes: 4096,
            mass_delete_count: 0,
            mass_delete_window_ms: 500,
            sensitive: vec!["deploy/**".into()],
        };
        let options = DiffOptions::from_config(std::path::Path::new("/w"), &config);
        assert_eq!(options.max_file_bytes, 4096);
        assert_eq!(options.mass_delete_threshold, 50);
        assert_eq!(options.mass_delete_window, Duration::from_millis(500));
        assert_eq!(options.extra_sensitive[0].glob, "deploy/**");
    }

    /// The recorded JSON shape is an interface (recordings outlive versions): changing it must
    /// show up here.
    #[test]
    fn json_shape_is_stable_and_round_trips() {
        let events = vec![
            DiffEvent::Watching {
                files: 3,
                baseline: "HEAD 1a2b3c4".into(),
                at_unix_ms: 1,
            },
            DiffEvent::FileChanged(FileChange {
                path: "src/a.rs".into(),
                change: ChangeKind::Renamed {
                    from: "src/b.rs".into(),
                },
                since_head: Some(compute(
                    Some(b"x = 1\n"),
                    Some(b"x = 2\n"),
                    ContentPolicy::Show,
                )),
                since_session: compute(Some(b"x = 1\n"), Some(b"x = 1\n"), ContentPolicy::Show),
                sensitive: None,
                at_unix_ms: 2,
            }),
            DiffEvent::SensitiveChange(SensitiveWarning {
                path: ".env".into(),
                label: "dotenv file".into(),
                summary: "`.env`: key `A` changed, value redacted".into(),
                at_unix_ms: 3,
            }),
            DiffEvent::MassDelete {
                count: 51,
                window_ms: 2000,
                at_unix_ms: 4,
            },
            DiffEvent::Error {
                message: "listing /w/x: permission denied".into(),
                at_unix_ms: 5,
            },
        ];
        let lines: Vec<String> = events
            .iter()
            .map(|e| serde_json::to_string(e).expect("serialize"))
            .collect();
        insta::assert_snapshot!(lines.join("\n"));
        for (i, (line, event)) in lines.iter().zip(&events).enumerate() {
            let back: DiffEvent = serde_json::from_str(line).expect("deserialize");
            assert_eq!(&back, event);
            assert_eq!(back.at_unix_ms(), i as u64 + 1);
        }
    }
}
