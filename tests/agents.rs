//! Real coding agents inside `overwatch run`, through tmux: Claude Code and Codex must render their
//! welcome screens intact in the agent pane and take typed input at their real prompts.
//!
//! Gated on `OVERWATCH_AGENT_TESTS=1` (`.ci/run` sets it after installing the CLIs with
//! `npm install --prefix "$OVERWATCH_AGENT_PREFIX" @anthropic-ai/claude-code @openai/codex`), so a
//! plain offline `cargo test` skips them and says why. Both agents start offline with an empty
//! temp HOME and no credentials: Claude Code via Bedrock mode (`CLAUDE_CODE_USE_BEDROCK=1`, which
//! skips the login screen), Codex with a `config.toml` model provider pointing at a fake HTTP
//! server on 127.0.0.1 (without it Codex stops at its sign-in screen, which is where it says
//! "Welcome to Codex").

#[path = "support/tmux.rs"]
mod tmux;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tmux::{Launch, Tmux, layout_defect, tmux_available};

/// Agents take seconds to start (Codex's first start ~10 s on a slow machine).
const AGENT_TIMEOUT: Duration = Duration::from_secs(60);

/// The directory holding `claude` and `codex`, or None (with the reason printed) when the tests
/// should be skipped. Panics when the tests are enabled but the CLIs are missing: CI must run them.
fn agent_bin_dir() -> Option<PathBuf> {
    if std::env::var("OVERWATCH_AGENT_TESTS").as_deref() != Ok("1") {
        eprintln!(
            "skipping real-agent tests: set OVERWATCH_AGENT_TESTS=1 and OVERWATCH_AGENT_PREFIX \
             (an `npm install --prefix` of @anthropic-ai/claude-code and @openai/codex); \
             .ci/run does both"
        );
        return None;
    }
    assert!(
        tmux_available(),
        "OVERWATCH_AGENT_TESTS=1 but tmux is missing"
    );
    let prefix = std::env::var("OVERWATCH_AGENT_PREFIX").unwrap_or_else(|_| {
        panic!("OVERWATCH_AGENT_TESTS=1 needs OVERWATCH_AGENT_PREFIX (the npm --prefix dir)")
    });
    let bin = Path::new(&prefix).join("node_modules").join(".bin");
    for name in ["claude", "codex"] {
        assert!(
            bin.join(name).exists(),
            "{name} is not installed in {}",
            bin.display()
        );
    }
    Some(bin)
}

fn path_with(bin: &Path) -> String {
    format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

/// Credentials that would change what the agents show; never passed to them.
const UNSET: &[&str] = &[
    "ANTHROPIC_API_KEY",
    "ANTHROPIC_AUTH_TOKEN",
    "CLAUDE_CODE_OAUTH_TOKEN",
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "CODEX_HOME",
];

#[test]
fn claude_code_welcome_and_prompt_render_in_the_pane() {
    let Some(bin) = agent_bin_dir() else { return };
    let home = tempfile::tempdir().unwrap_or_else(|e| panic!("temp HOME: {e}"));
    let workspace = tempfile::tempdir().unwrap_or_else(|e| panic!("temp workspace: {e}"));
    let home_str = home.path().display().to_string();
    let path = path_with(&bin);
    let t = Tmux::start(Launch {
        args: "run -- claude",
        env: &[
            ("HOME", &home_str),
            ("PATH", &path),
            ("CLAUDE_CODE_USE_BEDROCK", "1"),
            ("DISABLE_AUTOUPDATER", "1"),
        ],
        unset: UNSET,
        cwd: Some(workspace.path()),
        timeout: AGENT_TIMEOUT,
        wrapper: "",
    });
    let screen = t.wait_for("Welcome to Claude Code");
    assert_eq!(layout_defect(&screen, "claude"), None, "{screen}");

    // First start: theme choice, security notes, folder trust. Enter accepts each default.
    let prompt_ready = |s: &str| s.contains("? for shortcuts");
    for _ in 0..6 {
        let before = t.screen();
        if prompt_ready(&before) {
            break;
        }
        t.keys(&["Enter"]);
        t.wait_until("the next onboarding screen", |s| {
            s != before || prompt_ready(s)
        });
        std::thread::sleep(Duration::from_millis(500));
    }
    let screen = t.wait_until("Claude Code's prompt", prompt_ready);
    assert_eq!(layout_defect(&screen, "claude"), None, "{screen}");

    t.text("hello from overwatch");
    // Claude Code draws a no-break space after its `❯`.
    let screen = t.wait_until("the typed text at Claude Code's prompt", |s| {
        s.lines()
            .any(|l| l.starts_with('❯') && l.contains("hello from overwatch"))
    });
    assert_eq!(layout_defect(&screen, "claude"), None, "{screen}");

    t.keys(&["C-]", "q"]);
    t.wait_for("Quit overwatch and stop it?");
    t.keys(&["y"]);
    t.wait_for("EXIT=");
}

#[test]
fn codex_sign_in_screen_says_welcome() {
    let Some(bin) = agent_bin_dir() else { return };
    let home = tempfile::tempdir().unwrap_or_else(|e| panic!("temp HOME: {e}"));
    let workspace = tempfile::tempdir().unwrap_or_else(|e| panic!("temp workspace: {e}"));
    let home_str = home.path().display().to_string();
    let path = path_with(&bin);
    let t = Tmux::start(Launch {
        args: "run -- codex",
        env: &[("HOME", &home_str), ("PATH", &path)],
        unset: UNSET,
        cwd: Some(workspace.path()),
        timeout: AGENT_TIMEOUT,
        wrapper: "",
    });
    let screen = t.wait_for("Welcome to Codex");
    assert_eq!(layout_defect(&screen, "codex"), None, "{screen}");
    assert!(screen.contains("Sign in with ChatGPT"), "{screen}");
    t.keys(&["C-]", "q", "y"]);
    t.wait_for("EXIT=");
}

#[test]
fn codex_prompt_takes_typed_text_with_a_fake_provider() {
    let Some(bin) = agent_bin_dir() else { return };
    let server = FakeResponsesServer::start();
    let home = tempfile::tempdir().unwrap_or_else(|e| panic!("temp HOME: {e}"));
    let codex_home = home.path().join(".codex");
    let workspace = tempfile::tempdir().unwrap_or_else(|e| panic!("temp workspace: {e}"));
    std::fs::create_dir_all(&codex_home).unwrap_or_else(|e| panic!("creating CODEX_HOME: {e}"));
    // Keys from the Codex configuration docs: a custom provider speaking the Responses API.
    let config = format!(
        "model = \"gpt-5.4-mini\"\nmodel_provider = \"fake\"\n\n[model_providers.fake]\n\
         name = \"fake\"\nbase_url = \"http://{}/v1\"\nenv_key = \"OVERWATCH_FAKE_KEY\"\n\
         wire_api = \"responses\"\n",
        server.addr
    );
    std::fs::write(codex_home.join("config.toml"), config)
        .unwrap_or_else(|e| panic!("writing config.toml: {e}"));
    let home_str = home.path().display().to_string();
    let codex_home_str = codex_home.display().to_string();
    let path = path_with(&bin);
    let t = Tmux::start(Launch {
        args: "run -- codex",
        env: &[
            ("HOME", &home_str),
            ("CODEX_HOME", &codex_home_str),
            ("OVERWATCH_FAKE_KEY", "not-a-real-key"),
            ("PATH", &path),
        ],
        unset: &UNSET[..UNSET.len() - 1],
        cwd: Some(workspace.path()),
        timeout: AGENT_TIMEOUT,
        wrapper: "",
    });
    let screen = t.wait_for("OpenAI Codex");
    assert_eq!(layout_defect(&screen, "codex"), None, "{screen}");
    t.wait_until("Codex's prompt", |s| s.lines().any(|l| l.starts_with('›')));
    t.text("hello from overwatch");
    let screen = t.wait_until("the typed text at Codex's prompt", |s| {
        s.lines()
            .any(|l| l.starts_with('›') && l.contains("hello from overwatch"))
    });
    assert_eq!(layout_defect(&screen, "codex"), None, "{screen}");
    t.keys(&["C-]", "q", "y"]);
    t.wait_for("EXIT=");
}

/// A minimal HTTP server on 127.0.0.1 that answers every request with `200` and an empty JSON
/// list, so Codex's start-up requests (model list, …) succeed without a network.
struct FakeResponsesServer {
    addr: std::net::SocketAddr,
}

impl FakeResponsesServer {
    fn start() -> Self {
        let listener =
            TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("binding 127.0.0.1: {e}"));
        let addr = listener
            .local_addr()
            .unwrap_or_else(|e| panic!("reading the server address: {e}"));
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                std::thread::spawn(move || answer(stream));
            }
        });
        FakeResponsesServer { addr }
    }
}

/// Reads one request (headers and `Content-Length` body) and answers it, closing the connection.
fn answer(mut stream: std::net::TcpStream) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut reader = BufReader::new(&stream);
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        if line == "\r\n" || line == "\n" {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0; length];
    let _ = reader.read_exact(&mut body);
    let payload = br#"{"object":"list","data":[],"models":[]}"#;
    let head = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
         connection: close\r\n\r\n",
        payload.len()
    );
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(payload);
}
