//! The gate client used by hook adapters and shims: a blocking Unix-socket request (no async
//! runtime, so a hook process starts and answers in about a millisecond), and the client-side
//! decision rule when there is no session or the gate is unreachable.
//!
//! **Invariant (fail closed):** when a session is announced (`OVERWATCH_SOCKET` set) but the gate
//! cannot be asked, only what the rules alone would allow passes; confirm and deny are refused.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;

use super::protocol::{WireDecision, WireRequest, WireResponse};
use super::server::{ENV_SOCKET, ENV_TOKEN};
use super::{Assessment, DecidedBy, Evaluator, GateRequest};
use crate::rules::Decision;

/// Longest response line accepted from the gate.
const MAX_RESPONSE_BYTES: u64 = 256 * 1024;

/// Where a session's gate listens and the token to present.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GateAddress {
    pub socket: PathBuf,
    pub token: String,
}

impl GateAddress {
    /// The session announced by `OVERWATCH_SOCKET` + `OVERWATCH_SESSION` in `env`; `None` when
    /// `OVERWATCH_SOCKET` is unset or empty (no session). A socket without a token still counts
    /// as a session (the gate will refuse, and the client fails closed).
    pub fn from_env(env: impl Fn(&str) -> Option<String>) -> Option<Self> {
        let socket = env(ENV_SOCKET).filter(|s| !s.is_empty())?;
        Some(GateAddress {
            socket: PathBuf::from(socket),
            token: env(ENV_TOKEN).unwrap_or_default(),
        })
    }
}

/// Why the gate could not be asked.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("connecting to the overwatch gate at {path}")]
    Connect {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("talking to the overwatch gate")]
    Io(#[from] std::io::Error),
    #[error("the overwatch gate sent a malformed answer")]
    Malformed(#[from] serde_json::Error),
}

/// Sends `req` and waits (without a timeout: a held request waits for the human) for the answer.
///
/// The write half stays open while waiting: the server treats EOF as "the asker went away" and
/// withdraws the held request.
pub fn ask(addr: &GateAddress, req: &GateRequest) -> Result<WireResponse, ClientError> {
    let mut stream = UnixStream::connect(&addr.socket).map_err(|source| ClientError::Connect {
        path: addr.socket.clone(),
        source,
    })?;
    let mut line = serde_json::to_vec(&WireRequest::new(&addr.token, req))?;
    line.push(b'\n');
    stream.write_all(&line)?;
    let mut reader = BufReader::new(stream.take(MAX_RESPONSE_BYTES));
    let mut answer = Vec::new();
    reader.read_until(b'\n', &mut answer)?;
    Ok(serde_json::from_slice(&answer)?)
}

/// What a client ends up doing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientVerdict {
    /// Run it. `by_human` when a human (or a remembered human approval) allowed it.
    Allow { reason: String, by_human: bool },
    /// No session to hold it in: let the agent's own prompt ask (hooks) — shims refuse instead.
    Ask { reason: String },
    /// Refuse it.
    Deny { reason: String },
}

/// Decides `req`: through the session's gate when `addr` is set, else (or when the gate is
/// unreachable) with `standalone` — an evaluator loaded on demand, whose load error is treated
/// as `Confirm` (fail closed).
pub fn decide(
    addr: Option<&GateAddress>,
    req: &GateRequest,
    standalone: impl FnOnce() -> anyhow::Result<Box<dyn Evaluator>>,
) -> ClientVerdict {
    let evaluate_alone =
        |standalone: Box<dyn FnOnce() -> anyhow::Result<Box<dyn Evaluator>>>| match standalone() {
            Ok(engine) => engine.evaluate(req),
            Err(err) => Assessment::plain(
                Decision::Confirm,
                format!("the rule packs could not be loaded ({err:#}); holding to be safe"),
            ),
        };
    let Some(addr) = addr else {
        let a = evaluate_alone(Box::new(standalone));
        return match a.decision {
            Decision::Allow | Decision::Warn => ClientVerdict::Allow {
                reason: a.reason,
                by_human: false,
            },
            Decision::Confirm => ClientVerdict::Ask { reason: a.reason },
            Decision::Deny => ClientVerdict::Deny { reason: a.reason },
        };
    };
    match ask(addr, req) {
        Ok(resp) => match resp.decision {
            WireDecision::Allow => ClientVerdict::Allow {
                reason: resp.reason,
                by_human: matches!(resp.decided_by, DecidedBy::Human | DecidedBy::SessionAllow),
            },
            WireDecision::Deny => ClientVerdict::Deny {
                reason: resp.reason,
            },
        },
        Err(err) => {
            let a = evaluate_alone(Box::new(standalone));
            match a.decision {
                Decision::Allow | Decision::Warn => ClientVerdict::Allow {
                    reason: a.reason,
                    by_human: false,
                },
                Decision::Confirm | Decision::Deny => ClientVerdict::Deny {
                    reason: format!(
                        "overwatch: the session's gate is unreachable ({err}: {}); refusing a \
                         command the rules hold ({}): {}",
                        std::error::Error::source(&err).map_or_else(String::new, |s| s.to_string()),
                        a.decision,
                        a.reason
                    ),
                },
            }
        }
    }
}
