//! End-to-end tests of the gate with real components: the gate server in-process (so a scripted
//! "human" can answer through `Pending::resolve`, exactly as the TUI does), the real `overwatch`
//! binary as hook adapter and PATH shim, a real bare git remote and a real PostgreSQL cluster.
//!
//! The binary is the one cargo builds next to this test harness (`target/<profile>/overwatch`;
//! `cargo test` builds it because the package has integration tests).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::audit::AuditRecord;
use super::pending::HeldView;
use super::server::{GateConfig, GateServer};
use super::*;

/// The team pack these tests load on top of the built-in packs: the throw-away PostgreSQL on
/// 127.0.0.1 is pinned to production (the built-ins would call a loopback database development).
pub(super) const TEAM_PACK: &str = r#"
name = "e2e-team"
version = "1.0.0"
description = "pins for the gate's end-to-end tests"

[[pins]]
kind = "database"
value = "127.0.0.1"
tier = "production"
reason = "the shop database (pinned by the e2e team pack)"
"#;

/// The real rule engine: built-in packs plus [`TEAM_PACK`].
pub(super) fn real_rules() -> Arc<dyn Evaluator> {
    let source = crate::rules::pack::PackSource::inline("e2e-team.toml", TEAM_PACK);
    let engine =
        crate::rules::Engine::from_sources(vec![source], crate::rules::Layer::Team, true).unwrap();
    Arc::new(engine::RulesEvaluator::new(
        engine,
        dirs::home_dir().unwrap(),
    ))
}

pub(crate) fn overwatch_bin() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let bin = exe.parent().unwrap().parent().unwrap().join("overwatch");
    assert!(
        bin.exists(),
        "{} is missing: run `cargo test` (it builds the binary for the integration tests)",
        bin.display()
    );
    bin
}

pub(crate) fn wait_until<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

pub(super) struct Harness {
    _runtime: tokio::runtime::Runtime,
    pub(super) server: GateServer,
    pub(super) dir: tempfile::TempDir,
}

impl Harness {
    pub(super) fn new(evaluator: Arc<dyn Evaluator>) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().to_path_buf();
        Self::with_dir(evaluator, dir, &base)
    }

    /// A harness whose runtime dir is created under `base` (audit log in a fresh temp dir).
    pub(super) fn new_in(evaluator: Arc<dyn Evaluator>, base: &Path) -> Self {
        Self::with_dir(evaluator, tempfile::tempdir().unwrap(), base)
    }

    fn with_dir(evaluator: Arc<dyn Evaluator>, dir: tempfile::TempDir, base: &Path) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let mut config = GateConfig::new("e2e-session", vec!["claude".into()]);
        config.runtime_base = Some(base.to_path_buf());
        config.audit_path = Some(dir.path().join("audit.jsonl"));
        let (server, _events) = GateServer::start(runtime.handle(), config, evaluator).unwrap();
        Harness {
            _runtime: runtime,
            server,
            dir,
        }
    }

    pub(super) fn audit(&self) -> Vec<AuditRecord> {
        std::fs::read_to_string(self.server.audit_path())
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// The scripted human: waits for exactly one held request, checks it, answers.
    pub(super) fn answer(&self, answer: HumanAnswer, check: impl FnOnce(&HeldView)) {
        let held = wait_until("a held request", || {
            let held = self.server.pending().held();
            (!held.is_empty()).then_some(held)
        });
        assert_eq!(held.len(), 1);
        check(&held[0]);
        self.server.pending().resolve(held[0].id, answer).unwrap();
    }

    pub(super) fn session_env(&self, cmd: &mut Command) {
        for (k, v) in self.server.agent_env() {
            cmd.env(k, v);
        }
    }
}

/// Runs `overwatch hook claude-code` on `payload` with `env`; returns (stdout, exit code).
pub(super) fn spawn_hook(
    env: &[(String, String)],
    payload: &[u8],
) -> std::thread::JoinHandle<Output> {
    let mut cmd = Command::new(overwatch_bin());
    cmd.args(["hook", "claude-code"])
        .env_remove("OVERWATCH_SOCKET")
        .env_remove("OVERWATCH_SESSION")
        .envs(env.iter().cloned())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    child.stdin.take().unwrap().write_all(payload).unwrap();
    std::thread::spawn(move || child.wait_with_output().unwrap())
}

pub(super) fn claude_payload(tool: &str, input: serde_json::Value) -> Vec<u8> {
    serde_json::json!({
        "session_id": "7f3c9a2e", "transcript_path": "/tmp/t.jsonl", "cwd": "/home/dev/shop",
        "permission_mode": "default", "hook_event_name": "PreToolUse",
        "tool_name": tool, "tool_input": input, "tool_use_id": "toolu_1"
    })
    .to_string()
    .into_bytes()
}

pub(super) fn decision_of(out: &Output) -> (String, String) {
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    if stdout.trim().is_empty() {
        return ("no-opinion".into(), String::new());
    }
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let h = &v["hookSpecificOutput"];
    assert_eq!(h["hookEventName"], "PreToolUse");
    (
        h["permissionDecision"].as_str().unwrap().to_string(),
        h["permissionDecisionReason"].as_str().unwrap().to_string(),
    )
}

#[test]
fn claude_hook_through_the_running_gate() {
    let h = Harness::new(real_rules());
    let env = h.server.agent_env();

    // Allowed by the rules: no opinion, Claude's own permissions still apply.
    let out = spawn_hook(
        &env,
        &claude_payload("Bash", serde_json::json!({"command": "ls -la"})),
    );
    assert_eq!(decision_of(&out.join().unwrap()).0, "no-opinion");

    // Denied by the rules, at once.
    let out = spawn_hook(
        &env,
        &claude_payload("Bash", serde_json::json!({"command": "rm -rf /"})),
    );
    let (decision, reason) = decision_of(&out.join().unwrap());
    assert_eq!(decision, "deny");
    assert!(reason.contains("/"), "{reason}");

    // Held, then approved by the human: the recorded Bash payload.
    let out = spawn_hook(
        &env,
        include_bytes!("../../tests/fixtures/gate/claude-bash.json"),
    );
    h.answer(HumanAnswer::AllowOnce, |v| {
        assert_eq!(v.command, "git push --force origin main");
        let span = v.span.clone().unwrap();
        assert!(v.command[span].contains("push"), "{v:?}");
        let target = v.assessment.target.clone().unwrap();
        assert_eq!(
            (target.name.as_str(), target.tier),
            ("main", Tier::Production)
        );
        assert_eq!(v.request.agent, "claude-code");
        assert_eq!(v.request.cwd, Path::new("/home/dev/shop"));
    });
    assert_eq!(decision_of(&out.join().unwrap()).0, "allow");

    // Held, then denied: the recorded Write payload on a protected path.
    let out = spawn_hook(
        &env,
        include_bytes!("../../tests/fixtures/gate/claude-write.json"),
    );
    h.answer(HumanAnswer::Deny, |v| {
        assert_eq!(v.command, "write /home/dev/shop/.env.production");
    });
    let (decision, reason) = decision_of(&out.join().unwrap());
    assert_eq!(decision, "deny");
    assert!(reason.contains("denied by"), "{reason}");

    // Wrong token: refused without evaluation or holding.
    let wrong: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| {
            let v = if k == "OVERWATCH_SESSION" {
                "0".repeat(64)
            } else {
                v.clone()
            };
            (k.clone(), v)
        })
        .collect();
    let out = spawn_hook(
        &wrong,
        include_bytes!("../../tests/fixtures/gate/claude-bash.json"),
    );
    let (decision, reason) = decision_of(&out.join().unwrap());
    assert_eq!(decision, "deny");
    assert!(reason.contains("token"), "{reason}");
    assert!(h.server.pending().is_empty());

    // Malformed JSON: denied with a clear reason.
    let out = spawn_hook(&env, b"{\"tool_name\": \"Bash\", ");
    let (decision, reason) = decision_of(&out.join().unwrap());
    assert_eq!(decision, "deny");
    assert!(reason.contains("not valid JSON"), "{reason}");

    // Socket missing inside a session: fail closed.
    let gone = vec![
        (
            "OVERWATCH_SOCKET".to_string(),
            h.dir.path().join("nope.sock").display().to_string(),
        ),
        ("OVERWATCH_SESSION".to_string(), "x".repeat(64)),
    ];
    let out = spawn_hook(
        &gone,
        include_bytes!("../../tests/fixtures/gate/claude-bash.json"),
    );
    let (decision, reason) = decision_of(&out.join().unwrap());
    assert_eq!(decision, "deny");
    assert!(reason.contains("unreachable"), "{reason}");

    // The audit log has one record per decision the gate made (not the refusals).
    let audit = h.audit();
    let summary: Vec<(String, Decision, DecidedBy)> = audit
        .iter()
        .map(|r| (r.command.clone(), r.decision, r.decided_by))
        .collect();
    assert_eq!(
        summary,
        vec![
            ("ls -la".into(), Decision::Allow, DecidedBy::Rules),
            ("rm -rf /".into(), Decision::Deny, DecidedBy::Rules),
            (
                "git push --force origin main".into(),
                Decision::Allow,
                DecidedBy::Human
            ),
            (
                "write /home/dev/shop/.env.production".into(),
                Decision::Deny,
                DecidedBy::Human
            ),
        ]
    );
    assert!(
        audit
            .iter()
            .all(|r| r.session == "e2e-session" && r.layer == Layer::Hook)
    );
    assert_eq!(audit[2].tier, Some(Tier::Production));
    assert!(
        audit[2].rules.iter().any(|r| r.starts_with("git/")),
        "{:?}",
        audit[2].rules
    );
}

/// A work repo whose `main` was pushed to a bare `origin`, then rewritten so only a force push
/// can update the remote.
fn diverged_repo(root: &Path) -> (PathBuf, PathBuf) {
    let origin = root.join("origin.git");
    let work = root.join("work");
    let git = |dir: &Path, args: &[&str]| {
        let out = Command::new("git")
            .args(args)
            .current_dir(dir)
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.com")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.com")
            .output()
            .unwrap();
        assert!(out.status.success(), "git {args:?}: {out:?}");
    };
    git(root, &["init", "-q", "--bare", "-b", "main", "origin.git"]);
    git(root, &["init", "-q", "-b", "main", "work"]);
    std::fs::write(work.join("a.txt"), "one\n").unwrap();
    git(&work, &["add", "a.txt"]);
    git(&work, &["commit", "-qm", "one"]);
    git(
        &work,
        &["remote", "add", "origin", origin.to_str().unwrap()],
    );
    git(&work, &["push", "-q", "origin", "main"]);
    std::fs::write(work.join("a.txt"), "rewritten\n").unwrap();
    git(&work, &["commit", "-q", "--amend", "-am", "rewritten"]);
    (origin, work)
}

fn remote_main(origin: &Path) -> String {
    let out = Command::new("git")
        .args(["ls-remote", origin.to_str().unwrap(), "refs/heads/main"])
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap()
}

fn local_head(work: &Path) -> String {
    let out = Command::new("git")
        .args(["rev-parse", "HEAD"])
        .current_dir(work)
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// Runs `script` with `sh -c` in `cwd` with the shims first on PATH and the session's env.
pub(super) fn spawn_through_shims(
    h: &Harness,
    shims: &Path,
    cwd: &Path,
    script: &str,
    extra_env: &[(&str, &str)],
) -> std::thread::JoinHandle<Output> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut cmd = Command::new("/bin/sh");
    cmd.args(["-c", script]).current_dir(cwd);
    for (k, v) in install::shim_env(shims, &path) {
        cmd.env(k, v);
    }
    h.session_env(&mut cmd);
    for (k, v) in extra_env {
        cmd.env(k, v);
    }
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::spawn(move || child.wait_with_output().unwrap())
}

pub(super) fn make_shims(root: &Path, programs: &[&str]) -> PathBuf {
    let shims = root.join("shims");
    let programs = programs.iter().map(|p| p.to_string()).collect();
    shim::create_shim_dir(&shims, &overwatch_bin(), &programs).unwrap();
    shims
}

#[test]
fn force_push_through_the_git_shim_is_held_and_the_answer_enforced() {
    let h = Harness::new(real_rules());
    let tmp = tempfile::tempdir().unwrap();
    let (origin, work) = diverged_repo(tmp.path());
    let shims = make_shims(tmp.path(), &["git"]);
    let before = remote_main(&origin);
    assert!(!before.is_empty());

    let push = "git push --force origin main";
    let run = spawn_through_shims(&h, &shims, &work, push, &[]);
    h.answer(HumanAnswer::Deny, |v| {
        assert_eq!(v.request.layer, Layer::Shim);
        assert_eq!(v.command, "git push --force origin main");
    });
    let out = run.join().unwrap();
    assert_eq!(out.status.code(), Some(126), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("refused"));
    assert_eq!(
        remote_main(&origin),
        before,
        "a denied force push changed the remote"
    );

    // An allowed git command passes straight through the shim.
    let out = spawn_through_shims(&h, &shims, &work, "git status --short", &[])
        .join()
        .unwrap();
    assert!(out.status.success(), "{out:?}");

    // A human's deny covers identical retries for a moment (the agent's shell retrying along
    // PATH must not open a second modal); once that passes, the same command is asked again.
    std::thread::sleep(super::pending::RECENT_DENIAL_WINDOW + Duration::from_millis(200));
    let run = spawn_through_shims(&h, &shims, &work, push, &[]);
    h.answer(HumanAnswer::AllowOnce, |_| {});
    let out = run.join().unwrap();
    assert!(out.status.success(), "{out:?}");
    let after = remote_main(&origin);
    assert_ne!(after, before);
    assert!(after.starts_with(&local_head(&work)));

    let audit = h.audit();
    let pushes: Vec<_> = audit
        .iter()
        .filter(|r| r.command.contains("push"))
        .collect();
    assert_eq!(pushes.len(), 2);
    assert_eq!(
        (pushes[0].decision, pushes[0].decided_by),
        (Decision::Deny, DecidedBy::Human)
    );
    assert_eq!(
        (pushes[1].decision, pushes[1].decided_by),
        (Decision::Allow, DecidedBy::Human)
    );
    assert!(
        pushes
            .iter()
            .all(|r| r.agent == "git" && r.layer == Layer::Shim)
    );
}

#[test]
fn hook_approval_is_not_asked_again_by_the_shim() {
    let h = Harness::new(real_rules());
    let tmp = tempfile::tempdir().unwrap();
    let (origin, work) = diverged_repo(tmp.path());
    let shims = make_shims(tmp.path(), &["git"]);
    let before = remote_main(&origin);

    // The hook asks first (as Claude's PreToolUse does), the human approves once …
    let payload = claude_payload(
        "Bash",
        serde_json::json!({"command": "git push --force origin main"}),
    );
    let payload = String::from_utf8(payload)
        .unwrap()
        .replace("/home/dev/shop", work.to_str().unwrap());
    let hook = spawn_hook(&h.server.agent_env(), payload.as_bytes());
    h.answer(HumanAnswer::AllowOnce, |_| {});
    assert_eq!(decision_of(&hook.join().unwrap()).0, "allow");
    // … then the command runs and meets the shim: remembered, not held again.
    let out = spawn_through_shims(&h, &shims, &work, "git push --force origin main", &[])
        .join()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_ne!(remote_main(&origin), before);
    let last = h.audit().pop().unwrap();
    assert_eq!(
        (last.layer, last.decided_by),
        (Layer::Shim, DecidedBy::SessionAllow)
    );
}

/// A throw-away PostgreSQL cluster on a loopback port, run as `nobody` when we are root.
pub(super) struct Postgres {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
}

impl Postgres {
    fn bin_dir() -> PathBuf {
        let mut candidates: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path().join("bin"))
            .collect();
        candidates.sort();
        candidates.push(PathBuf::from("/usr/local/bin"));
        candidates
            .into_iter()
            .rev()
            .find(|d| d.join("initdb").exists() && d.join("pg_ctl").exists())
            .expect("PostgreSQL server binaries (initdb, pg_ctl) must be installed")
    }

    fn as_owner(&self, program: &str, args: &[&str]) -> Output {
        let exe = self.bin.join(program);
        let mut cmd = if nix::unistd::getuid().is_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "nobody", "--"]).arg(exe);
            c
        } else {
            Command::new(exe)
        };
        cmd.args(args)
            .current_dir(self.dir.path())
            .output()
            .unwrap()
    }

    pub(super) fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        if nix::unistd::getuid().is_root() {
            let nobody = nix::unistd::User::from_name("nobody").unwrap().unwrap();
            nix::unistd::chown(dir.path(), Some(nobody.uid), Some(nobody.gid)).unwrap();
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let pg = Postgres {
            bin: Self::bin_dir(),
            dir,
            port,
        };
        let data = pg.dir.path().join("data");
        let data = data.to_str().unwrap();
        let out = pg.as_owner(
            "initdb",
            &[
                "-D",
                data,
                "-U",
                "app",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
        );
        assert!(out.status.success(), "initdb: {out:?}");
        let opts = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            pg.dir.path().display()
        );
        let log = pg.dir.path().join("log");
        let out = pg.as_owner(
            "pg_ctl",
            &[
                "-D",
                data,
                "-o",
                &opts,
                "-l",
                log.to_str().unwrap(),
                "-w",
                "start",
            ],
        );
        assert!(out.status.success(), "pg_ctl start: {out:?}");
        pg
    }

    /// A URL with a password (trust auth ignores it) so the tests can check it is never logged.
    pub(super) fn url(&self) -> String {
        format!(
            "postgresql://app:hunter2-secret@127.0.0.1:{}/postgres",
            self.port
        )
    }

    pub(super) fn sql(&self, sql: &str) -> Output {
        Command::new("psql")
            .args([&self.url(), "-XAtqc", sql])
            .output()
            .unwrap()
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let data = self.dir.path().join("data");
        let _ = self.as_owner(
            "pg_ctl",
            &["-D", data.to_str().unwrap_or(""), "-m", "immediate", "stop"],
        );
    }
}

#[test]
fn drop_table_through_the_psql_shim_is_held_and_the_answer_enforced() {
    let pg = Postgres::start();
    let setup = pg.sql("CREATE TABLE orders (id int); INSERT INTO orders VALUES (1),(2),(3)");
    assert!(setup.status.success(), "{setup:?}");

    let h = Harness::new(real_rules());
    let tmp = tempfile::tempdir().unwrap();
    let shims = make_shims(tmp.path(), &["psql"]);
    let url = pg.url();
    let script = r#"psql "$DATABASE_URL" -c 'DROP TABLE orders'"#;
    let env = [("DATABASE_URL", url.as_str())];

    let run = spawn_through_shims(&h, &shims, tmp.path(), script, &env);
    h.answer(HumanAnswer::Deny, |v| {
        assert!(
            !v.command.contains("hunter2"),
            "secret shown: {}",
            v.command
        );
        assert_eq!(v.request.agent, "psql");
    });
    let out = run.join().unwrap();
    assert_eq!(out.status.code(), Some(126), "{out:?}");
    let count = pg.sql("SELECT count(*) FROM orders");
    assert_eq!(
        String::from_utf8_lossy(&count.stdout).trim(),
        "3",
        "{count:?}"
    );

    std::thread::sleep(super::pending::RECENT_DENIAL_WINDOW + Duration::from_millis(200));
    let run = spawn_through_shims(&h, &shims, tmp.path(), script, &env);
    h.answer(HumanAnswer::AllowOnce, |_| {});
    let out = run.join().unwrap();
    assert!(out.status.success(), "{out:?}");
    let gone = pg.sql("SELECT count(*) FROM orders");
    assert!(
        !gone.status.success(),
        "the table survived an approved DROP"
    );

    let log = std::fs::read_to_string(h.server.audit_path()).unwrap();
    assert!(!log.contains("hunter2"), "the audit log holds a secret");
    assert_eq!(log.lines().filter(|l| l.contains("DROP TABLE")).count(), 2);
}

/// A gate with the real rules on a one-worker runtime, its runtime dir and audit log in `dir`
/// (`audit.jsonl`); `configure` adjusts the config first.
fn gate_in(
    dir: &Path,
    session: &str,
    configure: impl FnOnce(&mut GateConfig),
) -> (
    tokio::runtime::Runtime,
    GateServer,
    tokio::sync::mpsc::Receiver<pending::GateEvent>,
) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let mut config = GateConfig::new(session, vec!["sh".into()]);
    config.runtime_base = Some(dir.to_path_buf());
    config.audit_path = Some(dir.join("audit.jsonl"));
    configure(&mut config);
    let (server, events) = GateServer::start(runtime.handle(), config, real_rules()).unwrap();
    (runtime, server, events)
}

#[test]
fn held_requests_time_out_to_deny_and_hang_ups_withdraw() {
    let dir = tempfile::tempdir().unwrap();
    let (_runtime, server, mut events) = gate_in(dir.path(), "e2e-timeout", |c| {
        c.confirm_timeout = Some(Duration::from_millis(200));
    });
    let addr = client::GateAddress {
        socket: server.socket_path().to_path_buf(),
        token: server.token().to_string(),
    };
    let req = GateRequest {
        layer: Layer::Exec,
        agent: "sh".into(),
        subject: Subject::Argv(
            ["psql", "-h", "127.0.0.1", "-c", "DROP TABLE orders"]
                .map(String::from)
                .to_vec(),
        ),
        cwd: "/".into(),
        pid: 1,
        env: BTreeMap::new(),
    };
    let resp = client::ask(&addr, &req).unwrap();
    assert_eq!(resp.decision, protocol::WireDecision::Deny);
    assert_eq!(resp.decided_by, DecidedBy::Timeout);
    assert!(server.pending().is_empty());
    let mut seen = Vec::new();
    while let Ok(e) = events.try_recv() {
        seen.push(match e {
            pending::GateEvent::Held(_) => "held",
            pending::GateEvent::Withdrawn { .. } => "withdrawn",
            pending::GateEvent::Decided(_) => "decided",
        });
    }
    assert_eq!(seen, ["held", "withdrawn", "decided"]);

    // A client that hangs up while held withdraws its request (no stale modal).
    let mut stream = std::os::unix::net::UnixStream::connect(server.socket_path()).unwrap();
    let mut line = serde_json::to_vec(&protocol::WireRequest::new(server.token(), &req)).unwrap();
    line.push(b'\n');
    stream.write_all(&line).unwrap();
    wait_until("the request to be held", || {
        (server.pending().len() == 1).then_some(())
    });
    drop(stream);
    wait_until("the request to be withdrawn", || {
        server.pending().is_empty().then_some(())
    });
    let log = std::fs::read_to_string(dir.path().join("audit.jsonl")).unwrap();
    let last: AuditRecord = serde_json::from_str(log.lines().last().unwrap()).unwrap();
    assert_eq!(
        (last.decision, last.decided_by),
        (Decision::Deny, DecidedBy::Client)
    );

    // The socket and its dir are private.
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(server.socket_path()), 0o600);
    assert_eq!(mode(server.socket_path().parent().unwrap()), 0o700);
}

/// What the socket answers besides decisions: refusals for a wrong token, malformed JSON and an
/// oversized line, read on the accept thread; and a client whose line arrives in pieces slower
/// than the thread waits is still answered (by the runtime). A dropped server stops accepting.
#[test]
fn the_socket_refuses_bad_requests_and_answers_slow_ones() {
    use std::io::Read as _;
    let dir = tempfile::tempdir().unwrap();
    let (_runtime, server, _events) = gate_in(dir.path(), "e2e-refusals", |_| {});
    let req = GateRequest {
        layer: Layer::Hook,
        agent: "claude-code".into(),
        subject: Subject::Command("rm -rf /".into()),
        cwd: "/".into(),
        pid: 1,
        env: BTreeMap::new(),
    };
    // Sends `parts` with a pause between them, closes its writing end, reads the answer.
    let exchange = |parts: &[&[u8]], pause: Duration| -> protocol::WireResponse {
        let mut stream = std::os::unix::net::UnixStream::connect(server.socket_path()).unwrap();
        for (i, part) in parts.iter().enumerate() {
            if i > 0 {
                std::thread::sleep(pause);
            }
            // The server may answer an oversized line before reading all of it.
            let _ = stream.write_all(part);
        }
        let _ = stream.shutdown(std::net::Shutdown::Write);
        let mut out = String::new();
        stream.read_to_string(&mut out).unwrap();
        serde_json::from_str(out.trim_end()).unwrap_or_else(|e| panic!("{e}: {out:?}"))
    };
    let line = |token: &str| {
        let mut l = serde_json::to_vec(&protocol::WireRequest::new(token, &req)).unwrap();
        l.push(b'\n');
        l
    };

    let wrong = exchange(&[&line(&"0".repeat(64))], Duration::ZERO);
    assert_eq!(wrong.decision, protocol::WireDecision::Deny);
    assert!(wrong.reason.contains("session token"), "{}", wrong.reason);
    let malformed = exchange(&[b"{not json\n"], Duration::ZERO);
    assert!(
        malformed.reason.contains("malformed"),
        "{}",
        malformed.reason
    );
    let big = vec![b'x'; protocol::MAX_REQUEST_BYTES + 10];
    let oversized = exchange(&[&big], Duration::ZERO);
    assert!(
        oversized.reason.contains("longer than"),
        "{}",
        oversized.reason
    );
    assert!(oversized.rules.is_empty());

    // Half the line, a pause longer than the accept thread waits, then the rest.
    let whole = line(server.token());
    let (head, tail) = whole.split_at(whole.len() / 2);
    let slow = exchange(&[head, tail], Duration::from_millis(200));
    assert_eq!(slow.decision, protocol::WireDecision::Deny);
    assert!(
        slow.rules.iter().any(|r| r.starts_with("core/")),
        "decided by the rules: {slow:?}"
    );
    let fast = exchange(&[&whole], Duration::ZERO);
    assert_eq!((fast.decision, fast.rules), (slow.decision, slow.rules));
    let log = std::fs::read_to_string(dir.path().join("audit.jsonl")).unwrap();
    assert_eq!(log.lines().count(), 2, "refusals are not decisions: {log}");

    let socket = server.socket_path().to_path_buf();
    drop(server);
    wait_until("the gate to stop accepting", || {
        std::os::unix::net::UnixStream::connect(&socket)
            .is_err()
            .then_some(())
    });
}

/// The exec gate's in-process asks (`overwatch run`): an exec the rules settle alone is decided
/// and audited on the asking thread, with nobody driving the runtime; a `confirm` is held until
/// the human answers, exactly like a socket client's.
#[cfg(target_os = "linux")]
#[test]
fn in_process_exec_asks_settle_on_the_calling_thread_and_held_ones_wait_for_the_human() {
    use super::exec::lifecycle::decide_in_process;
    use super::exec::{ExecRequest, ExecSyscall, ExecVerdict};
    // Never driven: the app's runtime may be busy drawing while execs are answered.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut config = GateConfig::new("e2e-in-process", vec!["sh".into()]);
    config.runtime_base = Some(dir.path().to_path_buf());
    config.audit_path = Some(dir.path().join("audit.jsonl"));
    let (server, _events) = GateServer::start(runtime.handle(), config, real_rules()).unwrap();
    let asker = server.in_process(runtime.handle().clone());
    let exec = |argv: &[&str]| ExecRequest {
        pid: 4242,
        syscall: ExecSyscall::Execve,
        path: format!("/usr/bin/{}", argv[0]),
        resolved: PathBuf::from(format!("/usr/bin/{}", argv[0])),
        argv: argv.iter().map(|a| a.to_string()).collect(),
        cwd: "/".into(),
        env: vec![],
        program: None,
        notes: vec![],
    };
    assert_eq!(
        decide_in_process(&asker, &exec(&["ls", "-l"])),
        ExecVerdict::Allow
    );
    let drop_table = exec(&["psql", "-h", "127.0.0.1", "-c", "DROP TABLE orders"]);
    let held = std::thread::spawn(move || decide_in_process(&asker, &drop_table));
    let id = wait_until("the exec to be held", || {
        server.pending().held().first().map(|h| h.id)
    });
    assert!(!held.is_finished(), "a confirm waits for the human");
    server
        .pending()
        .resolve(id, HumanAnswer::AllowOnce)
        .unwrap();
    assert_eq!(held.join().unwrap(), ExecVerdict::Allow);
    let log = std::fs::read_to_string(dir.path().join("audit.jsonl")).unwrap();
    let records: Vec<AuditRecord> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let seen: Vec<_> = records
        .iter()
        .map(|r| (r.layer, r.agent.as_str(), r.decided_by))
        .collect();
    assert_eq!(
        seen,
        [
            (Layer::Exec, "ls", DecidedBy::Rules),
            (Layer::Exec, "psql", DecidedBy::Human)
        ]
    );
}

/// Measures for benches/hook.sh (prints, asserts nothing about speed): whole-process hook
/// decision in a session and standalone, peak RSS, and shim overhead against `/bin/true`.
/// Uses `OVERWATCH_BENCH_BIN` (the release binary) when set.
#[test]
#[ignore = "benchmark: run through benches/hook.sh"]
fn bench_hook_and_shim() {
    const RUNS: usize = 200;
    let bin = std::env::var_os("OVERWATCH_BENCH_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(overwatch_bin);
    let h = Harness::new(real_rules());
    let payload = claude_payload("Bash", serde_json::json!({"command": "ls -la"}));
    let median = |mut v: Vec<Duration>| {
        v.sort();
        (v[v.len() / 2], v[v.len() * 9 / 10])
    };
    // Median and p90 of RUNS samples, each the duration `one` measured.
    let sample = |one: &mut dyn FnMut() -> Duration| median((0..RUNS).map(|_| one()).collect());
    let time_runs = |mut make: Box<dyn FnMut() -> Command>, stdin: &[u8]| {
        sample(&mut || {
            let mut cmd = make();
            cmd.stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::null());
            let start = Instant::now();
            let mut child = cmd.spawn().unwrap();
            child.stdin.take().unwrap().write_all(stdin).unwrap();
            let out = child.wait_with_output().unwrap();
            let took = start.elapsed();
            assert!(out.status.success(), "{out:?}");
            took
        })
    };
    let session_env = h.server.agent_env();
    let hook = |env: Vec<(String, String)>| {
        let bin = bin.clone();
        Box::new(move || {
            let mut c = Command::new(&bin);
            c.args(["hook", "claude-code"])
                .env_remove("OVERWATCH_SOCKET")
                .env_remove("OVERWATCH_SESSION")
                .envs(env.clone());
            c
        }) as Box<dyn FnMut() -> Command>
    };
    let (in_med, in_p90) = time_runs(hook(session_env.clone()), &payload);
    let (alone_med, alone_p90) = time_runs(hook(Vec::new()), &payload);
    let (true_med, true_p90) = time_runs(Box::new(|| Command::new("/bin/true")), b"");

    let tmp = tempfile::tempdir().unwrap();
    let shims = tmp.path().join("shims");
    shim::create_shim_dir(&shims, &bin, &["true".to_string()].into()).unwrap();
    let path = std::env::var_os("PATH").unwrap_or_default();
    let shim_vars = install::shim_env(&shims, &path);
    let (shim_med, shim_p90) = time_runs(
        Box::new(move || {
            let mut c = Command::new(shims.join("true"));
            c.envs(shim_vars.clone()).envs(session_env.clone());
            c
        }),
        b"",
    );

    let rss = |env: &[(String, String)]| {
        let mut child = Command::new("/usr/bin/time")
            .arg("-v")
            .arg(&bin)
            .args(["hook", "claude-code"])
            .env_remove("OVERWATCH_SOCKET")
            .env_remove("OVERWATCH_SESSION")
            .envs(env.iter().cloned())
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(&payload).unwrap();
        let out = child.wait_with_output().unwrap();
        String::from_utf8_lossy(&out.stderr)
            .lines()
            .find_map(|l| {
                l.trim()
                    .strip_prefix("Maximum resident set size (kbytes): ")
            })
            .map(str::to_string)
            .unwrap_or_else(|| "?".into())
    };
    // The server's share of an in-session answer, without a process start: the rules evaluator
    // alone (context detection + rules) and a whole socket round trip from this process.
    let env_now = h.server.agent_env();
    let addr = client::GateAddress::from_env(|k| {
        env_now.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
    })
    .unwrap();
    let req = GateRequest {
        layer: Layer::Hook,
        agent: "claude-code".into(),
        subject: Subject::Command("ls -la".into()),
        cwd: std::env::current_dir().unwrap(),
        pid: std::process::id(),
        env: BTreeMap::new(),
    };
    let evaluator = real_rules();
    let in_process = |f: &mut dyn FnMut()| {
        sample(&mut || {
            let start = Instant::now();
            f();
            start.elapsed()
        })
    };
    let (eval_med, eval_p90) = in_process(&mut || {
        std::hint::black_box(evaluator.evaluate(&req));
    });
    let (rt_med, rt_p90) = in_process(&mut || {
        client::ask(&addr, &req).unwrap();
    });

    let ms = |d: Duration| format!("{:.2} ms", d.as_secs_f64() * 1000.0);
    println!("binary: {}", bin.display());
    println!(
        "gate: evaluate only       median {}  p90 {}",
        ms(eval_med),
        ms(eval_p90)
    );
    println!(
        "gate: socket round trip   median {}  p90 {}",
        ms(rt_med),
        ms(rt_p90)
    );
    println!("runs per measure: {RUNS}");
    println!(
        "hook in session (allow)   median {}  p90 {}",
        ms(in_med),
        ms(in_p90)
    );
    println!(
        "hook standalone           median {}  p90 {}",
        ms(alone_med),
        ms(alone_p90)
    );
    println!(
        "/bin/true exec            median {}  p90 {}",
        ms(true_med),
        ms(true_p90)
    );
    println!(
        "shim → /bin/true (allow)  median {}  p90 {}",
        ms(shim_med),
        ms(shim_p90)
    );
    println!(
        "shim overhead (median)    {}",
        ms(shim_med.saturating_sub(true_med))
    );
    println!(
        "peak RSS hook in session  {} kB",
        rss(&h.server.agent_env())
    );
    println!("peak RSS hook standalone  {} kB", rss(&[]));
}
