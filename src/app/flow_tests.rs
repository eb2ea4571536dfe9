//! Flow tests: the whole loop ([`super::run`]) in-process, with a fake PTY (an echoing agent on
//! the same bounded channel type the session uses) and ratatui's `TestBackend`. Assertions wait for
//! the drawn screen with `wait_until("what", predicate)` and a timeout.

use std::cell::RefCell;
use std::io;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use tokio::sync::mpsc;

use super::effect::{AgentControl, Host, TestHost};
use super::event::Event;
use super::model::{Model, Quit, test_model};
use super::{LoopOptions, Sources};
use crate::session::{ExitStatus, PaneSize, PtyEvent, SessionError};

const TIMEOUT: Duration = Duration::from_secs(5);
const PROMPT: &[u8] = b"fake$ ";

/// What the fake agent was asked to do, in order.
type Log = Arc<Mutex<Vec<String>>>;

/// An agent that behaves like a shell in a cooked TTY: echoes what it is sent, answers Enter
/// with a new prompt, and exits with SIGKILL when killed.
struct FakeAgent {
    pty: mpsc::Sender<PtyEvent>,
    log: Log,
}

impl FakeAgent {
    fn record(&self, what: String) {
        self.log
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(what);
    }
}

impl AgentControl for FakeAgent {
    fn write(&mut self, bytes: Vec<u8>) -> Result<(), SessionError> {
        self.record(format!("write {bytes:?}"));
        let echo = if bytes == b"\r" {
            [b"\r\n".as_slice(), PROMPT].concat()
        } else {
            bytes
        };
        // The loop drains this channel; try_send keeps the fake non-blocking like PtyWriter.
        let _ = self.pty.try_send(PtyEvent::Output(echo));
        Ok(())
    }

    fn resize(&mut self, size: PaneSize) -> Result<(), SessionError> {
        self.record(format!("resize {}x{}", size.cols, size.rows));
        Ok(())
    }

    fn pause(&mut self) -> Result<(), SessionError> {
        self.record("pause".into());
        Ok(())
    }

    fn resume(&mut self) -> Result<(), SessionError> {
        self.record("resume".into());
        Ok(())
    }

    fn kill(&mut self) {
        self.record("kill".into());
        let _ = self.pty.try_send(PtyEvent::Exited(ExitStatus::Signal(9)));
    }
}

/// A `TestHost` the test can read while the loop owns it.
struct SharedHost(Rc<RefCell<TestHost>>);

impl Host for SharedHost {
    fn draw(&mut self, model: &Model) -> io::Result<()> {
        self.0.borrow_mut().draw(model)
    }
    fn bell(&mut self) -> io::Result<()> {
        self.0.borrow_mut().bell()
    }
}

struct Harness {
    host: Rc<RefCell<TestHost>>,
    events: mpsc::Sender<Event>,
    pty: mpsc::Sender<PtyEvent>,
    log: Log,
}

impl Harness {
    async fn wait_until(&self, what: &str, predicate: impl Fn(&str) -> bool) {
        let start = tokio::time::Instant::now();
        loop {
            let screen = self.host.borrow().screen();
            if predicate(&screen) {
                return;
            }
            assert!(
                start.elapsed() < TIMEOUT,
                "timed out waiting for {what}; last screen:\n{screen}"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    async fn key(&self, code: KeyCode, modifiers: KeyModifiers) {
        let sent = self
            .events
            .send(Event::Key(KeyEvent::new(code, modifiers)))
            .await;
        assert!(sent.is_ok(), "the loop stopped reading events");
    }

    async fn chars(&self, text: &str) {
        for c in text.chars() {
            self.key(KeyCode::Char(c), KeyModifiers::NONE).await;
        }
    }

    async fn prefix(&self, c: char) {
        self.key(KeyCode::Char(']'), KeyModifiers::CONTROL).await;
        self.chars(&c.to_string()).await;
    }

    fn logged(&self, what: &str) -> bool {
        self.log
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .any(|l| l == what)
    }
}

/// Runs the loop against the fake agent while `script` drives it; returns the final model.
async fn session<F, Fut>(preload: &[&[u8]], script: F) -> Model
where
    F: FnOnce(Rc<Harness>) -> Fut,
    Fut: Future<Output = ()>,
{
    let mut model = test_model(120, 40);
    let host = Rc::new(RefCell::new(TestHost::new(120, 40)));
    let (pty_tx, pty_rx) = mpsc::channel(256);
    let (events_tx, events_rx) = mpsc::channel(64);
    for chunk in preload {
        let _ = pty_tx.try_send(PtyEvent::Output(chunk.to_vec()));
    }
    let log: Log = Arc::default();
    let mut agent = FakeAgent {
        pty: pty_tx.clone(),
        log: log.clone(),
    };
    let harness = Rc::new(Harness {
        host: host.clone(),
        events: events_tx,
        pty: pty_tx,
        log,
    });
    let mut shared = SharedHost(host);
    let (_side_tx, side_rx) = mpsc::channel(8);
    let mut sources = Sources {
        events: events_rx,
        pty: pty_rx,
        side: side_rx,
    };
    let run = super::run(
        &mut model,
        &mut shared,
        &mut agent,
        &mut sources,
        LoopOptions::default(),
    );
    let (result, ()) = tokio::join!(run, script(harness));
    assert!(result.is_ok(), "loop failed: {result:?}");
    model
}

#[tokio::test]
async fn typing_pausing_resizing_and_exit_flow_through_the_loop() {
    let model = session(&[PROMPT], |h| async move {
        h.wait_until("the prompt", |s| s.contains("fake$ ")).await;
        h.chars("echo hi").await;
        h.key(KeyCode::Enter, KeyModifiers::NONE).await;
        h.wait_until("the echoed command and a new prompt", |s| {
            s.contains("fake$ echo hi") && s.matches("fake$").count() == 2
        })
        .await;

        h.prefix('p').await;
        h.wait_until("the paused status", |s| s.contains("PAUSED"))
            .await;
        assert!(h.logged("pause"));
        h.prefix('p').await;
        h.wait_until("the running status", |s| s.contains("● running"))
            .await;
        assert!(h.logged("resume"));

        let sent = h
            .events
            .send(Event::Resized {
                cols: 100,
                rows: 30,
            })
            .await;
        assert!(sent.is_ok());
        // 100 columns: the side panel takes 38 %, the agent pane the rest; 2 rows of bars.
        h.wait_until("the resized frame", |s| s.lines().count() == 30)
            .await;
        assert!(h.logged("resize 62x28"), "{:?}", h.log);

        let sent = h.pty.send(PtyEvent::Exited(ExitStatus::Code(3))).await;
        assert!(sent.is_ok());
        h.wait_until("the exit notice", |s| {
            s.contains("agent exited with 3 — press any key")
        })
        .await;
        let frames = h.host.borrow().frames;
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(h.host.borrow().frames, frames, "drew while idle");
        h.chars("x").await;
    })
    .await;
    assert_eq!(model.quit, Some(Quit::WithAgentCode));
}

#[tokio::test]
async fn a_burst_of_output_is_drawn_in_few_frames() {
    let lines: Vec<Vec<u8>> = (0..200)
        .map(|i| format!("line {i}\r\n").into_bytes())
        .collect();
    let chunks: Vec<&[u8]> = lines.iter().map(Vec::as_slice).collect();
    session(&chunks, |h| async move {
        h.wait_until("the last line", |s| s.contains("line 199"))
            .await;
        let frames = h.host.borrow().frames;
        assert!(frames <= 2, "200 queued chunks took {frames} frames");
        h.prefix('k').await;
        h.wait_until("the kill question", |s| s.contains("Kill the agent"))
            .await;
        h.chars("y").await;
        h.wait_until("the exit by SIGKILL", |s| {
            s.contains("exited with 137 (SIGKILL)")
        })
        .await;
        assert!(h.logged("kill"));
        h.chars("q").await;
    })
    .await;
}
