//! The standalone evaluator used by hooks and shims outside a session (or when the gate is
//! unreachable): the rule engine behind the [`Evaluator`] seam.
//!
//! Until the rule engine is part of the binary, loading fails, and callers treat that as
//! `Confirm` — hooks answer `ask`, shims refuse — so nothing is let through unchecked.

use super::Evaluator;

/// Loads the built-in rule packs (plus `OVERWATCH_RULES`, a `:`-separated list of extra packs).
pub fn load_standalone() -> anyhow::Result<Box<dyn Evaluator>> {
    anyhow::bail!("the rule engine is not built into this overwatch binary yet")
}
