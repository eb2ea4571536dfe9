//! The gate's client side through the real binary, without a session: hook adapters refusing bad
//! input in each agent's format, fail-closed behaviour when the announced gate is missing, the
//! shim's loop guards, and `hook install`. (Tests with a running gate live in
//! `src/gate/e2e_tests.rs`, where a scripted human can answer in-process as the TUI does.)

#[path = "support/tmux.rs"]
mod tmux;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

fn overwatch(args: &[&str], env: &[(&str, &str)], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_overwatch"))
        .args(args)
        .env_remove("OVERWATCH_SOCKET")
        .env_remove("OVERWATCH_SESSION")
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    // The adapter may answer before reading everything (oversized input): ignore EPIPE.
    let _ = input.write_all(stdin);
    drop(input);
    child.wait_with_output().unwrap()
}

fn json(out: &Output) -> serde_json::Value {
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {out:?}"))
}

#[test]
fn malformed_input_is_denied_in_every_agents_format() {
    let claude = json(&overwatch(&["hook", "claude-code"], &[], b"not json"));
    assert_eq!(claude["hookSpecificOutput"]["permissionDecision"], "deny");
    assert!(
        claude["hookSpecificOutput"]["permissionDecisionReason"]
            .as_str()
            .unwrap()
            .contains("not valid JSON")
    );
    let codex = json(&overwatch(&["hook", "codex"], &[], b"{}"));
    assert_eq!(codex["hookSpecificOutput"]["permissionDecision"], "deny");
    let gemini = json(&overwatch(&["hook", "gemini"], &[], b""));
    assert_eq!(gemini["decision"], "deny");
    let unknown = json(&overwatch(
        &["hook", "claude-code"],
        &[],
        br#"{"tool_name":"WebFetch","tool_input":{"url":"https://x"}}"#,
    ));
    assert_eq!(unknown["hookSpecificOutput"]["permissionDecision"], "deny");
}

#[test]
fn oversized_hook_input_is_denied_unread() {
    let mut big = br#"{"tool_name":"Bash","tool_input":{"command":""#.to_vec();
    big.resize(8 * 1024 * 1024 + 10, b'a');
    let out = json(&overwatch(&["hook", "claude-code"], &[], &big));
    let reason = out["hookSpecificOutput"]["permissionDecisionReason"]
        .as_str()
        .unwrap();
    assert!(reason.contains("larger than"), "{reason}");
}

#[test]
fn a_missing_gate_fails_closed_for_held_commands() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("gone.sock");
    let env = [
        ("OVERWATCH_SOCKET", sock.to_str().unwrap()),
        ("OVERWATCH_SESSION", "0000"),
    ];
    let payload = br#"{"tool_name":"run_shell_command","cwd":"/","tool_input":{"command":"kubectl delete ns payments"}}"#;
    let gemini = json(&overwatch(&["hook", "gemini"], &env, payload));
    assert_eq!(gemini["decision"], "deny");
    assert!(gemini["reason"].as_str().unwrap().contains("unreachable"));
}

#[test]
fn shim_refuses_loops_and_reports_missing_programs() {
    let out = overwatch(
        &["shim", "kubectl", "get", "pods"],
        &[("OVERWATCH_SHIM_DEPTH", "8")],
        b"",
    );
    assert_eq!(out.status.code(), Some(126), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("nested"));

    let dir = tempfile::tempdir().unwrap();
    let out = overwatch(
        &["shim", "definitely-not-a-program", "x"],
        &[("PATH", dir.path().to_str().unwrap())],
        b"",
    );
    assert_eq!(out.status.code(), Some(127), "{out:?}");
}

/// An agent controls the environment of the shims and hooks it runs. On Linux with glibc the
/// binary is static (`.cargo/config.toml`), so `LD_PRELOAD` cannot load the agent's code into
/// it: a preloaded library whose constructor leaves a marker file leaves none from overwatch,
/// while a dynamic program (`/bin/sh`) run the same way shows the library works.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[test]
fn ld_preload_cannot_load_code_into_a_hook_or_shim() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("inject.c");
    std::fs::write(
        &src,
        "#include <fcntl.h>\n#include <stdlib.h>\n#include <unistd.h>\n\
         __attribute__((constructor)) static void inject(void) {\n\
           const char *m = getenv(\"INJECT_MARKER\");\n\
           if (m) { int fd = open(m, O_CREAT | O_WRONLY, 0600); if (fd >= 0) close(fd); }\n\
         }\n",
    )
    .unwrap();
    let lib = dir.path().join("inject.so");
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let built = Command::new(&cc)
        .args(["-shared", "-fPIC", "-o"])
        .arg(&lib)
        .arg(&src)
        .output()
        .unwrap_or_else(|e| panic!("{cc} (needed to build tree-sitter too): {e}"));
    assert!(built.status.success(), "{built:?}");
    let marker = dir.path().join("injected");
    let env = [
        ("LD_PRELOAD", lib.to_str().unwrap()),
        ("INJECT_MARKER", marker.to_str().unwrap()),
    ];

    let control = Command::new("/bin/sh")
        .args(["-c", "exit 0"])
        .envs(env)
        .status()
        .unwrap();
    assert!(control.success());
    assert!(marker.exists(), "the library runs in a dynamic program");
    std::fs::remove_file(&marker).unwrap();

    let hook = json(&overwatch(
        &["hook", "claude-code"],
        &env,
        &claude_bash("rm -rf /"),
    ));
    assert_eq!(hook["hookSpecificOutput"]["permissionDecision"], "deny");
    let shim = overwatch(&["shim", "definitely-not-a-program"], &env, b"");
    assert_eq!(shim.status.code(), Some(127), "{shim:?}");
    assert!(!marker.exists(), "LD_PRELOAD ran code inside overwatch");
}

#[test]
fn hook_install_prints_without_writing() {
    let home = tempfile::tempdir().unwrap();
    let out = overwatch(
        &["hook", "install", "--agent", "claude-code"],
        &[("HOME", home.path().to_str().unwrap())],
        b"",
    );
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("hook claude-code"), "{text}");
    assert!(text.contains("\"timeout\": 600"), "{text}");
    assert!(!home.path().join(".claude/settings.json").exists());
}

fn claude_bash(command: &str) -> Vec<u8> {
    serde_json::json!({"session_id": "s", "cwd": "/", "hook_event_name": "PreToolUse",
        "tool_name": "Bash", "tool_input": {"command": command}})
    .to_string()
    .into_bytes()
}

#[test]
fn standalone_hook_answers_from_the_built_in_packs() {
    let home = tempfile::tempdir().unwrap();
    let env = [("HOME", home.path().to_str().unwrap())];
    // No opinion for a harmless command: Claude's own permissions apply.
    let out = overwatch(&["hook", "claude-code"], &env, &claude_bash("ls -la"));
    assert!(out.status.success() && out.stdout.is_empty(), "{out:?}");
    // Confirm outside a session → Claude asks its human.
    let ask = json(&overwatch(
        &["hook", "claude-code"],
        &env,
        &claude_bash("git push --force origin main"),
    ));
    assert_eq!(ask["hookSpecificOutput"]["permissionDecision"], "ask");
    // Deny stays deny.
    let deny = json(&overwatch(
        &["hook", "claude-code"],
        &env,
        &claude_bash("rm -rf /"),
    ));
    assert_eq!(deny["hookSpecificOutput"]["permissionDecision"], "deny");
}

#[test]
fn a_missing_gate_still_lets_allowed_commands_through() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("gone.sock");
    let env = [
        ("OVERWATCH_SOCKET", sock.to_str().unwrap()),
        ("OVERWATCH_SESSION", "0000"),
        ("HOME", dir.path().to_str().unwrap()),
    ];
    let out = overwatch(&["hook", "claude-code"], &env, &claude_bash("git status"));
    assert!(out.status.success() && out.stdout.is_empty(), "{out:?}");
    let held = json(&overwatch(
        &["hook", "claude-code"],
        &env,
        &claude_bash("git push --force origin main"),
    ));
    assert_eq!(held["hookSpecificOutput"]["permissionDecision"], "deny");
}

fn git(dir: &Path, args: &[&str]) -> String {
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
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Inside `overwatch run` under tmux: a force push to the protected `main` of a real bare
/// remote is held by the modal; `y` alone is only text (the branch name must be typed), Esc
/// denies and the remote is unchanged; typing `main` then `y` lets it through. Both decisions
/// are in the session's audit log with the human as decider.
#[test]
fn force_push_is_held_in_the_tui_until_the_branch_name_is_typed() {
    if !tmux::tmux_available() {
        eprintln!("skipping: tmux is not installed (apt-get install tmux)");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    git(root, &["init", "-q", "--bare", "-b", "main", "origin.git"]);
    git(root, &["init", "-q", "-b", "main", "work"]);
    let work = root.join("work");
    std::fs::write(work.join("a.txt"), "one\n").unwrap();
    git(&work, &["add", "a.txt"]);
    git(&work, &["commit", "-qm", "one"]);
    let origin = root.join("origin.git");
    git(
        &work,
        &["remote", "add", "origin", origin.to_str().unwrap()],
    );
    git(&work, &["push", "-q", "origin", "main"]);
    git(&work, &["commit", "-q", "--amend", "-m", "rewritten"]);
    let remote = || {
        git(
            root,
            &["ls-remote", origin.to_str().unwrap(), "refs/heads/main"],
        )
    };
    let before = remote();

    let state = root.join("state");
    let t = tmux::Tmux::start(tmux::Launch {
        args: "run -- sh",
        env: &[("XDG_STATE_HOME", state.to_str().unwrap())],
        cwd: Some(&work),
        timeout: Duration::from_secs(30),
        ..tmux::Launch::default()
    });
    t.wait_for("$ ");
    t.text("git push --force origin main");
    t.keys(&["Enter"]);
    let screen = t.wait_for("type the target");
    assert!(screen.contains("PRODUCTION"), "{screen}");
    t.keys(&["y"]);
    let screen = t.wait_for("> y");
    assert!(
        screen.contains("type the target"),
        "y must not approve: {screen}"
    );
    t.keys(&["Escape"]);
    t.wait_until("the modal to close", |s| !s.contains("type the target"));
    assert_eq!(remote(), before, "a denied force push changed the remote");
    // A retry of the exact same command moments later is denied without asking (the shell's
    // PATH retries and every layer see it), so approve a differently spelled push.
    t.text("git push --force origin HEAD:main");
    t.keys(&["Enter"]);
    t.wait_for("type the target");
    t.text("main");
    t.keys(&["y"]);
    t.wait_until("the push to go through", |_| remote() != before);

    let sessions = state.join("overwatch/sessions");
    let session = std::fs::read_dir(&sessions)
        .unwrap()
        .next()
        .unwrap()
        .unwrap();
    let audit = std::fs::read_to_string(session.path().join("audit.jsonl")).unwrap();
    let pushes: Vec<serde_json::Value> = audit
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|r| {
            r["command"]
                .as_str()
                .is_some_and(|c| c.contains("push --force"))
        })
        .filter(|r| r["decided_by"] == "human")
        .collect();
    assert_eq!(pushes.len(), 2, "{audit}");
    assert_eq!(pushes[0]["decision"], "deny");
    assert_eq!(pushes[1]["decision"], "allow");
    assert_eq!(pushes[1]["tier"], "production");
}
