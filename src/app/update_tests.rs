//! Tests of the pure core as tables of (state, keys, expected actions), and of the effects each
//! action asks for.

use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::action::{Action, Scroll, Tab};
use super::effect::Effect;
use super::event::Event;
use super::keymap::Mode;
use super::model::test_model;
use super::model::{AgentState, Focus, Model, Quit};
use super::update::{intent, update};
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
            "side panel: arrows switch tabs, other keys go to the tab, Tab returns to the agent",
            side_focused,
            vec![key(KeyCode::Right), x, key(KeyCode::Tab), x],
            vec![
                Action::CycleTab(1),
                Action::TabKey(x),
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

#[test]
fn scrolling_back_on_the_alt_screen_explains_why_nothing_moves() {
    let mut model = test_model(120, 40);
    update(&mut model, Action::ApplyOutput(b"\x1b[?1049h".to_vec()));
    update(&mut model, Action::Scroll(Scroll::PageUp));
    assert_eq!(model.terminal.display_offset(), 0);
    assert!(
        model
            .notice
            .as_deref()
            .is_some_and(|n| n.contains("alternate screen"))
    );
}
