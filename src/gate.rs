//! The gate: where hook adapters, PATH shims and the exec gate ask whether a command may run, and
//! where production-touching commands are held until a human answers.
//!
//! Owns the request/answer vocabulary ([`GateRequest`], [`Assessment`], [`HumanAnswer`]), the
//! [`Evaluator`] seam to the rule engine, the Unix-socket server and its sync client, the queue of
//! held requests, the agent hook adapters, the shims, the launch plans that inject them, and the
//! audit log.
//!
//! **Invariants:**
//! - A client can ask but never approve: the only way to answer a held request is
//!   [`pending::Pending::resolve`], an in-process call the TUI makes from its keyboard handler.
//!   Nothing read from the socket can reach it.
//! - Requests without the session token are refused (constant-time compare) and never evaluated.
//! - Whenever the gate cannot be asked (socket unreachable, malformed input, oversized input),
//!   anything the rules would confirm or deny is refused: the gate fails closed.
//! - The same command gets the same decision whichever layer asks; an approval is remembered for
//!   a short window by (argv, cwd) so a shim does not ask again right after the hook was approved.
//! - Secret values are never logged: the audit log redacts command text and never records env.
//!
//! **Wiring into `overwatch run`** (the app loop owns the keyboard):
//! 1. Before spawning the agent: load the engine, then
//!    `session::start(runtime.handle(), &argv, &current_exe, Arc::new(engine::RulesEvaluator::new(
//!    engine.clone(), home)), &engine.guarded_programs(), GateConfig::new(id, argv.clone()))`
//!    and spawn the agent with `gate.argv` and `gate.env` (the runtime may start later).
//! 2. Feed `gate.events` into the loop: `GateEvent::Held(v)` → `modal.push(*v)`;
//!    `Withdrawn { id, .. }` → `modal.withdraw(id)`; `Decided(r)` → Activity tab and a
//!    recording marker.
//! 3. While `modal.needs_attention()`: keys go to `ui::confirm::ConfirmModal::handle_key`
//!    first; `ModalOutcome::Answer { id, answer }` becomes an effect calling
//!    `gate.server.pending().resolve(id, answer)`; ring the bell / flash the status bar.
//! 4. Draw `ui::confirm::render(&modal, agent_pane, frame.buffer_mut())` on top of the overlays.

pub mod audit;
pub mod client;
pub mod engine;
#[cfg(target_os = "linux")]
pub mod exec;
pub mod hook;
pub mod install;
pub mod pending;
pub mod protocol;
pub mod server;
pub mod session;
pub mod shim;

#[cfg(test)]
mod e2e_agents;
#[cfg(test)]
mod e2e_tests;

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::context::Tier;
use crate::rules::Decision;

/// Which interception layer asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Layer {
    /// An agent hook (Claude Code PreToolUse, Codex PreToolUse, Gemini BeforeTool).
    Hook,
    /// A PATH shim (the binary invoked under a guarded program's name).
    Shim,
    /// The seccomp exec gate.
    Exec,
}

impl Layer {
    /// Lowercase name as used on the wire and in the audit log.
    pub fn as_str(self) -> &'static str {
        match self {
            Layer::Hook => "hook",
            Layer::Shim => "shim",
            Layer::Exec => "exec",
        }
    }
}

/// Whether a protected path is about to be read or written (Claude's Read vs Write/Edit tools).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PathAccess {
    Read,
    Write,
}

/// What is being asked about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Subject {
    /// A shell command string as the agent wrote it (hooks).
    Command(String),
    /// A program's real argv (shims, exec gate); `argv[0]` is the program name as invoked.
    Argv(Vec<String>),
    /// A file a tool is about to read or write.
    Path { access: PathAccess, path: PathBuf },
}

impl Subject {
    /// The text shown to the human and written (redacted) to the audit log: the command string,
    /// the argv joined with POSIX shell quoting, or `write <path>` / `read <path>`.
    pub fn display(&self) -> String {
        match self {
            Subject::Command(command) => command.clone(),
            Subject::Argv(argv) => shell_join(argv),
            Subject::Path { access, path } => {
                let verb = match access {
                    PathAccess::Read => "read",
                    PathAccess::Write => "write",
                };
                format!("{verb} {}", path.display())
            }
        }
    }
}

/// One question put to the gate, already authenticated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GateRequest {
    pub layer: Layer,
    /// The agent's name as the client knows it (`"claude-code"`, `"codex"`, `"kubectl"` for a shim).
    pub agent: String,
    pub subject: Subject,
    pub cwd: PathBuf,
    /// The asking process (the hook or shim), for the activity log.
    pub pid: u32,
    /// The subset of the asker's environment the rules need (see [`protocol::GATE_ENV_KEYS`]);
    /// URL passwords are stripped by the client before sending.
    pub env: BTreeMap<String, String>,
}

/// The resolved target a decision is about: a kube context, AWS profile, workspace, DB host…
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetInfo {
    /// Fact family (`"kube"`, `"aws"`, `"database"`, …).
    pub kind: String,
    /// The identifying name a human recognises; for a production target the human must type it.
    pub name: String,
    pub tier: Tier,
    /// Why the target has that tier ("pinned production by pack acme").
    pub reason: String,
}

/// A rule that fired, with the pack it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleHit {
    pub id: String,
    pub pack: String,
    pub action: Decision,
    pub message: String,
}

/// One simple command found in the subject (after unwrapping) and its own decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssessedCommand {
    pub argv: Vec<String>,
    pub decision: Decision,
}

/// The rule engine's verdict on a request, in the gate's own terms (see [`Evaluator`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assessment {
    /// The strictest decision over every simple command.
    pub decision: Decision,
    /// One line saying why (shown to the agent on deny and to the human in the modal).
    pub reason: String,
    /// The target of the strictest command, when one was resolved.
    pub target: Option<TargetInfo>,
    pub rules: Vec<RuleHit>,
    /// Byte range of the matched part in [`Subject::display`], for highlighting.
    pub span: Option<Range<usize>>,
    pub commands: Vec<AssessedCommand>,
    /// Explanation steps (unwrapping, target resolution), shown when the human presses `e`.
    pub explain: Vec<String>,
}

impl Assessment {
    /// An assessment with no rule behind it (used for refusals and tests).
    pub fn plain(decision: Decision, reason: impl Into<String>) -> Self {
        Assessment {
            decision,
            reason: reason.into(),
            target: None,
            rules: Vec::new(),
            span: None,
            commands: Vec::new(),
            explain: Vec::new(),
        }
    }

    /// The tier of the target, `Unknown` when none was resolved.
    pub fn tier(&self) -> Tier {
        self.target.as_ref().map_or(Tier::Unknown, |t| t.tier)
    }
}

/// The seam between the gate and the rule engine: the gate never looks at rule internals.
///
/// Implementations must be pure with respect to the request (no prompts, no network) and fast
/// (they run on the runtime's blocking pool for socket clients, and on the exec gate's serving
/// thread for every exec); a panic-free verdict is required for every input, with
/// parser limits answered as `Confirm` (fail closed).
pub trait Evaluator: Send + Sync {
    /// Decides what should happen to `req`.
    fn evaluate(&self, req: &GateRequest) -> Assessment;
}

/// The human's answer to a held request, from the confirmation modal's keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HumanAnswer {
    /// `y`: run it this once (remembered for a short window so another layer does not ask again).
    AllowOnce,
    /// `a`: allow this exact command (same argv and cwd) for the rest of the session.
    AllowSession,
    /// `n`: refuse it (the default).
    Deny,
}

/// Who made the final decision, for the audit log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DecidedBy {
    Rules,
    Human,
    Timeout,
    /// An earlier `a` (allow for session) or a recent `y` for the same argv and cwd.
    SessionAllow,
    /// The gate could not be asked and the client decided from the rules alone (fail closed).
    Client,
    /// A human denied the same argv and cwd moments ago (a shell retrying the next PATH entry,
    /// or another layer asking for the same exec): denied again without asking.
    RecentDenial,
}

impl fmt::Display for DecidedBy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DecidedBy::Rules => "rules",
            DecidedBy::Human => "human",
            DecidedBy::Timeout => "timeout",
            DecidedBy::SessionAllow => "session-allow",
            DecidedBy::Client => "client",
            DecidedBy::RecentDenial => "recent-denial",
        })
    }
}

/// Joins an argv with POSIX shell quoting so the result pastes back into a shell unchanged.
pub fn shell_join(argv: &[String]) -> String {
    argv.iter()
        .map(|arg| shell_quote(arg))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Quotes one word for a POSIX shell; words made only of safe characters are left bare.
pub fn shell_quote(word: &str) -> String {
    let safe = !word.is_empty()
        && word
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./=:,@%+".contains(&b));
    if safe {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_join_quotes_only_what_needs_it() {
        let argv: Vec<String> = ["psql", "postgres://h/db", "-c", "DROP TABLE orders", "it's"]
            .map(String::from)
            .to_vec();
        assert_eq!(
            shell_join(&argv),
            r"psql postgres://h/db -c 'DROP TABLE orders' 'it'\''s'"
        );
        assert_eq!(shell_quote(""), "''");
    }
}
