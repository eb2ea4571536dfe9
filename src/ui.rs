//! Render functions: read the [`Model`], never change it. [`render`] draws one whole frame.
//!
//! Components are composed explicitly here, top to bottom: status bar, agent pane (the
//! session's `TerminalView`), side panel, help bar, then the overlay stack bottom to top.

pub mod activity_tab;
pub mod confirm;
pub mod context_tab;
pub mod diff_tab;
pub mod help_bar;
pub mod layout;
pub mod overlay;
pub mod side_panel;
pub mod side_panel_text;
pub mod status_bar;
pub mod terminal_view;

use ratatui::Frame;

use crate::app::keymap::Mode;
use crate::app::model::Model;

/// Draws the whole app for `model` and places the real cursor where the agent's cursor is (only
/// while the agent has the keyboard, so the human always knows where typing goes).
pub fn render(frame: &mut Frame, model: &Model) {
    let layout = model.layout();
    status_bar::render(frame, layout.status, model);
    frame.render_widget(
        terminal_view::TerminalView::new(&model.terminal),
        layout.agent,
    );
    if let Some(side) = layout.side {
        side_panel::render(frame, side, model);
    }
    help_bar::render(frame, layout.help, model);
    overlay::render_stack(frame, layout.agent, model);
    if model.gate_modal.needs_attention() {
        confirm::render(&model.gate_modal, layout.agent, frame.buffer_mut());
    }
    if matches!(model.mode(), Mode::Passthrough)
        && let Some(position) = terminal_view::cursor_position(&model.terminal, layout.agent)
    {
        frame.set_cursor_position(position);
    }
}

#[cfg(test)]
mod tests {
    use crate::app::action::Action;
    use crate::app::effect::{Host, TestHost};
    use crate::app::model::test_model;
    use crate::app::update::update;
    use crate::context::Tier;

    /// A shell session as bash would print it: a prompt, a command, its output, a new prompt.
    const SHELL: &[u8] = b"\x1b[1;32mdev@box\x1b[0m:\x1b[1;34m~/api\x1b[0m$ echo hi\r\nhi\r\n\x1b[1;32mdev@box\x1b[0m:\x1b[1;34m~/api\x1b[0m$ ";

    fn drawn(setup: impl FnOnce(&mut crate::app::model::Model)) -> String {
        let mut model = test_model(120, 40);
        update(&mut model, Action::ApplyOutput(SHELL.to_vec()));
        setup(&mut model);
        let mut host = TestHost::new(120, 40);
        host.draw(&model).unwrap_or_else(|e| panic!("drawing: {e}"));
        host.screen()
    }

    #[test]
    fn whole_app_layout() {
        insta::assert_snapshot!(drawn(|m| m.context.tier = Tier::Staging));
    }

    #[test]
    fn help_overlay() {
        insta::assert_snapshot!(drawn(|m| {
            update(m, Action::ToggleHelp);
        }));
    }

    #[test]
    fn quit_question_and_prefix_help_bar() {
        let screen = drawn(|m| {
            update(m, Action::AskQuit);
        });
        assert!(screen.contains("The agent is still running. Quit overwatch and stop it?"));
        assert!(screen.contains("y/Enter yes"), "{screen}");
        let screen = drawn(|m| {
            update(m, Action::EnterPrefix);
        });
        let help_bar = screen.lines().last().unwrap_or_default();
        assert!(help_bar.contains("Ctrl-] send it"), "{help_bar}");
        assert!(help_bar.contains("p pause"), "{help_bar}");
    }

    /// Regression: `time` prints `real\t0m0.5s`; the tab cell crashed the crossterm backend's diff
    /// ("control character passed to cell_width").
    #[test]
    fn tabs_and_control_characters_never_reach_the_outer_terminal() {
        let screen = drawn(|m| {
            update(m, Action::ApplyOutput(b"\r\nreal\t0m0.5s\r\n".to_vec()));
        });
        assert!(screen.contains("real    0m0.5s"), "{screen}");
        assert!(
            !screen.chars().any(|c| c.is_control() && c != '\n'),
            "{screen:?}"
        );
    }

    #[test]
    fn exit_notice_and_paused_status() {
        let screen = drawn(|m| {
            update(m, Action::TogglePause);
        });
        assert!(
            screen.lines().next().unwrap_or_default().contains("PAUSED"),
            "{screen}"
        );
        let screen = drawn(|m| {
            update(m, Action::RecordExit(crate::session::ExitStatus::Code(3)));
        });
        assert!(
            screen.contains("agent exited with 3 — press any key"),
            "{screen}"
        );
    }
}
