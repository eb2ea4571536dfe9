//! `rules explain`: a human trace of one evaluation — the parse, each invocation with its
//! unwrapping steps, its target and why, every rule that fired, and the final decision.

use std::fmt::Write as _;

use super::{CommandInput, Engine, EvalEnv, Evaluation};

/// Renders the explanation of `input` as plain text (no colour; the caller may add some).
pub fn explain(engine: &Engine, input: &CommandInput, env: &EvalEnv<'_>) -> (Evaluation, String) {
    let eval = engine.evaluate(input, env);
    let mut out = String::new();
    let source = match input {
        CommandInput::Shell(s) => s.clone(),
        CommandInput::Argv(v) => v.join(" "),
    };
    let _ = writeln!(out, "command: {source}");
    let _ = writeln!(out, "decision: {}", eval.decision);
    if eval.commands.is_empty() {
        let _ = writeln!(out, "  (nothing runs)");
    }
    for (n, c) in eval.commands.iter().enumerate() {
        let _ = writeln!(out, "\n[{}] {}  → {}", n + 1, c.argv.join(" "), c.decision);
        if let (Some(span), CommandInput::Shell(s)) = (&c.span, input)
            && let Some(text) = s.get(span.clone())
            && text.len() < 200
        {
            let _ = writeln!(
                out,
                "    parsed from: {text:?} (bytes {}..{})",
                span.start, span.end
            );
        }
        for step in &c.unwrapped {
            let _ = writeln!(out, "    unwrap: {step}");
        }
        let kind = c
            .target
            .kind
            .map(|k| format!("{k:?}").to_lowercase())
            .unwrap_or_else(|| "local".into());
        let _ = writeln!(
            out,
            "    target: {} {} ({}) — {}",
            kind, c.target.name, c.target.tier, c.target.reason
        );
        for (k, v) in &c.target.details {
            let _ = writeln!(out, "      {k}: {v}");
        }
        if c.rules.is_empty() {
            let _ = writeln!(out, "    rules: none fired");
        }
        for r in &c.rules {
            let _ = writeln!(
                out,
                "    rule {} [{}] {}: {}",
                r.id, r.pack, r.action, r.message
            );
        }
    }
    for note in &eval.notes {
        let _ = writeln!(out, "note: {note}");
    }
    (eval, out)
}
