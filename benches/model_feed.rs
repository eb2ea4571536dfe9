//! Throughput of `TerminalModel::feed` on ≥ 40 MB of generated agent-like TUI output: DEC 2026
//! frames that redraw a bordered panel with 256-colour and truecolor SGR, cursor moves, erase-line,
//! box drawing and wide characters; Codex-style history insertion (DECSTBM + newline scrolling into
//! scrollback); and plain coloured log lines. Fed in 64 KiB chunks, as the PTY reader delivers it.
//!
//! Run: `cargo bench --bench model_feed` (criterion reports MB/s as "thrpt").

use std::fmt::Write as _;
use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

use overwatch::session::{PaneSize, TerminalModel};

const COLS: usize = 120;
const ROWS: usize = 40;
const TARGET_BYTES: usize = 40 * 1024 * 1024;

/// A deterministic pseudo-random sequence (xorshift) so every run feeds the same bytes.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const WORDS: &[&str] = &[
    "cargo",
    "test",
    "kubectl",
    "apply",
    "--context",
    "staging",
    "diff",
    "src/session/model.rs",
    "warning:",
    "passed",
    "failed",
    "Reading",
    "file",
    "Editing",
    "✓",
    "●",
    "└─",
    "日本語",
    "🙂",
    "terraform",
    "plan",
    "SELECT",
    "*",
    "FROM",
    "users",
    "WHERE",
    "id",
    "=",
    "42;",
];

fn words(rng: &mut Rng, out: &mut String, width: usize) {
    let start = out.len();
    while out.len() - start < width {
        out.push_str(WORDS[rng.below(WORDS.len() as u64) as usize]);
        out.push(' ');
    }
}

/// One synchronized redraw of a Claude-Code-like panel: border, coloured rows, status line.
fn frame(rng: &mut Rng, out: &mut String) {
    out.push_str("\x1b[?2026h\x1b[?25l");
    let _ = write!(
        out,
        "\x1b[{};1H\x1b[38;5;174m╭{}╮\x1b[39m",
        ROWS - 12,
        "─".repeat(COLS - 2)
    );
    for row in ROWS - 11..ROWS - 1 {
        let _ = write!(out, "\x1b[{row};1H\x1b[38;5;174m│\x1b[39m ");
        match rng.below(4) {
            0 => {
                let (r, g, b) = (rng.below(256), rng.below(256), rng.below(256));
                let _ = write!(out, "\x1b[38;2;{r};{g};{b}m\x1b[1m");
            }
            1 => {
                let _ = write!(out, "\x1b[38;5;{}m\x1b[2m", rng.below(256));
            }
            2 => out.push_str("\x1b[7m\x1b[3m"),
            _ => out.push_str("\x1b[4m\x1b[48;5;236m"),
        }
        let width = 60 + rng.below(40) as usize;
        words(rng, out, width);
        let _ = write!(
            out,
            "\x1b[0m\x1b[K\x1b[{row};{COLS}H\x1b[38;5;174m│\x1b[39m"
        );
    }
    let _ = write!(
        out,
        "\x1b[{};1H\x1b[38;5;174m╰{}╯\x1b[39m",
        ROWS - 1,
        "─".repeat(COLS - 2)
    );
    let _ = write!(
        out,
        "\x1b[{ROWS};1H\x1b[2m? for shortcuts\x1b[22m\x1b[K\x1b[{};3H",
        ROWS - 10
    );
    out.push_str("\x1b[?25h\x1b[?2026l");
}

/// Codex-style history insertion above an inline viewport: scroll region, newline, write, reset.
fn history_insert(rng: &mut Rng, out: &mut String) {
    let _ = writeln!(out, "\x1b[1;{}r\x1b[{};1H", ROWS - 13, ROWS - 13);
    out.push_str("\x1b[32m• \x1b[39m");
    let width = 40 + rng.below(70) as usize;
    words(rng, out, width);
    out.push_str("\x1b[r");
}

/// Plain coloured log output scrolling the main screen (a build or test run).
fn log_lines(rng: &mut Rng, out: &mut String) {
    for _ in 0..20 {
        let _ = write!(out, "\x1b[3{}m", 1 + rng.below(6));
        let width = 30 + rng.below(80) as usize;
        words(rng, out, width);
        out.push_str("\x1b[0m\r\n");
    }
}

fn generate() -> Vec<u8> {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut out = String::with_capacity(TARGET_BYTES + 64 * 1024);
    while out.len() < TARGET_BYTES {
        match rng.below(10) {
            0..=5 => frame(&mut rng, &mut out),
            6..=8 => history_insert(&mut rng, &mut out),
            _ => log_lines(&mut rng, &mut out),
        }
    }
    out.into_bytes()
}

fn bench(c: &mut Criterion) {
    let input = generate();
    let mut group = c.benchmark_group("model_feed");
    group.throughput(Throughput::Bytes(input.len() as u64));
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(10));
    group.bench_function(
        format!("agent_tui_{}MB_64KiB_chunks", input.len() / 1_000_000),
        |b| {
            b.iter(|| {
                let mut model = TerminalModel::new(
                    PaneSize {
                        cols: COLS as u16,
                        rows: ROWS as u16,
                    },
                    10_000,
                );
                for chunk in input.chunks(64 * 1024) {
                    model.feed(black_box(chunk));
                    black_box(model.take_replies());
                }
                black_box(model.cursor())
            })
        },
    );
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
