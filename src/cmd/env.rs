//! `overwatch env [--json]`: print the detected context.

use std::process::ExitCode;

use crate::cli::EnvArgs;

/// Prints the facts as a table or JSON.
pub fn main(args: EnvArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("detecting the context (json={}): not built yet", args.json)
}
