//! overwatch: a terminal UI that supervises coding-agent sessions. See ARCHITECTURE.md for the
//! bird's-eye view and the code map; `main` below is the whole CLI (the binary only calls it).

pub mod app;
pub mod cli;
pub mod cmd;
pub mod config;
pub mod context;
pub mod demo;
pub mod diag;
pub mod diff;
pub mod gate;
pub mod record;
pub mod replay;
pub mod rules;
pub mod secrets;
pub mod session;
pub mod terminal;
pub mod theme;
pub mod ui;

use std::process::ExitCode;

use clap::Parser;

/// Runs the CLI: dispatches on `argv[0]` (a PATH shim link) or the subcommand. Errors print
/// "overwatch: …" and exit 2.
pub fn main() -> ExitCode {
    // Invoked under a guarded program's name (a PATH shim link): act as the shim.
    if let Some(program) = std::env::args_os()
        .next()
        .and_then(|a| gate::shim::invoked_as(&a))
    {
        return cmd::shim::main_as(&program, std::env::args_os().skip(1).collect());
    }
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let rest = args.get(1..).unwrap_or_default();
    let result = if let Some(agent) = cmd::hook::fast_path(rest) {
        cmd::hook::adapter(agent)
    } else if let Some(check) = cmd::check::fast_path(rest) {
        cmd::check::main(check)
    } else {
        dispatch(cli::Cli::parse_from(args))
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("overwatch: {err:#}");
            ExitCode::from(2)
        }
    }
}

/// Runs the parsed command.
fn dispatch(cli: cli::Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        cli::Command::Run(args) => cmd::run::main(args),
        cli::Command::Env(args) => cmd::env::main(args),
        cli::Command::Demo(args) => cmd::demo::main(args),
        cli::Command::Hook(args) => cmd::hook::main(args),
        cli::Command::Shim(args) => cmd::shim::main(args),
        cli::Command::Config(args) => cmd::config::main(args),
        cli::Command::Completions(args) => cmd::config::completions(args),
        cli::Command::Man => cmd::config::man(),
        cli::Command::Check(args) => cmd::check::main(args),
        cli::Command::Rules(args) => cmd::rules::main(args),
        cli::Command::ExecShim(args) => cmd::exec_shim::main(args),
        cli::Command::DiffWatch(args) => cmd::diff_watch::main(args),
        cli::Command::Replay(args) => cmd::replay::main(args),
        cli::Command::Sessions(args) => cmd::sessions::main(args),
    }
}
