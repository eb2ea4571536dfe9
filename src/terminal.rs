//! The outer terminal: entering and leaving the TUI's modes, restoring them on every exit path,
//! reading its input on a named thread, and turning SIGTERM/SIGHUP/SIGINT into events.
//!
//! **Invariants:** after [`init`], the terminal is restored exactly once whichever way overwatch
//! leaves — [`TerminalGuard`]'s drop (normal exit, error, unwinding), the panic hook (before the
//! panic message is printed, so it is readable), or a signal (the loop quits and the guard drops).
//! The panic hook also SIGKILLs the agent's process group, so a crashed supervisor never leaves an
//! unsupervised agent running.

use std::io::{self, Write};
use std::panic;
use std::sync::Once;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};

use crossterm::event::{
    DisableBracketedPaste, DisableFocusChange, DisableMouseCapture, EnableBracketedPaste,
    EnableFocusChange, EnableMouseCapture, KeyboardEnhancementFlags, PopKeyboardEnhancementFlags,
    PushKeyboardEnhancementFlags,
};
use crossterm::terminal::{EnterAlternateScreen, LeaveAlternateScreen};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use tokio::sync::mpsc;

use crate::app::event::Event;
use crate::app::keymap::normalize_key;
use crate::session::kill_group_now;

/// Whether the TUI modes are on (so restoring twice is harmless).
static ACTIVE: AtomicBool = AtomicBool::new(false);
/// Whether we pushed kitty keyboard flags (they must be popped on restore).
static KEYBOARD_PUSHED: AtomicBool = AtomicBool::new(false);
/// The agent's process group, killed by the panic hook; 0 = none.
static AGENT_PGID: AtomicI32 = AtomicI32::new(0);
static HOOK: Once = Once::new();

/// Restores the terminal when dropped.
#[must_use = "the terminal is restored when the guard drops"]
pub struct TerminalGuard(());

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore();
    }
}

/// What [`init`] found out about the outer terminal.
#[derive(Debug, Clone, Copy)]
pub struct Capabilities {
    /// The terminal speaks the kitty keyboard protocol, so keys arrive disambiguated
    /// (Shift-Enter, Ctrl-I vs Tab) and need no legacy normalization.
    pub kitty_keyboard: bool,
}

/// Installs the panic hook, enters raw mode and the alternate screen, enables bracketed paste,
/// mouse capture, focus reports and (when the terminal supports it) the kitty keyboard protocol.
///
/// Errors: stdout is not a terminal, or a mode could not be set (the terminal is restored before
/// returning).
pub fn init() -> io::Result<(
    Terminal<CrosstermBackend<io::Stdout>>,
    TerminalGuard,
    Capabilities,
)> {
    install_panic_hook();
    crossterm::terminal::enable_raw_mode()?;
    ACTIVE.store(true, Ordering::SeqCst);
    let guard = TerminalGuard(());
    // Asked before the input thread starts: the answer is read from stdin.
    let kitty_keyboard = crossterm::terminal::supports_keyboard_enhancement().unwrap_or(false);
    let mut stdout = io::stdout();
    // The mouse is always captured: the wheel scrolls the agent's scrollback, clicks pick tabs,
    // and agents that enabled mouse reporting get their events. Shift+drag still selects text
    // in xterm-compatible terminals and tmux.
    crossterm::execute!(
        stdout,
        EnterAlternateScreen,
        EnableBracketedPaste,
        EnableMouseCapture,
        EnableFocusChange
    )?;
    if kitty_keyboard {
        crossterm::execute!(
            stdout,
            PushKeyboardEnhancementFlags(KeyboardEnhancementFlags::DISAMBIGUATE_ESCAPE_CODES)
        )?;
        KEYBOARD_PUSHED.store(true, Ordering::SeqCst);
    }
    let mut terminal = Terminal::new(CrosstermBackend::new(stdout))?;
    terminal.clear()?;
    Ok((terminal, guard, Capabilities { kitty_keyboard }))
}

/// Leaves every mode [`init`] (or the app) entered: keyboard flags, mouse capture, bracketed
/// paste, focus reporting, alternate screen, cursor style and visibility, raw mode. Idempotent;
/// errors are ignored (the terminal may be gone after SIGHUP).
pub fn restore() {
    if !ACTIVE.swap(false, Ordering::SeqCst) {
        return;
    }
    let mut out = io::stdout();
    if KEYBOARD_PUSHED.swap(false, Ordering::SeqCst) {
        let _ = crossterm::execute!(out, PopKeyboardEnhancementFlags);
    }
    let _ = crossterm::execute!(
        out,
        DisableMouseCapture,
        DisableBracketedPaste,
        DisableFocusChange,
        LeaveAlternateScreen,
        crossterm::cursor::SetCursorStyle::DefaultUserShape,
        crossterm::cursor::Show
    );
    let _ = out.flush();
    let _ = crossterm::terminal::disable_raw_mode();
}

/// Records the agent's process group for the panic hook (0 clears it).
pub fn set_agent_pgid(pgid: i32) {
    AGENT_PGID.store(pgid, Ordering::SeqCst);
}

/// Chains a hook before the current panic hook: kill the agent's group, restore the terminal,
/// then let the previous hook print the message on the restored screen.
fn install_panic_hook() {
    HOOK.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            let pgid = AGENT_PGID.swap(0, Ordering::SeqCst);
            if pgid > 0 {
                kill_group_now(pgid);
            }
            restore();
            previous(info);
        }));
    });
}

/// Starts the `overwatch-input` thread: reads the terminal's events and sends them to the loop.
/// Sending blocks when the channel is full (the loop is behind); keys are never dropped. A read
/// error means the terminal is gone and is reported as SIGHUP.
pub fn spawn_input_thread(
    events: mpsc::Sender<Event>,
    capabilities: Capabilities,
) -> io::Result<()> {
    use crossterm::event::Event as Term;
    std::thread::Builder::new()
        .name("overwatch-input".into())
        .spawn(move || {
            loop {
                let event = match crossterm::event::read() {
                    Ok(Term::Key(key)) if capabilities.kitty_keyboard => Event::Key(key),
                    Ok(Term::Key(key)) => Event::Key(normalize_key(key)),
                    Ok(Term::Paste(text)) => Event::Paste(text),
                    Ok(Term::Mouse(mouse)) => Event::Mouse(mouse),
                    Ok(Term::Resize(cols, rows)) => Event::Resized { cols, rows },
                    Ok(Term::FocusGained) => Event::Focus(true),
                    Ok(Term::FocusLost) => Event::Focus(false),
                    Err(_) => Event::Signalled(libc::SIGHUP),
                };
                let gone = matches!(event, Event::Signalled(_));
                if events.blocking_send(event).is_err() || gone {
                    return;
                }
            }
        })?;
    Ok(())
}

/// Turns SIGTERM, SIGHUP and SIGINT into [`Event::Signalled`] (the loop then restores the
/// terminal and shuts the agent down). Must be called inside the tokio runtime.
pub fn spawn_signal_tasks(events: &mpsc::Sender<Event>) -> io::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    for (kind, number) in [
        (SignalKind::terminate(), libc::SIGTERM),
        (SignalKind::hangup(), libc::SIGHUP),
        (SignalKind::interrupt(), libc::SIGINT),
    ] {
        let mut stream = signal(kind)?;
        let events = events.clone();
        tokio::spawn(async move {
            while stream.recv().await.is_some() {
                if events.send(Event::Signalled(number)).await.is_err() {
                    return;
                }
            }
        });
    }
    Ok(())
}
