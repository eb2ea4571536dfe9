//! The confirmation modal: an overlay that takes keys first while a gate request is held.
//!
//! State ([`ConfirmModal`]) and key handling are pure: a key in, a [`ModalOutcome`] out; the app
//! turns `Answer` into `Pending::resolve(id, answer)`. [`render`] only reads the state.
//!
//! Keys: `y` allow once, `a` allow for the session, `n`/Esc/Enter deny (the default), `e`/Tab
//! explain. For a **production** target the human must first type the target's name exactly
//! (case-sensitive, molly-guard style); until it matches, printable keys go to that input line
//! and `y`/`a` cannot be pressed — only Esc (deny) and Tab (explain) act.
//!
//! **Invariant:** no key sequence approves a production request without the exact name typed, and
//! every key that is not an explicit approval leaves the request denied or still waiting.

use std::collections::VecDeque;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Clear, Paragraph, Widget, Wrap};

use crate::context::Tier;
use crate::gate::HumanAnswer;
use crate::gate::pending::HeldView;

/// What a key did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModalOutcome {
    /// No request is shown: the key is not ours (pass it on).
    NotOpen,
    /// The modal used the key (typing, explain toggle, or a key it ignores while open).
    Consumed,
    /// The human answered request `id`.
    Answer { id: u64, answer: HumanAnswer },
}

/// One row of the key help, generated from the same table the handler uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyHelp {
    pub key: &'static str,
    pub what: &'static str,
}

/// The keymap shown in the modal's footer (the handler below follows it).
pub const KEYMAP: &[KeyHelp] = &[
    KeyHelp {
        key: "y",
        what: "allow once",
    },
    KeyHelp {
        key: "a",
        what: "allow for session",
    },
    KeyHelp {
        key: "n",
        what: "deny (default)",
    },
    KeyHelp {
        key: "e",
        what: "explain",
    },
];

/// The modal's state: the queue of held requests (front is shown), the typed-name input and the
/// explain toggle.
#[derive(Debug, Clone, Default)]
pub struct ConfirmModal {
    queue: VecDeque<HeldView>,
    typed: String,
    explain: bool,
}

impl ConfirmModal {
    /// An empty (closed) modal.
    pub fn new() -> Self {
        Self::default()
    }

    /// Queues a newly held request (from `GateEvent::Held`).
    pub fn push(&mut self, view: HeldView) {
        if self.queue.iter().all(|v| v.id != view.id) {
            self.queue.push_back(view);
        }
    }

    /// Drops a request that went away (`GateEvent::Withdrawn`); resets the input if it was shown.
    pub fn withdraw(&mut self, id: u64) {
        if self.queue.front().is_some_and(|v| v.id == id) {
            self.reset_input();
        }
        self.queue.retain(|v| v.id != id);
    }

    /// The request being shown.
    pub fn current(&self) -> Option<&HeldView> {
        self.queue.front()
    }

    /// How many more requests wait behind the shown one.
    pub fn queued_behind(&self) -> usize {
        self.queue.len().saturating_sub(1)
    }

    /// True while any request waits: the app rings the bell and flashes the status bar.
    pub fn needs_attention(&self) -> bool {
        !self.queue.is_empty()
    }

    /// The name the human must type first (production targets only).
    pub fn required_name(&self) -> Option<&str> {
        let view = self.current()?;
        let target = view.assessment.target.as_ref()?;
        (target.tier == Tier::Production).then_some(target.name.as_str())
    }

    /// What has been typed so far.
    pub fn typed(&self) -> &str {
        &self.typed
    }

    /// Whether the explanation is shown.
    pub fn explaining(&self) -> bool {
        self.explain
    }

    /// True when `y`/`a` would be accepted now.
    pub fn armed(&self) -> bool {
        self.required_name().is_none_or(|name| self.typed == name)
    }

    fn reset_input(&mut self) {
        self.typed.clear();
        self.explain = false;
    }

    fn answer(&mut self, answer: HumanAnswer) -> ModalOutcome {
        let Some(view) = self.queue.pop_front() else {
            return ModalOutcome::NotOpen;
        };
        self.reset_input();
        ModalOutcome::Answer {
            id: view.id,
            answer,
        }
    }

    /// Handles one key press.
    pub fn handle_key(&mut self, key: KeyEvent) -> ModalOutcome {
        if self.queue.is_empty() {
            return ModalOutcome::NotOpen;
        }
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Esc => return self.answer(HumanAnswer::Deny),
            KeyCode::Tab => {
                self.explain = !self.explain;
                return ModalOutcome::Consumed;
            }
            _ if ctrl => return ModalOutcome::Consumed,
            _ => {}
        }
        if !self.armed() {
            // Typing the target's name: every printable key is text.
            match key.code {
                KeyCode::Char(c) => self.typed.push(c),
                KeyCode::Backspace => {
                    self.typed.pop();
                }
                _ => {}
            }
            return ModalOutcome::Consumed;
        }
        match key.code {
            KeyCode::Char('y') => self.answer(HumanAnswer::AllowOnce),
            KeyCode::Char('a') => self.answer(HumanAnswer::AllowSession),
            KeyCode::Char('n') | KeyCode::Enter => self.answer(HumanAnswer::Deny),
            KeyCode::Char('e') => {
                self.explain = !self.explain;
                ModalOutcome::Consumed
            }
            KeyCode::Backspace if self.required_name().is_some() => {
                self.typed.pop();
                ModalOutcome::Consumed
            }
            _ => ModalOutcome::Consumed,
        }
    }
}

fn tier_style(tier: Tier) -> Style {
    match tier {
        Tier::Production => Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
        Tier::Staging => Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD),
        Tier::Unknown => Style::new().fg(Color::Magenta),
        Tier::Development => Style::new().fg(Color::Green),
    }
}

/// The command line with the matched span highlighted.
fn command_line(view: &HeldView) -> Line<'static> {
    let text = &view.command;
    let plain = Style::new().add_modifier(Modifier::BOLD);
    match view.span.clone() {
        Some(span)
            if span.end <= text.len()
                && text.is_char_boundary(span.start)
                && text.is_char_boundary(span.end) =>
        {
            Line::from(vec![
                Span::raw("  $ "),
                Span::styled(text[..span.start].to_string(), plain),
                Span::styled(
                    text[span.clone()].to_string(),
                    plain.fg(Color::Red).add_modifier(Modifier::UNDERLINED),
                ),
                Span::styled(text[span.end..].to_string(), plain),
            ])
        }
        _ => Line::from(vec![Span::raw("  $ "), Span::styled(text.clone(), plain)]),
    }
}

/// Draws the modal centred in `area` (nothing when closed).
pub fn render(modal: &ConfirmModal, area: Rect, buf: &mut Buffer) {
    let Some(view) = modal.current() else {
        return;
    };
    let a = &view.assessment;
    let mut lines: Vec<Line<'static>> = vec![
        Line::from(vec![
            Span::styled("agent ", Style::new().fg(Color::DarkGray)),
            Span::raw(view.request.agent.clone()),
            Span::styled("  via ", Style::new().fg(Color::DarkGray)),
            Span::raw(view.request.layer.as_str()),
            Span::styled("  session ", Style::new().fg(Color::DarkGray)),
            Span::raw(view.session_id.clone()),
        ]),
        Line::from(vec![
            Span::styled("cwd   ", Style::new().fg(Color::DarkGray)),
            Span::raw(view.request.cwd.display().to_string()),
        ]),
        Line::default(),
        command_line(view),
        Line::default(),
    ];
    match &a.target {
        Some(t) => lines.push(Line::from(vec![
            Span::styled("target ", Style::new().fg(Color::DarkGray)),
            Span::raw(format!("{} ", t.kind)),
            Span::styled(t.name.clone(), Style::new().add_modifier(Modifier::BOLD)),
            Span::raw("  "),
            Span::styled(t.tier.as_str().to_uppercase(), tier_style(t.tier)),
            Span::styled(
                format!("  ({})", t.reason),
                Style::new().fg(Color::DarkGray),
            ),
        ])),
        None => lines.push(Line::from(vec![
            Span::styled("target ", Style::new().fg(Color::DarkGray)),
            Span::raw("not resolved"),
        ])),
    }
    lines.push(Line::from(vec![
        Span::styled("why    ", Style::new().fg(Color::DarkGray)),
        Span::raw(a.reason.clone()),
    ]));
    for rule in &a.rules {
        lines.push(Line::from(vec![
            Span::raw("  • "),
            Span::styled(
                format!("{}/{}", rule.pack, rule.id),
                Style::new().fg(Color::Cyan),
            ),
            Span::raw(format!(" {} — {}", rule.action, rule.message)),
        ]));
    }
    if modal.explaining() {
        lines.push(Line::default());
        lines.push(Line::styled(
            "explain",
            Style::new().add_modifier(Modifier::BOLD),
        ));
        if a.explain.is_empty() {
            lines.push(Line::raw("  (no steps recorded)"));
        }
        for (i, step) in a.explain.iter().enumerate() {
            lines.push(Line::raw(format!("  {}. {step}", i + 1)));
        }
    }
    if let Some(name) = modal.required_name() {
        lines.push(Line::default());
        let ok = modal.typed() == name;
        lines.push(Line::from(vec![
            Span::raw("type the target's name to allow: "),
            Span::styled(name.to_string(), Style::new().add_modifier(Modifier::BOLD)),
        ]));
        lines.push(Line::from(vec![
            Span::raw("> "),
            Span::styled(
                modal.typed().to_string(),
                if ok {
                    Style::new().fg(Color::Green)
                } else {
                    Style::new().fg(Color::Yellow)
                },
            ),
            Span::raw(if ok { " ✓" } else { "_" }),
        ]));
    }
    lines.push(Line::default());
    let key_style = Style::new().fg(Color::Black).bg(Color::Gray);
    let mut keys: Vec<Span<'static>> = Vec::new();
    if modal.armed() {
        for help in KEYMAP {
            keys.push(Span::styled(format!(" {} ", help.key), key_style));
            keys.push(Span::raw(format!(" {}  ", help.what)));
        }
    } else {
        for (key, what) in [("Esc", "deny"), ("Tab", "explain")] {
            keys.push(Span::styled(format!(" {key} "), key_style));
            keys.push(Span::raw(format!(" {what}  ")));
        }
        keys.push(Span::styled(
            "y/a unlock once the name matches",
            Style::new().fg(Color::DarkGray),
        ));
    }
    lines.push(Line::from(keys));

    let queued = modal.queued_behind();
    let title = if queued > 0 {
        format!(" overwatch: hold — {queued} more waiting ")
    } else {
        " overwatch: hold ".to_string()
    };
    let width = area.width.saturating_sub(4).min(100);
    // Lines wrap inside the border: count the rows each one takes so nothing is cut off.
    let inner = usize::from(width.saturating_sub(2)).max(1);
    let rows: usize = lines.iter().map(|l| l.width().max(1).div_ceil(inner)).sum();
    let height = u16::try_from(rows + 2).unwrap_or(u16::MAX).min(area.height);
    let popup = Rect {
        x: area.x + (area.width.saturating_sub(width)) / 2,
        y: area.y + (area.height.saturating_sub(height)) / 2,
        width,
        height,
    };
    Clear.render(popup, buf);
    let border = tier_style(a.tier());
    Paragraph::new(lines)
        .wrap(Wrap { trim: false })
        .block(
            Block::bordered()
                .border_type(BorderType::Double)
                .border_style(border)
                .title(title),
        )
        .render(popup, buf);
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::time::SystemTime;

    use super::*;
    use crate::gate::{Assessment, GateRequest, Layer, RuleHit, Subject, TargetInfo};
    use crate::rules::Decision;

    fn held(id: u64, tier: Tier) -> HeldView {
        let command = "psql \"$DATABASE_URL\" -c 'DROP TABLE orders'".to_string();
        let mut assessment =
            Assessment::plain(Decision::Confirm, "DROP TABLE on a production database");
        assessment.target = Some(TargetInfo {
            kind: "database".into(),
            name: "shop-prod".into(),
            tier,
            reason: "pinned by pack acme".into(),
        });
        assessment.rules.push(RuleHit {
            id: "sql-drop".into(),
            pack: "databases".into(),
            action: Decision::Confirm,
            message: "drops a table".into(),
        });
        assessment.span = Some(25..42);
        assessment.explain = vec![
            "psql: -c carries SQL: DROP TABLE orders".into(),
            "target from DATABASE_URL: host db.prod, database shop-prod".into(),
        ];
        HeldView {
            id,
            request: GateRequest {
                layer: Layer::Shim,
                agent: "psql".into(),
                subject: Subject::Command(command.clone()),
                cwd: "/home/dev/shop".into(),
                pid: 42,
                env: BTreeMap::new(),
            },
            span: assessment.span.clone(),
            assessment,
            command,
            session_id: "20261121T112742Z-a1b2c3".into(),
            received: SystemTime::UNIX_EPOCH,
        }
    }

    fn key(c: char) -> KeyEvent {
        KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)
    }

    fn code(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    /// Feeds `keys` to a modal holding one request of `tier`; returns the first answer (if any).
    fn check(tier: Tier, keys: &[KeyEvent]) -> Option<HumanAnswer> {
        let mut modal = ConfirmModal::new();
        modal.push(held(7, tier));
        for k in keys {
            if let ModalOutcome::Answer { id, answer } = modal.handle_key(*k) {
                assert_eq!(id, 7);
                return Some(answer);
            }
        }
        None
    }

    fn typed(s: &str) -> Vec<KeyEvent> {
        s.chars().map(key).collect()
    }

    #[test]
    fn key_table() {
        let allow_once = Some(HumanAnswer::AllowOnce);
        let session = Some(HumanAnswer::AllowSession);
        let deny = Some(HumanAnswer::Deny);
        let cases: Vec<(&str, Tier, Vec<KeyEvent>, Option<HumanAnswer>)> = vec![
            ("staging y", Tier::Staging, vec![key('y')], allow_once),
            ("staging a", Tier::Staging, vec![key('a')], session),
            ("staging n", Tier::Staging, vec![key('n')], deny),
            (
                "enter is the default: deny",
                Tier::Staging,
                vec![code(KeyCode::Enter)],
                deny,
            ),
            ("esc denies", Tier::Staging, vec![code(KeyCode::Esc)], deny),
            (
                "e only explains",
                Tier::Staging,
                vec![key('e'), key('e')],
                None,
            ),
            (
                "other keys do nothing",
                Tier::Unknown,
                vec![key('x'), key('Y')],
                None,
            ),
            (
                "prod: y alone is text",
                Tier::Production,
                vec![key('y')],
                None,
            ),
            (
                "prod: a alone is text",
                Tier::Production,
                vec![key('a')],
                None,
            ),
            (
                "prod: name then y",
                Tier::Production,
                [typed("shop-prod"), vec![key('y')]].concat(),
                allow_once,
            ),
            (
                "prod: name then a",
                Tier::Production,
                [typed("shop-prod"), vec![key('a')]].concat(),
                session,
            ),
            (
                "prod: case matters",
                Tier::Production,
                [typed("Shop-prod"), vec![key('y'), code(KeyCode::Enter)]].concat(),
                None,
            ),
            (
                "prod: prefix is not enough",
                Tier::Production,
                [typed("shop-pro"), vec![key('y')]].concat(),
                None,
            ),
            (
                "prod: typo fixed with backspace",
                Tier::Production,
                [
                    typed("shop-prox"),
                    vec![code(KeyCode::Backspace)],
                    typed("d"),
                    vec![key('y')],
                ]
                .concat(),
                allow_once,
            ),
            (
                "prod: esc denies",
                Tier::Production,
                typed("sh")
                    .into_iter()
                    .chain([code(KeyCode::Esc)])
                    .collect(),
                deny,
            ),
            (
                "prod: name then n denies",
                Tier::Production,
                [typed("shop-prod"), vec![key('n')]].concat(),
                deny,
            ),
            (
                "prod: ctrl keys are not text",
                Tier::Production,
                [
                    vec![KeyEvent::new(KeyCode::Char('s'), KeyModifiers::CONTROL)],
                    typed("shop-prod"),
                    vec![key('y')],
                ]
                .concat(),
                allow_once,
            ),
        ];
        for (name, tier, keys, expected) in cases {
            assert_eq!(check(tier, &keys), expected, "{name}");
        }
    }

    #[test]
    fn queue_advances_and_withdrawals_drop_out() {
        let mut modal = ConfirmModal::new();
        assert_eq!(modal.handle_key(key('y')), ModalOutcome::NotOpen);
        assert!(!modal.needs_attention());
        modal.push(held(1, Tier::Staging));
        modal.push(held(2, Tier::Production));
        modal.push(held(2, Tier::Production));
        modal.push(held(3, Tier::Staging));
        assert!(modal.needs_attention());
        assert_eq!(modal.queued_behind(), 2);
        assert_eq!(
            modal.handle_key(key('y')),
            ModalOutcome::Answer {
                id: 1,
                answer: HumanAnswer::AllowOnce
            }
        );
        // Request 2 is production: input starts empty.
        assert_eq!(modal.required_name(), Some("shop-prod"));
        assert_eq!(modal.typed(), "");
        modal.handle_key(key('s'));
        modal.withdraw(2);
        assert_eq!(modal.current().map(|v| v.id), Some(3));
        assert_eq!(modal.typed(), "");
        assert_eq!(
            modal.handle_key(key('n')),
            ModalOutcome::Answer {
                id: 3,
                answer: HumanAnswer::Deny
            }
        );
        assert!(!modal.needs_attention());
    }

    fn draw(modal: &ConfirmModal) -> ratatui::Terminal<ratatui::backend::TestBackend> {
        let mut terminal =
            ratatui::Terminal::new(ratatui::backend::TestBackend::new(90, 24)).unwrap();
        terminal
            .draw(|f| render(modal, f.area(), f.buffer_mut()))
            .unwrap();
        terminal
    }

    #[test]
    fn renders_production_hold_with_name_input() {
        let mut modal = ConfirmModal::new();
        modal.push(held(1, Tier::Production));
        modal.push(held(2, Tier::Staging));
        for k in typed("shop") {
            modal.handle_key(k);
        }
        let terminal = draw(&modal);
        insta::assert_snapshot!(terminal.backend());
        // The matched part is highlighted, the rest of the command is not.
        let buf = terminal.backend().buffer();
        let row = (0..buf.area.height)
            .find(|&y| {
                (0..buf.area.width)
                    .map(|x| buf[(x, y)].symbol())
                    .collect::<String>()
                    .contains("DROP TABLE")
            })
            .unwrap();
        let line: String = (0..buf.area.width)
            .map(|x| buf[(x, row)].symbol())
            .collect();
        let drop_x = line.find("DROP").unwrap() as u16;
        let psql_x = line.find("psql").unwrap() as u16;
        let underlined = |x: u16| buf[(x, row)].modifier.contains(Modifier::UNDERLINED);
        assert!(underlined(drop_x));
        assert!(!underlined(psql_x));
    }

    #[test]
    fn renders_explanation_when_asked() {
        let mut modal = ConfirmModal::new();
        modal.push(held(1, Tier::Staging));
        modal.handle_key(key('e'));
        insta::assert_snapshot!(draw(&modal).backend());
    }
}
