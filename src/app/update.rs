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
            model.terminal.reset_display_scroll();
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

    use super::*;
    use crate::app::model::test_model;
    use crate::session::ExitStatus;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }
    fn ch(c: char) -> KeyEvent {
        key(KeyCode::Char(c))
    }
    fn prefix() -> KeyEvent {
        KeyEvent::new(KeyCode::Char(']'), KeyModifiers::CONTROL)
    }

    /// Feeds `keys` one by one and returns the action each resolved to (updating the model).
    fn press(model: &mut Model, keys: &[KeyEvent]) -> (Vec<Action>, Vec<Effect>) {
        let mut actions = Vec::new();
        let mut effects = Vec::new();
        for k in keys {
            let action = intent(model, Event::Key(*k));
            actions.push(action.clone());
            effects.extend(update(model, action));
        }
        (actions, effects)
    }

    fn running(_: &mut Model) {}
    fn exited(m: &mut Model) {
        update(m, Action::RecordExit(ExitStatus::Code(3)));
    }
    fn side_focused(m: &mut Model) {
        update(m, Action::FocusNext);
    }

    #[test]
    fn keys_resolve_to_actions_by_mode() {
        type Setup = fn(&mut Model);
        let x = ch('x');
        let table: Vec<(&str, Setup, Vec<KeyEvent>, Vec<Action>)> = vec![
            (
                "plain keys go to the agent",
                running,
                vec![x],
                vec![Action::ForwardKey(x)],
            ),
            (
                "prefix twice sends the prefix",
                running,
                vec![prefix(), prefix(), x],
                vec![
                    Action::EnterPrefix,
                    Action::SendPrefixKey,
                    Action::ForwardKey(x),
                ],
            ),
            (
                "prefix ? opens help, Esc closes it, keys flow again",
                running,
                vec![prefix(), ch('?'), x, key(KeyCode::Esc), x],
                vec![
                    Action::EnterPrefix,
                    Action::ToggleHelp,
                    Action::Ignore,
                    Action::CloseOverlay,
                    Action::ForwardKey(x),
                ],
            ),
            (
                "prefix with an unbound key is dropped",
                running,
                vec![prefix(), ch('z'), x],
                vec![
                    Action::EnterPrefix,
                    Action::LeavePrefix,
                    Action::ForwardKey(x),
                ],
            ),
            (
                "quit asks while the agent runs; n keeps running",
                running,
                vec![prefix(), ch('q'), ch('n'), x],
                vec![
                    Action::EnterPrefix,
                    Action::AskQuit,
                    Action::CloseOverlay,
                    Action::ForwardKey(x),
                ],
            ),
            (
                "kill asks; y confirms",
                running,
                vec![prefix(), ch('k'), x, ch('y')],
                vec![
                    Action::EnterPrefix,
                    Action::AskKill,
                    Action::Ignore,
                    Action::Confirm,
                ],
            ),
            (
                "after the agent exited any key quits",
                exited,
                vec![x],
                vec![Action::Quit],
            ),
            (
                "side panel: arrows switch tabs, Tab returns to the agent",
                side_focused,
                vec![key(KeyCode::Right), x, key(KeyCode::Tab), x],
                vec![
                    Action::CycleTab(1),
                    Action::Ignore,
                    Action::FocusNext,
                    Action::ForwardKey(x),
                ],
            ),
            (
                "tabs open from the prefix",
                running,
                vec![prefix(), ch('d'), prefix(), ch('a')],
                vec![
                    Action::EnterPrefix,
                    Action::ShowTab(Tab::Diff),
                    Action::EnterPrefix,
                    Action::ShowTab(Tab::Activity),
                ],
            ),
        ];
        for (what, setup, keys, want) in table {
            let mut model = test_model(120, 40);
            setup(&mut model);
            let (got, _) = press(&mut model, &keys);
            assert_eq!(got, want, "{what}");
        }
    }

    #[test]
    fn pause_toggles_sigstop_and_sigcont() {
        let mut model = test_model(120, 40);
        let (_, effects) = press(&mut model, &[prefix(), ch('p')]);
        assert_eq!(effects, vec![Effect::PauseAgent]);
        assert_eq!(model.agent.state, AgentState::Paused);
        let (_, effects) = press(&mut model, &[prefix(), ch('p')]);
        assert_eq!(effects, vec![Effect::ResumeAgent]);
        assert_eq!(model.agent.state, AgentState::Running);
    }

    #[test]
    fn quit_and_kill_only_after_yes() {
        let mut model = test_model(120, 40);
        let (_, effects) = press(&mut model, &[prefix(), ch('k'), ch('y')]);
        assert_eq!(effects, vec![Effect::KillAgent]);
        assert_eq!(model.quit, None);
        press(&mut model, &[prefix(), ch('q')]);
        assert_eq!(model.quit, None, "quit must ask while the agent runs");
        press(&mut model, &[ch('y')]);
        assert_eq!(model.quit, Some(Quit::WithAgentCode));

        let mut model = test_model(120, 40);
        update(&mut model, Action::RecordExit(ExitStatus::Code(0)));
        press(&mut model, &[prefix(), ch('q')]);
        assert_eq!(
            model.quit,
            Some(Quit::WithAgentCode),
            "no question once it exited"
        );
    }

    #[test]
    fn exit_drops_stale_questions_and_honours_exit_with_agent() {
        let mut model = test_model(120, 40);
        press(&mut model, &[prefix(), ch('q')]);
        update(&mut model, Action::RecordExit(ExitStatus::Signal(9)));
        assert!(model.overlays.is_empty());
        assert_eq!(model.mode(), Mode::Exited);
        assert_eq!(model.quit, None);

        let mut model = test_model(120, 40);
        model.exit_with_agent = true;
        update(&mut model, Action::RecordExit(ExitStatus::Code(1)));
        assert_eq!(model.quit, Some(Quit::WithAgentCode));
    }

    #[test]
    fn resize_resizes_the_pty_to_the_agent_pane_only() {
        let mut model = test_model(120, 40);
        let effects = update(
            &mut model,
            Action::Resize {
                cols: 100,
                rows: 30,
            },
        );
        let pane = model.layout().agent;
        let want = crate::session::PaneSize {
            cols: pane.width,
            rows: pane.height,
        };
        assert_eq!(effects, vec![Effect::ResizeAgent(want)]);
        assert_eq!(model.terminal.size(), want);
        assert!(want.cols < 100 && want.rows == 28);
        assert!(
            update(
                &mut model,
                Action::Resize {
                    cols: 100,
                    rows: 30
                }
            )
            .is_empty()
        );
    }

    #[test]
    fn terminal_queries_are_answered_through_the_pty() {
        let mut model = test_model(120, 40);
        // DSR cursor position report: the reply must be written back to the agent.
        let effects = update(&mut model, Action::ApplyOutput(b"ab\x1b[6n".to_vec()));
        assert_eq!(effects, vec![Effect::WriteToAgent(b"\x1b[1;3R".to_vec())]);
    }

    #[test]
    fn the_clock_redraws_only_when_the_shown_second_changes() {
        let mut model = test_model(120, 40);
        model.dirty = false;
        let t0 = model.started;
        update(&mut model, Action::Tick(t0 + Duration::from_millis(400)));
        assert!(!model.dirty);
        update(&mut model, Action::Tick(t0 + Duration::from_millis(1100)));
        assert!(model.dirty);
    }

    #[test]
    fn the_wheel_scrolls_history_unless_the_agent_wants_the_mouse() {
        use crossterm::event::{KeyModifiers, MouseEvent, MouseEventKind};
        let wheel = |kind| MouseEvent {
            kind,
            column: 10,
            row: 10,
            modifiers: KeyModifiers::NONE,
        };
        let mut model = test_model(120, 40);
        let history: Vec<u8> = (0..100)
            .flat_map(|i| format!("{i}\r\n").into_bytes())
            .collect();
        update(&mut model, Action::ApplyOutput(history));
        let effects = update(&mut model, Action::Mouse(wheel(MouseEventKind::ScrollUp)));
        assert!(effects.is_empty());
        assert_eq!(model.terminal.display_offset(), 3);
        assert_eq!(model.mode(), Mode::Scrollback);

        update(&mut model, Action::Scroll(Scroll::Live));
        update(
            &mut model,
            Action::ApplyOutput(b"\x1b[?1000h\x1b[?1006h".to_vec()),
        );
        let effects = update(&mut model, Action::Mouse(wheel(MouseEventKind::ScrollUp)));
        // SGR report of wheel-up (button 64) at pane cell (11, 10): the pane starts on row 1.
        assert_eq!(
            effects,
            vec![Effect::WriteToAgent(b"\x1b[<64;11;10M".to_vec())]
        );
        assert_eq!(model.terminal.display_offset(), 0);
    }

    #[test]
    fn clicks_pick_the_side_panel_tab_under_them() {
        use crossterm::event::{KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
        let mut model = test_model(120, 40);
        let side = model.layout().side.unwrap_or_default();
        let click = |column, row| MouseEvent {
            kind: MouseEventKind::Down(MouseButton::Left),
            column,
            row,
            modifiers: KeyModifiers::NONE,
        };
        let diff_column = (side.x..side.right())
            .find(|c| crate::ui::side_panel::tab_at(side, *c, side.y) == Some(Tab::Diff))
            .unwrap_or_default();
        update(&mut model, Action::Mouse(click(diff_column, side.y)));
        assert_eq!((model.tab, model.focus), (Tab::Diff, Focus::SidePanel));
        update(&mut model, Action::Mouse(click(3, 5)));
        assert_eq!(model.focus, Focus::Agent);
    }
}
