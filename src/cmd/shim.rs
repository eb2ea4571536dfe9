//! The PATH shim entry: `overwatch shim PROGRAM ARGS…`, or the binary invoked under a guarded
//! program's name (`argv[0]` dispatch in main.rs).

use std::ffi::OsString;
use std::process::ExitCode;

use crate::cli::ShimArgs;
use crate::gate::{engine, shim};

/// `overwatch shim PROGRAM ARGS…`.
pub fn main(args: ShimArgs) -> anyhow::Result<ExitCode> {
    Ok(main_as(
        &args.program,
        args.args.into_iter().map(OsString::from).collect(),
    ))
}

/// Acts as the shim for `program`: asks the gate, then execs the real program or exits 126.
pub fn main_as(program: &str, args: Vec<OsString>) -> ExitCode {
    ExitCode::from(shim::run(program, args, engine::load_standalone))
}
