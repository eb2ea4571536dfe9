//! The supervisor app: one event loop that owns the [`Model`].
//!
//! ```text
//! input thread ─┐ (keys, paste, mouse, resize)      ┌─► effect::perform (PTY write, resize, signals)
//! signal tasks ─┼─► events ─┐                        │
//! PTY reader ───┴─► pty ────┴─► drain ─► update() ───┴─► draw once per batch, ≤ 60 fps, if dirty
//! ```
//!
//! **Invariants:** the loop sleeps when nothing happens (no timer runs except the status bar's
//! one-second clock while the agent lives, the frame deadline while a draw is owed, and the
//! synchronized-output deadline while the agent holds a 2026 block); it draws at most once per
//! batch and at most once per [`FRAME`]; a batch takes at most [`BATCH_BYTES`] of PTY output, so
//! keys are never starved by a flood.

pub mod action;
pub mod effect;
pub mod event;
pub mod gate_update;
pub mod keymap;
pub mod model;
pub mod update;

#[cfg(test)]
mod flow_tests;
#[cfg(test)]
mod update_tests;

use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use tokio::time::sleep_until;

use self::effect::{AgentControl, Host};
use self::event::Event;
use self::model::Model;
use crate::session::{PtyEvent, PtyOutput};

/// The shortest time between two frames (60 fps).
pub const FRAME: Duration = Duration::from_micros(16_667);
/// How much PTY output one batch feeds to the model before drawing again.
pub const BATCH_BYTES: usize = 1 << 20;
/// Capacity of the events channel (input thread and signal tasks). The input thread blocks when
/// it is full, which only happens if the loop stalls; keys are never dropped.
pub const EVENTS_CAPACITY: usize = 1024;

/// Where the loop's events come from.
pub struct Sources {
    /// Keys, pastes, mouse, resizes, signals.
    pub events: mpsc::Receiver<Event>,
    /// The agent's PTY (output and exit), bounded by the session.
    pub pty: PtyOutput,
    /// What the gate, the context watcher and the exec gate report (bounded; senders on
    /// threads block, async senders wait, so nothing is lost and nothing grows).
    pub side: mpsc::Receiver<Event>,
}

/// Test hooks of the loop.
#[derive(Debug, Clone, Copy, Default)]
pub struct LoopOptions {
    /// Panic right after the first frame (`OVERWATCH_TEST_PANIC=1`; the e2e test proving the
    /// terminal is restored after a panic uses it).
    pub panic_after_first_draw: bool,
}

/// Runs the loop until `model.quit` is set (or every source is closed and nothing is pending).
///
/// Errors: drawing failed (the outer terminal is gone).
pub async fn run(
    model: &mut Model,
    host: &mut dyn Host,
    agent: &mut dyn AgentControl,
    sources: &mut Sources,
    options: LoopOptions,
) -> anyhow::Result<()> {
    let mut last_draw: Option<Instant> = None;
    let mut events_open = true;
    let mut pty_open = true;
    let mut side_open = true;
    while model.quit.is_none() {
        let now = Instant::now();
        let frame_at = draw_owed(model).then(|| last_draw.map_or(now, |t| t + FRAME));
        let tick_at = model
            .agent_alive()
            .then(|| model.started + Duration::from_secs(model.elapsed().as_secs() + 1));
        let sync_at = model.terminal.sync_deadline();

        let first = tokio::select! {
            biased;
            event = sources.events.recv(), if events_open => {
                events_open = event.is_some();
                event
            }
            event = sources.pty.recv(), if pty_open => {
                pty_open = event.is_some();
                event.map(from_pty)
            }
            event = sources.side.recv(), if side_open => {
                side_open = event.is_some();
                event
            }
            () = sleep_opt(frame_at), if frame_at.is_some() => None,
            () = sleep_opt(sync_at), if sync_at.is_some() => Some(Event::SyncExpired(Instant::now())),
            () = sleep_opt(tick_at), if tick_at.is_some() => Some(Event::Tick(Instant::now())),
            else => break,
        };

        let mut batch: Vec<Event> = first.into_iter().collect();
        let mut bytes = 0;
        while pty_open && bytes < BATCH_BYTES {
            match sources.pty.try_recv() {
                Ok(event) => {
                    if let PtyEvent::Output(chunk) = &event {
                        bytes += chunk.len();
                    }
                    batch.push(from_pty(event));
                }
                Err(mpsc::error::TryRecvError::Empty) => break,
                Err(mpsc::error::TryRecvError::Disconnected) => pty_open = false,
            }
        }
        while let Ok(event) = sources.events.try_recv() {
            batch.push(event);
        }
        while let Ok(event) = sources.side.try_recv() {
            batch.push(event);
        }

        let now = Instant::now();
        update::dispatch(model, Event::Tick(now));
        for event in batch {
            if let Event::PtyOutput(bytes) = &event {
                agent.record_output(bytes);
            }
            let effects = update::dispatch(model, event);
            let failures = effect::perform(effects, agent, host);
            if let Some(failure) = failures.into_iter().last() {
                update::update(model, action::Action::ShowNotice(failure));
            }
            if model.quit.is_some() {
                break;
            }
        }

        if draw_owed(model) && last_draw.is_none_or(|t| now >= t + FRAME) {
            host.draw(model)?;
            model.dirty = false;
            last_draw = Some(now);
            if options.panic_after_first_draw {
                panic!("OVERWATCH_TEST_PANIC: panicking inside the app loop after the first frame");
            }
        }
    }
    Ok(())
}

/// A frame is owed when something changed, unless the agent is inside a synchronized-output
/// block (DEC 2026): then the screen is half-updated and drawing it would show tearing.
fn draw_owed(model: &Model) -> bool {
    model.dirty && !model.terminal.is_synchronized()
}

fn from_pty(event: PtyEvent) -> Event {
    match event {
        PtyEvent::Output(bytes) => Event::PtyOutput(bytes),
        PtyEvent::Exited(status) => Event::AgentExited(status),
    }
}

/// Sleeps until `deadline`, or forever when there is none (so the branch never fires).
async fn sleep_opt(deadline: Option<Instant>) {
    match deadline {
        Some(at) => sleep_until(at.into()).await,
        None => std::future::pending().await,
    }
}
