//! Real-PTY tests of `AgentPty`: every test drains output and is bounded by a timeout.

use std::ffi::OsString;
use std::time::{Duration, Instant};

use super::procs::{agent_tree, read_proc};
use super::{AgentPty, ExitStatus, PaneSize, PtyEvent, PtyOutput, SpawnSpec};

const LIMIT: Duration = Duration::from_secs(10);

fn spec(argv: &[&str]) -> SpawnSpec {
    SpawnSpec {
        argv: argv.iter().map(OsString::from).collect(),
        cwd: std::env::temp_dir(),
        env_set: Vec::new(),
        env_remove: Vec::new(),
        size: PaneSize { cols: 80, rows: 24 },
    }
}

/// Reads events until `Exited` or `until` matches the output so far; panics after `LIMIT`.
fn drain(rx: &mut PtyOutput, until: impl Fn(&[u8]) -> bool) -> (Vec<u8>, Option<ExitStatus>) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("test runtime");
    rt.block_on(async {
        let mut out = Vec::new();
        let deadline = tokio::time::Instant::now() + LIMIT;
        loop {
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Some(PtyEvent::Output(bytes))) => {
                    out.extend_from_slice(&bytes);
                    if until(&out) {
                        return (out, None);
                    }
                }
                Ok(Some(PtyEvent::Exited(status))) => return (out, Some(status)),
                Ok(None) => return (out, None),
                Err(_) => panic!(
                    "timed out; output so far: {:?}",
                    String::from_utf8_lossy(&out)
                ),
            }
        }
    })
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

fn wait_for(what: &str, pred: impl Fn() -> bool) {
    let start = Instant::now();
    while !pred() {
        assert!(start.elapsed() < LIMIT, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn alive(pid: i32) -> bool {
    read_proc(pid).is_some_and(|p| p.state != 'Z')
}

#[test]
fn output_and_exit_code_come_through_in_order() {
    let (pty, mut rx) = AgentPty::spawn(spec(&[
        "bash",
        "-c",
        "printf 'hello from %s\\n' agent; exit 3",
    ]))
    .expect("spawn");
    let (out, status) = drain(&mut rx, |_| false);
    assert!(
        contains(&out, "hello from agent"),
        "{:?}",
        String::from_utf8_lossy(&out)
    );
    assert_eq!(status, Some(ExitStatus::Code(3)));
    let report = pty.shutdown(Duration::from_secs(1));
    assert_eq!(report.status, Some(ExitStatus::Code(3)));
    assert!(!report.killed);
}

#[test]
fn death_by_signal_maps_to_128_plus_n() {
    let (_pty, mut rx) = AgentPty::spawn(spec(&["sh", "-c", "kill -USR1 $$"])).expect("spawn");
    let (_, status) = drain(&mut rx, |_| false);
    assert_eq!(status, Some(ExitStatus::Signal(libc::SIGUSR1)));
    assert_eq!(
        status.map(ExitStatus::shell_code),
        Some(128 + libc::SIGUSR1)
    );
}

#[test]
fn cwd_env_additions_and_removals_apply() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut s = spec(&[
        "sh",
        "-c",
        "echo \"cwd=$(pwd) foo=$FOO home=${HOME-unset} term=$TERM\"",
    ]);
    s.cwd = dir.path().to_path_buf();
    s.env_set.push(("FOO".into(), "bar baz".into()));
    s.env_remove.push("HOME".into());
    let (_pty, mut rx) = AgentPty::spawn(s).expect("spawn");
    let (out, status) = drain(&mut rx, |_| false);
    let text = String::from_utf8_lossy(&out);
    let cwd = dir.path().canonicalize().expect("canonical tempdir");
    assert!(text.contains(&format!("cwd={}", cwd.display())), "{text}");
    assert!(
        text.contains("foo=bar baz home=unset term=xterm-256color"),
        "{text}"
    );
    assert_eq!(status, Some(ExitStatus::Code(0)));
}

#[test]
fn writer_and_resize_reach_the_agent() {
    let (pty, mut rx) = AgentPty::spawn(spec(&[
        "bash",
        "-c",
        "read -r line; echo \"got=$line size=$(stty size)\"",
    ]))
    .expect("spawn");
    pty.resize(PaneSize {
        cols: 100,
        rows: 30,
    })
    .expect("resize");
    pty.writer().write(b"typed text\r".to_vec()).expect("write");
    let (out, status) = drain(&mut rx, |_| false);
    assert!(
        contains(&out, "got=typed text size=30 100"),
        "{:?}",
        String::from_utf8_lossy(&out)
    );
    assert_eq!(status, Some(ExitStatus::Code(0)));
}

#[test]
fn pause_stops_and_resume_continues_every_group_of_the_agent() {
    // `set -m`: job control puts the background sleep in its own process group, as an interactive
    // shell agent does with every command.
    let (pty, mut rx) = AgentPty::spawn(spec(&[
        "bash",
        "-c",
        "set -m; sleep 100 & echo ready; while :; do sleep 0.2; done",
    ]))
    .expect("spawn");
    drain(&mut rx, |out| contains(out, "ready"));
    let pid = pty.pgid().expect("pgid");
    wait_for("the background sleep", || {
        agent_tree(pid).iter().any(|p| p.comm == "sleep")
    });
    let sleep = agent_tree(pid)
        .into_iter()
        .find(|p| p.comm == "sleep")
        .expect("sleep")
        .pid;
    pty.pause().expect("pause");
    wait_for("both stopped", || {
        [pid, sleep]
            .iter()
            .all(|p| read_proc(*p).is_some_and(|p| p.state == 'T'))
    });
    pty.resume().expect("resume");
    wait_for("both running again", || {
        [pid, sleep]
            .iter()
            .all(|p| read_proc(*p).is_some_and(|p| p.state != 'T'))
    });
    let report = pty.shutdown(Duration::from_millis(300));
    assert!(report.status.is_some());
    assert!(!alive(pid) && !alive(sleep));
}

#[test]
fn closing_the_pty_ends_an_agent_that_reads_its_terminal() {
    let (pty, mut rx) = AgentPty::spawn(spec(&["cat"])).expect("spawn");
    pty.writer().write(b"ping\r".to_vec()).expect("write");
    drain(&mut rx, |out| contains(out, "ping\r\nping"));
    let pid = pty.pgid().expect("pgid");
    let report = pty.shutdown(Duration::from_secs(5));
    assert!(!report.killed, "the hangup alone ended it: {report:?}");
    assert!(report.status.is_some());
    assert!(!alive(pid));
}

#[test]
fn shutdown_kills_an_agent_ignoring_term_and_hup_and_its_detached_child() {
    let script = "trap '' TERM HUP; setsid sleep 101 & echo ready; sleep 100; :";
    let (pty, mut rx) = AgentPty::spawn(spec(&["bash", "-c", script])).expect("spawn");
    drain(&mut rx, |out| contains(out, "ready"));
    let pid = pty.pgid().expect("pgid");
    wait_for("both sleeps", || {
        agent_tree(pid).iter().filter(|p| p.comm == "sleep").count() == 2
    });
    let tree: Vec<i32> = agent_tree(pid).iter().map(|p| p.pid).collect();
    let detached = agent_tree(pid)
        .into_iter()
        .find(|p| p.session != pid)
        .expect("setsid sleep");
    let started = Instant::now();
    let report = pty.shutdown(Duration::from_millis(300));
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(report.killed, "{report:?}");
    assert_eq!(report.status, Some(ExitStatus::Signal(libc::SIGKILL)));
    assert!(
        report
            .leftovers
            .iter()
            .any(|(p, comm)| *p as i32 == detached.pid && comm == "sleep"),
        "the detached sleep is reported: {report:?}"
    );
    wait_for("nothing left", || {
        !alive(pid) && tree.iter().all(|p| !alive(*p))
    });
}

#[test]
fn dropping_the_pty_kills_the_group() {
    let (pty, mut rx) =
        AgentPty::spawn(spec(&["bash", "-c", "trap '' HUP; echo ready; sleep 100"]))
            .expect("spawn");
    drain(&mut rx, |out| contains(out, "ready"));
    let pid = pty.pgid().expect("pgid");
    drop(pty);
    // The waiter thread reaps it, so it does not even stay a zombie.
    wait_for("agent gone", || read_proc(pid).is_none());
}

#[test]
fn spawning_a_missing_program_is_a_clear_error() {
    let err = AgentPty::spawn(spec(&["/nonexistent/agent"]))
        .err()
        .expect("fails");
    assert!(err.to_string().contains("/nonexistent/agent"), "{err}");
    assert!(AgentPty::spawn(spec(&[])).is_err());
}

#[test]
fn other_programs_overwatch_starts_do_not_inherit_the_pty_master() {
    let (pty, mut rx) =
        AgentPty::spawn(spec(&["bash", "-c", "echo ready; sleep 100; :"])).expect("spawn");
    drain(&mut rx, |out| contains(out, "ready"));
    // A later std::process::Command (git, a probe) must not hold the master open.
    let out = std::process::Command::new("sh")
        .args(["-c", "ls -l /proc/$$/fd"])
        .output()
        .expect("run sh");
    let listing = String::from_utf8_lossy(&out.stdout);
    assert!(
        !listing.contains("ptmx") && !listing.contains("/dev/pts"),
        "{listing}"
    );
    pty.shutdown(Duration::from_millis(200));
}

#[test]
fn replies_from_the_model_reach_an_agent_waiting_for_them() {
    // The loop the app runs: PTY output → model.feed → model.take_replies → PTY writer.
    // `stty -echo` first so the replies are not echoed; XTVERSION's reply is read up to its ST's
    // backslash, then DA1's up to its final 'c'.
    let script = r#"stty -echo; printf '\033[>0q\033[c'; IFS= read -r -d '\' xtversion; IFS= read -r -d c da1; printf 'xtversion=%q da1=%q\n' "$xtversion" "$da1""#;
    let (pty, mut rx) = AgentPty::spawn(spec(&["bash", "-c", script])).expect("spawn");
    let mut model = super::TerminalModel::new(PaneSize { cols: 80, rows: 24 }, 100);
    let writer = pty.writer();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("runtime");
    let status = rt.block_on(async {
        loop {
            match tokio::time::timeout(LIMIT, rx.recv())
                .await
                .expect("agent answered in time")
            {
                Some(PtyEvent::Output(bytes)) => {
                    model.feed(&bytes);
                    writer.write(model.take_replies()).expect("write replies");
                }
                Some(PtyEvent::Exited(status)) => return status,
                None => panic!("channel closed before exit"),
            }
        }
    });
    assert_eq!(status, ExitStatus::Code(0));
    assert!(
        model
            .screen_text()
            .contains(r"xtversion=$'\EP>|overwatch(0.1.0)\E' da1=$'\E[?6'"),
        "{}",
        model.screen_text()
    );
}
