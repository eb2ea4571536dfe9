//! overwatch: a terminal UI that supervises coding-agent sessions. See ARCHITECTURE.md.

mod cli;
mod cmd;
mod context;
mod diff;
mod rules;
mod ui;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let result = match cli.command {
        cli::Command::Run(args) => cmd::run::main(args),
        cli::Command::Env(args) => cmd::env::main(args),
        cli::Command::DiffWatch(args) => cmd::diff_watch::main(args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("overwatch: {err:#}");
            ExitCode::from(2)
        }
    }
}
