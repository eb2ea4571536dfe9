//! Recorder tests with real parts: a real PTY child's output, Debian's `asciinema cat`, the planted
//! secrets corpus read back as raw bytes.

use std::io::Read;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use portable_pty::{CommandBuilder, PtySize, native_pty_system};

use super::cast::CastFormat;
use super::recorder::*;
use super::session_dir::new_session_id;
use super::utf8::Utf8Stream;
use super::*;
use crate::replay::cast::{Cast, Code};
use crate::secrets::planted::{env_literals, planted};
use proptest::prelude::Strategy as _;

fn opts(format: CastFormat) -> RecordOptions {
    let mut o = RecordOptions::new(TermSize { cols: 80, rows: 24 });
    o.format = format;
    o
}

/// Runs `script` in a real PTY and returns its output as the reads arrived.
fn pty_reads(script: &str) -> Vec<(Duration, Vec<u8>)> {
    let pty = native_pty_system()
        .openpty(PtySize {
            rows: 24,
            cols: 80,
            pixel_width: 0,
            pixel_height: 0,
        })
        .expect("openpty");
    let mut cmd = CommandBuilder::new("sh");
    cmd.args(["-c", script]);
    cmd.env("TERM", "xterm-256color");
    let mut child = pty.slave.spawn_command(cmd).expect("spawn sh");
    drop(pty.slave);
    let mut reader = pty.master.try_clone_reader().expect("reader");
    let started = Instant::now();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    let mut reads = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    // Drain until the reader sees EOF/EIO (every slave fd closed: the child and its children
    // exited), so output written just before exit is never lost on a loaded machine.
    loop {
        match rx.recv_timeout(Duration::from_millis(200)) {
            Ok(chunk) => reads.push((started.elapsed(), chunk)),
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                assert!(
                    Instant::now() < deadline,
                    "PTY child did not finish in 30 s"
                );
            }
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    reads
}

fn asciinema_available() -> bool {
    let ok = Command::new("asciinema").arg("--version").output().is_ok();
    if !ok {
        eprintln!(
            "SKIPPING asciinema check: `asciinema` is not installed (CI installs it with apt-get)"
        );
    }
    ok
}

#[test]
fn asciinema_cat_prints_what_the_pty_printed() {
    let reads = pty_reads(
        "printf '\\033[1;32mhello\\033[0m caf\\303\\251 \\342\\234\\223\\r\\n'; ls -la /; \
         for i in 1 2 3; do echo line $i; sleep 0.05; done",
    );
    assert!(!reads.is_empty(), "no PTY output");
    let dir = tempfile::tempdir().expect("tempdir");
    let mut rec = Recorder::create(dir.path(), opts(CastFormat::V2)).expect("create");
    let mut raw = Vec::new();
    for (at, chunk) in &reads {
        raw.extend_from_slice(chunk);
        // Split every read in two mid-way (possibly inside a UTF-8 character).
        let (a, b) = chunk.split_at(chunk.len() / 2);
        rec.output(*at, a).expect("output");
        rec.output(*at, b).expect("output");
        rec.flush_if_due(*at).expect("flush");
    }
    rec.finish(Some(0)).expect("finish");
    let cast = dir.path().join(CAST_FILE);
    let expected = String::from_utf8_lossy(&raw).into_owned();
    // Our own reader agrees…
    let loaded = Cast::load(&cast).expect("load");
    assert!(loaded.issues.is_empty(), "{:?}", loaded.issues);
    let text: String = loaded
        .events
        .iter()
        .filter(|e| e.code == Code::Output)
        .map(|e| e.data.as_str())
        .collect();
    assert_eq!(text, expected);
    // …and so does asciinema.
    if asciinema_available() {
        // asciinema 2.x `cat` opens /dev/tty, so run it on a PTY with stdout to a file.
        let out = dir.path().join("cat.out");
        let reads = pty_reads(&format!(
            "asciinema cat '{}' > '{}'; echo \"exit=$?\"",
            cast.display(),
            out.display()
        ));
        let tty: Vec<u8> = reads.into_iter().flat_map(|(_, b)| b).collect();
        let tty = String::from_utf8_lossy(&tty);
        assert!(tty.contains("exit=0"), "asciinema cat failed: {tty}");
        let printed = std::fs::read(&out).expect("asciinema output");
        assert_eq!(String::from_utf8_lossy(&printed), expected);
    }
}

fn read_raw(path: &Path) -> String {
    String::from_utf8_lossy(&std::fs::read(path).expect("read back")).into_owned()
}

#[test]
fn planted_secrets_never_reach_the_cast_or_events() {
    let corpus = planted();
    let literals = env_literals();
    let dir = tempfile::tempdir().expect("tempdir");
    let mut o = opts(CastFormat::V2);
    o.env_secrets = literals.iter().map(|(v, _)| v.clone()).collect();
    o.record_input = true;
    o.command = Some(format!("claude --api-key {}", corpus[16].secret));
    let mut rec = Recorder::create(dir.path(), o).expect("create");
    let mut t = Duration::ZERO;
    let tick = |rec: &mut Recorder, t: &mut Duration| {
        *t += Duration::from_millis(90);
        rec.flush_if_due(*t).expect("flush");
    };
    for (i, p) in corpus.iter().enumerate() {
        let line = format!(
            "\x1b[2m$\x1b[0m step {i}\r\n{}\r\n",
            p.line.replace('\n', "\r\n")
        );
        // Every secret split over two PTY reads, with a flush tick in between.
        let mid = line.find(&p.secret.replace('\n', "\r\n")).unwrap_or(0) + 7;
        let (a, b) = line.as_bytes().split_at(mid.min(line.len()));
        rec.output(t, a).expect("output");
        tick(&mut rec, &mut t);
        rec.output(t, b).expect("output");
        rec.marker(t, &format!("warn: {}", p.line));
        rec.event(
            t,
            serde_json::json!({"kind": "decision", "command": p.line, "n": i}),
        )
        .expect("event");
        tick(&mut rec, &mut t);
    }
    for (_, line) in &literals {
        rec.output(t, format!("{line}\r\n").as_bytes())
            .expect("output");
        rec.input(t, line.as_bytes());
        tick(&mut rec, &mut t);
    }
    rec.finish(Some(0)).expect("finish");
    let cast = read_raw(&dir.path().join(CAST_FILE));
    let events = read_raw(&dir.path().join(EVENTS_FILE));
    for p in &corpus {
        for file in [&cast, &events] {
            assert!(!file.contains(&p.secret), "{} leaked", p.rule);
            // Also not in the JSON-escaped form of multi-line secrets.
            let escaped = serde_json::to_string(&p.secret).expect("json");
            assert!(
                !file.contains(escaped.trim_matches('"')),
                "{} leaked (escaped)",
                p.rule
            );
        }
    }
    for (value, _) in &literals {
        assert!(!cast.contains(value.as_str()) && !events.contains(value.as_str()));
    }
    assert!(cast.contains("[REDACTED:private-key]") && cast.contains("step 31"));
    let loaded = Cast::load(&dir.path().join(CAST_FILE)).expect("load");
    assert!(loaded.issues.is_empty(), "{:?}", loaded.issues);
    let markers = loaded
        .events
        .iter()
        .filter(|e| e.code == Code::Marker)
        .count();
    assert_eq!(markers, corpus.len());
    for line in events.lines() {
        serde_json::from_str::<serde_json::Value>(line).expect("events.jsonl line is JSON");
    }
}

#[test]
fn markers_wait_behind_held_output_so_times_never_go_backwards() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut rec = Recorder::create(dir.path(), opts(CastFormat::V3)).expect("create");
    rec.output(Duration::from_millis(100), b"building")
        .expect("output");
    rec.marker(
        Duration::from_millis(200),
        "confirm: kubectl delete ns payments",
    );
    rec.resize(Duration::from_millis(300), 100, 30);
    rec.output(Duration::from_millis(400), b" done\r\n")
        .expect("output");
    let summary = rec.finish(Some(3)).expect("finish");
    assert_eq!(summary.markers, 1);
    let cast = Cast::load(&dir.path().join(CAST_FILE)).expect("load");
    assert_eq!(cast.header.version, 3);
    let codes: Vec<(f64, Code, &str)> = cast
        .events
        .iter()
        .map(|e| ((e.time * 1000.0).round(), e.code.clone(), e.data.as_str()))
        .collect();
    assert_eq!(
        codes,
        vec![
            (100.0, Code::Output, "building"),
            (200.0, Code::Marker, "confirm: kubectl delete ns payments"),
            (300.0, Code::Resize, "100x30"),
            (400.0, Code::Output, " done\r\n"),
            (400.0, Code::Exit, "3"),
        ]
    );
}

#[test]
fn v3_intervals_do_not_drift() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut rec = Recorder::create(dir.path(), opts(CastFormat::V3)).expect("create");
    let mut at = Duration::ZERO;
    for _ in 0..3000 {
        at += Duration::from_micros(333_333);
        rec.output(at, b"x\r\n").expect("output");
        rec.flush_if_due(at).expect("flush");
    }
    rec.finish(None).expect("finish");
    let cast = Cast::load(&dir.path().join(CAST_FILE)).expect("load");
    let last = cast.events.last().expect("events").time;
    assert!((last - at.as_secs_f64()).abs() <= 0.0005, "drifted: {last}");
}

#[test]
fn cast_is_valid_up_to_the_last_flush_after_a_kill() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut rec = Recorder::create(dir.path(), opts(CastFormat::V2)).expect("create");
    for i in 0..40u64 {
        let at = Duration::from_millis(i * 50);
        rec.output(at, format!("tick {i}\r\n").as_bytes())
            .expect("output");
        rec.flush_if_due(at).expect("flush");
    }
    // SIGKILL: no destructors, no finish.
    std::mem::forget(rec);
    let cast = Cast::load(&dir.path().join(CAST_FILE)).expect("load");
    assert!(cast.issues.is_empty(), "{:?}", cast.issues);
    let text: String = cast.events.iter().map(|e| e.data.as_str()).collect();
    // Everything up to the last flush (at 1.75 s; ticks every 250 ms) is there.
    assert!(text.contains("tick 35\r\n"), "{text}");
}

#[test]
fn session_dirs_are_private_and_listed_newest_first() {
    use std::os::unix::fs::PermissionsExt;
    let root = tempfile::tempdir().expect("tempdir");
    let a = SessionMeta::starting("20260101T000000Z-aaaaaaaa", vec!["sh".into()], None, "v2");
    let b = SessionMeta::starting(
        "20260102T000000Z-bbbbbbbb",
        vec!["claude".into()],
        None,
        "v2",
    );
    SessionDir::create_in(root.path(), &a).expect("create a");
    let dir_b = SessionDir::create_in(root.path(), &b).expect("create b");
    let mode = std::fs::metadata(&dir_b.path)
        .expect("meta")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o700);
    let ids: Vec<String> = list_in(root.path())
        .expect("list")
        .into_iter()
        .map(|d| d.id)
        .collect();
    assert_eq!(ids, vec![b.id.clone(), a.id.clone()]);
    assert_eq!(dir_b.read_meta().expect("read"), b);
    assert!(matches!(
        SessionDir::open_in(root.path(), "../etc"),
        Err(SessionDirError::InvalidId(_))
    ));
    let id = new_session_id();
    assert_eq!(id.len(), "20260101T000000Z-aaaaaaaa".len(), "{id}");
    assert_ne!(id, new_session_id());
}

#[test]
fn split_character_is_joined_and_invalid_bytes_are_replaced() {
    let bytes = "é✓".as_bytes();
    let mut d = Utf8Stream::default();
    let mut out = String::new();
    for b in bytes {
        out.push_str(&d.decode(&[*b]));
    }
    assert_eq!(out, "é✓");
    assert_eq!(d.decode(b"a\xffb"), "a\u{FFFD}b");
    assert_eq!(d.decode(b"x\xe2\x9c"), "x");
    assert_eq!(d.finish(), "\u{FFFD}");
}

#[test]
fn agent_script_printing_planted_secrets_in_a_real_pty_leaks_nothing() {
    let corpus = planted();
    let dir = tempfile::tempdir().expect("tempdir");
    // The agent script: every planted line via printf from a data file, and one secret printed
    // in two halves with a pause between, so it arrives in two PTY reads.
    let data = dir.path().join("lines.txt");
    // (The split secret is left out of the file so its halves are only in the split reads.)
    let lines: Vec<String> = corpus
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != 6)
        .map(|(_, p)| p.line.replace('\r', ""))
        .collect();
    std::fs::write(&data, lines.join("\n") + "\n").expect("data");
    let split = &corpus[6].secret;
    let (a, b) = split.split_at(split.len() / 2);
    let script = format!(
        "cat '{}'; printf 'token=%s' '{a}'; sleep 0.3; printf '%s\\n' '{b}'; echo done",
        data.display()
    );
    let reads = pty_reads(&script);
    let raw: Vec<u8> = reads.iter().flat_map(|(_, b)| b.clone()).collect();
    let raw_text = String::from_utf8_lossy(&raw);
    assert!(
        raw_text.contains(a) && raw_text.contains("done"),
        "script did not run"
    );
    let half_reads = reads
        .iter()
        .filter(|(_, r)| {
            String::from_utf8_lossy(r).contains(a) && !String::from_utf8_lossy(r).contains(b)
        })
        .count();
    assert!(
        half_reads >= 1,
        "the split secret did not arrive in two reads"
    );
    let mut rec = Recorder::create(dir.path(), opts(CastFormat::V3)).expect("create");
    for (at, chunk) in &reads {
        rec.output(*at, chunk).expect("output");
        rec.flush_if_due(*at).expect("flush");
    }
    rec.finish(Some(0)).expect("finish");
    let cast = read_raw(&dir.path().join(CAST_FILE));
    for p in &corpus {
        assert!(!cast.contains(&p.secret), "{} leaked", p.rule);
    }
    assert!(cast.contains("done"));
}

#[test]
fn a_started_session_is_listed_with_its_meta_completed_at_finish() {
    let root = tempfile::tempdir().expect("tempdir");
    let token = planted()[4].secret.clone();
    let command = vec!["claude".to_owned(), "--token".to_owned(), token.clone()];
    let (dir, mut rec) = start_session_in(
        root.path(),
        &command,
        Some(crate::context::Tier::Production),
        opts(CastFormat::V2),
    )
    .expect("start");
    rec.output(Duration::from_millis(1500), b"hello\r\n")
        .expect("output");
    rec.event(
        Duration::from_millis(1600),
        serde_json::json!({"kind": "decision"}),
    )
    .expect("event");
    let summary = finish_session(&dir, rec, Some(0)).expect("finish");
    assert_eq!(summary.duration, 1.5);
    let meta = dir.read_meta().expect("meta");
    assert_eq!(meta.duration, Some(1.5));
    assert_eq!(meta.exit_status, Some(0));
    assert!(meta.end.is_some());
    assert_eq!(meta.command[0], "claude");
    let meta_text = read_raw(&dir.meta_path());
    let cast_text = read_raw(&dir.cast_path());
    assert!(!meta_text.contains(&token) && !cast_text.contains(&token));
    assert_eq!(list_in(root.path()).expect("list")[0].id, dir.id);
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]
    /// Bytes of any validity, cut into reads anywhere, decode as `String::from_utf8_lossy` decodes
    /// them whole (a character split between reads is joined; each invalid sequence is one U+FFFD).
    #[test]
    fn decoding_in_reads_equals_lossy_decoding_of_the_whole(
        parts in proptest::collection::vec(proptest::prop_oneof![
            3 => "[ -~]{0,40}".prop_map(String::into_bytes),
            2 => proptest::sample::select(vec!["é", "✓", "日本語", "⏺", "\u{1F600}", "\x1b[0m"])
                .prop_map(|s| s.as_bytes().to_vec()),
            1 => proptest::collection::vec(0x80u8..=0xff, 1..4),
        ], 0..60),
        cuts in proptest::collection::vec(0usize..2000, 0..8),
    ) {
        let bytes: Vec<u8> = parts.concat();
        let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c % (bytes.len() + 1)).collect();
        cuts.sort_unstable();
        let mut decoder = Utf8Stream::default();
        let mut out = String::new();
        let mut from = 0;
        for cut in cuts.into_iter().chain([bytes.len()]) {
            decoder.decode_into(&bytes[from..cut], &mut out);
            from = cut;
        }
        out.push_str(&decoder.finish());
        proptest::prop_assert_eq!(out, String::from_utf8_lossy(&bytes).into_owned());
    }
}
