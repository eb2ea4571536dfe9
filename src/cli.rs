//! Command-line definitions (clap). Each subcommand's arguments live here; `main.rs` dispatches to
//! `cmd::<name>::main`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// overwatch supervises a coding agent (Claude Code, Codex, Gemini CLI, aider, a shell) in a PTY:
/// it shows which environment the agent is really pointed at, holds production-touching commands
/// for a human, shows live diffs and records the session for replay.
#[derive(Debug, Parser)]
#[command(name = "overwatch", version, about, long_about = None, propagate_version = true)]
#[command(
    after_help = "Examples:\n  overwatch run -- claude          supervise Claude Code\n  overwatch demo                   a scripted session reproducing a seed incident\n  overwatch env                    what is this shell pointed at, and how dangerous is it?\n  overwatch check --command 'kubectl delete ns payments'\n\nInside `overwatch run` every key goes to the agent; press Ctrl-] then ? for overwatch's own keys\n(`overwatch run --help` lists them)."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands (see DESIGN.md's command table).
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Supervise an agent command in the TUI: `overwatch run -- claude`.
    #[command(
        long_about = "Runs CMD in a PTY inside overwatch's terminal UI: the agent's screen on the left, \
a side panel (Context, Activity, Diff) on the right, a status bar above and a help bar below.\n\n\
Every key goes to the agent, exactly as a terminal would send it, except the prefix key \
(default Ctrl-]). After the prefix:\n  \
?  help            Tab  focus the side panel    c/a/d  Context/Activity/Diff tab\n  \
p  pause/resume the agent (SIGSTOP/SIGCONT to its whole process group)\n  \
k  kill the agent (asks first)    q  quit (asks first if the agent still runs)\n  \
PgUp/PgDn  scroll back            the prefix key again sends it to the agent\n\n\
The mouse wheel scrolls back (agents that enable mouse reporting get the mouse); Shift+drag selects \
text.\n\n\
overwatch exits with the agent's exit code (128+signal if a signal killed it)."
    )]
    Run(RunArgs),
    /// A scripted agent session against a throw-away production-shaped environment: see the
    /// context bar, the diffs, the warnings and the confirmation modals, and decide.
    Demo(DemoArgs),
    /// Print the detected context and credentials, with the reason for each tier verdict.
    Env(EnvArgs),
    /// Agent hook adapters (stdin hook JSON → decision JSON) and their installer.
    Hook(HookArgs),
    /// PATH shim entry (normally reached by invoking the binary as a guarded program's name).
    #[command(hide = true)]
    Shim(ShimArgs),
    /// Watch a workspace and print its diff events as JSON lines (debugging, tests, benchmarks).
    #[command(hide = true)]
    DiffWatch(DiffWatchArgs),
    /// Internal: the exec-gate shim run in the agent's PTY (installs the seccomp filter, hands
    /// the listener to overwatch, execs the agent).
    #[command(name = "__exec-shim", hide = true)]
    ExecShim(ExecShimArgs),
    /// Evaluate one command against the rules and the current context; exit code = decision
    /// (0 allow/warn, 10 confirm, 11 deny, 2 usage or rule-pack error).
    Check(CheckArgs),
    /// Manage and test rule packs: list, test, lint, explain, trust.
    Rules(RulesArgs),
    /// Show the effective configuration, its file, or the available themes.
    Config(ConfigArgs),
    /// Print shell completions: `overwatch completions bash > /etc/bash_completion.d/overwatch`.
    Completions(CompletionsArgs),
    /// Print the man page (roff): `overwatch man | man -l -`.
    Man,
    /// Replay a recorded session (a cast file or a session id) with its decision timeline.
    Replay(ReplayArgs),
    /// List recorded sessions, newest first.
    Sessions(SessionsArgs),
}

/// Arguments of `overwatch config`.
#[derive(Debug, Args)]
pub struct ConfigArgs {
    #[command(subcommand)]
    pub action: ConfigAction,
}

/// What `overwatch config` does.
#[derive(Debug, Subcommand)]
pub enum ConfigAction {
    /// Print the effective configuration (built-in defaults overlaid by your config file) as TOML.
    Show,
    /// Print the path of your config file (it may not exist yet).
    Path,
    /// List the built-in and user themes, each with its tier badges.
    Themes,
}

/// Arguments of `overwatch completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to generate completions for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// Arguments of `overwatch run`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
overwatch run -- claude                   supervise Claude Code in the current directory\n  \
overwatch run --cwd ~/src/api -- codex    run Codex in another directory\n  \
overwatch run --prefix-key ctrl-b -- bash use Ctrl-B as the prefix (like tmux)\n  \
overwatch run --exit-with-agent -- aider  leave as soon as the agent exits")]
pub struct RunArgs {
    /// Theme: default, light, high-contrast, colorblind, or a file in ~/.config/overwatch/themes/
    /// [default: `ui.theme` from the config, `default`].
    #[arg(long, value_name = "NAME")]
    pub theme: Option<String>,
    /// The key that enters overwatch's own keymap, e.g. `ctrl-]`, `ctrl-b`, `ctrl-a`, `f12`
    /// [default: `ui.prefix_key` from the config, `ctrl-]`].
    #[arg(long, value_name = "KEY")]
    pub prefix_key: Option<String>,
    /// Exit as soon as the agent exits, instead of showing its exit code and waiting for a key.
    #[arg(long)]
    pub exit_with_agent: bool,
    /// Working directory of the agent (default: the current directory).
    #[arg(long, value_name = "DIR")]
    pub cwd: Option<PathBuf>,
    /// Extra rule packs or directories (team layer; repeatable), on top of `rules.paths` in the
    /// config, your packs in ~/.config/overwatch/rules/ and the project's .overwatch/rules/.
    #[arg(long = "rules", value_name = "PATH")]
    pub rules: Vec<PathBuf>,
    /// Gate every exec in the agent's process tree with seccomp (Linux; the default there).
    #[arg(long, overrides_with = "no_exec_gate")]
    pub exec_gate: bool,
    /// Do not install the seccomp exec gate (hooks and PATH shims still apply).
    #[arg(long)]
    pub no_exec_gate: bool,
    /// Deny a held command nobody answered within this many seconds (default: wait forever).
    #[arg(long, value_name = "SECS")]
    pub confirm_timeout: Option<u64>,
    /// Start the agent without the credential variables overwatch detects (least privilege);
    /// the removed names are listed in the Activity tab.
    #[arg(long)]
    pub scrub_env: bool,
    /// Do not record this session (by default the screen, decisions and diffs are recorded,
    /// redacted, in $XDG_STATE_HOME/overwatch/sessions/`<id>`/).
    #[arg(long, conflicts_with = "record")]
    pub no_record: bool,
    /// Write the asciicast here instead of the session dir (events and audit stay there).
    #[arg(long, value_name = "PATH")]
    pub record: Option<PathBuf>,
    /// asciicast version: v2 plays in every asciinema and the web player; v3 needs asciinema 3
    /// [default: `record.cast_format` from the config, v2].
    #[arg(long, value_name = "v2|v3")]
    pub cast_format: Option<String>,
    /// Also record keystrokes (`i` events; off by default for privacy).
    #[arg(long)]
    pub record_input: bool,
    /// The agent command and its arguments, after `--`.
    #[arg(
        required = true,
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "CMD"
    )]
    pub command: Vec<String>,
}

/// Arguments of `overwatch demo`.
#[derive(Debug, Args)]
#[command(
    after_help = "The demo builds a temp dir with a production kubeconfig (context prod-eu), an AWS \
profile for a production account, terraform workspace `prod`, a git repo whose `main` is protected, a \
.env with planted credentials and a flags.toml saying Flagsmith is the live flag provider. A scripted \
agent then edits files, runs tests, and tries kubectl delete, terraform destroy, DROP TABLE, a flag \
toggle in the old provider and a force push. Every gate is the real one; programs that cannot reach a \
fake production offline are stand-ins that print what they would have done. Nothing outside the temp \
dir is touched; it is removed on exit unless --keep."
)]
pub struct DemoArgs {
    /// Keep the demo's temp dir after exit (its path is printed).
    #[arg(long)]
    pub keep: bool,
    /// Theme (see `overwatch config themes`).
    #[arg(long, value_name = "NAME")]
    pub theme: Option<String>,
    /// Seconds the demo agent pauses between steps.
    #[arg(long, value_name = "SECS", default_value_t = 1.2)]
    pub pause: f64,
}

/// Arguments of `overwatch env`.
#[derive(Debug, Args)]
pub struct EnvArgs {
    /// Print JSON (`{"tier", "facts": […], "credentials": […]}`) instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Extra rule packs or directories (their tier pins and custom probes apply).
    #[arg(long = "rules", value_name = "PATH")]
    pub rules: Vec<PathBuf>,
}

/// Arguments of `overwatch hook`.
#[derive(Debug, Args)]
pub struct HookArgs {
    #[command(subcommand)]
    pub command: HookCommand,
}

/// `overwatch hook <agent>`: read that agent's hook JSON on stdin, answer in its format.
#[derive(Debug, Subcommand)]
pub enum HookCommand {
    /// Claude Code PreToolUse hook.
    #[command(name = "claude-code")]
    ClaudeCode,
    /// Codex CLI PreToolUse hook (hooks.json).
    Codex,
    /// Gemini CLI BeforeTool hook.
    Gemini,
    /// Print (or with --write, save with a backup) the agent config that runs these hooks.
    Install(HookInstallArgs),
}

/// Arguments of `overwatch hook install`.
#[derive(Debug, Args)]
pub struct HookInstallArgs {
    /// Only this agent (default: all three).
    #[arg(long, value_enum)]
    pub agent: Option<crate::gate::hook::HookAgent>,
    /// Write the merged config (the old file is kept as `<file>.overwatch-backup`).
    #[arg(long)]
    pub write: bool,
}

/// Arguments of the hidden `overwatch shim PROGRAM ARGS…`.
#[derive(Debug, Args)]
pub struct ShimArgs {
    /// The guarded program's name (`kubectl`).
    pub program: String,
    /// Its arguments.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub args: Vec<String>,
}

/// Arguments of the hidden `overwatch diff-watch`.
#[derive(Debug, Args)]
pub struct DiffWatchArgs {
    /// The workspace to watch.
    #[arg(default_value = ".")]
    pub dir: PathBuf,
    /// Files larger than this many bytes are not read or diffed (default 1 MiB).
    #[arg(long)]
    pub max_file_bytes: Option<u64>,
    /// Debounce window in milliseconds (default 50).
    #[arg(long)]
    pub debounce_ms: Option<u64>,
    /// More deletions than this within 2 s raise a mass-delete warning (default 50).
    #[arg(long)]
    pub mass_delete_threshold: Option<usize>,
    /// Extra sensitive-file glob (gitignore syntax); repeatable.
    #[arg(long = "sensitive", value_name = "GLOB")]
    pub sensitive: Vec<String>,
}

/// Arguments of `overwatch replay`.
#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// A cast file (asciicast v1/v2/v3) or a session id from `overwatch sessions`.
    #[arg(value_name = "PATH|SESSION_ID")]
    pub target: String,
    /// Print the screen text at time T (seconds, `mm:ss` or `hh:mm:ss`) and exit.
    #[arg(long, value_name = "T")]
    pub dump_at: Option<String>,
    /// Compress pauses longer than this many seconds (overrides the cast header's limit).
    #[arg(short = 'i', long, value_name = "SECS")]
    pub idle_time_limit: Option<f64>,
    /// Initial playback speed.
    #[arg(short, long, default_value_t = 1.0)]
    pub speed: f64,
}

/// Arguments of `overwatch sessions`.
#[derive(Debug, Args)]
pub struct SessionsArgs {
    /// Print a JSON array instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of the hidden `overwatch __exec-shim` (see `gate::exec`).
#[derive(Debug, Args)]
pub struct ExecShimArgs {
    /// overwatch's private socket that receives the seccomp listener fd.
    #[arg(long, value_name = "PATH")]
    pub listener_socket: PathBuf,
    /// The agent command and its arguments, after `--`.
    #[arg(
        required = true,
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "CMD"
    )]
    pub command: Vec<String>,
}

/// Arguments of `overwatch check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Print JSON: `{"decision", "commands": [{"argv", "target", "tier", "rules": [{"id", "pack", "action", "message"}]}]}`.
    #[arg(long)]
    pub json: bool,
    /// Extra rule packs or directories (team layer).
    #[arg(long = "rules", value_name = "PATH")]
    pub rules: Vec<PathBuf>,
    /// The command as a shell string (as an agent hook sees it).
    #[arg(long, value_name = "STRING", conflicts_with = "argv")]
    pub command: Option<String>,
    /// The command as an argv, after `--` (as a PATH shim or the exec gate sees it). A single
    /// argument with spaces (`check "rm -rf /"`) is taken as a shell string, like --command.
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "ARGV"
    )]
    pub argv: Vec<String>,
}

/// Arguments of `overwatch rules`.
#[derive(Debug, Args)]
pub struct RulesArgs {
    /// Extra rule packs or directories (team layer).
    #[arg(long = "rules", value_name = "PATH", global = true)]
    pub rules: Vec<PathBuf>,
    /// `list`: also list every rule.
    #[arg(long, short, global = true)]
    pub verbose: bool,
    #[command(subcommand)]
    pub command: RulesCommand,
}

/// `overwatch rules` subcommands.
#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// List loaded packs (layer, trust, counts); `-v` lists every rule.
    List,
    /// Run every pack's embedded examples (built-ins plus PATHS, or the configured layers).
    Test {
        /// Pack files or directories to test with the built-ins.
        paths: Vec<PathBuf>,
    },
    /// Check packs for problems (unknown placeholders, duplicate ids, rules without examples).
    Lint,
    /// Show the parse, unwrapping steps, target and every rule that fired for a command.
    Explain {
        /// The command string.
        command: String,
    },
    /// Trust a project pack (records its SHA-256; editing the file revokes trust).
    Trust {
        /// The pack file.
        path: PathBuf,
    },
}
