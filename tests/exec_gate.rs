//! End-to-end tests of the exec gate on the real kernel: `overwatch __exec-shim` installs the
//! seccomp filter and hands the listener over; the test plays overwatch with its own `decide`.
//!
//! The `gate::exec` module is compiled into this test directly (the crate has no library
//! target); it is self-contained by design.

#![cfg(target_os = "linux")]

use overwatch::gate;

use std::fs;
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use gate::exec::filter::Refusal;
use gate::exec::handoff::{ExecGateListener, Handoff, wrap_argv};
use gate::exec::identify::ProgramIndex;
use gate::exec::lifecycle::{self, ExecGateState};
use gate::exec::serve::{ExecEvent, ExecGateConfig, ExecGateStats, ServeHandle, serve};
use gate::exec::{ExecNote, ExecRequest, ExecVerdict};

const OVERWATCH: &str = env!("CARGO_BIN_EXE_overwatch");
/// Generous: the machine is shared; a deadlock shows up as this timeout, not as slowness.
const TIMEOUT: Duration = Duration::from_secs(120);

type Decide = Arc<dyn Fn(&ExecRequest) -> ExecVerdict + Send + Sync>;
type DecideFn = Box<dyn Fn(&ExecRequest) -> ExecVerdict + Send + Sync>;
type EventFn = Box<dyn Fn(ExecEvent) + Send + Sync>;

/// Denies what the rules would: `git push --force`, `DROP TABLE` in any argument.
fn test_rules() -> Decide {
    Arc::new(|request: &ExecRequest| {
        let argv = &request.argv;
        let force_push = argv.windows(2).any(|w| w[0] == "push" && w[1] == "--force");
        let drop_table = argv.iter().any(|a| a.contains("DROP TABLE"));
        if force_push || drop_table {
            ExecVerdict::Deny(format!("test rules: {argv:?}"))
        } else {
            ExecVerdict::Allow
        }
    })
}

/// The gate side of one test: every request `decide` saw, every event, the serve handle.
struct Served {
    handle: ServeHandle,
    seen: Arc<Mutex<Vec<(ExecRequest, ExecVerdict)>>>,
    events: Arc<Mutex<Vec<ExecEvent>>>,
}

impl Served {
    /// Starts serving with `start(config, decide, on_event)`, recording what `decide` saw.
    fn start(
        start: impl FnOnce(ExecGateConfig, DecideFn, EventFn) -> ServeHandle,
        config: ExecGateConfig,
        decide: Decide,
    ) -> Served {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let events = Arc::new(Mutex::new(Vec::new()));
        let seen_in = Arc::clone(&seen);
        let events_in = Arc::clone(&events);
        let handle = start(
            config,
            Box::new(move |request: &ExecRequest| {
                let verdict = decide(request);
                seen_in
                    .lock()
                    .unwrap()
                    .push((request.clone(), verdict.clone()));
                verdict
            }),
            Box::new(move |event| events_in.lock().unwrap().push(event)),
        );
        Served {
            handle,
            seen,
            events,
        }
    }

    /// Serves a listener fd received directly (tests that drive the handoff themselves).
    fn from_fd(fd: std::os::fd::OwnedFd, config: ExecGateConfig, decide: Decide) -> Served {
        Served::start(
            |config, decide, on_event| serve(fd, config, decide, on_event).unwrap(),
            config,
            decide,
        )
    }

    fn seen(&self) -> Vec<(ExecRequest, ExecVerdict)> {
        self.seen.lock().unwrap().clone()
    }

    fn requests_of(&self, program: &str) -> Vec<(ExecRequest, ExecVerdict)> {
        self.seen()
            .into_iter()
            .filter(|(r, _)| r.resolved.file_name().is_some_and(|n| n == program))
            .collect()
    }

    /// Waits for the tree to exit (POLLHUP) and every answer to be reported, checks every
    /// notification was accounted for, and returns the counters and all events.
    fn finish(self) -> (ExecGateStats, Vec<ExecEvent>) {
        let deadline = Instant::now() + TIMEOUT;
        while !self.handle.is_finished() {
            assert!(
                Instant::now() < deadline,
                "the exec gate never saw the tree exit"
            );
            thread::sleep(Duration::from_millis(20));
        }
        let stats = self.handle.join();
        let events = self.events.lock().unwrap().clone();
        assert!(
            events.iter().any(|e| matches!(e, ExecEvent::TreeExited)),
            "{events:?}"
        );
        assert_eq!(
            stats.received,
            stats.continued_not_executable + stats.allowed + stats.denied + stats.vanished,
            "every notification is answered or its task vanished: {stats:?}"
        );
        (stats, events)
    }
}

struct Output {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Runs `argv` under the shim with `Command` (pipes), serving with `decide`, through the same
/// prepare/start lifecycle the app uses.
fn run_gated(argv: &[&str], cwd: &Path, decide: Decide) -> (Output, Served) {
    let argv: Vec<String> = argv.iter().map(|s| s.to_string()).collect();
    let prepared = lifecycle::prepare(Path::new(OVERWATCH), &argv).unwrap();
    let wrapped = prepared.argv().to_vec();
    let mut child = Command::new(&wrapped[0])
        .args(&wrapped[1..])
        .current_dir(cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let served = Served::start(
        |config, decide, on_event| match prepared.start(Some(child.id()), config, decide, on_event)
        {
            ExecGateState::On(handle) => handle,
            other => panic!("the exec gate is not on: {}", other.status_text()),
        },
        ExecGateConfig::default(),
        decide,
    );
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out = thread::spawn(move || {
        let mut s = String::new();
        stdout.read_to_string(&mut s).unwrap();
        s
    });
    let err = thread::spawn(move || {
        let mut s = String::new();
        stderr.read_to_string(&mut s).unwrap();
        s
    });
    let deadline = Instant::now() + TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("{argv:?} did not finish: deadlock under the exec gate?");
        }
        thread::sleep(Duration::from_millis(10));
    };
    let output = Output {
        code: status.code(),
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
    };
    (output, served)
}

fn write_script(path: &Path, body: &str) {
    fs::write(path, body).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(0o755)).unwrap();
}

fn git_repo(dir: &Path) {
    let ok = Command::new("/usr/bin/git")
        .args(["init", "-q", "-b", "main"])
        .current_dir(dir)
        .status()
        .unwrap()
        .success();
    assert!(ok);
}

/// The issue's end-to-end case, in a real PTY: an agent script that force-pushes by absolute
/// path, through a copied git binary, and through a script it wrote that runs psql.
#[test]
fn agent_in_a_pty_is_held_by_absolute_path_copied_binary_and_its_own_script() {
    use portable_pty::{CommandBuilder, PtySize, native_pty_system};

    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    git_repo(dir);
    fs::copy("/usr/bin/git", dir.join("mygit")).unwrap();
    write_script(
        &dir.join("migrate.sh"),
        "#!/bin/sh\npsql -h db.prod -c 'DROP TABLE x'\necho \"psql=$?\"\n",
    );
    let agent = format!(
        "/usr/bin/git push --force origin main; echo \"abs=$?\"; \
         {dir}/mygit push --force origin main; echo \"copy=$?\"; \
         {dir}/migrate.sh; \
         git status --short >/dev/null; echo \"status=$?\"",
        dir = dir.display()
    );

    let listener = ExecGateListener::bind_in(dir).unwrap();
    let argv = ["bash".to_string(), "-c".to_string(), agent];
    let wrapped = wrap_argv(Path::new(OVERWATCH), listener.socket_path(), &argv);
    let pair = native_pty_system()
        .openpty(PtySize {
            rows: 40,
            cols: 200,
            pixel_width: 0,
            pixel_height: 0,
        })
        .unwrap();
    let mut cmd = CommandBuilder::new(&wrapped[0]);
    cmd.args(&wrapped[1..]);
    cmd.cwd(dir);
    let mut child = pair.slave.spawn_command(cmd).unwrap();
    drop(pair.slave);
    let mut reader = pair.master.try_clone_reader().unwrap();
    // Always drain the PTY so the agent never blocks on a full buffer.
    let screen = thread::spawn(move || {
        let mut all = Vec::new();
        let mut buf = [0u8; 4096];
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 {
                break;
            }
            all.extend_from_slice(&buf[..n]);
        }
        String::from_utf8_lossy(&all).into_owned()
    });
    let handoff = listener
        .accept_fd(Duration::from_secs(30), child.process_id())
        .unwrap();
    let Handoff::Listener(fd) = handoff else {
        panic!("the kernel refused the filter: {handoff:?}");
    };
    // Recognise copies of the programs the rules guard (the app passes the engine's list).
    let programs = ProgramIndex::from_path(["git", "psql"], &std::env::var_os("PATH").unwrap());
    let config = ExecGateConfig {
        programs: Some(Arc::new(programs)),
        ..ExecGateConfig::default()
    };
    let served = Served::from_fd(fd, config, test_rules());
    let deadline = Instant::now() + TIMEOUT;
    while child.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "the agent did not finish");
        thread::sleep(Duration::from_millis(10));
    }
    drop(pair.master);
    let screen = screen.join().unwrap();

    assert!(screen.contains("abs=126"), "{screen}");
    assert!(screen.contains("copy=126"), "{screen}");
    assert!(screen.contains("Operation not permitted"), "{screen}");
    assert!(screen.contains("status=0"), "{screen}");
    // The script's own psql exec was refused: the script saw EPERM.
    assert!(screen.contains("psql: Operation not permitted"), "{screen}");
    assert!(screen.contains("psql=126"), "{screen}");

    let git = served.requests_of("git");
    assert!(
        git.iter()
            .any(|(r, v)| r.resolved == Path::new("/usr/bin/git")
                && r.argv == ["/usr/bin/git", "push", "--force", "origin", "main"]
                && matches!(v, ExecVerdict::Deny(_))),
        "{git:?}"
    );
    assert!(
        git.iter()
            .any(|(r, v)| r.argv == ["git", "status", "--short"] && *v == ExecVerdict::Allow),
        "{git:?}"
    );
    let copied = served.requests_of("mygit");
    assert_eq!(copied.len(), 1, "{copied:?}");
    assert_eq!(copied[0].0.resolved, dir.join("mygit"));
    // …and recognised as git, so rules written for git apply to it.
    assert_eq!(copied[0].0.program.as_deref(), Some("git"));
    assert_eq!(copied[0].0.argv_for_rules()[..2], ["git", "push"]);
    assert!(matches!(copied[0].1, ExecVerdict::Deny(_)));
    // The script the agent wrote is seen, and so is the psql it runs, with its real argv.
    assert_eq!(served.requests_of("migrate.sh").len(), 1);
    let psql = served.requests_of("psql");
    assert!(!psql.is_empty());
    for (request, verdict) in &psql {
        assert_eq!(
            request.argv,
            ["psql", "-h", "db.prod", "-c", "DROP TABLE x"]
        );
        assert_eq!(request.cwd, dir);
        assert!(matches!(verdict, ExecVerdict::Deny(_)));
    }
    assert_eq!(psql.len(), 1, "asked once: {psql:?}");
    // dash searches PATH by trying execve in each directory and goes on after a failure. On a
    // merged-/usr system /bin/psql is the /usr/bin/psql just denied: that retry gets the same
    // answer without asking again.
    let merged_usr = fs::read_link("/bin").is_ok_and(|l| l == Path::new("usr/bin"));
    let (stats, events) = served.finish();
    let answered_psql = events
        .iter()
        .filter(|e| matches!(e, ExecEvent::Decided { request, .. } if request.argv[0] == "psql"))
        .count();
    if merged_usr && std::env::var("PATH").is_ok_and(|p| p.contains(":/bin")) {
        assert_eq!(
            answered_psql, 2,
            "/usr/bin/psql, then /bin/psql reusing the verdict"
        );
    }
    // The PATH misses (/usr/local/bin/psql…) were continued without asking.
    assert!(stats.continued_not_executable > 0, "{stats:?}");
}

#[test]
fn exec_storm_of_two_thousand_processes_completes_with_every_notification_answered() {
    let tmp = tempfile::tempdir().unwrap();
    let decided = Arc::new(AtomicUsize::new(0));
    let count = Arc::clone(&decided);
    let decide: Decide = Arc::new(move |request: &ExecRequest| {
        if request.argv.first().is_some_and(|a| a == "/bin/true") {
            count.fetch_add(1, Ordering::SeqCst);
        }
        ExecVerdict::Allow
    });
    let (out, served) = run_gated(
        &[
            "bash",
            "-c",
            "seq 2000 | xargs -P 16 -n 1 /bin/true && echo storm-done",
        ],
        tmp.path(),
        decide,
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(out.stdout.contains("storm-done"));
    let (stats, _) = served.finish();
    assert_eq!(decided.load(Ordering::SeqCst), 2000);
    assert!(stats.allowed >= 2000 + 3, "{stats:?}"); // + bash, seq, xargs
    assert_eq!(stats.denied, 0, "{stats:?}");
}

#[test]
fn exec_of_a_missing_file_still_fails_with_enoent() {
    let tmp = tempfile::tempdir().unwrap();
    let (out, served) = run_gated(
        &["bash", "-c", "/nonexistent/x; echo \"rc=$?\""],
        tmp.path(),
        test_rules(),
    );
    assert!(out.stdout.contains("rc=127"), "{}", out.stdout);
    assert!(out.stderr.contains("No such file"), "{}", out.stderr);
    assert!(served.requests_of("x").is_empty(), "never evaluated");
    let (stats, _) = served.finish();
    assert!(stats.continued_not_executable >= 1, "{stats:?}");
}

/// A relative path is resolved against the exec'ing task's own cwd, and an `execvp` PATH search
/// that misses in its first directory is evaluated once, where it lands, with the task's cwd
/// (the cwd is read only once a path names an executable).
#[test]
fn relative_paths_and_path_search_resolve_where_the_task_stands() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = fs::canonicalize(tmp.path()).unwrap();
    fs::create_dir(dir.join("sub")).unwrap();
    fs::create_dir(dir.join("empty")).unwrap();
    write_script(&dir.join("sub/tool"), "#!/bin/sh\necho \"ran $1\"\n");
    let script = format!(
        "cd sub && ./tool rel-marker && cd .. && \
         /usr/bin/env PATH={d}/empty:{d}/sub tool path-marker",
        d = dir.display()
    );
    let (out, served) = run_gated(&["bash", "-c", &script], &dir, test_rules());
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(out.stdout.contains("ran rel-marker"), "{}", out.stdout);
    assert!(out.stdout.contains("ran path-marker"), "{}", out.stdout);
    let with = |marker: &str| -> Vec<ExecRequest> {
        served
            .seen()
            .into_iter()
            .filter(|(r, _)| r.argv.iter().any(|a| a == marker))
            .map(|(r, _)| r)
            .collect()
    };
    let relative = with("rel-marker");
    assert_eq!(relative.len(), 1, "{relative:?}");
    assert_eq!(relative[0].path, "./tool");
    assert_eq!(relative[0].resolved, dir.join("sub/tool"));
    assert_eq!(relative[0].cwd, dir.join("sub"));
    // `env` itself is evaluated with this marker too (it is in its argv): keep `tool`'s exec.
    let searched: Vec<ExecRequest> = with("path-marker")
        .into_iter()
        .filter(|r| r.path.ends_with("/tool"))
        .collect();
    assert_eq!(
        searched.len(),
        1,
        "the miss in empty/ is not evaluated: {searched:?}"
    );
    assert_eq!(searched[0].path, format!("{}/sub/tool", dir.display()));
    assert_eq!(searched[0].cwd, dir);
    let (stats, _) = served.finish();
    assert!(stats.continued_not_executable >= 1, "{stats:?}");
}

#[test]
fn nested_shim_falls_back_and_reports_the_refusal_while_the_outer_gate_still_applies() {
    let tmp = tempfile::tempdir().unwrap();
    let inner = ExecGateListener::bind_in(tmp.path()).unwrap();
    let inner_socket = inner.socket_path().to_path_buf();
    let inner_accept = thread::spawn(move || inner.accept_fd(Duration::from_secs(60), None));
    let script = format!(
        "{OVERWATCH} __exec-shim --listener-socket {} -- /bin/echo inner-agent-ran",
        inner_socket.display()
    );
    let (out, served) = run_gated(&["bash", "-c", &script], tmp.path(), test_rules());
    assert!(out.stdout.contains("inner-agent-ran"), "{}", out.stderr);
    let refused = inner_accept.join().unwrap().unwrap();
    assert!(
        matches!(refused, Handoff::Refused(Refusal::NestedListener)),
        "{refused:?}"
    );
    // The outer gate saw the inner agent's exec.
    assert_eq!(served.requests_of("echo").len(), 1);
    served.finish();
}

#[test]
fn a_held_decision_does_not_block_execs_in_a_sibling_process() {
    let tmp = tempfile::tempdir().unwrap();
    let release = Arc::new(AtomicBool::new(false));
    let siblings = Arc::new(AtomicUsize::new(0));
    let (release_in, siblings_in) = (Arc::clone(&release), Arc::clone(&siblings));
    let decide: Decide = Arc::new(move |request: &ExecRequest| {
        if request.argv.iter().any(|a| a == "hold-me") {
            // A confirm waiting for the human.
            while !release_in.load(Ordering::SeqCst) {
                thread::sleep(Duration::from_millis(5));
            }
        } else if request.argv.iter().any(|a| a == "sibling") {
            siblings_in.fetch_add(1, Ordering::SeqCst);
        }
        ExecVerdict::Allow
    });
    let releaser = {
        let (release, siblings) = (Arc::clone(&release), Arc::clone(&siblings));
        thread::spawn(move || {
            let deadline = Instant::now() + TIMEOUT;
            // Release only after all siblings ran while the first exec was held.
            while siblings.load(Ordering::SeqCst) < 20 {
                if Instant::now() > deadline {
                    break;
                }
                thread::sleep(Duration::from_millis(5));
            }
            let ran_while_held = siblings.load(Ordering::SeqCst);
            release.store(true, Ordering::SeqCst);
            ran_while_held
        })
    };
    let (out, served) = run_gated(
        &[
            "bash",
            "-c",
            "/bin/echo hold-me & for i in $(seq 20); do /bin/true sibling; done; wait; echo done",
        ],
        tmp.path(),
        decide,
    );
    assert_eq!(
        releaser.join().unwrap(),
        20,
        "siblings ran while one exec was held"
    );
    assert!(out.stdout.contains("hold-me"), "{}", out.stdout);
    assert!(out.stdout.contains("done"));
    served.finish();
}

#[test]
fn setuid_programs_are_noted_since_no_new_privs_stops_them() {
    let tmp = tempfile::tempdir().unwrap();
    let setuid = ["/usr/bin/sudo", "/usr/bin/passwd", "/usr/bin/su"]
        .into_iter()
        .find(|p| fs::metadata(p).is_ok_and(|m| m.permissions().mode() & 0o4000 != 0));
    let Some(setuid) = setuid else {
        eprintln!("no setuid program installed; skipping");
        return;
    };
    let script = format!("{setuid} --help >/dev/null 2>&1; /bin/true");
    let (_, served) = run_gated(&["bash", "-c", &script], tmp.path(), test_rules());
    let name = Path::new(setuid).file_name().unwrap().to_str().unwrap();
    let seen = served.requests_of(name);
    assert_eq!(seen.len(), 1);
    assert!(seen[0].0.has_note(&ExecNote::SetuidIgnored));
    let plain = served.requests_of("true");
    assert!(!plain[0].0.has_note(&ExecNote::SetuidIgnored));
    served.finish();
}

#[test]
fn env_the_rules_need_is_read_from_the_new_program_environment() {
    let tmp = tempfile::tempdir().unwrap();
    let (_, served) = run_gated(
        &[
            "bash",
            "-c",
            "KUBECONFIG=/k/prod AWS_PROFILE=prod-admin /bin/true kubectl",
        ],
        tmp.path(),
        test_rules(),
    );
    let seen = served.requests_of("true");
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].0.env_var("KUBECONFIG"), Some("/k/prod"));
    assert_eq!(seen[0].0.env_var("AWS_PROFILE"), Some("prod-admin"));
    served.finish();
}

#[test]
fn daemons_are_answered_after_the_agent_exits_and_fail_closed_once_overwatch_stops() {
    let tmp = tempfile::tempdir().unwrap();
    let before: PathBuf = tmp.path().join("before");
    let after: PathBuf = tmp.path().join("after");
    let go = tmp.path().join("go");
    // The daemon outlives the agent: one exec while we still serve, one after we stopped.
    let script = format!(
        "setsid bash -c '/bin/echo answered > {b}; while [ ! -e {g} ]; do sleep 0.05; done; \
         /bin/true; echo \"rc=$?\" > {a}' </dev/null >/dev/null 2>&1 & exit 0",
        b = before.display(),
        g = go.display(),
        a = after.display()
    );
    let (out, served) = run_gated(&["bash", "-c", &script], tmp.path(), test_rules());
    assert_eq!(out.code, Some(0));
    let deadline = Instant::now() + TIMEOUT;
    while fs::read_to_string(&before).unwrap_or_default() != "answered\n" {
        assert!(
            Instant::now() < deadline,
            "the daemon's exec was not answered"
        );
        thread::sleep(Duration::from_millis(20));
    }
    assert!(!served.handle.is_finished(), "still serving the daemon");
    served.handle.stop();
    fs::write(&go, "").unwrap();
    while !after.exists() {
        assert!(Instant::now() < deadline, "the daemon did not finish");
        thread::sleep(Duration::from_millis(20));
    }
    thread::sleep(Duration::from_millis(50));
    let rc = fs::read_to_string(&after).unwrap();
    // bash reports the ENOSYS exec failure as 126 ("Function not implemented").
    assert_eq!(rc.trim(), "rc=126");
}

#[test]
fn unprivileged_user_can_install_the_filter() {
    if !nix::unistd::geteuid().is_root() || !Path::new("/usr/sbin/runuser").exists() {
        eprintln!("needs root and runuser to switch to nobody; skipping");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    fs::set_permissions(tmp.path(), fs::Permissions::from_mode(0o755)).unwrap();
    let listener = ExecGateListener::bind_in(tmp.path()).unwrap();
    let socket = listener.socket_path().to_path_buf();
    // Let nobody reach the socket: the private dir is ours (root) otherwise.
    let nobody = nix::unistd::User::from_name("nobody").unwrap().unwrap();
    for path in [socket.parent().unwrap(), socket.as_path()] {
        nix::unistd::chown(path, Some(nobody.uid), None).unwrap();
    }
    let argv = ["/usr/bin/git".to_string(), "push".into(), "--force".into()];
    let wrapped = wrap_argv(Path::new(OVERWATCH), &socket, &argv);
    let mut child = Command::new("/usr/sbin/runuser")
        .args(["-u", "nobody", "--"])
        .args(&wrapped)
        .current_dir("/")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let handoff = listener.accept_fd(Duration::from_secs(30), None);
    let handoff = match handoff {
        Ok(handoff) => handoff,
        Err(err) => {
            let _ = child.kill();
            let mut stderr = String::new();
            child
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut stderr)
                .unwrap();
            panic!("{err}: {stderr} (is the test binary readable by nobody?)");
        }
    };
    let Handoff::Listener(fd) = handoff else {
        panic!("unprivileged install refused: {handoff:?}");
    };
    let served = Served::from_fd(fd, ExecGateConfig::default(), test_rules());
    let status = child.wait().unwrap();
    assert!(!status.success());
    let seen = served.requests_of("git");
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert!(matches!(seen[0].1, ExecVerdict::Deny(_)));
    served.finish();
}

#[test]
fn fexecve_through_execveat_is_seen_with_the_file_it_names() {
    let Some(python) = ["/usr/bin/python3", "/usr/local/bin/python3"]
        .into_iter()
        .find(|p| Path::new(p).exists())
    else {
        eprintln!("no python3 for os.execve(fd, …); skipping");
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    // os.execve with an fd is fexecve(3): execveat(fd, "", argv, envp, AT_EMPTY_PATH).
    let code = "import os; fd = os.open('/bin/true', os.O_RDONLY); \
                os.execve(fd, ['true', 'fexecve-marker'], {'KUBECONFIG': '/k/x'})";
    let (out, served) = run_gated(&[python, "-c", code], tmp.path(), test_rules());
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let seen: Vec<_> = served
        .seen()
        .into_iter()
        .filter(|(r, _)| r.argv.iter().any(|a| a == "fexecve-marker"))
        .collect();
    assert_eq!(seen.len(), 1, "{seen:?}");
    let request = &seen[0].0;
    assert_eq!(request.syscall, gate::exec::ExecSyscall::Execveat);
    assert_eq!(request.path, "");
    assert_eq!(request.resolved, fs::canonicalize("/bin/true").unwrap());
    assert_eq!(request.env_var("KUBECONFIG"), Some("/k/x"));
    served.finish();
}

#[test]
fn an_exec_whose_arguments_cannot_be_read_is_denied() {
    let python = "/usr/bin/python3";
    if !Path::new(python).exists() {
        eprintln!("no python3 for a raw execve with a bad argv pointer; skipping");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    // argv points at address 8: unmapped. Without the gate the kernel says EFAULT (14); the gate
    // cannot read what would run, so it fails closed with EPERM (1).
    let code = "import ctypes; libc = ctypes.CDLL(None, use_errno=True); \
                rc = libc.execve(b'/bin/true', ctypes.c_void_p(8), None); \
                print('errno', ctypes.get_errno())";
    let (out, served) = run_gated(&[python, "-c", code], tmp.path(), test_rules());
    assert!(
        out.stdout.contains("errno 1"),
        "{}{}",
        out.stdout,
        out.stderr
    );
    let (_, events) = served.finish();
    let unreadable = events
        .iter()
        .filter(|e| matches!(e, ExecEvent::Unreadable { .. }))
        .count();
    assert_eq!(unreadable, 1);
}

#[test]
fn dropping_the_serve_handle_stops_serving_and_later_execs_fail_closed() {
    let tmp = tempfile::tempdir().unwrap();
    let go = tmp.path().join("go");
    let script = format!(
        "while [ ! -e {g} ]; do :; done; /bin/true; echo \"rc=$?\"",
        g = go.display()
    );
    let argv = ["bash".to_string(), "-c".to_string(), script];
    let prepared = lifecycle::prepare(Path::new(OVERWATCH), &argv).unwrap();
    let wrapped = prepared.argv().to_vec();
    let child = Command::new(&wrapped[0])
        .args(&wrapped[1..])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (decided_tx, decided) = std::sync::mpsc::channel();
    let decided_tx = Mutex::new(decided_tx);
    let state = prepared.start(
        Some(child.id()),
        ExecGateConfig::default(),
        |_: &ExecRequest| ExecVerdict::Allow,
        move |event| {
            if matches!(event, ExecEvent::Decided { .. }) {
                let _ = decided_tx.lock().unwrap().send(());
            }
        },
    );
    assert!(
        matches!(state, ExecGateState::On(_)),
        "{}",
        state.status_text()
    );
    // The agent (bash) has been let through; now overwatch goes away.
    decided.recv_timeout(TIMEOUT).unwrap();
    drop(state);
    fs::write(&go, "").unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("rc=126"), "{stdout}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("Function not implemented"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A 64-bit x86 program that execs with 32-bit pointer arrays through a compat entry, the
/// classic way around a filter that only checks x86_64 numbers: `int $0x80` (i386 execve = 11)
/// or `syscall` with the x32 bit (x32 execve = 0x40000000 | 520). If the exec fails the probe
/// exits with its errno; if it succeeds, `/bin/true` exits 0.
#[cfg(target_arch = "x86_64")]
fn compat_exec_probe(entry: &str) -> String {
    let call = match entry {
        "i386" => {
            r#"long ret = 11;
    __asm__ volatile("int $0x80" : "+a"(ret) : "b"(path), "c"(argv32), "d"(envp32) : "memory");"#
        }
        _ => {
            r#"long ret = 0x40000000L | 520;
    __asm__ volatile("syscall" : "+a"(ret) : "D"(path), "S"(argv32), "d"(envp32)
                     : "rcx", "r11", "memory");"#
        }
    };
    format!(
        r#"
static char path[] = "/bin/true";
static char a0[] = "true";
static char a1[] = "compat-marker";
static char e0[] = "KUBECONFIG=/k/compat";
static unsigned int argv32[3];
static unsigned int envp32[2];
void _start(void) {{
    argv32[0] = (unsigned int)(unsigned long)a0;
    argv32[1] = (unsigned int)(unsigned long)a1;
    envp32[0] = (unsigned int)(unsigned long)e0;
    {call}
    __asm__ volatile("syscall" : : "a"(60L), "D"(-ret) : "rcx", "r11", "memory");
    for (;;) {{}}
}}
"#
    )
}

#[cfg(target_arch = "x86_64")]
#[test]
fn execs_through_the_i386_and_x32_entries_are_gated_with_their_32_bit_argv() {
    let tmp = tempfile::tempdir().unwrap();
    for entry in ["i386", "x32"] {
        let source = tmp.path().join(format!("{entry}.c"));
        let program = tmp.path().join(entry);
        fs::write(&source, compat_exec_probe(entry)).unwrap();
        // Static, no libc, not position-independent: data below 4 GiB for 32-bit pointers.
        let built = Command::new("gcc")
            .args(["-static", "-nostdlib", "-no-pie", "-O1", "-o"])
            .arg(&program)
            .arg(&source)
            .status();
        if !built.is_ok_and(|s| s.success()) {
            eprintln!("gcc cannot build the compat exec probe here; skipping");
            return;
        }
        let deny_marker: Decide = Arc::new(|request: &ExecRequest| {
            if request.argv.iter().any(|a| a == "compat-marker") {
                ExecVerdict::Deny("test".into())
            } else {
                ExecVerdict::Allow
            }
        });
        let program = program.to_str().unwrap();
        let (out, served) = run_gated(&[program], tmp.path(), deny_marker);
        // EPERM (1) from the gate; without it the i386 exec succeeds (0) and an x32 exec on a
        // kernel without x32 support fails with ENOSYS (38).
        assert_eq!(out.code, Some(1), "{entry}: {}", out.stderr);
        let seen: Vec<_> = served
            .seen()
            .into_iter()
            .filter(|(r, _)| r.argv.iter().any(|a| a == "compat-marker"))
            .collect();
        assert_eq!(seen.len(), 1, "{entry}: {seen:?}");
        assert_eq!(seen[0].0.argv, ["true", "compat-marker"]);
        assert_eq!(seen[0].0.resolved, Path::new("/bin/true"));
        assert_eq!(seen[0].0.env_var("KUBECONFIG"), Some("/k/compat"));
        served.finish();
    }
}

#[test]
fn a_panicking_decide_denies_instead_of_leaving_the_exec_hanging() {
    let tmp = tempfile::tempdir().unwrap();
    let decide: Decide = Arc::new(|request: &ExecRequest| {
        if request.argv.iter().any(|a| a == "boom") {
            panic!("a bug in the rules");
        }
        ExecVerdict::Allow
    });
    let (out, served) = run_gated(
        &[
            "bash",
            "-c",
            "/bin/echo boom; echo \"rc=$?\"; /bin/echo after",
        ],
        tmp.path(),
        decide,
    );
    assert!(out.stdout.contains("rc=126"), "{}", out.stdout);
    assert!(out.stdout.contains("after"), "later execs still answered");
    let (stats, _) = served.finish();
    assert_eq!(stats.denied, 1, "{stats:?}");
}
