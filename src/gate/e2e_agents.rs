//! Real agents end to end: the Codex CLI and Claude Code, each launched with the hook overwatch
//! injects ([`install::agent_launch_plan`]) and talking to a scripted fake model API on
//! 127.0.0.1 (Responses API for Codex, Messages API for Claude) that answers with a shell tool
//! call. The agent's PreToolUse hook asks the running gate; the scripted human answers; the
//! PostgreSQL table shows whether the answer was enforced.
//!
//! They need the agents installed (`npm i -g @openai/codex @anthropic-ai/claude-code`, or
//! `OVERWATCH_TEST_CODEX` / `OVERWATCH_TEST_CLAUDE` pointing at the binaries), so they are
//! ignored by default: `cargo test gate::e2e_agents -- --ignored`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

use super::e2e_tests::{Harness, Postgres, make_shims, real_rules};
use super::*;

/// A fake model API on 127.0.0.1: each POST (path, JSON body) goes to `respond`, which returns
/// the content type and body to send back.
struct FakeApi {
    port: u16,
    /// Tool results the agent sent back (as JSON text), in order.
    tool_results: Arc<Mutex<Vec<String>>>,
}

type Responder = fn(&str, &Value, &str) -> (&'static str, String);

impl FakeApi {
    fn start(command: String, respond: Responder, results_of: fn(&Value) -> Vec<String>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let tool_results = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&tool_results);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let _ = serve(stream, &command, respond, results_of, &seen);
            }
        });
        FakeApi { port, tool_results }
    }
}

fn serve(
    stream: std::net::TcpStream,
    command: &str,
    respond: Responder,
    results_of: fn(&Value) -> Vec<String>,
    seen: &Mutex<Vec<String>>,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut length = 0usize;
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let path = request_line.split_whitespace().nth(1).unwrap_or("");
    let (content_type, payload) = if path.contains("count_tokens") || path.contains(":countTokens")
    {
        (
            "application/json",
            json!({"input_tokens": 10, "totalTokens": 1}).to_string(),
        )
    } else {
        seen.lock().unwrap().extend(results_of(&request));
        respond(path, &request, command)
    };
    let mut stream = stream;
    write!(
        stream,
        "HTTP/1.1 200 OK\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\n\
         connection: close\r\n\r\n{payload}",
        payload.len()
    )?;
    stream.flush()
}

/// Server-sent events with an `event:` line per event (its `type`).
fn sse(events: &[Value]) -> (&'static str, String) {
    let body = events
        .iter()
        .map(|e| format!("event: {}\ndata: {e}\n\n", e["type"].as_str().unwrap_or("")))
        .collect();
    ("text/event-stream", body)
}

/// OpenAI Responses API (Codex): a shell tool call running `command` with whichever shell tool
/// Codex offered, then — once a tool output comes back — a final message.
fn responses_api(_path: &str, request: &Value, command: &str) -> (&'static str, String) {
    let item = if responses_results(request).is_empty() {
        let tools: Vec<&str> = request["tools"]
            .as_array()
            .map(|t| t.iter().filter_map(|t| t["name"].as_str()).collect())
            .unwrap_or_default();
        let (name, args) = if tools.contains(&"exec_command") {
            ("exec_command", json!({ "cmd": command }))
        } else if tools.contains(&"shell_command") {
            ("shell_command", json!({ "command": command }))
        } else {
            ("shell", json!({ "command": ["bash", "-lc", command] }))
        };
        json!({"type": "function_call", "id": "fc_1", "call_id": "call_1", "name": name,
               "arguments": args.to_string()})
    } else {
        json!({"type": "message", "role": "assistant", "id": "msg_1",
               "content": [{"type": "output_text", "text": "done"}]})
    };
    sse(&[
        json!({"type": "response.created", "response": {"id": "resp_1"}}),
        json!({"type": "response.output_item.done", "item": item}),
        json!({"type": "response.completed", "response": {"id": "resp_1", "usage": {
            "input_tokens": 1, "output_tokens": 1, "total_tokens": 2}}}),
    ])
}

fn responses_results(request: &Value) -> Vec<String> {
    request["input"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter(|i| i["type"] == "function_call_output")
                .map(|i| i["output"].to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// Anthropic Messages API (Claude Code), streamed: a `Bash` tool_use running `command` when the
/// request offers Bash and carries no tool result yet, else a final text.
fn messages_api(_path: &str, request: &Value, command: &str) -> (&'static str, String) {
    let offers_bash = request["tools"]
        .as_array()
        .is_some_and(|t| t.iter().any(|t| t["name"] == "Bash"));
    let use_tool = offers_bash && messages_results(request).is_empty();
    let (block, delta, stop) = if use_tool {
        (
            json!({"type": "tool_use", "id": "toolu_01", "name": "Bash", "input": {}}),
            json!({"type": "input_json_delta",
                   "partial_json": json!({"command": command, "description": "drop it"}).to_string()}),
            "tool_use",
        )
    } else {
        (
            json!({"type": "text", "text": ""}),
            json!({"type": "text_delta", "text": "done"}),
            "end_turn",
        )
    };
    sse(&[
        json!({"type": "message_start", "message": {"id": "msg_1", "type": "message",
               "role": "assistant", "model": request["model"], "content": [],
               "stop_reason": null, "stop_sequence": null,
               "usage": {"input_tokens": 1, "output_tokens": 1}}}),
        json!({"type": "content_block_start", "index": 0, "content_block": block}),
        json!({"type": "content_block_delta", "index": 0, "delta": delta}),
        json!({"type": "content_block_stop", "index": 0}),
        json!({"type": "message_delta", "delta": {"stop_reason": stop, "stop_sequence": null},
               "usage": {"output_tokens": 1}}),
        json!({"type": "message_stop"}),
    ])
}

/// Gemini API (`generateContent` / `streamGenerateContent?alt=sse`): a `run_shell_command`
/// function call when the request offers that tool and carries no function response yet, else a
/// final text (also the answer to Gemini's tool-less routing calls).
fn gemini_api(path: &str, request: &Value, command: &str) -> (&'static str, String) {
    let offers_shell = request["tools"].as_array().is_some_and(|tools| {
        tools.iter().any(|t| {
            t["functionDeclarations"]
                .as_array()
                .is_some_and(|f| f.iter().any(|f| f["name"] == "run_shell_command"))
        })
    });
    let part = if offers_shell && gemini_results(request).is_empty() {
        json!({"functionCall": {"name": "run_shell_command",
                                "args": {"command": command, "description": "drop it"}}})
    } else {
        json!({"text": "done"})
    };
    let answer = json!({
        "candidates": [{"content": {"role": "model", "parts": [part]},
                        "finishReason": "STOP", "index": 0}],
        "usageMetadata": {"promptTokenCount": 1, "candidatesTokenCount": 1, "totalTokenCount": 2},
    });
    if path.contains("alt=sse") {
        ("text/event-stream", format!("data: {answer}\r\n\r\n"))
    } else {
        ("application/json", answer.to_string())
    }
}

fn gemini_results(request: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for content in request["contents"].as_array().into_iter().flatten() {
        for part in content["parts"].as_array().into_iter().flatten() {
            if let Some(response) = part.get("functionResponse") {
                out.push(response.to_string());
            }
        }
    }
    out
}

fn messages_results(request: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for message in request["messages"].as_array().into_iter().flatten() {
        for block in message["content"].as_array().into_iter().flatten() {
            if block["type"] == "tool_result" {
                out.push(block["content"].to_string());
            }
        }
    }
    out
}

fn codex_binary() -> PathBuf {
    std::env::var_os("OVERWATCH_TEST_CODEX")
        .map(PathBuf::from)
        .or_else(|| which::which("codex").ok())
        .expect("the Codex CLI: npm i -g @openai/codex, or set OVERWATCH_TEST_CODEX")
}

/// Runs `codex exec` (hook injected by overwatch's launch plan) against the fake API in `work`.
fn run_codex(
    h: &Harness,
    api: &FakeApi,
    work: &std::path::Path,
    codex_home: &std::path::Path,
    shims: &std::path::Path,
) -> std::thread::JoinHandle<std::process::Output> {
    let provider = format!(
        "model_providers.fake={{name=\"fake\",base_url=\"http://127.0.0.1:{}/v1\",wire_api=\"responses\"}}",
        api.port
    );
    let user_argv: Vec<String> = [
        codex_binary().to_string_lossy().as_ref(),
        "exec",
        "--skip-git-repo-check",
        "-c",
        "model_provider=fake",
        "-c",
        &provider,
        "-m",
        "gpt-5",
        "--dangerously-bypass-approvals-and-sandbox",
        "drop the orders table",
    ]
    .map(String::from)
    .to_vec();
    let plan = install::agent_launch_plan(&user_argv, &e2e_tests::overwatch_bin(), h.dir.path());
    assert_eq!(plan.agent, Some(hook::HookAgent::Codex));
    plan.prepare().unwrap();
    let mut cmd = Command::new(&plan.argv[0]);
    cmd.args(&plan.argv[1..])
        .current_dir(work)
        .env("CODEX_HOME", codex_home)
        .envs(plan.env.iter().cloned())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let path = std::env::var_os("PATH").unwrap_or_default();
    cmd.envs(install::shim_env(shims, &path));
    h.session_env(&mut cmd);
    let child = cmd.spawn().unwrap();
    std::thread::spawn(move || child.wait_with_output().unwrap())
}

#[test]
#[ignore = "needs the Codex CLI (npm i -g @openai/codex, or OVERWATCH_TEST_CODEX)"]
fn codex_cli_drop_table_is_held_by_its_hook_and_the_answer_enforced() {
    let pg = Postgres::start();
    let setup = pg.sql("CREATE TABLE orders (id int); INSERT INTO orders VALUES (1),(2),(3)");
    assert!(setup.status.success(), "{setup:?}");
    let h = Harness::new(real_rules());
    let tmp = tempfile::tempdir().unwrap();
    let work = tmp.path().join("work");
    let codex_home = tmp.path().join("codex-home");
    std::fs::create_dir_all(&work).unwrap();
    std::fs::create_dir_all(&codex_home).unwrap();
    let shims = make_shims(tmp.path(), &["psql"]);
    let command = format!("psql '{}' -c 'DROP TABLE orders'", pg.url());

    // Denied: Codex's hook is held by the gate, the human says no, the table survives.
    let api = FakeApi::start(command.clone(), responses_api, responses_results);
    let run = run_codex(&h, &api, &work, &codex_home, &shims);
    h.answer(HumanAnswer::Deny, |v| {
        assert_eq!(v.request.layer, Layer::Hook);
        assert_eq!(v.request.agent, "codex");
        assert!(v.command.contains("DROP TABLE orders"), "{}", v.command);
        assert!(
            !v.command.contains("hunter2"),
            "secret shown: {}",
            v.command
        );
    });
    let out = run.join().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("PreToolUse"), "{out:?}");
    let count = pg.sql("SELECT count(*) FROM orders");
    assert_eq!(
        String::from_utf8_lossy(&count.stdout).trim(),
        "3",
        "{count:?}"
    );
    let outputs = api.tool_results.lock().unwrap().clone();
    assert!(
        outputs.iter().any(|o| o.contains("denied by")),
        "the model should hear the reason: {outputs:?}"
    );

    // Approved: the same tool call now runs and drops the table.
    std::thread::sleep(
        super::pending::RECENT_DENIAL_WINDOW + std::time::Duration::from_millis(200),
    );
    let api = FakeApi::start(command, responses_api, responses_results);
    let run = run_codex(&h, &api, &work, &codex_home, &shims);
    h.answer(HumanAnswer::AllowOnce, |_| {});
    let out = run.join().unwrap();
    assert!(out.status.success(), "{out:?}");
    let gone = pg.sql("SELECT count(*) FROM orders");
    assert!(
        !gone.status.success(),
        "the table survived an approved DROP: {out:?}"
    );

    let audit = h.audit();
    let hook_records: Vec<_> = audit.iter().filter(|r| r.agent == "codex").collect();
    assert_eq!(hook_records.len(), 2, "{audit:?}");
    assert_eq!(hook_records[0].decided_by, DecidedBy::Human);
    assert_eq!(hook_records[0].decision, Decision::Deny);
    assert_eq!(hook_records[1].decision, Decision::Allow);
    assert!(audit.iter().all(|r| !r.command.contains("hunter2")));
}

fn claude_binary() -> PathBuf {
    std::env::var_os("OVERWATCH_TEST_CLAUDE")
        .map(PathBuf::from)
        .or_else(|| which::which("claude").ok())
        .expect("Claude Code: npm i -g @anthropic-ai/claude-code, or set OVERWATCH_TEST_CLAUDE")
}

/// Runs `claude -p` (hook injected through `--settings` by overwatch's launch plan) against the
/// fake Messages API, with an isolated HOME.
fn run_claude(
    h: &Harness,
    api: &FakeApi,
    work: &std::path::Path,
    home: &std::path::Path,
) -> std::thread::JoinHandle<std::process::Output> {
    let user_argv: Vec<String> = vec![
        claude_binary().to_string_lossy().into_owned(),
        "-p".into(),
        "drop the orders table".into(),
    ];
    let plan = install::agent_launch_plan(&user_argv, &e2e_tests::overwatch_bin(), h.dir.path());
    assert_eq!(plan.agent, Some(hook::HookAgent::ClaudeCode));
    let mut cmd = Command::new(&plan.argv[0]);
    cmd.args(&plan.argv[1..])
        .current_dir(work)
        .env("HOME", home)
        .env(
            "ANTHROPIC_BASE_URL",
            format!("http://127.0.0.1:{}", api.port),
        )
        .env("ANTHROPIC_API_KEY", "sk-ant-test-not-a-key")
        .env("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    h.session_env(&mut cmd);
    let child = cmd.spawn().unwrap();
    std::thread::spawn(move || child.wait_with_output().unwrap())
}

#[test]
#[ignore = "needs Claude Code (npm i -g @anthropic-ai/claude-code, or OVERWATCH_TEST_CLAUDE)"]
fn claude_code_drop_table_is_held_by_its_hook_and_the_answer_enforced() {
    let pg = Postgres::start();
    let setup = pg.sql("CREATE TABLE orders (id int); INSERT INTO orders VALUES (1),(2),(3)");
    assert!(setup.status.success(), "{setup:?}");
    let h = Harness::new(real_rules());
    let tmp = tempfile::tempdir().unwrap();
    let work = tmp.path().join("work");
    let home = tmp.path().join("home");
    std::fs::create_dir_all(&work).unwrap();
    std::fs::create_dir_all(&home).unwrap();
    let command = format!("psql '{}' -c 'DROP TABLE orders'", pg.url());

    let api = FakeApi::start(command.clone(), messages_api, messages_results);
    let run = run_claude(&h, &api, &work, &home);
    h.answer(HumanAnswer::Deny, |v| {
        assert_eq!(v.request.layer, Layer::Hook);
        assert_eq!(v.request.agent, "claude-code");
        assert!(v.command.contains("DROP TABLE orders"), "{}", v.command);
        assert!(
            !v.command.contains("hunter2"),
            "secret shown: {}",
            v.command
        );
    });
    let out = run.join().unwrap();
    assert!(out.status.success(), "{out:?}");
    let count = pg.sql("SELECT count(*) FROM orders");
    assert_eq!(
        String::from_utf8_lossy(&count.stdout).trim(),
        "3",
        "{count:?}"
    );
    let results = api.tool_results.lock().unwrap().clone();
    assert!(
        results.iter().any(|r| r.contains("denied by")),
        "the model should hear the reason: {results:?}"
    );

    // A human's deny is repeated for identical retries for a moment; a later retry is asked.
    std::thread::sleep(
        super::pending::RECENT_DENIAL_WINDOW + std::time::Duration::from_millis(200),
    );
    let api = FakeApi::start(command, messages_api, messages_results);
    let run = run_claude(&h, &api, &work, &home);
    h.answer(HumanAnswer::AllowOnce, |_| {});
    let out = run.join().unwrap();
    assert!(out.status.success(), "{out:?}");
    let gone = pg.sql("SELECT count(*) FROM orders");
    assert!(
        !gone.status.success(),
        "the table survived an approved DROP: {out:?}"
    );
    let records: Vec<_> = h
        .audit()
        .into_iter()
        .filter(|r| r.agent == "claude-code")
        .collect();
    assert_eq!(records.len(), 2);
    assert_eq!(
        (records[0].decision, records[0].decided_by),
        (Decision::Deny, DecidedBy::Human)
    );
    assert_eq!(
        (records[1].decision, records[1].decided_by),
        (Decision::Allow, DecidedBy::Human)
    );
}

fn gemini_binary() -> PathBuf {
    std::env::var_os("OVERWATCH_TEST_GEMINI")
        .map(PathBuf::from)
        .or_else(|| which::which("gemini").ok())
        .expect("Gemini CLI: npm i -g @google/gemini-cli, or set OVERWATCH_TEST_GEMINI")
}

#[test]
#[ignore = "needs Gemini CLI (npm i -g @google/gemini-cli, or OVERWATCH_TEST_GEMINI)"]
fn gemini_cli_drop_table_is_held_by_its_hook_and_the_answer_enforced() {
    let pg = Postgres::start();
    let setup = pg.sql("CREATE TABLE orders (id int); INSERT INTO orders VALUES (1),(2),(3)");
    assert!(setup.status.success(), "{setup:?}");
    // Gemini skips a system settings file under a world-writable ancestor (/tmp), so this
    // session's runtime dir lives under the user's cache dir, as `overwatch run` puts it.
    let cache = dirs::cache_dir().unwrap();
    std::fs::create_dir_all(&cache).unwrap();
    let private = tempfile::tempdir_in(&cache).unwrap();
    let h = Harness::new_in(real_rules(), private.path());
    let tmp = tempfile::tempdir().unwrap();
    let work = tmp.path().join("work");
    let home = tmp.path().join("home");
    std::fs::create_dir_all(&work).unwrap();
    std::fs::create_dir_all(home.join(".gemini")).unwrap();
    std::fs::write(
        home.join(".gemini/settings.json"),
        r#"{"security":{"auth":{"selectedType":"gemini-api-key"},"folderTrust":{"enabled":false}}}"#,
    )
    .unwrap();
    let command = format!("psql '{}' -c 'DROP TABLE orders'", pg.url());
    let run = |api: &FakeApi| {
        let user_argv: Vec<String> = vec![
            gemini_binary().to_string_lossy().into_owned(),
            "-m".into(),
            "gemini-2.5-pro".into(),
            "--yolo".into(),
            "-p".into(),
            "drop the orders table".into(),
        ];
        let plan = install::agent_launch_plan(
            &user_argv,
            &e2e_tests::overwatch_bin(),
            h.server.runtime_dir(),
        );
        assert_eq!(plan.agent, Some(hook::HookAgent::Gemini));
        plan.prepare().unwrap();
        let mut cmd = Command::new(&plan.argv[0]);
        cmd.args(&plan.argv[1..])
            .current_dir(&work)
            .env("HOME", &home)
            .env("GEMINI_API_KEY", "not-a-key")
            .env(
                "GOOGLE_GEMINI_BASE_URL",
                format!("http://127.0.0.1:{}", api.port),
            )
            .envs(plan.env.iter().cloned())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        h.session_env(&mut cmd);
        let child = cmd.spawn().unwrap();
        std::thread::spawn(move || child.wait_with_output().unwrap())
    };

    let api = FakeApi::start(command.clone(), gemini_api, gemini_results);
    let running = run(&api);
    h.answer(HumanAnswer::Deny, |v| {
        assert_eq!(v.request.agent, "gemini");
        assert!(v.command.contains("DROP TABLE orders"), "{}", v.command);
    });
    let out = running.join().unwrap();
    let count = pg.sql("SELECT count(*) FROM orders");
    assert_eq!(
        String::from_utf8_lossy(&count.stdout).trim(),
        "3",
        "{out:?}"
    );
    let results = api.tool_results.lock().unwrap().clone();
    assert!(
        results.iter().any(|r| r.contains("denied by")),
        "{results:?} {out:?}"
    );

    // A human's deny is repeated for identical retries for a moment; a later retry is asked.
    std::thread::sleep(
        super::pending::RECENT_DENIAL_WINDOW + std::time::Duration::from_millis(200),
    );
    let api = FakeApi::start(command, gemini_api, gemini_results);
    let running = run(&api);
    h.answer(HumanAnswer::AllowOnce, |_| {});
    let out = running.join().unwrap();
    let gone = pg.sql("SELECT count(*) FROM orders");
    assert!(
        !gone.status.success(),
        "the table survived an approved DROP: {out:?}"
    );
}
