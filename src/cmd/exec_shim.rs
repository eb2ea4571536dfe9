//! `overwatch __exec-shim --listener-socket PATH -- CMD…` (hidden): the PTY child when the exec
//! gate is on. Installs the seccomp filter, hands the listener fd to overwatch, then execs the
//! agent, which inherits the filter. See `gate::exec` and docs/exec-gate.md.

use std::process::ExitCode;

use crate::cli::ExecShimArgs;

/// How long to wait for overwatch's ack before giving up (overwatch acks immediately).
#[cfg(target_os = "linux")]
const ACK_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// Never returns on success (the process becomes the agent). Errors before the exec mean the
/// agent is not started: the shim does not run an agent unguarded because overwatch vanished.
#[cfg(target_os = "linux")]
pub fn main(args: ExecShimArgs) -> anyhow::Result<ExitCode> {
    use anyhow::Context as _;

    use crate::gate::exec::filter::install_listener;
    use crate::gate::exec::handoff::hand_over;

    let argv: Vec<std::ffi::CString> = args
        .command
        .iter()
        .map(|arg| std::ffi::CString::new(arg.as_bytes()))
        .collect::<Result<_, _>>()
        .context("preparing the agent's argv (an argument contains a NUL byte)")?;
    let Some(program) = argv.first() else {
        anyhow::bail!("starting the agent: no command given after --");
    };
    let installed = install_listener();
    hand_over(&args.listener_socket, installed.as_ref(), ACK_TIMEOUT)
        .context("handing the exec-gate listener to overwatch")?;
    // Close our copy of the listener before the agent starts (it is O_CLOEXEC as well): only
    // overwatch may answer notifications.
    drop(installed);
    // execvp only returns on failure (its Ok type is uninhabited).
    let Err(err) = nix::unistd::execvp(program, &argv);
    eprintln!("overwatch: starting {}: {err}", args.command[0]);
    Ok(ExitCode::from(127))
}

/// The exec gate is Linux-only; overwatch never spawns the shim elsewhere.
#[cfg(not(target_os = "linux"))]
pub fn main(args: ExecShimArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!(
        "starting {:?} under the exec gate: the exec gate needs Linux (seccomp)",
        args.command
    )
}
