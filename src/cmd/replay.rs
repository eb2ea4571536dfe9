//! `overwatch replay PATH|SESSION_ID [--dump-at T] [-i SECS] [--speed X]`: replay a recording in
//! the TUI, or print the screen text at time T.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use crossterm::event::{self, Event, KeyEventKind};

use crate::cli::ReplayArgs;
use crate::record::{AUDIT_FILE, EVENTS_FILE, META_FILE, SessionDir};
use crate::replay::app::{ReplayApp, action_for};
use crate::replay::index::IdleMap;
use crate::replay::indexer::KEYFRAME_BYTES;
use crate::replay::player::{Player, parse_time};
use crate::replay::timeline::Timeline;
use crate::replay::view;
use crate::theme::Theme;

/// Frame interval while playing.
const FRAME: Duration = Duration::from_millis(33);

/// Resolves `target`: an existing file, a session dir, or a session id.
fn resolve(target: &str) -> anyhow::Result<PathBuf> {
    let path = Path::new(target);
    if path.is_file() {
        return Ok(path.to_owned());
    }
    if path.is_dir() {
        return Ok(path.join(crate::record::CAST_FILE));
    }
    let dir = SessionDir::open(target)
        .with_context(|| format!("{target} is neither a cast file nor a recorded session id"))?;
    Ok(dir.cast_path())
}

/// Unix start time (seconds) from the `meta.json` beside a session's cast, if any.
fn session_start(cast: &Path) -> Option<f64> {
    let text = std::fs::read_to_string(cast.with_file_name(META_FILE)).ok()?;
    let meta: crate::record::SessionMeta = serde_json::from_str(&text).ok()?;
    let start: jiff::Timestamp = meta.start.parse().ok()?;
    Some(start.as_millisecond() as f64 / 1000.0)
}

/// Runs `overwatch replay`.
pub fn main(args: ReplayArgs) -> anyhow::Result<ExitCode> {
    let path = resolve(&args.target)?;
    if let Some(at) = &args.dump_at {
        let t = parse_time(at)
            .with_context(|| format!("--dump-at {at:?}: expected seconds, mm:ss or hh:mm:ss"))?;
        let mut player =
            Player::open(&path, None).with_context(|| format!("loading {}", path.display()))?;
        for issue in &player.index.issues {
            eprintln!(
                "overwatch: {}: {issue} (loaded what was valid)",
                path.display()
            );
        }
        player.advance_to(t);
        println!("{}", player.model().screen_text());
        return Ok(ExitCode::SUCCESS);
    }
    let size = std::fs::metadata(&path).map_or(0, |m| m.len());
    if size > 256 * 1024 * 1024 {
        // The scan before the TUI opens reads every event (~5 s for 1.35 GB on a loaded 2-core
        // machine, benches/record.rs); keyframes are built afterwards, in the background.
        eprintln!(
            "overwatch: reading {} MB of recording…",
            size / (1024 * 1024)
        );
    }
    let player = Player::open(&path, Some(KEYFRAME_BYTES))
        .with_context(|| format!("loading {}", path.display()))?;
    let events = path.with_file_name(EVENTS_FILE);
    let mut timeline = Timeline::load(
        &player.index.markers,
        events.is_file().then_some(events.as_path()),
    );
    let audit = path.with_file_name(AUDIT_FILE);
    if audit.is_file()
        && let Some(start) =
            session_start(&path).or(player.index.header.timestamp.map(|t| t as f64))
    {
        timeline.add_audit(&audit, start);
    }
    let limit = args.idle_time_limit.or(player.index.header.idle_time_limit);
    let idle = IdleMap::new(&player.index.gaps, limit);
    let mut app = ReplayApp::new(player, timeline, idle, args.speed);
    app.playing = true;
    let theme = Theme::builtin_default();
    // ratatui::init installs a panic hook that restores the terminal before the panic message.
    let mut terminal = ratatui::init();
    let result = run(&mut terminal, &mut app, &theme);
    ratatui::restore();
    result?;
    Ok(ExitCode::SUCCESS)
}

fn run(
    terminal: &mut ratatui::DefaultTerminal,
    app: &mut ReplayApp,
    theme: &Theme,
) -> anyhow::Result<()> {
    let mut last = Instant::now();
    let mut dirty = true;
    while !app.quit {
        if dirty {
            terminal
                .draw(|frame| view::draw(frame, app, theme))
                .context("drawing the replay")?;
            dirty = false;
        }
        let timeout = if app.playing || app.pending_seek.is_some() {
            FRAME
        } else {
            Duration::from_millis(250)
        };
        if event::poll(timeout).context("reading the keyboard")? {
            match event::read().context("reading the keyboard")? {
                Event::Key(key) if key.kind != KeyEventKind::Release => {
                    if let Some(action) = action_for(&app.mode, key) {
                        app.message = None;
                        app.update(action);
                    }
                    dirty = true;
                }
                Event::Resize(..) => dirty = true,
                _ => {}
            }
        }
        if app.poll() {
            dirty = true;
        }
        let now = Instant::now();
        if app.playing {
            app.tick(now - last);
            dirty = true;
        }
        last = now;
    }
    Ok(())
}
