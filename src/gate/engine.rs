//! The rule engine behind the gate's [`Evaluator`] seam: [`RulesEvaluator`] turns a
//! [`GateRequest`] into a `rules::Engine` evaluation (command string, argv or protected path) and
//! the [`rules::Evaluation`] into the gate's [`Assessment`].
//!
//! Used in-session by the gate server, and standalone ([`load_standalone`]) by hooks and shims
//! outside a session or when the gate is unreachable.
//!
//! **Invariant:** the probe env for a request is built from the request (its cwd and forwarded
//! env subset) plus `HOME`, never from the gate process's own environment, so the verdict is
//! about the agent's context, not overwatch's.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::Context as _;

use super::{
    AssessedCommand, Assessment, Evaluator, GateRequest, PathAccess, RuleHit, Subject, TargetInfo,
};
use crate::context::{Knowledge, ProbeEnv};
use crate::rules::{
    self, Ambient, CommandInput, Decision, Engine, EvalEnv, Evaluation, LoadOptions,
};

/// The rule engine as an [`Evaluator`].
pub struct RulesEvaluator {
    engine: Engine,
    knowledge: Knowledge,
    home: PathBuf,
}

impl RulesEvaluator {
    /// Wraps a loaded engine; `home` is the agent's home directory (for `~` and probes).
    pub fn new(engine: Engine, home: PathBuf) -> Self {
        let knowledge = engine.knowledge();
        RulesEvaluator {
            engine,
            knowledge,
            home,
        }
    }

    /// The programs to shim (the engine's guarded programs).
    pub fn guarded_programs(&self) -> std::collections::BTreeSet<String> {
        self.engine.guarded_programs()
    }
}

impl Evaluator for RulesEvaluator {
    fn evaluate(&self, req: &GateRequest) -> Assessment {
        let mut env: BTreeMap<String, String> = req.env.clone();
        env.entry("HOME".into())
            .or_insert_with(|| self.home.to_string_lossy().into_owned());
        let probe = ProbeEnv {
            home: self.home.clone(),
            cwd: req.cwd.clone(),
            env,
        };
        let ambient = Ambient::on_first_use();
        let eval_env = EvalEnv {
            ambient: &ambient,
            probe: &probe,
            knowledge: &self.knowledge,
        };
        let evaluation = match &req.subject {
            Subject::Command(command) => self
                .engine
                .evaluate(&CommandInput::Shell(command.clone()), &eval_env),
            Subject::Argv(argv) => self
                .engine
                .evaluate(&CommandInput::Argv(argv.clone()), &eval_env),
            Subject::Path { access, path } => {
                let access = match access {
                    PathAccess::Read => rules::PathAccess::Read,
                    PathAccess::Write => rules::PathAccess::Write,
                };
                self.engine.evaluate_path(access, path, &eval_env)
            }
        };
        assess(&evaluation)
    }
}

/// Converts an engine evaluation into the gate's assessment: the strictest command gives the
/// target and span, every fired rule is listed once, and the explanation lists the unwrapping
/// steps, targets and engine notes.
pub fn assess(eval: &Evaluation) -> Assessment {
    let strictest = eval
        .commands
        .iter()
        .fold(None, |best: Option<&rules::CommandVerdict>, c| match best {
            Some(b) if b.decision >= c.decision => Some(b),
            _ => Some(c),
        })
        .filter(|c| c.decision > Decision::Allow || !c.rules.is_empty());
    let mut hits: Vec<RuleHit> = Vec::new();
    for command in &eval.commands {
        for rule in &command.rules {
            if !hits.iter().any(|h| h.id == rule.id && h.pack == rule.pack) {
                hits.push(RuleHit {
                    id: rule.id.clone(),
                    pack: rule.pack.clone(),
                    action: rule.action,
                    message: rule.message.clone(),
                });
            }
        }
    }
    let reason = match eval.strictest_rule() {
        Some((_, rule)) if eval.decision > Decision::Allow => rule.message.clone(),
        _ if eval.decision > Decision::Allow => eval
            .notes
            .first()
            .cloned()
            .unwrap_or_else(|| format!("the rules say {}", eval.decision)),
        _ => "no rule holds this command".to_string(),
    };
    let mut explain = Vec::new();
    for command in &eval.commands {
        explain.extend(command.unwrapped.iter().cloned());
        if command.decision > Decision::Allow || !command.rules.is_empty() {
            explain.push(format!(
                "{}: target {} ({}: {}) → {}",
                command.argv.join(" "),
                if command.target.name.is_empty() {
                    "this machine"
                } else {
                    &command.target.name
                },
                command.target.tier,
                command.target.reason,
                command.decision
            ));
        }
    }
    explain.extend(eval.notes.iter().cloned());
    Assessment {
        decision: eval.decision,
        reason,
        target: strictest.map(|c| TargetInfo {
            kind: c
                .target
                .kind
                .and_then(|k| serde_json::to_value(k).ok())
                .and_then(|v| v.as_str().map(String::from))
                .unwrap_or_else(|| "local".into()),
            name: c.target.name.clone(),
            tier: c.target.tier,
            reason: c.target.reason.clone(),
        }),
        rules: hits,
        span: strictest.and_then(|c| c.span.clone()),
        commands: eval
            .commands
            .iter()
            .map(|c| AssessedCommand {
                argv: c.argv.clone(),
                decision: c.decision,
            })
            .collect(),
        explain,
    }
}

/// Team packs for hooks and shims, from `OVERWATCH_RULES` (`:`-separated files or dirs), on top
/// of the standard layers (built-ins, `~/.config/overwatch/rules`, the project's trusted packs).
pub const ENV_RULES: &str = "OVERWATCH_RULES";

/// Loads the rule engine for a hook or shim process (standard layers for the process's cwd plus
/// [`ENV_RULES`]).
pub fn load_standalone() -> anyhow::Result<Box<dyn Evaluator>> {
    // A hook or shim without a session evaluates one command and exits.
    crate::rules::matcher::short_lived_process();
    let cwd = std::env::current_dir().context("reading the current directory")?;
    let home = dirs::home_dir().context("finding the home directory")?;
    let team: Vec<PathBuf> = std::env::var_os(ENV_RULES)
        .map(|v| std::env::split_paths(&v).collect())
        .unwrap_or_default();
    let engine = Engine::load(&LoadOptions::standard(&cwd, team))
        .map_err(|e| anyhow::anyhow!("{e}"))
        .context("loading the rule packs")?;
    Ok(Box::new(RulesEvaluator::new(engine, home)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gate::Layer;

    fn evaluator(pack: &str) -> RulesEvaluator {
        let source = rules::pack::PackSource::inline(
            "team.toml",
            format!("name = \"team\"\nversion = \"1.0.0\"\ndescription = \"test pack\"\n{pack}"),
        );
        let engine = Engine::from_sources(vec![source], rules::Layer::Team, true).unwrap();
        RulesEvaluator::new(engine, "/home/dev".into())
    }

    fn request(subject: Subject, env: &[(&str, &str)]) -> GateRequest {
        GateRequest {
            layer: Layer::Hook,
            agent: "test".into(),
            subject,
            cwd: "/home/dev/shop".into(),
            pid: 1,
            env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    #[test]
    fn a_pinned_production_database_holds_drop_table_with_its_host_as_target() {
        let ev = evaluator(
            "[[pins]]\nkind = \"database\"\nvalue = \"db.internal\"\ntier = \"production\"\nreason = \"shop database\"\n",
        );
        let command = "psql -h db.internal -c 'DROP TABLE orders'";
        let a = ev.evaluate(&request(Subject::Command(command.into()), &[]));
        assert_eq!(a.decision, Decision::Confirm, "{a:#?}");
        let target = a.target.clone().unwrap();
        assert_eq!(target.tier, crate::context::Tier::Production, "{a:#?}");
        assert!(
            a.rules.iter().any(|r| r.id == "databases.sql-destructive"),
            "{a:#?}"
        );
        assert!(a.span.is_some_and(|s| s.end <= command.len()));
        assert_eq!(a.commands[0].argv[0], "psql");

        // The same command as an argv (a shim) gets the same decision.
        let argv = ["psql", "-h", "db.internal", "-c", "DROP TABLE orders"].map(String::from);
        let b = ev.evaluate(&request(Subject::Argv(argv.to_vec()), &[]));
        assert_eq!(b.decision, a.decision);
        assert_eq!(b.commands[0].argv, a.commands[0].argv);
    }

    #[test]
    fn harmless_commands_pass_and_protected_paths_are_checked() {
        let ev = evaluator("");
        let a = ev.evaluate(&request(Subject::Command("ls -la".into()), &[]));
        assert_eq!(a.decision, Decision::Allow);
        assert!(a.target.is_none() && a.rules.is_empty());
        let env_file = ev.evaluate(&request(
            Subject::Path {
                access: PathAccess::Write,
                path: "/home/dev/shop/.env.production".into(),
            },
            &[],
        ));
        assert!(env_file.decision >= Decision::Confirm, "{env_file:#?}");
    }
}
