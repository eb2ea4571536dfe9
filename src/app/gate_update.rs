//! The pure reactions to what the gate, the context watcher and the session machinery report:
//! held commands go to the confirmation modal (which takes the keyboard first), decisions and
//! context changes go to the Activity tab, context changes also raise a banner and the bell.
//!
//! **Invariant:** the only path from a human's key to [`Effect::AnswerGate`] is
//! [`on_gate_key`]; nothing the agent writes (PTY output, gate requests) can produce it.

use std::time::Instant;

use crossterm::event::KeyEvent;

use super::effect::Effect;
use super::model::{ActivityEntry, ActivityKind, Model};
use crate::context::watch::ContextUpdate;
use crate::gate::pending::GateEvent;
use crate::ui::confirm::ModalOutcome;

/// How many Activity entries are kept (oldest dropped first; the audit log keeps everything).
pub const ACTIVITY_LIMIT: usize = 2000;

/// Applies a gate event.
pub fn on_gate(model: &mut Model, event: GateEvent, effects: &mut Vec<Effect>) {
    match event {
        GateEvent::Held(view) => {
            let target = view.assessment.target.as_ref();
            let text = match target {
                Some(t) => format!("held: {} → {} ({})", view.command, t.name, t.tier),
                None => format!("held: {}", view.command),
            };
            let tier = target.map(|t| t.tier);
            model.gate_modal.push(*view);
            push_activity(model, ActivityKind::Held, text, tier);
            model.attention_since.get_or_insert(model.now);
            effects.push(Effect::Bell);
        }
        GateEvent::Withdrawn { id, why } => {
            model.gate_modal.withdraw(id);
            push_activity(
                model,
                ActivityKind::Note,
                format!("request {id} withdrawn: {why}"),
                None,
            );
        }
        GateEvent::Decided(record) => {
            let text = format!(
                "{} [{}] {}{} — {} by {}",
                record.decision,
                record.layer.as_str(),
                record.command,
                record
                    .target
                    .as_deref()
                    .map(|t| format!(" → {t}"))
                    .unwrap_or_default(),
                record.reason,
                record.decided_by,
            );
            let tier = record.tier;
            effects.push(Effect::Record(crate::app::effect::RecordNote::Decision(
                record.clone(),
            )));
            push_activity(model, ActivityKind::Decision(record.decision), text, tier);
        }
    }
    if !model.gate_modal.needs_attention() {
        model.attention_since = None;
    }
    model.dirty = true;
}

/// A key while a held command waits: the modal decides what it means.
pub fn on_gate_key(model: &mut Model, key: KeyEvent, effects: &mut Vec<Effect>) {
    match model.gate_modal.handle_key(key) {
        ModalOutcome::Answer { id, answer } => effects.push(Effect::AnswerGate { id, answer }),
        ModalOutcome::Consumed | ModalOutcome::NotOpen => {}
    }
    if !model.gate_modal.needs_attention() {
        model.attention_since = None;
    }
    model.dirty = true;
}

/// A re-detected context: replace it, and for every warning-worthy change raise the banner,
/// an Activity entry, a recording marker and the bell.
pub fn on_context(model: &mut Model, update: ContextUpdate, effects: &mut Vec<Effect>) {
    model.context = update.context;
    for warning in update.warnings {
        push_activity(
            model,
            ActivityKind::Warning,
            warning.message.clone(),
            Some(warning.tier),
        );
        effects.push(Effect::Record(
            crate::app::effect::RecordNote::ContextWarning(warning.clone()),
        ));
        model.banner = Some((warning.message.clone(), model.now));
        model.context_warnings.push(warning);
        effects.push(Effect::Bell);
    }
    model.dirty = true;
}

/// Adds a line to the Activity tab.
pub fn note(model: &mut Model, text: String) {
    push_activity(model, ActivityKind::Note, text, None);
    model.dirty = true;
}

fn push_activity(
    model: &mut Model,
    kind: ActivityKind,
    text: String,
    tier: Option<crate::context::Tier>,
) {
    let at = model.now.saturating_duration_since(model.started);
    model.activity.push(ActivityEntry {
        at,
        kind,
        text,
        tier,
    });
    if model.activity.len() > ACTIVITY_LIMIT {
        let excess = model.activity.len() - ACTIVITY_LIMIT;
        model.activity.drain(..excess);
    }
}

/// Whether the status bar should flash (a held command has waited an odd number of seconds).
pub fn flash_on(model: &Model, now: Instant) -> bool {
    model.attention_since.is_some_and(|since| {
        now.saturating_duration_since(since)
            .as_secs()
            .is_multiple_of(2)
    })
}
