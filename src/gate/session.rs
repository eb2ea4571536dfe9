//! Everything `overwatch run` needs to put an agent behind the gate, in one call: the gate
//! server, the PATH shim dir, the agent's hook injection, and the env/argv to spawn it with.
//!
//! **Invariant:** the agent is spawned only with [`AgentGate::argv`] and [`AgentGate::env`], so
//! its hooks and shims always point at this session's socket and token.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use tokio::sync::mpsc;

use super::Evaluator;
use super::install::{self, LaunchPlan};
use super::pending::GateEvent;
use super::server::{GateConfig, GateServer};
use super::shim;

/// A running gate for one agent session.
pub struct AgentGate {
    /// The server; `server.pending().resolve(id, answer)` is how the TUI answers.
    pub server: GateServer,
    /// Gate events for the app loop (held requests, withdrawals, decisions).
    pub events: mpsc::Receiver<GateEvent>,
    /// The argv to spawn the agent with (hook flags injected for Claude/Codex).
    pub argv: Vec<String>,
    /// Env vars to set for the agent: socket, token, shim dir + PATH, agent config overrides.
    pub env: Vec<(String, String)>,
    /// The private dir holding the PATH shims.
    pub shim_dir: PathBuf,
    /// The launch plan that was prepared (which hook was injected, files written).
    pub plan: LaunchPlan,
}

/// Starts the gate on `runtime` and prepares the agent's launch: shims for `guarded` programs
/// (the rule engine's `guarded_programs()`, or [`shim::DEFAULT_GUARDED_PROGRAMS`]) linked to
/// `exe`, and the hook for Claude Code / Codex / Gemini when `argv` starts one of them.
///
/// `agent_path` is the PATH the agent would have had; the shim dir is put in front of it.
///
/// The runtime need not be running yet: connections wait in the socket's backlog until it is.
pub fn start(
    runtime: &tokio::runtime::Handle,
    argv: &[String],
    exe: &Path,
    evaluator: Arc<dyn Evaluator>,
    guarded: &BTreeSet<String>,
    config: GateConfig,
    agent_path: &std::ffi::OsStr,
) -> anyhow::Result<AgentGate> {
    let (server, events) =
        GateServer::start(runtime, config, evaluator).context("starting the gate server")?;
    let runtime_dir = server.runtime_dir().to_path_buf();
    let shim_dir = runtime_dir.join("shims");
    // Rules may guard overwatch itself (its own config and packs); a shim named after the binary
    // would shadow it, and the exec gate sees those execs anyway.
    let own_name = exe
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("overwatch");
    let guarded: BTreeSet<String> = guarded
        .iter()
        .filter(|p| p.as_str() != own_name && p.as_str() != "overwatch")
        .cloned()
        .collect();
    shim::create_shim_dir(&shim_dir, exe, &guarded).context("creating the PATH shims")?;
    let plan = install::agent_launch_plan(argv, exe, &runtime_dir);
    plan.prepare()
        .context("writing the agent's hook configuration")?;
    let mut env = server.agent_env();
    env.extend(install::shim_env(&shim_dir, agent_path));
    env.extend(plan.env.iter().cloned());
    Ok(AgentGate {
        argv: plan.argv.clone(),
        server,
        events,
        env,
        shim_dir,
        plan,
    })
}

/// The default guarded set as owned strings (when no rule engine is loaded).
pub fn default_guarded() -> BTreeSet<String> {
    shim::DEFAULT_GUARDED_PROGRAMS
        .iter()
        .map(|p| p.to_string())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gate::{Assessment, GateRequest};
    use crate::rules::Decision;

    struct AllowAll;
    impl Evaluator for AllowAll {
        fn evaluate(&self, _: &GateRequest) -> Assessment {
            Assessment::plain(Decision::Allow, "test")
        }
    }

    #[test]
    fn a_claude_session_gets_hook_shims_and_env() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let tmp = tempfile::tempdir().unwrap();
        let mut config = GateConfig::new("s1", vec!["claude".into()]);
        config.runtime_base = Some(tmp.path().to_path_buf());
        config.audit_path = Some(tmp.path().join("audit.jsonl"));
        let exe = Path::new("/opt/overwatch");
        let argv = vec!["claude".to_string(), "-c".to_string()];
        let gate = start(
            runtime.handle(),
            &argv,
            exe,
            Arc::new(AllowAll),
            &default_guarded(),
            config,
        )
        .unwrap();
        assert_eq!(gate.argv[1], "--settings");
        assert_eq!(gate.argv.last().map(String::as_str), Some("-c"));
        let env: std::collections::BTreeMap<_, _> = gate.env.iter().cloned().collect();
        assert_eq!(
            env["OVERWATCH_SOCKET"],
            gate.server.socket_path().to_string_lossy()
        );
        assert_eq!(env["OVERWATCH_SESSION"].len(), 64);
        assert!(env["PATH"].starts_with(&*gate.shim_dir.to_string_lossy()));
        assert_eq!(
            std::fs::read_link(gate.shim_dir.join("kubectl")).unwrap(),
            exe
        );
        assert!(gate.shim_dir.starts_with(gate.server.runtime_dir()));
    }
}
