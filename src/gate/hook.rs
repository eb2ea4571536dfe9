//! Agent hook adapters: read the agent's hook JSON from stdin, decide through the gate (or
//! standalone outside a session), and answer in that agent's exact format.
//!
//! One submodule per agent owns its wire format ([`claude`], [`codex`], [`gemini`]); this file
//! owns the shared flow and limits.
//!
//! **Invariant (never fail open):** oversized input, malformed JSON, a missing field or a tool we
//! were not configured for is answered with the agent's *deny* form and a clear reason.

pub mod claude;
pub mod codex;
pub mod gemini;

use std::io::Read;
use std::path::{Path, PathBuf};

use super::client::{self, ClientVerdict, GateAddress};
use super::{Evaluator, GateRequest, Layer, PathAccess, Subject};

/// Largest hook payload read from stdin (8 MiB); anything longer is denied unread.
pub const MAX_HOOK_INPUT: usize = 8 * 1024 * 1024;

/// Which agent's hook protocol to speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum HookAgent {
    /// Claude Code PreToolUse (`hookSpecificOutput.permissionDecision`).
    #[value(name = "claude-code")]
    ClaudeCode,
    /// Codex CLI PreToolUse (`hooks.json`; deny only — Codex rejects allow/ask answers).
    Codex,
    /// Gemini CLI BeforeTool (`{"decision":"deny","reason":…}`).
    Gemini,
}

impl HookAgent {
    /// The agent's name as sent to the gate and written to the audit log.
    pub fn as_str(self) -> &'static str {
        match self {
            HookAgent::ClaudeCode => "claude-code",
            HookAgent::Codex => "codex",
            HookAgent::Gemini => "gemini",
        }
    }
}

/// What the agent's tool call asks for, from its hook payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolCall {
    pub tool: String,
    pub subject: Subject,
    /// The agent's working directory from the payload, if it said.
    pub cwd: Option<PathBuf>,
}

/// Why a hook payload was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum HookInputError {
    #[error("hook input is larger than {MAX_HOOK_INPUT} bytes")]
    TooLarge,
    #[error("hook input could not be read: {0}")]
    Unreadable(String),
    #[error("hook input is not valid JSON: {0}")]
    Malformed(String),
    #[error("hook input has no {0}")]
    Missing(&'static str),
    #[error("tool {0:?} is not one overwatch was configured to check")]
    UnknownTool(String),
}

/// The adapter's answer: what to print on stdout (possibly nothing) and the exit code (always 0:
/// every agent reads a deny from JSON on exit 0).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HookOutput {
    pub stdout: String,
    pub exit_code: u8,
}

/// Reads at most [`MAX_HOOK_INPUT`] bytes; more is an error.
pub fn read_capped(mut input: impl Read) -> Result<Vec<u8>, HookInputError> {
    let mut buf = Vec::new();
    (&mut input)
        .take(MAX_HOOK_INPUT as u64 + 1)
        .read_to_end(&mut buf)
        .map_err(|e| HookInputError::Unreadable(e.to_string()))?;
    if buf.len() > MAX_HOOK_INPUT {
        return Err(HookInputError::TooLarge);
    }
    Ok(buf)
}

/// The whole adapter: payload bytes in, agent-format answer out.
///
/// `env` reads the hook process's environment (for `OVERWATCH_SOCKET`, the forwarded subset);
/// `standalone` loads the rule engine when there is no session or the gate is unreachable.
pub fn run(
    agent: HookAgent,
    input: Result<Vec<u8>, HookInputError>,
    env: &[(String, String)],
    process_cwd: &Path,
    standalone: impl FnOnce() -> anyhow::Result<Box<dyn Evaluator>>,
) -> HookOutput {
    let call = input.and_then(|bytes| match agent {
        HookAgent::ClaudeCode => claude::parse(&bytes),
        HookAgent::Codex => codex::parse(&bytes),
        HookAgent::Gemini => gemini::parse(&bytes),
    });
    let verdict = match call {
        Err(err) => ClientVerdict::Deny {
            reason: format!("overwatch refused the tool call: {err}"),
        },
        Ok(call) => {
            let cwd = call
                .cwd
                .clone()
                .unwrap_or_else(|| process_cwd.to_path_buf());
            let subject = absolutize(call.subject, &cwd);
            let req = GateRequest {
                layer: Layer::Hook,
                agent: agent.as_str().to_string(),
                subject,
                cwd,
                pid: std::process::id(),
                env: super::protocol::env_subset(env.iter().cloned()),
            };
            let lookup = |k: &str| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
            let addr = GateAddress::from_env(lookup);
            client::decide(addr.as_ref(), &req, standalone)
        }
    };
    let stdout = match agent {
        HookAgent::ClaudeCode => claude::render(&verdict),
        HookAgent::Codex => codex::render(&verdict),
        HookAgent::Gemini => gemini::render(&verdict),
    };
    HookOutput {
        stdout,
        exit_code: 0,
    }
}

/// Relative tool paths are resolved against the agent's cwd so rules see the real file.
fn absolutize(subject: Subject, cwd: &Path) -> Subject {
    match subject {
        Subject::Path { access, path } if path.is_relative() => Subject::Path {
            access,
            path: cwd.join(path),
        },
        other => other,
    }
}

/// Helpers the per-agent parsers share.
pub(crate) mod fields {
    use super::*;
    use serde_json::Value;

    /// Parses the payload as a JSON object.
    pub fn object(bytes: &[u8]) -> Result<serde_json::Map<String, Value>, HookInputError> {
        match serde_json::from_slice::<Value>(bytes) {
            Ok(Value::Object(map)) => Ok(map),
            Ok(_) => Err(HookInputError::Malformed("not a JSON object".into())),
            Err(e) => Err(HookInputError::Malformed(e.to_string())),
        }
    }

    /// A required string field.
    pub fn string(
        map: &serde_json::Map<String, Value>,
        key: &'static str,
    ) -> Result<String, HookInputError> {
        map.get(key)
            .and_then(Value::as_str)
            .map(String::from)
            .ok_or(HookInputError::Missing(key))
    }

    /// The `tool_input` object.
    pub fn tool_input(
        map: &serde_json::Map<String, Value>,
    ) -> Result<&serde_json::Map<String, Value>, HookInputError> {
        map.get("tool_input")
            .and_then(Value::as_object)
            .ok_or(HookInputError::Missing("tool_input"))
    }

    /// The payload's `cwd`, if any.
    pub fn cwd(map: &serde_json::Map<String, Value>) -> Option<PathBuf> {
        map.get("cwd")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(PathBuf::from)
    }

    /// A path subject from the first present key among `keys`.
    pub fn path(
        input: &serde_json::Map<String, Value>,
        keys: &[&'static str],
        access: PathAccess,
    ) -> Result<Subject, HookInputError> {
        keys.iter()
            .find_map(|k| input.get(*k).and_then(Value::as_str))
            .filter(|s| !s.is_empty())
            .map(|p| Subject::Path {
                access,
                path: PathBuf::from(p),
            })
            .ok_or(HookInputError::Missing(keys[0]))
    }
}
