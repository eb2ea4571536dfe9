//! Table tests of the input encoders: (modes, event, expected bytes), as xterm and kitty send them.

use crossterm::event::{
    KeyCode, KeyEvent, KeyEventKind, KeyModifiers as M, MouseButton, MouseEvent, MouseEventKind,
};

use super::modes::{InputModes, KittyFlags, MouseEncoding, MouseMode};
use super::{encode_alternate_scroll, encode_focus, encode_key, encode_mouse, encode_paste};

fn key(code: KeyCode, mods: M) -> KeyEvent {
    KeyEvent::new(code, mods)
}

fn legacy() -> InputModes {
    InputModes::default()
}

fn app_cursor() -> InputModes {
    InputModes {
        app_cursor: true,
        ..Default::default()
    }
}

fn kitty(flags: u8) -> InputModes {
    InputModes {
        kitty: KittyFlags(flags),
        ..Default::default()
    }
}

#[test]
fn keys_encode_as_xterm_and_kitty_send_them() {
    use KeyCode::*;
    let cases: &[(&str, InputModes, KeyEvent, &[u8])] = &[
        ("letter", legacy(), key(Char('a'), M::NONE), b"a"),
        (
            "shifted letter arrives as its char",
            legacy(),
            key(Char('A'), M::SHIFT),
            b"A",
        ),
        ("utf-8", legacy(), key(Char('é'), M::NONE), "é".as_bytes()),
        ("ctrl-c", legacy(), key(Char('c'), M::CONTROL), b"\x03"),
        (
            "ctrl-shift-c",
            legacy(),
            key(Char('C'), M::CONTROL | M::SHIFT),
            b"\x03",
        ),
        ("ctrl-space", legacy(), key(Char(' '), M::CONTROL), b"\x00"),
        ("ctrl-[", legacy(), key(Char('['), M::CONTROL), b"\x1b"),
        ("ctrl-/", legacy(), key(Char('/'), M::CONTROL), b"\x1f"),
        ("alt-x", legacy(), key(Char('x'), M::ALT), b"\x1bx"),
        (
            "ctrl-alt-c",
            legacy(),
            key(Char('c'), M::ALT | M::CONTROL),
            b"\x1b\x03",
        ),
        ("enter", legacy(), key(Enter, M::NONE), b"\r"),
        (
            "shift-enter legacy is enter",
            legacy(),
            key(Enter, M::SHIFT),
            b"\r",
        ),
        ("alt-enter", legacy(), key(Enter, M::ALT), b"\x1b\r"),
        ("tab", legacy(), key(Tab, M::NONE), b"\t"),
        ("backtab", legacy(), key(BackTab, M::SHIFT), b"\x1b[Z"),
        ("backspace", legacy(), key(Backspace, M::NONE), b"\x7f"),
        (
            "ctrl-backspace",
            legacy(),
            key(Backspace, M::CONTROL),
            b"\x08",
        ),
        (
            "alt-backspace",
            legacy(),
            key(Backspace, M::ALT),
            b"\x1b\x7f",
        ),
        ("esc", legacy(), key(Esc, M::NONE), b"\x1b"),
        ("up", legacy(), key(Up, M::NONE), b"\x1b[A"),
        ("up DECCKM", app_cursor(), key(Up, M::NONE), b"\x1bOA"),
        ("left DECCKM", app_cursor(), key(Left, M::NONE), b"\x1bOD"),
        ("home", legacy(), key(Home, M::NONE), b"\x1b[H"),
        ("end DECCKM", app_cursor(), key(End, M::NONE), b"\x1bOF"),
        ("ctrl-right", legacy(), key(Right, M::CONTROL), b"\x1b[1;5C"),
        (
            "ctrl-right ignores DECCKM",
            app_cursor(),
            key(Right, M::CONTROL),
            b"\x1b[1;5C",
        ),
        (
            "shift-alt-down",
            legacy(),
            key(Down, M::SHIFT | M::ALT),
            b"\x1b[1;4B",
        ),
        ("insert", legacy(), key(Insert, M::NONE), b"\x1b[2~"),
        ("delete", legacy(), key(Delete, M::NONE), b"\x1b[3~"),
        (
            "shift-delete",
            legacy(),
            key(Delete, M::SHIFT),
            b"\x1b[3;2~",
        ),
        ("page up", legacy(), key(PageUp, M::NONE), b"\x1b[5~"),
        ("page down", legacy(), key(PageDown, M::NONE), b"\x1b[6~"),
        ("F1", legacy(), key(F(1), M::NONE), b"\x1bOP"),
        ("F4", legacy(), key(F(4), M::NONE), b"\x1bOS"),
        ("shift-F1", legacy(), key(F(1), M::SHIFT), b"\x1b[1;2P"),
        ("F5", legacy(), key(F(5), M::NONE), b"\x1b[15~"),
        ("F10", legacy(), key(F(10), M::NONE), b"\x1b[21~"),
        ("F12", legacy(), key(F(12), M::NONE), b"\x1b[24~"),
        ("ctrl-F12", legacy(), key(F(12), M::CONTROL), b"\x1b[24;5~"),
        // Kitty keyboard protocol, flag 1 (disambiguate), as Claude Code and Codex push.
        ("kitty enter", kitty(1), key(Enter, M::NONE), b"\r"),
        (
            "kitty shift-enter",
            kitty(1),
            key(Enter, M::SHIFT),
            b"\x1b[13;2u",
        ),
        (
            "kitty ctrl-enter",
            kitty(1),
            key(Enter, M::CONTROL),
            b"\x1b[13;5u",
        ),
        ("kitty esc", kitty(1), key(Esc, M::NONE), b"\x1b[27u"),
        (
            "kitty ctrl-c",
            kitty(1),
            key(Char('c'), M::CONTROL),
            b"\x1b[99;5u",
        ),
        (
            "kitty alt-x",
            kitty(1),
            key(Char('x'), M::ALT),
            b"\x1b[120;3u",
        ),
        (
            "kitty text stays text",
            kitty(1),
            key(Char('a'), M::NONE),
            b"a",
        ),
        (
            "kitty shifted text stays text",
            kitty(1),
            key(Char('A'), M::SHIFT),
            b"A",
        ),
        ("kitty tab", kitty(1), key(Tab, M::NONE), b"\t"),
        (
            "kitty shift-tab",
            kitty(1),
            key(BackTab, M::SHIFT),
            b"\x1b[9;2u",
        ),
        (
            "kitty ctrl-backspace",
            kitty(1),
            key(Backspace, M::CONTROL),
            b"\x1b[127;5u",
        ),
        ("kitty up", kitty(1), key(Up, M::NONE), b"\x1b[A"),
        ("kitty ctrl-up", kitty(1), key(Up, M::CONTROL), b"\x1b[1;5A"),
        (
            "kitty F3 is CSI 13~",
            kitty(1),
            key(F(3), M::NONE),
            b"\x1b[13~",
        ),
        ("kitty delete", kitty(1), key(Delete, M::NONE), b"\x1b[3~"),
        // Codex pushes 7 = disambiguate | event types | alternate keys.
        (
            "kitty 7 ctrl-shift-a",
            kitty(7),
            key(Char('A'), M::CONTROL | M::SHIFT),
            b"\x1b[97:65;6u",
        ),
        (
            "kitty 7 shift-enter",
            kitty(7),
            key(Enter, M::SHIFT),
            b"\x1b[13;2u",
        ),
        // Flag 8: every key as an escape code.
        (
            "kitty 8 letter",
            kitty(9),
            key(Char('a'), M::NONE),
            b"\x1b[97u",
        ),
        ("kitty 8 enter", kitty(9), key(Enter, M::NONE), b"\x1b[13u"),
        (
            "bare modifier",
            legacy(),
            key(KeyCode::CapsLock, M::NONE),
            b"",
        ),
    ];
    for (name, modes, ev, expected) in cases {
        assert_eq!(
            String::from_utf8_lossy(&encode_key(ev, modes)),
            String::from_utf8_lossy(expected),
            "{name}"
        );
    }
}

#[test]
fn key_releases_are_sent_only_when_the_agent_asked_for_event_types() {
    let mut release = key(KeyCode::Char('c'), M::CONTROL);
    release.kind = KeyEventKind::Release;
    assert!(encode_key(&release, &legacy()).is_empty());
    assert!(encode_key(&release, &kitty(1)).is_empty());
    assert_eq!(encode_key(&release, &kitty(3)), b"\x1b[99;5:3u");
    let mut text_release = key(KeyCode::Char('a'), M::NONE);
    text_release.kind = KeyEventKind::Release;
    assert!(encode_key(&text_release, &kitty(3)).is_empty());
    let mut repeat = key(KeyCode::Up, M::NONE);
    repeat.kind = KeyEventKind::Repeat;
    assert_eq!(encode_key(&repeat, &kitty(3)), b"\x1b[1;1:2A");
}

#[test]
fn pastes_are_bracketed_when_2004_is_on_and_cannot_end_the_bracket_early() {
    let on = InputModes {
        bracketed_paste: true,
        ..Default::default()
    };
    assert_eq!(
        encode_paste("ls\nrm -rf /", &on),
        b"\x1b[200~ls\nrm -rf /\x1b[201~"
    );
    assert_eq!(
        encode_paste("a\x1b[201~rm -rf ~\n", &on),
        b"\x1b[200~arm -rf ~\n\x1b[201~",
        "an embedded end marker is removed"
    );
    assert_eq!(
        encode_paste("one\r\ntwo\nthree", &legacy()),
        b"one\rtwo\rthree"
    );
}

#[test]
fn focus_reports_only_with_1004() {
    let on = InputModes {
        focus_events: true,
        ..Default::default()
    };
    assert_eq!(encode_focus(true, &on), Some(b"\x1b[I".to_vec()));
    assert_eq!(encode_focus(false, &on), Some(b"\x1b[O".to_vec()));
    assert_eq!(encode_focus(true, &legacy()), None);
}

fn mouse(kind: MouseEventKind, column: u16, row: u16, modifiers: M) -> MouseEvent {
    MouseEvent {
        kind,
        column,
        row,
        modifiers,
    }
}

fn mouse_modes(mouse: MouseMode, mouse_encoding: MouseEncoding) -> InputModes {
    InputModes {
        mouse,
        mouse_encoding,
        ..Default::default()
    }
}

#[test]
fn mouse_events_encode_relative_to_the_pane_in_the_agents_encoding() {
    use MouseEventKind::*;
    let left = MouseButton::Left;
    let sgr_click = mouse_modes(MouseMode::Click, MouseEncoding::Sgr);
    let sgr_drag = mouse_modes(MouseMode::Drag, MouseEncoding::Sgr);
    let sgr_motion = mouse_modes(MouseMode::Motion, MouseEncoding::Sgr);
    let x10 = mouse_modes(MouseMode::Click, MouseEncoding::X10);
    let utf8 = mouse_modes(MouseMode::Click, MouseEncoding::Utf8);
    let origin = (10, 5);
    let cases: &[(&str, InputModes, MouseEvent, Option<&[u8]>)] = &[
        ("off", legacy(), mouse(Down(left), 10, 5, M::NONE), None),
        (
            "sgr press at pane origin",
            sgr_click,
            mouse(Down(left), 10, 5, M::NONE),
            Some(b"\x1b[<0;1;1M"),
        ),
        (
            "sgr release",
            sgr_click,
            mouse(Up(MouseButton::Right), 12, 7, M::NONE),
            Some(b"\x1b[<2;3;3m"),
        ),
        (
            "sgr ctrl-press",
            sgr_click,
            mouse(Down(left), 11, 5, M::CONTROL),
            Some(b"\x1b[<16;2;1M"),
        ),
        (
            "sgr wheel up",
            sgr_click,
            mouse(ScrollUp, 10, 5, M::NONE),
            Some(b"\x1b[<64;1;1M"),
        ),
        (
            "sgr wheel down",
            sgr_click,
            mouse(ScrollDown, 10, 5, M::NONE),
            Some(b"\x1b[<65;1;1M"),
        ),
        (
            "drag needs 1002",
            sgr_click,
            mouse(Drag(left), 10, 5, M::NONE),
            None,
        ),
        (
            "sgr drag",
            sgr_drag,
            mouse(Drag(left), 14, 5, M::NONE),
            Some(b"\x1b[<32;5;1M"),
        ),
        (
            "motion needs 1003",
            sgr_drag,
            mouse(Moved, 10, 5, M::NONE),
            None,
        ),
        (
            "sgr motion",
            sgr_motion,
            mouse(Moved, 10, 6, M::NONE),
            Some(b"\x1b[<35;1;2M"),
        ),
        (
            "left of the pane",
            sgr_click,
            mouse(Down(left), 9, 5, M::NONE),
            None,
        ),
        (
            "x10 press",
            x10,
            mouse(Down(left), 10, 5, M::NONE),
            Some(b"\x1b[M !!"),
        ),
        (
            "x10 release is button 3",
            x10,
            mouse(Up(left), 10, 5, M::NONE),
            Some(b"\x1b[M#!!"),
        ),
        (
            "x10 cannot encode column 300",
            x10,
            mouse(Down(left), 310, 5, M::NONE),
            None,
        ),
        (
            "utf-8 column 300",
            utf8,
            mouse(Down(left), 309, 5, M::NONE),
            Some("\x1b[M \u{14c}!".as_bytes()),
        ),
    ];
    for (name, modes, ev, expected) in cases {
        assert_eq!(
            encode_mouse(ev, origin, modes).as_deref(),
            *expected,
            "{name}"
        );
    }
}

#[test]
fn wheel_becomes_arrows_only_on_the_alt_screen_with_1007_and_no_mouse_reporting() {
    let codex = InputModes {
        alt_screen: true,
        alternate_scroll: true,
        ..Default::default()
    };
    let up = mouse(MouseEventKind::ScrollUp, 3, 3, M::NONE);
    let down = mouse(MouseEventKind::ScrollDown, 3, 3, M::NONE);
    assert_eq!(
        encode_alternate_scroll(&up, 3, &codex).as_deref(),
        Some(&b"\x1b[A\x1b[A\x1b[A"[..])
    );
    let deckm = InputModes {
        app_cursor: true,
        ..codex
    };
    assert_eq!(
        encode_alternate_scroll(&down, 1, &deckm).as_deref(),
        Some(&b"\x1bOB"[..])
    );
    let main_screen = InputModes {
        alt_screen: false,
        ..codex
    };
    assert_eq!(encode_alternate_scroll(&up, 3, &main_screen), None);
    let reporting = InputModes {
        mouse: MouseMode::Click,
        ..codex
    };
    assert_eq!(encode_alternate_scroll(&up, 3, &reporting), None);
    let click = mouse(MouseEventKind::Down(MouseButton::Left), 3, 3, M::NONE);
    assert_eq!(encode_alternate_scroll(&click, 3, &codex), None);
}
