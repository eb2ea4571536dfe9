//! The gate's client side through the real binary, without a session: hook adapters refusing bad
//! input in each agent's format, fail-closed behaviour when the announced gate is missing, the
//! shim's loop guards, and `hook install`. (Tests with a running gate live in
//! `src/gate/e2e_tests.rs`, where a scripted human can answer in-process as the TUI does.)

use std::io::Write;
use std::process::{Command, Output, Stdio};

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
