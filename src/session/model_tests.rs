//! Tests of `TerminalModel` on recorded agent output and on hand-written sequences.

use super::modes::{KittyFlags, MouseEncoding, MouseMode};
use super::{CursorShape, PaneSize, TerminalModel};

const CLAUDE: &[u8] = include_bytes!("../../tests/fixtures/claude-first-screen.raw");
const CODEX: &[u8] = include_bytes!("../../tests/fixtures/codex-first-screen.raw");

/// The agent's bytes without the `\n` the capture appended after the agent stopped (on Codex's alt
/// screen that LF at the bottom row would scroll the welcome line away).
fn agent_bytes(fixture: &[u8]) -> &[u8] {
    fixture.strip_suffix(b"\n").unwrap_or(fixture)
}

fn model(cols: u16, rows: u16) -> TerminalModel {
    TerminalModel::new(PaneSize { cols, rows }, 1000)
}

fn fed(cols: u16, rows: u16, bytes: &[u8]) -> TerminalModel {
    let mut m = model(cols, rows);
    m.feed(bytes);
    m
}

#[test]
fn claude_first_screen_renders_and_gets_xtversion_before_da1() {
    let mut m = fed(120, 40, agent_bytes(CLAUDE));
    let text = m.screen_text();
    assert!(text.contains("Welcome to Claude Code v2.1.197"), "{text}");
    assert!(
        text.contains("Unable to connect to Anthropic services"),
        "{text}"
    );
    assert!(
        text.contains("https://anthropic.com/supported-countries"),
        "{text}"
    );
    // XTVERSION (ESC[>0q) then DA1 (ESC[c), answered in that order.
    assert_eq!(
        String::from_utf8_lossy(&m.take_replies()),
        "\x1bP>|overwatch(0.1.0)\x1b\\\x1b[?6c"
    );
    assert!(m.take_replies().is_empty(), "replies are drained once");
    // Claude switched everything off again on exit.
    let modes = m.modes();
    assert!(!modes.bracketed_paste && !modes.focus_events && modes.mouse == MouseMode::Off);
}

#[test]
fn codex_first_screen_renders_on_alt_screen_and_gets_exact_replies() {
    let mut m = fed(120, 40, agent_bytes(CODEX));
    let text = m.screen_text();
    assert!(
        text.contains("Welcome to Codex, OpenAI's command-line coding agent"),
        "{text}"
    );
    assert!(text.contains("> 1. Sign in with ChatGPT"), "{text}");
    assert!(text.contains("Press enter to continue"), "{text}");
    // The 170-byte warning wrapped onto rows 1–2, then CR LF: the cursor is at row 3, column 1 when
    // Codex sends DSR 6. Kitty flags 7 were pushed before `CSI ? u`.
    assert_eq!(
        String::from_utf8_lossy(&m.take_replies()),
        "\x1b[?7u\x1b[?6c\x1b[3;1R\x1b]10;rgb:d8d8/d8d8/d8d8\x1b\\\x1b]11;rgb:1818/1818/1818\x1b\\"
    );
    let modes = m.modes();
    assert!(modes.alt_screen);
    assert!(modes.bracketed_paste);
    assert!(modes.focus_events);
    assert_eq!(modes.kitty, KittyFlags(7));
    // Codex turned mouse reporting on and off again; 1007 (alternate scroll) stays on.
    assert_eq!(modes.mouse, MouseMode::Off);
    assert!(modes.alternate_scroll);
    assert!(!m.is_synchronized(), "the last 2026 block was closed");
    assert!(!m.cursor().visible);
}

#[test]
fn every_split_point_of_the_fixtures_gives_the_same_replies_and_screen() {
    for fixture in [CLAUDE, CODEX] {
        let mut whole = fed(120, 40, fixture);
        let (screen, replies) = (whole.screen_text(), whole.take_replies());
        for split in 1..fixture.len() {
            let mut m = model(120, 40);
            m.feed(&fixture[..split]);
            m.feed(&fixture[split..]);
            assert_eq!(m.take_replies(), replies, "split at {split}");
            assert_eq!(m.screen_text(), screen, "split at {split}");
        }
    }
}

#[test]
fn byte_by_byte_feeding_answers_every_query_once() {
    let mut m = model(80, 24);
    for b in b"\x1b[>0q\x1b[?2026$p\x1b[5n\x1b[>q".iter() {
        m.feed(std::slice::from_ref(b));
    }
    assert_eq!(
        String::from_utf8_lossy(&m.take_replies()),
        "\x1bP>|overwatch(0.1.0)\x1b\\\x1b[?2026;2$y\x1b[0n\x1bP>|overwatch(0.1.0)\x1b\\"
    );
}

#[test]
fn decrqm_2026_is_answered_supported_and_reset() {
    let mut m = fed(80, 24, b"\x1b[?2026$p");
    assert_eq!(m.take_replies(), b"\x1b[?2026;2$y");
}

#[test]
fn synchronized_block_holds_the_screen_until_it_ends() {
    let mut m = fed(20, 3, b"before");
    m.feed(b"\x1b[?2026h\x1b[2J\x1b[Hduring");
    assert!(m.is_synchronized());
    assert!(m.sync_deadline().is_some());
    assert_eq!(m.screen_text().lines().next(), Some("before"));
    m.feed(b" more\x1b[?2026l");
    assert!(!m.is_synchronized());
    assert_eq!(m.screen_text().lines().next(), Some("during more"));
}

#[test]
fn expired_synchronized_block_is_flushed() {
    let mut m = fed(20, 3, b"\x1b[?2026hlate");
    assert_eq!(m.screen_text().lines().next(), Some(""));
    let deadline = m.sync_deadline().expect("inside a block");
    assert!(!m.flush_expired_sync(deadline - std::time::Duration::from_millis(1)));
    assert!(m.flush_expired_sync(deadline));
    assert!(!m.is_synchronized());
    assert_eq!(m.screen_text().lines().next(), Some("late"));
}

#[test]
fn xtversion_inside_a_synchronized_block_keeps_reply_order() {
    let mut m = fed(20, 3, b"\x1b[?2026h\x1b[c\x1b[>0q\x1b[5n\x1b[?2026l");
    assert_eq!(
        String::from_utf8_lossy(&m.take_replies()),
        "\x1b[?6c\x1bP>|overwatch(0.1.0)\x1b\\\x1b[0n"
    );
}

#[test]
fn alt_screen_is_entered_and_left_restoring_the_main_screen() {
    let mut m = fed(20, 3, b"main text");
    m.feed(b"\x1b[?1049h\x1b[Halt text");
    assert!(m.modes().alt_screen);
    assert_eq!(m.screen_text().lines().next(), Some("alt text"));
    m.feed(b"\x1b[?1049l");
    assert!(!m.modes().alt_screen);
    assert_eq!(m.screen_text().lines().next(), Some("main text"));
}

#[test]
fn scrollback_is_bounded_and_viewable() {
    let mut m = TerminalModel::new(PaneSize { cols: 10, rows: 3 }, 5);
    for i in 0..20 {
        m.feed(format!("line{i}\r\n").as_bytes());
    }
    assert_eq!(m.history_len(), 5);
    m.scroll_display(100);
    assert_eq!(m.display_offset(), 5);
    assert_eq!(m.screen_text(), "line13\nline14\nline15");
    m.reset_display_scroll();
    assert_eq!(m.display_offset(), 0);
    assert_eq!(m.screen_text(), "line18\nline19\n");
}

#[test]
fn codex_style_history_insertion_with_decstbm_and_ri_reaches_scrollback() {
    // Codex keeps an inline viewport at the bottom and inserts history above it: set a scroll
    // region over the rows above the viewport, reverse-index at its top to push lines down... and
    // when the viewport sits at the bottom, lines scrolled off the top of a region that starts at
    // row 1 go to scrollback.
    let mut m = TerminalModel::new(PaneSize { cols: 20, rows: 5 }, 100);
    m.feed(b"\x1b[4;1Hviewport\x1b[5;1Hstatus");
    for i in 0..6 {
        // Region rows 1–3, cursor to its bottom, newline scrolls the region up, write the line.
        m.feed(format!("\x1b[1;3r\x1b[3;1H\n\x1b[3;1Hhist{i}\x1b[r").as_bytes());
    }
    assert_eq!(m.screen_text(), "hist3\nhist4\nhist5\nviewport\nstatus");
    assert!(m.history_len() >= 3, "history {}", m.history_len());
    m.scroll_display(3);
    assert!(
        m.screen_text().starts_with("hist0\nhist1\nhist2"),
        "{}",
        m.screen_text()
    );
    // RI at the top of a region scrolls it down without touching the rows below it.
    m.reset_display_scroll();
    m.feed(b"\x1b[1;3r\x1b[1;1H\x1bMtop\x1b[r");
    assert_eq!(m.screen_text(), "top\nhist3\nhist4\nviewport\nstatus");
}

#[test]
fn wide_characters_and_emoji_occupy_two_cells_and_appear_once() {
    let m = fed(10, 2, "日本🙂x".as_bytes());
    assert_eq!(m.screen_text(), "日本🙂x\n");
    assert_eq!(m.cursor().col, 7);
}

#[test]
fn wide_character_at_the_right_edge_wraps_whole() {
    let m = fed(5, 2, "abcd日".as_bytes());
    assert_eq!(m.screen_text(), "abcd\n日");
}

#[test]
fn cursor_shape_visibility_and_position() {
    let mut m = fed(20, 5, b"\x1b[3;7H\x1b[6 q");
    let c = m.cursor();
    assert_eq!(
        (c.row, c.col, c.shape, c.visible),
        (2, 6, CursorShape::Bar, true)
    );
    m.feed(b"\x1b[4 q\x1b[?25l");
    let c = m.cursor();
    assert_eq!((c.shape, c.visible), (CursorShape::Underline, false));
}

#[test]
fn title_bell_and_clipboard_are_captured_and_clipboard_loads_answer_empty() {
    let mut m = fed(20, 3, b"\x1b]2;my agent\x07\x07\x1b]52;c;aGVsbG8=\x07");
    assert_eq!(m.title(), Some("my agent"));
    assert!(m.take_bell());
    assert!(!m.take_bell());
    assert_eq!(m.clipboard(), Some("hello"));
    assert!(m.take_replies().is_empty());
    m.feed(b"\x1b]52;c;?\x07");
    assert_eq!(
        m.take_replies(),
        b"\x1b]52;c;\x07",
        "never the stored or real clipboard"
    );
}

#[test]
fn mouse_and_keyboard_modes_follow_the_agent() {
    let mut m = fed(20, 3, b"\x1b[?1h\x1b[?1002h\x1b[?1006h\x1b=");
    let modes = m.modes();
    assert!(modes.app_cursor && modes.app_keypad);
    assert_eq!(
        (modes.mouse, modes.mouse_encoding),
        (MouseMode::Drag, MouseEncoding::Sgr)
    );
    m.feed(b"\x1b[?1003h\x1b[>1u\x1b[?u");
    assert_eq!(m.modes().mouse, MouseMode::Motion);
    assert_eq!(m.modes().kitty, KittyFlags(1));
    assert_eq!(m.take_replies(), b"\x1b[?1u");
    m.feed(b"\x1b[<u\x1b[?u");
    assert_eq!(m.modes().kitty, KittyFlags(0));
    assert_eq!(m.take_replies(), b"\x1b[?0u");
}

#[test]
fn resize_changes_the_grid_and_reports() {
    let mut m = fed(20, 5, b"hello");
    m.resize(PaneSize { cols: 40, rows: 10 });
    assert_eq!(m.size(), PaneSize { cols: 40, rows: 10 });
    assert_eq!(m.screen_text().split('\n').count(), 10);
    m.feed(b"\x1b[18t");
    assert_eq!(m.take_replies(), b"\x1b[8;10;40t");
}

#[test]
fn osc_10_11_answers_follow_the_palette() {
    let mut m = model(20, 3);
    m.set_palette(super::Palette {
        background: super::Rgb::hex(0xfafafa),
        ..Default::default()
    });
    m.feed(b"\x1b]11;?\x07");
    assert_eq!(m.take_replies(), b"\x1b]11;rgb:fafa/fafa/fafa\x07");
}

mod fuzz {
    use proptest::prelude::*;

    use super::super::{PaneSize, TerminalModel};

    /// Bytes biased towards escape-sequence material so the parser's states are exercised.
    fn noisy_bytes() -> impl Strategy<Value = Vec<u8>> {
        let piece = prop_oneof![
            Just(b"\x1b[".to_vec()),
            Just(b"\x1b]".to_vec()),
            Just(b"\x1bP".to_vec()),
            Just(b"\x1b[?2026h".to_vec()),
            Just(b"\x1b[?2026l".to_vec()),
            Just(b"\x1b[?1049h".to_vec()),
            Just(b"\x1b[>0q".to_vec()),
            Just("日🙂".as_bytes().to_vec()),
            Just(b";".to_vec()),
            (0u16..400).prop_map(|n| n.to_string().into_bytes()),
            proptest::collection::vec(any::<u8>(), 0..8),
        ];
        proptest::collection::vec(piece, 0..200).prop_map(|v| v.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

        #[test]
        fn arbitrary_output_split_anywhere_with_resizes_never_panics(
            bytes in noisy_bytes(),
            cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..6),
            cols in 2u16..140,
            rows in 1u16..50,
        ) {
            let mut m = TerminalModel::new(PaneSize { cols: 80, rows: 24 }, 50);
            let mut points: Vec<usize> = cuts.iter().map(|i| i.index(bytes.len() + 1)).collect();
            points.sort_unstable();
            let mut start = 0;
            for (n, end) in points.into_iter().chain([bytes.len()]).enumerate() {
                m.feed(&bytes[start..end]);
                start = end;
                if n == 2 {
                    m.resize(PaneSize { cols, rows });
                }
                m.scroll_display(3);
            }
            let _ = (m.screen_text(), m.cursor(), m.modes(), m.take_replies());
            let c = m.cursor();
            prop_assert!(c.row < m.size().rows.max(1) && c.col < m.size().cols.max(2));
        }
    }
}
