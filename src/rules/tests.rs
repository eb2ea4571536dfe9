//! Engine-level tests: built-in pack examples, per-bypass-class tables, context-dependent targets,
//! layering and trust, and a property test that wrappers never lower a decision.

use super::*;

fn engine() -> Engine {
    Engine::from_sources(Vec::new(), Layer::Team, true).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn builtin_examples_pass() {
    let e = engine();
    let failures = e.check_examples(true);
    let report: Vec<String> = failures
        .iter()
        .map(|f| {
            format!(
                "{} {} `{}` expected {} got {}",
                f.location,
                f.rule,
                f.command,
                if f.should_match { "match" } else { "no match" },
                f.got
            )
        })
        .collect();
    assert!(
        report.is_empty(),
        "{} failing examples:\n{}",
        report.len(),
        report.join("\n")
    );
    assert!(e.example_count(true) > 200);
}
