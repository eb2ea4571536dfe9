//! The model: everything the supervisor app knows, in one place, changed only by
//! [`super::update::update`] and read by the `ui` render functions.
//!
//! **Invariants:** the terminal model's size always equals the agent pane's size
//! ([`crate::ui::layout::AppLayout::agent`]); the overlay stack's top owns the keyboard.

use std::time::{Duration, Instant};

use ratatui::layout::Rect;

use super::action::Tab;
use super::keymap::{Keymap, Mode};
use crate::context::Tier;
use crate::session::{ExitStatus, PaneSize, TerminalModel};
use crate::theme::Theme;
use crate::ui::layout::AppLayout;

/// Where the agent is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgentState {
    Running,
    /// Stopped with SIGSTOP by the human (`prefix p`).
    Paused,
    Exited(ExitStatus),
}

/// The supervised command, as the status bar shows it.
#[derive(Debug, Clone)]
pub struct AgentInfo {
    /// The command line, words joined by spaces.
    pub command: String,
    pub pid: Option<u32>,
    pub state: AgentState,
}

/// Which area receives keys when no overlay is open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Focus {
    #[default]
    Agent,
    SidePanel,
}

/// What a confirmation overlay asks about; [`super::action::Action::Confirm`] performs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Question {
    /// "Kill the agent?"
    KillAgent,
    /// "The agent still runs. Quit and stop it?"
    QuitWhileRunning,
}

impl Question {
    /// The sentence the overlay shows.
    pub fn prompt(self) -> &'static str {
        match self {
            Question::KillAgent => "Kill the agent and its whole process group?",
            Question::QuitWhileRunning => "The agent is still running. Quit overwatch and stop it?",
        }
    }
}

/// An overlay drawn above everything else. Overlays stack; the top one gets the keys.
///
/// Adding an overlay: a variant here, its [`Mode`] in [`Overlay::mode`], its bindings in
/// [`Keymap::new`], and a render arm in `ui::overlay`.
#[derive(Debug, Clone, PartialEq)]
pub enum Overlay {
    Help,
    Confirm(Question),
}

impl Overlay {
    /// The keymap mode this overlay puts the app in.
    pub fn mode(&self) -> Mode {
        match self {
            Overlay::Help => Mode::Help,
            Overlay::Confirm(_) => Mode::Confirm,
        }
    }
}

/// Why the app loop should stop, with the exit code overwatch returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quit {
    /// The human quit (or the agent exited): exit with the agent's code once it is gone.
    WithAgentCode,
    /// overwatch received a signal: exit 128+signal.
    Signalled(i32),
}

/// The supervisor app's state.
pub struct Model {
    pub agent: AgentInfo,
    /// The agent's screen (sans-I/O terminal emulator fed with its PTY output).
    pub terminal: TerminalModel,
    pub keymap: Keymap,
    pub theme: Theme,
    /// The outer terminal's area (origin 0,0).
    pub screen: Rect,
    /// Side panel width in percent of the screen (`ui.side_panel_percent`).
    pub side_percent: u16,
    pub focus: Focus,
    pub tab: Tab,
    /// The prefix key was pressed and the next key is an overwatch command.
    pub prefix_pending: bool,
    /// Bottom to top; the last one gets keys first.
    pub overlays: Vec<Overlay>,
    /// The tier of the session's context, shown in the status bar (filled by the context module).
    pub tier: Option<Tier>,
    /// When the agent started, and the latest clock reading (for the elapsed time).
    pub started: Instant,
    pub now: Instant,
    /// When the agent exited (freezes the elapsed time).
    pub ended: Option<Instant>,
    /// Leave as soon as the agent exits instead of waiting for a key.
    pub exit_with_agent: bool,
    /// Set when the loop should stop.
    pub quit: Option<Quit>,
    /// A one-line message about something that failed (an effect), shown in the status bar until
    /// the next key.
    pub notice: Option<String>,
    /// Something visible changed since the last draw.
    pub dirty: bool,
}

/// What a new [`Model`] is built from.
pub struct ModelInit {
    pub command: String,
    pub pid: Option<u32>,
    pub keymap: Keymap,
    pub theme: Theme,
    pub screen: Rect,
    pub side_percent: u16,
    pub terminal: TerminalModel,
    pub started: Instant,
    pub exit_with_agent: bool,
}

impl Model {
    /// A model for a freshly spawned agent. The terminal model should already have the size
    /// [`Model::pane_size`] gives for `screen`.
    pub fn new(init: ModelInit) -> Self {
        Model {
            agent: AgentInfo {
                command: init.command,
                pid: init.pid,
                state: AgentState::Running,
            },
            terminal: init.terminal,
            keymap: init.keymap,
            theme: init.theme,
            screen: init.screen,
            side_percent: init.side_percent,
            focus: Focus::Agent,
            tab: Tab::Context,
            prefix_pending: false,
            overlays: Vec::new(),
            tier: None,
            started: init.started,
            now: init.started,
            ended: None,
            exit_with_agent: init.exit_with_agent,
            quit: None,
            notice: None,
            dirty: true,
        }
    }

    /// The active keymap mode: the top overlay, else a pending prefix, else exited, scrollback,
    /// or the focused area.
    pub fn mode(&self) -> Mode {
        if let Some(top) = self.overlays.last() {
            return top.mode();
        }
        if self.prefix_pending {
            return Mode::Prefix;
        }
        if matches!(self.agent.state, AgentState::Exited(_)) {
            return Mode::Exited;
        }
        match self.focus {
            Focus::SidePanel => Mode::SidePanel,
            Focus::Agent if self.terminal.display_offset() > 0 => Mode::Scrollback,
            Focus::Agent => Mode::Passthrough,
        }
    }

    /// Where everything goes on the current screen.
    pub fn layout(&self) -> AppLayout {
        AppLayout::compute(self.screen, self.side_percent)
    }

    /// The PTY size for a screen: the agent pane's columns and rows (at least 1×1).
    pub fn pane_size(screen: Rect, side_percent: u16) -> PaneSize {
        let agent = AppLayout::compute(screen, side_percent).agent;
        PaneSize {
            cols: agent.width.max(1),
            rows: agent.height.max(1),
        }
    }

    /// Time since the agent started, frozen when it exited.
    pub fn elapsed(&self) -> Duration {
        self.ended
            .unwrap_or(self.now)
            .saturating_duration_since(self.started)
    }

    /// Whether the agent process still exists (running or paused).
    pub fn agent_alive(&self) -> bool {
        !matches!(self.agent.state, AgentState::Exited(_))
    }
}

/// A model of a running agent (`pid 4242`, command `bash --norc`) on a `cols`×`rows` screen with
/// the default keymap and theme, for tests.
#[cfg(test)]
pub fn test_model(cols: u16, rows: u16) -> Model {
    use super::keymap::KeySpec;
    let screen = Rect::new(0, 0, cols, rows);
    let side_percent = 38;
    Model::new(ModelInit {
        command: "bash --norc".into(),
        pid: Some(4242),
        keymap: Keymap::new(KeySpec::ctrl(']')),
        theme: Theme::builtin_default(),
        screen,
        side_percent,
        terminal: TerminalModel::new(Model::pane_size(screen, side_percent), 1000),
        started: Instant::now(),
        exit_with_agent: false,
    })
}
