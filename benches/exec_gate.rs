//! Exec-gate overhead per exec (issue 6's measure): `/bin/true` × N in a bash loop, without the
//! gate, under the gate with a trivial `decide`, and under the gate with a `decide` doing work
//! comparable to the rule engine on an argv (shell-join, a RegexSet of ~120 rules, env lookups,
//! the reuse key). All in one run, interleaved, median of several rounds.
//!
//! Run: `cargo bench --bench exec_gate` (add `--profile dev` to reuse debug deps: an upper bound).
//!
//! Three figures, because wall time on a shared machine is noisy:
//! - wall per exec, `(T(N) - T(0)) / N` so the shim's start-up is not counted (the issue's
//!   measure; compare with and without the gate);
//! - hold time: how long overwatch held each exec, notification received → answered (the
//!   latency the gate adds on top of the kernel's notification round trip), median and p99;
//! - overwatch CPU per exec (`getrusage(RUSAGE_SELF)`: the receiver and worker threads).

// The module is shared with the binary (no library target). When clippy checks this bench with
// `cfg(test)` but no test harness, the module's `#[test]` functions vanish and their imports look
// unused: that build only.
#[allow(dead_code)]
#[cfg_attr(test, allow(unused_imports))]
#[path = "../src/gate"]
mod gate {
    pub mod exec;
}

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use gate::exec::handoff::{ExecGateListener, Handoff, wrap_argv};
use gate::exec::reuse::{ReuseCache, reuse_key};
use gate::exec::serve::{ExecEvent, ExecGateConfig, serve};
use gate::exec::{ExecRequest, ExecVerdict};

const OVERWATCH: &str = env!("CARGO_BIN_EXE_overwatch");
const EXECS: usize = 1000;
const ROUNDS: usize = 5;

type Decide = Arc<dyn Fn(&ExecRequest) -> ExecVerdict + Send + Sync>;

fn script(n: usize) -> String {
    format!("for i in $(seq {n}); do /bin/true; done")
}

fn run_plain(n: usize) -> Duration {
    let start = Instant::now();
    let status = Command::new("bash")
        .args(["-c", &script(n)])
        .stdout(Stdio::null())
        .status()
        .expect("running bash");
    assert!(status.success());
    start.elapsed()
}

/// One gated run: wall time, hold times of the answered execs, overwatch CPU time.
struct Gated {
    wall: Duration,
    holds: Vec<Duration>,
    cpu: Duration,
}

fn cpu_time() -> Duration {
    let usage = nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_SELF)
        .expect("getrusage");
    let tv =
        |t: nix::sys::time::TimeVal| Duration::new(t.tv_sec() as u64, t.tv_usec() as u32 * 1000);
    tv(usage.user_time()) + tv(usage.system_time())
}

fn run_gated(n: usize, decide: &Decide) -> Gated {
    let tmp = tempfile::tempdir().expect("temp dir");
    let listener = ExecGateListener::bind_in(tmp.path()).expect("binding");
    let argv = ["bash".to_string(), "-c".to_string(), script(n)];
    let wrapped = wrap_argv(Path::new(OVERWATCH), listener.socket_path(), &argv);
    let holds = Arc::new(Mutex::new(Vec::with_capacity(n + 4)));
    let holds_in = Arc::clone(&holds);
    let cpu_before = cpu_time();
    let start = Instant::now();
    let mut child = Command::new(&wrapped[0])
        .args(&wrapped[1..])
        .stdout(Stdio::null())
        .spawn()
        .expect("spawning the shim");
    let Ok(Handoff::Listener(fd)) = listener.accept_fd(Duration::from_secs(30), Some(child.id()))
    else {
        panic!("the exec gate could not be installed here");
    };
    let decide = Arc::clone(decide);
    let handle = serve(
        fd,
        ExecGateConfig::default(),
        move |request| decide(request),
        move |event| {
            if let ExecEvent::Decided { latency, .. } = event
                && let Ok(mut holds) = holds_in.lock()
            {
                holds.push(latency);
            }
        },
    )
    .expect("serving");
    let status = child.wait().expect("waiting for bash");
    let wall = start.elapsed();
    assert!(status.success());
    let stats = handle.join();
    let cpu = cpu_time() - cpu_before;
    assert!(stats.allowed as usize > n, "{stats:?}");
    let holds = holds.lock().map(|h| h.clone()).unwrap_or_default();
    Gated { wall, holds, cpu }
}

/// Work comparable to evaluating one argv against rule packs.
fn rule_like_decide() -> Decide {
    let programs = [
        "kubectl",
        "helm",
        "terraform",
        "tofu",
        "aws",
        "gcloud",
        "az",
        "psql",
        "mysql",
        "mongosh",
        "redis-cli",
        "git",
        "docker",
        "rm",
        "dd",
        "mkfs",
        "pulumi",
        "ansible-playbook",
        "vault",
        "nomad",
    ];
    let verbs = [
        "delete",
        "destroy",
        "apply",
        "drop",
        "push --force",
        "truncate",
        "rollout restart",
        "scale",
        "uninstall",
        "rm -rf",
    ];
    let mut patterns = Vec::new();
    for program in programs {
        for verb in &verbs[..6] {
            patterns.push(format!(r"^(\S*/)?{program}\b.*\b{}\b", regex::escape(verb)));
        }
    }
    patterns.push(r"(?i)\bdrop\s+(table|database|schema)\b".into());
    patterns.push(r"--context[= ](\S*prod\S*)".into());
    let set = regex::RegexSet::new(&patterns).expect("patterns");
    let cache = ReuseCache::new(Duration::from_secs(5));
    Arc::new(move |request: &ExecRequest| {
        if let Some(verdict) = cache.lookup(&reuse_key(&request.argv, &request.cwd), Instant::now())
        {
            return verdict;
        }
        let command = request.argv.join(" ");
        let hits = set.matches(&command);
        let prod = ["KUBECONFIG", "AWS_PROFILE", "TF_WORKSPACE", "DATABASE_URL"]
            .iter()
            .any(|name| request.env_var(name).is_some_and(|v| v.contains("prod")));
        if hits.matched_any() && prod {
            ExecVerdict::Deny("bench".into())
        } else {
            ExecVerdict::Allow
        }
    })
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

fn percentile(mut xs: Vec<Duration>, p: f64) -> f64 {
    xs.sort();
    let index = ((xs.len() - 1) as f64 * p).round() as usize;
    xs[index].as_secs_f64() * 1e6
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo test --benches` lists benches; nothing to list here.
    }
    let trivial: Decide = Arc::new(|_: &ExecRequest| ExecVerdict::Allow);
    let rules = rule_like_decide();
    let per_exec =
        |t_n: Duration, t_0: Duration| (t_n.as_secs_f64() - t_0.as_secs_f64()) * 1e6 / EXECS as f64;
    let mut plain = Vec::new();
    let mut walls = [Vec::new(), Vec::new()];
    let mut holds = [Vec::new(), Vec::new()];
    let mut cpus = [Vec::new(), Vec::new()];
    for _ in 0..ROUNDS {
        plain.push(per_exec(run_plain(EXECS), run_plain(0)));
        for (i, decide) in [&trivial, &rules].into_iter().enumerate() {
            let empty = run_gated(0, decide);
            let full = run_gated(EXECS, decide);
            walls[i].push(per_exec(full.wall, empty.wall));
            cpus[i].push(per_exec(full.cpu, empty.cpu));
            holds[i].extend(full.holds);
        }
    }
    let plain = median(plain);
    println!("exec gate: /bin/true x {EXECS} in a bash loop, {ROUNDS} rounds (µs per exec)");
    println!("  without the gate: wall {plain:.1} (median)");
    for (i, name) in ["trivial decide", "rule-like decide"]
        .into_iter()
        .enumerate()
    {
        let wall = median(walls[i].clone());
        println!(
            "  gate, {name:<16}: wall {wall:.1} (+{:.1}); held median {:.1}, p99 {:.1}; \
             overwatch CPU {:.1}",
            wall - plain,
            percentile(holds[i].clone(), 0.5),
            percentile(holds[i].clone(), 0.99),
            median(cpus[i].clone()),
        );
    }
    println!("  target: ≤ +100 µs per exec with the real rule engine");
}
