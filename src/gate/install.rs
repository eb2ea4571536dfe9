//! Injecting the hook into an agent: the launch plan `overwatch run` uses, and the config
//! `overwatch hook install` prints or writes.
//!
//! - Claude Code: `claude --settings '<json>'` with a PreToolUse hook (hook arrays from
//!   `--settings` are concatenated with the user's, so their own hooks keep running).
//! - Codex: `-c hooks.PreToolUse=[…]` declares the hook in Codex's session-flags config layer,
//!   and `-c hooks.state={…}` marks exactly that hook trusted by its hash (Codex refuses to run a
//!   hook whose trusted hash does not match the one it computes, and would otherwise stop to ask
//!   for a review). Hooks from the user's own layers keep running and keep their own trust.
//!   Verified with codex-cli 0.169.0 against a fake Responses API (see the gate's e2e tests).
//! - Gemini CLI: `GEMINI_CLI_SYSTEM_SETTINGS_PATH` points at a file in the runtime dir holding the
//!   existing system settings (if any) plus our BeforeTool hook.
//!
//! Every hook runs `<exe> hook <agent>` with a 600 s timeout, because the gate holds the hook
//! while the human decides (Claude's and Gemini's default is 60 s).

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use serde_json::{Value, json};

use super::hook::{HookAgent, claude, codex, gemini};
use super::shell_quote;

/// Hook timeout written into every injected config, in seconds.
pub const HOOK_TIMEOUT_SECS: u64 = 600;

/// One preparation step before the agent starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrepareStep {
    /// Write `contents` to `path` (mode 0600), creating parent dirs (0700).
    Write { path: PathBuf, contents: String },
    /// Create a symlink `link` → `target`.
    Symlink { link: PathBuf, target: PathBuf },
}

/// How to start an agent with overwatch's hook injected.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LaunchPlan {
    /// The argv to spawn (the user's argv with injected flags).
    pub argv: Vec<String>,
    /// Env vars to add (on top of the gate's and the shims').
    pub env: Vec<(String, String)>,
    /// Files to create first ([`LaunchPlan::prepare`]).
    pub prepare: Vec<PrepareStep>,
    /// Which hook protocol was injected; `None` for agents without hooks (shims only).
    pub agent: Option<HookAgent>,
}

impl LaunchPlan {
    /// Performs the preparation steps.
    pub fn prepare(&self) -> anyhow::Result<()> {
        use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
        for step in &self.prepare {
            let path = match step {
                PrepareStep::Write { path, .. } | PrepareStep::Symlink { link: path, .. } => path,
            };
            if let Some(dir) = path.parent() {
                std::fs::DirBuilder::new()
                    .recursive(true)
                    .mode(0o700)
                    .create(dir)
                    .with_context(|| format!("creating {}", dir.display()))?;
            }
            match step {
                PrepareStep::Write { path, contents } => {
                    use std::io::Write;
                    let mut f = std::fs::OpenOptions::new()
                        .write(true)
                        .create(true)
                        .truncate(true)
                        .mode(0o600)
                        .open(path)
                        .with_context(|| format!("writing {}", path.display()))?;
                    f.write_all(contents.as_bytes())
                        .with_context(|| format!("writing {}", path.display()))?;
                }
                PrepareStep::Symlink { link, target } => {
                    std::os::unix::fs::symlink(target, link).with_context(|| {
                        format!("linking {} → {}", link.display(), target.display())
                    })?;
                }
            }
        }
        Ok(())
    }
}

/// Which agent an argv starts, from its program's basename (`claude`, `codex`, `gemini`).
pub fn detect_agent(argv: &[String]) -> Option<HookAgent> {
    let program = Path::new(argv.first()?).file_name()?.to_str()?;
    match program {
        "claude" | "claude-code" => Some(HookAgent::ClaudeCode),
        "codex" => Some(HookAgent::Codex),
        "gemini" => Some(HookAgent::Gemini),
        _ => None,
    }
}

/// The shell command an agent runs for our hook: `'<exe>' hook <agent>`.
pub fn hook_command(exe: &Path, agent: HookAgent) -> String {
    format!(
        "{} hook {}",
        shell_quote(&exe.to_string_lossy()),
        agent.as_str()
    )
}

/// Claude Code settings with our PreToolUse hook (for `--settings` or `~/.claude/settings.json`).
pub fn claude_settings(exe: &Path) -> Value {
    json!({
        "hooks": {
            "PreToolUse": [{
                "matcher": claude::MATCHER,
                "hooks": [{
                    "type": "command",
                    "command": hook_command(exe, HookAgent::ClaudeCode),
                    "timeout": HOOK_TIMEOUT_SECS,
                }]
            }]
        }
    })
}

/// Codex `hooks.json` with our PreToolUse hook (`timeout` in seconds).
pub fn codex_hooks(exe: &Path) -> Value {
    json!({
        "hooks": {
            "PreToolUse": [{
                "matcher": codex::MATCHER,
                "hooks": [{
                    "type": "command",
                    "command": hook_command(exe, HookAgent::Codex),
                    "timeout": HOOK_TIMEOUT_SECS,
                }]
            }]
        }
    })
}

/// Where Codex keys the state of a hook declared through `-c` overrides: its synthetic
/// session-flags source, the event in snake case, group 0, handler 0.
const CODEX_SESSION_FLAGS_KEY: &str = "/<session-flags>/config.toml:pre_tool_use:0:0";

/// The hash Codex computes for a hook declaration and compares with `trusted_hash`:
/// `sha256:<hex>` over the compact JSON of `{"event_name","hooks":[handler],"matcher"}` with
/// keys sorted and Codex's defaults filled in (`async:false`, `timeout`). Written out by hand so
/// the key order never depends on serde_json features. Source: codex-rs/hooks (hook trust).
pub fn codex_trust_hash(command: &str, matcher: &str) -> String {
    use sha2::Digest;
    let quote = |s: &str| Value::from(s).to_string();
    let identity = format!(
        r#"{{"event_name":"pre_tool_use","hooks":[{{"async":false,"command":{},"timeout":{},"type":"command"}}],"matcher":{}}}"#,
        quote(command),
        HOOK_TIMEOUT_SECS,
        quote(matcher),
    );
    format!(
        "sha256:{}",
        hex::encode(sha2::Sha256::digest(identity.as_bytes()))
    )
}

/// The `-c` overrides that declare our Codex PreToolUse hook and trust exactly it. They are root
/// options, so they go right after the program name (before any subcommand).
pub fn codex_hook_args(exe: &Path) -> Vec<String> {
    let command = hook_command(exe, HookAgent::Codex);
    let toml_str = |s: &str| toml::Value::String(s.to_string()).to_string();
    vec![
        "-c".to_string(),
        format!(
            "hooks.PreToolUse=[{{matcher={},hooks=[{{type=\"command\",command={},timeout={}}}]}}]",
            toml_str(codex::MATCHER),
            toml_str(&command),
            HOOK_TIMEOUT_SECS
        ),
        "-c".to_string(),
        format!(
            "hooks.state={{{}={{trusted_hash={}}}}}",
            toml_str(CODEX_SESSION_FLAGS_KEY),
            toml_str(&codex_trust_hash(&command, codex::MATCHER))
        ),
    ]
}

/// Gemini CLI settings with our BeforeTool hook (`timeout` in milliseconds).
pub fn gemini_settings(exe: &Path) -> Value {
    json!({
        "hooks": {
            "BeforeTool": [{
                "matcher": gemini::MATCHER,
                "hooks": [{
                    "type": "command",
                    "name": "overwatch",
                    "command": hook_command(exe, HookAgent::Gemini),
                    "timeout": HOOK_TIMEOUT_SECS * 1000,
                }]
            }]
        }
    })
}

/// The hook config for `agent`, and the event it goes under.
fn ours(agent: HookAgent, exe: &Path) -> (Value, &'static str) {
    match agent {
        HookAgent::ClaudeCode => (claude_settings(exe), "PreToolUse"),
        HookAgent::Codex => (codex_hooks(exe), "PreToolUse"),
        HookAgent::Gemini => (gemini_settings(exe), "BeforeTool"),
    }
}

/// Merges our hook group for `event` into `existing` (a settings/hooks JSON object), keeping
/// every other key and hook; a group running the same command is not added twice.
pub fn merge_hooks(existing: Value, ours: &Value, event: &str) -> anyhow::Result<Value> {
    let mut root = match existing {
        Value::Object(map) => map,
        Value::Null => serde_json::Map::new(),
        _ => anyhow::bail!("the existing config is not a JSON object"),
    };
    let hooks = root
        .entry("hooks")
        .or_insert_with(|| Value::Object(serde_json::Map::new()));
    let Value::Object(hooks) = hooks else {
        anyhow::bail!("the existing config's \"hooks\" is not an object");
    };
    let groups = hooks
        .entry(event)
        .or_insert_with(|| Value::Array(Vec::new()));
    let Value::Array(groups) = groups else {
        anyhow::bail!("the existing config's hooks.{event} is not an array");
    };
    let our_groups = ours["hooks"][event].as_array().cloned().unwrap_or_default();
    for group in our_groups {
        let command = &group["hooks"][0]["command"];
        let present = groups.iter().any(|g| {
            g["hooks"]
                .as_array()
                .is_some_and(|hs| hs.iter().any(|h| &h["command"] == command))
        });
        if !present {
            groups.push(group);
        }
    }
    Ok(Value::Object(root))
}

/// Builds the launch plan for `argv` (the user's agent command). `exe` is the overwatch binary;
/// `runtime_dir` the session's private dir (for generated config).
pub fn agent_launch_plan(argv: &[String], exe: &Path, runtime_dir: &Path) -> LaunchPlan {
    plan_with(argv, exe, runtime_dir, |k| {
        std::env::var_os(k).map(PathBuf::from)
    })
}

fn plan_with(
    argv: &[String],
    exe: &Path,
    runtime_dir: &Path,
    env: impl Fn(&str) -> Option<PathBuf>,
) -> LaunchPlan {
    let agent = detect_agent(argv);
    let mut plan = LaunchPlan {
        argv: argv.to_vec(),
        agent,
        ..LaunchPlan::default()
    };
    match agent {
        None => {}
        Some(HookAgent::ClaudeCode) => {
            plan.argv.splice(
                1..1,
                ["--settings".to_string(), claude_settings(exe).to_string()],
            );
        }
        Some(HookAgent::Codex) => {
            plan.argv.splice(1..1, codex_hook_args(exe));
        }
        Some(HookAgent::Gemini) => {
            let system = env("GEMINI_CLI_SYSTEM_SETTINGS_PATH")
                .unwrap_or_else(|| PathBuf::from("/etc/gemini-cli/settings.json"));
            let existing = std::fs::read(&system)
                .ok()
                .and_then(|b| serde_json::from_slice(&b).ok())
                .unwrap_or(Value::Null);
            let (settings, event) = ours(HookAgent::Gemini, exe);
            let merged = merge_hooks(existing, &settings, event).unwrap_or(settings);
            let path = runtime_dir.join("gemini-system-settings.json");
            plan.prepare.push(PrepareStep::Write {
                path: path.clone(),
                contents: pretty(&merged),
            });
            plan.env.push((
                "GEMINI_CLI_SYSTEM_SETTINGS_PATH".to_string(),
                path.to_string_lossy().into_owned(),
            ));
        }
    }
    plan
}

/// The env that puts the shims first on PATH: `OVERWATCH_SHIM_DIR` and `PATH`.
pub fn shim_env(shim_dir: &Path, current_path: &std::ffi::OsStr) -> Vec<(String, String)> {
    let mut dirs = vec![shim_dir.to_path_buf()];
    dirs.extend(std::env::split_paths(current_path).filter(|d| d != shim_dir));
    let path = std::env::join_paths(dirs)
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_else(|_| shim_dir.to_string_lossy().into_owned());
    vec![
        (
            super::shim::ENV_SHIM_DIR.to_string(),
            shim_dir.to_string_lossy().into_owned(),
        ),
        ("PATH".to_string(), path),
    ]
}

/// The user-level config file `overwatch hook install` edits for `agent`.
pub fn install_path(agent: HookAgent, home: &Path) -> PathBuf {
    match agent {
        HookAgent::ClaudeCode => home.join(".claude/settings.json"),
        HookAgent::Codex => std::env::var_os("CODEX_HOME")
            .map(PathBuf::from)
            .unwrap_or_else(|| home.join(".codex"))
            .join("hooks.json"),
        HookAgent::Gemini => home.join(".gemini/settings.json"),
    }
}

/// `overwatch hook install`: returns the merged config for `agent`'s user config file; with
/// `write`, also saves it (the previous file copied to `<file>.overwatch-backup` first). Returns
/// the text to print.
pub fn install(agent: HookAgent, exe: &Path, home: &Path, write: bool) -> anyhow::Result<String> {
    let path = install_path(agent, home);
    let existing = match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .with_context(|| format!("reading {} (not valid JSON)", path.display()))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Value::Null,
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    let (hooks, event) = ours(agent, exe);
    let merged = merge_hooks(existing, &hooks, event)
        .with_context(|| format!("merging our hook into {}", path.display()))?;
    let text = pretty(&merged);
    let mut out = String::new();
    if write {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        if path.exists() {
            let backup = PathBuf::from(format!("{}.overwatch-backup", path.display()));
            std::fs::copy(&path, &backup)
                .with_context(|| format!("backing up {} first", path.display()))?;
            out.push_str(&format!(
                "backed up {} to {}\n",
                path.display(),
                backup.display()
            ));
        }
        std::fs::write(&path, &text).with_context(|| format!("writing {}", path.display()))?;
        out.push_str(&format!("wrote {}\n", path.display()));
        if agent == HookAgent::Codex {
            out.push_str("Codex asks you to review (trust) the new hook the next time it starts\n");
        }
    } else {
        out.push_str(&format!("# {} (use --write to save it)\n", path.display()));
        out.push_str(&text);
        out.push('\n');
    }
    Ok(out)
}

fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(words: &[&str]) -> Vec<String> {
        words.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn claude_gets_its_hook_through_settings() {
        let exe = Path::new("/opt/over watch/overwatch");
        let plan = plan_with(
            &argv(&["claude", "--model", "opus"]),
            exe,
            Path::new("/run/x"),
            |_| None,
        );
        assert_eq!(plan.agent, Some(HookAgent::ClaudeCode));
        assert_eq!(plan.argv[0], "claude");
        assert_eq!(plan.argv[1], "--settings");
        assert_eq!(&plan.argv[3..], &argv(&["--model", "opus"])[..]);
        let settings: Value = serde_json::from_str(&plan.argv[2]).unwrap();
        let hook = &settings["hooks"]["PreToolUse"][0];
        assert_eq!(hook["matcher"], claude::MATCHER);
        assert_eq!(
            hook["hooks"][0]["command"],
            "'/opt/over watch/overwatch' hook claude-code"
        );
        assert_eq!(hook["hooks"][0]["timeout"], 600);
    }

    #[test]
    fn codex_gets_a_trusted_hook_through_config_overrides() {
        let plan = plan_with(
            &argv(&["codex", "exec", "hi"]),
            Path::new("/bin/overwatch"),
            Path::new("/run/x"),
            |_| None,
        );
        assert_eq!(plan.argv[0], "codex");
        assert_eq!(&plan.argv[5..], &argv(&["exec", "hi"])[..]);
        assert!(plan.prepare.is_empty() && plan.env.is_empty());
        let declared: toml::Table = toml::from_str(&plan.argv[2]).unwrap();
        let hook = &declared["hooks"]["PreToolUse"][0];
        assert_eq!(hook["matcher"].as_str(), Some(codex::MATCHER));
        assert_eq!(
            hook["hooks"][0]["command"].as_str(),
            Some("/bin/overwatch hook codex")
        );
        let state: toml::Table = toml::from_str(&plan.argv[4]).unwrap();
        let trusted = state["hooks"]["state"][CODEX_SESSION_FLAGS_KEY]["trusted_hash"]
            .as_str()
            .unwrap();
        assert_eq!(
            trusted,
            codex_trust_hash("/bin/overwatch hook codex", codex::MATCHER)
        );
        // The hash of a known declaration, computed independently (Python hashlib over the same
        // canonical JSON), so a change in our encoding is caught.
        assert_eq!(
            codex_trust_hash("x", "^Bash$"),
            "sha256:63110028946699c3ca910c805ca1d9836c014cb51cb7f9786ce23a7a1c8b3e44"
        );
    }

    #[test]
    fn install_merges_once_and_backs_up() {
        let home = tempfile::tempdir().unwrap();
        let path = home.path().join(".claude/settings.json");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, r#"{"model":"opus","hooks":{"Stop":[]}}"#).unwrap();
        let exe = Path::new("/bin/overwatch");
        let printed = install(HookAgent::ClaudeCode, exe, home.path(), false).unwrap();
        assert!(printed.contains("hook claude-code"));
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            r#"{"model":"opus","hooks":{"Stop":[]}}"#
        );
        install(HookAgent::ClaudeCode, exe, home.path(), true).unwrap();
        install(HookAgent::ClaudeCode, exe, home.path(), true).unwrap();
        let saved: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        assert_eq!(saved["model"], "opus");
        assert_eq!(saved["hooks"]["PreToolUse"].as_array().unwrap().len(), 1);
        assert!(
            home.path()
                .join(".claude/settings.json.overwatch-backup")
                .exists()
        );
    }

    #[test]
    fn shim_env_puts_the_shim_dir_first_once() {
        let env = shim_env(Path::new("/s"), std::ffi::OsStr::new("/s:/usr/bin:/bin"));
        assert_eq!(env[1], ("PATH".to_string(), "/s:/usr/bin:/bin".to_string()));
    }
}
