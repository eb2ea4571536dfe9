//! The audit log: one JSONL record per gate decision, appended and flushed per record at
//! `$XDG_STATE_HOME/overwatch/sessions/<id>/audit.jsonl` (`~/.local/state/...` when unset).
//!
//! **Invariant:** no secret value is ever written: command text goes through [`redact_command`]
//! (URL passwords, secret-looking `NAME=value` assignments and `--password=`-style flags) and the
//! request's env is never recorded.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use super::protocol::strip_url_password;
use super::{DecidedBy, Layer};
use crate::context::Tier;
use crate::rules::Decision;

/// One decision as written to `audit.jsonl` and shown in the Activity tab.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// RFC 3339 UTC time of the decision.
    pub time: String,
    /// The session's public id (never the socket token).
    pub session: String,
    /// The supervised agent's command line (`claude --model …`), redacted.
    pub agent_command: String,
    /// Which client asked (`claude-code`, `codex`, the shim's program name…).
    pub agent: String,
    /// The human at the keyboard: `$USER`, else the uid's login name, else `uid:<n>`.
    pub user: String,
    pub layer: Layer,
    /// The command (or `write <path>`), redacted.
    pub command: String,
    pub cwd: PathBuf,
    pub target: Option<String>,
    pub target_kind: Option<String>,
    pub tier: Option<Tier>,
    /// Fired rules as `pack/id`.
    pub rules: Vec<String>,
    /// What the rules said.
    pub verdict: Decision,
    /// What happened: `allow` or `deny` (never `confirm`: a held request ends in one of these).
    pub decision: Decision,
    pub decided_by: DecidedBy,
    pub reason: String,
    /// How long the request waited for a human, in milliseconds (0 when not held).
    pub waited_ms: u64,
}

/// Why the audit log could not be opened or written.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("creating the audit directory {path}")]
    CreateDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("opening the audit log {path}")]
    Open {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("appending to the audit log {path}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// An append-only JSONL file, one record per line, flushed per record (a crash loses nothing
/// already decided).
pub struct AuditLog {
    path: PathBuf,
    file: Mutex<File>,
}

impl AuditLog {
    /// The default path for session `id`: `$XDG_STATE_HOME/overwatch/sessions/<id>/audit.jsonl`.
    pub fn default_path(session_id: &str) -> PathBuf {
        let state = std::env::var_os("XDG_STATE_HOME")
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
            .or_else(|| dirs::home_dir().map(|h| h.join(".local/state")))
            .unwrap_or_else(std::env::temp_dir);
        state
            .join("overwatch/sessions")
            .join(session_id)
            .join("audit.jsonl")
    }

    /// Opens (creating parents with mode 0700, the file with 0600) `path` for appending.
    pub fn open(path: &Path) -> Result<Self, AuditError> {
        use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
        if let Some(dir) = path.parent() {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(|source| AuditError::CreateDir {
                    path: dir.to_path_buf(),
                    source,
                })?;
        }
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(path)
            .map_err(|source| AuditError::Open {
                path: path.to_path_buf(),
                source,
            })?;
        Ok(AuditLog {
            path: path.to_path_buf(),
            file: Mutex::new(file),
        })
    }

    /// Where the log is written.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one record as a single line and flushes it.
    pub fn append(&self, record: &AuditRecord) -> Result<(), AuditError> {
        let mut line = serde_json::to_vec(record).map_err(|e| AuditError::Write {
            path: self.path.clone(),
            source: e.into(),
        })?;
        line.push(b'\n');
        let mut file = self.file.lock().unwrap_or_else(|e| e.into_inner());
        // One write_all of the whole line on an O_APPEND file: records never interleave.
        file.write_all(&line)
            .and_then(|()| file.flush())
            .map_err(|source| AuditError::Write {
                path: self.path.clone(),
                source,
            })
    }
}

/// The human at the keyboard: `$USER`, else the login name of the real uid, else `uid:<n>`.
pub fn human_user() -> String {
    if let Ok(user) = std::env::var("USER")
        && !user.is_empty()
    {
        return user;
    }
    let uid = nix::unistd::getuid();
    match nix::unistd::User::from_uid(uid) {
        Ok(Some(user)) => user.name,
        _ => format!("uid:{uid}"),
    }
}

/// Now as an RFC 3339 UTC timestamp with millisecond precision.
pub fn now_rfc3339() -> String {
    let now = jiff::Timestamp::now();
    format!("{:.3}", now)
}

/// Name fragments that mark an assignment's value as secret (`PGPASSWORD=`, `GITHUB_TOKEN=` …).
const SECRET_NAME_PARTS: &[&str] = &[
    "PASSWORD",
    "PASSWD",
    "SECRET",
    "TOKEN",
    "APIKEY",
    "API_KEY",
    "PRIVATE_KEY",
    "ACCESS_KEY",
    "CREDENTIAL",
    "AUTH",
];

/// Long flags whose value is a secret (`--password=x` or `--password x`).
const SECRET_FLAGS: &[&str] = &[
    "--password",
    "--passwd",
    "--token",
    "--secret",
    "--api-key",
    "--access-key",
    "--secret-key",
    "--client-secret",
];

/// Redacts secret values from a command line: URL passwords (`user:***@`), values of
/// secret-looking `NAME=value` words, and values of `--password`-style flags (`***`). Other text
/// is kept so the human and the log still see what ran.
pub fn redact_command(text: &str) -> String {
    let text = strip_url_password(text);
    let mut out = String::with_capacity(text.len());
    let mut redact_next = false;
    for piece in split_keep_whitespace(&text) {
        if piece.trim().is_empty() {
            out.push_str(piece);
            continue;
        }
        if redact_next {
            out.push_str("***");
            redact_next = false;
            continue;
        }
        if let Some((name, _value)) = piece.split_once('=') {
            let bare = name.trim_start_matches(['\'', '"']);
            let upper = bare.to_ascii_uppercase();
            let is_flag = SECRET_FLAGS.contains(&bare);
            let is_secret_var =
                !bare.starts_with('-') && SECRET_NAME_PARTS.iter().any(|part| upper.contains(part));
            if is_flag || is_secret_var {
                out.push_str(name);
                out.push_str("=***");
                continue;
            }
        } else if SECRET_FLAGS.contains(&piece) {
            redact_next = true;
        }
        out.push_str(piece);
    }
    out
}

/// Splits into alternating runs of whitespace and non-whitespace, keeping both.
fn split_keep_whitespace(text: &str) -> Vec<&str> {
    let mut pieces = Vec::new();
    let mut start = 0;
    let mut in_space = None;
    for (i, c) in text.char_indices() {
        let space = c.is_whitespace();
        if in_space.is_some_and(|s| s != space) {
            pieces.push(&text[start..i]);
            start = i;
        }
        in_space = Some(space);
    }
    if start < text.len() {
        pieces.push(&text[start..]);
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_hides_secret_values_and_keeps_the_command() {
        let cases = [
            (
                "PGPASSWORD=hunter2 psql -h db.prod -c 'DROP TABLE orders'",
                "PGPASSWORD=*** psql -h db.prod -c 'DROP TABLE orders'",
            ),
            (
                "psql postgres://app:hunter2@db.prod/shop",
                "psql postgres://app:***@db.prod/shop",
            ),
            ("mysql --password=hunter2 -h x", "mysql --password=*** -h x"),
            (
                "vault login --token hunter2 now",
                "vault login --token *** now",
            ),
            (
                "GITHUB_TOKEN=ghp_abc gh pr list",
                "GITHUB_TOKEN=*** gh pr list",
            ),
            ("kubectl delete ns payments", "kubectl delete ns payments"),
            ("git commit -m 'a=b'", "git commit -m 'a=b'"),
        ];
        for (input, expected) in cases {
            assert_eq!(redact_command(input), expected, "{input}");
        }
    }

    #[test]
    fn records_are_appended_one_per_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s/audit.jsonl");
        let log = AuditLog::open(&path).unwrap();
        let record = AuditRecord {
            time: now_rfc3339(),
            session: "s1".into(),
            agent_command: "claude".into(),
            agent: "claude-code".into(),
            user: human_user(),
            layer: Layer::Hook,
            command: "kubectl get pods".into(),
            cwd: "/w".into(),
            target: None,
            target_kind: None,
            tier: None,
            rules: vec![],
            verdict: Decision::Allow,
            decision: Decision::Allow,
            decided_by: DecidedBy::Rules,
            reason: "no rule matched".into(),
            waited_ms: 0,
        };
        log.append(&record).unwrap();
        log.append(&record).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<_> = text.lines().collect();
        assert_eq!(lines.len(), 2);
        let back: AuditRecord = serde_json::from_str(lines[1]).unwrap();
        assert_eq!(back, record);
        assert!(back.time.parse::<jiff::Timestamp>().is_ok());
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
