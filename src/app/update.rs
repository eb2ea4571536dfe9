//! The pure core: [`intent`] turns an event into an action (through the keymap), [`update`]
//! applies an action to the model and returns the effects to perform.
//!
//! **Invariant:** nothing here does I/O or reads a clock; time arrives as [`Action::Tick`], bytes as
//! [`Action::ApplyOutput`]. The terminal model is sans-I/O, so feeding it here is pure too: its
//! replies to the agent's queries come back out as [`Effect::WriteToAgent`].

use crossterm::event::{MouseButton, MouseEvent, MouseEventKind};
use ratatui::layout::Rect;

use super::action::{Action, Scroll, Tab};
use super::effect::Effect;
use super::event::Event;
use super::keymap::Mode;
use super::model::{AgentState, Focus, Model, Overlay, Question, Quit};
use crate::session::{
    MouseMode, encode_alternate_scroll, encode_focus, encode_key, encode_mouse, encode_paste,
};

/// What an event means in the model's current mode. Keys go through the keymap; paste and mouse
/// reach the agent only while it has the keyboard.
pub fn intent(model: &Model, event: Event) -> Action {
    match event {
        // A held command takes the keyboard first: nothing reaches the agent until it is answered.
        Event::Key(key) if model.gate_modal.needs_attention() => Action::GateKey(key),
        Event::Key(key) => model.keymap.resolve(model.mode(), &key),
        Event::Paste(text) => match model.mode() {
            Mode::Passthrough | Mode::Scrollback => Action::ForwardPaste(text),
            _ => Action::Ignore,
        },
        Event::Mouse(mouse) => match model.mode() {
            Mode::Passthrough | Mode::Scrollback | Mode::SidePanel | Mode::Exited => {
                Action::Mouse(mouse)
            }
            Mode::Prefix | Mode::Help | Mode::Confirm => Action::Ignore,
        },
        Event::Focus(gained) => Action::ReportFocus(gained),
        Event::Resized { cols, rows } => Action::Resize { cols, rows },
        Event::PtyOutput(bytes) => Action::ApplyOutput(bytes),
        Event::AgentExited(exit) => Action::RecordExit(exit),
        Event::Tick(now) => Action::Tick(now),
        Event::Signalled(signal) => Action::Terminate(signal),
        Event::SyncExpired(now) => Action::FlushSync(now),
        Event::Gate(event) => Action::Gate(event),
        Event::ContextChanged(update) => Action::ApplyContext(update),
        Event::Note(text) => Action::Note(text),
        Event::Diff(event) => Action::ApplyDiff(event),
    }
}

/// [`intent`] then [`update`]: the whole reaction to one event.
pub fn dispatch(model: &mut Model, event: Event) -> Vec<Effect> {
    if matches!(event, Event::Key(_)) && model.notice.take().is_some() {
        model.dirty = true;
    }
    let action = intent(model, event);
    update(model, action)
}

/// Applies one action. Sets `model.dirty` when something visible changed, `model.quit` when the
/// loop should stop; returns the I/O to perform, in order.
pub fn update(model: &mut Model, action: Action) -> Vec<Effect> {
    let mut effects = Vec::new();
    match action {
        Action::Ignore => {}
        Action::ForwardKey(key) => {
            if model.terminal.display_offset() > 0 {
                model.terminal.reset_display_scroll();
                model.dirty = true;
            }
            push_bytes(&mut effects, encode_key(&key, &model.terminal.modes()));
        }
        Action::LeaveScrollbackAndForward(key) => {
            model.terminal.reset_display_scroll();
            model.dirty = true;
            push_bytes(&mut effects, encode_key(&key, &model.terminal.modes()));
        }
        Action::ForwardPaste(text) => {
            if model.terminal.display_offset() > 0 {
                model.terminal.reset_display_scroll();
                model.dirty = true;
            }
            push_bytes(&mut effects, encode_paste(&text, &model.terminal.modes()));
        }
        Action::Mouse(mouse) => route_mouse(model, mouse, &mut effects),
        Action::ReportFocus(gained) => {
            if model.agent_alive()
                && let Some(bytes) = encode_focus(gained, &model.terminal.modes())
            {
                push_bytes(&mut effects, bytes);
            }
        }
        Action::SendPrefixKey => {
            model.prefix_pending = false;
            model.dirty = true;
            let prefix = model.keymap.prefix().to_event();
            push_bytes(&mut effects, encode_key(&prefix, &model.terminal.modes()));
        }
        Action::EnterPrefix => set(&mut model.prefix_pending, true, &mut model.dirty),
        Action::LeavePrefix => set(&mut model.prefix_pending, false, &mut model.dirty),
        Action::ToggleHelp => {
            model.prefix_pending = false;
            if model.overlays.last() == Some(&Overlay::Help) {
                model.overlays.pop();
            } else {
                model.overlays.push(Overlay::Help);
            }
            model.dirty = true;
        }
        Action::FocusNext => {
            model.prefix_pending = false;
            model.focus = match model.focus {
                Focus::Agent if model.layout().side.is_some() => Focus::SidePanel,
                _ => Focus::Agent,
            };
            model.dirty = true;
        }
        Action::ShowTab(tab) => {
            model.prefix_pending = false;
            model.tab = tab;
            model.dirty = true;
        }
        Action::TabKey(key) => {
            if model.tab == Tab::Diff
                && model.diff.handle_key(key) == crate::diff::state::KeyOutcome::Handled
            {
                model.dirty = true;
            }
        }
        Action::ApplyDiff(event) => {
            use crate::diff::DiffEvent;
            match &*event {
                DiffEvent::SensitiveChange(w) => {
                    model.notice = Some(format!("⚠ {}: {}", w.label, w.summary));
                }
                DiffEvent::MassDelete { count, .. } => {
                    model.notice = Some(format!("⚠ {count} files deleted at once"));
                }
                _ => {}
            }
            effects.push(Effect::Record(super::effect::RecordNote::Diff(
                event.clone(),
            )));
            model.diff.apply(*event);
            model.dirty = true;
        }
        Action::CycleTab(step) => {
            let i = Tab::ALL.iter().position(|t| *t == model.tab).unwrap_or(0) as i32;
            let n = Tab::ALL.len() as i32;
            model.tab = Tab::ALL[(i + i32::from(step)).rem_euclid(n) as usize];
            model.dirty = true;
        }
        Action::TogglePause => {
            model.prefix_pending = false;
            model.dirty = true;
            match model.agent.state {
                AgentState::Running => {
                    model.agent.state = AgentState::Paused;
                    effects.push(Effect::PauseAgent);
                }
                AgentState::Paused => {
                    model.agent.state = AgentState::Running;
                    effects.push(Effect::ResumeAgent);
                }
                AgentState::Exited(_) => {}
            }
        }
        Action::AskKill => {
            model.prefix_pending = false;
            model.dirty = true;
            if model.agent_alive() {
                model.overlays.push(Overlay::Confirm(Question::KillAgent));
            }
        }
        Action::AskQuit => {
            model.prefix_pending = false;
            model.dirty = true;
            if model.agent_alive() {
                model
                    .overlays
                    .push(Overlay::Confirm(Question::QuitWhileRunning));
            } else {
                model.quit = Some(Quit::WithAgentCode);
            }
        }
        Action::Confirm => {
            model.dirty = true;
            match model.overlays.pop() {
                Some(Overlay::Confirm(Question::KillAgent)) => effects.push(Effect::KillAgent),
                Some(Overlay::Confirm(Question::QuitWhileRunning)) => {
                    model.quit = Some(Quit::WithAgentCode);
                }
                Some(Overlay::Help) | None => {}
            }
        }
        Action::CloseOverlay => {
            model.overlays.pop();
            model.dirty = true;
        }
        Action::Scroll(scroll) => {
            model.prefix_pending = false;
            model.dirty = true;
            let back = matches!(scroll, Scroll::PageUp | Scroll::LineUp | Scroll::Top);
            if back && model.terminal.modes().alt_screen && model.terminal.history_len() == 0 {
                // Full-screen programs (less, vim, Claude Code's fullscreen mode) keep no history.
                model.notice = Some("no scrollback: the agent is on its alternate screen".into());
            }
            let page = i32::from(model.terminal.size().rows.max(2) - 1);
            match scroll {
                Scroll::PageUp => model.terminal.scroll_display(page),
                Scroll::PageDown => model.terminal.scroll_display(-page),
                Scroll::LineUp => model.terminal.scroll_display(1),
                Scroll::LineDown => model.terminal.scroll_display(-1),
                Scroll::Top => model.terminal.scroll_display(i32::MAX / 2),
                Scroll::Live => model.terminal.reset_display_scroll(),
            }
        }
        Action::KillAgent => {
            if model.agent_alive() {
                effects.push(Effect::KillAgent);
            }
        }
        Action::Quit => model.quit = Some(Quit::WithAgentCode),
        Action::ApplyOutput(bytes) => {
            model.terminal.feed(&bytes);
            push_bytes(&mut effects, model.terminal.take_replies());
            if model.terminal.take_bell() {
                effects.push(Effect::Bell);
            }
            model.dirty = true;
        }
        Action::Resize { cols, rows } => {
            model.screen = ratatui::layout::Rect::new(0, 0, cols, rows);
            if model.focus == Focus::SidePanel && model.layout().side.is_none() {
                model.focus = Focus::Agent;
            }
            let pane = Model::pane_size(model.screen, model.side_percent);
            if pane != model.terminal.size() {
                model.terminal.resize(pane);
                effects.push(Effect::ResizeAgent(pane));
            }
            model.dirty = true;
        }
        Action::RecordExit(exit) => {
            model.agent.state = AgentState::Exited(exit);
            model.ended = Some(model.now);
            model.prefix_pending = false;
            // A question about a running agent has no meaning any more.
            model.overlays.retain(|o| !matches!(o, Overlay::Confirm(_)));
            if model.exit_with_agent {
                model.quit = Some(Quit::WithAgentCode);
            }
            model.dirty = true;
        }
        Action::FlushSync(now) => {
            if model.terminal.flush_expired_sync(now) {
                push_bytes(&mut effects, model.terminal.take_replies());
                model.dirty = true;
            }
        }
        Action::Tick(now) => {
            let shown = model.elapsed().as_secs();
            model.now = now;
            if model.elapsed().as_secs() != shown {
                model.dirty = true;
            }
        }
        Action::ShowNotice(text) => {
            model.notice = Some(text);
            model.dirty = true;
        }
        Action::Terminate(signal) => model.quit = Some(Quit::Signalled(signal)),
        Action::Gate(event) => super::gate_update::on_gate(model, event, &mut effects),
        Action::GateKey(key) => super::gate_update::on_gate_key(model, key, &mut effects),
        Action::ApplyContext(update) => super::gate_update::on_context(model, update, &mut effects),
        Action::Note(text) => super::gate_update::note(model, text),
    }
    effects
}

fn set(flag: &mut bool, value: bool, dirty: &mut bool) {
    if *flag != value {
        *flag = value;
        *dirty = true;
    }
}

fn push_bytes(effects: &mut Vec<Effect>, bytes: Vec<u8>) {
    if !bytes.is_empty() {
        effects.push(Effect::WriteToAgent(bytes));
    }
}

/// Lines the wheel scrolls per notch (as xterm and most terminals do).
const WHEEL_LINES: u8 = 3;

/// Routes a mouse event by where it happened. In the agent pane: to the agent when it enabled
/// mouse reporting; the wheel as arrow keys when it asked for alternate scroll (1007) on its alt
/// screen; otherwise the wheel scrolls overwatch's scrollback view and a click focuses the pane.
/// In the side panel: a click focuses it, and on the tab bar selects the tab under it.
fn route_mouse(model: &mut Model, mouse: MouseEvent, effects: &mut Vec<Effect>) {
    let layout = model.layout();
    let hit = |r: Rect| {
        mouse.column >= r.x
            && mouse.column < r.right()
            && mouse.row >= r.y
            && mouse.row < r.bottom()
    };
    let wheel = match mouse.kind {
        MouseEventKind::ScrollUp => Some(i32::from(WHEEL_LINES)),
        MouseEventKind::ScrollDown => Some(-i32::from(WHEEL_LINES)),
        _ => None,
    };
    let click = matches!(mouse.kind, MouseEventKind::Down(MouseButton::Left));
    if hit(layout.agent) {
        let modes = model.terminal.modes();
        if model.agent_alive() && modes.mouse != MouseMode::Off {
            if let Some(bytes) = encode_mouse(&mouse, (layout.agent.x, layout.agent.y), &modes) {
                model.terminal.reset_display_scroll();
                push_bytes(effects, bytes);
            }
        } else if let Some(lines) = wheel {
            match encode_alternate_scroll(&mouse, WHEEL_LINES, &modes) {
                Some(bytes) if model.agent_alive() => push_bytes(effects, bytes),
                _ => model.terminal.scroll_display(lines),
            }
            model.dirty = true;
        }
        if click && model.focus != Focus::Agent {
            model.focus = Focus::Agent;
            model.dirty = true;
        }
    } else if let Some(side) = layout.side
        && hit(side)
        && click
    {
        model.focus = Focus::SidePanel;
        if let Some(tab) = crate::ui::side_panel::tab_at(side, mouse.column, mouse.row) {
            model.tab = tab;
        }
        model.dirty = true;
    }
}
