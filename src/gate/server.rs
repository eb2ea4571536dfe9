//! The gate server: a Unix socket in a private runtime dir where clients ask for decisions.
//!
//! A thread of its own accepts connections and answers what the rules decide alone, so an
//! answer never waits for the app's runtime (which also draws the TUI) or its blocking pool;
//! a request held for the human, or one whose line is slow to arrive, moves to the runtime.
//! Each connection carries one request line and gets one response line. `allow`/`warn` are answered at once, `deny` with its reason, `confirm` is held in
//! [`Pending`] until the TUI answers, the optional timeout passes (deny) or the client hangs up.
//!
//! **Invariants:** the runtime dir is 0700 and the socket 0600, and connections from another uid
//! are refused (SO_PEERCRED); a request with a wrong token is refused before evaluation; every
//! decision is appended to the audit log before the client hears it.

use std::io::{Read as _, Write as _};
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixStream;
use tokio::sync::mpsc;

use super::audit::{AuditLog, AuditRecord, human_user, now_rfc3339, redact_command};
use super::pending::{DEFAULT_ALLOW_ONCE_WINDOW, GateEvent, HeldView, Pending};
use super::protocol::{
    MAX_REQUEST_BYTES, WireDecision, WireRequest, WireResponse, new_token, tokens_equal,
};
use super::{Assessment, DecidedBy, Evaluator, GateRequest, HumanAnswer, shell_join};
use crate::rules::Decision;

/// Env var naming the gate socket in the agent's environment.
pub const ENV_SOCKET: &str = "OVERWATCH_SOCKET";
/// Env var carrying the session token in the agent's environment.
pub const ENV_TOKEN: &str = "OVERWATCH_SESSION";

/// How long a client may take to send its request line before the connection is dropped.
const READ_TIMEOUT: Duration = Duration::from_secs(5);

/// How long the accept thread waits for a new connection's request line before handing the
/// connection to the runtime: clients write it right after connecting, and a client that
/// stalls must not hold up the next one for longer than this.
const INLINE_WAIT: Duration = Duration::from_millis(20);

/// How long writing an answer may block the accept thread (answers are a few hundred bytes,
/// well within a socket buffer, so only a client that stopped reading can make it wait).
const WRITE_TIMEOUT: Duration = Duration::from_secs(1);

/// Turns command text into its loggable, displayable form (no secret values).
pub type Redactor = Arc<dyn Fn(&str) -> String + Send + Sync>;

/// How to run a gate server.
pub struct GateConfig {
    /// The session's public id (audit log directory, runtime dir name).
    pub session_id: String,
    /// The supervised agent's argv, for the audit log.
    pub agent_command: Vec<String>,
    /// Where to create the private runtime dir; `None` = `$XDG_RUNTIME_DIR/overwatch`, else the
    /// system temp dir.
    pub runtime_base: Option<PathBuf>,
    /// Deny a held request nobody answered within this long; `None` = wait for the human.
    pub confirm_timeout: Option<Duration>,
    /// See [`DEFAULT_ALLOW_ONCE_WINDOW`].
    pub allow_once_window: Duration,
    /// `None` = [`AuditLog::default_path`] for the session.
    pub audit_path: Option<PathBuf>,
    /// Redacts command text for the audit log and the modal; defaults to [`redact_command`]
    /// (plug in the recording's secrets redactor when available).
    pub redactor: Redactor,
}

impl GateConfig {
    /// Defaults for a session: no timeout, 30 s allow-once window, default audit path.
    pub fn new(session_id: impl Into<String>, agent_command: Vec<String>) -> Self {
        GateConfig {
            session_id: session_id.into(),
            agent_command,
            runtime_base: None,
            confirm_timeout: None,
            allow_once_window: DEFAULT_ALLOW_ONCE_WINDOW,
            audit_path: None,
            redactor: Arc::new(redact_command),
        }
    }
}

/// Why the gate could not start.
#[derive(Debug, thiserror::Error)]
pub enum GateError {
    #[error("creating the gate's runtime dir under {path}")]
    RuntimeDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("binding the gate socket {path}")]
    Bind {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("drawing a session token from the OS random source: {0}")]
    Token(getrandom::Error),
    #[error(transparent)]
    Audit(#[from] super::audit::AuditError),
}

/// A fresh public session id, the same kind the session's data dir is named with
/// ([`crate::record::session_dir::new_session_id`]), so an unrecorded session's audit dir and a
/// recorded one look alike.
pub fn new_session_id() -> String {
    crate::record::session_dir::new_session_id()
}

struct Shared {
    token: String,
    session_id: String,
    agent_command: String,
    user: String,
    evaluator: Arc<dyn Evaluator>,
    pending: Pending,
    audit: AuditLog,
    confirm_timeout: Option<Duration>,
    redactor: Redactor,
    uid: u32,
}

/// The gate as in-process code asks it: no socket, no token (it is overwatch itself), otherwise
/// exactly the path a socket client takes. Cheap to clone.
#[derive(Clone)]
pub struct InProcessGate {
    shared: Arc<Shared>,
    runtime: tokio::runtime::Handle,
}

impl InProcessGate {
    /// Decides `req` exactly as a socket client would be answered: same evaluation, remembered
    /// approvals, hold for the human and audit record. Blocks the calling thread (never call it
    /// from the runtime's own thread). `gone` is polled every 250 ms; when it returns true a held
    /// request is withdrawn and denied (e.g. the exec's notification is no longer valid).
    ///
    /// Evaluation, the audit record and an answer the rules give alone happen on the calling
    /// thread; only a request held for the human enters the runtime. Why: the exec gate asks
    /// once per exec, and a round trip through the runtime and its blocking pool cost two more
    /// thread wake-ups per exec than the evaluation itself.
    pub fn decide_blocking(
        &self,
        req: GateRequest,
        gone: impl Fn() -> bool + Send + 'static,
    ) -> WireResponse {
        let assessment = evaluate_or_deny(&*self.shared.evaluator, &req);
        if let Some(outcome) = settle(&self.shared, &req, &assessment) {
            return finish(&self.shared, &req, &assessment, outcome);
        }
        let shared = Arc::clone(&self.shared);
        self.runtime.block_on(async move {
            let hangup = async move {
                while !gone() {
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
            };
            let outcome = hold(&shared, &req, &assessment, hangup).await;
            finish(&shared, &req, &assessment, outcome)
        })
    }
}

/// A running gate. Dropping it stops accepting, and removes the runtime dir and socket.
pub struct GateServer {
    shared: Arc<Shared>,
    socket_path: PathBuf,
    /// Tells the accept thread to stop (it checks after each connection; `Drop` connects once
    /// to wake it).
    stop: Arc<AtomicBool>,
    dir: tempfile::TempDir,
}

impl GateServer {
    /// Creates the runtime dir and socket, and starts accepting on `runtime`. Returns the server
    /// and the receiver of [`GateEvent`]s for the app loop.
    pub fn start(
        runtime: &tokio::runtime::Handle,
        config: GateConfig,
        evaluator: Arc<dyn Evaluator>,
    ) -> Result<(Self, mpsc::Receiver<GateEvent>), GateError> {
        let base = match config.runtime_base.clone() {
            Some(base) => base,
            None => default_runtime_base()?,
        };
        use std::os::unix::fs::PermissionsExt;
        // Created with mode 0700 (not chmod-ed afterwards: no window where others can enter).
        let dir = tempfile::Builder::new()
            .prefix(&format!("{}-", config.session_id))
            .permissions(std::fs::Permissions::from_mode(0o700))
            .tempdir_in(&base)
            .map_err(|source| GateError::RuntimeDir {
                path: base.clone(),
                source,
            })?;
        let socket_path = dir.path().join("gate.sock");
        let listener = bind_private(&socket_path)?;
        let token = new_token().map_err(GateError::Token)?;
        let audit_path = config
            .audit_path
            .clone()
            .unwrap_or_else(|| AuditLog::default_path(&config.session_id));
        let audit = AuditLog::open(&audit_path)?;
        let (pending, events) = Pending::new(config.allow_once_window);
        let shared = Arc::new(Shared {
            token,
            session_id: config.session_id,
            agent_command: (config.redactor)(&shell_join(&config.agent_command)),
            user: human_user(),
            evaluator,
            pending,
            audit,
            confirm_timeout: config.confirm_timeout,
            redactor: config.redactor,
            uid: nix::unistd::getuid().as_raw(),
        });
        let stop = Arc::new(AtomicBool::new(false));
        let (thread_shared, thread_stop, thread_runtime) =
            (Arc::clone(&shared), Arc::clone(&stop), runtime.clone());
        std::thread::Builder::new()
            .name("overwatch-gate".into())
            .spawn(move || accept_thread(listener, thread_shared, thread_runtime, thread_stop))
            .map_err(|source| GateError::Bind {
                path: socket_path.clone(),
                source,
            })?;
        let server = GateServer {
            shared,
            socket_path,
            stop,
            dir,
        };
        Ok((server, events))
    }

    /// A handle for in-process askers (the exec gate's worker threads).
    pub fn in_process(&self, runtime: tokio::runtime::Handle) -> InProcessGate {
        InProcessGate {
            shared: Arc::clone(&self.shared),
            runtime,
        }
    }

    /// The session's private runtime dir (0700): socket, shims, generated agent config.
    /// The session's private runtime dir (0700): socket, shims, generated agent config.
    pub fn runtime_dir(&self) -> &Path {
        self.dir.path()
    }

    /// The socket clients connect to.
    pub fn socket_path(&self) -> &Path {
        &self.socket_path
    }

    /// The session token clients must present (secret: only for the agent's env).
    pub fn token(&self) -> &str {
        &self.shared.token
    }

    /// The session's public id.
    pub fn session_id(&self) -> &str {
        &self.shared.session_id
    }

    /// The queue of held requests; the TUI answers through [`Pending::resolve`].
    pub fn pending(&self) -> &Pending {
        &self.shared.pending
    }

    /// The audit log's path.
    pub fn audit_path(&self) -> &Path {
        self.shared.audit.path()
    }

    /// The env vars to add to the agent's environment so its hooks and shims find the gate.
    pub fn agent_env(&self) -> Vec<(String, String)> {
        vec![
            (
                ENV_SOCKET.to_string(),
                self.socket_path.to_string_lossy().into_owned(),
            ),
            (ENV_TOKEN.to_string(), self.shared.token.clone()),
        ]
    }
}

impl Drop for GateServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the thread's accept(); it sees `stop` and returns, closing the listener.
        let _ = std::os::unix::net::UnixStream::connect(&self.socket_path);
    }
}

/// Longest runtime-base path used for the socket (the socket path `<base>/<session>-XXXXXX/gate.sock`
/// must stay under the 108-byte `sun_path` limit).
const MAX_BASE_LEN: usize = 60;

/// `$XDG_RUNTIME_DIR/overwatch`, else `~/.cache/overwatch/run`, else the system temp dir — each
/// created 0700. A private base comes first because some agents refuse config files under a
/// world-writable ancestor (Gemini CLI skips a system settings file below `/tmp`).
fn default_runtime_base() -> Result<PathBuf, GateError> {
    use std::os::unix::fs::DirBuilderExt;
    let candidates = [
        std::env::var_os("XDG_RUNTIME_DIR")
            .map(PathBuf::from)
            .filter(|p| p.is_absolute() && p.is_dir())
            .map(|p| p.join("overwatch")),
        dirs::cache_dir().map(|c| c.join("overwatch/run")),
    ];
    for base in candidates.into_iter().flatten() {
        if base.as_os_str().len() > MAX_BASE_LEN {
            continue;
        }
        if std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&base)
            .is_ok()
        {
            return Ok(base);
        }
    }
    Ok(std::env::temp_dir())
}

fn bind_private(path: &Path) -> Result<std::os::unix::net::UnixListener, GateError> {
    use std::os::unix::fs::PermissionsExt;
    let bind_err = |source| GateError::Bind {
        path: path.to_path_buf(),
        source,
    };
    let std_listener = std::os::unix::net::UnixListener::bind(path).map_err(bind_err)?;
    // The dir is already 0700; the socket is made 0600 as a second fence.
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(bind_err)?;
    Ok(std_listener)
}

/// Accepts connections until [`GateServer`] is dropped, answering each on this thread when its
/// request line arrives within [`INLINE_WAIT`] and the rules decide it alone (see the module
/// docs). A panic while serving one connection drops that connection (its client denies) and
/// the thread goes on.
fn accept_thread(
    listener: std::os::unix::net::UnixListener,
    shared: Arc<Shared>,
    runtime: tokio::runtime::Handle,
    stop: Arc<AtomicBool>,
) {
    for stream in listener.incoming() {
        if stop.load(Ordering::SeqCst) {
            return;
        }
        match stream {
            Ok(stream) => {
                let serve = AssertUnwindSafe(|| serve_on_thread(stream, &shared, &runtime));
                if panic::catch_unwind(serve).is_err() {
                    tracing::error!("the gate panicked while serving a connection; it was dropped");
                }
            }
            Err(err) => {
                tracing::warn!("accepting a gate connection: {err}");
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }
}

/// What reading a request line on the accept thread gave.
enum Line {
    /// The line (or everything before the client closed its end).
    Complete(Vec<u8>),
    /// Over [`MAX_REQUEST_BYTES`] without a newline.
    TooLong,
    /// Not all there within [`INLINE_WAIT`]; the bytes so far.
    Partial(Vec<u8>),
}

fn read_line_briefly(stream: &mut std::os::unix::net::UnixStream) -> std::io::Result<Line> {
    stream.set_read_timeout(Some(INLINE_WAIT))?;
    let mut line = Vec::with_capacity(1024);
    let mut chunk = [0u8; 4096];
    loop {
        match stream.read(&mut chunk) {
            Ok(0) => return Ok(Line::Complete(line)),
            Ok(n) => {
                if let Some(at) = chunk[..n].iter().position(|&b| b == b'\n') {
                    line.extend_from_slice(&chunk[..=at]);
                    return Ok(if line.len() > MAX_REQUEST_BYTES {
                        Line::TooLong
                    } else {
                        Line::Complete(line)
                    });
                }
                line.extend_from_slice(&chunk[..n]);
                if line.len() > MAX_REQUEST_BYTES {
                    return Ok(Line::TooLong);
                }
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return Ok(Line::Partial(line));
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// Serves one connection from the accept thread: the same checks, evaluation, audit record and
/// answer as [`serve_connection`], without the runtime unless the request must be held.
fn serve_on_thread(
    mut stream: std::os::unix::net::UnixStream,
    shared: &Arc<Shared>,
    runtime: &tokio::runtime::Handle,
) {
    use nix::sys::socket::{getsockopt, sockopt::PeerCredentials};
    match getsockopt(&stream, PeerCredentials) {
        Ok(cred) if cred.uid() == shared.uid => {}
        Ok(cred) => {
            tracing::warn!("refused a gate connection from uid {}", cred.uid());
            return;
        }
        Err(err) => {
            tracing::warn!("refused a gate connection whose peer cannot be identified: {err}");
            return;
        }
    }
    let response = match read_line_briefly(&mut stream) {
        Err(err) => WireResponse::refused(format!("refused: reading the request: {err}")),
        Ok(Line::TooLong) => WireResponse::refused(format!(
            "refused: request longer than {MAX_REQUEST_BYTES} bytes"
        )),
        Ok(Line::Partial(prefix)) => {
            to_runtime(stream, runtime, |s| {
                serve_connection(s, Arc::clone(shared), prefix)
            });
            return;
        }
        Ok(Line::Complete(line)) => match checked_request(shared, &line) {
            Err(refusal) => refusal,
            Ok(req) => {
                let assessment = evaluate_or_deny(&*shared.evaluator, &req);
                match settle(shared, &req, &assessment) {
                    Some(outcome) => finish(shared, &req, &assessment, outcome),
                    None => {
                        let shared = Arc::clone(shared);
                        to_runtime(stream, runtime, |s| async move {
                            let (read_half, mut write_half) = s.into_split();
                            let mut reader = BufReader::new(read_half);
                            let hangup = hung_up(&mut reader);
                            let response = conclude(&shared, req, assessment, hangup).await;
                            answer(&mut write_half, &response).await;
                        });
                        return;
                    }
                }
            }
        },
    };
    let _ = stream.set_write_timeout(Some(WRITE_TIMEOUT));
    if let Err(err) = stream.write_all(&response_line(&response)) {
        tracing::debug!("answering a gate client that left: {err}");
    }
}

/// Moves a connection to the runtime and runs `serve` on it there. If the runtime is gone the
/// connection is dropped (its client denies).
fn to_runtime<F, Fut>(
    stream: std::os::unix::net::UnixStream,
    runtime: &tokio::runtime::Handle,
    serve: F,
) where
    F: FnOnce(UnixStream) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let _enter = runtime.enter();
    match stream
        .set_nonblocking(true)
        .and_then(|()| UnixStream::from_std(stream))
    {
        Ok(stream) => {
            runtime.spawn(serve(stream));
        }
        Err(err) => tracing::warn!("handing a gate connection to the runtime: {err}"),
    }
}

/// The request in `line` after the token check, or the refusal to send.
fn checked_request(shared: &Shared, line: &[u8]) -> Result<GateRequest, WireResponse> {
    let wire: WireRequest = serde_json::from_slice(line)
        .map_err(|err| WireResponse::refused(format!("refused: malformed gate request: {err}")))?;
    if !tokens_equal(&wire.token, &shared.token) {
        tracing::warn!("refused a gate request with a wrong session token");
        return Err(WireResponse::refused(
            "refused: wrong or missing overwatch session token",
        ));
    }
    wire.into_request()
        .map_err(|err| WireResponse::refused(format!("refused: malformed gate request: {err}")))
}

fn response_line(response: &WireResponse) -> Vec<u8> {
    let mut line = serde_json::to_vec(response).unwrap_or_else(|_| b"{}".to_vec());
    line.push(b'\n');
    line
}

async fn answer<W: tokio::io::AsyncWrite + Unpin>(writer: &mut W, response: &WireResponse) {
    if let Err(err) = writer.write_all(&response_line(response)).await {
        tracing::debug!("answering a gate client that left: {err}");
    }
}

/// Serves a connection the accept thread handed over because its request line was slow to
/// arrive (`prefix` is what had arrived; the peer's uid was checked).
async fn serve_connection(stream: UnixStream, shared: Arc<Shared>, prefix: Vec<u8>) {
    let (read_half, mut write_half) = stream.into_split();
    let mut reader = BufReader::new(read_half);
    let response = match read_request(&mut reader, prefix).await {
        Err(reason) => WireResponse::refused(reason),
        Ok(line) => match checked_request(&shared, &line) {
            Err(refusal) => refusal,
            Ok(req) => decide(&shared, req, hung_up(&mut reader)).await,
        },
    };
    answer(&mut write_half, &response).await;
}

/// Completes the request line begun with `line`, within [`READ_TIMEOUT`] and
/// [`MAX_REQUEST_BYTES`].
async fn read_request<R: tokio::io::AsyncBufRead + Unpin>(
    reader: &mut R,
    mut line: Vec<u8>,
) -> Result<Vec<u8>, String> {
    let left = (MAX_REQUEST_BYTES + 1).saturating_sub(line.len());
    let mut limited = reader.take(left as u64);
    match tokio::time::timeout(READ_TIMEOUT, limited.read_until(b'\n', &mut line)).await {
        Err(_) => return Err("refused: no request line within 5 s".into()),
        Ok(Err(err)) => return Err(format!("refused: reading the request: {err}")),
        Ok(Ok(_)) => {}
    }
    if line.len() > MAX_REQUEST_BYTES {
        return Err(format!(
            "refused: request longer than {MAX_REQUEST_BYTES} bytes"
        ));
    }
    Ok(line)
}

/// Completes when the client closes its connection (it went away while its request was held).
async fn hung_up<R: tokio::io::AsyncRead + Unpin>(reader: &mut R) {
    let mut buf = [0u8; 64];
    loop {
        match reader.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(_) => continue,
        }
    }
}

/// Evaluates, holds if needed, audits, and builds the answer. `hangup` completes when the asker
/// went away (a held request is then withdrawn and denied).
async fn decide(
    shared: &Shared,
    req: GateRequest,
    hangup: impl std::future::Future<Output = ()>,
) -> WireResponse {
    // Evaluation reads files (context probes): off the app's (possibly current-thread) runtime.
    let evaluator = Arc::clone(&shared.evaluator);
    let asked = req.clone();
    let evaluate = move || evaluate_or_deny(&*evaluator, &asked);
    let assessment = match tokio::task::spawn_blocking(evaluate).await {
        Ok(assessment) => assessment,
        Err(err) => Assessment::plain(
            Decision::Deny,
            format!("denied: the rule engine failed on this command ({err})"),
        ),
    };
    conclude(shared, req, assessment, hangup).await
}

/// Settles or holds an evaluated request, then audits it and builds the answer.
async fn conclude(
    shared: &Shared,
    req: GateRequest,
    assessment: Assessment,
    hangup: impl std::future::Future<Output = ()>,
) -> WireResponse {
    let outcome = match settle(shared, &req, &assessment) {
        Some(outcome) => outcome,
        None => hold(shared, &req, &assessment, hangup).await,
    };
    finish(shared, &req, &assessment, outcome)
}

/// The rules' assessment of `req`; a panic in the rule engine denies it (fail closed).
fn evaluate_or_deny(evaluator: &dyn Evaluator, req: &GateRequest) -> Assessment {
    panic::catch_unwind(AssertUnwindSafe(|| evaluator.evaluate(req))).unwrap_or_else(|_| {
        Assessment::plain(
            Decision::Deny,
            "denied: the rule engine failed on this command (panic)".to_string(),
        )
    })
}

/// A final decision: (decision, who, reason, how long the request waited for a human).
type Outcome = (Decision, DecidedBy, String, Duration);

/// The outcome the rules and the session's memory give without asking the human, or `None`
/// when the request must be held (a `confirm` not answered before).
fn settle(shared: &Shared, req: &GateRequest, assessment: &Assessment) -> Option<Outcome> {
    Some(match assessment.decision {
        Decision::Allow | Decision::Warn => (
            Decision::Allow,
            DecidedBy::Rules,
            assessment.reason.clone(),
            Duration::ZERO,
        ),
        Decision::Deny => (
            Decision::Deny,
            DecidedBy::Rules,
            assessment.reason.clone(),
            Duration::ZERO,
        ),
        Decision::Confirm if shared.pending.recently_denied(req, assessment) => (
            Decision::Deny,
            DecidedBy::RecentDenial,
            format!(
                "denied: a human denied this same command moments ago ({})",
                assessment.reason
            ),
            Duration::ZERO,
        ),
        Decision::Confirm if shared.pending.remembered(req, assessment) => (
            Decision::Allow,
            DecidedBy::SessionAllow,
            "approved earlier in this session".to_string(),
            Duration::ZERO,
        ),
        Decision::Confirm => return None,
    })
}

/// Appends the audit record of a decided request, tells the app, and builds the answer.
fn finish(
    shared: &Shared,
    req: &GateRequest,
    assessment: &Assessment,
    (decision, decided_by, reason, waited): Outcome,
) -> WireResponse {
    let record = AuditRecord {
        time: now_rfc3339(),
        session: shared.session_id.clone(),
        agent_command: shared.agent_command.clone(),
        agent: req.agent.clone(),
        user: shared.user.clone(),
        layer: req.layer,
        command: (shared.redactor)(&req.subject.display()),
        cwd: req.cwd.clone(),
        target: assessment.target.as_ref().map(|t| t.name.clone()),
        target_kind: assessment.target.as_ref().map(|t| t.kind.clone()),
        tier: assessment.target.as_ref().map(|t| t.tier),
        rules: rule_ids(assessment),
        verdict: assessment.decision,
        decision,
        decided_by,
        reason: (shared.redactor)(&reason),
        waited_ms: u64::try_from(waited.as_millis()).unwrap_or(u64::MAX),
    };
    if let Err(err) = shared.audit.append(&record) {
        // The decision stands (refusing every command because the disk is full would stop the
        // session), but the human sees it in the Activity tab via the event below.
        tracing::error!("{err}: {}", err.source_chain());
    }
    shared.pending.emit(GateEvent::Decided(Box::new(record)));
    WireResponse {
        decision: if decision == Decision::Allow {
            WireDecision::Allow
        } else {
            WireDecision::Deny
        },
        reason,
        rules: rule_ids(assessment),
        decided_by,
    }
}

/// Holds a confirm-level request until the human answers, the timeout passes or the client
/// hangs up. Returns (decision, who, reason, waited).
async fn hold(
    shared: &Shared,
    req: &GateRequest,
    assessment: &Assessment,
    hangup: impl std::future::Future<Output = ()>,
) -> (Decision, DecidedBy, String, Duration) {
    let started = Instant::now();
    let display = req.subject.display();
    let view = HeldView {
        id: 0,
        request: req.clone(),
        assessment: assessment.clone(),
        command: (shared.redactor)(&display),
        span: redacted_span(&display, assessment.span.clone(), &*shared.redactor),
        session_id: shared.session_id.clone(),
        received: SystemTime::now(),
    };
    let Some((id, answer)) = shared.pending.hold(view, req) else {
        return (
            Decision::Deny,
            DecidedBy::Rules,
            "denied: too many requests already waiting for a human".into(),
            Duration::ZERO,
        );
    };
    let timeout = async {
        match shared.confirm_timeout {
            Some(t) => tokio::time::sleep(t).await,
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        answer = answer => {
            let waited = started.elapsed();
            match answer {
                Ok(HumanAnswer::AllowOnce) => (Decision::Allow, DecidedBy::Human,
                    format!("approved once by {} in overwatch", shared.user), waited),
                Ok(HumanAnswer::AllowSession) => (Decision::Allow, DecidedBy::Human,
                    format!("approved for this session by {} in overwatch", shared.user), waited),
                Ok(HumanAnswer::Deny) => (Decision::Deny, DecidedBy::Human,
                    format!("denied by {} in overwatch: {}", shared.user, assessment.reason), waited),
                Err(_) => (Decision::Deny, DecidedBy::Rules,
                    "denied: the gate stopped while the request was waiting".into(), waited),
            }
        }
        () = timeout => {
            shared.pending.withdraw(id, "no answer before the timeout");
            let secs = shared.confirm_timeout.map_or(0, |t| t.as_secs());
            (Decision::Deny, DecidedBy::Timeout,
                format!("denied: no human answer within {secs} s ({})", assessment.reason),
                started.elapsed())
        }
        () = hangup => {
            shared.pending.withdraw(id, "the asking process went away");
            (Decision::Deny, DecidedBy::Client,
                "denied: the asking process went away before a human answered".into(),
                started.elapsed())
        }
    }
}

fn rule_ids(assessment: &Assessment) -> Vec<String> {
    assessment
        .rules
        .iter()
        .map(|r| format!("{}/{}", r.pack, r.id))
        .collect()
}

/// Maps a byte span in `display` onto the redacted text: the redaction of the prefix before the
/// span and of the prefix through its end give the new bounds.
pub(crate) fn redacted_span(
    display: &str,
    span: Option<std::ops::Range<usize>>,
    redact: &(dyn Fn(&str) -> String + Send + Sync),
) -> Option<std::ops::Range<usize>> {
    let span = span?;
    if span.start > span.end
        || span.end > display.len()
        || !display.is_char_boundary(span.start)
        || !display.is_char_boundary(span.end)
    {
        return None;
    }
    let full = redact(display);
    let start = redact(&display[..span.start]).len().min(full.len());
    let end = redact(&display[..span.end]).len().clamp(start, full.len());
    (full.is_char_boundary(start) && full.is_char_boundary(end)).then_some(start..end)
}

/// `Display` of an error with its sources, for logs.
trait SourceChain {
    fn source_chain(&self) -> String;
}

impl<E: std::error::Error> SourceChain for E {
    fn source_chain(&self) -> String {
        let mut out = String::new();
        let mut source = self.source();
        while let Some(s) = source {
            out.push_str(&s.to_string());
            source = s.source();
            if source.is_some() {
                out.push_str(": ");
            }
        }
        out
    }
}
