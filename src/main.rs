//! overwatch: a terminal UI that supervises coding-agent sessions. See ARCHITECTURE.md.

mod app;
mod cli;
mod cmd;
mod config;
mod context;
mod demo;
mod diag;
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
    let cli = cli::Cli::parse();
    let result = match cli.command {
        cli::Command::Run(args) => cmd::run::main(args),
        cli::Command::Env(args) => cmd::env::main(args),
        cli::Command::Config(args) => cmd::config::main(args),
        cli::Command::Completions(args) => cmd::config::completions(args),
        cli::Command::Man => cmd::config::man(),
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
