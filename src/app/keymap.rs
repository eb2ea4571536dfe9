//! The keymap: modal input as data, `(mode, key) → action`.
//!
//! Owns the table of overwatch's own bindings, the prefix key, and each mode's fallback for keys
//! the table does not bind. The help bar and the help overlay are generated from this table, so a
//! binding that is not listed here can neither be pressed nor shown.
//!
//! **Invariant:** in [`Mode::Passthrough`] every key except the prefix key reaches the agent; the
//! prefix key never does (pressing it twice sends it once, as an explicit [`Action::SendPrefixKey`]).

use std::fmt;

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use thiserror::Error;

use super::action::{Action, Scroll, Tab};

/// Which keymap is active. Derived from the model ([`super::model::Model::mode`]): the top overlay
/// first, then a pending prefix, then scrollback, then the focused area.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mode {
    /// Keys go to the agent.
    Passthrough,
    /// The prefix key was pressed; the next key is an overwatch command.
    Prefix,
    /// The agent pane shows scrollback history; paging keys scroll, other keys return to live.
    Scrollback,
    /// The side panel has focus.
    SidePanel,
    /// The help overlay is on top.
    Help,
    /// A yes/no confirmation overlay is on top.
    Confirm,
    /// The agent has exited and overwatch waits for any key.
    Exited,
}

/// What a mode does with a key its table does not bind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fallback {
    /// Encode it for the agent.
    Forward,
    /// Leave scrollback, then encode it for the agent (typing returns to the live screen).
    LeaveScrollbackAndForward,
    /// Abandon the pending prefix; the key is dropped.
    CancelPrefix,
    /// Drop it.
    Ignore,
    /// Give it to the side panel's current tab.
    TabKey,
    /// Any key quits (after the agent exited).
    Quit,
}

impl Mode {
    fn fallback(self) -> Fallback {
        match self {
            Mode::Passthrough => Fallback::Forward,
            Mode::Prefix => Fallback::CancelPrefix,
            Mode::Scrollback => Fallback::LeaveScrollbackAndForward,
            Mode::SidePanel => Fallback::TabKey,
            Mode::Help | Mode::Confirm => Fallback::Ignore,
            Mode::Exited => Fallback::Quit,
        }
    }

    /// Whether the prefix key enters the prefix keymap in this mode (overlays own all keys).
    fn honours_prefix(self) -> bool {
        matches!(self, Mode::Passthrough | Mode::Scrollback | Mode::SidePanel)
    }
}

/// A key as written in the CLI and config: `ctrl-]`, `ctrl-b`, `alt-x`, `f12`, `pgup`, `tab`, `?`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeySpec {
    pub code: KeyCode,
    pub modifiers: KeyModifiers,
}

/// Why a key name could not be parsed.
#[derive(Debug, Error, PartialEq, Eq)]
#[error("unknown key {given:?}: expected e.g. ctrl-], ctrl-b, alt-x, f12, pgup, tab")]
pub struct KeySpecError {
    given: String,
}

impl KeySpec {
    /// A key with no modifiers.
    pub const fn plain(code: KeyCode) -> Self {
        KeySpec {
            code,
            modifiers: KeyModifiers::NONE,
        }
    }

    /// A `Ctrl-<c>` key.
    pub const fn ctrl(c: char) -> Self {
        KeySpec {
            code: KeyCode::Char(c),
            modifiers: KeyModifiers::CONTROL,
        }
    }

    /// Parses `ctrl-]`, `c-a`, `alt-x`, `m-x`, `shift-tab`, `f1`…`f24`, `pgup`, `esc`, or a single
    /// character. Case-insensitive for names; a `ctrl-` letter is stored lowercase.
    pub fn parse(text: &str) -> Result<Self, KeySpecError> {
        let err = || KeySpecError {
            given: text.to_string(),
        };
        let mut modifiers = KeyModifiers::NONE;
        let mut rest = text.trim();
        loop {
            let lower = rest.to_ascii_lowercase();
            let stripped = ["ctrl-", "c-", "control-"]
                .iter()
                .find(|p| lower.starts_with(*p) && rest.len() > p.len())
                .map(|p| (KeyModifiers::CONTROL, p.len()))
                .or_else(|| {
                    ["alt-", "m-", "meta-"]
                        .iter()
                        .find(|p| lower.starts_with(*p) && rest.len() > p.len())
                        .map(|p| (KeyModifiers::ALT, p.len()))
                })
                .or_else(|| {
                    (lower.starts_with("shift-") && rest.len() > 6)
                        .then_some((KeyModifiers::SHIFT, 6))
                });
            match stripped {
                Some((m, len)) => {
                    modifiers |= m;
                    rest = &rest[len..];
                }
                None => break,
            }
        }
        let lower = rest.to_ascii_lowercase();
        let code = match lower.as_str() {
            "tab" => KeyCode::Tab,
            "esc" | "escape" => KeyCode::Esc,
            "enter" | "return" => KeyCode::Enter,
            "space" => KeyCode::Char(' '),
            "backspace" => KeyCode::Backspace,
            "pgup" | "pageup" => KeyCode::PageUp,
            "pgdn" | "pagedown" => KeyCode::PageDown,
            "home" => KeyCode::Home,
            "end" => KeyCode::End,
            "up" => KeyCode::Up,
            "down" => KeyCode::Down,
            "left" => KeyCode::Left,
            "right" => KeyCode::Right,
            f if f.len() > 1 && f.starts_with('f') => {
                let n: u8 = f[1..].parse().map_err(|_| err())?;
                if !(1..=24).contains(&n) {
                    return Err(err());
                }
                KeyCode::F(n)
            }
            _ => {
                let mut chars = rest.chars();
                match (chars.next(), chars.next()) {
                    (Some(c), None) if modifiers.contains(KeyModifiers::CONTROL) => {
                        KeyCode::Char(c.to_ascii_lowercase())
                    }
                    (Some(c), None) => KeyCode::Char(c),
                    _ => return Err(err()),
                }
            }
        };
        if code == KeyCode::Tab && modifiers == KeyModifiers::SHIFT {
            return Ok(KeySpec::plain(KeyCode::BackTab));
        }
        Ok(KeySpec { code, modifiers })
    }

    /// Whether a (normalized, see [`normalize_key`]) key event is this key. `Shift` is ignored for
    /// characters because the character already carries it (`?` arrives as Shift-`?`).
    pub fn matches(&self, key: &KeyEvent) -> bool {
        let mut mods = key.modifiers;
        let mut want = self.modifiers;
        if matches!(key.code, KeyCode::Char(_)) {
            mods.remove(KeyModifiers::SHIFT);
            want.remove(KeyModifiers::SHIFT);
        }
        key.code == self.code && mods == want
    }

    /// The key as an event, for encoding it to the agent.
    pub fn to_event(self) -> KeyEvent {
        KeyEvent::new(self.code, self.modifiers)
    }
}

impl fmt::Display for KeySpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.modifiers.contains(KeyModifiers::CONTROL) {
            f.write_str("Ctrl-")?;
        }
        if self.modifiers.contains(KeyModifiers::ALT) {
            f.write_str("Alt-")?;
        }
        if self.modifiers.contains(KeyModifiers::SHIFT) {
            f.write_str("Shift-")?;
        }
        match self.code {
            KeyCode::Char(' ') => f.write_str("Space"),
            KeyCode::Char(c) => write!(f, "{c}"),
            KeyCode::F(n) => write!(f, "F{n}"),
            KeyCode::Tab => f.write_str("Tab"),
            KeyCode::BackTab => f.write_str("Shift-Tab"),
            KeyCode::Esc => f.write_str("Esc"),
            KeyCode::Enter => f.write_str("Enter"),
            KeyCode::Backspace => f.write_str("Backspace"),
            KeyCode::PageUp => f.write_str("PgUp"),
            KeyCode::PageDown => f.write_str("PgDn"),
            KeyCode::Home => f.write_str("Home"),
            KeyCode::End => f.write_str("End"),
            KeyCode::Up => f.write_str("↑"),
            KeyCode::Down => f.write_str("↓"),
            KeyCode::Left => f.write_str("←"),
            KeyCode::Right => f.write_str("→"),
            other => write!(f, "{other:?}"),
        }
    }
}

/// Undoes crossterm's legacy decoding of the C0 bytes 0x1C–0x1F, which it reports as
/// `Ctrl-4`…`Ctrl-7` although every terminal sends them for `Ctrl-\`, `Ctrl-]`, `Ctrl-^`, `Ctrl-_`
/// (crossterm 0.29 `parse_event`). Without this the default prefix `Ctrl-]` would never match, and
/// the agent would be sent `Ctrl-5`. Only call it when the outer terminal is not in the kitty
/// keyboard protocol (there `Ctrl-5` really is `Ctrl-5`).
pub fn normalize_key(mut key: KeyEvent) -> KeyEvent {
    if key.modifiers == KeyModifiers::CONTROL
        && let KeyCode::Char(c @ '4'..='7') = key.code
    {
        key.code = KeyCode::Char(match c {
            '4' => '\\',
            '5' => ']',
            '6' => '^',
            _ => '_',
        });
    }
    key
}

/// One entry of the table: in `mode`, `key` means `action`. `label` is what the help bar and the
/// help overlay print next to the key.
#[derive(Debug, Clone, PartialEq)]
pub struct Binding {
    pub mode: Mode,
    pub key: KeySpec,
    pub action: Action,
    pub label: &'static str,
    /// Shown in the help bar (the overlay lists every binding).
    pub in_help_bar: bool,
}

/// Whether a binding appears in the help bar (the help overlay lists all of them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shown {
    HelpBar,
    OverlayOnly,
}

/// The built-in bindings: `(mode, key, action, label, shown)`, in the order the help prints them.
/// Keys are [`KeySpec::parse`] names.
#[rustfmt::skip] // a table reads better aligned
const BUILTIN: &[(Mode, &str, Action, &str, Shown)] = {
    use Action as A;
    use Mode::{Confirm, Help, Prefix, Scrollback, SidePanel};
    use Shown::{HelpBar as Bar, OverlayOnly as Hidden};
    &[
        (Prefix,      "?",      A::ToggleHelp,                "help",           Bar),
        (Prefix,      "tab",    A::FocusNext,                 "side panel",     Bar),
        (Prefix,      "c",      A::ShowTab(Tab::Context),     "context",        Bar),
        (Prefix,      "a",      A::ShowTab(Tab::Activity),    "activity",       Bar),
        (Prefix,      "d",      A::ShowTab(Tab::Diff),        "diff",           Bar),
        (Prefix,      "p",      A::TogglePause,               "pause",          Bar),
        (Prefix,      "k",      A::AskKill,                   "kill",           Bar),
        (Prefix,      "q",      A::AskQuit,                   "quit",           Bar),
        (Prefix,      "pgup",   A::Scroll(Scroll::PageUp),    "scroll back",    Bar),
        (Prefix,      "pgdn",   A::Scroll(Scroll::PageDown),  "scroll forward", Hidden),
        (Prefix,      "esc",    A::LeavePrefix,               "cancel",         Hidden),
        (Scrollback,  "pgup",   A::Scroll(Scroll::PageUp),    "page up",        Bar),
        (Scrollback,  "pgdn",   A::Scroll(Scroll::PageDown),  "page down",      Bar),
        (Scrollback,  "up",     A::Scroll(Scroll::LineUp),    "line up",        Bar),
        (Scrollback,  "down",   A::Scroll(Scroll::LineDown),  "line down",      Bar),
        (Scrollback,  "home",   A::Scroll(Scroll::Top),       "oldest",         Hidden),
        (Scrollback,  "esc",    A::Scroll(Scroll::Live),      "back to live",   Bar),
        (Scrollback,  "q",      A::Scroll(Scroll::Live),      "back to live",   Hidden),
        (Scrollback,  "end",    A::Scroll(Scroll::Live),      "back to live",   Hidden),
        (SidePanel,   "tab",    A::FocusNext,                 "focus agent",    Bar),
        (SidePanel,   "esc",    A::FocusNext,                 "focus agent",    Hidden),
        (SidePanel,   "left",   A::CycleTab(-1),              "previous tab",   Bar),
        (SidePanel,   "right",  A::CycleTab(1),               "next tab",       Bar),
        (SidePanel,   "c",      A::ShowTab(Tab::Context),     "context",        Hidden),
        (SidePanel,   "a",      A::ShowTab(Tab::Activity),    "activity",       Hidden),
        (SidePanel,   "d",      A::ShowTab(Tab::Diff),        "diff",           Hidden),
        (SidePanel,   "?",      A::ToggleHelp,                "help",           Bar),
        (Help,        "esc",    A::CloseOverlay,              "close",          Bar),
        (Help,        "?",      A::CloseOverlay,              "close",          Hidden),
        (Help,        "q",      A::CloseOverlay,              "close",          Hidden),
        (Confirm,     "y",      A::Confirm,                   "yes",            Bar),
        (Confirm,     "enter",  A::Confirm,                   "yes",            Hidden),
        (Confirm,     "n",      A::CloseOverlay,              "no",             Bar),
        (Confirm,     "esc",    A::CloseOverlay,              "no",             Hidden),
    ]
};

/// The complete keymap: the prefix key and the bindings of every mode.
#[derive(Debug, Clone)]
pub struct Keymap {
    prefix: KeySpec,
    bindings: Vec<Binding>,
}

impl Keymap {
    /// The built-in keymap (`BUILTIN`) with the given prefix key (default `Ctrl-]`, see
    /// `overwatch run --help`).
    pub fn new(prefix: KeySpec) -> Self {
        let bindings = BUILTIN
            .iter()
            .filter_map(|(mode, key, action, label, shown)| {
                // Every built-in name parses (unit test `every_builtin_key_parses`).
                let key = KeySpec::parse(key).ok()?;
                Some(Binding {
                    mode: *mode,
                    key,
                    action: action.clone(),
                    label,
                    in_help_bar: *shown == Shown::HelpBar,
                })
            })
            .collect();
        Keymap { prefix, bindings }
    }

    /// The prefix key.
    pub fn prefix(&self) -> KeySpec {
        self.prefix
    }

    /// The bindings of one mode, in table order.
    pub fn bindings(&self, mode: Mode) -> impl Iterator<Item = &Binding> {
        self.bindings.iter().filter(move |b| b.mode == mode)
    }

    /// The bindings of one mode with the same action merged into one entry, keys joined by `/`
    /// (`PgUp/PgDn`-style pairs stay separate because their actions differ): `(keys, label,
    /// in_help_bar)`, in table order. This is what the help bar and the help overlay print.
    pub fn grouped(&self, mode: Mode) -> Vec<(String, &'static str, bool)> {
        let mut groups: Vec<(String, &'static str, bool, &Action)> = Vec::new();
        for b in self.bindings(mode) {
            match groups.iter_mut().find(|g| g.3 == &b.action) {
                Some(group) => {
                    group.0.push('/');
                    group.0.push_str(&b.key.to_string());
                    group.2 |= b.in_help_bar;
                }
                None => groups.push((b.key.to_string(), b.label, b.in_help_bar, &b.action)),
            }
        }
        groups.into_iter().map(|(k, l, h, _)| (k, l, h)).collect()
    }

    /// What a key press means in `mode`. Release events (kitty protocol) resolve to
    /// [`Action::Ignore`]; the key should already be [`normalize_key`]-ed.
    pub fn resolve(&self, mode: Mode, key: &KeyEvent) -> Action {
        if key.kind == KeyEventKind::Release {
            return Action::Ignore;
        }
        if mode == Mode::Prefix && self.prefix.matches(key) {
            return Action::SendPrefixKey;
        }
        if mode.honours_prefix() && self.prefix.matches(key) {
            return Action::EnterPrefix;
        }
        if let Some(binding) = self.bindings(mode).find(|b| b.key.matches(key)) {
            return binding.action.clone();
        }
        match mode.fallback() {
            Fallback::Forward => Action::ForwardKey(*key),
            Fallback::LeaveScrollbackAndForward => Action::LeaveScrollbackAndForward(*key),
            Fallback::CancelPrefix => Action::LeavePrefix,
            Fallback::Ignore => Action::Ignore,
            Fallback::TabKey => Action::TabKey(*key),
            Fallback::Quit => Action::Quit,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_key_names() {
        let cases = [
            ("ctrl-]", KeySpec::ctrl(']')),
            ("C-b", KeySpec::ctrl('b')),
            ("ctrl-A", KeySpec::ctrl('a')),
            ("f12", KeySpec::plain(KeyCode::F(12))),
            ("pgup", KeySpec::plain(KeyCode::PageUp)),
            ("shift-tab", KeySpec::plain(KeyCode::BackTab)),
            (
                "alt-x",
                KeySpec {
                    code: KeyCode::Char('x'),
                    modifiers: KeyModifiers::ALT,
                },
            ),
            ("?", KeySpec::plain(KeyCode::Char('?'))),
        ];
        for (text, want) in cases {
            assert_eq!(KeySpec::parse(text), Ok(want), "{text}");
        }
        for bad in ["", "ctrl-", "f99", "hyper-x", "ctrl-ab"] {
            assert!(KeySpec::parse(bad).is_err(), "{bad:?} should not parse");
        }
    }

    #[test]
    fn every_builtin_key_parses() {
        let keymap = Keymap::new(KeySpec::ctrl(']'));
        assert_eq!(keymap.bindings.len(), BUILTIN.len());
    }

    #[test]
    fn legacy_ctrl_bracket_is_the_default_prefix() {
        // What crossterm reports when a legacy terminal sends 0x1d.
        let legacy = KeyEvent::new(KeyCode::Char('5'), KeyModifiers::CONTROL);
        assert!(KeySpec::ctrl(']').matches(&normalize_key(legacy)));
        assert_eq!(KeySpec::ctrl(']').to_string(), "Ctrl-]");
    }

    #[test]
    fn prefix_then_prefix_sends_it_and_unbound_keys_cancel() {
        let keymap = Keymap::new(KeySpec::ctrl(']'));
        let prefix = KeySpec::ctrl(']').to_event();
        let x = KeyEvent::new(KeyCode::Char('x'), KeyModifiers::NONE);
        let table = [
            (Mode::Passthrough, prefix, Action::EnterPrefix),
            (Mode::Prefix, prefix, Action::SendPrefixKey),
            (Mode::Passthrough, x, Action::ForwardKey(x)),
            (Mode::Prefix, x, Action::LeavePrefix),
            (Mode::Help, prefix, Action::Ignore),
            (Mode::Exited, x, Action::Quit),
            (Mode::Scrollback, x, Action::LeaveScrollbackAndForward(x)),
        ];
        for (mode, key, want) in table {
            assert_eq!(keymap.resolve(mode, &key), want, "{mode:?} {key:?}");
        }
    }
}
