//! Effects: the I/O that [`super::update::update`] asks for, and the runner that performs it
//! against the agent ([`AgentControl`]) and the outer terminal ([`Host`]).
//!
//! Both sides are traits so the whole loop runs in tests against a fake PTY and ratatui's
//! `TestBackend`; the live implementations wrap the session's `AgentPty` and crossterm.
//!
//! **Invariant:** effects run in the order `update` returned them, right after the action that
//! produced them, so replies to the agent's terminal queries are written before the next batch.

use std::io::{self, Write};

use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
#[cfg(test)]
use ratatui::backend::TestBackend;

use super::model::Model;
use crate::session::{AgentPty, CursorShape, PaneSize, PtyWriter, SessionError, kill_group_now};

/// One piece of I/O.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Write bytes to the agent's PTY (keys, pastes, mouse reports, replies to its queries).
    WriteToAgent(Vec<u8>),
    /// Set the PTY's size (TIOCSWINSZ; the agent receives SIGWINCH).
    ResizeAgent(PaneSize),
    /// SIGSTOP the agent's process group.
    PauseAgent,
    /// SIGCONT the agent's process group.
    ResumeAgent,
    /// SIGKILL the agent's process group.
    KillAgent,
    /// Ring the outer terminal's bell (the agent rang its own, or something needs the human).
    Bell,
    /// The human's answer to a held command (only ever produced by a key in the modal).
    AnswerGate {
        id: u64,
        answer: crate::gate::HumanAnswer,
    },
    /// Something the recording must mark (a decision, a context warning).
    Record(RecordNote),
}

/// What goes into the recording besides the agent's screen: each becomes an `events.jsonl`
/// record, and decisions, context warnings and sensitive-file changes also an `m` marker.
#[derive(Debug, Clone, PartialEq)]
pub enum RecordNote {
    Decision(Box<crate::gate::audit::AuditRecord>),
    ContextWarning(crate::context::ContextWarning),
    Diff(Box<crate::diff::DiffEvent>),
}

impl RecordNote {
    /// The marker label, when this note deserves one.
    pub fn marker(&self) -> Option<String> {
        match self {
            RecordNote::Decision(r)
                if r.verdict >= crate::rules::Decision::Confirm
                    || r.decided_by != crate::gate::DecidedBy::Rules =>
            {
                Some(format!(
                    "{}: {}{}",
                    r.decision,
                    r.command,
                    r.target
                        .as_deref()
                        .map(|t| format!(" → {t}"))
                        .unwrap_or_default()
                ))
            }
            RecordNote::Decision(_) => None,
            RecordNote::ContextWarning(w) => Some(format!("context: {}", w.message)),
            RecordNote::Diff(d) => match &**d {
                crate::diff::DiffEvent::SensitiveChange(w) => {
                    Some(format!("sensitive file: {}: {}", w.label, w.summary))
                }
                crate::diff::DiffEvent::MassDelete { count, .. } => {
                    Some(format!("{count} files deleted at once"))
                }
                _ => None,
            },
        }
    }

    /// The `events.jsonl` record, flat with a `kind` as the replay timeline reads it:
    /// `{"kind": "decision", …audit record}`, `{"kind": "context_warning", "fact", "message",
    /// "from", "to", "tier"}`, or the diff watcher's own event (`"kind": "file_changed"`, …).
    pub fn event(&self) -> serde_json::Value {
        match self {
            RecordNote::Decision(r) => {
                let mut v = serde_json::to_value(r).unwrap_or(serde_json::Value::Null);
                if let Some(map) = v.as_object_mut() {
                    map.insert("kind".into(), "decision".into());
                }
                v
            }
            RecordNote::ContextWarning(w) => serde_json::json!({
                "kind": "context_warning", "fact": w.kind, "message": w.message,
                "from": w.from, "to": w.to, "tier": w.tier,
            }),
            RecordNote::Diff(d) => serde_json::to_value(d).unwrap_or(serde_json::Value::Null),
        }
    }
}

/// The agent as the effect runner drives it.
pub trait AgentControl {
    /// Queues bytes for the agent without blocking.
    fn write(&mut self, bytes: Vec<u8>) -> Result<(), SessionError>;
    /// Resizes the PTY.
    fn resize(&mut self, size: PaneSize) -> Result<(), SessionError>;
    /// Stops the process group.
    fn pause(&mut self) -> Result<(), SessionError>;
    /// Continues the process group.
    fn resume(&mut self) -> Result<(), SessionError>;
    /// Kills the process group now; its exit arrives later as an event.
    fn kill(&mut self);
    /// Answers a held gate request. Sessions without a gate say so.
    fn answer_gate(&mut self, id: u64, answer: crate::gate::HumanAnswer) -> Result<(), String> {
        let _ = (id, answer);
        Err("this session has no gate".into())
    }
    /// Writes a marker/event into the session recording (no-op when not recording).
    fn record_note(&mut self, note: &RecordNote) {
        let _ = note;
    }
    /// Tees the agent's raw output into the session recording (no-op when not recording).
    fn record_output(&mut self, bytes: &[u8]) {
        let _ = bytes;
    }
}

/// The outer terminal: drawing plus the controls ratatui does not cover.
pub trait Host {
    /// Draws one frame of the model.
    fn draw(&mut self, model: &Model) -> io::Result<()>;
    /// Rings the bell.
    fn bell(&mut self) -> io::Result<()>;
}

/// Performs `effects` in order. Returns a description of each one that failed (what was being
/// done), for the status bar; a failure does not stop the others.
pub fn perform(
    effects: Vec<Effect>,
    agent: &mut dyn AgentControl,
    host: &mut dyn Host,
) -> Vec<String> {
    let mut failures = Vec::new();
    for effect in effects {
        let result = match effect {
            Effect::WriteToAgent(bytes) => agent
                .write(bytes)
                .map_err(|e| format!("sending input to the agent: {e}")),
            Effect::ResizeAgent(size) => agent
                .resize(size)
                .map_err(|e| format!("resizing the agent's PTY: {e}")),
            Effect::PauseAgent => agent.pause().map_err(|e| format!("pausing the agent: {e}")),
            Effect::ResumeAgent => agent
                .resume()
                .map_err(|e| format!("resuming the agent: {e}")),
            Effect::KillAgent => {
                agent.kill();
                Ok(())
            }
            Effect::Bell => host.bell().map_err(|e| format!("ringing the bell: {e}")),
            Effect::AnswerGate { id, answer } => agent
                .answer_gate(id, answer)
                .map_err(|e| format!("answering held request {id}: {e}")),
            Effect::Record(note) => {
                agent.record_note(&note);
                Ok(())
            }
        };
        if let Err(failure) = result {
            failures.push(failure);
        }
    }
    failures
}

/// The live agent: the session's PTY, its writer handle, and the gate's queue of held requests.
pub struct LiveAgent {
    pub pty: AgentPty,
    writer: PtyWriter,
    gate: Option<crate::gate::pending::Pending>,
    /// The session recording, when recording.
    pub recording: Option<crate::record::sink::RecordingSink>,
}

impl LiveAgent {
    /// Wraps a spawned PTY.
    pub fn new(pty: AgentPty) -> Self {
        let writer = pty.writer();
        LiveAgent {
            pty,
            writer,
            gate: None,
            recording: None,
        }
    }

    /// Connects the gate whose held requests the human answers.
    pub fn set_gate(&mut self, pending: crate::gate::pending::Pending) {
        self.gate = Some(pending);
    }
}

impl AgentControl for LiveAgent {
    fn write(&mut self, bytes: Vec<u8>) -> Result<(), SessionError> {
        self.writer.write(bytes)
    }

    fn resize(&mut self, size: PaneSize) -> Result<(), SessionError> {
        if let Some(rec) = &self.recording {
            rec.send(crate::record::sink::RecordMsg::Resize(
                rec.now(),
                size.cols,
                size.rows,
            ));
        }
        self.pty.resize(size)
    }

    fn record_note(&mut self, note: &RecordNote) {
        use crate::record::sink::RecordMsg;
        if let Some(rec) = &self.recording {
            let at = rec.now();
            if let Some(label) = note.marker() {
                rec.send(RecordMsg::Marker(at, label));
            }
            rec.send(RecordMsg::Event(at, note.event()));
        }
    }

    fn record_output(&mut self, bytes: &[u8]) {
        if let Some(rec) = &self.recording {
            rec.send(crate::record::sink::RecordMsg::Output(
                rec.now(),
                bytes.to_vec(),
            ));
        }
    }

    fn answer_gate(&mut self, id: u64, answer: crate::gate::HumanAnswer) -> Result<(), String> {
        match &self.gate {
            Some(pending) => pending.resolve(id, answer).map_err(|e| e.to_string()),
            None => Err("this session has no gate".into()),
        }
    }

    fn pause(&mut self) -> Result<(), SessionError> {
        self.pty.pause()
    }

    fn resume(&mut self) -> Result<(), SessionError> {
        self.pty.resume()
    }

    fn kill(&mut self) {
        if let Some(pgid) = self.pty.pgid() {
            kill_group_now(pgid);
        }
    }
}

/// The real terminal through crossterm. Also keeps the outer cursor's shape in step with the
/// agent's (DECSCUSR), which ratatui does not manage.
pub struct CrosstermHost {
    pub terminal: Terminal<CrosstermBackend<io::Stdout>>,
    cursor_shape: Option<CursorShape>,
}

impl CrosstermHost {
    /// Wraps an initialised terminal (see `crate::terminal::init`).
    pub fn new(terminal: Terminal<CrosstermBackend<io::Stdout>>) -> Self {
        CrosstermHost {
            terminal,
            cursor_shape: None,
        }
    }
}

impl Host for CrosstermHost {
    fn draw(&mut self, model: &Model) -> io::Result<()> {
        self.terminal
            .draw(|frame| crate::ui::render(frame, model))?;
        let shape = model.terminal.cursor().shape;
        if self.cursor_shape != Some(shape) {
            use crossterm::cursor::SetCursorStyle;
            let style = match shape {
                CursorShape::Block => SetCursorStyle::SteadyBlock,
                CursorShape::Underline => SetCursorStyle::SteadyUnderScore,
                CursorShape::Bar => SetCursorStyle::SteadyBar,
            };
            crossterm::execute!(self.terminal.backend_mut(), style)?;
            self.cursor_shape = Some(shape);
        }
        Ok(())
    }

    fn bell(&mut self) -> io::Result<()> {
        let out = self.terminal.backend_mut();
        out.write_all(b"\x07")?;
        out.flush()
    }
}

#[cfg(test)]
/// A host over ratatui's `TestBackend`, for snapshot and flow tests: draws into a buffer and
/// counts frames; the bell is counted, not rung.
pub struct TestHost {
    pub terminal: Terminal<TestBackend>,
    pub frames: usize,
    pub bells: usize,
}

#[cfg(test)]
impl TestHost {
    /// A test host of `cols`×`rows`.
    pub fn new(cols: u16, rows: u16) -> Self {
        let Ok(terminal) = Terminal::new(TestBackend::new(cols, rows));
        TestHost {
            terminal,
            frames: 0,
            bells: 0,
        }
    }

    /// The last drawn frame as text, one line per row (trailing spaces kept).
    pub fn screen(&self) -> String {
        let buffer = self.terminal.backend().buffer();
        let mut out = String::new();
        for y in 0..buffer.area.height {
            for x in 0..buffer.area.width {
                out.push_str(buffer[(x, y)].symbol());
            }
            out.push('\n');
        }
        out
    }
}

#[cfg(test)]
impl Host for TestHost {
    fn draw(&mut self, model: &Model) -> io::Result<()> {
        // A real terminal changes size by itself; the test backend follows the model's screen.
        let area = self.terminal.backend().buffer().area;
        if (area.width, area.height) != (model.screen.width, model.screen.height) {
            self.terminal
                .backend_mut()
                .resize(model.screen.width, model.screen.height);
        }
        let Ok(_) = self.terminal.draw(|frame| crate::ui::render(frame, model));
        self.frames += 1;
        Ok(())
    }

    fn bell(&mut self) -> io::Result<()> {
        self.bells += 1;
        Ok(())
    }
}

#[cfg(test)]
mod record_note_tests {
    use super::RecordNote;
    use crate::context::{ContextWarning, FactKind, Tier};
    use crate::gate::DecidedBy;
    use crate::rules::Decision;

    fn record(verdict: Decision, by: DecidedBy) -> RecordNote {
        let json = serde_json::json!({
            "time": "2026-11-21T10:00:00Z", "session": "s", "agent_command": "bash", "agent": "exec",
            "user": "dana", "layer": "exec", "command": "git push -f origin main", "cwd": "/w",
            "target": "main", "target_kind": "git", "tier": "production", "rules": ["git/x"],
            "verdict": verdict, "decision": "deny", "decided_by": by, "reason": "r", "waited_ms": 5,
        });
        RecordNote::Decision(Box::new(serde_json::from_value(json).unwrap()))
    }

    #[test]
    fn markers_only_for_held_commands_human_answers_and_warnings() {
        assert_eq!(
            record(Decision::Warn, DecidedBy::Rules).marker(),
            None,
            "routine warns would flood the timeline"
        );
        assert_eq!(record(Decision::Allow, DecidedBy::Rules).marker(), None);
        assert_eq!(
            record(Decision::Confirm, DecidedBy::Human)
                .marker()
                .as_deref(),
            Some("deny: git push -f origin main → main")
        );
        let w = RecordNote::ContextWarning(ContextWarning {
            kind: FactKind::Kube,
            message: "kube context changed: a → prod".into(),
            from: Some("a".into()),
            to: Some("prod".into()),
            tier: Tier::Production,
        });
        assert!(
            w.marker()
                .is_some_and(|m| m.contains("kube context changed"))
        );
    }

    #[test]
    fn events_are_flat_with_a_kind_for_the_replay_timeline() {
        let v = record(Decision::Confirm, DecidedBy::Human).event();
        assert_eq!(v["kind"], "decision");
        assert_eq!(v["decided_by"], "human");
        assert_eq!(v["command"], "git push -f origin main");
    }
}
