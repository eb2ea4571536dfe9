//! A tmux session playing the human's 120×40 terminal, for end-to-end tests of `overwatch run`.
//! Shared by `tests/e2e.rs` and `tests/agents.rs` (included with `#[path]`).
//!
//! Every session has its own tmux server (`tmux -L ow-test-<pid>-<n>`), so tests run in
//! parallel, and the server is killed on drop even when an assertion fails. Waits poll
//! `capture-pane` and report the last screen when they time out.

#![allow(dead_code)] // each test binary uses a different subset

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

static NEXT: AtomicUsize = AtomicUsize::new(0);

/// The width of the agent pane at 120×40 with the default 38 % side panel.
pub const AGENT_COLS: usize = 75;

/// How to start overwatch.
pub struct Launch<'a> {
    /// Arguments after `overwatch`.
    pub args: &'a str,
    /// Variables to set (values are single-quoted for `sh`).
    pub env: &'a [(&'a str, &'a str)],
    /// Variables to remove.
    pub unset: &'a [&'a str],
    /// Working directory of overwatch (and so of the agent).
    pub cwd: Option<&'a Path>,
    /// How long `wait_*` polls before failing.
    pub timeout: Duration,
    /// A command overwatch runs under (`setpriv --reuid=nobody …`), empty for none.
    pub wrapper: &'a str,
}

impl Default for Launch<'_> {
    fn default() -> Self {
        Launch {
            args: "",
            env: &[],
            unset: &[],
            cwd: None,
            timeout: Duration::from_secs(15),
            wrapper: "",
        }
    }
}

pub struct Tmux {
    socket: String,
    timeout: Duration,
    _config_home: tempfile::TempDir,
}

impl Tmux {
    /// Starts overwatch in a fresh tmux server, with its own empty `XDG_CONFIG_HOME` and
    /// `PS1='$ '`. After overwatch exits the pane prints `EXIT=<code>` and stays open.
    pub fn start(launch: Launch<'_>) -> Tmux {
        let config_home = tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"));
        let socket = format!(
            "ow-test-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        );
        let mut vars = String::new();
        for name in launch.unset {
            vars.push_str(&format!(" -u {name}"));
        }
        vars.push_str(&format!(
            " XDG_CONFIG_HOME={} PS1='$ ' TERM=xterm-256color",
            config_home.path().display()
        ));
        for (k, v) in launch.env {
            vars.push_str(&format!(" {k}='{v}'"));
        }
        let command = format!(
            "env{vars} {} {} {}; echo EXIT=$?; sleep 600",
            launch.wrapper,
            bin().display(),
            launch.args
        );
        let tmux = Tmux {
            socket,
            timeout: launch.timeout,
            _config_home: config_home,
        };
        let cwd = launch
            .cwd
            .map_or_else(|| ".".to_string(), |p| p.display().to_string());
        tmux.run(&[
            "new-session",
            "-d",
            "-x",
            "120",
            "-y",
            "40",
            "-c",
            &cwd,
            &command,
        ]);
        tmux
    }

    pub fn run(&self, args: &[&str]) -> Output {
        let out = Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(["-f", "/dev/null"])
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("running tmux {args:?}: {e}"));
        assert!(
            out.status.success(),
            "tmux {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    /// Sends keys by tmux name (`Enter`, `C-]`, `PageUp`) or single characters.
    pub fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "0"];
        args.extend_from_slice(keys);
        self.run(&args);
    }

    /// Types literal text.
    pub fn text(&self, text: &str) {
        self.run(&["send-keys", "-t", "0", "-l", text]);
    }

    pub fn screen(&self) -> String {
        String::from_utf8_lossy(&self.run(&["capture-pane", "-p", "-t", "0"]).stdout).into_owned()
    }

    /// A tmux format for the pane, e.g. `#{alternate_on}`.
    pub fn display(&self, format: &str) -> String {
        String::from_utf8_lossy(&self.run(&["display", "-p", "-t", "0", format]).stdout)
            .trim()
            .to_string()
    }

    /// Polls the screen until `predicate` holds; panics with `what` and the last screen.
    pub fn wait_until(&self, what: &str, predicate: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let screen = self.screen();
            if predicate(&screen) {
                return screen;
            }
            if start.elapsed() > self.timeout {
                panic!("timed out waiting for {what}; last screen:\n{screen}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn wait_for(&self, text: &str) -> String {
        self.wait_until(&format!("{text:?} on screen"), |s| s.contains(text))
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .output();
    }
}

pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_overwatch"))
}

pub fn tmux_available() -> bool {
    Command::new("tmux").arg("-V").output().is_ok()
}

/// The agent pane's rows (below the status bar, above the help bar), cut to its width by display
/// columns.
pub fn agent_rows(screen: &str) -> Vec<String> {
    let rows: Vec<&str> = screen.lines().collect();
    rows.iter()
        .skip(1)
        .take(38)
        .map(|l| {
            let mut out = String::new();
            let mut width = 0;
            for c in l.chars() {
                width += unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
                if width > AGENT_COLS {
                    break;
                }
                out.push(c);
            }
            out
        })
        .collect()
}

/// Checks overwatch's frame around the agent: the status bar on top naming `command`, the help
/// bar at the bottom, and the side panel's border at display column 75 of every body row (so the
/// agent never drew outside its pane). Returns a description of the first defect.
pub fn layout_defect(screen: &str, command: &str) -> Option<String> {
    let rows: Vec<&str> = screen.lines().collect();
    let first = rows.first().copied().unwrap_or_default();
    if !first.starts_with(" overwatch │") || !first.contains(command) {
        return Some(format!("status bar: {first:?}"));
    }
    if !rows.iter().any(|l| l.contains("Ctrl-] then:")) {
        return Some("help bar missing".into());
    }
    for (i, row) in rows.iter().enumerate().skip(1).take(38) {
        let mut width = 0;
        let mut at = None;
        for c in row.chars() {
            if width == AGENT_COLS {
                at = Some(c);
                break;
            }
            width += unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
        }
        if at != Some('│') {
            return Some(format!(
                "row {i} has no side panel border at column 75: {row:?}"
            ));
        }
    }
    None
}

/// The process state letter from /proc (`R`, `S`, `T` = stopped), or None when it is gone.
pub fn process_state(pid: u32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit(')').next()?.trim().chars().next()
}

/// The agent's pid, read from the status bar (`pid 1234`).
pub fn agent_pid(screen: &str) -> u32 {
    let first = screen.lines().next().unwrap_or_default();
    let after = first
        .split("pid ")
        .nth(1)
        .unwrap_or_else(|| panic!("no pid in status bar: {first}"));
    let digits: String = after.chars().take_while(char::is_ascii_digit).collect();
    digits
        .parse()
        .unwrap_or_else(|e| panic!("pid in {first:?}: {e}"))
}
