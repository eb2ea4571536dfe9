//! A real agent end to end: the Codex CLI, launched with the hook overwatch injects
//! ([`install::agent_launch_plan`]), talking to a scripted fake Responses API on 127.0.0.1 that
//! answers with a shell tool call. Codex's PreToolUse hook asks the running gate; the scripted
//! human answers; the PostgreSQL table shows whether the answer was enforced.
//!
//! Needs the Codex CLI (`npm i -g @openai/codex`, or `OVERWATCH_TEST_CODEX=/path/to/codex`), so
//! it is ignored by default: `cargo test gate::e2e_codex -- --ignored`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

use super::e2e_tests::{Harness, Postgres, TestRules, make_shims};
use super::*;

/// A fake OpenAI Responses API: the first request gets a shell tool call running `command`
/// (with whichever shell tool Codex offered), the follow-up gets a final message. Tool outputs
/// Codex sends back are recorded.
struct FakeResponses {
    port: u16,
    outputs: Arc<Mutex<Vec<String>>>,
}

impl FakeResponses {
    fn start(command: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let outputs = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&outputs);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let _ = serve(stream, &command, &seen);
            }
        });
        FakeResponses { port, outputs }
    }
}

fn serve(
    stream: std::net::TcpStream,
    command: &str,
    outputs: &Mutex<Vec<String>>,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut length = 0usize;
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
    let input = request["input"].as_array().cloned().unwrap_or_default();
    let tool_outputs: Vec<String> = input
        .iter()
        .filter(|i| i["type"] == "function_call_output")
        .map(|i| i["output"].to_string())
        .collect();
    let item = if tool_outputs.is_empty() {
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
        outputs.lock().unwrap().extend(tool_outputs);
        json!({"type": "message", "role": "assistant", "id": "msg_1",
               "content": [{"type": "output_text", "text": "done"}]})
    };
    let events = [
        json!({"type": "response.created", "response": {"id": "resp_1"}}),
        json!({"type": "response.output_item.done", "item": item}),
        json!({"type": "response.completed", "response": {"id": "resp_1", "usage": {
            "input_tokens": 1, "output_tokens": 1, "total_tokens": 2}}}),
    ];
    let sse: String = events
        .iter()
        .map(|e| format!("event: {}\ndata: {e}\n\n", e["type"].as_str().unwrap_or("")))
        .collect();
    let mut stream = stream;
    write!(
        stream,
        "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncontent-length: {}\r\n\
         connection: close\r\n\r\n{sse}",
        sse.len()
    )?;
    stream.flush()
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
    api: &FakeResponses,
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
    let h = Harness::new(Arc::new(TestRules));
    let tmp = tempfile::tempdir().unwrap();
    let work = tmp.path().join("work");
    let codex_home = tmp.path().join("codex-home");
    std::fs::create_dir_all(&work).unwrap();
    std::fs::create_dir_all(&codex_home).unwrap();
    let shims = make_shims(tmp.path(), &["psql"]);
    let command = format!("psql '{}' -c 'DROP TABLE orders'", pg.url());

    // Denied: Codex's hook is held by the gate, the human says no, the table survives.
    let api = FakeResponses::start(command.clone());
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
    let outputs = api.outputs.lock().unwrap().clone();
    assert!(
        outputs.iter().any(|o| o.contains("denied by")),
        "the model should hear the reason: {outputs:?}"
    );

    // Approved: the same tool call now runs and drops the table.
    let api = FakeResponses::start(command);
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
