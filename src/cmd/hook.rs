//! `overwatch hook claude-code|codex|gemini` (stdin hook JSON → decision JSON) and
//! `overwatch hook install`.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context as _;

use crate::cli::{HookArgs, HookCommand};
use crate::gate::hook::{self, HookAgent};
use crate::gate::{engine, install};

/// Runs one hook adapter or the installer.
pub fn main(args: HookArgs) -> anyhow::Result<ExitCode> {
    let agent = match args.command {
        HookCommand::ClaudeCode => HookAgent::ClaudeCode,
        HookCommand::Codex => HookAgent::Codex,
        HookCommand::Gemini => HookAgent::Gemini,
        HookCommand::Install(install_args) => {
            let exe = std::env::current_exe().context("finding the overwatch binary's path")?;
            let home = dirs::home_dir().context("finding the home directory")?;
            let agents = match install_args.agent {
                Some(agent) => vec![agent],
                None => vec![HookAgent::ClaudeCode, HookAgent::Codex, HookAgent::Gemini],
            };
            for agent in agents {
                let text = install::install(agent, &exe, &home, install_args.write)
                    .with_context(|| format!("installing the {} hook", agent.as_str()))?;
                print!("{text}");
            }
            return Ok(ExitCode::SUCCESS);
        }
    };
    adapter(agent)
}

/// `overwatch hook claude-code|codex|gemini` spelled exactly so (`argv[1..]`), recognised
/// before the command line is parsed: agents start this process for every tool call, and clap
/// building the whole command tree is a fifth of a hook's start-up instructions. Any other
/// spelling (`--help`, extra options) goes through clap as usual.
pub fn fast_path(args: &[std::ffi::OsString]) -> Option<HookAgent> {
    let [hook, agent] = args else { return None };
    if hook != "hook" {
        return None;
    }
    [HookAgent::ClaudeCode, HookAgent::Codex, HookAgent::Gemini]
        .into_iter()
        .find(|a| agent == a.as_str())
}

/// Runs one hook adapter: the agent's JSON on stdin, its answer on stdout.
pub fn adapter(agent: HookAgent) -> anyhow::Result<ExitCode> {
    let input = hook::read_capped(std::io::stdin().lock());
    let env: Vec<(String, String)> = crate::context::process_env().into_iter().collect();
    let cwd = std::env::current_dir().unwrap_or_else(|_| "/".into());
    let output = hook::run(agent, input, &env, &cwd, engine::load_standalone);
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(output.stdout.as_bytes())
        .and_then(|()| stdout.flush())
        .context("writing the hook answer")?;
    Ok(ExitCode::from(output.exit_code))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_exact_adapter_spellings_skip_the_parser() {
        let args = |v: &[&str]| v.iter().map(std::ffi::OsString::from).collect::<Vec<_>>();
        assert_eq!(
            fast_path(&args(&["hook", "claude-code"])),
            Some(HookAgent::ClaudeCode)
        );
        assert_eq!(fast_path(&args(&["hook", "codex"])), Some(HookAgent::Codex));
        assert_eq!(
            fast_path(&args(&["hook", "gemini"])),
            Some(HookAgent::Gemini)
        );
        for other in [
            &["hook", "claude-code", "--help"][..],
            &["hook", "install"],
            &["hook", "Codex"],
            &["check", "codex"],
            &["hook"],
            &[],
        ] {
            assert_eq!(fast_path(&args(other)), None, "{other:?}");
        }
    }
}
