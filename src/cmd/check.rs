//! `overwatch check [--json] [--rules P]… (--command STRING | -- ARGV…)`: evaluate one command
//! against the rule packs and the current context. Exit code = decision (0 allow/warn, 10
//! confirm, 11 deny); 2 for usage or rule-pack errors.

use std::io::Write as _;
use std::process::ExitCode;

use anyhow::Context as _;

use crate::cli::CheckArgs;
use crate::context::ProbeEnv;
use crate::rules::{Ambient, CommandInput, Engine, EvalEnv, Evaluation, LoadError, LoadOptions};

/// The probe input for this process: real HOME, cwd and environment.
pub fn current_probe_env() -> anyhow::Result<ProbeEnv> {
    ProbeEnv::from_process().context("reading the current directory")
}

/// Loads the engine for a CLI command: standard layers plus `--rules` paths. A pack error is
/// printed (see [`pack_error`]) and becomes exit code 2.
pub fn load_engine(probe: &ProbeEnv, team: Vec<std::path::PathBuf>) -> Result<Engine, ExitCode> {
    load_engine_with(&LoadOptions::standard(&probe.cwd, team))
}

/// [`load_engine`] with explicit load options.
pub fn load_engine_with(opts: &LoadOptions) -> Result<Engine, ExitCode> {
    Engine::load(opts).map_err(pack_error)
}

/// Prints a rule-pack error with miette (file:line:column and a caret) to stderr; returns exit
/// code 2.
pub fn pack_error(e: LoadError) -> ExitCode {
    eprintln!("{:?}", miette::Report::new(e));
    ExitCode::from(2)
}

/// `overwatch check [--json] --command STRING` spelled exactly so (`argv[1..]`), recognised
/// before the command line is parsed, like the hook adapters ([`crate::cmd::hook::fast_path`]):
/// scripts and CI run one check per command, and clap building the whole command tree was
/// ~210k of a check's ~1.9M instructions. `STRING` must be UTF-8 and not start with `-` (clap
/// refuses such a value); any other spelling goes through clap.
pub fn fast_path(args: &[std::ffi::OsString]) -> Option<CheckArgs> {
    let (json, rest) = match args {
        [check, json, rest @ ..] if check == "check" && json == "--json" => (true, rest),
        [check, rest @ ..] if check == "check" => (false, rest),
        _ => return None,
    };
    let [flag, command] = rest else { return None };
    let command = command.to_str().filter(|c| !c.starts_with('-'))?;
    (flag == "--command").then(|| CheckArgs {
        json,
        rules: Vec::new(),
        command: Some(command.to_owned()),
        argv: Vec::new(),
    })
}

/// Runs `overwatch check`.
pub fn main(args: CheckArgs) -> anyhow::Result<ExitCode> {
    // One command, then exit: see `short_lived_process`.
    crate::rules::matcher::short_lived_process();
    let input = match (&args.command, args.argv.as_slice()) {
        (Some(s), []) => CommandInput::Shell(s.clone()),
        // `overwatch check "rm -rf /"`: no program is named "rm -rf /"; as an argv it would be
        // allowed, which is never what the person typing it meant.
        (None, [one]) if one.contains(char::is_whitespace) => {
            eprintln!(
                "overwatch check: evaluating {one:?} as a shell command (the same as --command); \
                 to check an argv, give its words separately after --"
            );
            CommandInput::Shell(one.clone())
        }
        (None, [_, ..]) => CommandInput::Argv(args.argv.clone()),
        _ => {
            eprintln!("overwatch check: give exactly one of --command 'STRING' or -- ARGV…");
            return Ok(ExitCode::from(2));
        }
    };
    let probe = current_probe_env()?;
    let engine = match load_engine(&probe, args.rules.clone()) {
        Ok(e) => e,
        Err(code) => return Ok(code),
    };
    let knowledge = engine.knowledge();
    let ambient = Ambient::on_first_use();
    let env = EvalEnv {
        ambient: &ambient,
        probe: &probe,
        knowledge: &knowledge,
    };
    let eval = engine.evaluate(&input, &env);
    // The process ends here: freeing every compiled rule would cost ~8 % of its instructions.
    std::mem::forget(engine);
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer(&mut out, &eval).context("writing JSON")?;
        writeln!(out)?;
    } else {
        out.write_all(render(&eval).as_bytes())?;
    }
    Ok(ExitCode::from(eval.decision.exit_code()))
}

/// Human-readable summary: the decision, then each command with its target and fired rules.
pub fn render(eval: &Evaluation) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    let _ = writeln!(s, "{}", eval.decision);
    for c in &eval.commands {
        if c.rules.is_empty() {
            continue;
        }
        let _ = writeln!(
            s,
            "  {}  [{} {} ({})]",
            c.argv.join(" "),
            c.decision,
            c.target.name,
            c.tier
        );
        for r in &c.rules {
            let _ = writeln!(s, "    {} {}: {}", r.action, r.id, r.message);
        }
    }
    for n in &eval.notes {
        let _ = writeln!(s, "  note: {n}");
    }
    s
}

#[cfg(test)]
mod tests {
    use clap::Parser as _;

    use super::*;
    use crate::cli::{Cli, Command};

    #[test]
    fn the_fast_path_reads_what_clap_reads() {
        let args = |v: &[&str]| v.iter().map(std::ffi::OsString::from).collect::<Vec<_>>();
        for taken in [
            &["check", "--command", "git status"][..],
            &["check", "--json", "--command", "kubectl delete ns x"],
            &["check", "--command", ""],
        ] {
            let fast = fast_path(&args(taken)).unwrap_or_else(|| panic!("{taken:?}"));
            let Command::Check(slow) =
                Cli::parse_from(args(&[&["overwatch"], taken].concat())).command
            else {
                panic!("{taken:?} is not a check")
            };
            assert_eq!(
                (fast.json, fast.rules, fast.command, fast.argv),
                (slow.json, slow.rules, slow.command, slow.argv),
                "{taken:?}"
            );
        }
        for other in [
            &["check", "--command", "-rf"][..],
            &["check", "--command=ls"],
            &["check", "--command", "ls", "--json"],
            &["check", "--rules", "p.toml", "--command", "ls"],
            &["check", "--", "git", "push"],
            &["check", "rm -rf /"],
            &["check", "--help"],
            &["hook", "--command", "ls"],
            &["check"],
            &[],
        ] {
            assert!(fast_path(&args(other)).is_none(), "{other:?}");
        }
    }
}
