//! `overwatch demo`: builds the throw-away environment ([`crate::demo`]), runs the scripted demo
//! agent inside the real supervisor with every layer on, then prints what was held, allowed and
//! denied, and how to replay it.

use std::ffi::OsString;
use std::process::ExitCode;

use anyhow::Context as _;

use crate::cli::{DemoArgs, RunArgs};
use crate::cmd::run;
use crate::demo::DemoEnv;
use crate::gate::audit::AuditRecord;
use crate::rules::Decision;

/// Runs the demo; exits with the demo agent's exit code.
pub fn main(args: DemoArgs) -> anyhow::Result<ExitCode> {
    let mut env = DemoEnv::create().context("building the demo environment")?;
    let run_args = RunArgs {
        theme: args.theme,
        prefix_key: None,
        exit_with_agent: false,
        cwd: Some(env.workspace.clone()),
        rules: vec![env.team_pack.clone()],
        exec_gate: false,
        no_exec_gate: false,
        confirm_timeout: None,
        scrub_env: false,
        no_record: false,
        record: None,
        cast_format: None,
        record_input: false,
        command: vec!["bash".into(), env.agent_script.display().to_string()],
    };
    let mut settings = run::settings(run_args)?;
    settings.env = env
        .env
        .iter()
        .map(|(k, v)| (OsString::from(k), OsString::from(v)))
        .chain([(
            OsString::from("DEMO_PAUSE"),
            OsString::from(args.pause.to_string()),
        )])
        .collect();
    let outcome = run::supervise(settings)?;
    print_summary(&outcome);
    if args.keep {
        env.keep();
        println!("demo environment kept at {}", env.root().display());
    }
    Ok(ExitCode::from(outcome.code))
}

fn print_summary(outcome: &run::Outcome) {
    let records: Vec<AuditRecord> = std::fs::read_to_string(&outcome.audit_path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let held: Vec<&AuditRecord> = records
        .iter()
        .filter(|r| r.verdict >= Decision::Confirm)
        .collect();
    println!("\noverwatch demo — what happened");
    println!(
        "  {} commands checked, {} held or refused by the rules:",
        records.len(),
        held.len()
    );
    for r in &held {
        let target = r
            .target
            .as_deref()
            .map(|t| format!(" → {t}"))
            .unwrap_or_default();
        let tier = r.tier.map(|t| format!(" ({t})")).unwrap_or_default();
        println!(
            "    {:<5} {}{target}{tier}  [{} by {}]",
            r.decision.as_str(),
            r.command,
            r.layer.as_str(),
            r.decided_by
        );
    }
    println!("  audit log:  {}", outcome.audit_path.display());
    println!("  replay it:  overwatch replay {}", outcome.session_id);
}
