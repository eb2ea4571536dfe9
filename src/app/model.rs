//! The model: everything the supervisor app knows, in one place, changed only by
//! [`super::update::update`] and read by the `ui` render functions.
//!
//! **Invariants:** the terminal model's size always equals the agent pane's size
//! ([`crate::ui::layout::AppLayout::agent`]); the overlay stack's top owns the keyboard.

use std::time::{Duration, Instant};

use ratatui::layout::Rect;

use super::action::Tab;
use super::keymap::{Keymap, Mode};
use crate::context::Context;
use crate::context::watch::ContextWarning;
use crate::session::{ExitStatus, PaneSize, TerminalModel};
use crate::theme::Theme;
use crate::ui::confirm::ConfirmModal;
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

/// An overlay drawn above everything else. Overlays stack; the top one gets the keys (paste and
/// mouse never reach an overlay, and the prefix key does nothing while one is open).
///
/// Adding an overlay: a variant here, its [`Mode`] in [`Overlay::mode`], its rows in the keymap's
/// `BUILTIN` table (or, for an overlay with its own key handler such as a typed-name confirmation,
/// a mode whose fallback hands every key to that handler), the arms in `update` that answer it,
/// and a render arm in `ui::overlay::render_stack`.
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

/// One line of the Activity tab.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityEntry {
    /// Time since the session started.
    pub at: Duration,
    pub kind: ActivityKind,
    /// Already redacted (it comes from the gate's redacted records or from warnings without
    /// secret values).
    pub text: String,
    pub tier: Option<crate::context::Tier>,
}

/// What an Activity entry is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActivityKind {
    /// A final decision (allow or deny) and by whom.
    Decision(crate::rules::Decision),
    /// A command is held for the human.
    Held,
    /// The context changed, or a sensitive file did.
    Warning,
    /// Anything else (exec gate state, withdrawn requests).
    Note,
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
    /// What the agent is pointed at: facts with tiers; the status bar shows the session tier and
    /// the key facts, the Context tab every fact.
    pub context: Context,
    /// Context changes seen during the session (newest last), for the banner and the Context tab.
    pub context_warnings: Vec<ContextWarning>,
    /// The latest context warning and when it came (shown in the status bar for a while).
    pub banner: Option<(String, Instant)>,
    /// Held commands waiting for the human; takes the keyboard first while one waits.
    pub gate_modal: ConfirmModal,
    /// Since when a held command has been waiting (the status bar flashes).
    pub attention_since: Option<Instant>,
    /// What happened in the session: decisions, held commands, context warnings, notes.
    pub activity: Vec<ActivityEntry>,
    /// One line about the gate layers (e.g. "exec gate on", "exec gate off: …").
    pub gate_status: Option<String>,
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
    /// The Diff tab: workspace changes from the diff watcher.
    pub diff: crate::diff::state::DiffState,
}

/// What a new [`Model`] is built from.
pub struct ModelInit {
    pub command: String,
    /// The context detected before the agent started.
    pub context: Context,
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
            context: init.context,
            context_warnings: Vec::new(),
            banner: None,
            gate_modal: ConfirmModal::new(),
            attention_since: None,
            activity: Vec::new(),
            gate_status: None,
            started: init.started,
            now: init.started,
            ended: None,
            exit_with_agent: init.exit_with_agent,
            quit: None,
            notice: None,
            dirty: true,
            diff: crate::diff::state::DiffState::default(),
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
        context: Context::default(),
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
