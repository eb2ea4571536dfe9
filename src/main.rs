//! overwatch: a terminal UI that supervises coding-agent sessions. See ARCHITECTURE.md.

mod app;
mod cli;
mod cmd;
mod config;
mod context;
mod demo;
mod diag;
mod diff;
mod gate;
mod record;
mod replay;
mod rules;
mod secrets;
pub mod session;
mod terminal;
mod theme;
pub mod ui;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // Invoked under a guarded program's name (a PATH shim link): act as the shim.
    if let Some(program) = std::env::args_os()
        .next()
        .and_then(|a| gate::shim::invoked_as(&a))
    {
        return cmd::shim::main_as(&program, std::env::args_os().skip(1).collect());
    }
    let cli = cli::Cli::parse();
    let result = match cli.command {
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
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("overwatch: {err:#}");
            ExitCode::from(2)
        }
    }
}
