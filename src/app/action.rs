//! Actions: what the app intends to do, decided from an event and the current mode.
//!
//! Events are facts ([`super::event::Event`]); the keymap and [`super::update::intent`] turn each
//! one into exactly one [`Action`], and [`super::update::update`] applies it to the model.

use crossterm::event::{KeyEvent, MouseEvent};

use crate::session::ExitStatus;

/// The side panel's tabs, in display order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Tab {
    #[default]
    Context,
    Activity,
    Diff,
}

impl Tab {
    /// Every tab, in display order.
    pub const ALL: [Tab; 3] = [Tab::Context, Tab::Activity, Tab::Diff];

    /// The tab's title as shown in the tab bar.
    pub fn title(self) -> &'static str {
        match self {
            Tab::Context => "Context",
            Tab::Activity => "Activity",
            Tab::Diff => "Diff",
        }
    }
}

/// A scrollback movement of the agent pane.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scroll {
    PageUp,
    PageDown,
    LineUp,
    LineDown,
    /// The oldest line kept in scrollback.
    Top,
    /// Back to the live screen.
    Live,
}

/// Something the app means to do. Every variant is handled by [`super::update::update`].
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Nothing to do (a key release, a key an overlay does not bind).
    Ignore,
    /// Encode a key for the agent and write it to its PTY.
    ForwardKey(KeyEvent),
    /// Leave scrollback, then forward the key (typing returns to the live screen).
    LeaveScrollbackAndForward(KeyEvent),
    /// Send pasted text (bracketed if the agent asked for it).
    ForwardPaste(String),
    /// Route a mouse event: to the agent when it enabled mouse reporting (or alternate scroll) and
    /// the event hit its pane; otherwise the wheel scrolls the pane's scrollback and a click
    /// focuses the area or tab under it.
    Mouse(MouseEvent),
    /// Tell the agent the outer terminal gained (true) or lost focus, if it enabled mode 1004.
    ReportFocus(bool),
    /// Send the prefix key itself to the agent (it was pressed twice).
    SendPrefixKey,
    /// The prefix key was pressed: the next key is an overwatch command.
    EnterPrefix,
    /// Abandon a pending prefix.
    LeavePrefix,
    /// Open (or close) the help overlay.
    ToggleHelp,
    /// Move focus between the agent pane and the side panel.
    FocusNext,
    /// Show a side panel tab.
    ShowTab(Tab),
    /// A key the side panel's keymap does not bind: the current tab handles it (the Diff tab's
    /// selection, scrolling, baseline toggle).
    TabKey(KeyEvent),
    /// Apply a workspace watcher event to the Diff tab (and warn about sensitive files).
    ApplyDiff(Box<crate::diff::DiffEvent>),
    /// Show the next (+1) or previous (-1) tab.
    CycleTab(i8),
    /// Pause the agent's process group (SIGSTOP) or resume it (SIGCONT).
    TogglePause,
    /// Ask whether to kill the agent.
    AskKill,
    /// Quit, asking first if the agent still runs.
    AskQuit,
    /// Answer "yes" to the confirmation on top of the overlay stack.
    Confirm,
    /// Close the overlay on top (answers "no" to a confirmation).
    CloseOverlay,
    /// Move the agent pane through its scrollback.
    Scroll(Scroll),
    /// Kill the agent's process group now.
    KillAgent,
    /// Leave overwatch with the agent's exit code (shutting the agent down if it still runs).
    Quit,
    /// Feed the agent's output to the terminal model.
    ApplyOutput(Vec<u8>),
    /// The outer terminal has this many columns and rows.
    Resize { cols: u16, rows: u16 },
    /// The agent exited.
    RecordExit(ExitStatus),
    /// End the agent's synchronized-output block if its deadline is before this instant.
    FlushSync(std::time::Instant),
    /// Advance the clock shown in the status bar.
    Tick(std::time::Instant),
    /// Show a one-line message about a failed effect in the status bar.
    ShowNotice(String),
    /// overwatch itself received SIGTERM/SIGHUP (the number): shut down and exit 128+signal.
    Terminate(i32),
    /// Show what the gate reported (held request, withdrawal, decision).
    Gate(crate::gate::pending::GateEvent),
    /// A key for the confirmation modal of a held command.
    GateKey(KeyEvent),
    /// The context was detected again after a file changed.
    ApplyContext(crate::context::watch::ContextUpdate),
    /// Add a line to the Activity tab.
    Note(String),
}
