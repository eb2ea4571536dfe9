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
    /// Show the effective configuration, its file, or the available themes.
    Config(ConfigArgs),
    /// Print shell completions: `overwatch completions bash > /etc/bash_completion.d/overwatch`.
    Completions(CompletionsArgs),
    /// Print the man page (roff): `overwatch man | man -l -`.
    Man,
    /// Evaluate one command against the rules and the current context; exit code = decision
    /// (0 allow/warn, 10 confirm, 11 deny, 2 usage or rule-pack error).
    Check(CheckArgs),
    /// Manage and test rule packs: list, test, lint, explain, trust.
    Rules(RulesArgs),
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
    /// The command as an argv, after `--` (as a PATH shim or the exec gate sees it).
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
