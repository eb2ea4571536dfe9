//! End-to-end tests of `overwatch run` through a real PTY: tmux plays the human's terminal
//! (120×40), overwatch runs in it, and the agent runs in overwatch's own PTY.
//!
//! Each test has its own tmux server and always kills it (see `support/tmux.rs`).

#[path = "support/tmux.rs"]
mod tmux;

use std::process::Command;
use std::time::Duration;

use tmux::{Launch, Tmux, agent_pid, agent_rows, layout_defect, process_state, tmux_available};

macro_rules! require_tmux {
    () => {
        if !tmux_available() {
            eprintln!("skipping: tmux is not installed (apt-get install tmux)");
            return;
        }
    };
}

fn overwatch(args: &str, env: &[(&str, &str)]) -> Tmux {
    Tmux::start(Launch {
        args,
        env,
        ..Launch::default()
    })
}

/// bash works as in a terminal; the pane is laid out; scrollback pages through history; bash's
/// exit code becomes overwatch's.
#[test]
fn bash_echoes_and_exit_code_propagates() {
    require_tmux!();
    let t = overwatch("run -- bash --norc", &[]);
    t.wait_for("$ ");
    // A tab in the output once crashed the renderer (the emulator keeps `\t` in the cell).
    t.text("echo hi-$((6*7)); printf 'tab\\there\\n'");
    t.keys(&["Enter"]);
    let screen = t.wait_for("tab     here");
    assert!(screen.contains("hi-42"), "{screen}");
    assert_eq!(layout_defect(&screen, "bash --norc"), None, "{screen}");
    assert!(
        screen.contains("● running") && screen.contains("[Context]"),
        "{screen}"
    );

    // Scrollback: prefix PgUp shows history the agent scrolled off; Esc returns to live.
    t.text("seq 1 200");
    t.keys(&["Enter"]);
    t.wait_until("seq's last line", |s| {
        agent_rows(s).iter().any(|r| r.trim() == "200")
    });
    t.keys(&["C-]", "PageUp"]);
    let screen = t.wait_for("scrollback 37/");
    assert!(
        agent_rows(&screen).iter().any(|r| r.trim() == "127"),
        "{screen}"
    );
    assert!(
        !agent_rows(&screen).iter().any(|r| r.trim() == "200"),
        "{screen}"
    );
    t.keys(&["Escape"]);
    t.wait_until("the live screen", |s| {
        !s.contains("scrollback") && agent_rows(s).iter().any(|r| r.trim() == "200")
    });

    t.text("exit 7");
    t.keys(&["Enter"]);
    t.wait_for("agent exited with 7 — press any key");
    t.keys(&["x"]);
    t.wait_for("EXIT=7");
    assert_eq!(t.display("#{alternate_on}"), "0", "still in the alt screen");
}

/// `less` switches the agent to its alternate screen; quitting it restores the shell's screen.
#[test]
fn less_shows_its_alt_screen_and_quits() {
    require_tmux!();
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"));
    let file = dir.path().join("numbers.txt");
    let text: String = (1..=200).map(|i| format!("line number {i}\n")).collect();
    std::fs::write(&file, text).unwrap_or_else(|e| panic!("writing {}: {e}", file.display()));
    let t = overwatch("run -- bash --norc", &[("LESS", "")]);
    t.wait_for("$ ");
    t.text("echo before-less");
    t.keys(&["Enter"]);
    t.wait_for("before-less");
    t.text(&format!("less {}", file.display()));
    t.keys(&["Enter"]);
    let screen = t.wait_for("line number 37");
    assert!(
        !screen.contains("before-less"),
        "less should own the alt screen:\n{screen}"
    );
    assert!(
        !screen.contains("line number 39"),
        "less must fit the agent pane (38 rows)"
    );
    t.keys(&["q"]);
    let screen = t.wait_for("before-less");
    assert!(!screen.contains("line number 37"), "{screen}");
    t.keys(&["C-]", "q", "y"]);
    t.wait_for("EXIT=");
}

/// A curses program renders (colours, box drawing, positioned text) and reads keys.
#[test]
fn curses_program_renders_and_reads_keys() {
    require_tmux!();
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"));
    let script = dir.path().join("ui.py");
    std::fs::write(
        &script,
        r#"import curses, sys
def main(w):
    curses.curs_set(0)
    h, width = w.getmaxyx()
    w.border()
    w.addstr(h // 2, 2, f"curses size {width}x{h}", curses.A_REVERSE)
    w.addstr(h // 2 + 1, 2, "press k")
    w.refresh()
    while w.getkey() != "k":
        pass
    return 5
sys.exit(curses.wrapper(main))
"#,
    )
    .unwrap_or_else(|e| panic!("writing the script: {e}"));
    let t = overwatch(&format!("run -- python3 {}", script.display()), &[]);
    // The PTY is the agent pane (120 - 45 side panel = 75 columns, 40 - 2 bars = 38 rows).
    let screen = t.wait_for("curses size 75x38");
    assert!(
        screen.contains("┌") || screen.contains("lqq"),
        "border:\n{screen}"
    );
    t.keys(&["k"]);
    t.wait_for("agent exited with 5");
    t.keys(&["Enter"]);
    t.wait_for("EXIT=5");
}

/// Prefix p stops the agent's process group (its output freezes) and resumes it; quitting while
/// the agent runs asks first.
#[test]
fn pause_stops_the_agent_and_quit_asks() {
    require_tmux!();
    let t = overwatch(
        "run -- bash --norc -c 'i=0; while :; do i=$((i+1)); echo tick $i; sleep 0.05; done'",
        &[],
    );
    let screen = t.wait_for("tick 5");
    let pid = agent_pid(&screen);
    t.keys(&["C-]", "p"]);
    t.wait_for("PAUSED");
    t.wait_until("the agent to be stopped", |_| {
        process_state(pid) == Some('T')
    });
    let frozen = t.screen();
    std::thread::sleep(Duration::from_millis(600));
    let later = t.screen();
    assert_eq!(
        agent_rows(&frozen),
        agent_rows(&later),
        "output continued while paused"
    );

    t.keys(&["C-]", "p"]);
    t.wait_for("● running");
    t.wait_until("output to resume", |s| agent_rows(s) != agent_rows(&later));

    t.keys(&["C-]", "q"]);
    t.wait_for("Quit overwatch and stop it?");
    t.keys(&["n"]);
    t.wait_until("the question to close", |s| !s.contains("Quit overwatch"));
    assert!(process_state(pid).is_some(), "n must keep the agent");
    t.keys(&["C-]", "q", "y"]);
    t.wait_for("EXIT=");
    assert_eq!(
        process_state(pid),
        None,
        "the agent must be gone after quit"
    );
}

/// A panic inside the loop restores the terminal (main screen, cursor visible, cooked mode) and
/// kills the agent's process group.
#[test]
fn terminal_is_restored_after_a_panic() {
    require_tmux!();
    let marker = format!("sleep {}", 900_000 + std::process::id() % 10_000);
    let t = overwatch(
        &format!("run -- {marker}"),
        &[("OVERWATCH_TEST_PANIC", "1"), ("RUST_BACKTRACE", "0")],
    );
    let screen = t.wait_for("EXIT=101");
    assert!(
        screen.contains("OVERWATCH_TEST_PANIC"),
        "panic message:\n{screen}"
    );
    assert_eq!(t.display("#{alternate_on}"), "0", "left in the alt screen");
    assert_eq!(t.display("#{cursor_flag}"), "1", "cursor left hidden");
    // Cooked mode: the line discipline echoes what we type.
    t.text("typed-after-panic");
    t.wait_for("typed-after-panic");
    let leftover = Command::new("pgrep")
        .args(["-f", &format!("^{marker}$")])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    assert!(leftover.is_empty(), "agent survived the panic: {leftover}");
}

/// A kubeconfig with two contexts, `current` selected.
fn kubeconfig(current: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Config\ncurrent-context: {current}\nclusters:\n- name: eu\n  cluster:\n    server: https://k8s.example:6443\ncontexts:\n- name: staging-eu\n  context:\n    cluster: eu\n    user: u\n- name: prod-eu\n  context:\n    cluster: eu\n    user: u\nusers:\n- name: u\n  user:\n    token: not-a-secret\n"
    )
}

/// Issue 3's "done when": the status bar shows the session's tier from the start, and when the
/// kube context is switched under a running session (another terminal runs `kubectl config
/// use-context`) overwatch warns in the status bar and the Activity tab, and the tier follows.
#[test]
fn context_switch_under_a_running_session_is_warned() {
    require_tmux!();
    let home = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let kube = home.path().join(".kube");
    std::fs::create_dir_all(&kube).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(kube.join("config"), kubeconfig("staging-eu")).unwrap_or_else(|e| panic!("{e}"));
    let home_str = home.path().display().to_string();
    let workspace = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let t = Tmux::start(Launch {
        args: "run --no-record --no-exec-gate -- bash --norc",
        env: &[("HOME", &home_str)],
        unset: &["KUBECONFIG"],
        cwd: Some(workspace.path()),
        ..Launch::default()
    });
    let first = t.wait_for("STAGING");
    assert!(
        first.contains("kube:staging-eu"),
        "key facts missing:\n{first}"
    );

    // Switch the context the way kubectl does: rewrite the file.
    std::fs::write(kube.join("config"), kubeconfig("prod-eu")).unwrap_or_else(|e| panic!("{e}"));
    // The status bar: the banner replaces the command line, the tier badge follows.
    let warned = t.wait_for("⚠ kube context changed: staging-eu");
    let status = warned.lines().next().unwrap_or_default();
    assert!(
        status.contains("PRODUCTION"),
        "the tier must follow the switch:\n{warned}"
    );

    // The warning stays in the Activity tab after the banner.
    t.keys(&["C-]", "a"]);
    let activity = t.wait_for("WARN");
    assert!(activity.contains("staging-eu → prod-eu"), "{activity}");
    assert!(
        !activity.contains("not-a-secret"),
        "a token was rendered:\n{activity}"
    );
}

/// The agent runs as the same user as overwatch, so nothing but PR_SET_DUMPABLE keeps it from
/// ptracing the supervisor or reading its memory and environment through /proc and approving its
/// own commands. Root may read any process, so as root both run as `nobody`; reading its own
/// /proc entry is the control that the probe itself works.
#[test]
fn the_agent_cannot_read_the_supervisors_memory() {
    require_tmux!();
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("peek.sh");
    std::fs::write(
        &script,
        r#"cat /proc/$$/environ >/dev/null 2>&1 && echo "SELF=open" || echo "SELF=denied"
cat /proc/$PPID/environ >/dev/null 2>&1 && echo "SUPERVISOR=open" || echo "SUPERVISOR=denied"
exec sleep 600
"#,
    )
    .unwrap();
    let root = nix::unistd::geteuid().is_root();
    let home = dir.path().join("home");
    std::fs::create_dir(&home).unwrap();
    if root {
        let nobody = nix::unistd::User::from_name("nobody").unwrap().unwrap();
        for p in [dir.path(), home.as_path(), script.as_path()] {
            nix::unistd::chown(p, Some(nobody.uid), Some(nobody.gid)).unwrap();
        }
    }
    let home_s = home.display().to_string();
    let config = home.join(".config").display().to_string();
    let args = format!("run --no-record --no-exec-gate -- sh {}", script.display());
    let t = Tmux::start(Launch {
        args: &args,
        env: &[("HOME", &home_s), ("XDG_CONFIG_HOME", &config)],
        wrapper: if root {
            "setpriv --reuid=nobody --regid=nogroup --clear-groups"
        } else {
            ""
        },
        ..Launch::default()
    });
    let screen = t.wait_for("SUPERVISOR=");
    assert!(screen.contains("SELF=open"), "{screen}");
    assert!(screen.contains("SUPERVISOR=denied"), "{screen}");
}
