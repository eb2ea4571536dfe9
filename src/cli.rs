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
    /// Print the detected context and credentials, with the reason for each tier verdict.
    Env(EnvArgs),
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
    /// The agent command and its arguments, after `--`.
    #[arg(
        required = true,
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "CMD"
    )]
    pub command: Vec<String>,
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
