//! Measures of the workspace watcher (issue 7) on a generated 20k-file git repository:
//! - save → diff event latency (p50/p95/max over 100 saves; target p95 ≤ 150 ms),
//! - watcher RSS after start and after the saves (VmRSS/VmHWM from /proc; target ≤ 50 MB),
//! - CPU while idle (utime+stime from /proc/PID/stat over 5 s, after 2 s to settle; target ≈ 0),
//!   and the process's voluntary context switches in that window (0 = no thread woke up).
//!
//! It drives the real binary (`overwatch diff-watch DIR`, JSON lines on stdout), so the latency
//! includes notify, the debounce window, baseline lookup (gix), the diff, redaction, JSON
//! encoding and the pipe.
//! Not a criterion bench: criterion times in-process closures; these are figures of a separate
//! process. Run: `cargo bench --bench diff` (set `OVERWATCH_BIN` to measure another build).

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const DIRS: usize = 100;
const FILES_PER_DIR: usize = 200;
const SAVES: usize = 100;
const IDLE: Duration = Duration::from_secs(5);

fn main() {
    let bin = std::env::var("OVERWATCH_BIN")
        .unwrap_or_else(|_| env!("CARGO_BIN_EXE_overwatch").to_string());
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    let started = Instant::now();
    generate(root);
    println!(
        "generated {} files in {:.1} s (git init/add/commit)",
        DIRS * FILES_PER_DIR,
        started.elapsed().as_secs_f64()
    );

    let started = Instant::now();
    let mut child = Command::new(&bin)
        .arg("diff-watch")
        .arg(root)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn overwatch diff-watch");
    let pid = child.id();
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel::<(Instant, String)>();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send((Instant::now(), line)).is_err() {
                break;
            }
        }
    });
    let (_, first) = rx
        .recv_timeout(Duration::from_secs(120))
        .expect("watching event");
    assert!(first.contains("\"kind\":\"watching\""), "{first}");
    println!(
        "startup (scan + HEAD tree + session baseline): {:.2} s",
        started.elapsed().as_secs_f64()
    );
    println!("RSS after start: {}", rss(pid));

    idle("CPU while idle after start", pid);

    let mut latencies = Vec::with_capacity(SAVES);
    for i in 0..SAVES {
        let d = (i * 37) % DIRS;
        let f = (i * 53) % FILES_PER_DIR;
        let rel = format!("d{d:03}/f{f:03}.rs");
        let path = root.join(&rel);
        let mut text = std::fs::read_to_string(&path).expect("read");
        text = text.replacen("value", &format!("changed_{i}"), 1);
        let t0 = Instant::now();
        std::fs::write(&path, text).expect("save");
        let needle = format!("\"path\":\"{rel}\"");
        loop {
            let (at, line) = rx
                .recv_timeout(Duration::from_secs(10))
                .expect("diff event");
            if line.contains("\"kind\":\"file_changed\"") && line.contains(&needle) {
                latencies.push(at.duration_since(t0));
                break;
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    latencies.sort();
    let pct = |p: f64| latencies[((latencies.len() as f64 * p).ceil() as usize).saturating_sub(1)];
    println!(
        "save -> diff event latency over {SAVES} saves: p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms",
        ms(pct(0.50)),
        ms(pct(0.95)),
        ms(latencies[latencies.len() - 1])
    );
    println!("RSS after saves: {}", rss(pid));

    idle("CPU while idle after the saves", pid);

    let _ = child.kill();
    let _ = child.wait();
}

/// Lets pending work settle for 2 s, then samples CPU ticks and wakeups over [`IDLE`].
fn idle(what: &str, pid: u32) {
    std::thread::sleep(Duration::from_secs(2));
    let (cpu0, switches0) = (cpu_ticks(pid), context_switches(pid));
    std::thread::sleep(IDLE);
    let ticks = cpu_ticks(pid) - cpu0;
    let switches = context_switches(pid) - switches0;
    println!(
        "{what}: {ticks} ticks in {} s = {:.3}% of one core; {switches} thread wakeups",
        IDLE.as_secs(),
        ticks as f64 / (IDLE.as_secs_f64() * clock_ticks()) * 100.0
    );
}

/// Sum of `voluntary_ctxt_switches` over the threads of `pid` (each is a thread going to sleep
/// after it woke up).
fn context_switches(pid: u32) -> u64 {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return 0;
    };
    tasks
        .flatten()
        .filter_map(|t| std::fs::read_to_string(t.path().join("status")).ok())
        .filter_map(|status| {
            status
                .lines()
                .find(|l| l.starts_with("voluntary_ctxt_switches:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .sum()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// `git init` + 20k small Rust-like files + one commit (git CLI; the product reads with gix).
fn generate(root: &Path) {
    for d in 0..DIRS {
        let dir = root.join(format!("d{d:03}"));
        std::fs::create_dir_all(&dir).expect("mkdir");
        for f in 0..FILES_PER_DIR {
            let body: String = (0..30)
                .map(|l| format!("    let value_{l} = compute({d}, {f}, {l}); // value\n"))
                .collect();
            std::fs::write(
                dir.join(format!("f{f:03}.rs")),
                format!("fn f() {{\n{body}}}\n"),
            )
            .expect("write");
        }
    }
    std::fs::write(root.join(".gitignore"), "target/\n").expect("write");
    for args in [
        &["init", "-q"][..],
        &["add", "."][..],
        &[
            "-c",
            "user.name=b",
            "-c",
            "user.email=b@example.com",
            "commit",
            "-q",
            "-m",
            "gen",
        ][..],
    ] {
        let status = Command::new("git")
            .args(args)
            .current_dir(root)
            .status()
            .expect("git");
        assert!(status.success(), "git {args:?}");
    }
}

/// `VmRSS` and `VmHWM` of `pid` from /proc/PID/status.
fn rss(pid: u32) -> String {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .map(|l| l[name.len()..].trim().to_string())
            .unwrap_or_else(|| "?".to_string())
    };
    format!("VmRSS {} (peak VmHWM {})", field("VmRSS:"), field("VmHWM:"))
}

/// utime + stime of `pid` in clock ticks (/proc/PID/stat fields 14 and 15, after the `(comm)`).
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after_comm = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after_comm.split_whitespace().collect();
    // after_comm starts at field 3 (state); utime is field 14, stime 15.
    let get = |i: usize| {
        fields
            .get(i - 3)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    get(14) + get(15)
}

fn clock_ticks() -> f64 {
    // SAFETY: sysconf has no preconditions.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if ticks > 0 { ticks as f64 } else { 100.0 }
}
