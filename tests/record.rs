//! End-to-end tests of the recording commands through the real binary: `overwatch replay
//! --dump-at` on v1/v2/v3 and damaged casts, `overwatch sessions` over a temp state dir.

use std::path::Path;
use std::process::{Command, Output};

fn overwatch(args: &[&str], state: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_overwatch"))
        .args(args)
        .env("XDG_STATE_HOME", state)
        .output()
        .expect("run overwatch")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn dump_at_prints_the_screen_at_a_time() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cast = dir.path().join("s.cast");
    std::fs::write(
        &cast,
        "{\"version\": 2, \"width\": 20, \"height\": 3}\n\
         [1.0, \"o\", \"\\u001b[1mfirst\\u001b[0m\\r\\n\"]\n\
         [65.0, \"o\", \"second\\r\\n\"]\n\
         [70.0, \"o\", \"\\u001b[2J\\u001b[Hcleared\"]\n",
    )
    .expect("write");
    let path = cast.to_str().expect("utf-8 path");
    let at = |t: &str| stdout(&overwatch(&["replay", "--dump-at", t, path], dir.path()));
    assert_eq!(at("0.5").trim_end(), "");
    assert_eq!(at("2").trim_end(), "first");
    assert_eq!(at("1:05").trim_end(), "first\nsecond");
    assert_eq!(at("1:10").trim_end(), "cleared");
    let bad = overwatch(&["replay", "--dump-at", "soon", path], dir.path());
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--dump-at"));
}

#[test]
fn damaged_and_foreign_casts_load_partially_with_a_located_note() {
    let dir = tempfile::tempdir().expect("tempdir");
    let v3 = dir.path().join("cut.cast");
    std::fs::write(
        &v3,
        "{\"version\": 3, \"term\": {\"cols\": 20, \"rows\": 2}}\n\
         # recorded by asciinema 3\n\
         [0.5, \"o\", \"kept\"]\n\
         [0.5, \"o\", \" lost",
    )
    .expect("write");
    let out = overwatch(
        &["replay", "--dump-at", "99", v3.to_str().expect("path")],
        dir.path(),
    );
    assert!(out.status.success());
    assert_eq!(stdout(&out).trim_end(), "kept");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("line 4") && err.contains("truncated"), "{err}");

    let v1 = dir.path().join("old.json");
    std::fs::write(
        &v1,
        "{\"version\": 1, \"width\": 20, \"height\": 2, \"stdout\": [[0.1, \"from v1\"], [0.2, \"!\"",
    )
    .expect("write");
    let out = overwatch(
        &["replay", "--dump-at", "5", v1.to_str().expect("path")],
        dir.path(),
    );
    assert_eq!(stdout(&out).trim_end(), "from v1");
    assert!(String::from_utf8_lossy(&out.stderr).contains("line 3"));

    let junk = dir.path().join("junk.cast");
    std::fs::write(&junk, "not a cast\n").expect("write");
    let out = overwatch(
        &["replay", "--dump-at", "1", junk.to_str().expect("path")],
        dir.path(),
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not an asciicast header"));
}

#[test]
fn sessions_lists_newest_first_and_replay_resolves_ids() {
    let state = tempfile::tempdir().expect("tempdir");
    let root = state.path().join("overwatch/sessions");
    for (id, agent, duration, end) in [
        ("20261120T090000Z-00000001", "claude", Some(125.5), true),
        ("20261121T100000Z-00000002", "codex", None, false),
    ] {
        let dir = root.join(id);
        std::fs::create_dir_all(&dir).expect("mkdir");
        let meta = serde_json::json!({
            "id": id, "command": [format!("/usr/bin/{agent}")], "start": "2026-11-21T10:00:00Z",
            "tier": "production", "cast_format": "v2", "overwatch_version": "0.1.0",
            "duration": duration, "end": end.then_some("2026-11-21T10:02:05Z"),
        });
        std::fs::write(dir.join("meta.json"), meta.to_string()).expect("meta");
        std::fs::write(
            dir.join("session.cast"),
            "{\"version\": 2, \"width\": 10, \"height\": 2}\n[3.25, \"o\", \"hi\"]\n[4.5, \"o\", \"!\"",
        )
        .expect("cast");
        std::fs::write(
            dir.join("events.jsonl"),
            "{\"time\": 1.0, \"kind\": \"decision\", \"decision\": \"confirm\"}\n\
             {\"time\": 2.0, \"kind\": \"context\"}\n\
             {\"time\": 3.0, \"kind\": \"decision\", \"decision\": \"deny\"}\n",
        )
        .expect("events");
    }
    let out = overwatch(&["sessions", "--json"], state.path());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let rows = rows.as_array().expect("array");
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["agent"], "codex");
    assert_eq!(rows[0]["finished"], false);
    assert_eq!(
        rows[0]["duration"], 3.25,
        "crashed session: last valid event"
    );
    assert_eq!(rows[1]["agent"], "claude");
    assert_eq!(rows[1]["duration"], 125.5);
    assert_eq!(rows[1]["decisions"], 2);
    assert_eq!(rows[1]["tier"], "production");
    let table = stdout(&overwatch(&["sessions"], state.path()));
    assert!(
        table.contains("2m05s") && table.contains("claude"),
        "{table}"
    );

    let out = overwatch(
        &["replay", "--dump-at", "10", "20261120T090000Z-00000001"],
        state.path(),
    );
    assert_eq!(stdout(&out).trim_end(), "hi");
    let missing = overwatch(&["replay", "--dump-at", "1", "nope"], state.path());
    assert!(!missing.status.success());
}
