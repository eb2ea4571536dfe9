//! The exec gate over one session, for the app: prepare before the spawn (bind the socket, wrap
//! the argv), start after it (receive the listener, serve), and a state the status bar can show.
//!
//! ```text
//! let gate = lifecycle::prepare(&std::env::current_exe()?, &plan.argv)?;
//! let pty = AgentPty::spawn(SpawnSpec { argv: gate.argv().to_vec(), .. })?;
//! let state = gate.start(pty.pid(), ExecGateConfig::default(), decide, on_event);
//! status_bar.exec_gate = state.status_text();
//! ```
//!
//! **Invariant:** if the handoff fails, the shim gets no ack and exits without starting the
//! agent, so a state other than [`ExecGateState::On`] never means "the agent runs unwatched by
//! mistake": either the kernel refused ([`ExecGateState::Refused`]: the agent runs, hooks and
//! shims still apply) or nothing runs ([`ExecGateState::Failed`]).

use std::os::fd::OwnedFd;
use std::path::Path;
use std::time::Duration;

use super::super::protocol::WireDecision;
use super::super::server::InProcessGate;
use super::super::{GateRequest, Layer, Subject};
use super::filter::Refusal;
use super::handoff::{ExecGateListener, Handoff, HandoffError, wrap_argv};
use super::serve::{ExecEvent, ExecGateConfig, ServeHandle, serve};
use super::{ExecRequest, ExecVerdict};

/// How long [`PreparedExecGate::start`] waits for the shim to hand the listener over. The shim
/// connects within milliseconds of starting; the margin covers a loaded machine.
pub const HANDOFF_TIMEOUT: Duration = Duration::from_secs(10);

/// An exec gate ready for the agent's spawn.
#[derive(Debug)]
pub struct PreparedExecGate {
    listener: ExecGateListener,
    argv: Vec<String>,
}

/// Binds the private handoff socket and wraps `agent_argv` in the shim run by `exe` (overwatch's
/// own binary, `std::env::current_exe()`).
pub fn prepare(exe: &Path, agent_argv: &[String]) -> Result<PreparedExecGate, HandoffError> {
    let listener = ExecGateListener::bind()?;
    let argv = wrap_argv(exe, listener.socket_path(), agent_argv);
    Ok(PreparedExecGate { listener, argv })
}

impl PreparedExecGate {
    /// The argv to spawn in the PTY instead of the agent's.
    pub fn argv(&self) -> &[String] {
        &self.argv
    }

    /// After the spawn: receives the listener from the shim (the PTY child, `child_pid` when
    /// known) and serves it. Blocks up to [`HANDOFF_TIMEOUT`].
    pub fn start(
        self,
        child_pid: Option<u32>,
        config: ExecGateConfig,
        decide: impl Fn(&ExecRequest) -> ExecVerdict + Send + Sync + 'static,
        on_event: impl Fn(ExecEvent) + Send + Sync + 'static,
    ) -> ExecGateState {
        match self.listener.accept_fd(HANDOFF_TIMEOUT, child_pid) {
            Ok(Handoff::Listener(fd)) => start_serving(fd, config, decide, on_event),
            Ok(Handoff::Refused(refusal)) => ExecGateState::Refused(refusal),
            Err(err) => ExecGateState::Failed(err.to_string()),
        }
    }
}

fn start_serving(
    fd: OwnedFd,
    config: ExecGateConfig,
    decide: impl Fn(&ExecRequest) -> ExecVerdict + Send + Sync + 'static,
    on_event: impl Fn(ExecEvent) + Send + Sync + 'static,
) -> ExecGateState {
    match serve(fd, config, decide, on_event) {
        Ok(handle) => ExecGateState::On(handle),
        // The fd is dropped: the tree's execs fail with ENOSYS (fail closed).
        Err(err) => ExecGateState::Failed(format!("starting the exec-gate threads: {err}")),
    }
}

/// The app's `decide`: asks the session's gate in-process, exactly as a hook or shim would be
/// answered (same rules, remembered approvals, hold for the human, audit record with
/// `layer: exec`). Blocks while a `confirm` waits for the human; an exec the rules settle alone
/// is decided on the calling serving thread. The agent name is the identified program, else
/// argv\[0\]'s basename.
pub fn decide_in_process(gate: &InProcessGate, request: &ExecRequest) -> ExecVerdict {
    let agent = request
        .program
        .clone()
        .or_else(|| {
            request
                .argv
                .first()
                .map(|a| a.rsplit('/').next().unwrap_or(a).to_string())
        })
        .unwrap_or_else(|| "exec".into());
    let req = GateRequest {
        layer: Layer::Exec,
        agent,
        subject: Subject::Argv(request.argv_for_rules()),
        cwd: request.cwd.clone(),
        pid: request.pid,
        env: request.env.iter().cloned().collect(),
    };
    let answer = gate.decide_blocking(req, || false);
    match answer.decision {
        WireDecision::Allow => ExecVerdict::Allow,
        _ => ExecVerdict::Deny(answer.reason),
    }
}

/// Makes overwatch a child subreaper (`PR_SET_CHILD_SUBREAPER`), so a daemon that detaches from
/// the agent (double fork, `setsid`) is re-parented to overwatch instead of init and stays its
/// descendant. Under Yama `ptrace_scope=1` (Ubuntu's default) overwatch may read only its
/// descendants' memory, so without this a detached daemon's execs cannot be read and are denied.
///
/// Cost: overwatch then inherits such daemons' zombies. They are not reaped (a `waitpid(-1)`
/// would steal the agent's exit status from the PTY layer), so each detached daemon that exits
/// during the session leaves a zombie until overwatch exits. Call once, before the spawn.
pub fn adopt_detached_daemons() -> nix::Result<()> {
    nix::sys::prctl::set_child_subreaper(true)
}

/// Where the exec gate stands for this session.
#[derive(Debug)]
pub enum ExecGateState {
    /// Every exec in the agent's tree is evaluated.
    On(ServeHandle),
    /// The kernel refused the filter; the agent runs with hooks and PATH shims only.
    Refused(Refusal),
    /// The handoff failed; the shim did not start the agent (see the PTY for its message).
    Failed(String),
}

impl ExecGateState {
    /// One line for the status bar: `exec gate on`, `exec gate off: <why>`.
    pub fn status_text(&self) -> String {
        match self {
            ExecGateState::On(_) => "exec gate on".to_string(),
            ExecGateState::Refused(refusal) => format!("exec gate off: {refusal}"),
            ExecGateState::Failed(why) => format!("exec gate failed: {why}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_text_names_the_reason_when_off() {
        assert_eq!(
            ExecGateState::Refused(Refusal::NestedListener).status_text(),
            "exec gate off: another exec gate already watches this process tree (nested overwatch?)"
        );
        assert!(
            ExecGateState::Failed("timeout".into())
                .status_text()
                .ends_with("timeout")
        );
    }

    #[test]
    fn a_detached_daemon_is_adopted_instead_of_going_to_init() {
        // This changes the whole test process. tests/exec_gate.rs compiles this module too and
        // its trees must not be adopted (their end is seen when the last process is reaped), so
        // only the binary's own unit-test process runs it.
        if !module_path!().starts_with("overwatch::") {
            return;
        }
        adopt_detached_daemons().unwrap();
        // bash starts a background sleep and exits at once: the sleep is orphaned.
        let out = std::process::Command::new("bash")
            .args(["-c", "sleep 2 </dev/null >/dev/null 2>&1 & echo $!"])
            .output()
            .unwrap();
        let pid: u32 = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap();
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
        // Field 4 of /proc/PID/stat, after the parenthesised command name, is the parent pid.
        let after_name = &stat[stat.rfind(')').unwrap() + 2..];
        let ppid: u32 = after_name.split(' ').nth(1).unwrap().parse().unwrap();
        assert_eq!(ppid, std::process::id());
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid as i32),
            nix::sys::signal::Signal::SIGKILL,
        );
        let _ = nix::sys::wait::waitpid(nix::unistd::Pid::from_raw(pid as i32), None);
    }

    #[test]
    fn prepared_argv_runs_the_shim_with_the_agent_after_the_separator() {
        let prepared = prepare(Path::new("/opt/overwatch"), &["codex".into()]).unwrap();
        let argv = prepared.argv();
        assert_eq!(argv[0], "/opt/overwatch");
        assert_eq!(argv[1], "__exec-shim");
        assert!(
            Path::new(&argv[3]).exists(),
            "socket bound before the spawn"
        );
        assert_eq!(argv[4..], ["--", "codex"]);
    }
}
