//! overwatch: a terminal UI that supervises coding-agent sessions. See ARCHITECTURE.md.

mod cli;
mod cmd;
mod context;
mod gate;
mod rules;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let result = match cli.command {
        cli::Command::Run(args) => cmd::run::main(args),
        cli::Command::Env(args) => cmd::env::main(args),
        cli::Command::ExecShim(args) => cmd::exec_shim::main(args),
        cli::Command::Check(args) => cmd::check::main(args),
        cli::Command::Rules(args) => cmd::rules::main(args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("overwatch: {err:#}");
            ExitCode::from(2)
        }
    }
}
