//! `overwatch run -- CMD…`: supervise an agent in the TUI.
//!
//! Turns the CLI args and config into settings, spawns the agent in a PTY sized to the agent
//! pane, runs the app loop, then restores the terminal, shuts the agent down (PTY closed first,
//! SIGKILL to its group after [`SHUTDOWN_GRACE`]) and exits with the agent's exit code.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use ratatui::layout::Rect;
use ratatui::style::Color;
use tokio::sync::mpsc;

use crate::app::effect::{CrosstermHost, LiveAgent};
use crate::app::event::exit_code;
use crate::app::keymap::{KeySpec, Keymap};
use crate::app::model::{AgentState, Model, ModelInit, Quit};
use crate::app::{self, EVENTS_CAPACITY, LoopOptions, Sources};
use crate::cli::RunArgs;
use crate::config::Config;
use crate::session::{AgentPty, Palette, Rgb, SpawnSpec, TerminalModel};
use crate::terminal;
use crate::theme::Theme;

/// How long the agent gets to exit after its PTY is closed before its group is SIGKILLed.
/// Claude Code and Codex exit within 0.1 s of losing their PTY.
pub const SHUTDOWN_GRACE: Duration = Duration::from_millis(500);
/// Lines of scrollback kept for the agent pane.
pub const SCROLLBACK_LINES: usize = 10_000;
/// Variables that would make the agent believe it runs directly inside another multiplexer or
/// terminal (and send that terminal's private sequences); the pane is overwatch's own emulator.
const ENV_REMOVE: &[&str] = &[
    "TMUX",
    "TMUX_PANE",
    "STY",
    "ZELLIJ",
    "ZELLIJ_SESSION_NAME",
    "KITTY_WINDOW_ID",
    "WEZTERM_PANE",
    "ITERM_SESSION_ID",
    "TERM_PROGRAM_VERSION",
];

/// Everything a supervised session needs, resolved from the args and the config. Other commands
/// (`overwatch demo`) build one with [`settings`] and adjust it (e.g. `env`) before [`supervise`].
pub struct Settings {
    /// The agent's command line.
    pub argv: Vec<String>,
    /// The agent's working directory (absolute).
    pub cwd: PathBuf,
    /// Extra variables for the agent, on top of overwatch's environment and the terminal ones.
    pub env: Vec<(OsString, OsString)>,
    pub keymap: Keymap,
    pub theme: Theme,
    /// Side panel width, percent of the screen.
    pub side_percent: u16,
    pub exit_with_agent: bool,
    pub options: LoopOptions,
}

/// Resolves `overwatch run` args against the config: prefix key, theme (`NO_COLOR` honoured),
/// working directory. Errors say which of them was wrong.
pub fn settings(args: RunArgs) -> anyhow::Result<Settings> {
    let config = Config::load(Config::user_path().as_deref()).context("loading the config")?;
    let prefix_text = args.prefix_key.unwrap_or(config.ui.prefix_key);
    let prefix = KeySpec::parse(&prefix_text).context("reading the prefix key")?;
    let theme_name = args.theme.unwrap_or(config.ui.theme);
    let themes_dir = dirs::config_dir().map(|d| d.join("overwatch").join("themes"));
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let theme = Theme::load(&theme_name, themes_dir.as_deref(), no_color)
        .with_context(|| format!("loading theme {theme_name:?}"))?;
    let cwd = match args.cwd {
        Some(dir) => dir,
        None => std::env::current_dir().context("reading the current directory")?,
    };
    let cwd = cwd
        .canonicalize()
        .with_context(|| format!("using {} as the agent's directory", cwd.display()))?;
    anyhow::ensure!(
        cwd.is_dir(),
        "using {} as the agent's directory: not a directory",
        cwd.display()
    );
    Ok(Settings {
        argv: args.command,
        cwd,
        env: Vec::new(),
        keymap: Keymap::new(prefix),
        theme,
        side_percent: config.ui.side_panel_percent,
        exit_with_agent: args.exit_with_agent,
        options: LoopOptions {
            panic_after_first_draw: std::env::var_os("OVERWATCH_TEST_PANIC").is_some(),
        },
    })
}

/// Runs the supervisor; returns the agent's exit code (128+signal if it died by a signal), or
/// 128+N if overwatch itself was stopped by signal N.
pub fn main(args: RunArgs) -> anyhow::Result<ExitCode> {
    supervise(settings(args)?)
}

/// Runs one supervised session in the current terminal: spawns the agent in a PTY sized to the
/// agent pane, runs the app loop, restores the terminal, shuts the agent down (reporting leftover
/// processes on stderr) and returns overwatch's exit code.
pub fn supervise(settings: Settings) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(
        std::io::IsTerminal::is_terminal(&std::io::stdout())
            && std::io::IsTerminal::is_terminal(&std::io::stdin()),
        "overwatch run draws a terminal UI: run it in a terminal (stdin and stdout must be a TTY)"
    );
    let (cols, rows) = crossterm::terminal::size().context("reading the terminal size")?;
    let screen = Rect::new(0, 0, cols, rows);
    let pane = Model::pane_size(screen, settings.side_percent);

    let spec = SpawnSpec {
        argv: settings.argv.iter().map(OsString::from).collect(),
        cwd: settings.cwd.clone(),
        env_set: [
            ("TERM".into(), "xterm-256color".into()),
            ("COLORTERM".into(), "truecolor".into()),
            ("TERM_PROGRAM".into(), "overwatch".into()),
        ]
        .into_iter()
        .chain(settings.env.iter().cloned())
        .collect(),
        env_remove: ENV_REMOVE.iter().map(OsString::from).collect(),
        size: pane,
    };
    let started = Instant::now();
    let (pty, pty_output) = AgentPty::spawn(spec).with_context(|| {
        format!(
            "supervising {:?} in {}",
            settings.argv,
            settings.cwd.display()
        )
    })?;
    terminal::set_agent_pgid(pty.pgid().unwrap_or(0));
    let mut agent = LiveAgent::new(pty);

    let mut terminal_model = TerminalModel::new(pane, SCROLLBACK_LINES);
    terminal_model.set_palette(palette_for(&settings.theme));
    let mut model = Model::new(ModelInit {
        command: settings.argv.join(" "),
        pid: agent.pty.pid(),
        keymap: settings.keymap,
        theme: settings.theme,
        screen,
        side_percent: settings.side_percent,
        terminal: terminal_model,
        started,
        exit_with_agent: settings.exit_with_agent,
    });

    let outcome = run_tui(&mut model, &mut agent, pty_output, settings.options);

    // The terminal is already restored (the guard dropped inside run_tui): shut the agent down.
    if model.agent.state == AgentState::Paused {
        // A stopped group would not see its PTY close; let it run so it can exit.
        let _ = agent.pty.resume();
    }
    let report = agent.pty.shutdown(SHUTDOWN_GRACE);
    terminal::set_agent_pgid(0);
    for (pid, name) in &report.leftovers {
        eprintln!("overwatch: killed leftover process {pid} ({name}) of the agent");
    }
    outcome?;

    let code = match (model.quit, model.agent.state) {
        (Some(Quit::Signalled(signal)), _) => u8::try_from(128 + signal).unwrap_or(u8::MAX),
        (_, AgentState::Exited(status)) => exit_code(status),
        // Quit while it ran: whatever closing the PTY (or the SIGKILL) did to it.
        _ => report.status.map_or(128 + libc::SIGKILL as u8, exit_code),
    };
    Ok(ExitCode::from(code))
}

/// The colours the agent pane reports to OSC 10/11 queries (agents pick light or dark styles from
/// them): the theme's terminal foreground and background when they are RGB, else the defaults.
fn palette_for(theme: &Theme) -> Palette {
    let mut palette = Palette::default();
    if let Color::Rgb(r, g, b) = theme.terminal_fg {
        palette.foreground = Rgb { r, g, b };
    }
    if let Color::Rgb(r, g, b) = theme.terminal_bg {
        palette.background = Rgb { r, g, b };
    }
    palette
}

/// Sets the terminal up, runs the loop on a current-thread runtime, and restores the terminal.
fn run_tui(
    model: &mut Model,
    agent: &mut LiveAgent,
    pty: crate::session::PtyOutput,
    options: LoopOptions,
) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the event loop")?;
    let (terminal, _guard, capabilities) = terminal::init().context("setting up the terminal")?;
    let mut host = CrosstermHost::new(terminal);
    let (tx, rx) = mpsc::channel(EVENTS_CAPACITY);
    terminal::spawn_input_thread(tx.clone(), capabilities).context("starting the input thread")?;
    let mut sources = Sources { events: rx, pty };
    runtime.block_on(async {
        terminal::spawn_signal_tasks(&tx).context("installing signal handlers")?;
        drop(tx);
        app::run(model, &mut host, agent, &mut sources, options)
            .await
            .context("running the app loop")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_light_theme_reports_a_light_background() {
        let light = Theme::load("light", None, false).unwrap_or_else(|e| panic!("{e}"));
        let bg = palette_for(&light).background;
        assert!(
            u32::from(bg.r) + u32::from(bg.g) + u32::from(bg.b) > 3 * 128,
            "{bg:?}"
        );
        let dark = palette_for(&Theme::builtin_default()).background;
        assert!(u32::from(dark.r) + u32::from(dark.g) + u32::from(dark.b) < 3 * 128);
    }
}
