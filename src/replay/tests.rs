//! Reader, player and TUI-state tests: foreign and damaged casts load partially with located
//! issues; record → replay reproduces the live screen; keyframe seeks equal linear playback.

use std::path::Path;
use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use proptest::prelude::*;

use super::app::{Action, ReplayApp, action_for};
use super::cast::{Cast, CastEvents, Code};
use super::index::IdleMap;
use super::player::{Player, parse_time};
use super::timeline::Timeline;
use crate::record::cast::CastFormat;
use crate::record::recorder::{RecordOptions, Recorder, TermSize};
use crate::session::{PaneSize, TerminalModel};

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write cast");
    path
}

fn output_text(cast: &Cast) -> String {
    cast.events
        .iter()
        .filter(|e| e.code == Code::Output)
        .map(|e| e.data.as_str())
        .collect()
}

#[test]
fn v1_document_loads_and_truncated_v1_keeps_complete_entries() {
    let dir = tempfile::tempdir().expect("tempdir");
    let v1 = r#"{"version": 1, "width": 80, "height": 24, "duration": 1.5, "command": "/bin/zsh",
        "title": "", "env": {"TERM": "xterm-256color", "SHELL": "/bin/zsh"},
        "stdout": [[0.5, "hello "], [0.25, "world\r\n"], [0.75, "bye"]]}"#;
    let cast = Cast::load(&write(dir.path(), "v1.json", v1)).expect("load v1");
    assert_eq!(cast.header.version, 1);
    assert_eq!(output_text(&cast), "hello world\r\nbye");
    assert_eq!(cast.events.last().map(|e| e.time), Some(1.5));
    assert!(cast.issues.is_empty(), "{:?}", cast.issues);

    let cut = &v1[..v1.find("[0.75").expect("entry") + 8];
    let cast = Cast::load(&write(dir.path(), "v1-cut.json", cut)).expect("load truncated v1");
    assert_eq!(output_text(&cast), "hello world\r\n");
    assert_eq!(cast.issues.len(), 1);
    assert_eq!(cast.issues[0].line, 4, "{:?}", cast.issues);
}

#[test]
fn v2_with_damage_loads_the_valid_lines_and_locates_the_rest() {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = "{\"version\": 2, \"width\": 40, \"height\": 5, \"timestamp\": 1700000000}\n\
        [0.1, \"o\", \"one \"]\n\
        [0.2, \"o\", \"two \"\n\
        not json at all\n\
        [0.3, \"q\", \"unknown code is ignored\"]\n\
        [0.4, \"m\", \"confirm\"]\n\
        [0.5, \"o\", \"three\"]\n\
        [0.6, \"o\", \"fou";
    let cast = Cast::load(&write(dir.path(), "damaged.cast", text)).expect("load");
    assert_eq!(output_text(&cast), "one three");
    let lines: Vec<usize> = cast.issues.iter().map(|i| i.line).collect();
    assert_eq!(lines, vec![3, 4, 8]);
    assert!(
        cast.issues[2].reason.contains("truncated"),
        "{:?}",
        cast.issues[2]
    );
    let player = Player::open(&dir.path().join("damaged.cast"), Some(1)).expect("player");
    assert_eq!(player.index.markers.len(), 1);
    assert_eq!(player.index.issues.len(), 3);
}

#[test]
fn v3_intervals_comments_and_exit() {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = "{\"version\": 3, \"term\": {\"cols\": 20, \"rows\": 4, \"type\": \"xterm\"}, \"tags\": [\"x\"]}\n\
        # a comment\n\
        [0.5, \"o\", \"a\"]\n\
        [1.25, \"r\", \"30x6\"]\n\
        [0.25, \"o\", \"b\"]\n\
        [0, \"x\", \"0\"]\n";
    let path = write(dir.path(), "v3.cast", text);
    let cast = Cast::load(&path).expect("load");
    let times: Vec<f64> = cast.events.iter().map(|e| e.time).collect();
    assert_eq!(times, vec![0.5, 1.75, 2.0, 2.0]);
    assert!(cast.issues.is_empty(), "{:?}", cast.issues);
    let mut player = Player::open(&path, None).expect("player");
    assert_eq!(player.index.exit.as_deref(), Some("0"));
    player.advance_to(10.0);
    assert_eq!(player.model().size(), PaneSize { cols: 30, rows: 6 });
    assert_eq!(player.model().screen_text().lines().next(), Some("ab"));
}

#[test]
fn garbage_and_empty_files_are_errors_not_panics() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, text) in [
        ("empty", ""),
        ("garbage", "\u{0}\u{1}binary"),
        ("array", "[1, 2, 3]\n"),
        ("v9", "{\"version\": 9, \"width\": 1, \"height\": 1}\n"),
        ("nosize", "{\"version\": 2}\n"),
    ] {
        let result = Cast::load(&write(dir.path(), name, text));
        assert!(result.is_err(), "{name} loaded");
    }
}

#[test]
fn time_parsing() {
    assert_eq!(parse_time("90"), Some(90.0));
    assert_eq!(parse_time("1:30"), Some(90.0));
    assert_eq!(parse_time("1:02:03.5"), Some(3723.5));
    assert_eq!(parse_time("1:75"), None);
    assert_eq!(parse_time("-3"), None);
    assert_eq!(parse_time("abc"), None);
}

/// Records `chunks` (each fed as one PTY read, 10 ms apart, split in two) and returns the cast
/// path plus the live model fed the same raw bytes.
fn record(
    dir: &Path,
    chunks: &[String],
    format: CastFormat,
) -> (std::path::PathBuf, TerminalModel) {
    let mut opts = RecordOptions::new(TermSize { cols: 30, rows: 8 });
    opts.format = format;
    let mut rec = Recorder::create(dir, opts).expect("create");
    let mut live = TerminalModel::new(PaneSize { cols: 30, rows: 8 }, 1000);
    for (i, chunk) in chunks.iter().enumerate() {
        let at = Duration::from_millis(10 * (i as u64 + 1));
        let bytes = chunk.as_bytes();
        let (a, b) = bytes.split_at(bytes.len() / 2);
        rec.output(at, a).expect("output");
        rec.output(at, b).expect("output");
        rec.flush_if_due(at).expect("flush");
        live.feed(bytes);
    }
    let summary = rec.finish(Some(0)).expect("finish");
    (summary.cast_path, live)
}

/// Generated PTY output; `alt` adds alternate-screen switches.
fn chunk(alt: bool) -> impl Strategy<Value = String> {
    let alt_on = if alt { "\x1b[?1049h" } else { "\x1b[?25l" };
    let alt_off = if alt { "\x1b[?1049l" } else { "\x1b[?25h" };
    prop_oneof![
        "[a-zA-Z0-9 .,()#-]{0,40}",
        Just("\r\n".to_owned()),
        Just("\x1b[1;32m".to_owned()),
        Just("\x1b[0m".to_owned()),
        Just("\x1b[2J\x1b[H".to_owned()),
        Just("\x1b[K".to_owned()),
        Just(alt_on.to_owned()),
        Just(alt_off.to_owned()),
        Just("✓ 日本語 é".to_owned()),
        (1u8..9, 1u8..31).prop_map(|(r, c)| format!("\x1b[{r};{c}H")),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    /// Record → replay → the screen at the end equals the live screen at exit.
    #[test]
    fn replay_reproduces_the_live_screen(
        chunks in proptest::collection::vec(chunk(true), 1..80),
        v3 in any::<bool>(),
    ) {
        let dir = tempfile::tempdir().expect("tempdir");
        let format = if v3 { CastFormat::V3 } else { CastFormat::V2 };
        let (path, live) = record(dir.path(), &chunks, format);
        let mut linear = Player::open(&path, None).expect("open");
        linear.advance_to(f64::MAX);
        prop_assert_eq!(linear.model().screen_text(), live.screen_text());
        prop_assert_eq!(linear.model().cursor(), live.cursor());
    }

    /// Seeking anywhere through keyframes equals playing linearly to the same time (primary
    /// screen; see keyframe.rs for what a snapshot on the alternate screen cannot carry).
    #[test]
    fn keyframe_seeks_equal_linear_playback(
        chunks in proptest::collection::vec(chunk(false), 1..80),
        seeks in proptest::collection::vec(0.0f64..1.0, 1..5),
    ) {
        let dir = tempfile::tempdir().expect("tempdir");
        let (path, live) = record(dir.path(), &chunks, CastFormat::V2);

        // Keyframes every 64 bytes so seeks restore snapshots often.
        let mut seeking = Player::open(&path, Some(64)).expect("open");
        let duration = seeking.index.duration;
        for s in seeks {
            let t = s * duration;
            seeking.seek(t).expect("seek");
            let mut reference = Player::open(&path, None).expect("open");
            reference.advance_to(t);
            prop_assert_eq!(seeking.model().screen_text(), reference.model().screen_text());
        }
        seeking.seek(duration).expect("seek end");
        prop_assert_eq!(seeking.model().screen_text(), live.screen_text());
    }
}

#[test]
fn search_finds_text_split_across_events_and_skips_escapes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let chunks: Vec<String> = [
        "start\r\n",
        "kubectl del",
        "\x1b[1mete\x1b[0m ns payments\r\n",
        "end",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    let (path, _) = record(dir.path(), &chunks, CastFormat::V2);
    let player = Player::open(&path, None).expect("open");
    let found = player.search(0.0, "DELETE ns").expect("search");
    assert!(found.is_some_and(|t| (t - 0.03).abs() < 1e-3), "{found:?}");
    assert_eq!(player.search(0.0, "absent").expect("search"), None);
}

fn key(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

#[test]
fn keys_drive_playback_seek_markers_and_prompts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = "{\"version\": 2, \"width\": 20, \"height\": 3}\n\
        [1.0, \"o\", \"one\\r\\n\"]\n\
        [2.0, \"m\", \"warn: context changed\"]\n\
        [12.0, \"o\", \"two\\r\\n\"]\n\
        [13.0, \"m\", \"confirm: kubectl delete ns payments\"]\n\
        [20.0, \"o\", \"three\\r\\n\"]\n";
    let path = write(dir.path(), "keys.cast", text);
    std::fs::write(
        dir.path().join("events.jsonl"),
        "{\"time\": 13.0, \"kind\": \"decision\", \"decision\": \"confirm\", \"command\": \"kubectl delete ns payments\"}\n\
         {\"time\": 15.0, \"kind\": \"diff\", \"path\": \".env\", \"summary\": \"+2 -1\"}\n\
         broken line\n",
    )
    .expect("events");
    let mut player = Player::open(&path, Some(4)).expect("open");
    player.keyframes.wait();
    let timeline = Timeline::load(
        &player.index.markers,
        Some(&dir.path().join("events.jsonl")),
    );
    assert_eq!(timeline.skipped, 1);
    let idle = IdleMap::new(&player.index.gaps, Some(3.0));
    let mut app = ReplayApp::new(player, timeline, idle, 1.0);
    let press = |app: &mut ReplayApp, code: KeyCode| {
        let action = action_for(&app.mode, key(code)).expect("mapped");
        app.update(action);
    };
    press(&mut app, KeyCode::Char('n'));
    assert_eq!(
        app.cast_time(),
        13.0,
        "n skips markers that are not decisions"
    );
    press(&mut app, KeyCode::Char('['));
    assert_eq!(app.cast_time(), 2.0);
    press(&mut app, KeyCode::Char(']'));
    assert_eq!(app.cast_time(), 13.0);
    assert_eq!(app.player.model().screen_text().trim_end(), "one\ntwo");
    press(&mut app, KeyCode::Char('['));
    assert_eq!(app.cast_time(), 2.0);
    // Idle limit 3 s: the 10 s gap before 12.0 shows as 3 s, so +5 s lands after "two".
    press(&mut app, KeyCode::Right);
    assert_eq!(app.display_time, 7.0);
    assert_eq!(app.cast_time(), 14.0);
    press(&mut app, KeyCode::Char('g'));
    for c in "0:01".chars() {
        press(&mut app, KeyCode::Char(c));
    }
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.cast_time(), 1.0);
    assert_eq!(app.player.model().screen_text().trim_end(), "one");
    press(&mut app, KeyCode::Char('/'));
    for c in "three".chars() {
        press(&mut app, KeyCode::Char(c));
    }
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.cast_time(), 20.0);
    assert_eq!(
        app.timeline.diff_state(20.0),
        vec![(".env".into(), ".env +2 -1".into())]
    );
    press(&mut app, KeyCode::Char('+'));
    assert_eq!(crate::replay::app::SPEEDS[app.speed], 2.0);
    press(&mut app, KeyCode::Char(' '));
    assert!(app.playing);
    assert_eq!(app.cast_time(), 0.0, "play at the end restarts");
    app.tick(Duration::from_secs(1));
    assert_eq!(app.cast_time(), 2.0);
    app.tick(Duration::from_secs(60));
    assert!(!app.playing, "stops at the end");
    assert_eq!(app.cast_time(), 20.0);
    press(&mut app, KeyCode::Char('q'));
    assert!(app.quit);
    assert_eq!(action_for(&app.mode, key(KeyCode::F(5))), None::<Action>);
}

#[test]
fn a_seek_waiting_for_the_indexer_completes_on_poll_and_holds_playback() {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = "{\"version\": 2, \"width\": 20, \"height\": 3}\n\
        [1.0, \"o\", \"one\\r\\n\"]\n\
        [2.0, \"o\", \"two\\r\\n\"]\n\
        [3.0, \"o\", \"three\\r\\n\"]\n";
    let path = write(dir.path(), "pending.cast", text);
    let player = Player::open(&path, Some(4)).expect("open");
    let timeline = Timeline::load(&player.index.markers, None);
    let mut app = ReplayApp::new(player, timeline, IdleMap::default(), 1.0);
    // What seek_cast leaves behind while the indexer has not reached 2.0 yet.
    app.pending_seek = Some(2.0);
    app.playing = true;
    app.tick(Duration::from_secs(1));
    assert_eq!(app.player.time(), 0.0, "playback waits for the seek");
    assert_eq!(app.cast_time(), 2.0, "keys act from the seek's target");
    app.player.keyframes.wait();
    assert!(app.poll(), "the seek completes once the keyframes cover it");
    assert_eq!(app.pending_seek, None);
    assert_eq!(app.player.time(), 2.0);
    assert_eq!(app.player.model().screen_text().trim_end(), "one\ntwo");
    assert!(!app.poll(), "nothing left to do once indexed");
}

#[test]
fn view_draws_screen_timeline_and_status() {
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;
    let dir = tempfile::tempdir().expect("tempdir");
    let text = "{\"version\": 2, \"width\": 30, \"height\": 5}\n\
        [0.5, \"o\", \"$ terraform plan\\r\\n\"]\n\
        [1.0, \"m\", \"confirm: terraform apply (production)\"]\n";
    let path = write(dir.path(), "view.cast", text);
    let mut player = Player::open(&path, Some(1024)).expect("open");
    player.keyframes.wait();
    let timeline = Timeline::load(&player.index.markers, None);
    let mut app = ReplayApp::new(player, timeline, IdleMap::default(), 1.0);
    app.seek_cast(1.0);
    let theme = crate::theme::Theme::builtin_default();
    let mut terminal = Terminal::new(TestBackend::new(100, 14)).expect("terminal");
    terminal
        .draw(|f| crate::replay::view::draw(f, &app, &theme))
        .expect("draw");
    let buffer = terminal.backend().buffer();
    let text: String = (0..buffer.area.height)
        .map(|y| {
            (0..buffer.area.width)
                .map(|x| buffer[(x, y)].symbol().to_owned())
                .collect::<String>()
                + "\n"
        })
        .collect();
    assert!(text.contains("$ terraform plan"), "{text}");
    assert!(text.contains("confirm: terraform apply"), "{text}");
    assert!(text.contains("00:01.0 / 00:01.0"), "{text}");
    assert!(text.contains("next decision"), "{text}");
}

/// What the fuzz target (fuzz/fuzz_targets/cast_reader.rs) checks, on every test run.
fn read_all(data: &[u8]) {
    use std::io::Cursor;
    let Ok(opened) = crate::replay::cast::open_from(Cursor::new(data.to_vec()), "prop") else {
        return;
    };
    let mut reader = CastEvents::of_cast(opened.source, &opened.header, opened.start);
    let mut last = 0.0f64;
    while let Some(event) = reader.next_event() {
        assert!(event.time.is_finite() && event.time >= last);
        last = event.time;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    #[test]
    fn reader_never_panics_on_mutated_casts(
        version in 1u8..4,
        lines in proptest::collection::vec(
            prop_oneof![
                "\\[[0-9e.+-]{0,8}, \"[oimrxq]\", \"[ -~]{0,10}\"\\]",
                "[ -~]{0,30}",
                Just("# comment".to_owned()),
                Just("[1e308, \"o\", \"x\"]".to_owned()),
            ], 0..20),
        cut in any::<prop::sample::Index>(),
    ) {
        let header = match version {
            1 => "{\"version\": 1, \"width\": 80, \"height\": 24, \"stdout\": [".to_owned(),
            2 => "{\"version\": 2, \"width\": 80, \"height\": 24}\n".to_owned(),
            _ => "{\"version\": 3, \"term\": {\"cols\": 80, \"rows\": 24}}\n".to_owned(),
        };
        let sep = if version == 1 { "," } else { "\n" };
        let text = header + &lines.join(sep);
        let bytes = text.as_bytes();
        read_all(bytes);
        read_all(&bytes[..cut.index(bytes.len() + 1)]);
    }

    #[test]
    fn reader_never_panics_on_arbitrary_bytes(data in proptest::collection::vec(any::<u8>(), 0..400)) {
        read_all(&data);
    }
}

#[test]
fn idle_map_shortens_long_gaps_only() {
    // Events at 0..1 s, then a 10 s gap ending at 11 s, then a 3 s gap ending at 14 s.
    let map = IdleMap::new(&[(11.0, 10.0), (14.0, 3.0)], Some(2.0));
    assert_eq!(map.to_display(0.5), 0.5);
    assert_eq!(map.to_display(2.5), 2.5); // within the allowed 2 s of the gap
    assert_eq!(map.to_display(7.0), 3.0); // time stands still for the excess
    assert_eq!(map.to_display(11.0), 3.0);
    assert_eq!(map.to_display(12.0), 4.0);
    assert_eq!(map.to_display(14.0), 5.0); // second gap: 3 s → 2 s
    assert_eq!(map.to_cast(3.0), 11.0);
    assert_eq!(map.to_cast(4.0), 12.0);
    assert_eq!(map.to_cast(1.0), 1.0);
    let none = IdleMap::new(&[(11.0, 10.0)], None);
    assert_eq!(none.to_display(11.0), 11.0);
}

#[test]
fn timeline_reads_diff_watcher_events_and_gate_audit_records() {
    let dir = tempfile::tempdir().expect("tempdir");
    let events = dir.path().join("events.jsonl");
    std::fs::write(
        &events,
        "{\"time\": 1.0, \"kind\": \"file_changed\", \"path\": \"src/a.rs\", \"change\": {\"type\": \"modified\"}}\n\
         {\"time\": 2.0, \"kind\": \"sensitive_change\", \"path\": \".env\", \"label\": \"dotenv file\", \"summary\": \"key STRIPE_KEY changed, value redacted\"}\n\
         {\"time\": 3.0, \"kind\": \"mass_delete\", \"count\": 120, \"window_ms\": 2000}\n",
    )
    .expect("events");
    let audit = dir.path().join("audit.jsonl");
    std::fs::write(
        &audit,
        "{\"time\": \"2026-11-21T10:00:04.5Z\", \"command\": \"terraform destroy\", \"verdict\": \"confirm\", \"decision\": \"deny\", \"decided_by\": \"human\"}\n\
         {\"time\": \"not a time\", \"decision\": \"allow\", \"decided_by\": \"rules\"}\n",
    )
    .expect("audit");
    let mut timeline = Timeline::load(&[], Some(&events));
    let start: jiff::Timestamp = "2026-11-21T10:00:00Z".parse().expect("ts");
    timeline.add_audit(&audit, start.as_millisecond() as f64 / 1000.0);
    let labels: Vec<(f64, String)> = timeline
        .entries
        .iter()
        .map(|e| (e.time, e.label.clone()))
        .collect();
    assert_eq!(
        labels,
        vec![
            (1.0, "src/a.rs modified".to_owned()),
            (
                2.0,
                ".env key STRIPE_KEY changed, value redacted".to_owned()
            ),
            (3.0, "120 files deleted".to_owned()),
            (4.5, "confirm→deny terraform destroy".to_owned()),
        ]
    );
    assert_eq!(timeline.skipped, 1);
    assert_eq!(timeline.diff_state(2.5).len(), 2);
}
