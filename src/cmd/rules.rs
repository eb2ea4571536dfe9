//! `overwatch rules list | test [PATHS] | lint | explain STRING | trust PATH`.

use std::process::ExitCode;

use anyhow::Context as _;

use crate::cli::{RulesArgs, RulesCommand};
use crate::cmd::check::{current_probe_env, load_engine, load_engine_with, pack_error};
use crate::rules::{Ambient, CommandInput, Engine, EvalEnv, LoadOptions, explain, layers, trust};

/// Runs an `overwatch rules` subcommand.
pub fn main(args: RulesArgs) -> anyhow::Result<ExitCode> {
    let probe = current_probe_env()?;
    match args.command {
        RulesCommand::List => {
            let engine = match load_engine(&probe, args.rules) {
                Ok(e) => e,
                Err(c) => return Ok(c),
            };
            for p in engine.packs() {
                println!(
                    "{:<14} {:<8} {:<8} {:<9} {:>3} rules {:>2} paths  {}",
                    p.name,
                    p.version,
                    p.layer.as_str(),
                    if p.trusted { "trusted" } else { "untrusted" },
                    p.rules,
                    p.paths,
                    p.origin
                );
            }
            if args.verbose {
                for r in engine.rules() {
                    println!("  {:<40} {:<8} {}", r.id, r.action.as_str(), r.description);
                }
            }
            let k = engine.knowledge();
            println!(
                "{} tier pins, {} custom probes",
                k.pins.len(),
                k.probes.len()
            );
            for n in engine.load_notes() {
                println!("note: {n}");
            }
            Ok(ExitCode::SUCCESS)
        }
        RulesCommand::Test { paths } => {
            // Built-ins plus the given packs (or the configured layers when none are given).
            let opts = if paths.is_empty() {
                LoadOptions {
                    builtin_from_toml: true,
                    ..LoadOptions::standard(&probe.cwd, args.rules)
                }
            } else {
                let mut team = args.rules;
                team.extend(paths);
                LoadOptions {
                    builtin: true,
                    builtin_from_toml: true,
                    team_paths: team,
                    ..LoadOptions::default()
                }
            };
            let engine = match Engine::load_unchecked(&opts) {
                Ok(e) => e,
                Err(e) => return Ok(pack_error(e)),
            };
            let failures = engine.check_examples(true);
            for f in &failures {
                println!(
                    "FAIL {} {}: `{}` should {}match; got {}",
                    f.location,
                    f.rule,
                    f.command,
                    if f.should_match { "" } else { "not " },
                    f.got
                );
            }
            let total = engine.example_count(true);
            println!(
                "{} examples, {} passed, {} failed",
                total,
                total - failures.len(),
                failures.len()
            );
            Ok(if failures.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        RulesCommand::Lint => {
            // From the TOML: lint reports rules without embedded examples.
            let opts = LoadOptions {
                builtin_from_toml: true,
                ..LoadOptions::standard(&probe.cwd, args.rules)
            };
            let engine = match load_engine_with(&opts) {
                Ok(e) => e,
                Err(c) => return Ok(c),
            };
            let mut warnings = 0;
            let mut seen = std::collections::HashMap::new();
            for r in engine.rules() {
                for p in layers::unknown_placeholders(&r.message) {
                    warnings += 1;
                    println!(
                        "warning: {} [{}]: unknown placeholder {{{p}}} in message",
                        r.id, r.pack
                    );
                }
                if let Some(prev) = seen.insert(r.id.clone(), r.pack.clone()) {
                    warnings += 1;
                    println!(
                        "warning: rule id {} defined in {} and {}",
                        r.id, prev, r.pack
                    );
                }
                if r.action != r.written_action {
                    println!(
                        "note: {} [{}] action {} overridden to {}",
                        r.id,
                        r.pack,
                        r.written_action.as_str(),
                        r.action.as_str()
                    );
                }
            }
            let without: Vec<&str> = engine
                .rules()
                .iter()
                .filter(|r| !engine_has_examples(&engine, &r.id))
                .map(|r| r.id.as_str())
                .collect();
            for id in &without {
                warnings += 1;
                println!("warning: {id}: no embedded examples");
            }
            for n in engine.load_notes() {
                println!("note: {n}");
            }
            println!("{} rules, {} warnings", engine.rules().len(), warnings);
            Ok(if warnings == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        RulesCommand::Explain { command } => {
            let engine = match load_engine(&probe, args.rules) {
                Ok(e) => e,
                Err(c) => return Ok(c),
            };
            let knowledge = engine.knowledge();
            let ambient = Ambient::on_first_use();
            let env = EvalEnv {
                ambient: &ambient,
                probe: &probe,
                knowledge: &knowledge,
            };
            let (eval, text) = explain::explain(&engine, &CommandInput::Shell(command), &env);
            print!("{text}");
            Ok(ExitCode::from(eval.decision.exit_code()))
        }
        RulesCommand::Trust { path } => {
            let trust_path =
                trust::default_path().context("finding the data directory for trust records")?;
            // Load it first, as every session will (schema, regexes, globs, embedded examples,
            // on top of the built-in packs its overrides name): trusting a pack that does not
            // load would record a hash for a file that stops every session with exit 2.
            let opts = LoadOptions {
                builtin: true,
                team_paths: vec![path.clone()],
                ..LoadOptions::default()
            };
            if let Err(e) = Engine::load(&opts) {
                return Ok(pack_error(e));
            }
            let mut t = trust::TrustFile::load(&trust_path).map_err(|e| anyhow::anyhow!("{e}"))?;
            let digest = t.trust(&trust_path, &path)?;
            println!(
                "trusted {} (sha256 {digest}) in {}",
                path.display(),
                trust_path.display()
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn engine_has_examples(engine: &Engine, id: &str) -> bool {
    engine.has_examples(id)
}
