//! `overwatch run -- CMD…`: supervise an agent in the TUI.

use std::process::ExitCode;

use crate::cli::RunArgs;

/// Runs the supervisor; returns the agent's exit code (128+signal if it died by a signal).
pub fn main(args: RunArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!(
        "running {:?}: the supervisor is not built yet",
        args.command
    )
}
