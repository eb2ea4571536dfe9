//! Session data directories: `$XDG_STATE_HOME/overwatch/sessions/<id>/` (fallback
//! `~/.local/state/overwatch/sessions/<id>/`) holding `session.cast`, `events.jsonl`, `audit.jsonl`
//! (written by the gate) and `meta.json`.
//!
//! Invariants: session dirs are created mode 0700 and their files 0600 (recordings hold terminal
//! output); ids sort by creation time (`YYYYMMDDTHHMMSSZ-<8 hex random>`), so a plain name sort is
//! newest-last; `meta.json` is replaced atomically (write temp + rename).

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::context::Tier;

/// File names inside a session dir.
pub const CAST_FILE: &str = "session.cast";
/// Structured events on the cast's clock.
pub const EVENTS_FILE: &str = "events.jsonl";
/// The gate's audit log.
pub const AUDIT_FILE: &str = "audit.jsonl";
/// Session metadata.
pub const META_FILE: &str = "meta.json";

/// Errors creating, opening or reading session dirs.
#[derive(Debug, thiserror::Error)]
pub enum SessionDirError {
    /// Neither `$XDG_STATE_HOME` nor a home directory is known.
    #[error("no state directory: set XDG_STATE_HOME or HOME")]
    NoStateDir,
    /// The id has characters other than `[A-Za-z0-9._-]` (it must not escape the sessions dir).
    #[error("invalid session id {0:?}")]
    InvalidId(String),
    /// No such session.
    #[error("no session {id} in {root}")]
    NotFound {
        /// The id asked for.
        id: String,
        /// The sessions root searched.
        root: PathBuf,
    },
    /// An I/O error, with what was being done.
    #[error("{doing} {path}: {source}")]
    Io {
        /// What was being done ("creating session dir").
        doing: &'static str,
        /// The path.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
    /// meta.json is not valid.
    #[error("reading {path}: {source}")]
    Meta {
        /// The meta.json path.
        path: PathBuf,
        /// The parse error.
        source: serde_json::Error,
    },
}

fn io_err(doing: &'static str, path: &Path) -> impl FnOnce(io::Error) -> SessionDirError {
    let path = path.to_owned();
    move |source| SessionDirError::Io {
        doing,
        path,
        source,
    }
}

/// `meta.json`: what `overwatch sessions` lists. Unknown fields are kept out (the file is ours).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionMeta {
    /// The session id (the dir name).
    pub id: String,
    /// The agent command line (redacted).
    pub command: Vec<String>,
    /// Start, RFC 3339 UTC.
    pub start: String,
    /// Overall tier of the context at start, if known.
    #[serde(default)]
    pub tier: Option<Tier>,
    /// Working directory of the agent.
    #[serde(default)]
    pub cwd: Option<String>,
    /// `"v2"` or `"v3"`.
    pub cast_format: String,
    /// overwatch version that wrote it.
    pub overwatch_version: String,
    /// End, RFC 3339 UTC (absent while running or after a crash).
    #[serde(default)]
    pub end: Option<String>,
    /// Recorded duration, seconds (absent while running or after a crash).
    #[serde(default)]
    pub duration: Option<f64>,
    /// The agent's exit status.
    #[serde(default)]
    pub exit_status: Option<i32>,
}

impl SessionMeta {
    /// Metadata for a session starting now.
    pub fn starting(id: &str, command: Vec<String>, tier: Option<Tier>, cast: &str) -> Self {
        SessionMeta {
            id: id.to_owned(),
            command,
            start: jiff::Timestamp::now().to_string(),
            tier,
            cwd: std::env::current_dir()
                .ok()
                .map(|p| p.to_string_lossy().into_owned()),
            cast_format: cast.to_owned(),
            overwatch_version: env!("CARGO_PKG_VERSION").to_owned(),
            end: None,
            duration: None,
            exit_status: None,
        }
    }
}

/// A new session id: `YYYYMMDDTHHMMSSZ-xxxxxxxx` (UTC time, then 32 random bits), time-sortable.
pub fn new_session_id() -> String {
    let now = jiff::Timestamp::now();
    let stamp = now.strftime("%Y%m%dT%H%M%SZ").to_string();
    let mut random = [0u8; 4];
    // getrandom failing means no OS entropy source: fall back to the clock's nanoseconds, which
    // still separates sessions started in the same second by different processes in practice.
    if getrandom::fill(&mut random).is_err() {
        random = now.subsec_nanosecond().to_le_bytes();
    }
    format!("{stamp}-{}", hex::encode(random))
}

/// The sessions root: `$XDG_STATE_HOME/overwatch/sessions` or `~/.local/state/overwatch/sessions`.
pub fn sessions_root() -> Result<PathBuf, SessionDirError> {
    let state = std::env::var_os("XDG_STATE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| dirs::home_dir().map(|h| h.join(".local").join("state")))
        .ok_or(SessionDirError::NoStateDir)?;
    Ok(state.join("overwatch").join("sessions"))
}

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && !id.starts_with('.')
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// One session's data directory.
#[derive(Debug, Clone)]
pub struct SessionDir {
    /// The session id.
    pub id: String,
    /// The directory.
    pub path: PathBuf,
}

impl SessionDir {
    /// Creates a new session dir under the default root and writes its `meta.json`.
    pub fn create(meta: &SessionMeta) -> Result<SessionDir, SessionDirError> {
        SessionDir::create_in(&sessions_root()?, meta)
    }

    /// Creates `root/<meta.id>/` (mode 0700, parents as needed) and writes `meta.json`.
    pub fn create_in(root: &Path, meta: &SessionMeta) -> Result<SessionDir, SessionDirError> {
        if !valid_id(&meta.id) {
            return Err(SessionDirError::InvalidId(meta.id.clone()));
        }
        fs::create_dir_all(root).map_err(io_err("creating sessions dir", root))?;
        let path = root.join(&meta.id);
        let mut builder = fs::DirBuilder::new();
        {
            use std::os::unix::fs::DirBuilderExt;
            builder.mode(0o700);
        }
        builder
            .create(&path)
            .map_err(io_err("creating session dir", &path))?;
        let dir = SessionDir {
            id: meta.id.clone(),
            path,
        };
        dir.write_meta(meta)?;
        Ok(dir)
    }

    /// Opens an existing session by id under the default root.
    pub fn open(id: &str) -> Result<SessionDir, SessionDirError> {
        SessionDir::open_in(&sessions_root()?, id)
    }

    /// Opens `root/<id>/`.
    pub fn open_in(root: &Path, id: &str) -> Result<SessionDir, SessionDirError> {
        if !valid_id(id) {
            return Err(SessionDirError::InvalidId(id.to_owned()));
        }
        let path = root.join(id);
        if !path.is_dir() {
            return Err(SessionDirError::NotFound {
                id: id.to_owned(),
                root: root.to_owned(),
            });
        }
        Ok(SessionDir {
            id: id.to_owned(),
            path,
        })
    }

    /// `<dir>/session.cast`.
    pub fn cast_path(&self) -> PathBuf {
        self.path.join(CAST_FILE)
    }

    /// `<dir>/events.jsonl`.
    pub fn events_path(&self) -> PathBuf {
        self.path.join(EVENTS_FILE)
    }

    /// `<dir>/audit.jsonl` (written by the gate).
    pub fn audit_path(&self) -> PathBuf {
        self.path.join(AUDIT_FILE)
    }

    /// `<dir>/meta.json`.
    pub fn meta_path(&self) -> PathBuf {
        self.path.join(META_FILE)
    }

    /// Reads `meta.json`.
    pub fn read_meta(&self) -> Result<SessionMeta, SessionDirError> {
        let path = self.meta_path();
        let text = fs::read_to_string(&path).map_err(io_err("reading", &path))?;
        serde_json::from_str(&text).map_err(|source| SessionDirError::Meta { path, source })
    }

    /// Replaces `meta.json` atomically (temp file + rename), mode 0600.
    pub fn write_meta(&self, meta: &SessionMeta) -> Result<(), SessionDirError> {
        let path = self.meta_path();
        let tmp = self.path.join(".meta.json.tmp");
        let text = serde_json::to_vec_pretty(meta).map_err(|source| SessionDirError::Meta {
            path: path.clone(),
            source,
        })?;
        let mut file = create_private(&tmp).map_err(io_err("writing", &tmp))?;
        io::Write::write_all(&mut file, &text).map_err(io_err("writing", &tmp))?;
        fs::rename(&tmp, &path).map_err(io_err("replacing", &path))
    }
}

/// Creates (truncating) a file readable only by its owner.
pub fn create_private(path: &Path) -> io::Result<fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
}

/// Session dirs under `root`, newest first (ids sort by time). Entries that are not valid ids are
/// skipped; a missing root is an empty list.
pub fn list_in(root: &Path) -> Result<Vec<SessionDir>, SessionDirError> {
    let entries = match fs::read_dir(root) {
        Ok(e) => e,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(err) => return Err(io_err("listing", root)(err)),
    };
    let mut dirs: Vec<SessionDir> = entries
        .filter_map(Result::ok)
        .filter(|e| e.path().is_dir())
        .filter_map(|e| {
            let id = e.file_name().to_str()?.to_owned();
            valid_id(&id).then(|| SessionDir { id, path: e.path() })
        })
        .collect();
    dirs.sort_by(|a, b| b.id.cmp(&a.id));
    Ok(dirs)
}
