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
    after_help = "Examples:\n  overwatch run -- claude          supervise Claude Code\n  overwatch demo                   a scripted session reproducing a seed incident\n  overwatch env                    what is this shell pointed at, and how dangerous is it?\n  overwatch check --command 'kubectl delete ns payments'"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands (see DESIGN.md's command table).
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Supervise an agent command in the TUI: `overwatch run -- claude`.
    Run(RunArgs),
    /// Print the detected context and credentials, with the reason for each tier verdict.
    Env(EnvArgs),
    /// Watch a workspace and print its diff events as JSON lines (debugging, tests, benchmarks).
    #[command(hide = true)]
    DiffWatch(DiffWatchArgs),
}

/// Arguments of `overwatch run`.
#[derive(Debug, Args)]
pub struct RunArgs {
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
