//! Recording and replay measures (criterion), reported in the closing note of issue 8:
//! - `record/*`: throughput of `Recorder::output` (UTF-8 decoding + streaming redaction + asciicast
//!   encoding + buffered writes) against writing the same cast unredacted and against the terminal
//!   model the app feeds anyway, on generated agent-like output in 4 KiB reads;
//! - the cast size vs the raw output (printed once);
//! - `replay/seek_random`: seek latency anywhere in a large generated cast (size from
//!   `OVERWATCH_BENCH_CAST_MB`, default 200 MiB). Printed once: the time `Player::open` takes (the
//!   index scan the user waits for), the time until the background indexer has every keyframe,
//!   their count and size, 200 random seeks and the constructed worst case (just before a keyframe,
//!   coming from far away) as mean/p95/worst, and replay's peak RSS.
//!
//! Recording overhead end to end (`overwatch run` with and without recording, `cat` of 200 MB) is
//! `benches/record_overhead.sh`.
//!
//! Measured 2026-11-21 (release, 2 cores shared with other builds at load average 3–7):
//! recorder 57–66 MiB/s (redaction included) vs 110–165 MiB/s unredacted cast writing vs 30–37
//! MiB/s model feed (noisy; callgrind: 117 instructions per recorded byte, was 133); cast 1.17× the
//! raw output. 2026-11-21, later: `OVERWATCH_BENCH_RECORD_ONCE=16` under
//! `valgrind --tool=callgrind --toggle-collect='*record_bytes*'` (rules compiled beforehand, so
//! steady state): 41.2 instructions per recorded byte, was 55.3 — keyword DFA walked directly
//! (17.0 → 10.7), own JSON escaper (12.2 → 8.5), no whole-buffer lowercasing (3.5 → 0.5). Left:
//! the visible view 9.6, the generic-secret regex 7.4 (its keyword `key` is in most output),
//! copies 3.5, UTF-8 validation 2.7. Evening, same measure: 31.3 (524.5 M instructions for 16
//! MiB; 41.2–41.3 before this round) — the generic-secret and basic-auth-url regexes run only on the
//! runs around their keywords (7.4 → 0.8), the keyword loop handles matches out of line (it had
//! grown to 17 with the hits pushed inline; now 11.4), the pending text is no longer copied per
//! drain (memcpy 3.5 → 1.3), the view is not re-validated as UTF-8 (1.3 → 0); left: keyword DFA
//! 11.4, visible view 9.1, JSON 7.9, UTF-8 decoding 1.5. Night, same measure: 21.9 (367.5 M;
//! the previous build 538.2 M = 32.1 measured alongside) — the keyword automaton is a compact table
//! walked along the view's runs, its lookup also finding the escape sequences (10.8 → 7.5), so the
//! view costs no pass of its own and its text is built only when needed (9.1 → 5.1), and JSON
//! escaping stores 8-byte words into a kept buffer (7.9 → 5.0). 2026-11-22, same measure: 14.6
//! (245.5 M; 364.1 M = 21.7 before) — the keyword automaton steps only where an AVX2 trigram
//! bitmap marks a possible keyword start (walk 6.9 → ~4 with the bitmap), JSON is escaped 16 bytes
//! at a time with SSE2 (4.8 → 2.3), simdutf8 validates (1.4 → 0.3), and only the parts of the view
//! around keywords are built when only barrier rules are candidates (1.6 → 0.3); criterion
//! recorder 99 → 65 ms per 16 MiB (6.0 → 3.9 ns per byte; measured before the view-parts change),
//! cast writing unredacted 51 ms. 1.35 GB cast (1.1 GiB of output, 429 s): the TUI opens after a 2.5–3.3 s scan;
//! keyframes (1101, one per MiB, 2.9 MiB of snapshots) are complete 23–33 s later in the
//! background; random seeks mean 11–12 ms, p95 19–25 ms, worst of 200 26–43 ms; seeks just before
//! a keyframe mean 19–21 ms, worst 30–33 ms; peak RSS 49 MB. Before (one 4 MiB keyframe interval,
//! built before the TUI opened): 36–50 s to open, mean 75–113 ms, worst 196–323 ms.
//!
//! The measured modules come from the overwatch library.

use std::hint::black_box;
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group};

use overwatch::record;

use overwatch::session;

use overwatch::replay;

use record::cast::{CastFormat, CastHeader, CastWriter};
use record::recorder::{RecordOptions, Recorder, TermSize};
use replay::indexer::KEYFRAME_BYTES;
use replay::player::Player;
use session::{PaneSize, TerminalModel};

/// PTY read size the app uses.
const READ: usize = 4096;

/// Agent-like output: coloured status lines, code, a diff, a progress bar redrawn with CR, unicode,
/// and a planted secret every ~64 KiB (so redaction does real work).
fn workload(bytes: usize) -> Vec<u8> {
    let mut out = String::with_capacity(bytes + 4096);
    let mut i = 0u64;
    while out.len() < bytes {
        i += 1;
        match i % 8 {
            0 => out.push_str(&format!(
                "\x1b[1;32m✓\x1b[0m \x1b[2mtest\x1b[0m module_{i}::parses_config ... \x1b[32mok\x1b[0m\r\n"
            )),
            1 => out.push_str(&format!(
                "    let value = config.get(\"key_{i}\").map(|v| v.trim()).unwrap_or_default();\r\n"
            )),
            2 => out.push_str(&format!("\x1b[31m-    old_line_{i}();\x1b[0m\r\n\x1b[32m+    new_line_{i}(&ctx);\x1b[0m\r\n")),
            3 => {
                for p in (0..=100).step_by(25) {
                    out.push_str(&format!("\r\x1b[KDownloading crate {i} [{:<20}] {p}%", "=".repeat(p / 5)));
                }
                out.push_str("\r\n");
            }
            4 => out.push_str("⏺ Read(src/main.rs) — 120 lines · 日本語のコメント\r\n"),
            5 if i % 1600 == 5 => out.push_str(
                "export GITHUB_TOKEN=ghp_Zx81kQwe77pLmnb2Zx81kQwe77pLmnb2Ab12\r\n",
            ),
            _ => out.push_str(&format!(
                "\x1b[38;5;245m[{i:>6}]\x1b[0m compiling overwatch v0.1.0 (/work/main) step {i}\r\n"
            )),
        }
    }
    out.into_bytes()
}

#[inline(never)]
fn record_bytes(dir: &Path, data: &[u8]) -> u64 {
    let mut rec = Recorder::create(
        dir,
        RecordOptions::new(TermSize {
            cols: 120,
            rows: 40,
        }),
    )
    .expect("create recorder");
    let mut at = Duration::ZERO;
    for chunk in data.chunks(READ) {
        at += Duration::from_millis(1);
        rec.output(at, chunk).expect("output");
        rec.flush_if_due(at).expect("flush");
    }
    let summary = rec.finish(Some(0)).expect("finish");
    std::fs::metadata(summary.cast_path).expect("cast").len()
}

/// The same cast written without redaction (asciinema's work per read: decode, JSON, write).
fn write_unredacted(dir: &Path, data: &[u8]) {
    let file = std::fs::File::create(dir.join("raw.cast")).expect("create");
    let header = CastHeader {
        cols: 120,
        rows: 40,
        timestamp: 0,
        command: None,
        title: None,
        idle_time_limit: None,
        env: Vec::new(),
    };
    let mut w = CastWriter::new(file, CastFormat::V2, &header).expect("header");
    let mut at = Duration::ZERO;
    for chunk in data.chunks(READ) {
        at += Duration::from_millis(1);
        w.event(at, 'o', &String::from_utf8_lossy(chunk))
            .expect("event");
    }
    w.flush().expect("flush");
}

fn bench_record(c: &mut Criterion) {
    let data = workload(16 * 1024 * 1024);
    let dir = tempfile::tempdir().expect("tempdir");
    let cast_size = record_bytes(dir.path(), &data);
    eprintln!(
        "cast size: raw output {} B -> cast {} B ({:.2}x)",
        data.len(),
        cast_size,
        cast_size as f64 / data.len() as f64
    );
    let mut group = c.benchmark_group("record");
    group.throughput(Throughput::Bytes(data.len() as u64));
    group.sample_size(10);
    group.bench_function("recorder_output_redacted", |b| {
        b.iter(|| record_bytes(dir.path(), black_box(&data)))
    });
    group.bench_function("cast_write_unredacted", |b| {
        b.iter(|| write_unredacted(dir.path(), black_box(&data)))
    });
    group.bench_function("terminal_model_feed", |b| {
        b.iter(|| {
            let mut model = TerminalModel::new(
                PaneSize {
                    cols: 120,
                    rows: 40,
                },
                10_000,
            );
            for chunk in data.chunks(READ) {
                model.feed(black_box(chunk));
            }
            model.cursor()
        })
    });
    group.finish();
}

/// Writes a large v2 cast directly (generating it through the recorder would only add time).
fn generate_cast(path: &Path, megabytes: usize) -> u64 {
    let chunk = workload(READ * 64);
    let file = std::fs::File::create(path).expect("create cast");
    let header = CastHeader {
        cols: 120,
        rows: 40,
        timestamp: 0,
        command: None,
        title: None,
        idle_time_limit: None,
        env: Vec::new(),
    };
    let mut w = CastWriter::new(file, CastFormat::V2, &header).expect("header");
    let mut at = Duration::ZERO;
    let mut written = 0usize;
    let mut marker = 0;
    while written < megabytes * 1024 * 1024 {
        for piece in chunk.chunks(READ) {
            at += Duration::from_micros(1500);
            let text = String::from_utf8_lossy(piece);
            w.event(at, 'o', &text).expect("event");
            written += piece.len();
        }
        marker += 1;
        if marker % 50 == 0 {
            w.event(at, 'm', "confirm: kubectl delete ns payments")
                .expect("marker");
        }
    }
    w.flush().expect("flush");
    drop(w);
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(path)
        .expect("reopen");
    f.flush().expect("flush");
    std::fs::metadata(path).expect("size").len()
}

/// `VmRSS`/`VmHWM` of this process in KiB (0 where /proc is unavailable).
fn vm_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// Mean, 95th percentile and worst of `samples`.
fn summary(samples: &mut [Duration]) -> String {
    samples.sort();
    let mean = samples.iter().sum::<Duration>() / samples.len().max(1) as u32;
    let p95 = samples[(samples.len() * 95 / 100).min(samples.len() - 1)];
    let worst = samples[samples.len() - 1];
    format!(
        "n={} mean {mean:.1?}, p95 {p95:.1?}, worst {worst:.1?}",
        samples.len()
    )
}

fn bench_seek(c: &mut Criterion) {
    let megabytes: usize = std::env::var("OVERWATCH_BENCH_CAST_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("big.cast");
    let started = Instant::now();
    let size = generate_cast(&path, megabytes);
    eprintln!("generated {size} B cast in {:.1?}", started.elapsed());
    // Peak RSS from here on is replay's (Linux: writing 5 to clear_refs resets VmHWM).
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let rss_before = vm_kib("VmRSS:");
    let started = Instant::now();
    let mut player = Player::open(&path, Some(KEYFRAME_BYTES)).expect("open");
    let opened = started.elapsed();
    player.keyframes.wait();
    let progress = player.keyframes.progress();
    eprintln!(
        "opened (index scan, what the user waits for) in {opened:.1?}; keyframes built in the background by {:.1?} ({} keyframes, {} KiB of snapshots, {:.0} s of recording)",
        started.elapsed(),
        progress.keyframes,
        progress.snapshot_bytes / 1024,
        player.index.duration
    );
    let duration = player.index.duration;
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % 1_000_000) as f64 / 1_000_000.0
    };
    let mut random = Vec::new();
    for _ in 0..200 {
        let t = next() * duration;
        let started = Instant::now();
        player.seek(t).expect("seek");
        random.push(started.elapsed());
    }
    eprintln!("random seeks: {}", summary(&mut random));
    // The worst case by construction: just before a keyframe, coming from far away, so the seek
    // restores the previous keyframe and feeds the whole interval.
    let times = player.keyframes.times();
    let mut before_keyframe = Vec::new();
    for i in (1..times.len()).step_by((times.len() / 50).max(1)) {
        player
            .seek(if i % 2 == 0 { 0.0 } else { duration })
            .expect("seek");
        let t = (times[i] - 1e-4).max(times[i - 1]);
        let started = Instant::now();
        player.seek(t).expect("seek");
        before_keyframe.push(started.elapsed());
    }
    eprintln!(
        "seeks just before a keyframe: {}",
        summary(&mut before_keyframe)
    );
    eprintln!(
        "replay RSS: {} KiB before opening, peak {} KiB while indexing and seeking",
        rss_before,
        vm_kib("VmHWM:")
    );
    let mut group = c.benchmark_group("replay");
    group.sample_size(30);
    group.bench_function("seek_random", |b| {
        b.iter(|| {
            let t = next() * duration;
            player.seek(black_box(t)).expect("seek");
        })
    });
    group.finish();
}

criterion_group!(benches, bench_record, bench_seek);

fn main() {
    // `OVERWATCH_BENCH_RECORD_ONCE=MiB`: record that much of the workload once and exit, for
    // `valgrind --tool=callgrind --toggle-collect='*record_bytes*'` (instructions per byte).
    if let Some(mib) = std::env::var("OVERWATCH_BENCH_RECORD_ONCE")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
    {
        let data = workload(mib * 1024 * 1024);
        let dir = tempfile::tempdir().expect("tempdir");
        // Compile the secret rules (once per process) outside the measured function.
        overwatch::secrets::Redactor::builtin().expect("rules compile");
        let cast = record_bytes(dir.path(), &data);
        eprintln!("recorded {} B of output into a {cast} B cast", data.len());
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
