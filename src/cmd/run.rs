//! `overwatch run -- CMD…`: supervise an agent in the TUI.
//!
//! Turns the CLI args and config into settings, spawns the agent in a PTY sized to the agent
//! pane, runs the app loop, then restores the terminal, shuts the agent down (PTY closed first,
//! SIGKILL to its group after [`SHUTDOWN_GRACE`]) and exits with the agent's exit code.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use ratatui::layout::Rect;
use ratatui::style::Color;
use tokio::sync::mpsc;

use crate::app::effect::{CrosstermHost, LiveAgent};
use crate::app::event::{Event, exit_code};
use crate::app::keymap::{KeySpec, Keymap};
use crate::app::model::{AgentState, Model, ModelInit, Quit};
use crate::app::{self, EVENTS_CAPACITY, LoopOptions, Sources};
use crate::cli::RunArgs;
use crate::config::Config;
use crate::context::{self, ProbeEnv};
use crate::gate::{self, engine::RulesEvaluator, server::GateConfig};
use crate::rules::{Engine, LoadOptions};
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
    /// The compiled rule packs (loaded before any TUI starts: a bad pack exits 2).
    pub engine: Engine,
    /// Whether to gate every exec with seccomp (Linux).
    pub exec_gate: bool,
    /// Deny held commands after this long; `None` waits for the human.
    pub confirm_timeout: Option<Duration>,
    /// Remove detected credential variables from the agent's environment.
    pub scrub_env: bool,
    /// The workspace watcher's options (root = `cwd`, `[diff]` of the config).
    pub diff: crate::diff::DiffOptions,
    /// How to record the session; `None` = not recorded.
    pub record: Option<RecordSettings>,
}

/// Recording choices for a session.
#[derive(Debug, Clone)]
pub struct RecordSettings {
    pub format: crate::record::cast::CastFormat,
    pub record_input: bool,
    /// `--record PATH`: the cast goes there instead of the session dir.
    pub cast_path: Option<PathBuf>,
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
    let mut team = config.rules.paths.clone();
    team.extend(args.rules.iter().cloned());
    let engine = Engine::load(&LoadOptions::standard(&cwd, team))
        .map_err(|e| anyhow::anyhow!("{:?}", miette::Report::new(e)))?;
    let exec_gate = cfg!(target_os = "linux")
        && !args.no_exec_gate
        && (args.exec_gate || config.gate.exec_gate);
    let timeout_secs = args
        .confirm_timeout
        .unwrap_or(config.gate.confirm_timeout_secs);
    let record = if args.no_record || (!config.record.enabled && args.record.is_none()) {
        None
    } else {
        let format_name = args
            .cast_format
            .clone()
            .unwrap_or(config.record.cast_format.clone());
        let format = match format_name.as_str() {
            "v2" | "2" => crate::record::cast::CastFormat::V2,
            "v3" | "3" => crate::record::cast::CastFormat::V3,
            other => anyhow::bail!("unknown cast format {other:?}: use v2 or v3"),
        };
        Some(RecordSettings {
            format,
            record_input: args.record_input || config.record.record_input,
            cast_path: args.record.clone(),
        })
    };
    let diff = crate::diff::DiffOptions::from_config(&cwd, &config.diff);
    Ok(Settings {
        engine,
        exec_gate,
        confirm_timeout: (timeout_secs > 0).then(|| Duration::from_secs(timeout_secs)),
        scrub_env: args.scrub_env,
        record,
        argv: args.command,
        diff,
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
    Ok(ExitCode::from(supervise(settings(args)?)?.code))
}

/// What a finished session leaves behind, for summaries (`overwatch demo`).
#[derive(Debug, Clone)]
pub struct Outcome {
    /// overwatch's exit code: the agent's (128+signal), or 128+N if overwatch was signalled.
    pub code: u8,
    /// The session's public id (`overwatch replay ID`).
    pub session_id: String,
    /// Where every decision was recorded.
    pub audit_path: PathBuf,
}

/// Runs one supervised session in the current terminal: spawns the agent in a PTY sized to the
/// agent pane, runs the app loop, restores the terminal, shuts the agent down (reporting leftover
/// processes on stderr) and returns overwatch's exit code.
pub fn supervise(settings: Settings) -> anyhow::Result<Outcome> {
    anyhow::ensure!(
        std::io::IsTerminal::is_terminal(&std::io::stdout())
            && std::io::IsTerminal::is_terminal(&std::io::stdin()),
        "overwatch run draws a terminal UI: run it in a terminal (stdin and stdout must be a TTY)"
    );
    // The agent runs as the same user: without this it could ptrace the supervisor or write its
    // memory through /proc/PID/mem and approve its own commands. Not dumpable = same-uid processes
    // get neither (nor /proc/PID/maps, environ or fd); exec resets the flag in the agent's tree.
    nix::sys::prctl::set_dumpable(false)
        .context("making the supervisor non-dumpable (PR_SET_DUMPABLE)")?;
    let (cols, rows) = crossterm::terminal::size().context("reading the terminal size")?;
    let screen = Rect::new(0, 0, cols, rows);
    let pane = Model::pane_size(screen, settings.side_percent);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the event loop")?;
    let exe = std::env::current_exe().context("finding overwatch's own binary")?;

    // What the agent will be pointed at: overwatch's environment overlaid by the session's.
    let mut agent_env = context::process_env();
    for (k, v) in &settings.env {
        agent_env.insert(
            k.to_string_lossy().into_owned(),
            v.to_string_lossy().into_owned(),
        );
    }
    for name in ENV_REMOVE {
        agent_env.remove(*name);
    }
    let probe = ProbeEnv {
        home: agent_env
            .get("HOME")
            .map(PathBuf::from)
            .or_else(dirs::home_dir)
            .unwrap_or_else(|| PathBuf::from("/")),
        cwd: settings.cwd.clone(),
        env: agent_env.clone(),
    };
    let knowledge = settings.engine.knowledge();
    let detected = context::detect(&probe, &knowledge);
    let scrubbed = if settings.scrub_env {
        context::scrub_plan(&detected, &agent_env)
    } else {
        Vec::new()
    };

    // The recording (redacted before anything reaches disk), in the session's data dir, which
    // also holds the audit log.
    let recording = match &settings.record {
        None => None,
        Some(rec) => {
            let mut opts =
                crate::record::recorder::RecordOptions::new(crate::record::recorder::TermSize {
                    cols: pane.cols,
                    rows: pane.rows,
                });
            opts.format = rec.format;
            opts.record_input = rec.record_input;
            opts.cast_path = rec.cast_path.clone();
            opts.title = Some(format!("overwatch: {}", settings.argv.join(" ")));
            opts.env_secrets = context::scrub_plan(&detected, &agent_env)
                .iter()
                .filter_map(|name| agent_env.get(name).cloned())
                .filter(|v| v.len() >= 6)
                .collect();
            let (dir, recorder) =
                crate::record::recorder::start_session(&settings.argv, Some(detected.tier), opts)
                    .context("starting the session recording")?;
            Some(
                crate::record::sink::RecordingSink::start(dir, recorder, Instant::now())
                    .context("starting the recording thread")?,
            )
        }
    };
    let session_id = match &recording {
        Some(rec) => session_id_of(&rec.dir),
        None => gate::server::new_session_id(),
    };

    // The gate: socket + token, PATH shims, the agent's hook injection, the audit log.
    let guarded = settings.engine.guarded_programs();
    let mut gate_config = GateConfig::new(session_id, settings.argv.clone());
    if let Some(rec) = &recording {
        gate_config.audit_path = Some(rec.dir.join("audit.jsonl"));
    }
    gate_config.confirm_timeout = settings.confirm_timeout;
    let agent_path = agent_env.get("PATH").cloned().unwrap_or_default();
    let settings_engine = settings.engine.clone();
    let evaluator = Arc::new(RulesEvaluator::new(settings.engine, probe.home.clone()));
    let agent_gate = gate::session::start(
        runtime.handle(),
        &settings.argv,
        &exe,
        evaluator,
        &guarded,
        gate_config,
        std::ffi::OsStr::new(&agent_path),
    )
    .context("starting the gate")?;

    // The exec gate wraps whatever the gate decided to launch.
    #[cfg(target_os = "linux")]
    let prepared_exec = if settings.exec_gate {
        Some(
            gate::exec::lifecycle::prepare(&exe, &agent_gate.argv)
                .context("preparing the exec gate")?,
        )
    } else {
        None
    };
    #[cfg(target_os = "linux")]
    let launch_argv: Vec<String> = prepared_exec
        .as_ref()
        .map_or_else(|| agent_gate.argv.clone(), |p| p.argv().to_vec());
    #[cfg(not(target_os = "linux"))]
    let launch_argv = agent_gate.argv.clone();

    let spec = SpawnSpec {
        argv: launch_argv.iter().map(OsString::from).collect(),
        cwd: settings.cwd.clone(),
        env_set: [
            ("TERM".into(), "xterm-256color".into()),
            ("COLORTERM".into(), "truecolor".into()),
            ("TERM_PROGRAM".into(), "overwatch".into()),
        ]
        .into_iter()
        .chain(settings.env.iter().cloned())
        .chain(
            agent_gate
                .env
                .iter()
                .map(|(k, v)| (OsString::from(k), OsString::from(v))),
        )
        .collect(),
        env_remove: ENV_REMOVE
            .iter()
            .map(OsString::from)
            .chain(scrubbed.iter().map(OsString::from))
            .collect(),
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
    let (side_tx, side_rx) = mpsc::channel(EVENTS_CAPACITY);
    #[cfg(target_os = "linux")]
    let exec_state = prepared_exec.map(|prepared| {
        start_exec_gate(
            prepared,
            pty.pid(),
            &agent_gate,
            runtime.handle(),
            &guarded,
            &agent_path,
            side_tx.clone(),
        )
    });
    let mut agent = LiveAgent::new(pty);
    agent.set_gate(agent_gate.server.pending().clone());
    agent.recording = recording;

    let mut terminal_model = TerminalModel::new(pane, SCROLLBACK_LINES);
    terminal_model.set_palette(palette_for(&settings.theme));
    let mut model = Model::new(ModelInit {
        command: settings.argv.join(" "),
        context: detected.clone(),
        pid: agent.pty.pid(),
        keymap: settings.keymap,
        theme: settings.theme,
        screen,
        side_percent: settings.side_percent,
        terminal: terminal_model,
        started,
        exit_with_agent: settings.exit_with_agent,
    });

    #[cfg(target_os = "linux")]
    {
        model.gate_status = Some(match &exec_state {
            Some(state) => state.status_text(),
            None => "exec gate off (--no-exec-gate)".to_string(),
        });
    }
    if !scrubbed.is_empty() {
        crate::app::gate_update::note(
            &mut model,
            format!(
                "--scrub-env removed from the agent's environment: {}",
                scrubbed.join(", ")
            ),
        );
    }
    crate::app::gate_update::note(
        &mut model,
        format!(
            "session {} — audit log {}",
            agent_gate.server.session_id(),
            agent_gate.server.audit_path().display()
        ),
    );

    // Context files are watched; a change is re-detected and arrives as an event.
    let watch_tx = side_tx.clone();
    let _context_watcher =
        context::watch::ContextWatcher::spawn(probe, knowledge, detected, move |update| {
            let _ = watch_tx.blocking_send(Event::ContextChanged(update));
        })
        .map_err(|e| {
            crate::app::gate_update::note(&mut model, format!("context files are not watched: {e}"))
        })
        .ok();
    let mut gate_events = agent_gate.events;
    let gate_tx = side_tx.clone();
    runtime.spawn(async move {
        while let Some(event) = gate_events.recv().await {
            if gate_tx.send(Event::Gate(event)).await.is_err() {
                break;
            }
        }
    });
    // Live diffs of the workspace (the agent's cwd). A watcher that cannot start (e.g. the inotify
    // watch limit) costs the Diff tab, not the session: say so in the status bar.
    let mut diff_options = settings.diff.clone();
    let sensitive_engine = settings_engine.clone();
    diff_options.pack_rules = Some(crate::diff::PackMatcher(Arc::new(move |p| {
        sensitive_engine.sensitive_path(p).map(|m| m.message)
    })));
    let diff_watcher = match crate::diff::watcher::spawn(diff_options) {
        Ok((watcher, mut diff_events)) => {
            // Both channels are bounded: when the loop stalls this task waits, and so does the
            // watcher thread behind it.
            let diff_tx = side_tx.clone();
            runtime.spawn(async move {
                while let Some(event) = diff_events.recv().await {
                    if diff_tx.send(Event::Diff(Box::new(event))).await.is_err() {
                        break;
                    }
                }
            });
            Some(watcher)
        }
        Err(err) => {
            model.notice = Some(format!("diff watcher: {err}"));
            None
        }
    };
    drop(side_tx);

    let outcome = run_tui(
        &runtime,
        &mut model,
        &mut agent,
        pty_output,
        side_rx,
        settings.options,
    );
    drop(diff_watcher);

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
    if let Some(recording) = agent.recording.take() {
        let dir = recording.dir.clone();
        match recording.finish(Some(i32::from(code))) {
            Ok(summary) => eprintln!(
                "overwatch: session recorded in {} ({} markers) — replay: overwatch replay {}",
                dir.display(),
                summary.markers,
                session_id_of(&dir)
            ),
            Err(err) => eprintln!(
                "overwatch: the recording in {} is incomplete: {err}",
                dir.display()
            ),
        }
    }
    Ok(Outcome {
        code,
        session_id: agent_gate.server.session_id().to_string(),
        audit_path: agent_gate.server.audit_path().to_path_buf(),
    })
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

/// Sets the terminal up, runs the loop on the current-thread `runtime`, and restores the terminal.
/// `side` carries what the gate, the context watcher and the exec gate report.
fn run_tui(
    runtime: &tokio::runtime::Runtime,
    model: &mut Model,
    agent: &mut LiveAgent,
    pty: crate::session::PtyOutput,
    side: mpsc::Receiver<Event>,
    options: LoopOptions,
) -> anyhow::Result<()> {
    let (terminal, _guard, capabilities) = terminal::init().context("setting up the terminal")?;
    let mut host = CrosstermHost::new(terminal);
    let (tx, rx) = mpsc::channel(EVENTS_CAPACITY);
    terminal::spawn_input_thread(tx.clone(), capabilities).context("starting the input thread")?;
    let mut sources = Sources {
        events: rx,
        pty,
        side,
    };
    runtime.block_on(async {
        terminal::spawn_signal_tasks(&tx).context("installing signal handlers")?;
        drop(tx);
        app::run(model, &mut host, agent, &mut sources, options)
            .await
            .context("running the app loop")
    })
}

/// Receives the seccomp listener from the shim and serves it: every exec in the agent's tree asks
/// the gate in-process (same rules, same hold, same audit) with `layer: exec`.
#[cfg(target_os = "linux")]
fn start_exec_gate(
    prepared: gate::exec::lifecycle::PreparedExecGate,
    child_pid: Option<u32>,
    agent_gate: &gate::session::AgentGate,
    runtime: &tokio::runtime::Handle,
    guarded: &std::collections::BTreeSet<String>,
    agent_path: &str,
    events: mpsc::Sender<Event>,
) -> gate::exec::lifecycle::ExecGateState {
    use gate::exec::{identify::ProgramIndex, serve::ExecEvent};
    let config = gate::exec::serve::ExecGateConfig {
        programs: Some(Arc::new(ProgramIndex::from_path(
            guarded.iter(),
            std::ffi::OsStr::new(agent_path),
        ))),
        ..Default::default()
    };
    let asker = agent_gate.server.in_process(runtime.clone());
    let decide = move |request: &gate::exec::ExecRequest| {
        gate::exec::lifecycle::decide_in_process(&asker, request)
    };
    let on_event = move |event: ExecEvent| {
        let note = match event {
            ExecEvent::Unreadable { pid, error } => {
                format!("exec gate: denied an unreadable exec of pid {pid}: {error}")
            }
            ExecEvent::TreeExited => "exec gate: the agent's process tree has exited".to_string(),
            ExecEvent::Decided { request, .. } => match request.notes.first() {
                Some(note) => format!("exec gate: {}: {}", request.argv.join(" "), note.message()),
                None => return,
            },
            #[allow(unreachable_patterns)]
            _ => return,
        };
        let _ = events.try_send(Event::Note(note));
    };
    prepared.start(child_pid, config, decide, on_event)
}

/// A session dir's id (its last path component).
fn session_id_of(dir: &std::path::Path) -> String {
    dir.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
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
